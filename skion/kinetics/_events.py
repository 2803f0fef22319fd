"""Events of an idealized trace: runs of samples with the same number of open channels."""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ._labels import check_counts, recordings

__all__ = ["dwell_times"]


@validate_params(
    {
        "labels": ["array-like"],
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
        "groups": ["array-like", None],
        "current": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def dwell_times(labels, sampling_rate, *, groups=None, current=None) -> pd.DataFrame:
    """The events of an idealized recording: each run of one open-channel level.

    An event is a maximal run of consecutive samples with the same label inside one
    recording; events never cross recordings. Its duration is its number of samples
    over the sampling rate, so durations are whole multiples of the sample interval.
    The first and last event of every recording are cut by the recording's start or
    end: their true durations are longer than measured, and they are flagged
    ``censored`` (leave them out of dwell-time fits, or treat them as censored).

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Open channels at every sample (whole numbers >= 0), as predicted by a skion
        model.
    sampling_rate : float
        Samples per second (Hz).
    groups : array-like of shape (n_samples,), default=None
        Recording of each row; a recording is a run of equal labels. None: one
        recording.
    current : array-like of shape (n_samples,), default=None
        The recorded signal; when given, each event's mean is returned.

    Returns
    -------
    events : pandas.DataFrame
        One row per event, in row order, with columns ``recording`` (the ``groups``
        label, 0 without groups), ``level`` (open channels), ``start`` (s from the
        start of its recording), ``duration`` (s), ``n_samples``, ``censored`` (bool)
        and, with ``current``, ``mean_current``.

    See Also
    --------
    open_probability : The fraction of time channels are open.

    Examples
    --------
    >>> from skion.kinetics import dwell_times
    >>> dwell_times([0, 0, 1, 1, 1, 0, 2, 2], sampling_rate=1000)
       recording  level  start  duration  n_samples  censored
    0          0      0  0.000     0.002          2      True
    1          0      1  0.002     0.003          3     False
    2          0      0  0.005     0.001          1     False
    3          0      2  0.006     0.002          2      True
    """
    counts = check_counts(labels)
    n = len(counts)
    starts, ends, names = recordings(n, groups)
    # An event starts at every change of level and at every recording's first row.
    first = np.zeros(n, dtype=bool)
    first[1:] = counts[1:] != counts[:-1]
    first[starts] = True
    begin = np.flatnonzero(first)
    stop = np.append(begin[1:], n)
    which = np.searchsorted(starts, begin, side="right") - 1  # recording of each event
    events = pd.DataFrame(
        {
            "recording": names[which],
            "level": counts[begin],
            "start": (begin - starts[which]) / sampling_rate,
            "duration": (stop - begin) / sampling_rate,
            "n_samples": stop - begin,
            "censored": (begin == starts[which]) | (stop == ends[which]),
        }
    )
    if current is not None:
        signal = np.asarray(current, dtype=np.float64)
        if signal.ndim == 2 and signal.shape[1] == 1:
            signal = signal[:, 0]
        if signal.shape != (n,):
            raise ValueError(
                f"current must have shape ({n},) to match labels; got shape {signal.shape}."
            )
        if not np.all(np.isfinite(signal)):
            raise ValueError("current holds NaN or infinite values.")
        events["mean_current"] = np.add.reduceat(signal, begin) / (stop - begin)
    return events

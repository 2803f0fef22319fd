"""Open probability of idealized recordings."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ._labels import check_counts, recordings

__all__ = ["open_probability"]


@validate_params(
    {
        "labels": ["array-like"],
        "n_channels": [Interval(Integral, 1, None, closed="left"), None],
        "groups": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def open_probability(labels, *, n_channels=None, groups=None) -> pd.Series:
    """Open probability of each recording: the mean open channels over the channels.

    With ``n_channels`` the result is Po, the fraction of time a channel is open,
    assuming the patch holds ``n_channels`` identical channels. Without it the
    number of channels is not known (a patch may hold channels that never opened) and
    the result is NPo, the mean number of open channels, as papers report it then.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Open channels at every sample (whole numbers >= 0).
    n_channels : int, default=None
        Channels in the patch (for example ``AggregatedHMM``'s ``n_channels_``); no
        label may exceed it. None: return NPo.
    groups : array-like of shape (n_samples,), default=None
        Recording of each row; runs with the same label are pooled. None: one
        recording.

    Returns
    -------
    po : pandas.Series
        Indexed by recording (the ``groups`` labels, in order of first appearance; 0
        without groups), named ``"Po"`` or ``"NPo"``; ``po.attrs["n_channels"]`` is the
        number of channels used (None for NPo).

    See Also
    --------
    dwell_times : The events of an idealized recording.

    Examples
    --------
    >>> from skion.kinetics import open_probability
    >>> labels = [0, 1, 1, 2, 0, 0, 1, 1]
    >>> open_probability(labels, n_channels=2, groups=[0, 0, 0, 0, 1, 1, 1, 1]).round(3)
    recording
    0    0.50
    1    0.25
    Name: Po, dtype: float64
    >>> float(open_probability(labels).iloc[0])
    0.75
    """
    counts = check_counts(labels)
    if n_channels is not None and counts.max() > n_channels:
        raise ValueError(
            f"labels reach {counts.max()} open channels, more than n_channels={n_channels}."
        )
    starts, ends, names = recordings(len(counts), groups)
    runs = pd.DataFrame(
        {
            "recording": names,
            "open": np.add.reduceat(counts, starts).astype(np.float64),
            "samples": ends - starts,
        }
    )
    pooled = runs.groupby("recording", sort=False)[["open", "samples"]].sum()
    po = pooled["open"] / pooled["samples"] / (n_channels or 1)
    po.name = "NPo" if n_channels is None else "Po"
    po.attrs["n_channels"] = n_channels
    return po

"""A time resolution imposed on events, as HJCFIT and SCAN do."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ..windowing import segment_bounds
from ._event_table import check_events

__all__ = ["impose_resolution"]


@validate_params(
    {"events": [pd.DataFrame], "t_res": [Interval(Real, 0, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def impose_resolution(events, t_res) -> pd.DataFrame:
    """Merge the events shorter than a time resolution into their neighbours.

    The convention of HJCFIT and SCAN (Colquhoun and Sigworth's "fixed resolution"):
    an event shorter than ``t_res`` cannot be told from noise, so it is taken as part of
    the resolved event before it (its time is added to that event), and resolved events
    that then follow each other at the same level are joined into one. In a record of
    openings and shuttings, a brief shutting inside an opening thus makes one longer
    opening, and a brief opening inside a shut period one longer shut period. Unresolved
    events at the start of a recording, which follow no resolved event, are dropped.
    Events never merge across recordings.

    Imposing a resolution does not remove the bias of the events the idealization
    itself missed: apparent open and shut times stay longer than the true ones, by an
    amount that grows with ``t_res`` over the time constants; fit the dwell times from
    ``t_res`` up (``fit_exponentials(..., t_min=t_res)``) and interpret the time
    constants as apparent ones, or use a missed-event likelihood (HJCFIT).

    Parameters
    ----------
    events : pandas.DataFrame
        Events from :func:`dwell_times` (any of its columns; at least ``recording``,
        ``level``, ``start``, ``duration``, ``n_samples``, ``censored``).
    t_res : float
        Resolution (s): events shorter than it are merged.

    Returns
    -------
    resolved : pandas.DataFrame
        The same columns; ``mean_current``, if present, is the mean over the samples of
        the joined events of the resolved level (merged brief events of another level
        left out). The first and last event of every recording are ``censored``.

    Raises
    ------
    ValueError
        When no event lasts ``t_res`` or longer. A warning is given when most events
        are shorter than it.

    See Also
    --------
    dwell_times : The events of an idealized recording.

    Examples
    --------
    >>> from skion.kinetics import dwell_times, impose_resolution
    >>> events = dwell_times([0, 0, 0, 1, 0, 0, 1, 1, 1, 1], sampling_rate=1000)
    >>> impose_resolution(events, t_res=0.002)[["level", "start", "duration"]]
       level  start  duration
    0      0  0.000     0.006
    1      1  0.006     0.004
    """
    check_events(events)
    if events.empty:
        return events.copy()
    resolved = events["duration"].to_numpy() >= t_res - 1e-12 * max(t_res, 1.0)
    if not resolved.any():
        raise ValueError(
            f"t_res={t_res} s is longer than every event (the longest lasts "
            f"{events['duration'].max():.4g} s): nothing would be left."
        )
    if resolved.mean() < 0.5:
        warnings.warn(
            f"t_res={t_res} s is longer than {100 * (1 - resolved.mean()):.0f} % of the events: "
            "most of the record is merged away, and the dwell times left say little about "
            "the kinetics. Check the resolution's units (seconds).",
            UserWarning,
            stacklevel=3,  # the caller, past validate_params
        )
    starts, _ = segment_bounds(len(events), events["recording"].to_numpy())
    run = np.zeros(len(events), dtype=np.int64)  # recording of each event, as a run
    run[starts[1:]] = 1
    run = np.cumsum(run)
    # Owner: the last resolved event at or before each event, within its recording.
    index = np.where(resolved, np.arange(len(events)), -1)
    owner = pd.Series(index).groupby(run).cummax().to_numpy()
    keep = owner >= 0  # drops the unresolved head of each recording
    owner, run = owner[keep], run[keep]
    kept = events[keep]
    level = events["level"].to_numpy()[owner]
    # Join consecutive owners of the same level within a recording.
    new = np.ones(len(owner), dtype=bool)
    new[1:] = (level[1:] != level[:-1]) | (run[1:] != run[:-1])
    group = np.cumsum(new) - 1
    same_level = kept["level"].to_numpy() == level
    merged = pd.DataFrame(
        {
            "recording": kept["recording"].to_numpy()[new],
            "level": level[new],
            "start": kept["start"].to_numpy()[new],
            "duration": np.bincount(group, weights=kept["duration"].to_numpy()),
            "n_samples": np.bincount(group, weights=kept["n_samples"].to_numpy()).astype(np.int64),
        }
    )
    edge = np.ones(len(merged), dtype=bool)
    runs_of_merged = run[new]
    edge[1:-1] = (runs_of_merged[1:-1] != runs_of_merged[:-2]) | (
        runs_of_merged[1:-1] != runs_of_merged[2:]
    )
    merged["censored"] = edge
    if "mean_current" in events.columns:
        samples = np.where(same_level, kept["n_samples"].to_numpy(), 0)
        total = np.bincount(group, weights=samples * kept["mean_current"].to_numpy())
        merged["mean_current"] = total / np.bincount(group, weights=samples)
    return merged[[column for column in events.columns if column in merged.columns]]

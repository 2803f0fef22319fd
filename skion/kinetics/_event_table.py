"""The event table every kinetics function after dwell_times takes, and its check."""

from __future__ import annotations

import numpy as np

#: Columns of the events :func:`dwell_times` returns (``mean_current`` is optional).
EVENT_COLUMNS = ["recording", "level", "start", "duration", "n_samples", "censored"]


def check_events(events) -> None:
    """Raise a clear error unless ``events`` has the columns and values of dwell_times."""
    missing = [column for column in EVENT_COLUMNS if column not in events.columns]
    if missing:
        raise ValueError(f"events lacks the column(s) {missing}: pass the output of dwell_times.")
    if events.empty:
        return
    level = events["level"].to_numpy()
    if level.dtype.kind not in "iu" and not (
        level.dtype.kind == "f" and np.all(np.isfinite(level)) and np.all(level == np.round(level))
    ):
        raise ValueError("events['level'] must hold whole numbers of open channels.")
    if np.any(level < 0):
        raise ValueError("events['level'] must be >= 0 (open channels).")
    duration = events["duration"].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(duration)) or np.any(duration <= 0):
        raise ValueError("events['duration'] must be positive, finite times (s).")
    samples = events["n_samples"].to_numpy()
    if samples.dtype.kind not in "iu" or np.any(samples < 1):
        raise ValueError("events['n_samples'] must hold whole numbers of samples >= 1.")


def sample_interval(events) -> float:
    """The sample interval (s) of events, from their durations and sample counts."""
    check_events(events)
    if events.empty:
        raise ValueError("events is empty: there is nothing to write.")
    per_sample = events["duration"].to_numpy() / events["n_samples"].to_numpy()
    dt = float(np.median(per_sample))
    if not np.allclose(per_sample, dt, rtol=1e-6):
        raise ValueError(
            "events come from recordings of different sampling rates (duration / n_samples "
            "differs between events); write each sampling rate to its own file."
        )
    return dt


def check_unitary_current(unitary_current) -> None:
    """Raise unless the current of one open channel is a finite, non-zero number of pA."""
    if not np.isfinite(unitary_current) or unitary_current == 0:
        raise ValueError(
            f"unitary_current must be a finite, non-zero current (pA); got {unitary_current!r}."
        )

"""QuB's dwell-time files (.dwt): one segment of class/duration lines per recording."""

from __future__ import annotations

import os
import re
from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ..windowing import Recordings
from ._event_table import EVENT_COLUMNS, check_unitary_current, sample_interval

__all__ = ["read_dwt", "write_dwt"]

_HEADER = re.compile(
    r"Segment:\s*(\S+)\s+Dwells:\s*(\S+)\s+Sampling\(ms\):\s*(\S+)\s+Start\(ms\):\s*(\S+)"
    r"\s+ClassCount:\s*(\S+)(.*)"
)


@validate_params(
    {
        "events": [pd.DataFrame],
        "path": [str, os.PathLike],
        "unitary_current": [Interval(Real, None, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def write_dwt(events, path, *, unitary_current=1.0) -> None:
    """Write events as a QuB dwell-time file (.dwt).

    Each recording becomes a segment: a header line ``Segment: i Dwells: m
    Sampling(ms): dt Start(ms): t ClassCount: c`` followed by the mean and standard
    deviation of every class's current, then one line per event with its class (the
    number of open channels) and its duration in ms, tab-separated. Recordings are
    laid back to back on one time axis (``Start(ms)``), as QuB lays out the segments
    of one data file. The class currents are ``level * unitary_current`` with a
    standard deviation of 0: QuB uses them only to draw the levels.

    Parameters
    ----------
    events : pandas.DataFrame
        Events from :func:`dwell_times` or :func:`impose_resolution`, all of one
        sampling rate.
    path : str or path-like
        File to write (replaced if it exists).
    unitary_current : float, default=1.0
        Current of one open channel (pA), for the class currents.

    See Also
    --------
    read_dwt : Read such a file back.
    write_scn : The interval file of SCAN and HJCFIT.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skion.kinetics import dwell_times, read_dwt, write_dwt
    >>> events = dwell_times([0, 0, 1, 1, 1, 0], sampling_rate=10_000)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.dwt"
    >>> write_dwt(events, path)
    >>> print(path.read_text())
    Segment: 1 Dwells: 3 Sampling(ms): 0.1 Start(ms): 0 ClassCount: 2 0 0 1 0
    0	0.2
    1	0.3
    0	0.1
    <BLANKLINE>
    >>> read_dwt(path)["duration"].tolist()
    [0.0002, 0.0003, 0.0001]
    """
    check_unitary_current(unitary_current)
    dt = sample_interval(events)
    level = events["level"].to_numpy().astype(np.int64)
    classes = " ".join(f"{c * unitary_current:.10g} 0" for c in range(level.max() + 1))
    start = events["start"].to_numpy()
    duration_ms = events["duration"].to_numpy() * 1e3
    offset = 0.0  # end of the previous recording on the file's time axis (s)
    lines = []
    for segment, rows in enumerate(Recordings(len(events), events["recording"]), start=1):
        first, last = rows.start, rows.stop - 1
        lines.append(
            f"Segment: {segment} Dwells: {rows.stop - first} Sampling(ms): {dt * 1e3:.12g} "
            f"Start(ms): {(offset + start[first]) * 1e3:.12g} ClassCount: {level.max() + 1} "
            + classes
        )
        lines.extend(f"{c}\t{d:.12g}" for c, d in zip(level[rows], duration_ms[rows], strict=True))
        offset += start[last] + duration_ms[last] / 1e3
    with open(path, "w", encoding="ascii") as stream:
        stream.write("\n".join(lines) + "\n")


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def read_dwt(path) -> pd.DataFrame:
    """Read a QuB dwell-time file (.dwt) as a table of events.

    Each segment becomes a recording named by its segment number; its class numbers
    are taken as open-channel levels (QuB numbers classes from 0, closed first). The
    ``start`` of an event counts from the end of the previous segment on the file's
    time axis, which is the start of its recording in files :func:`write_dwt`
    writes. The first and last event of every segment are flagged ``censored``.

    Parameters
    ----------
    path : str or path-like
        A .dwt file, from QuB or :func:`write_dwt`.

    Returns
    -------
    events : pandas.DataFrame
        The columns of :func:`dwell_times` (without ``mean_current``).

    See Also
    --------
    write_dwt : Write events as a .dwt file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skion.kinetics import read_dwt
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "qub.dwt"
    >>> _ = path.write_text("Segment: 1 Dwells: 2 Sampling(ms): 0.05 Start(ms): 0 "
    ...                     "ClassCount: 2 0 0.1 1 0.1\\n0\\t1.5\\n1\\t0.25\\n")
    >>> read_dwt(path)[["recording", "level", "start", "duration", "n_samples"]]
       recording  level   start  duration  n_samples
    0          1      0  0.0000   0.00150         30
    1          1      1  0.0015   0.00025          5
    """
    segments = _parse_dwt(path)
    frames, previous_end = [], 0.0
    for segment, dt, start_s, level, duration in segments:
        start = start_s - previous_end + np.concatenate(([0.0], np.cumsum(duration)[:-1]))
        censored = np.zeros(len(level), dtype=bool)
        censored[[0, -1]] = True
        frames.append(
            pd.DataFrame(
                {
                    "recording": segment,
                    "level": level,
                    "start": np.maximum(start, 0.0),
                    "duration": duration,
                    "n_samples": np.rint(duration / dt).astype(np.int64),
                    "censored": censored,
                }
            )
        )
        previous_end = start_s + duration.sum()
    return pd.concat(frames, ignore_index=True)[EVENT_COLUMNS]


def _parse_dwt(path) -> list:
    """``[(segment, dt, start, levels, durations)]`` of a .dwt file, times in s."""
    name = os.fspath(path)
    segments, header, rows = [], None, []

    def close():
        segment, n_dwells, dt, start_s = header
        if len(rows) != n_dwells:
            raise ValueError(
                f"{name}: segment {segment} announces {n_dwells} dwells but holds {len(rows)}."
            )
        levels = np.array([c for c, _ in rows], dtype=np.int64)
        segments.append((segment, dt, start_s, levels, np.array([d for _, d in rows]) / 1e3))

    with open(path, encoding="ascii", errors="replace") as stream:
        for number, line in enumerate(stream, start=1):
            line = line.strip()
            if not line:
                continue
            match = _HEADER.match(line)
            if match:
                if header is not None:
                    close()
                try:
                    segment, n_dwells = int(match[1]), int(match[2])
                    dt, start_s = float(match[3]) / 1e3, float(match[4]) / 1e3
                except ValueError:
                    raise ValueError(f"{name}, line {number}: unreadable header.") from None
                if not dt > 0 or n_dwells < 1:
                    raise ValueError(
                        f"{name}, line {number}: a segment needs Sampling(ms) > 0 and at least "
                        "one dwell."
                    )
                header, rows = (segment, n_dwells, dt, start_s), []
                continue
            fields = line.split()
            if header is None or len(fields) != 2:
                raise ValueError(
                    f"{name}, line {number}: expected a 'Segment:' header or a 'class "
                    f"duration' pair, got {line[:60]!r}."
                )
            try:
                level, duration_ms = int(fields[0]), float(fields[1])
            except ValueError:
                raise ValueError(
                    f"{name}, line {number}: class must be a whole number and duration a "
                    f"number of ms, got {line[:60]!r}."
                ) from None
            if level < 0 or not np.isfinite(duration_ms) or duration_ms <= 0:
                raise ValueError(f"{name}, line {number}: class must be >= 0 and duration > 0.")
            rows.append((level, duration_ms))
    if header is None:
        raise ValueError(f"{name} holds no 'Segment:' header: not a QuB .dwt file.")
    close()
    return segments

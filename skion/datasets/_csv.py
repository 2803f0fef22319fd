"""Reading a CSV recording: the signal column and its unit, the time column and its
constant rate, labels, and where recordings start."""

from __future__ import annotations

import re
import warnings
from numbers import Integral

import numpy as np
import pandas as pd

from ._channels import RATE_TOLERANCE, ChannelSource
from ._liverpool import _diagnose_values, _where, check_labels, check_unique_columns

__all__ = ["agree_units", "open_csv", "recording_starts", "time_and_rate"]

_SIGNAL = re.compile(r"^(signal|current|conductance)\s*(?:[(\[]\s*([^)\]]+?)\s*[)\]])?$", re.I)
_TIME = re.compile(r"^time\s*(?:[(\[]\s*(s|ms)\s*[)\]])?$", re.I)
_LABEL = "open_channels"
_RECORDING = ("recording", "sweep")


def _csv_columns(path):
    """The header's names, or None when the first line holds numbers only (no header)."""
    try:
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, engine="c")
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty.") from None
    fields = first.iloc[0].tolist()
    numeric = pd.to_numeric(pd.Series(fields), errors="coerce").notna().all()
    if numeric:
        return None
    names = [str(name).strip() for name in fields]
    check_unique_columns(path, names)
    return names


def _read_numbers(path, columns):
    """The CSV's columns as float64 (a recording id as text), the first bad value named."""
    raw = None if columns is None else list(pd.read_csv(path, nrows=0).columns)
    numeric = raw if raw is None else [c for c in raw if c.strip().lower() not in _RECORDING]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                header=None if raw is None else 0,
                index_col=False,
                dtype="float64" if raw is None else dict.fromkeys(numeric, "float64"),
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise ValueError(f"{path}: malformed CSV: {str(exc).strip()}") from None
    except (ValueError, TypeError) as exc:
        if raw is not None:
            _diagnose_values(path, numeric)
        raise ValueError(f"{path}: could not parse values: {exc}") from exc
    if len(frame) == 0:
        raise ValueError(f"{path}: the file has a header but no data rows.")
    if raw is not None:
        frame.columns = columns
    for column in frame.columns:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise ValueError(f"{path}: column {column!r} has a missing value at {_where(row)}.")
    return frame


def _is_time(values):
    steps = np.diff(values)
    forward = steps[steps > 0]
    if forward.size == 0:
        return False
    dt = np.median(forward)
    return np.max(np.abs(forward - dt)) <= RATE_TOLERANCE * dt and np.mean(steps > 0) > 0.99


def _name_headerless(path, frame):
    """Column roles of a CSV without a header, when its shape leaves no doubt."""
    n = frame.shape[1]
    names = {1: ["signal"], 2: ["time", "signal"], 3: ["time", "signal", _LABEL]}.get(n)
    if names is None or (n >= 2 and not _is_time(frame[0].to_numpy())):
        raise ValueError(
            f"{path}: a CSV without a header must hold 'signal', 'time,signal' or "
            f"'time,signal,open_channels' (found {n} column(s)"
            + ("" if names is None else " whose first is not a constant-rate time")
            + "); add a header line naming the columns."
        )
    frame.columns = names
    return frame


def _signal_column(path, columns, channel):
    """``(column, unit or None, quantity word)`` of the recorded signal."""
    if isinstance(channel, Integral):
        if channel >= len(columns):
            raise ValueError(f"{path}: no column {channel} (found {len(columns)}: {columns}).")
        channel = columns[channel]
    if channel is not None:
        if channel not in columns:
            raise ValueError(f"{path}: no column {channel!r} (found {columns}).")
        match = _SIGNAL.match(channel)
        return channel, (match.group(2) if match else None), "signal"
    found = [(c, _SIGNAL.match(c)) for c in columns if _SIGNAL.match(c)]
    if len(found) != 1:
        raise ValueError(
            f"{path}: " + ("no" if not found else "more than one") + " signal column "
            "('signal', 'current' or 'conductance', optionally with its unit as in "
            f"'current (nA)'); found {columns}. Name the column with channel=."
        )
    column, match = found[0]
    return column, match.group(2), match.group(1).lower()


def recording_starts(path, values):
    """Rows where a new recording starts, from a recording-id column (contiguous ids)."""
    starts = np.flatnonzero(values[1:] != values[:-1]) + 1
    ids = values[np.concatenate([[0], starts])]
    if len(np.unique(ids)) != len(ids):
        seen = {}
        for row, value in zip(np.concatenate([[0], starts]), ids, strict=True):
            if value in seen:
                raise ValueError(
                    f"{path}: recording {value!r} is not contiguous: it starts at row "
                    f"{seen[value]} and again at row {row}; sort the rows by recording."
                )
            seen[value] = row
    return starts


def time_and_rate(path, time, sampling_rate):
    """``(restarts, rate)``: rows where the time jumps back, and the constant rate."""
    steps = np.diff(time)
    restarts = np.flatnonzero(steps <= 0) + 1
    forward = steps[steps > 0]
    if forward.size == 0:
        raise ValueError(f"{path}: the time column never advances.")
    dt = float(np.median(forward))
    off = (steps > 0) & (np.abs(steps - dt) > RATE_TOLERANCE * dt)
    if off.any():
        row = int(np.flatnonzero(off)[0]) + 1
        raise ValueError(
            f"{path}: the sampling rate is not constant: the time step is {steps[row - 1]:g} s "
            f"at {_where(row)}, against {dt:g} s elsewhere."
        )
    rate = 1.0 / dt
    if sampling_rate is not None and abs(sampling_rate - rate) > RATE_TOLERANCE * rate:
        raise ValueError(
            f"{path}: sampling_rate={sampling_rate:g} Hz disagrees with the time column "
            f"({rate:g} Hz)."
        )
    return restarts, rate


def open_csv(path, sampling_rate, channel, units):
    """``(source, labels or None, time or None, recording starts, how they are marked)``."""
    try:
        columns = _csv_columns(path)
        frame = _read_numbers(path, columns)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not a text CSV file: it holds bytes that are not UTF-8 "
            f"({error.object[error.start : error.start + 1]!r}); save it as UTF-8 text, or "
            "check that it is the recording and not a binary file."
        ) from None
    if columns is None:
        frame = _name_headerless(path, frame)
    columns = list(frame.columns)
    column, stated, quantity = _signal_column(path, columns, channel)
    unit = agree_units(path, column, stated, units) or ("pS" if quantity == "conductance" else "pA")
    signal = frame[column].to_numpy()

    starts, marked_by = np.empty(0, dtype=np.int64), None
    recording = next((c for c in columns if c.lower() in _RECORDING), None)
    if recording is not None:
        starts, marked_by = (
            recording_starts(path, frame[recording].to_numpy()),
            f"its {recording!r} column",
        )
    time_column = next((c for c in columns if _TIME.match(c)), None)
    if time_column is not None:
        time = frame[time_column].to_numpy()
        if _TIME.match(time_column).group(1) == "ms":
            time = time / 1000.0
        restarts, rate = time_and_rate(path, time, sampling_rate)
        if restarts.size and recording is None:
            starts, marked_by = restarts, "its time restarting"
    elif sampling_rate is None:
        raise ValueError(
            f"{path}: no 'time' column, so the sampling rate must be given (sampling_rate= "
            "in Python, --sampling-rate HZ on the command line)."
        )
    else:
        rate, time = float(sampling_rate), None
    y = check_labels(path, frame[_LABEL].to_numpy()) if _LABEL in columns else None
    source = ChannelSource(
        path,
        lengths=[len(signal)],
        read_sweep=lambda _, start, stop: signal[start:stop],
        rate=rate,
        name=column,
        units=unit,
        kind="rows",
    )
    return source, y, time, starts, marked_by


def agree_units(path, where, stated, given):
    """The unit the file states, or the one given; both must agree when both are there."""
    if stated is not None and given is not None and stated != given:
        raise ValueError(f"{path}: units={given!r} disagrees with {where!r}, in {stated}.")
    return stated if stated is not None else given

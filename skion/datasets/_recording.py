"""``read_recording``: one reader for recording files, with their sampling rate and units."""

from __future__ import annotations

import os
import re
import warnings
from functools import partial
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ._abf import read_abf_channel
from ._channels import RATE_TOLERANCE
from ._liverpool import _diagnose_values, _where, check_labels, check_unique_columns
from ._neo import NEO_FORMATS, read_neo_channel
from ._nwb import read_nwb_channel
from ._units import to_skion_units

__all__ = ["RECORDING_SUFFIXES", "read_recording"]

#: File name endings ``read_recording`` reads (some with the ``neo`` or ``nwb`` extra).
RECORDING_SUFFIXES = (".csv", ".abf", *NEO_FORMATS, ".nwb")


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


def _boundaries(path, values):
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


def _time_and_rate(path, time, sampling_rate):
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


def _read_csv(path, sampling_rate, channel, units):
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
    unit = _agree(path, column, stated, units) or ("pS" if quantity == "conductance" else "pA")
    signal = frame[column].to_numpy()

    starts, marked_by = np.empty(0, dtype=np.int64), None
    recording = next((c for c in columns if c.lower() in _RECORDING), None)
    if recording is not None:
        starts, marked_by = (
            _boundaries(path, frame[recording].to_numpy()),
            f"its {recording!r} column",
        )
    time_column = next((c for c in columns if _TIME.match(c)), None)
    if time_column is not None:
        time = frame[time_column].to_numpy()
        if _TIME.match(time_column).group(1) == "ms":
            time = time / 1000.0
        restarts, rate = _time_and_rate(path, time, sampling_rate)
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
    return signal, y, starts, marked_by, time, rate, unit, column


def _agree(path, where, stated, given):
    """The unit the file states, or the one given; both must agree when both are there."""
    if stated is not None and given is not None and stated != given:
        raise ValueError(f"{path}: units={given!r} disagrees with {where!r}, in {stated}.")
    return stated if stated is not None else given


def _read_channel_file(path, sampling_rate, channel, units, *, read_channel):
    """A binary file's channel (ABF, or a format neo reads), every sweep a recording."""
    X, rate, groups, (name, stated) = read_channel(path, channel)
    if sampling_rate is not None and abs(sampling_rate - rate) > RATE_TOLERANCE * rate:
        raise ValueError(
            f"{path}: sampling_rate={sampling_rate:g} Hz disagrees with the file ({rate:g} Hz)."
        )
    unit = _agree(path, f"channel {name}", stated or None, units)
    starts = np.flatnonzero(np.diff(groups)) + 1
    marked_by = "its sweeps" if starts.size else None
    return X[:, 0].astype(np.float64), None, starts, marked_by, None, rate, unit or "pA", name


_read_abf = partial(_read_channel_file, read_channel=read_abf_channel)
_read_neo = partial(_read_channel_file, read_channel=read_neo_channel)
_read_nwb = partial(_read_channel_file, read_channel=read_nwb_channel)


def _blocks(path, n, batch_size, starts, marked_by):
    """Recording starts from fixed blocks of ``batch_size`` rows, checked against the file."""
    blocks = np.arange(batch_size, n, batch_size)
    if marked_by is not None and not np.array_equal(blocks, starts):
        split = np.setdiff1d(blocks, starts)
        detail = (
            f"splits a recording at row {split[0]}"
            if split.size
            else f"misses the recording starting at row {np.setdiff1d(starts, blocks)[0]}"
        )
        raise ValueError(
            f"{path}: batch_size={batch_size} {detail}; the file marks its recordings by "
            f"{marked_by}: leave batch_size out."
        )
    if n > batch_size and n % batch_size:
        warnings.warn(
            f"{path}: {n} rows are not a whole number of recordings of batch_size="
            f"{batch_size} rows: the last one has {n % batch_size}. If the recordings have "
            "another length, give it, or mark them with a 'recording' column.",
            UserWarning,
            stacklevel=3,
        )
    return blocks


@validate_params(
    {
        "path": [str, os.PathLike],
        "sampling_rate": [Interval(Real, 0, None, closed="neither"), None],
        "channel": [Interval(Integral, 0, None, closed="left"), str, None],
        "units": [str, None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def read_recording(path, *, sampling_rate=None, channel=None, units=None, batch_size=None):
    """Read a recording file with its sampling rate, units and recordings.

    One reader for the formats skion's command line takes: a CSV file, an Axon Binary
    Format (``.abf``) file, or (with the ``neo`` extra) a WinEDR (``.edr``), WinWCP
    (``.wcp``), AxoGraph (``.axgd``, ``.axgx``), NIX (``.nix``) or CED Spike2 (``.smr``)
    file, or (with the
    ``nwb`` extra) a Neurodata Without Borders (``.nwb``, HDF5) file. Rows come back in
    file order, one per time sample.

    **CSV.** The signal is the column named ``signal``, ``current`` or ``conductance``,
    optionally with its unit, as in ``current (nA)``; ``time`` (s, or ``time (ms)``)
    gives the sampling rate, which must be constant; ``open_channels``, if present, are
    the labels. A file without a header is accepted when its shape leaves no doubt:
    one column (signal), two (time, signal) or three (time, signal, open_channels), the
    first of several being a constant-rate time. Recordings are marked by a
    ``recording`` (or ``sweep``) column, or by the time jumping back.

    **ABF, WinEDR, WinWCP, AxoGraph, NIX, Spike2.** Rate, channel names and units come from the
    file; every sweep (record, episode, segment) is a recording. The default channel is the
    first current (or conductance) channel. The formats other than ABF are read by neo,
    one channel and one segment at a time.

    **NWB.** A channel is an intracellular electrode (the series of a voltage clamp hold
    its current), every one of its series in the acquisition a recording, in sweep
    order; any other one-dimensional series is a channel named after itself. Values are
    the series' data times its ``conversion`` plus its ``offset``, in its SI unit.

    Currents are converted to pA, conductances to pS; a voltage or an unknown unit is
    refused.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.abf``, ``.edr``, ``.wcp``, ``.axgd``, ``.axgx``, ``.nix``,
        ``.smr`` or ``.nwb`` file.
    sampling_rate : float, default=None
        Samples per second (Hz). Required for a CSV without a time column; checked
        against the file's rate otherwise.
    channel : int or str, default=None
        Binary formats: the channel's index or name. CSV: the name of the signal column.
    units : str, default=None
        Unit of the signal when the file does not state it (default pA, or pS for a
        ``conductance`` column); checked against the file's unit otherwise.
    batch_size : int, default=None
        Rows per recording, for a file that does not mark its recordings (such as the
        Liverpool competition files: 500,000). An error if the file's own marks say
        otherwise; a warning if the last recording comes out shorter.

    Returns
    -------
    recording : :class:`~sklearn.utils.Bunch`
        ``X`` (n_samples, 1) float32 signal in ``units``; ``y`` (n_samples,) int64 labels
        or None; ``groups`` (n_samples,) int64 recording index of every row; ``time``
        (n_samples,) float64 in s; ``sampling_rate`` (Hz); ``units`` ("pA" or "pS");
        ``file_units`` (as stated in the file or given); ``channel_name``;
        ``recordings_marked_by`` (how recordings were found, None for a single one).

    Raises
    ------
    ValueError
        A format, column, unit, rate, time step, label or batch size that does not
        fit; the message names the file and the first offending row.
    FileNotFoundError
        If ``path`` does not exist.
    ImportError
        If the format's optional reader (pyabf, neo, pynwb) is not installed.

    See Also
    --------
    load_liverpool_csv : The competition files' reader (10 kHz, fixed batches).
    read_abf : One channel of an ABF file, values as stored.

    Examples
    --------
    >>> import os, tempfile
    >>> from skion.datasets import read_recording
    >>> path = os.path.join(tempfile.mkdtemp(), "rec.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("time,current (nA)\\n")
    ...     _ = f.write("".join(f"{t / 20_000:.5f},{(t % 3) * 0.001:.4f}\\n" for t in range(4)))
    ...     _ = f.write("".join(f"{t / 20_000:.5f},{(t % 2) * 0.001:.4f}\\n" for t in range(3)))
    >>> rec = read_recording(path)
    >>> rec.sampling_rate, rec.units, rec.file_units, rec.recordings_marked_by
    (20000.0, 'pA', 'nA', 'its time restarting')
    >>> rec.X[:, 0], rec.groups
    (array([0., 1., 2., 0., 0., 1., 0.], dtype=float32), array([0, 0, 0, 0, 1, 1, 1]))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {os.fspath(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        read = _read_csv
    elif suffix == ".abf":
        read = _read_abf
    elif suffix in NEO_FORMATS:
        read = _read_neo
    elif suffix == ".nwb":
        read = _read_nwb
    else:
        known = ", ".join(RECORDING_SUFFIXES)
        raise ValueError(f"{path}: unknown data format {suffix or '(none)'}; skion reads {known}.")
    signal, y, starts, marked_by, time, rate, unit, name = read(path, sampling_rate, channel, units)
    factor, skion_units = to_skion_units(unit, f"{path}: {name}")
    X = (signal * factor).astype(np.float32)[:, None]
    if not np.isfinite(X).all():
        row = int(np.flatnonzero(~np.isfinite(X[:, 0]))[0])
        raise ValueError(f"{path}: the signal is not finite (or overflows) at {_where(row)}.")
    n = len(X)
    if batch_size is not None:
        starts, marked_by = _blocks(path, n, batch_size, starts, marked_by), "batch_size"
    groups = np.zeros(n, dtype=np.int64)
    groups[starts] = 1
    groups = np.cumsum(groups)
    if time is None:
        decimals = max(0, int(np.ceil(np.log10(rate))))
        time = np.round(np.arange(n) / rate, decimals)
    return Bunch(
        X=X,
        y=y,
        groups=groups,
        time=time,
        sampling_rate=float(rate),
        units=skion_units,
        file_units=unit,
        channel_name=name,
        recordings_marked_by=marked_by,
    )

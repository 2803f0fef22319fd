"""``open_recording`` and ``read_recording``: one reader for recording files, with their
sampling rate and units, a piece at a time or whole."""

from __future__ import annotations

import os
import warnings
from functools import partial
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval

from .._pieces import PIECE_ROWS
from .._strict import validate_params
from ._abf import open_abf_channel
from ._channels import RATE_TOLERANCE
from ._csv import agree_units, open_csv
from ._liverpool import _where
from ._neo import NEO_FORMATS, open_neo_channel
from ._nwb import open_nwb_channel
from ._units import to_skion_units

__all__ = ["PIECE_ROWS", "RECORDING_SUFFIXES", "RecordingFile", "open_recording", "read_recording"]

#: File name endings ``read_recording`` reads (some with the ``neo`` or ``nwb`` extra).
RECORDING_SUFFIXES = (".csv", ".abf", *NEO_FORMATS, ".nwb")


def _open_channel_file(path, sampling_rate, channel, units, *, open_channel):
    """A binary file's channel (ABF, or a format neo or pynwb reads), every sweep a
    recording: ``(source, None, None, recording starts, how they are marked)``."""
    source = open_channel(path, channel)
    try:
        rate = source.rate
        if sampling_rate is not None and abs(sampling_rate - rate) > RATE_TOLERANCE * rate:
            raise ValueError(
                f"{path}: sampling_rate={sampling_rate:g} Hz disagrees with the file ({rate:g} Hz)."
            )
        where = f"channel {source.name}"
        source.units = agree_units(path, where, source.units or None, units) or "pA"
    except BaseException:
        source.close()
        raise
    return source, None, None, source.starts, "its sweeps" if source.starts.size else None


_OPENERS = {
    ".csv": open_csv,
    ".abf": partial(_open_channel_file, open_channel=open_abf_channel),
    ".nwb": partial(_open_channel_file, open_channel=open_nwb_channel),
    **{
        suffix: partial(_open_channel_file, open_channel=open_neo_channel) for suffix in NEO_FORMATS
    },
}


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


class RecordingFile:
    """A recording file open for reading: its conditions at once, its samples a piece at
    a time (:meth:`pieces`) or whole (:meth:`read`).

    Made by :func:`open_recording`; close it (or use it in a ``with`` block) to release
    the file. Binary formats (ABF, those neo reads, NWB) are read from disk piece by
    piece: only the piece being read is in memory. A CSV file is parsed whole when it
    is opened (text cannot be read from the middle).

    Parameters
    ----------
    path : pathlib.Path
        The file.
    opened : tuple
        What the format's reader found: ``(source, labels, time, recording starts, how
        they are marked)``; made by :func:`open_recording`, not by hand.
    batch_size : int, default=None
        As in :func:`read_recording`.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    sampling_rate : float
        Samples per second (Hz).
    units : str
        ``"pA"`` or ``"pS"``: the unit of every piece's ``X``.
    file_units : str
        The unit as stated in the file (or given).
    channel_name : str
        The channel (binary formats) or column (CSV) read.
    recordings_marked_by : str or None
        How recordings were found (None for a single one).
    n_samples : int
        Rows of the file.
    n_recordings : int
        Recordings of the file.
    has_labels : bool
        Whether the file holds ``open_channels`` labels (CSV).

    See Also
    --------
    read_recording : The whole file at once.

    Examples
    --------
    >>> import os, tempfile
    >>> from skion.datasets import open_recording
    >>> path = os.path.join(tempfile.mkdtemp(), "two.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("recording,current (nA)\\n" + "a,0.001\\n" * 3 + "b,0.002\\n" * 2)
    >>> with open_recording(path, sampling_rate=10_000) as f:
    ...     f
    ...     [piece.groups.tolist() for piece in f.pieces(max_rows=3)]
    RecordingFile('...two.csv', 5 samples at 10000 Hz in 2 recording(s), pA)
    [[0, 0, 0], [1, 1]]
    """

    def __init__(self, path, opened, *, batch_size=None):
        source, labels, time, starts, marked_by = opened
        self.path, self._source, self._labels, self._time = path, source, labels, time
        self.sampling_rate = source.rate
        self.file_units = source.units
        self.channel_name = source.name
        self.n_samples = source.n_samples
        self.has_labels = labels is not None
        self._factor, self.units = to_skion_units(source.units, f"{path}: {source.name}")
        self._opened = opened
        if batch_size is not None:
            starts = _blocks(path, self.n_samples, batch_size, starts, marked_by)
            marked_by = "batch_size"
        self.recordings_marked_by = marked_by
        self._firsts = np.concatenate([[0], np.asarray(starts, dtype=np.int64)])
        self.n_recordings = len(self._firsts)

    def with_batch_size(self, batch_size):
        """The same open file read as recordings of ``batch_size`` rows.

        Parameters
        ----------
        batch_size : int
            Rows per recording, checked against the file's own marks as
            :func:`read_recording`'s ``batch_size``.

        Returns
        -------
        recording_file : RecordingFile
            A view of the same open file: close only one of the two.
        """
        return RecordingFile(self.path, self._opened, batch_size=batch_size)

    def _piece(self, start, stop, first, offset, continues):
        """Rows ``start:stop`` (recordings from ``first`` on) as a Bunch."""
        X = (self._source.read(start, stop) * self._factor).astype(np.float32)[:, None]
        if not np.isfinite(X).all():
            row = start + int(np.flatnonzero(~np.isfinite(X[:, 0]))[0])
            raise ValueError(
                f"{self.path}: the signal is not finite (or overflows) at {_where(row)}."
            )
        bounds = np.clip(self._firsts[first:], start, stop)
        lengths = np.diff(np.append(bounds, stop))
        groups = np.repeat(np.arange(first, first + len(lengths), dtype=np.int64), lengths)
        if self._time is not None:
            time = self._time[start:stop]
        else:
            decimals = max(0, int(np.ceil(np.log10(self.sampling_rate))))
            time = np.round(np.arange(start, stop) / self.sampling_rate, decimals)
        return Bunch(
            X=X,
            y=None if self._labels is None else self._labels[start:stop],
            groups=groups,
            time=time,
            rows=slice(start, stop),
            offset=offset,
            continues=continues,
        )

    def _plan(self, max_rows):
        """``(start, stop, first recording, offset, continues)`` of every piece."""
        if max_rows is not None and not (isinstance(max_rows, Integral) and max_rows >= 1):
            raise ValueError(f"max_rows must be a whole number >= 1 or None; got {max_rows!r}.")
        limit = self.n_samples if max_rows is None else int(max_rows)
        ends = np.append(self._firsts[1:], self.n_samples)
        held = None  # first recording of the whole recordings gathered so far
        for index, (start, stop) in enumerate(zip(self._firsts, ends, strict=True)):
            if held is not None and stop - self._firsts[held] > limit:
                yield int(self._firsts[held]), int(start), held, 0, False
                held = None
            if stop - start <= limit:
                held = index if held is None else held
                continue
            parts = -(-(stop - start) // limit)
            cuts = start + (np.arange(parts + 1) * (stop - start)) // parts
            for part in range(parts):
                offset = int(cuts[part] - start)
                yield int(cuts[part]), int(cuts[part + 1]), index, offset, part < parts - 1
        if held is not None:
            yield int(self._firsts[held]), self.n_samples, held, 0, False

    def n_pieces(self, max_rows=PIECE_ROWS):
        """How many pieces :meth:`pieces` yields for ``max_rows``.

        Parameters
        ----------
        max_rows : int or None, default=PIECE_ROWS
            As in :meth:`pieces`.

        Returns
        -------
        n_pieces : int
            The number of pieces.
        """
        return sum(1 for _ in self._plan(max_rows))

    def pieces(self, max_rows=PIECE_ROWS, *, only=None):
        """The file's rows in order, as pieces of at most ``max_rows`` rows.

        A piece holds whole recordings, as many as fit, or (for a recording longer than
        ``max_rows``) one of the near-equal parts it is cut into.

        Parameters
        ----------
        max_rows : int or None, default=PIECE_ROWS
            Rows of a piece at most (5,000,000: 100 s at 50 kHz); None for the whole
            file in one piece.
        only : collection of int, default=None
            Indices of the pieces to read (the others are skipped, unread); None for all.

        Yields
        ------
        piece : :class:`~sklearn.utils.Bunch`
            ``X`` (rows, 1) float32 in ``units``; ``y`` int64 labels or None; ``groups``
            the recording index of every row (numbered over the whole file); ``time``
            (s); ``rows``, the slice of the file's rows it holds; ``offset``, rows of its
            first recording before it (not 0 only for a later part of a cut recording);
            ``continues``, whether its last recording goes on in the next piece.
        """
        for index, plan in enumerate(self._plan(max_rows)):
            if only is None or index in only:
                yield self._piece(*plan)

    def read(self):
        """The whole file: what :func:`read_recording` returns."""
        piece = next(self.pieces(max_rows=None))
        return Bunch(
            X=piece.X,
            y=piece.y,
            groups=piece.groups,
            time=piece.time,
            sampling_rate=float(self.sampling_rate),
            units=self.units,
            file_units=self.file_units,
            channel_name=self.channel_name,
            recordings_marked_by=self.recordings_marked_by,
        )

    def close(self):
        """Release the file; pieces can no longer be read."""
        self._source.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return (
            f"RecordingFile({os.fspath(self.path)!r}, {self.n_samples:,} samples at "
            f"{self.sampling_rate:g} Hz in {self.n_recordings} recording(s), {self.units})"
        )


_PARAMETERS = {
    "path": [str, os.PathLike],
    "sampling_rate": [Interval(Real, 0, None, closed="neither"), None],
    "channel": [Interval(Integral, 0, None, closed="left"), str, None],
    "units": [str, None],
    "batch_size": [Interval(Integral, 1, None, closed="left"), None],
}


@validate_params(_PARAMETERS, prefer_skip_nested_validation=True)
def open_recording(path, *, sampling_rate=None, channel=None, units=None, batch_size=None):
    """Open a recording file: its rate, units and recordings now, its samples in pieces.

    The formats, parameters and checks of :func:`read_recording`; the samples are read
    by :meth:`RecordingFile.pieces`, a bounded number of rows at a time, so that a
    long recording (an hour at 50 kHz is 180 million samples) is never held whole.

    Parameters
    ----------
    path : str or path-like
        A file in a format of :func:`read_recording`.
    sampling_rate : float, default=None
        As in :func:`read_recording`.
    channel : int or str, default=None
        As in :func:`read_recording`.
    units : str, default=None
        As in :func:`read_recording`.
    batch_size : int, default=None
        As in :func:`read_recording`.

    Returns
    -------
    recording_file : RecordingFile
        The open file; use it in a ``with`` block, or close it.

    Raises
    ------
    ValueError, FileNotFoundError, ImportError
        As :func:`read_recording`.

    See Also
    --------
    read_recording : The whole file at once.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skion.datasets import open_recording
    >>> path = os.path.join(tempfile.mkdtemp(), "long.csv")
    >>> np.savetxt(path, np.arange(10.0), header="signal", comments="")
    >>> with open_recording(path, sampling_rate=1000) as f:
    ...     for piece in f.pieces(max_rows=4):
    ...         print(piece.rows, piece.offset, piece.continues, piece.X[:, 0])
    slice(0, 3, None) 0 True [0. 1. 2.]
    slice(3, 6, None) 3 True [3. 4. 5.]
    slice(6, 10, None) 6 False [6. 7. 8. 9.]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {os.fspath(path)!r}")
    suffix = path.suffix.lower()
    if suffix not in _OPENERS:
        known = ", ".join(RECORDING_SUFFIXES)
        raise ValueError(f"{path}: unknown data format {suffix or '(none)'}; skion reads {known}.")
    opened = _OPENERS[suffix](path, sampling_rate, channel, units)
    try:
        return RecordingFile(path, opened, batch_size=batch_size)
    except BaseException:
        opened[0].close()
        raise


@validate_params(_PARAMETERS, prefer_skip_nested_validation=True)
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
    open_recording : The same file, read a piece at a time.
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
    with open_recording(
        path, sampling_rate=sampling_rate, channel=channel, units=units, batch_size=batch_size
    ) as recording_file:
        return recording_file.read()

"""Reader for Axon Binary Format (ABF) patch-clamp files, through the optional ``pyabf``."""

from __future__ import annotations

import os
import struct
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ._channels import ChannelSource, choose_channel

__all__ = ["open_abf_channel", "read_abf"]


def _import_pyabf():
    try:
        # pyabf's import calls np.set_printoptions(precision=4, suppress=True, threshold=5);
        # the context manager puts the caller's print options back.
        with np.printoptions():
            import pyabf
    except ImportError as exc:
        raise ImportError(
            'read_abf needs the optional dependency pyabf: pip install "skion[abf]"'
        ) from exc
    return pyabf


@validate_params(
    {"path": [str, os.PathLike], "channel": [Interval(Integral, None, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def read_abf(path: str | os.PathLike, *, channel: int = 0) -> tuple[np.ndarray, float, np.ndarray]:
    """Read one channel of an Axon Binary Format (ABF1 or ABF2) file.

    All sweeps of ``channel`` are concatenated in sweep order, giving one row per
    sample in skion's convention; ``groups`` records which sweep each row came from, so
    estimators never carry context across a sweep boundary. A gap-free recording is a
    single sweep. Values are in the channel's units as stored in the file (usually pA
    for a current channel), scaled by ``pyabf``.

    Parameters
    ----------
    path : str or path-like
        The ``.abf`` file.
    channel : int, default=0
        Index of the ADC channel to read (0-based).

    Returns
    -------
    X : ndarray of shape (n_samples, 1), dtype float32
        The channel's samples, all sweeps concatenated.
    sampling_rate : float
        Samples per second of one channel (Hz), as reported by ``pyabf``
        (``ABF.dataRate``, which ``pyabf`` truncates to whole Hz).
    groups : ndarray of shape (n_samples,), dtype int64
        Sweep index (0-based) of every row.

    Raises
    ------
    ImportError
        If ``pyabf`` is not installed (``pip install "skion[abf]"``).
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``channel`` is not an integer in range (the message gives the file's number
        of channels), or the file holds no samples.

    Notes
    -----
    ABF files usually store 16-bit integers; the values read back are therefore
    quantised to the file's resolution (for files written by
    ``pyabf.abfWriter.writeABF1``, to ``10 / 32768 / fInstrumentScaleFactor``).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> with np.printoptions():  # importing pyabf changes numpy's print options
    ...     import pyabf
    >>> from skion.datasets import read_abf
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.abf")
    >>> sweeps = np.sin(np.linspace(0, 20, 4000)).reshape(2, 2000)  # 2 sweeps
    >>> pyabf.abfWriter.writeABF1(sweeps, path, 10_000, "pA")
    >>> X, rate, groups = read_abf(path)
    >>> X.shape, rate, np.bincount(groups)
    ((4000, 1), 10000.0, array([2000, 2000]))
    >>> bool(np.abs(X[:, 0] - sweeps.ravel()).max() < 1e-3)  # 16-bit resolution
    True
    """
    source = open_abf_channel(path, int(channel))
    groups = np.zeros(source.n_samples, dtype=np.int64)
    groups[source.starts] = 1
    return (
        source.read(0, source.n_samples).astype(np.float32)[:, None],
        source.rate,
        np.cumsum(groups),
    )


def _channel_table(abf):
    """``[(name, units), ...]`` of the file's ADC channels; unnamed ones get ``IN i``."""
    table = []
    for i, (name, units) in enumerate(zip(abf.adcNames, abf.adcUnits, strict=True)):
        name = str(name).replace("\x00", "").strip() or f"IN {i}"
        table.append((name, str(units).replace("\x00", "").strip()))
    return table


#: What pyabf raises on a truncated, damaged or crafted file (it does not check the
#: header against the file): read past the end, reshape, divide by a zero count, ...
_PYABF_FAILURES = (
    ArithmeticError,
    AssertionError,  # its own header checks (a negative acquisition length)
    IndexError,
    KeyError,
    MemoryError,
    NotImplementedError,
    TypeError,
    ValueError,
    struct.error,
)

#: ABF operation mode of episodic stimulation: sweeps of ``lNumSamplesPerEpisode`` samples.
_EPISODIC = 5


def _kind(error):
    return "struct.error" if isinstance(error, struct.error) else type(error).__name__


def _open_abf(path):
    """``pyabf.ABF`` of ``path``, its header only (no samples loaded); a file pyabf cannot
    parse is a ValueError that names it."""
    pyabf = _import_pyabf()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such ABF file: {os.fspath(path)!r}")
    _check_episode_count(path)
    try:
        abf = pyabf.ABF(os.fspath(path), loadData=False)
    except _PYABF_FAILURES as error:
        raise ValueError(
            f"{path}: not a readable ABF file, or a damaged one ({_kind(error)}: {error})."
        ) from None
    _check_header(path, abf)
    return abf


#: Where the sweep count (lActualEpisodes) is in each version's header.
_EPISODES_AT = {b"ABF ": ("<i", 16), b"ABF2": ("<I", 12)}


def _check_episode_count(path):
    """Refuse, before pyabf reads it, a header whose sweep count exceeds the samples the
    file can hold (two bytes each): pyabf builds its sweep tables first, and
    ``lActualEpisodes=10**8`` took a minute and then ran out of memory."""
    with open(path, "rb") as stream:
        head = stream.read(20)
    if len(head) < 20 or head[:4] not in _EPISODES_AT:
        return  # pyabf says what is wrong with it
    fmt, offset = _EPISODES_AT[head[:4]]
    (episodes,) = struct.unpack_from(fmt, head, offset)
    size = os.path.getsize(path)
    if episodes > size // 2:
        raise ValueError(
            f"{path}: damaged ABF header: {episodes:,} sweeps in a file of {size:,} bytes."
        )


def _check_header(path, abf):
    """Refuse a header whose sampling rate is not a positive number, or an episodic file
    whose sweep count does not fit its sweep length.

    pyabf divides the samples by the header's episode count, so a damaged count reads as
    sweeps of the wrong length (1000 "sweeps" of 4 samples) without an error, and takes
    the rate from the sample interval as written (-100 µs read as -10,000 Hz).
    """
    rate = float(abf.dataRate)
    if not (np.isfinite(rate) and rate > 0):
        raise ValueError(
            f"{path}: damaged ABF header: its sample interval gives a sampling rate of {rate:g} Hz."
        )
    header = getattr(abf, "_headerV1", None) or getattr(abf, "_protocolSection", None)
    per_episode = int(getattr(header, "lNumSamplesPerEpisode", 0) or 0)
    if abf.nOperationMode != _EPISODIC or per_episode <= 0 or abf.channelCount <= 0:
        return
    expected = per_episode // abf.channelCount
    if abf.sweepPointCount != expected:
        raise ValueError(
            f"{path}: damaged ABF header: {abf.sweepCount} sweep(s) of {abf.sweepPointCount} "
            f"samples, but episodes of {expected} samples per channel; the sweep count "
            "does not fit the data."
        )


def _sweep_bounds(path, abf, rows):
    """``[(first row, length), ...]`` of every sweep (pyabf's ``setSweep``), within the
    ``rows`` the data section holds per channel."""
    lengths = getattr(getattr(abf, "_synchArraySection", None), "lLength", None)
    if abf.sweepCount > 1 and lengths is not None and len(set(lengths)) > 1:
        counts = [int(length) // abf.channelCount for length in lengths[: abf.sweepCount]]
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    else:
        counts = [int(abf.sweepPointCount)] * abf.sweepCount
        firsts = np.arange(abf.sweepCount) * int(abf.sweepPointCount)
    bounds = list(zip(firsts.tolist(), counts, strict=True))
    if bounds and bounds[-1][0] + bounds[-1][1] > rows:
        raise ValueError(
            f"{path}: damaged ABF file: its header promises {abf.sweepCount} sweep(s) "
            f"ending at sample {bounds[-1][0] + bounds[-1][1]:,}, but the data section holds "
            f"{rows:,} per channel."
        )
    return bounds


def _data_section(path, abf):
    """The data section as a read-only ``(samples, channels)`` memory map, as stored."""
    itemsize = np.dtype(abf._dtype).itemsize
    rows = int(abf.dataPointCount) // max(int(abf.channelCount), 1)
    held = (os.path.getsize(path) - int(abf.dataByteStart)) // itemsize
    if rows <= 0:
        return np.zeros((0, max(int(abf.channelCount), 1)), dtype=abf._dtype)
    if held < rows * abf.channelCount:
        raise ValueError(
            f"{path}: damaged or truncated ABF file: its header promises "
            f"{int(abf.dataPointCount):,} values, the file holds {max(held, 0):,}."
        )
    return np.memmap(
        path,
        dtype=abf._dtype,
        mode="r",
        offset=int(abf.dataByteStart),
        shape=(rows, int(abf.channelCount)),
    )


def open_abf_channel(path, channel):
    """:class:`ChannelSource` of ``channel`` (an index, a name, or None for the first
    current or conductance channel; see ``choose_channel``).

    pyabf reads the header; the samples are then mapped, not loaded (pyabf loads every
    channel of the file as float32), and scaled as pyabf scales them, bit for bit: stored
    integers times the channel's gain, plus its offset, in float32.
    """
    abf = _open_abf(path)
    channels = _channel_table(abf)
    channel = choose_channel(path, channels, channel)
    data = _data_section(path, abf)
    bounds = _sweep_bounds(path, abf, len(data))
    gain, offset = abf._dataGain[channel], abf._dataOffset[channel]

    def read_sweep(sweep, start, stop):
        first = bounds[sweep][0]
        values = np.asarray(data[first + start : first + stop, channel], dtype=np.float32)
        if abf._dtype == np.int16:  # pyabf: data[i] = data[i] * gain; data[i] += offset
            values = np.multiply(values, gain).astype(np.float32, copy=False)
            values = np.add(values, offset).astype(np.float32, copy=False)
        return values

    name, units = channels[channel]
    return ChannelSource(
        path,
        lengths=[length for _, length in bounds],
        read_sweep=read_sweep,
        rate=float(abf.dataRate),
        name=name,
        units=units,
        kind="sweep(s)",
    )

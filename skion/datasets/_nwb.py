"""Reader for Neurodata Without Borders (NWB 2) files, through the optional ``pynwb``.

NWB stores every sweep of an intracellular recording as its own series in the file's
acquisition (``VoltageClampSeries`` for a patch held at a voltage, whose data are the
current), each linked to the electrode that recorded it. A *channel* here is an electrode
(with one unit: an electrode recorded in both voltage and current clamp gives two), and
every one of its series is a recording, in sweep order. Any other one-dimensional series
in the acquisition (a plain ``TimeSeries`` of a current, say) is a channel of its own.
Values are ``data * conversion + offset`` in the series' SI unit, as NWB defines them;
read a slice of one series at a time.
"""

from __future__ import annotations

import os

import numpy as np

from ._channels import RATE_TOLERANCE, ChannelSource, choose_channel

__all__ = ["open_nwb_channel"]

#: NWB's SI unit names -> the symbols skion's units take.
_SI_UNITS = {"amperes": "A", "ampere": "A", "volts": "V", "volt": "V", "siemens": "S"}


def _open(path):
    """``(io, nwbfile)`` of ``path``, read lazily (no samples loaded)."""
    try:
        from pynwb import NWBHDF5IO
    except ImportError as exc:
        raise ImportError(
            f"{path}: reading NWB files needs the optional dependency pynwb: "
            'pip install "skion[nwb]"'
        ) from exc
    io = None
    try:
        io = NWBHDF5IO(os.fspath(path), "r")
        return io, io.read()
    except Exception as exc:  # h5py's OSError, hdmf's construction and schema errors
        if io is not None:
            io.close()
        raise ValueError(
            f"{path}: not a readable NWB file ({type(exc).__name__}: {exc})."
        ) from None


def _rate(path, series):
    """Samples per second of ``series``: its ``rate``, or its time stamps' constant step."""
    if series.rate is not None:
        return float(series.rate)
    stamps = np.asarray(series.timestamps[:], dtype=np.float64)
    steps = np.diff(stamps)
    if steps.size == 0 or not steps.min() > 0:
        raise ValueError(f"{path}: series {series.name!r} has no increasing time stamps.")
    step = float(np.median(steps))
    if np.max(np.abs(steps - step)) > RATE_TOLERANCE * step:
        raise ValueError(
            f"{path}: series {series.name!r} is not sampled at a constant rate (time steps "
            f"from {steps.min():.6g} to {steps.max():.6g} s)."
        )
    return 1.0 / step


def _start(series):
    if series.rate is not None:
        return float(series.starting_time or 0.0)
    return float(series.timestamps[0])


def _channels(path, nwbfile):
    """``[((name, units), [series, ...]), ...]``: the file's channels (in the order of
    their first series' names), each with its one-dimensional series in sweep (then
    time) order."""
    from pynwb import TimeSeries
    from pynwb.icephys import PatchClampSeries

    found = {}
    for _, series in sorted(nwbfile.acquisition.items()):
        if not isinstance(series, TimeSeries) or len(series.data.shape) != 1:
            continue
        unit = _SI_UNITS.get(str(series.unit).strip().lower(), str(series.unit).strip())
        if isinstance(series, PatchClampSeries) and series.electrode is not None:
            key = (series.electrode.name, unit)
        else:
            key = (series.name, unit)
        found.setdefault(key, []).append(series)
    if not found:
        listed = ", ".join(
            f"{name} ({type(series).__name__})" for name, series in nwbfile.acquisition.items()
        )
        raise ValueError(
            f"{path}: no one-dimensional series in the file's acquisition to read "
            f"(acquisition: {listed or 'empty'})."
        )
    named = [name for name, _ in found]
    channels = []
    for (name, unit), members in found.items():
        if named.count(name) > 1:  # one electrode in two clamp modes
            name = f"{name} ({unit})"
        members.sort(
            key=lambda s: (
                -1 if getattr(s, "sweep_number", None) is None else int(s.sweep_number),
                _start(s),
                s.name,
            )
        )
        channels.append(((name, unit), members))
    return channels


def open_nwb_channel(path, channel):
    """:class:`ChannelSource` of ``channel`` (an index, a name, or None for the first
    current or conductance channel; see ``choose_channel``).

    Every series of the channel (a sweep) is a recording; values are in the channel's SI
    unit (``A`` for a current), read a slice at a time from the open file.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {os.fspath(path)!r}")
    io, nwbfile = _open(path)
    try:
        channels = _channels(path, nwbfile)
        index = choose_channel(path, [named for named, _ in channels], channel)
        (name, unit), members = channels[index]
        rates = [_rate(path, series) for series in members]
        if max(rates) - min(rates) > RATE_TOLERANCE * max(rates):
            raise ValueError(
                f"{path}: the sweeps of channel {name!r} are sampled at different rates "
                f"({min(rates):g} to {max(rates):g} Hz); skion reads one rate per channel."
            )
    except BaseException:
        io.close()
        raise

    def read_sweep(sweep, start, stop):
        series = members[sweep]
        values = np.asarray(series.data[start:stop], dtype=np.float64)
        return values * float(series.conversion) + float(series.offset or 0.0)

    return ChannelSource(
        path,
        lengths=[len(series.data) for series in members],
        read_sweep=read_sweep,
        rate=rates[0],
        name=name,
        units=unit,
        kind="series",
        close=io.close,
    )

"""Choosing one channel of a multi-channel recording file, by index, by name or by unit,
and reading its sweeps as rows, a slice at a time."""

from __future__ import annotations

import numpy as np

__all__ = ["RATE_TOLERANCE", "ChannelSource", "choose_channel"]

#: Relative spread of time steps (or between sweeps' rates) that still counts as one
#: constant sampling rate, in every reader.
RATE_TOLERANCE = 1e-3


class ChannelSource:
    """One channel of an open file: its sweeps' lengths now, its samples a slice at a time.

    ``lengths`` are the sweeps' sample counts, in file order (every sweep a recording);
    ``read_sweep(i, start, stop)`` returns rows ``start:stop`` of sweep ``i`` as float64 in
    ``units`` (the channel's unit as the file states it). ``close`` releases the file.
    A file of ``kind`` (``"sweep(s)"``, ...) that holds no samples is a ValueError naming
    ``path``.
    """

    def __init__(self, path, *, lengths, read_sweep, rate, name, units, kind, close=None):
        lengths = np.asarray(lengths, dtype=np.int64)
        if lengths.sum() == 0:
            if close is not None:
                close()
            raise ValueError(f"{path}: the file holds no samples ({len(lengths)} empty {kind}).")
        self.path, self.rate, self.name, self.units = path, float(rate), name, units
        self._read_sweep, self._close = read_sweep, close
        self._first = np.concatenate([[0], np.cumsum(lengths)])
        self.n_samples = int(self._first[-1])
        nonempty = self._first[:-1][lengths > 0]
        #: First row of every sweep but the first (empty sweeps hold no recording).
        self.starts = nonempty[nonempty > 0]

    def read(self, start, stop):
        """Rows ``start:stop`` of the sweeps laid end to end, float64 in ``units``."""
        if self._read_sweep is None:
            raise ValueError(f"{self.path}: the file is closed.")
        pieces = []
        sweep = int(np.searchsorted(self._first, start, side="right")) - 1
        while start < stop:
            end = min(stop, int(self._first[sweep + 1]))
            if end > start:
                begin = int(self._first[sweep])
                values = self._read_sweep(sweep, start - begin, end - begin)
                pieces.append(np.asarray(values, dtype=np.float64))
            start, sweep = end, sweep + 1
        return np.concatenate(pieces) if pieces else np.empty(0)

    def close(self):
        """Release the file (a closed source reads nothing)."""
        self._read_sweep = None  # drops the memory map or reader it holds
        if self._close is not None:
            self._close()
            self._close = None


def choose_channel(path, channels, channel):
    """Index of ``channel`` among the file's ``channels`` (``[(name, units), ...]``).

    ``channel`` is an index, a name, or None for the first current (or conductance)
    channel; anything else is a ValueError that names the file and the alternatives.
    """
    if channel is None:
        usable = [i for i, (_, unit) in enumerate(channels) if unit[-1:] in ("A", "S")]
        if not usable:
            listed = ", ".join(f"{i} {name!r} ({unit})" for i, (name, unit) in enumerate(channels))
            raise ValueError(
                f"{path}: no channel holds a current or conductance (channels: {listed})."
            )
        return usable[0]
    if isinstance(channel, str):
        names = [name for name, _ in channels]
        if channel not in names:
            raise ValueError(f"{path}: no channel named {channel!r}; the file has {names}.")
        return names.index(channel)
    if not 0 <= channel < len(channels):
        raise ValueError(
            f"{path}: channel {int(channel)} is out of range; the file has {len(channels)} "
            f"channel(s) (valid indices 0..{len(channels) - 1})."
        )
    return int(channel)

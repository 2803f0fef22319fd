"""Choosing one channel of a multi-channel recording file, by index, by name or by unit,
and stacking its sweeps into rows."""

from __future__ import annotations

import numpy as np

__all__ = ["RATE_TOLERANCE", "choose_channel", "stack_sweeps"]

#: Relative spread of time steps (or between sweeps' rates) that still counts as one
#: constant sampling rate, in every reader.
RATE_TOLERANCE = 1e-3


def stack_sweeps(path, pieces, kind):
    """``(X, groups)``: the channel's sweeps (``pieces``, in order) as one column of rows,
    every sweep a recording; a file of ``kind`` (``"sweep(s)"``, ...) that holds no
    samples is a ValueError naming ``path``."""
    lengths = [len(piece) for piece in pieces]
    if sum(lengths) == 0:
        raise ValueError(f"{path}: the file holds no samples ({len(pieces)} empty {kind}).")
    groups = np.repeat(np.arange(len(pieces), dtype=np.int64), lengths)
    return np.concatenate(pieces)[:, None], groups


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

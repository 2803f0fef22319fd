"""Readers for the formats other acquisition programs write, through the optional ``neo``.

neo's "raw" readers parse a file's header and map its samples without loading them; one
channel is then read a slice of a segment (a sweep, a record) at a time.
"""

from __future__ import annotations

import os
import re

import numpy as np

from ._channels import ChannelSource, choose_channel

__all__ = ["NEO_FORMATS", "open_neo_channel"]

#: File suffix -> (neo raw reader, what writes it). Only formats with a test that reads a
#: file (one the test writes, or a public sample in tests/data) are listed.
NEO_FORMATS = {
    ".edr": ("WinEdrRawIO", "WinEDR (Strathclyde Electrophysiology Software)"),
    ".wcp": ("WinWcpRawIO", "WinWCP (Strathclyde Electrophysiology Software)"),
    ".axgd": ("AxographRawIO", "AxoGraph"),
    ".axgx": ("AxographRawIO", "AxoGraph X"),
    ".nix": ("NIXRawIO", "NIX (neo's own HDF5 format; any format neo reads can be saved as it)"),
    ".smr": ("Spike2RawIO", "CED Spike2 (32-bit SON)"),
}


def _open(path):
    """The parsed neo raw reader of ``path`` (header read, no samples)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    try:
        import neo.rawio
    except ImportError as exc:
        raise ImportError(
            f"{path}: reading {NEO_FORMATS[suffix][1]} files needs the optional dependency "
            'neo: pip install "skion[neo]"'
        ) from exc
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {os.fspath(path)!r}")
    reader = getattr(neo.rawio, NEO_FORMATS[suffix][0])(filename=os.fspath(path))
    try:
        reader.parse_header()
    except ImportError as exc:  # the format's own library (nixio for NIX)
        raise ImportError(f"{path}: {exc}") from exc
    except Exception as exc:  # neo raises anything from struct.error to KeyError
        raise ValueError(
            f"{path}: not a readable {NEO_FORMATS[suffix][1]} file ({type(exc).__name__}: {exc})."
        ) from None
    return reader


def _channel_table(reader):
    """``[(name, units), ...]`` of the file's signal channels; unnamed ones get ``IN i``."""
    channels = reader.header["signal_channels"]
    return [
        (str(name).strip() or f"IN {i}", str(units).strip())
        for i, (name, units) in enumerate(zip(channels["name"], channels["units"], strict=True))
    ]


def _segments(reader):
    """``(block, segment)`` of every segment, in file order."""
    return [
        (block, segment)
        for block in range(reader.header["nb_block"])
        for segment in range(reader.header["nb_segment"][block])
    ]


def _wcp_samples(path):
    """Samples per channel in every WinWCP record (``NP`` in the text header).

    neo returns the whole record area, which WinWCP pads to 512-byte sectors: without this
    the padding would be read as samples at zero current.
    """
    with open(path, "rb") as f:
        header = f.read(1024).decode("ascii", errors="replace")
    found = re.search(r"(?:^|\r\n)NP=(\d+)", header)
    return None if found is None else int(found[1])


def open_neo_channel(path, channel):
    """:class:`ChannelSource` of ``channel`` (an index, a name, or None for the first
    current or conductance channel; see ``choose_channel``).

    Every segment (a sweep or record) is a recording; values are in the channel's units
    as stated in the file, read a slice at a time.
    """
    reader = _open(path)
    channels = _channel_table(reader)
    channel = choose_channel(path, channels, channel)
    table = reader.header["signal_channels"]
    streams = list(reader.header["signal_streams"]["id"])
    stream = streams.index(table["stream_id"][channel])
    within = int(np.sum(table["stream_id"][:channel] == table["stream_id"][channel]))
    keep = _wcp_samples(path) if os.fspath(path).lower().endswith(".wcp") else None
    segments = _segments(reader)
    sizes = [
        int(reader.get_signal_size(block_index=b, seg_index=s, stream_index=stream))
        for b, s in segments
    ]
    lengths = sizes if keep is None else [min(size, keep) for size in sizes]

    def read_sweep(sweep, start, stop):
        block, segment = segments[sweep]
        raw = reader.get_analogsignal_chunk(
            block_index=block,
            seg_index=segment,
            i_start=start,
            i_stop=stop,
            stream_index=stream,
            channel_indexes=[within],
        )
        values = reader.rescale_signal_raw_to_float(
            raw, dtype="float64", stream_index=stream, channel_indexes=[within]
        )
        return values[:, 0]

    name, units = channels[channel]
    return ChannelSource(
        path,
        lengths=lengths,
        read_sweep=read_sweep,
        rate=float(table["sampling_rate"][channel]),
        name=name,
        units=units,
        kind="segment(s)",
    )

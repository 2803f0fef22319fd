"""Writing what ``skion predict`` and ``skion idealize`` find, a piece of the file at a
time (:meth:`skion.datasets.RecordingFile.pieces`): per-sample counts, and events stitched
across the pieces of a recording that was cut, so the files come out as if the recording
had been predicted whole."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..kinetics import dwell_times

__all__ = ["CountsWriter", "EventWriter", "events_to"]


class _Output:
    """A file written under a temporary name (``NAME.partial``) and moved to its path
    once complete, in a ``with`` block: an error on the way leaves no half-written
    result, and an older file at the path as it was."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = self.path.with_name(self.path.name + ".partial")

    def _close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc_info):
        self._close()
        if exc_type is None and self._partial.exists():
            os.replace(self._partial, self.path)
        else:
            self._partial.unlink(missing_ok=True)


class CountsWriter(_Output):
    """``time,open_channels`` CSV, appended piece by piece."""

    def __init__(self, path):
        super().__init__(path)
        self.n_rows = 0
        self._file = open(self._partial, "w")
        self._file.write("time,open_channels\n")

    def add(self, time, counts):
        """Append the rows of one piece."""
        frame = pd.DataFrame({"time": time, "open_channels": counts})
        frame.to_csv(self._file, header=False, index=False)
        self.n_rows += len(frame)

    def _close(self):
        self._file.close()


class EventWriter(_Output):
    """Events (:func:`skion.kinetics.dwell_times`) of the pieces of a file, as CSV.

    A piece's ``offset`` shifts its first recording's start times, and the last event of
    a piece whose recording ``continues`` is held back and joined to the next piece's
    first event when the level is the same: a dwell is never cut by a piece boundary, and
    only the first and last events of a recording are ``censored``.
    """

    def __init__(self, path, sampling_rate):
        super().__init__(path)
        self.rate, self.n_events = float(sampling_rate), 0
        self._held = None  # the last event of a recording that goes on in the next piece
        self._header = True

    def add(self, counts, piece):
        """Append the events of one piece (``counts`` at its rows)."""
        events = dwell_times(counts, self.rate, groups=piece.groups, current=piece.X)
        start = np.rint(events["start"].to_numpy() * self.rate).astype(np.int64)
        recording = events["recording"].to_numpy()
        start[recording == piece.groups[0]] += piece.offset
        last = np.append(recording[1:] != recording[:-1], True)
        last[-1] = not piece.continues
        events["start"] = start / self.rate
        events["censored"] = (start == 0) | last
        if self._held is not None:
            events = self._join(events)
        if piece.continues:
            self._held, events = events.iloc[-1:], events.iloc[:-1]
        self._write(events)

    def _join(self, events):
        """The held event before ``events``, as one event with their first if the level
        is the same."""
        held, self._held = self._held, None
        if held["level"].iloc[0] != events["level"].iloc[0]:
            return pd.concat([held, events], ignore_index=True)
        before, first = held.iloc[0], events.iloc[0]
        n = before["n_samples"] + first["n_samples"]
        total = before["mean_current"] * before["n_samples"] + (
            first["mean_current"] * first["n_samples"]
        )
        joined = held.assign(
            n_samples=n,
            duration=n / self.rate,
            mean_current=total / n,
            censored=bool(before["censored"] or first["censored"]),
        )
        return pd.concat([joined, events.iloc[1:]], ignore_index=True)

    def _write(self, events):
        if len(events) == 0:
            return
        mode = "w" if self._header else "a"
        events.to_csv(self._partial, mode=mode, header=self._header, index=False)
        self._header = False
        self.n_events += len(events)


def events_to(path, recording_file):
    """An :class:`EventWriter` for ``--events PATH``, or an empty context without one."""
    if path is None:
        return contextlib.nullcontext()
    return EventWriter(path, recording_file.sampling_rate)

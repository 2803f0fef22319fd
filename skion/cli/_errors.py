"""The command line's one-line errors, and the checks that need no heavy import."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["CommandError", "check_inputs", "say"]


class CommandError(Exception):
    """A user error the command reports in one line (exit status 1)."""


def check_inputs(args) -> None:
    """Fail at once, before NumPy, pandas or TensorFlow is imported, on a missing input.

    ``args.model`` where the command reads a model (``predict``, ``evaluate``, ``info``;
    ``fit`` writes it), then ``args.data`` (every command that reads a recording) must
    be existing files. The readers check again, with the same messages, for callers
    of the Python functions.
    """
    model = getattr(args, "model", None)
    if args.command != "fit" and model is not None and not Path(model).is_file():
        raise CommandError(f"no such model file: {model}")
    data = getattr(args, "data", None)
    if data is not None and not Path(data).is_file():
        raise CommandError(f"no such file: {data}")


def say(kind, message) -> None:
    """A note or warning for the user, one line on standard error."""
    print(f"skion: {kind}: {message}", file=sys.stderr)

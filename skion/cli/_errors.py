"""The command line's one-line errors, and the checks that need no heavy import."""

from __future__ import annotations

import sys
import tempfile
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
    many = args.command == "idealize" and data is not None and Path(data).is_dir()
    if data is not None and not Path(data).is_file() and not many:
        raise CommandError(f"no such file: {data}")
    folders = ("demo", "kinetics")  # their --out is a folder, and idealize's for a folder
    if many:
        folders += ("idealize",)
        for option in ("summary", "events"):
            if getattr(args, option, None) is not None:
                raise CommandError(
                    f"--{option} names one file; with a folder as DATA every file's "
                    "counts and summary are written to --out as NAME.csv and NAME.json"
                )
    outputs = {"--out": getattr(args, "out", None), "--events": getattr(args, "events", None)}
    outputs["--summary"] = getattr(args, "summary", None)
    if args.command == "fit":
        outputs["--model"] = model
    for option, path in outputs.items():
        if path is not None:
            check_writable(path, option, folder=option == "--out" and args.command in folders)


def check_writable(path, option, *, folder=False) -> None:
    """Fail before the work, not after it, when ``path`` cannot be written."""
    path = Path(path)
    if not folder and path.is_dir():
        raise CommandError(f"{option} {path} is a folder; give a file name")
    if folder and path.exists() and not path.is_dir():
        raise CommandError(f"{option} {path} is a file; give a folder")
    parent = path if folder else path.parent
    while not parent.exists():  # the nearest folder that exists will hold the new ones
        parent = parent.parent
    if not parent.is_dir():
        raise CommandError(f"{option} {path}: {parent} is a file, not a folder")
    try:  # a file actually created there: permissions, read-only and virtual file systems
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as error:
        raise CommandError(
            f"{option} {path}: cannot write in {parent} ({error.strerror or error})"
        ) from None


def say(kind, message) -> None:
    """A note or warning for the user, one line on standard error."""
    print(f"skion: {kind}: {message}", file=sys.stderr)

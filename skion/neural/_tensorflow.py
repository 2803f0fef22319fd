"""Import TensorFlow and Keras without their start-up chatter.

TensorFlow's C++ core writes lines such as ``Could not find cuda drivers on your
machine`` and ``failed call to cuInit`` straight to file descriptor 2, before its
logging is configured, so ``TF_CPP_MIN_LOG_LEVEL`` does not silence them and Python's
``sys.stderr`` never sees them. While TensorFlow is first imported (and its devices
listed, which is when CUDA is probed), descriptor 2 is sent to a temporary file; the
lines that are TensorFlow's start-up log records are then dropped and everything else
is written back. ``TF_CPP_MIN_LOG_LEVEL`` keeps its meaning: below 2 (the default
here is 2) nothing is dropped; at 2 the INFO and WARNING records and the CUDA probing
errors of a machine without a GPU; at 3 every record.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

__all__ = ["import_tensorflow_quietly", "startup_chatter"]

# absl's record prefix: severity, date, time, thread id, file:line]
_RECORD = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")
_ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called"
# Errors that only say that this machine has no usable GPU.
_NO_GPU = re.compile(rb"cuInit|cuda drivers|CUDA error|libcuda|cudart|TensorRT", re.I)


def startup_chatter(line: bytes, level: int) -> bool:
    """Whether one line written while TensorFlow started is chatter to drop at ``level``.

    Parameters
    ----------
    line : bytes
        One line of what TensorFlow wrote to standard error, without its newline.
    level : int
        ``TF_CPP_MIN_LOG_LEVEL``: 0 and 1 drop nothing, 2 drops INFO and WARNING
        records and the CUDA probing errors of a machine without a GPU, 3 drops every
        record.

    Returns
    -------
    drop : bool

    Examples
    --------
    >>> startup_chatter(b"I0000 00:00:1796.676873    1942 port.cc:153] oneDNN ...", 2)
    True
    >>> startup_chatter(b"Traceback (most recent call last):", 3)
    False
    """
    if level < 2:
        return False
    if line.startswith(_ABSL_PREAMBLE):
        return True
    record = _RECORD.match(line)
    if record is None:
        return False
    severity = record.group(1)
    return severity in b"IW" or level >= 3 or bool(_NO_GPU.search(line))


@contextlib.contextmanager
def _filtered_stderr(level: int):
    """Send descriptor 2 to a file for the block, then write back what is not chatter."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                sink.seek(0)
                kept = [
                    line
                    for line in sink.read().splitlines(keepends=True)
                    if not startup_chatter(line.rstrip(b"\r\n"), level)
                ]
                if kept:
                    os.write(2, b"".join(kept))
    finally:
        os.close(saved)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras and probe the devices, dropping the start-up chatter.

    Does nothing once TensorFlow is imported (by skion, or by the user before skion).
    """
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    try:
        level = int(level)
    except ValueError:
        level = 0  # TensorFlow ignores a value it cannot read; so do we
    with _filtered_stderr(level):
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()  # CUDA is probed here, not on import

"""TensorFlow's process-wide state: a quiet first import, and no memory kept per fit.

TensorFlow's C++ core writes lines such as ``Could not find cuda drivers on your
machine`` and ``failed call to cuInit`` straight to file descriptor 2, before its
logging is configured, so ``TF_CPP_MIN_LOG_LEVEL`` does not silence them and Python's
``sys.stderr`` never sees them. While TensorFlow is first imported (and its devices
listed, which is when CUDA is probed), descriptor 2 is sent to a temporary file; the
lines that are TensorFlow's start-up log records are then dropped and everything else
is written back.
``TF_CPP_MIN_LOG_LEVEL`` keeps its meaning: below 2 (the default here is 2) nothing is
dropped; at 2 the INFO and WARNING records and the CUDA probing errors of a machine
without a GPU; at 3 every record. Records written later, while a model runs (the CPU
feature guard's, at the first operation), are left alone.

TensorFlow also warns that a function "triggered tf.function retracing" when it has
traced it five times within a stretch of calls; it counts the traces by the Python code
of the function, so the prediction steps of every Keras model in the process count
together, and a process that fits and predicts several models (cross-validation,
``skion demo``) gets the warning though no model retraces (``tests/test_no_retracing.py``
checks that one model does not). At ``TF_CPP_MIN_LOG_LEVEL`` 2 or more that warning is
dropped from TensorFlow's Python logger when skion imports TensorFlow.

Every ``Model.fit`` traces a training step in which Keras all-reduces the gradients
(even on one device); TensorFlow wraps that all-reduce in a custom gradient that it
registers, under a new name, in its process-wide gradient registry, and the closure
registered keeps the whole traced training graph alive (about 35 MB per fit of a small
U-Net, measured). :func:`forget_custom_gradients` removes the entries a block added.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile

__all__ = ["forget_custom_gradients", "import_tensorflow_quietly", "startup_chatter"]

# absl's record prefix: severity, date, time, thread id, file:line]
_RECORD = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] ")
_ABSL_PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called"
# The second line of the CPU feature guard's INFO record ("This TensorFlow binary is
# optimized to use available CPU instructions ...").
_CPU_GUARD_SECOND_LINE = b"To enable the following instructions:"
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
    if line.startswith((_ABSL_PREAMBLE, _CPU_GUARD_SECOND_LINE)):
        return True
    record = _RECORD.match(line)
    if record is None:
        return False
    severity = record.group(1)
    return severity in b"IW" or level >= 3 or bool(_NO_GPU.search(line))


class _RetracingAcrossModels(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning (module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def _filtered_stderr(level: int):
    """Send descriptor 2 to a file for the block, then write back what is not chatter.

    Where the process has no descriptor 2 (some GUI launchers), the block runs as is.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
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

        # CUDA is probed here, not on import. No tensor is made: that would initialize
        # the runtime, after which users can no longer set threads or GPU memory growth.
        tf.config.list_physical_devices()
    if level >= 2:
        tf.get_logger().addFilter(_RetracingAcrossModels())


@contextlib.contextmanager
def forget_custom_gradients():
    """Remove the custom gradients registered while the block ran (see module docstring).

    They are only looked up while a graph that differentiates through them is being
    built; the all-reduce of a training step is never differentiated, so removing its
    entry once the step is traced changes nothing but the memory. Does nothing if this
    TensorFlow keeps its registry elsewhere.
    """
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):
        yield
        return
    before = set(registry)
    try:
        yield
    finally:
        for name in set(registry) - before:
            if name.startswith("CustomGradient-"):
                del registry[name]

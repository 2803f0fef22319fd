"""Mixed precision: float16 compute on GPUs, float32 elsewhere unless bfloat16 is asked.

Keras reads its dtype policy from a global setting when a layer is created; skion
sets it only while building a network that asked for mixed precision and restores
it afterwards, so no other model in the process is affected.
"""

from __future__ import annotations

import contextlib
from functools import cache

import keras

__all__ = ["gpu_available", "mixed_policy", "policy_scope"]


@cache
def gpu_available() -> bool:
    """Whether TensorFlow sees a GPU (probed once per process)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def mixed_policy(setting) -> str | None:
    """Keras dtype policy of ``mixed_precision``, or None for plain float32.

    ``"auto"`` means float16 exactly when a GPU is present: float16 arithmetic speeds up
    tensor-core GPUs and slows CPUs down. True means ``"float16"``. ``"bfloat16"`` pays
    on CPUs with bfloat16 instructions (AVX512_BF16, AMX): the default network trained
    1.55x faster (``docs/benchmarks.md``).
    """
    if setting == "auto":
        setting = "float16" if gpu_available() else False
    if setting is True:
        setting = "float16"
    return f"mixed_{setting}" if setting else None


@contextlib.contextmanager
def policy_scope(name: str):
    """Create layers under the dtype policy ``name``, then restore the previous one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)

"""Mixed precision: float16 compute on GPUs, float32 everywhere else.

Keras reads its dtype policy from a global setting when a layer is created; skion
sets it only while building a network that asked for mixed precision and restores
it afterwards, so no other model in the process is affected.
"""

from __future__ import annotations

import contextlib
from functools import cache

import keras

__all__ = ["gpu_available", "policy_scope", "use_mixed_precision"]


@cache
def gpu_available() -> bool:
    """Whether TensorFlow sees a GPU (probed once per process)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def use_mixed_precision(setting) -> bool:
    """Resolve ``mixed_precision`` (``"auto"``, True or False) to a bool.

    ``"auto"`` means on exactly when a GPU is present: float16 arithmetic speeds up
    tensor-core GPUs and slows CPUs down.
    """
    return gpu_available() if setting == "auto" else bool(setting)


@contextlib.contextmanager
def policy_scope(name: str):
    """Create layers under the dtype policy ``name``, then restore the previous one."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)

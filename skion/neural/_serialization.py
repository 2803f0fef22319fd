"""Keras models to and from bytes, through Keras' own ``.keras`` format (for pickling)."""

from __future__ import annotations

import os
import tempfile

import keras


def model_to_bytes(model: keras.Model) -> bytes:
    """Serialize ``model`` (architecture, weights, optimizer state) as ``.keras`` bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(data: bytes) -> keras.Model:
    """Inverse of :func:`model_to_bytes`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, safe_mode=True)  # no Python code from files

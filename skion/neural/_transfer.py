"""Transfer learning: start a new U-Net from a pretrained one's weights.

The two networks are built by :func:`skion.build_unet` with the same architecture
parameters, so their weighted layers correspond one to one, in order. Every layer is
copied except the per-sample head when the number of classes differs: that layer is
left freshly initialised (the transfer-learning recipe: keep the trained feature
extractor, replace the classifier).
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

__all__ = ["resolve_init_model", "transfer_weights"]

HEAD = "head"


def resolve_init_model(init_model) -> keras.Model:
    """The Keras network behind ``init_model``.

    Accepts a ``keras.Model``, a fitted estimator with a ``model_`` attribute (such
    as ``SequenceUNetClassifier``) or a Pipeline ending in one, a ``.keras`` file, or
    a skion model file (written by ``SequenceUNetClassifier.save`` or ``skion fit``).
    """
    if isinstance(init_model, keras.Model):
        return init_model
    if isinstance(init_model, str | os.PathLike):
        path = Path(init_model)
        if path.suffix == ".keras":
            if not path.is_file():
                raise ValueError(f"init_model: no such file: {path}")
            try:
                return keras.saving.load_model(path, safe_mode=True)
            except (OSError, ValueError, KeyError) as error:  # a corrupt or unsafe archive
                raise ValueError(
                    f"init_model: {path} is not a readable .keras file ({error})"
                ) from None
        from ..model_files import load_estimator

        return resolve_init_model(load_estimator(path))
    if hasattr(init_model, "steps"):  # a Pipeline, e.g. from a `skion fit` model file
        return resolve_init_model(init_model.steps[-1][1])
    if hasattr(init_model, "get_params"):
        fitted = any(name.endswith("_") and not name.startswith("__") for name in vars(init_model))
        if fitted and not hasattr(init_model, "model_"):
            raise ValueError(
                f"init_model is a fitted {type(init_model).__name__}, which holds no Keras "
                "network to start from; pass a fitted SequenceUNetClassifier, a pipeline "
                "ending in one, a keras.Model or a path to one."
            )
        if not hasattr(init_model, "model_"):
            raise ValueError(
                f"init_model is an unfitted {type(init_model).__name__}. Note that "
                "sklearn.base.clone (used by cross_val_score and GridSearchCV) returns "
                "unfitted copies of estimator parameters: pass the pretrained network as "
                "a file path (est.save(path)) or a keras.Model instead."
            )
        return init_model.model_
    raise TypeError(
        "init_model must be a keras.Model, a fitted SequenceUNetClassifier or a path "
        f"to a .keras or skion model file; got {type(init_model).__name__}."
    )


def transfer_weights(source: keras.Model, target: keras.Model) -> int:
    """Copy ``source``'s weights into ``target`` layer by layer; return the count copied.

    The head is skipped when its shape differs (another number of classes). Any other
    mismatch means the two networks were built differently, which is an error that
    names the first differing layer.
    """
    source_layers = [layer for layer in source.layers if layer.weights]
    target_layers = [layer for layer in target.layers if layer.weights]
    if len(source_layers) != len(target_layers):
        raise ValueError(
            f"init_model has {len(source_layers)} weighted layers, this estimator's network "
            f"{len(target_layers)}: build both with the same filters, kernel_size, depth "
            "and normalization."
        )
    copied = 0
    for index, (src, dst) in enumerate(zip(source_layers, target_layers, strict=True)):
        src_shapes = [tuple(w.shape) for w in src.weights]
        dst_shapes = [tuple(w.shape) for w in dst.weights]
        if src_shapes == dst_shapes and type(src) is type(dst):
            dst.set_weights(src.get_weights())
            copied += 1
        elif dst.name == HEAD and src.name == HEAD and src_shapes[0][:2] == dst_shapes[0][:2]:
            # Another number of classes: a new head, started at zero so that the network
            # first predicts uniform probabilities. A random head on top of trained
            # (large, unnormalized) features starts with confident, arbitrary outputs.
            dst.set_weights([np.zeros_like(w) for w in dst.get_weights()])
        else:
            raise ValueError(
                f"init_model's layer {index} ({type(src).__name__}, weights {src_shapes}) "
                f"does not match this estimator's ({type(dst).__name__}, weights "
                f"{dst_shapes}): build both with the same number of features, filters, "
                "kernel_size, depth and normalization."
            )
    return copied

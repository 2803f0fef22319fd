"""Keras parts of skion: the U-Net builder, its callbacks and the estimator."""

from ._tensorflow import import_tensorflow_quietly

import_tensorflow_quietly()  # before any module of this package imports Keras

# ruff: noqa: E402
from ._estimator import SequenceUNetClassifier
from ._pretrained import PRETRAINED_UNET_PATH, load_pretrained_unet
from ._unet import build_unet, encoder_layers, min_window_multiple

__all__ = [
    "PRETRAINED_UNET_PATH",
    "SequenceUNetClassifier",
    "build_unet",
    "encoder_layers",
    "load_pretrained_unet",
    "min_window_multiple",
]

"""Keras parts of skion: the U-Net builder, its callbacks and the estimator."""

from ._estimator import SequenceUNetClassifier
from ._unet import build_unet, encoder_layers, min_window_multiple

__all__ = ["SequenceUNetClassifier", "build_unet", "encoder_layers", "min_window_multiple"]

"""Preprocessing: the z-score windowing transformer and its cleaning/context steps."""

from ._zscore import ZScoreWindower

__all__ = ["ZScoreWindower"]

"""Preprocessing: baseline removal, the z-score windowing transformer and context steps."""

from ._lattice import LatticeDetrender
from ._zscore import ZScoreWindower

__all__ = ["LatticeDetrender", "ZScoreWindower"]

"""Preprocessing: baseline removal, the z-score windowing transformer and context steps."""

from ._lattice import LatticeDetrender
from ._lattice_scaler import LatticeScaler
from ._zscore import ZScoreWindower

__all__ = ["LatticeDetrender", "LatticeScaler", "ZScoreWindower"]

"""Preprocessing: baseline removal, lattice units, resampling, the z-score windowing step."""

from ._lattice import LatticeDetrender
from ._lattice_scaler import LatticeScaler
from ._resample import resample_recordings
from ._zscore import ZScoreWindower

__all__ = ["LatticeDetrender", "LatticeScaler", "ZScoreWindower", "resample_recordings"]

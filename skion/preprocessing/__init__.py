"""Preprocessing: baseline removal, lattice units, cleaning, scaling, context columns,
resampling."""

from ._cleaning import RecordingCleaner
from ._context import ContextFeatures
from ._lattice import LatticeDetrender
from ._lattice_scaler import LatticeScaler
from ._resample import resample_recordings
from ._scaler import RecordingScaler
from ._zscore import ZScoreWindower

__all__ = [
    "ContextFeatures",
    "LatticeDetrender",
    "LatticeScaler",
    "RecordingCleaner",
    "RecordingScaler",
    "ZScoreWindower",
    "resample_recordings",
]

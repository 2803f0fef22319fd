"""Synthetic and real ion-channel recordings in skion's row-per-sample convention."""

from ._abf import read_abf
from ._liverpool import load_liverpool_csv
from ._telegraph import make_telegraph

__all__ = ["load_liverpool_csv", "make_telegraph", "read_abf"]

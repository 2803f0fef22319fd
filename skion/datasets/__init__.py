"""Synthetic and real ion-channel recordings in skion's row-per-sample convention."""

from ._telegraph import make_telegraph

__all__ = ["make_telegraph"]

"""Synthetic and real ion-channel recordings in skion's row-per-sample convention."""

from ._abf import read_abf
from ._ion_switching import KINETICS, REGIMES, RecordingModel, make_ion_switching
from ._liverpool import load_liverpool_csv
from ._oracle import aggregated_chain, oracle_proba
from ._patch_clamp import make_patch_clamp
from ._recording import PIECE_ROWS, RecordingFile, open_recording, read_recording
from ._rigs import RIGS, make_rigs
from ._telegraph import make_telegraph

__all__ = [
    "KINETICS",
    "PIECE_ROWS",
    "REGIMES",
    "RIGS",
    "RecordingFile",
    "RecordingModel",
    "aggregated_chain",
    "load_liverpool_csv",
    "make_ion_switching",
    "make_patch_clamp",
    "make_rigs",
    "make_telegraph",
    "open_recording",
    "oracle_proba",
    "read_abf",
    "read_recording",
]

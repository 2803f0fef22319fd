"""skion: scikit-learn estimators for segmenting ion-channel recordings.

Rows are time samples: ``X`` is ``(n_samples, n_features)`` (usually the current in
pA), ``y`` the number of open channels at each sample. See ``SequenceUNetClassifier``.

The estimators are imported on first use, so that ``import skion`` (and the command
line's ``--help``) does not import TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ._many_files import idealize_files
    from .hmm import AggregatedHMM, HMMClassifier
    from .neural import SequenceUNetClassifier, build_unet
    from .preprocessing import (
        ContextFeatures,
        LatticeDetrender,
        LatticeScaler,
        RecordingCleaner,
        RecordingScaler,
        ZScoreWindower,
    )

#: Public name -> the subpackage that defines it.
_LAZY = {
    "AggregatedHMM": "hmm",
    "ContextFeatures": "preprocessing",
    "HMMClassifier": "hmm",
    "LatticeDetrender": "preprocessing",
    "LatticeScaler": "preprocessing",
    "RecordingCleaner": "preprocessing",
    "RecordingScaler": "preprocessing",
    "SequenceUNetClassifier": "neural",
    "ZScoreWindower": "preprocessing",
    "build_unet": "neural",
    "idealize_files": "_many_files",
}

__all__ = [
    "AggregatedHMM",
    "ContextFeatures",
    "HMMClassifier",
    "LatticeDetrender",
    "LatticeScaler",
    "RecordingCleaner",
    "RecordingScaler",
    "SequenceUNetClassifier",
    "ZScoreWindower",
    "__version__",
    "build_unet",
    "idealize_files",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'skion' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted({*globals(), *_LAZY})

"""skion: scikit-learn estimators for segmenting ion-channel recordings.

Rows are time samples: ``X`` is ``(n_samples, n_features)`` (usually the current in
pA), ``y`` the number of open channels at each sample. See ``SequenceUNetClassifier``.
"""

import os

# Keep TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) out of users' output
# unless they asked for it; must be set before TensorFlow is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .hmm import AggregatedHMM, HMMClassifier
from .neural import SequenceUNetClassifier, build_unet
from .preprocessing import LatticeDetrender, LatticeScaler, ZScoreWindower

__version__ = "0.1.0"

__all__ = [
    "AggregatedHMM",
    "HMMClassifier",
    "LatticeDetrender",
    "LatticeScaler",
    "SequenceUNetClassifier",
    "ZScoreWindower",
    "__version__",
    "build_unet",
]

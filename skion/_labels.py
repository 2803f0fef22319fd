"""Class labels of a classifier's ``y``: checked, then encoded."""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

__all__ = ["encode_labels"]


def encode_labels(y):
    """``(classes, codes)`` of classification targets, as ``np.unique`` returns them.

    Refuses continuous targets (scikit-learn's check) and, with a ``ValueError`` that says
    so, labels of mixed types (``"1"`` beside ``2``), which ``np.unique`` cannot sort.
    """
    try:
        check_classification_targets(y)
        return np.unique(y, return_inverse=True)
    except TypeError as error:
        kinds = sorted({type(value).__name__ for value in np.asarray(y, dtype=object).ravel()})
        if len(kinds) < 2:
            raise
        raise ValueError(
            f"y mixes label types ({', '.join(kinds)}); give labels of one type, all "
            "numbers or all strings."
        ) from error

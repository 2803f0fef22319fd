"""A transformer mixin whose ``fit_transform`` hands the recordings to both steps."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import TransformerMixin
from sklearn.utils.validation import _num_samples

from ..windowing import Recordings


class RecordingTransformerMixin(TransformerMixin):
    """``fit_transform`` for transformers that work recording by recording.

    scikit-learn's ``TransformerMixin.fit_transform`` passes extra arguments to ``fit``
    only, so ``transform`` would treat the rows as one recording. Here the recordings
    are found once and given to both.
    """

    def fit_transform(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> np.ndarray:
        """Fit, then transform the same rows (``groups`` reaches both steps).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        y : array-like of shape (n_samples,), default=None
            Passed to ``fit``.
        groups : array-like of shape (n_samples,) or Recordings, default=None
            Recording of each row.

        Returns
        -------
        X_out : ndarray
            See ``transform``.
        """
        if groups is not None:
            groups = Recordings(_num_samples(X), groups)
        return self.fit(X, y, groups=groups).transform(X, groups=groups)

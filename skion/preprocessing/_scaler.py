"""RecordingScaler: the z-score with training statistics, or each recording's own."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._requests import RecordingRequestsMixin
from .._signal import check_signal_range
from .._strict import StrictParamsMixin
from ..windowing import Recordings
from ._recordings import RecordingTransformerMixin

__all__ = ["RecordingScaler"]


class RecordingScaler(
    OneToOneFeatureMixin,
    StrictParamsMixin,
    RecordingRequestsMixin,
    RecordingTransformerMixin,
    BaseEstimator,
):
    """Standardise every column with the training statistics, or per recording.

    ``scope="global"`` is :class:`sklearn.preprocessing.StandardScaler` for rows that
    are time samples: new recordings are scaled with the mean and standard deviation
    learned in ``fit`` (a model then sees the current in the units it was trained on).
    ``scope="recording"`` scales each recording (``groups``) with its own statistics at
    transform time, which uses no labels and removes gain differences between
    recordings, but also moves each recording's levels with its own occupancy (a
    recording with more open channels is shifted further down): for recordings from
    other rigs, :class:`~skion.LatticeScaler` (open-channel units) keeps the levels.

    Parameters
    ----------
    scope : {"global", "recording"}, default="global"
        ``"global"``: one set of statistics learned in ``fit``. ``"recording"``: each
        recording's own, at transform time.
    robust : bool, default=False
        Use the median and the interquartile range / 1.349 (equal to the standard
        deviation for Gaussian data) instead of the mean and standard deviation.
    copy : bool, default=True
        Scale a copy of ``X``; ``False`` scales ``X`` in place where it is already a
        float array (as ``StandardScaler(copy=False)``).

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Mean (or median) of each training column.
    scale_ : ndarray of shape (n_features,)
        Standard deviation (or scaled IQR) of each column; 1 where a column is constant.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` had string column names.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same with ``scope="global"``.
    skion.LatticeScaler : Open-channel units per recording, without labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.preprocessing import RecordingScaler
    >>> X = np.array([[1.0], [3.0], [10.0], [30.0]])
    >>> RecordingScaler().fit(X).transform(X).ravel().round(2)
    array([-0.87, -0.7 , -0.09,  1.66])
    >>> RecordingScaler(scope="recording").fit_transform(X, groups=[0, 0, 1, 1]).ravel()
    array([-1.,  1., -1.,  1.])
    """

    _parameter_constraints: dict = {
        "scope": [StrOptions({"global", "recording"})],
        "robust": ["boolean"],
        "copy": ["boolean"],
    }

    def __init__(self, *, scope="global", robust=False, copy=True):
        self.scope = scope
        self.robust = robust
        self.copy = copy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> RecordingScaler:
        """Learn the centre and scale of every column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        y : None
            Ignored; present for ``Pipeline`` compatibility.
        groups : array-like of shape (n_samples,) or Recordings, default=None
            Recording of each row (checked; the statistics pool every recording).

        Returns
        -------
        self : RecordingScaler
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        check_signal_range(X)
        Recordings(len(X), groups)  # checked (one label per row, none missing), not kept
        self.center_, self.scale_ = self._statistics(X)
        return self

    def transform(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Scale every column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,) or Recordings, default=None
            Recording of each row (read with ``scope="recording"``).

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features)
            Same dtype as ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            dtype=[np.float64, np.float32],
            reset=False,
            copy=self.copy,
            force_writeable=True,  # in place on a read-only array copies it first
        )
        check_signal_range(X)
        recordings = Recordings(len(X), groups)
        if self.scope == "recording":
            for rows in recordings:
                center, scale = self._statistics(X[rows])
                X[rows] -= center
                X[rows] /= scale
        else:
            X -= self.center_.astype(X.dtype)
            X /= self.scale_.astype(X.dtype)
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _statistics(self, Z):
        """Centre and scale of each column (scale 1 where a column is constant)."""
        if self.robust:
            q25, center, q75 = np.percentile(Z, [25, 50, 75], axis=0)
            scale = (q75 - q25) / 1.3489795
        else:
            center, scale = Z.mean(axis=0, dtype=np.float64), Z.std(axis=0, dtype=np.float64)
        # 1 where a column is constant up to rounding; relative to the column's own size,
        # so that a current in amperes (values ~1e-11) is still scaled
        scale = np.where(scale > np.finfo(Z.dtype).eps * np.abs(center), scale, 1.0)
        return np.asarray(center, dtype=np.float64), np.asarray(scale, dtype=np.float64)

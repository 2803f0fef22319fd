"""ContextFeatures: the neighbourhood of every row as extra columns, inside recordings."""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from .._requests import RecordingRequestsMixin
from .._signal import check_signal_range
from .._strict import StrictParamsMixin
from ..windowing import Recordings
from ._recordings import RecordingTransformerMixin

__all__ = ["ContextFeatures"]

#: Most lags (and leads) a row may get: 2 * context + 1 columns per input column, so
#: context=10**6 asked for 22 GB on a short recording.
_MAX_CONTEXT = 1000


class ContextFeatures(
    StrictParamsMixin, RecordingRequestsMixin, RecordingTransformerMixin, BaseEstimator
):
    """Add the values of neighbouring rows, and rolling statistics, as columns.

    Pointwise models (gradient boosting, logistic regression) see one row at a time;
    these columns show them the neighbourhood of each time sample, computed inside
    every recording (``groups``) so that nothing crosses a recording boundary. The
    input columns come first, unchanged. Nothing is learned: ``fit`` only checks.

    Parameters
    ----------
    context : int, default=0
        Add the values ``1..context`` rows before (``lag``) and after (``lead``) each
        row, for every column (at most 1000). At a recording's edges the edge value is
        repeated.
    rolling_windows : tuple of int, default=()
        Widths (at least 2) of centred rolling windows; each adds a rolling mean and a
        rolling standard deviation column per input column. The window of row ``i`` is
        rows ``i - width // 2`` to ``i - width // 2 + width - 1``, cut at the
        recording's edges.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` had string column names.

    See Also
    --------
    skion.preprocessing.RecordingScaler : The z-score these columns usually follow.
    skion.ZScoreWindower : Cleaning, scaling and these columns in one step.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.preprocessing import ContextFeatures
    >>> X = np.array([[1.0], [2.0], [3.0], [10.0], [11.0]])
    >>> features = ContextFeatures(context=1, rolling_windows=(2,)).fit(X)
    >>> features.get_feature_names_out()
    array(['x0', 'x0_lag1', 'x0_lead1', 'x0_mean2', 'x0_std2'], dtype=object)
    >>> features.transform(X, groups=[0, 0, 0, 1, 1])
    array([[ 1. ,  1. ,  2. ,  1. ,  0. ],
           [ 2. ,  1. ,  3. ,  1.5,  0.5],
           [ 3. ,  2. ,  3. ,  2.5,  0.5],
           [10. , 10. , 11. , 10. ,  0. ],
           [11. , 10. , 11. , 10.5,  0.5]])
    """

    _parameter_constraints: dict = {
        "context": [Interval(Integral, 0, _MAX_CONTEXT, closed="both")],
        "rolling_windows": ["array-like"],
    }

    def __init__(self, *, context=0, rolling_windows=()):
        self.context = context
        self.rolling_windows = rolling_windows

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> ContextFeatures:
        """Check the parameters and the columns of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        y : None
            Ignored; present for ``Pipeline`` compatibility.
        groups : array-like of shape (n_samples,) or Recordings, default=None
            Recording of each row (checked).

        Returns
        -------
        self : ContextFeatures
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        check_signal_range(X)
        Recordings(len(X), groups)  # checked (one label per row, none missing), not kept
        widths = np.asarray(self.rolling_windows)
        if widths.ndim != 1 or (
            widths.size and (widths.dtype.kind not in "iu" or widths.min() < 2)
        ):
            raise ValueError(
                "rolling_windows must be a sequence of integers >= 2, "
                f"got {self.rolling_windows!r}."
            )
        return self

    def transform(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """The input columns followed by the context columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,) or Recordings, default=None
            Recording of each row; no row sees another recording's.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
            Named by :meth:`get_feature_names_out`; same dtype as ``X`` (float32 or
            float64).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        check_signal_range(X)
        recordings = Recordings(len(X), groups)
        n_cols = X.shape[1]
        n_blocks = 1 + 2 * self.context + 2 * len(self.rolling_windows)
        # Every block is written into one preallocated array, recording by recording:
        # the working set beyond the output is one recording's temporaries.
        out = np.empty((len(X), n_blocks * n_cols), dtype=X.dtype)
        out[:, :n_cols] = X
        for rows in recordings:
            part = X[rows]
            for block, values in enumerate(self._blocks(part), start=1):
                out[rows, block * n_cols : (block + 1) * n_cols] = values
        return out

    def _blocks(self, part: np.ndarray) -> Iterator[np.ndarray]:
        """Lag/lead then rolling mean/std blocks of one recording, one at a time."""
        for k in range(1, self.context + 1):
            yield shifted(part, k)
            yield shifted(part, -k)
        for width in self.rolling_windows:
            yield from rolling_mean_std(part, int(width))

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; defaults to ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str
            Input names, then ``{name}_lag{k}`` / ``{name}_lead{k}`` for k = 1..context,
            then ``{name}_mean{w}`` and ``{name}_std{w}`` per rolling width.
        """
        check_is_fitted(self)
        names = list(_check_feature_names_in(self, input_features))
        out = list(names)
        for k in range(1, self.context + 1):
            out += [f"{n}_lag{k}" for n in names] + [f"{n}_lead{k}" for n in names]
        for width in self.rolling_windows:
            out += [f"{n}_mean{width}" for n in names] + [f"{n}_std{width}" for n in names]
        return np.asarray(out, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def shifted(part: np.ndarray, k: int) -> np.ndarray:
    """Row ``i`` of one recording gets its row ``i - k`` (``k > 0``: lag, ``k < 0``:
    lead); rows whose source falls outside the recording repeat the edge row."""
    return part[np.clip(np.arange(len(part)) - k, 0, len(part) - 1)]


def rolling_mean_std(part: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred rolling mean and standard deviation over ``width`` rows of one recording.

    The window of row ``i`` is ``[i - width // 2, i - width // 2 + width)`` cut at the
    recording's edges. Sums come from float64 cumulative sums, so the cost does not
    depend on ``width``.
    """
    rows = np.arange(len(part))
    lo = np.maximum(rows - width // 2, 0)
    hi = np.minimum(rows - width // 2 + width, len(part))
    count = (hi - lo)[:, None].astype(np.float64)
    zero = np.zeros((1, part.shape[1]))
    csum = np.concatenate([zero, np.cumsum(part, axis=0, dtype=np.float64)])
    csq = np.concatenate([zero, np.cumsum(np.square(part, dtype=np.float64), axis=0)])
    mean = (csum[hi] - csum[lo]) / count
    var = np.maximum((csq[hi] - csq[lo]) / count - mean**2, 0.0)
    return mean.astype(part.dtype), np.sqrt(var).astype(part.dtype)

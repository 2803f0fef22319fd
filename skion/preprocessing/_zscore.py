"""ZScoreWindower: per-recording cleaning, the z-score and context columns in one step."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from .._requests import RecordingRequestsMixin
from .._strict import StrictParamsMixin
from ..windowing import Recordings
from ._cleaning import RecordingCleaner
from ._context import ContextFeatures
from ._recordings import RecordingTransformerMixin
from ._scaler import RecordingScaler

__all__ = ["ZScoreWindower"]


class ZScoreWindower(
    StrictParamsMixin, RecordingRequestsMixin, RecordingTransformerMixin, BaseEstimator
):
    """Standardise a recording with training statistics and add neighbour features.

    The one-step entry point of the three transformers it chains, each computed
    inside every recording (``groups``) so that nothing crosses a recording boundary:

    1. :class:`~skion.preprocessing.RecordingCleaner` (``notch_freq``, ``detrend``
       and their options; off by default): power-line interference and drift removal;
    2. :class:`~skion.preprocessing.RecordingScaler` (``scope``, ``robust``): the
       z-score with the mean and standard deviation of the training signal, learned
       in ``fit`` (the seed recipe), or of each recording itself;
    3. :class:`~skion.preprocessing.ContextFeatures` (``context``,
       ``rolling_windows``; off by default): neighbour columns, so that pointwise
       models such as gradient boosting see the neighbourhood of each sample.

    ``ZScoreWindower(**params)`` gives the same output as
    ``make_pipeline(RecordingCleaner(...), RecordingScaler(...), ContextFeatures(...))``
    with the same parameters; new code that needs one job can use its transformer
    alone. The number of rows never changes, so it works before any estimator in a
    ``Pipeline``.

    Parameters
    ----------
    context : int, default=0
        Add the values ``1..context`` rows before (``lag``) and after (``lead``) each
        row, for every column. At a recording's edges the edge value is repeated.
    rolling_windows : tuple of int, default=()
        Widths of centred rolling windows; each adds a rolling mean and a rolling
        standard deviation column per input column. Near a recording's edges the
        window is cut at the edge.
    scope : {"global", "recording"}, default="global"
        ``"global"``: one set of statistics learned in ``fit`` (the recipe).
        ``"recording"``: each recording is scaled with its own statistics at
        transform time (uses no labels; helps when recordings differ in gain).
    robust : bool, default=False
        Use the median and the interquartile range / 1.349 (equal to the standard
        deviation for Gaussian data) instead of the mean and standard deviation.
    detrend : {None, "poly", "median"}, default=None
        Drift removal per recording. ``"poly"`` fits a polynomial of
        ``detrend_degree`` in time; ``"median"`` takes medians of consecutive blocks
        of ``detrend_window`` rows and interpolates linearly between them (follows
        sine-like drift; the blocks must be much longer than channel dwell times).
    detrend_degree : int, default=1
        Degree of the ``"poly"`` trend.
    detrend_window : int, default=50_000
        Block length in rows of the ``"median"`` trend.
    detrend_anchor : {"mean", "start"}, default="mean"
        Which level of the recording detrending keeps. ``"mean"``: its mean, right
        for drift that averages to zero. ``"start"``: its level at the first row, right
        for drift that starts at zero, such as a ramp or half sine added to a clean
        recording (the competition's drift, and ``make_ion_switching``'s). A drift
        with non-zero mean shifts every level under ``"mean"``: a half sine of
        amplitude 4 pA moves a one-channel recording by two open-channel steps.
    notch_freq : float, default=None
        Remove interference at this frequency in Hz (50 or 60) and its effect with a
        zero-phase notch filter (``scipy.signal.iirnotch`` + ``filtfilt``).
    notch_quality : float, default=30.0
        Quality factor of the notch (higher: narrower).
    sampling_rate : float, default=10_000.0
        Sampling rate in Hz, used by the notch filter.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Mean (or median) of each column after cleaning, learned in ``fit``.
    scale_ : ndarray of shape (n_features,)
        Standard deviation (or scaled IQR) of each column; 1 where it was 0.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` had string column names.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The plain per-column z-score.
    skion.SequenceUNetClassifier : The sequence model this usually feeds.

    Notes
    -----
    Give ``groups`` to ``fit`` and ``transform`` (or ``fit_transform``) whenever the
    rows hold several recordings. In a ``Pipeline``, ``transform`` receives
    ``groups`` at prediction time only through metadata routing
    (``sklearn.set_config(enable_metadata_routing=True)``; ``fit`` and ``transform``
    request ``groups`` by default).

    Examples
    --------
    >>> import numpy as np
    >>> from skion import ZScoreWindower
    >>> X = np.array([[1.0], [2.0], [3.0], [4.0], [10.0], [11.0]])
    >>> zs = ZScoreWindower(context=1).fit(X)
    >>> zs.get_feature_names_out()
    array(['x0', 'x0_lag1', 'x0_lead1'], dtype=object)
    >>> zs.transform(X, groups=[0, 0, 0, 0, 1, 1]).round(2)
    array([[-1.07, -1.07, -0.81],
           [-0.81, -1.07, -0.56],
           [-0.56, -0.81, -0.3 ],
           [-0.3 , -0.56, -0.3 ],
           [ 1.24,  1.24,  1.5 ],
           [ 1.5 ,  1.24,  1.5 ]])
    """

    # the parameters of its parts, checked by the same constraints (the scaler's ``copy``
    # is not one: the scaler always scales the cleaner's copy in place)
    _parameter_constraints: dict = {
        **RecordingCleaner._parameter_constraints,
        **{k: v for k, v in RecordingScaler._parameter_constraints.items() if k != "copy"},
        **ContextFeatures._parameter_constraints,
    }

    def __init__(
        self,
        *,
        context=0,
        rolling_windows=(),
        scope="global",
        robust=False,
        detrend=None,
        detrend_degree=1,
        detrend_window=50_000,
        detrend_anchor="mean",
        notch_freq=None,
        notch_quality=30.0,
        sampling_rate=10_000.0,
    ):
        self.context = context
        self.rolling_windows = rolling_windows
        self.scope = scope
        self.robust = robust
        self.detrend = detrend
        self.detrend_degree = detrend_degree
        self.detrend_window = detrend_window
        self.detrend_anchor = detrend_anchor
        self.notch_freq = notch_freq
        self.notch_quality = notch_quality
        self.sampling_rate = sampling_rate

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> ZScoreWindower:
        """Learn the per-column centre and scale of the cleaned training signal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        y : None
            Ignored; present for ``Pipeline`` compatibility.
        groups : array-like of shape (n_samples,) or Recordings, default=None
            Recording of each row (cleaning is done per recording).

        Returns
        -------
        self : ZScoreWindower
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        recordings = Recordings(len(X), groups)
        cleaner, scaler, context = self._parts()
        context.fit(X, groups=recordings)  # its parameters, checked before any work
        scaler.fit(cleaner.fit_transform(X, groups=recordings), groups=recordings)
        self.center_, self.scale_ = scaler.center_, scaler.scale_
        return self

    def transform(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Clean, standardise and add context columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,) or Recordings, default=None
            Recording of each row; nothing is computed across recordings.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
            Standardised columns followed by the context columns, named by
            :meth:`get_feature_names_out`. Same dtype as ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        recordings = Recordings(len(X), groups)
        cleaner, scaler, context = self._parts()
        # the statistics are this transformer's own fitted attributes, so that model
        # files written before it was split in three load and transform unchanged
        scaler.center_, scaler.scale_, scaler.n_features_in_ = (
            self.center_,
            self.scale_,
            self.n_features_in_,
        )
        Z = cleaner.fit_transform(X, groups=recordings)  # a copy; cleaning learns nothing
        Z = scaler.transform(Z, groups=recordings)  # in place on that copy
        if context.context == 0 and not len(context.rolling_windows):
            return Z
        return context.fit_transform(Z, groups=recordings)

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
        _, _, context = self._parts()
        context.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            context.feature_names_in_ = self.feature_names_in_
        return context.get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _parts(self) -> tuple[RecordingCleaner, RecordingScaler, ContextFeatures]:
        """The three transformers this one chains, set from its parameters; numpy in and
        out whatever the global ``transform_output`` (this one wraps its own output)."""
        params = self.get_params()

        def made(part, **fixed):
            own = {name: params[name] for name in part._get_param_names() if name in params}
            return part(**own, **fixed).set_output(transform="default")

        # the scaler scales the cleaner's copy in place
        return made(RecordingCleaner), made(RecordingScaler, copy=False), made(ContextFeatures)

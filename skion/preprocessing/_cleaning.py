"""Per-recording signal cleaning: power-line interference and slow drift removal."""

from __future__ import annotations

from itertools import pairwise
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import filtfilt, iirnotch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._requests import RecordingRequestsMixin
from .._signal import check_signal_range
from .._strict import StrictParamsMixin
from ..windowing import Recordings
from ._recordings import RecordingTransformerMixin

__all__ = ["RecordingCleaner", "check_below_nyquist", "remove_line_noise", "remove_trend"]


class RecordingCleaner(
    OneToOneFeatureMixin,
    StrictParamsMixin,
    RecordingRequestsMixin,
    RecordingTransformerMixin,
    BaseEstimator,
):
    """Remove power-line interference and slow drift inside each recording.

    Each step runs on every recording (``groups``) alone, in this order:

    1. power-line interference (``notch_freq``): a zero-phase IIR notch;
    2. drift (``detrend``): the slow trend of each recording minus its mean (or its
       value at the recording's start, ``detrend_anchor="start"``) is subtracted, so
       the level that tells how many channels are open is kept.

    Nothing is learned: ``fit`` only checks. Both steps are generic signal cleaning:
    the notch also removes the channels' own signal near its frequency, and a trend
    follows slow changes in occupancy. :class:`~skion.LatticeDetrender`, which follows
    the baseline on the lattice of open-channel levels, leaves 0.011 pA of baseline
    error where a 50 Hz notch and a cubic trend leave 0.16 pA
    (``benchmarks/cleaning.py``, docs/benchmarks.md).

    Parameters
    ----------
    notch_freq : float, default=None
        Remove interference at this frequency in Hz (50 or 60) with a zero-phase notch
        filter (``scipy.signal.iirnotch`` + ``filtfilt``); None: no notch.
    notch_quality : float, default=30.0
        Quality factor of the notch (higher: narrower).
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
        recording. A drift with non-zero mean shifts every level under ``"mean"``: a
        half sine of amplitude 4 pA moves a one-channel recording by two open-channel
        steps.
    sampling_rate : float, default=10_000.0
        Sampling rate in Hz, used by the notch filter.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` had string column names.

    See Also
    --------
    skion.LatticeDetrender : The baseline on the lattice of open-channel levels.
    skion.ZScoreWindower : This cleaning, the z-score and context columns in one step.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.preprocessing import RecordingCleaner
    >>> ramps = np.array([[0.0], [1.0], [2.0], [10.0], [12.0], [14.0]])  # two recordings
    >>> cleaner = RecordingCleaner(detrend="poly", detrend_anchor="start")
    >>> cleaner.fit_transform(ramps, groups=[0, 0, 0, 1, 1, 1]).ravel().round(6)
    array([ 0.,  0.,  0., 10., 10., 10.])
    """

    _parameter_constraints: dict = {
        "notch_freq": [Interval(Real, 0, None, closed="neither"), None],
        "notch_quality": [Interval(Real, 0, None, closed="neither")],
        "detrend": [StrOptions({"poly", "median"}), None],
        "detrend_degree": [Interval(Integral, 0, None, closed="left")],
        "detrend_window": [Interval(Integral, 2, None, closed="left")],
        "detrend_anchor": [StrOptions({"mean", "start"})],
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        notch_freq=None,
        notch_quality=30.0,
        detrend=None,
        detrend_degree=1,
        detrend_window=50_000,
        detrend_anchor="mean",
        sampling_rate=10_000.0,
    ):
        self.notch_freq = notch_freq
        self.notch_quality = notch_quality
        self.detrend = detrend
        self.detrend_degree = detrend_degree
        self.detrend_window = detrend_window
        self.detrend_anchor = detrend_anchor
        self.sampling_rate = sampling_rate

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> RecordingCleaner:
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
        self : RecordingCleaner
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        check_signal_range(X)
        Recordings(len(X), groups)  # checked (one label per row, none missing), not kept
        check_below_nyquist("notch_freq", self.notch_freq, self.sampling_rate)
        return self

    def transform(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """A copy of ``X`` with line noise and drift removed inside each recording.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,) or Recordings, default=None
            Recording of each row; nothing is computed across recordings.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features)
            Same dtype as ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        check_signal_range(X)
        recordings = Recordings(len(X), groups)
        out = np.array(X, copy=True)
        if self.notch_freq is not None or self.detrend is not None:
            recordings.apply(self._clean_one, X, out=out)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _clean_one(self, part: np.ndarray) -> np.ndarray:
        """One recording with the notch, then the detrending, applied."""
        if self.notch_freq is not None:
            filtered = remove_line_noise(
                part, self.notch_freq, self.sampling_rate, quality=self.notch_quality
            )
            part = filtered.astype(part.dtype, copy=False)
        if self.detrend is not None:
            part = remove_trend(
                part,
                self.detrend,
                degree=self.detrend_degree,
                window=self.detrend_window,
                anchor=self.detrend_anchor,
            )
        return part


def check_below_nyquist(name, freq, sampling_rate):
    """Raise a ValueError naming ``name`` unless ``freq`` is None or below Nyquist."""
    if freq is not None and not freq < sampling_rate / 2:
        raise ValueError(
            f"{name}={freq} Hz must be below the Nyquist frequency "
            f"sampling_rate / 2 = {sampling_rate / 2} Hz."
        )


def remove_line_noise(part, freq, sampling_rate, *, quality=30.0):
    """Zero-phase notch filter at ``freq`` Hz along axis 0 of one recording."""
    b, a = iirnotch(freq, quality, fs=sampling_rate)
    padlen = min(3 * max(len(a), len(b)), len(part) - 1)
    if padlen < 1:  # a single row has no frequency content to remove
        return part
    return filtfilt(b, a, part, axis=0, padlen=padlen)


def remove_trend(part, kind, *, degree=1, window=50_000, anchor="mean"):
    """Subtract the slow trend of one recording.

    ``kind="poly"``: least-squares polynomial of ``degree`` in time.
    ``kind="median"``: medians of consecutive blocks of ``window`` rows, linearly
    interpolated between block centres (constant beyond the outer centres).
    ``anchor="mean"`` keeps the recording's mean level (drift with zero mean);
    ``anchor="start"`` keeps the level at its first row (drift that starts at zero,
    such as a ramp or a half sine added to a clean recording).
    """
    n = len(part)
    t = np.arange(n, dtype=np.float64)
    if kind == "poly":
        if n <= degree:
            return part
        scaled = (t - t.mean()) / max(t.std(), 1.0)  # well-conditioned Vandermonde
        vander = np.vander(scaled, degree + 1)
        coef, *_ = np.linalg.lstsq(vander, part.astype(np.float64), rcond=None)
        trend = vander @ coef
    elif kind == "median":
        n_blocks = max(1, int(np.ceil(n / window)))
        edges = np.linspace(0, n, n_blocks + 1).astype(int)
        centres = 0.5 * (edges[:-1] + edges[1:] - 1)
        medians = np.stack([np.median(part[a:b], axis=0) for a, b in pairwise(edges)])
        trend = np.column_stack(
            [np.interp(t, centres, medians[:, j]) for j in range(part.shape[1])]
        )
    else:
        raise ValueError(f"Unknown detrend {kind!r}.")
    reference = trend.mean(axis=0) if anchor == "mean" else trend[0]
    return part - (trend - reference)

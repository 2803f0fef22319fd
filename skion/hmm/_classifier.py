"""HMMClassifier: a supervised Gaussian hidden Markov model over open-channel counts."""

from __future__ import annotations

from numbers import Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._labels import encode_labels
from .._requests import RecordingRequestsMixin
from .._signal import check_signal_range
from .._strict import StrictParamsMixin
from ..windowing import Recordings
from ._count_kernels import chunked_forward_backward, chunked_viterbi
from ._forward_backward import forward_backward
from ._viterbi import viterbi

__all__ = ["HMMClassifier"]


class _NoPath(Exception):
    """No state path of a recording has a non-zero probability."""


class HMMClassifier(StrictParamsMixin, RecordingRequestsMixin, ClassifierMixin, BaseEstimator):
    """Supervised Gaussian hidden Markov model: the classic baseline for ion channels.

    Hidden states are the classes (open-channel counts). Everything is learned from
    labelled recordings in closed form, no EM:

    - the transition matrix counts consecutive label pairs inside each recording
      (``groups``), plus ``pseudo_count`` in every cell, normalised per row;
    - the initial distribution is the class frequency;
    - emissions are Gaussian per class: the mean of every column, and a variance that
      is shared by all classes (``covariance="shared"``, the physics of additive
      recording noise) or per class (``"per_class"``).

    ``predict_proba`` is the forward-backward posterior of each sample given its
    whole recording; ``predict`` is its argmax, or the single most probable state
    path with ``decoder="viterbi"``.

    Parameters
    ----------
    covariance : {"shared", "per_class"}, default="shared"
        Whether all classes share one variance per column.
    pseudo_count : float, default=1.0
        Added to every transition count, so unseen transitions stay possible.
    decoder : {"posterior", "viterbi"}, default="posterior"
        ``predict``: argmax of the posterior of each sample (maximises expected
        per-sample accuracy) or the Viterbi path (the best joint sequence).
    var_smoothing : float, default=1e-9
        Fraction of the largest column variance added to every variance, for
        stability (as in ``GaussianNB``).
    implementation : {"auto", "compiled", "numpy", "hmmlearn"}, default="auto"
        Who runs the decoding. ``"compiled"`` (numba, what ``"auto"`` picks) makes the
        emissions and runs the recursions a chunk of rows at a time: memory beyond the
        output is a float per row (and a byte per row and class for Viterbi)
        (checkpointed forward-backward, one-byte Viterbi back-pointers), and it is the
        fastest (``benchmarks/hmm_vs_hmmlearn.py``). ``"hmmlearn"`` hands the fitted model
        to ``hmmlearn.hmm.GaussianHMM`` (install with ``pip install "skion[hmm]"``;
        its lattices take about 800 bytes per row of the longest recording).
        ``"numpy"`` uses :func:`skion.hmm.forward_backward` and :func:`skion.hmm.viterbi`
        (a Python loop over time). All three give the same results to 1e-10.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; columns of ``predict_proba`` follow them.
    transmat_ : ndarray of shape (n_classes, n_classes)
        ``transmat_[i, j] = P(class j at t + 1 | class i at t)``.
    startprob_ : ndarray of shape (n_classes,)
        Initial state distribution (class frequencies).
    means_ : ndarray of shape (n_classes, n_features)
        Emission mean of every class and column.
    vars_ : ndarray of shape (n_classes, n_features)
        Emission variance (identical rows when ``covariance="shared"``).
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` had string column names.

    See Also
    --------
    skion.hmm.forward_backward : The posterior computation.
    skion.SequenceUNetClassifier : The deep model this baseline is compared with.

    Notes
    -----
    Every column of ``X`` is an independent Gaussian given the class (a diagonal
    covariance), so extra columns such as a voltage trace or context features add
    evidence; with one column it is the textbook model. Means are fixed per class,
    so slow drift breaks the model: remove it first, with
    :class:`~skion.LatticeDetrender` (drift and hum measured on the lattice of
    open-channel levels; a median or polynomial trend also follows slow changes in how
    many channels are open). Time is O(n_samples * n_classes ** 2).

    Examples
    --------
    >>> from skion import HMMClassifier
    >>> from skion.datasets import make_telegraph
    >>> X, y = make_telegraph(20_000, n_channels=2, noise=0.4, random_state=0)
    >>> hmm = HMMClassifier().fit(X, y)
    >>> hmm.transmat_.shape
    (3, 3)
    >>> bool((hmm.predict(X) == y).mean() > 0.95)
    True
    """

    _parameter_constraints: dict = {
        "covariance": [StrOptions({"shared", "per_class"})],
        "pseudo_count": [Interval(Real, 0, None, closed="left")],
        "decoder": [StrOptions({"posterior", "viterbi"})],
        "var_smoothing": [Interval(Real, 0, None, closed="left")],
        "implementation": [StrOptions({"auto", "compiled", "numpy", "hmmlearn"})],
    }

    def __init__(
        self,
        *,
        covariance="shared",
        pseudo_count=1.0,
        decoder="posterior",
        var_smoothing=1e-9,
        implementation="auto",
    ):
        self.covariance = covariance
        self.pseudo_count = pseudo_count
        self.decoder = decoder
        self.var_smoothing = var_smoothing
        self.implementation = implementation

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike, groups: ArrayLike | None = None) -> HMMClassifier:
        """Count transitions and fit the Gaussian emissions from labelled recordings.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        y : array-like of shape (n_samples,)
            Class of every sample.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row; no transition is counted across recordings.

        Returns
        -------
        self : HMMClassifier
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_signal_range(X)
        classes, codes = encode_labels(y)
        if len(X) < 2:
            raise ValueError(
                f"HMMClassifier needs at least 2 samples to estimate transitions and "
                f"variances; got n_samples = {len(X)}."
            )
        self.classes_ = classes
        n_classes = len(classes)

        counts = np.full((n_classes, n_classes), float(self.pseudo_count))
        recordings = Recordings(len(X), groups)
        inside = np.ones(len(X) - 1, dtype=bool)  # pair (t, t + 1) within one recording
        inside[recordings.ends[:-1] - 1] = False
        np.add.at(counts, (codes[:-1][inside], codes[1:][inside]), 1.0)
        rows = counts.sum(axis=1, keepdims=True)
        # A class seen only at a recording's end with pseudo_count=0 has no outgoing
        # transition: let it stay where it is.
        self.transmat_ = np.where(rows > 0, counts / np.where(rows > 0, rows, 1), np.eye(n_classes))

        frequency = np.bincount(codes, minlength=n_classes)
        self.startprob_ = frequency / frequency.sum()
        self.means_ = np.stack([X[codes == k].mean(axis=0) for k in range(n_classes)])
        residual = X - self.means_[codes]
        epsilon = self.var_smoothing * X.var(axis=0).max()
        if self.covariance == "shared":
            shared = np.mean(residual**2, axis=0)  # residuals are centred per class
            self.vars_ = np.tile(shared + epsilon, (n_classes, 1))
        else:
            self.vars_ = np.stack(
                [np.mean(residual[codes == k] ** 2, axis=0) for k in range(n_classes)]
            )
            self.vars_ += epsilon
        if np.any(self.vars_ <= 0):
            raise ValueError(
                "Emission variance is zero: every class has constant X. Give noisy data or "
                "set var_smoothing > 0 with a non-constant column."
            )
        return self

    def _log_emission(self, X):
        """``log p(x_t | class k)`` for every row and class, shape (n_samples, n_classes)."""
        log_norm = -0.5 * np.sum(np.log(2 * np.pi * self.vars_), axis=1)
        out = np.empty((len(X), len(self.classes_)))
        for k in range(len(self.classes_)):  # a loop over classes keeps memory O(n * K)
            z = (X - self.means_[k]) ** 2 / self.vars_[k]
            out[:, k] = log_norm[k] - 0.5 * z.sum(axis=1)
        return out

    def predict_proba(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Forward-backward posterior of every sample's class given its recording.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row; recordings are decoded independently.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Posterior probabilities; columns follow ``classes_``.
        """
        return self._decode(X, groups, kind="proba")

    def predict(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Class of every sample: posterior argmax or the Viterbi path (``decoder``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row; recordings are decoded independently.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        kind = "argmax" if self.decoder == "posterior" else "viterbi"
        codes = self._decode(X, groups, kind=kind)  # checks fitted before classes_
        return self.classes_[codes]

    def _decode(self, X, groups, *, kind):
        """Decode recording by recording; ``kind`` is what is kept of each.

        ``"proba"``: posteriors ``(n_samples, n_classes)``; ``"argmax"``: the posterior
        argmax and ``"viterbi"``: the Viterbi path, both as class codes. One recording
        is decoded at a time; the compiled decoder makes its emissions a chunk of rows at
        a time too, so memory beyond the output does not grow with its length.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        check_signal_range(X)
        n_classes = len(self.classes_)
        if kind == "proba":
            out = np.empty((len(X), n_classes))
        else:
            out = np.empty(len(X), dtype=np.min_scalar_type(n_classes))
        hmmlearn_model = self._hmmlearn_model()
        for index, rows in enumerate(Recordings(len(X), groups)):
            try:
                self._decode_one(X[rows], kind, out[rows], hmmlearn_model)
            except _NoPath:
                raise ValueError(self._impossible(index, rows)) from None
        return out

    def _impossible(self, index, rows):
        """Why recording ``index`` has no path: transitions the labels never showed."""
        return (
            f"recording {index} (rows {rows.start}-{rows.stop}) has probability zero under "
            f"the model: it needs a transition between classes that never occurred in the "
            f"training labels, and pseudo_count={self.pseudo_count!r} rules such "
            "transitions out. Use pseudo_count > 0 (the default is 1)."
        )

    def _decode_one(self, X, kind, out, hmmlearn_model):
        """Decode one recording into ``out``; ``_NoPath`` where no path is possible."""
        if self.implementation in ("auto", "compiled"):
            try:
                self._decode_compiled(X, kind, out)
            except ZeroDivisionError:  # the forward pass's scale: every path ruled out
                raise _NoPath from None
            return
        part = X.astype(np.float64, copy=False)
        if hmmlearn_model is not None:
            if kind == "viterbi":
                result = hmmlearn_model.predict(part)
            else:
                result = hmmlearn_model.predict_proba(part)
        else:
            decode = viterbi if kind == "viterbi" else forward_backward
            result = decode(self._log_emission(part), self.transmat_, self.startprob_)
        if not np.isfinite(result).all():
            raise _NoPath
        out[:] = result.argmax(axis=1) if kind == "argmax" else result

    def _decode_compiled(self, X, kind, out):
        """Decode one recording into ``out`` with the chunked compiled recursions."""
        states = np.arange(len(self.classes_), dtype=np.int64)

        def log_emission_of(start, stop):
            return self._log_emission(X[start:stop].astype(np.float64, copy=False))

        if kind == "viterbi":
            args = (len(X), states, self.transmat_, self.startprob_)
            out[:] = chunked_viterbi(log_emission_of, *args)
            return

        def emission_of(start, stop):
            log_em = log_emission_of(start, stop)
            top = log_em.max(axis=1, keepdims=True)
            return np.exp(log_em - top), float(top.sum())

        def consume(start, stop, gamma):
            out[start:stop] = gamma if kind == "proba" else gamma.argmax(axis=1)

        chunked_forward_backward(
            emission_of, len(X), states, self.transmat_, self.startprob_, consume
        )

    def _hmmlearn_model(self):
        """The fitted model as an ``hmmlearn`` GaussianHMM, or None to decode without it."""
        if self.implementation != "hmmlearn":
            return None
        try:
            from hmmlearn.hmm import GaussianHMM
        except ImportError:
            raise ImportError(
                'implementation="hmmlearn" needs hmmlearn: pip install "skion[hmm]"'
            ) from None
        model = GaussianHMM(
            n_components=len(self.classes_), covariance_type="diag", init_params="", params=""
        )
        model.n_features = self.n_features_in_
        model.startprob_ = self.startprob_
        model.transmat_ = self.transmat_
        model.means_ = self.means_
        model.covars_ = self.vars_
        return model

"""AggregatedHMM: N identical channels of a small Markov scheme, fitted by EM without labels."""

from __future__ import annotations

import warnings
from dataclasses import replace
from math import comb
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import uniform_filter1d
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from .._requests import RecordingRequestsMixin
from .._signal import check_signal_range
from .._strict import StrictParamsMixin
from .._threads import one_blas_thread
from ..exceptions import AmbiguousFitWarning, CorrelatedNoiseWarning
from ..preprocessing._cleaning import check_below_nyquist
from ..windowing import Recordings
from ._aggregated_chain import AggregatedChain, rate_bounds, stationary
from ._baseline import fit_baseline
from ._decoding import _Decoding
from ._filter import UNDO_BELOW, decimation, estimate_filter_cutoff, undo_filter
from ._fit_refinement import _FitRefinement
from ._lattice_search import _MOVING_MEAN, _LatticeSearch
from ._open_noise import fit_open_noise, level_squares
from ._posterior import _MAX_OMEGA, _MIN_NOISE_RATIO, _e_step, _Params
from ._slow_noise import SLOW_NOISE_BLOCK, SLOW_NOISE_LIMIT, slow_noise_ratio
from ._transition_checks import JUMP_SIZES, excessive_size, transition_checks

__all__ = ["AggregatedHMM"]

#: Most aggregated states a model may have: decoding costs their square per sample.
_MAX_STATES = 500


def _next_omega(used, before, move):
    """Over-relaxation of the next EM step of the log-rates, by a secant along the last.

    Where EM converges linearly, every step is ``1 - rho`` of the way left, so after a
    step ``used`` times ``before`` the next EM step is ``r = 1 - used (1 - rho)`` times
    ``before`` (projected on it), and ``used / (1 - r)`` steps reach the end. Doubling
    ``omega`` instead (up to 16) crawled for 45 iterations on the ridge of 10 channels'
    hidden rates at an open probability of 0.6 (250,000 rows); the secant (held as
    ``_em`` says) took 15, to a higher likelihood (rates 2-8 % nearer the generator's).
    """
    r = float(move @ before) / max(float(before @ before), 1e-300)
    if r >= 1.0 - used / _MAX_OMEGA:
        return _MAX_OMEGA
    return float(np.clip(used / (1.0 - r), 1.0, _MAX_OMEGA))


def _refuse_constant(xs):
    """A recording whose current never changes has no levels to find without labels."""
    for index, x in enumerate(xs):
        if x.min() == x.max():
            raise ValueError(
                f"recording {index} is constant ({x[0]:g} on all {len(x)} rows): it has no "
                "current levels to find."
            )


class AggregatedHMM(
    _LatticeSearch,
    _FitRefinement,
    _Decoding,
    StrictParamsMixin,
    RecordingRequestsMixin,
    ClassifierMixin,
    BaseEstimator,
):
    """Idealize a recording without labels: N identical channels of a Markov scheme, by EM.

    Every channel follows the linear scheme ``C1 - ... - C_nc - O1 - ... - O_no``
    (``n_closed`` closed and ``n_open`` open states, one rate per edge and direction, in
    s^-1). The hidden state of a recording is the occupancy vector of its ``N`` channels
    (66 states for 10 channels of 3 states), whose per-sample transition matrix is the
    exact ``expm(Q_agg / sampling_rate)``. The current is::

        baseline(t) + unitary_current * n_open(t)
            + sqrt(noise_sd ** 2 + n_open(t) * open_channel_noise_sd ** 2) * N(0, 1)

    with one unitary current (either sign) and one noise shared by all recordings,
    and a baseline per recording: a constant, or a drift tracked by a moving mean over
    ``baseline_window`` seconds, plus line hum when ``line_freq`` is given.

    ``fit`` runs EM (Baum-Welch) like :class:`sklearn.mixture.GaussianMixture`: no labels
    needed. It calibrates the longest recording (the unitary current and levels from
    equally spaced peaks in the density of the current, smoothed over 1 to 32 samples as
    needed and refined by a lattice mixture; a search by short EM fits when no peaks
    show), places the closed level and chooses ``N`` by likelihood, tries both signs of
    the current when ``current_sign="auto"``, finds the other recordings' offsets on that
    lattice, and then alternates the forward-backward pass with closed-form updates of
    the current, noise and baselines and a maximum-likelihood update of the
    single-channel rates (first on the first 250,000 rows, then on all). Where the
    levels widen with the open channels (open-channel noise), their added variance is
    fitted too and ``N`` chosen again under it; otherwise the noise is white
    (``open_channel_noise_sd_ = 0``). Starts and refinements whose posterior jumps by
    several levels at once more often than their channels can (a lattice finer than
    the channels' own) are passed over, and where the noise is not white a count 0 or
    ``N`` entered far less often than the chain would enter it is dropped (a level only
    the slow noise reaches). With ``y``
    (open channels), the counts are known and EM estimates only the hidden kinetics.

    ``predict_proba`` is the posterior over open-channel counts of each sample given its
    whole recording, with the recording's own baseline re-estimated (a new recording
    may sit at another offset or drift; where the fit found its noise not white, tracked
    in the end over ``tracking_window_``); ``predict`` is its argmax.

    Parameters
    ----------
    n_channels : int or "auto", default="auto"
        Channels per recording. ``"auto"``: the levels the calibration finds, plus up to
        three never-visited levels when the likelihood gains more than half a log of the
        sample size per added channel. A given count is reached the same way (it caps
        the search) and the channels still missing after EM are added above the levels
        seen; the placement of the all-closed level is then chosen by the likelihood.
    n_closed, n_open : int, default=2 and 1
        Closed and open states of the single-channel scheme.
    sampling_rate : float, default=10_000.0
        Samples per second (Hz); the rates are per second.
    unitary_current : float or None, default=None
        Known current of one open channel (pA, with its sign); ``None`` estimates it.
    current_sign : {"auto", "positive", "negative"}, default="auto"
        Direction of the channel current. ``"auto"`` fits both and keeps the more
        likely; when the two are equally likely (schemes symmetric in time), the end of
        the lattice that is visited more is taken as closed. Where only a few nats
        (under 30) separate them, as on a short recording of slow channels, an
        :class:`~skion.exceptions.AmbiguousFitWarning` says so: give the sign.
    baseline : {"track", "constant"}, default="track"
        Per-recording baseline model.
    baseline_window : float, default=0.2
        Length (s) of the moving mean that tracks drift; must exceed the longest dwells
        and be shorter than the drift's time scale.
    line_freq : float or None, default=None
        Mains frequency (Hz, 50 or 60) of line hum to fit with ``n_harmonics`` harmonics.
    n_harmonics : int, default=3
        Harmonics of the hum (1 = fundamental only).
    filter_cutoff : "auto", float or None, default="auto"
        -3 dB frequency (Hz) of the amplifier's 4-pole Bessel low-pass filter, undone
        (a regularized inverse) before the recordings are modelled: filtered noise is
        correlated and filtered transitions are rounded, which a model with white noise
        reads as extra levels (three channels filtered at 2 kHz of 10 kHz showed 12
        levels). ``"auto"`` reads the cut-off from the spectrum of the current's first
        differences (undone only below a quarter of ``sampling_rate``); ``None`` models
        the recordings as they are.
    max_channels : int, default=10
        Largest ``N`` that ``"auto"`` may choose. Where the fit stops at it (or at a
        given ``n_channels``) and a recording visits levels above, an
        :class:`~skion.exceptions.AmbiguousFitWarning` says so.
    max_iter : int, default=100
        EM iterations.
    tol : float, default=1e-7
        Stop when the log-likelihood per sample improves by less than this (small,
        because the rates of hidden states converge slowly).
    n_jobs : int, default=None
        Threads over recordings (the forward-backward passes, new recordings' baselines,
        decoding) and over the candidate lattices of the calibration. ``None`` means 1
        unless in a :func:`joblib.parallel_config` context; ``-1`` means every core.
        Results do not depend on it.
    verbose : int, default=0
        Print the log-likelihood of every iteration when > 0.

    Attributes
    ----------
    classes_ : ndarray of shape (n_channels_ + 1,)
        Open-channel counts ``0..n_channels_``.
    n_channels_ : int
        Number of channels.
    unitary_current_ : float
        Current of one open channel (pA, signed).
    noise_sd_ : float
        Standard deviation of the white noise (pA), with every channel closed.
    open_channel_noise_sd_ : float
        Noise sd (pA) that every open channel adds in quadrature (the sd at ``k`` open
        channels is ``sqrt(noise_sd_ ** 2 + k * open_channel_noise_sd_ ** 2)``); 0 where
        the noise is the same at every level.
    rates_ : ndarray of shape (n_closed + n_open, n_closed + n_open)
        Single-channel rate matrix ``Q`` (s^-1), states ordered closed then open.
    open_states_ : ndarray of bool
        Which single-channel states conduct.
    closed_level_ : ndarray of shape (n_recordings,)
        Mean baseline (pA) of every training recording.
    open_probability_ : float
        Stationary open probability of one channel under ``rates_``.
    lower_bound_ : float
        Log-likelihood per sample at the end of ``fit``.
    n_iter_ : int
        EM iterations run.
    converged_ : bool
        Whether ``tol`` was reached.
    filter_cutoff_ : float or None
        Cut-off (Hz) of the low-pass filter undone before modelling (given, or found by
        ``"auto"``); ``None``: the recordings were modelled as they are.
    slow_noise_ratio_ : float
        How much more the fit's residual (the current minus the fitted levels and
        baseline), averaged over a quarter of ``baseline_window``, varies than white
        noise would: about 1 (or less) for white noise, 25-56 measured under 1/f noise.
        Above 5, a :class:`~skion.exceptions.CorrelatedNoiseWarning` says that the
        model's white noise does not hold. ``nan`` on recordings shorter than 8 blocks.
    joint_jump_ratio_ : float
        Jumps of two or more levels within one sample in the fit's posterior, over the
        number its independent channels would make from the same states: about 1
        where the fit holds and its channels make many (0.67-1.13 measured), any value
        where they make a few (slow channels); ``nan`` where they make none. Where it
        exceeds 1.5 by 6 Poisson sds, or jumps of three or more levels exceed the
        channels' by 1.6 times and 4 sds, by 30 jumps in both, a fit without labels warns
        (:class:`~skion.exceptions.AmbiguousFitWarning`) that the current moves by more
        than ``unitary_current_`` at a time: the lattice is finer than the channels' own
        (1.2-4.6 where 1/f or AR(1) noise was read as openings of channels of 0.4-0.63
        of the unitary current), or the channels do not open independently.
    tracking_window_ : float
        Length (s) of the moving mean over which ``predict`` tracks a recording's
        baseline in the end. ``baseline_window`` where the noise is white; where
        ``slow_noise_ratio_`` is above 5, the window of least leave-one-out error among
        ``baseline_window`` and its halvings (down to a 32nd, and to twice the fitted
        channel's slowest relaxation time), reached by halving from the levels found over
        ``baseline_window``: under 1/f noise the shorter window follows the noise that
        the longer one read as transitions (+1.9 points of macro-F1 on average over 24
        recordings not used to design it, up to +18). With ``baseline="constant"``,
        ``baseline_window`` and unused.
    n_features_in_ : int
        Columns seen in ``fit`` (only the first, the current, is modelled).

    See Also
    --------
    skion.HMMClassifier : Supervised HMM whose states are the counts.
    skion.datasets.make_patch_clamp : Recordings to test it on.

    Notes
    -----
    The counts are Markov only at the level of occupancy vectors, not of counts, when
    a channel has several closed or open states; that is why the hidden states are
    occupancy vectors. The forward-backward pass is compiled (numba) and keeps the
    forward variable only every 512 rows, so memory grows with ``n_samples * (N + 1)``,
    not with the number of aggregated states.

    Examples
    --------
    >>> from skion import AggregatedHMM
    >>> from skion.datasets import make_patch_clamp
    >>> X, y, groups, _ = make_patch_clamp(
    ...     100_000, kinetics="slow", n_channels=2, unitary_current=-1.5, offset=3.0,
    ...     noise=0.3, random_state=0,
    ... )
    >>> hmm = AggregatedHMM(baseline="constant").fit(X)  # no labels
    >>> hmm.n_channels_, round(hmm.unitary_current_, 1), round(hmm.noise_sd_, 1)
    (2, -1.5, 0.3)
    >>> float((hmm.predict(X) == y).mean()) > 0.99
    True
    """

    _parameter_constraints: dict = {
        "n_channels": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "n_closed": [Interval(Integral, 1, None, closed="left")],
        "n_open": [Interval(Integral, 1, None, closed="left")],
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
        "unitary_current": [Real, None],
        "current_sign": [StrOptions({"auto", "positive", "negative"})],
        "baseline": [StrOptions({"track", "constant"})],
        "baseline_window": [Interval(Real, 0, None, closed="neither")],
        "line_freq": [Interval(Real, 0, None, closed="neither"), None],
        "n_harmonics": [Interval(Integral, 1, None, closed="left")],
        "filter_cutoff": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
        "max_channels": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        n_channels="auto",
        n_closed=2,
        n_open=1,
        sampling_rate=10_000.0,
        unitary_current=None,
        current_sign="auto",
        baseline="track",
        baseline_window=0.2,
        line_freq=None,
        n_harmonics=3,
        filter_cutoff="auto",
        max_channels=10,
        max_iter=100,
        tol=1e-7,
        n_jobs=None,
        verbose=0,
    ):
        self.n_channels = n_channels
        self.n_closed = n_closed
        self.n_open = n_open
        self.sampling_rate = sampling_rate
        self.unitary_current = unitary_current
        self.current_sign = current_sign
        self.baseline = baseline
        self.baseline_window = baseline_window
        self.line_freq = line_freq
        self.n_harmonics = n_harmonics
        self.filter_cutoff = filter_cutoff
        self.max_channels = max_channels
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False  # EM needs no labels
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------ helpers
    def _window(self):
        if self.baseline == "constant":
            return None
        return max(round(self.baseline_window * self._model_rate()), 3)

    def _model_rate(self):
        """Samples per second of the series modelled: the recording's rate, divided by
        the decimation that makes the noise of a heavily filtered recording white."""
        return float(self.sampling_rate) / self._decimation

    def _baseline(self, residual, window=None):
        """Baseline of ``residual`` (``x - step E[count]``): its moving mean of ``window``
        rows (by default ``baseline_window``'s; ``None`` there: a constant) plus the hum."""
        return fit_baseline(
            residual,
            window=self._window() if window is None else window,
            line_freq=self.line_freq,
            n_harmonics=self.n_harmonics,
            sampling_rate=self._model_rate(),
        )

    def _coarse_drift(self, x):
        """Slow part of the raw current (zero mean), removed before calibration."""
        window = self._window()
        if window is None or 5 * window >= len(x):
            return np.zeros(len(x))
        slow = uniform_filter1d(x, 5 * window, mode="reflect")
        return slow - np.median(slow)

    def _split(self, X, groups):
        x = np.asarray(X[:, 0], dtype=np.float64)
        recordings = Recordings(len(x), groups)
        return [x[rows] for rows in recordings], recordings

    def _undo_filter(self, xs, cutoff):
        """Every recording's current with the amplifier's filter at ``cutoff`` undone."""
        if cutoff is None:
            return xs
        return [undo_filter(x, cutoff, self.sampling_rate) for x in xs]

    def _find_filter(self, xs):
        """``filter_cutoff_``: the given cut-off, or the one the longest recording shows."""
        if self.filter_cutoff != "auto":
            check_below_nyquist("filter_cutoff", self.filter_cutoff, self.sampling_rate)
            return self.filter_cutoff
        cutoff = estimate_filter_cutoff(max(xs, key=len), self.sampling_rate)
        return cutoff if cutoff is not None and cutoff < UNDO_BELOW * self.sampling_rate else None

    def _limit(self):
        """The largest channel count a fit may reach: ``n_channels`` where given."""
        return self.max_channels if self.n_channels == "auto" else int(self.n_channels)

    def _initial_rates(self, chain, xs, baselines, step):
        """Rates whose open probability and relaxation time match the data roughly."""
        occupancy = np.concatenate([(x - b) / step for x, b in zip(xs, baselines, strict=True)])
        p_open = float(np.clip(occupancy.mean() / chain.n_channels, 0.02, 0.98))
        x = occupancy[:100_000] - occupancy[:100_000].mean()
        tau = 20.0  # samples, when the autocorrelation says nothing; EM refines it
        if len(x) > 8:
            spectrum = np.fft.rfft(x, 2 * len(x))
            acf = np.fft.irfft(np.abs(spectrum) ** 2)[: min(2000, len(x) // 2)]
            below = np.flatnonzero(acf[1:] < acf[1] / np.e)
            if acf[1] > 0 and below.size:  # lag 1 onwards: free of the white noise
                tau = float(max(below[0] + 1, 2))
        fs = self._model_rate()
        k_open, k_close = p_open / tau * fs, (1 - p_open) / tau * fs
        n_states = chain.n_closed + chain.n_open
        rates = np.full(2 * (n_states - 1), k_open + k_close)
        gate = chain.n_closed - 1  # edge C_nc -> O1
        rates[gate] = k_open * chain.n_closed
        rates[(n_states - 1) + gate] = k_close * chain.n_open
        return rates

    # ----------------------------------------------------------------------- EM
    def _track_baselines(self, xs, means, step, window=None):
        """Baseline M-step: each recording's current minus its decoded channels (moving
        mean of ``window`` rows, by default ``baseline_window``'s)."""
        return [
            self._baseline(x - step * mean_k, window) for x, mean_k in zip(xs, means, strict=True)
        ]

    def _m_step(self, xs, posteriors, params):
        """Closed-form updates of baselines, unitary current and noise (the open-channel
        noise's by a 2-parameter search, from residuals about the E-step's baselines)."""
        new_baselines = self._track_baselines(xs, [p.mean for p in posteriors], params.step)
        if self.unitary_current is None:
            num = sum(
                (x - b) @ p.mean for x, b, p in zip(xs, new_baselines, posteriors, strict=True)
            )
            den = sum(p.second.sum() for p in posteriors)
            step = num / den if den > 0 else params.step
        else:  # its size: the sign is the orientation being fitted (both are tried)
            step = float(np.copysign(abs(self.unitary_current), params.step))
        if params.excess is not None:
            rows, squares = level_squares(posteriors, step)
            floor = _MIN_NOISE_RATIO * abs(step)
            noise, excess = fit_open_noise(
                rows, squares, step, floor, (params.noise, params.excess)
            )
            return new_baselines, replace(params, step=float(step), noise=noise, excess=excess)
        sq, n = 0.0, 0
        for x, b, p in zip(xs, new_baselines, posteriors, strict=True):
            r = x - b
            sq += r @ r - 2 * step * (r @ p.mean) + step * step * p.second.sum()
            n += len(x)
        noise = float(np.sqrt(max(sq / n, (_MIN_NOISE_RATIO * step) ** 2)))
        return new_baselines, replace(params, step=float(step), noise=noise)

    def _em(self, xs, baselines, params, labels, max_iter, tol, stage=None):
        """EM with over-relaxed rate steps.

        EM creeps along the ridge of the rates of hidden (same-conductance) states. Each
        iteration therefore moves the log-rates ``omega`` times the EM step, ``omega``
        chosen by ``_next_omega`` from how much the last step shrank the next. When the
        likelihood falls, the plain EM rates are restored (a monotone step), ``omega``
        restarts at 1 and is held to half the step that failed until an over-relaxed
        step succeeds: the secant sees only the rates, and where the current and the
        baselines move with them (10 channels at noise 0.5 step on a random walk) its
        jumps of 50-85 steps failed one after another, each costing an E-step (macro-F1
        0.727 after 100 iterations, where doubling omega reached 0.744 and the held
        secant 0.746).

        The baselines crawl too where the noise blurs the levels: each M-step moves
        them a small, steady part of the way (10 channels at 0.6, noise 0.5 step: 0.001
        step per iteration, 0.25 step from the optimum after 200). Where a recording's
        baseline moves along its last move by more than ``_CRAWL`` of it, the move is
        stretched by a line search on the likelihood (``_unstuck``).
        """
        n_total = sum(len(x) for x in xs)
        previous, converged, n_iter = -np.inf, False, 0
        omega, plain, last, limit = 1.0, None, None, _MAX_OMEGA
        noisy = params.excess is not None  # the M-step needs the residual's moments
        moves = None  # the baselines' last moves (``_unstuck``)
        for n_iter in range(1, max_iter + 1):
            posteriors, xi, loglik = _e_step(
                xs, baselines, params, labels, self.n_jobs, moments=noisy
            )
            if plain is not None and loglik / n_total < previous:
                limit = max(omega / 2, 1.0)
                params, omega, last = replace(params, rates=plain), 1.0, None
                posteriors, xi, loglik = _e_step(
                    xs, baselines, params, labels, self.n_jobs, moments=noisy
                )
            elif plain is not None:
                limit = _MAX_OMEGA
            per_sample = loglik / n_total
            if self.verbose and stage is not None:
                print(f"{stage} iteration {n_iter}: log-likelihood per sample {per_sample:.6f}")
            if per_sample - previous < tol:
                converged = True
                break
            previous = per_sample
            rates = params.chain.fit_rates(xi, params.rates, params.dt)
            move = np.log(rates) - np.log(params.rates)
            if last is not None:
                omega = min(_next_omega(*last, move), limit)
            plain = rates if omega > 1 else None
            last = (omega, move)
            # the over-relaxed step stays inside the M-step's bounds (beyond them the
            # transition matrix overflows); ``exp`` itself may overflow, so the log is
            # held just above the bound first
            low, high = rate_bounds(params.dt)
            log_rates = np.minimum(np.log(params.rates) + omega * move, np.log(high) + 1.0)
            rates = np.clip(np.exp(log_rates), low, high)
            tracked, params = self._m_step(xs, posteriors, params)
            params = replace(params, rates=rates)
            if labels is None:
                baselines, moves = self._unstuck(xs, baselines, tracked, moves, params)
            else:
                baselines = tracked
        return params, baselines, per_sample, n_iter, converged

    # ---------------------------------------------------------------- public API
    @_fit_context(prefer_skip_nested_validation=True)
    @one_blas_thread
    def fit(self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None):
        """Fit channels, kinetics, current and noise by EM, with or without labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Current (first column, pA) of one or more recordings, in time order.
        y : array-like of shape (n_samples,), default=None
            Open channels of every row, when known.
        groups : array-like of shape (n_samples,), default=None
            Recording of every row; ``None``: one recording.

        Returns
        -------
        self : AggregatedHMM
            The fitted estimator.
        """
        check_below_nyquist("line_freq", self.line_freq, self.sampling_rate)
        self._check_states(self.max_channels if self.n_channels == "auto" else self.n_channels)
        if y is None:
            X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
            check_signal_range(X)
        else:
            X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
            check_signal_range(X)
            y = self._check_labels(y)
        xs, recordings = self._split(X, groups)
        ys = None if y is None else [y[rows] for rows in recordings]
        if y is None:
            _refuse_constant(xs)
        cutoff = self._find_filter(xs)
        hum = None if self.line_freq is None else self.line_freq * self.n_harmonics
        self._decimation = decimation(cutoff, self.sampling_rate, hum)
        xs = self._undo_filter(xs, cutoff)
        if self._decimation > 1:  # the model runs on every k-th sample (phase 0)
            step = self._decimation
            xs = [x[::step] for x in xs]
            ys = None if ys is None else [labels[::step] for labels in ys]
        dt = 1.0 / self._model_rate()
        self._drift_kind = _MOVING_MEAN
        if y is not None:
            params, baselines, labels = self._supervised_start(xs, ys, dt)
        else:
            params, baselines = self._unsupervised_start(xs, dt)
            labels = None
        oriented = params
        params = self._warm_up(xs, baselines, params, labels)
        params, baselines, bound, n_iter, converged = self._em(
            xs, baselines, params, labels, self.max_iter, self.tol, stage="EM"
        )
        fitted = (params, baselines, bound, n_iter, converged)
        if labels is None:
            fitted = self._grow_above(xs, self._settle_levels(xs, fitted))
            fitted = self._raised(xs, self._grow_below(xs, self._reoriented(xs, fitted, oriented)))
            if fitted[0].chain.n_channels < self._limit() and self.n_channels != "auto":
                fitted = self._grow_below(xs, self._filled(xs, fitted))
        fitted = self._open_channel_noise(xs, fitted, labels)
        checks = self._model_checks(xs, fitted, labels)
        if labels is None:
            fitted, checks = self._trimmed(xs, fitted, checks)
        params, baselines, bound, n_iter, converged = fitted
        if labels is None:
            self._check_lattice(xs, baselines, params, bound)
        self._store(params, baselines, bound, n_iter, converged)
        self.filter_cutoff_ = cutoff
        self.slow_noise_ratio_, jumps, _ = checks
        seen, expected = jumps[JUMP_SIZES[0]]  # of two or more levels
        self.joint_jump_ratio_ = seen / expected if expected > 0 else float("nan")
        self.tracking_window_ = self.baseline_window
        if self.slow_noise_ratio_ > SLOW_NOISE_LIMIT:
            if self._window() is not None:
                self.tracking_window_ = self._tracking_window(xs, params)
            self._warn_slow_noise(params, labels)
        if labels is None:
            self._warn_joint_jumps(jumps)
            self._warn_at_cap(xs, baselines, params)
        return self

    def _warn_joint_jumps(self, jumps):
        """The ``AmbiguousFitWarning`` of a posterior that jumps by several levels at
        once far more often than the fitted channels make such jumps (``jumps``: each
        size's ``joint_jumps``; see ``excessive_size``)."""
        size = excessive_size(jumps)
        if size is None:
            return
        seen, expected = jumps[size]
        warnings.warn(
            f"The fitted channels jump by {size} or more levels at once {seen:.0f} times, "
            f"{seen / expected:.1f} times as often as {self.n_channels_} independent "
            "channels at their fitted rates would: the current moves by more than the "
            f"fitted unitary current ({self.unitary_current_:.3g}) at a time. Its levels "
            "may be closer than the channels' own (slow or correlated noise read as "
            "openings of smaller channels), or the channels do not open independently. "
            "Check the fit (plot it on the current); give n_channels or unitary_current "
            "where known.",
            AmbiguousFitWarning,
            stacklevel=2,
        )

    def _warn_at_cap(self, xs, baselines, params):
        """The ``AmbiguousFitWarning`` of a channel count at its cap (``max_channels``,
        or the given ``n_channels``) where a recording visits levels above it
        (``_grow_above`` stops at the cap)."""
        n_channels = params.chain.n_channels
        if n_channels < self._limit():
            return
        above = self._edge_level(xs, baselines, params, "above")
        if above <= n_channels:
            return
        cap = "max_channels" if self.n_channels == "auto" else "n_channels"
        warnings.warn(
            f"The recordings visit {above - n_channels} level(s) above the "
            f"{n_channels} channels {cap} = {n_channels} allows, decoded as "
            f"{n_channels} open. Fit again with a larger {cap}.",
            AmbiguousFitWarning,
            stacklevel=2,
        )

    def _model_checks(self, xs, fitted, labels):
        """``(ratio, jumps, entries)`` of a fit (``_em``'s tuple), from one more E-step:
        ``slow_noise_ratio`` of its residual (``x - baseline - step E[count]``), over
        blocks of ``SLOW_NOISE_BLOCK`` of the baseline window, and its posterior's
        ``transition_checks`` (joint jumps and entries into the edge counts).

        Under 1/f noise (sd 0.3 step) the tracked baseline follows the noise below
        about 5 Hz; between that and the channels' own frequencies it is read as
        transitions, silently: 5 bursting channels were fitted as 6, read upside down
        (the mirror won by 1,056 nats; macro-F1 0.060), and fast channels lost 3-20
        points on stretches read a count off. The ratio was 25-56 there, 0.3-2.1 on
        white noise with and without drift."""
        params, baselines = fitted[:2]
        posteriors, xi, _ = _e_step(xs, baselines, params, labels, self.n_jobs)
        residuals = [
            x - b - params.step * p.mean for x, b, p in zip(xs, baselines, posteriors, strict=True)
        ]
        ratio = slow_noise_ratio(residuals, self._slow_noise_block())
        return (ratio, *transition_checks(xi, params))

    def _slow_noise_block(self):
        return round(SLOW_NOISE_BLOCK * self.baseline_window * self._model_rate())

    def _warn_slow_noise(self, params, labels):
        """The ``CorrelatedNoiseWarning`` of a ``slow_noise_ratio_`` above the limit."""
        choices = (
            f"its choice of {params.chain.n_channels} channels and of the current's "
            "direction may be the readings that absorb the noise, and "
            if labels is None
            else ""
        )
        tracking = (
            f"predict tracks baselines over {1e3 * self.tracking_window_:.0f} ms in the "
            "end (tracking_window_, the window of least leave-one-out error). "
            if self.tracking_window_ < self.baseline_window
            else ""
        )
        warnings.warn(
            "The noise is not white: averaged over "
            f"{1e3 * self._slow_noise_block() / self._model_rate():.0f} ms, the fit's "
            f"residual varies {self.slow_noise_ratio_:.0f} times more than white noise "
            "would (1/f noise, or a drift faster than baseline_window = "
            f"{self.baseline_window:g} s follows). {tracking}The model assumes white "
            f"noise: {choices}stretches where the slow noise moves the current may be read "
            "a count off. Check the fit (plot it on the current); a U-Net trained on "
            "labelled recordings of this rig does not assume white noise.",
            CorrelatedNoiseWarning,
            stacklevel=2,
        )

    def _warm_up(self, xs, baselines, params, labels):
        """EM to convergence on the first ``_WARM_ROWS`` rows (``_heads``, shared between the
        recordings), so that the full data need only the last few iterations."""
        keep = self._heads(xs)
        if keep is None:
            return params
        params, _, _, _, _ = self._em(
            [x[:k] for x, k in zip(xs, keep, strict=True)],
            [b[:k] for b, k in zip(baselines, keep, strict=True)],
            params,
            None if labels is None else [lab[:k] for lab, k in zip(labels, keep, strict=True)],
            self.max_iter,
            self.tol,
            stage=f"EM on the first {sum(keep):,} rows,",
        )
        return params

    def _check_labels(self, y):
        check_classification_targets(y)
        y = np.asarray(y)
        if y.dtype == object:
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                pass
        if y.dtype.kind not in "iuf":
            raise ValueError(
                "y must hold open-channel counts (non-negative integers), got labels of "
                f"dtype {y.dtype}."
            )
        if np.any(y < 0) or np.any(y != np.round(y)):
            raise ValueError("y must hold open-channel counts (non-negative integers).")
        return y.astype(np.int64)

    def _check_states(self, n_channels):
        """Refuse a model whose aggregated states would make decoding impractical."""
        n_states = comb(n_channels + self.n_closed + self.n_open - 1, n_channels)
        if n_states > _MAX_STATES:
            raise ValueError(
                f"{n_channels} channels of {self.n_closed} closed and {self.n_open} open "
                f"state(s) make {n_states:,} aggregated states; decoding costs the square "
                f"of that per sample, so skion stops at {_MAX_STATES} (at 286 states it "
                "decodes 28,500 samples/s). Use fewer channels, or a scheme with fewer "
                "states (n_closed=1, n_open=1: one state per channel count)."
            )

    def _supervised_start(self, xs, labels, dt):
        top = max(int(k.max()) for k in labels)
        self._check_states(top if self.n_channels == "auto" else int(self.n_channels))
        n_channels = top if self.n_channels == "auto" else int(self.n_channels)
        if top > n_channels:
            raise ValueError(
                f"y holds {top} open channels but n_channels={self.n_channels}; raise "
                "n_channels or check the labels."
            )
        n_channels = max(n_channels, 1)
        if self.unitary_current is not None:
            step = float(self.unitary_current)
        else:
            centred = [(x - x.mean(), k - k.mean()) for x, k in zip(xs, labels, strict=True)]
            den = sum(k @ k for _, k in centred)
            if den <= 0:
                raise ValueError(
                    "y never changes within a recording (only one class, one open-channel "
                    "count, is present): the unitary current cannot be learned; give "
                    "unitary_current or labels with openings."
                )
            step = sum(x @ k for x, k in centred) / den
            if step == 0:
                raise ValueError("The current does not change with y: no unitary current.")
        baselines = [self._baseline(x - step * k) for x, k in zip(xs, labels, strict=True)]
        residual = np.concatenate(
            [x - b - step * k for x, b, k in zip(xs, baselines, labels, strict=True)]
        )
        noise = max(float(residual.std()), 1e-6 * abs(step))
        chain = AggregatedChain(n_channels, self.n_closed, self.n_open)
        rates = self._initial_rates(chain, xs, baselines, step)
        return _Params(chain, rates, float(step), noise, dt), baselines, labels

    def _store(self, params, baselines, bound, n_iter, converged):
        chain = params.chain
        self.n_channels_ = chain.n_channels
        self.classes_ = np.arange(chain.n_channels + 1)
        self.unitary_current_ = float(params.step)
        self.noise_sd_ = float(params.noise)
        self.open_channel_noise_sd_ = float(params.open_noise)
        self.rates_ = chain.rate_matrix(params.rates)
        self.open_states_ = chain.open_states
        self.closed_level_ = np.array([float(np.mean(b)) for b in baselines])
        single = stationary(self.rates_, floor=1e-300)
        self.open_probability_ = float(single[self.open_states_].sum())
        self.lower_bound_ = float(bound)
        self.n_iter_ = int(n_iter)
        self.converged_ = bool(converged)
        self._params = params

    def predict_proba(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Posterior over open-channel counts of every sample, given its recording.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Current (first column) of one or more recordings.
        groups : array-like of shape (n_samples,), default=None
            Recording of every row.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_channels_ + 1)
            ``P(n_open = k | recording)``; columns follow ``classes_``.
        """
        return self._decode(X, groups, kind="proba")[0]

    def predict(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Open channels of every sample (argmax of ``predict_proba``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Current (first column) of one or more recordings.
        groups : array-like of shape (n_samples,), default=None
            Recording of every row.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Open-channel counts.
        """
        codes, _ = self._decode(X, groups, kind="argmax")  # checks fitted before classes_
        return self.classes_[codes]

    def predict_baseline(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Estimated closed-channel current (drift and hum) of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Current (first column) of one or more recordings.
        groups : array-like of shape (n_samples,), default=None
            Recording of every row.

        Returns
        -------
        baseline : ndarray of shape (n_samples,)
            Baseline in the units of ``X``.
        """
        return self._decode(X, groups, kind="argmax")[1]

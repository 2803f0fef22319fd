"""AggregatedHMM: N identical channels of a small Markov scheme, fitted by EM without labels."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from math import comb
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import uniform_filter1d
from scipy.stats import binom
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._requests import RecordingRequestsMixin
from .._signal import check_signal_range
from .._strict import StrictParamsMixin
from .._threads import map_threads, one_blas_thread
from ..exceptions import AmbiguousFitWarning, CorrelatedNoiseWarning
from ..preprocessing._cleaning import check_below_nyquist
from ..preprocessing._lattice import lattice_baseline, lattice_coherence
from ..windowing import Recordings
from ._aggregated_chain import AggregatedChain, rate_bounds, stationary
from ._baseline import fit_baseline
from ._calibration import (
    CALIBRATION_ROWS,
    Lattice,
    calibrate_lattice,
    level_weights,
    noise_sd,
    refine_lattice,
)
from ._calibration import MIN_PEAK_MASS as MIN_LEVEL_MASS
from ._count_kernels import (
    block_log_likelihoods,
    chunked_forward_backward,
    count_emission,
    count_emission_of,
    forward_log_likelihood,
)
from ._filter import UNDO_BELOW, decimation, estimate_filter_cutoff, undo_filter
from ._jumps import jump_step
from ._open_noise import expected_loglik, fit_open_noise, level_squares
from ._slow_noise import slow_noise_ratio

__all__ = ["AggregatedHMM"]

#: Rows the longest recording needs for a calibration without labels.
_MIN_ROWS = 1_000
#: Most aggregated states a model may have: decoding costs their square per sample.
_MAX_STATES = 500
#: Rows per recording used to choose between starting points (orientation, step).
_SCREEN_ROWS = 200_000
_SCREEN_ITER = 6
#: Rows of the step search when the density shows no levels.
_SEARCH_ROWS = 50_000
#: Noise (in steps) up to which the mixture's level weights place the lattice; noisier
#: levels are placed by short EM fits.
_BINOMIAL_MAX_NOISE = 0.4
#: Levels beyond the visited ones that the choice of N and closed level may add.
_EXTRA_LEVELS = 3
#: Rows (evenly spaced) of the lattice mixture refinement.
_REFINE_ROWS = 100_000
#: Grid steps whose short EM runs ``_LONGER_ITER`` more iterations: after the first 6, 7 fast
#: channels (noise 0.38 step, a random walk; random cell 3019) ranked the right step fourth,
#: and first by 760 nats after 26 (with 3 refined: 10 channels of 0.73 the step, macro-F1
#: 0.073; with 6: 0.919).
_REFINE_CANDIDATES = 6
#: Channels beyond the spanned levels that every grid step of the search also tries (a
#: high open probability never visits the all-closed level).
_UNSEEN_LEVELS = 2
#: Binomial placements (N, closed level) that short EM fits then choose between.
_PLACEMENTS = 3
_LONGER_ITER = 20
#: A lattice whose noise exceeds this many steps is no lattice.
_MAX_NOISE_RATIO = 1.0
#: A fitted noise this many times the sample-to-sample noise means no lattice.
_MAX_NOISE_EXCESS = 8.0
#: A baseline moving over more unitary steps than this means no lattice.
_MAX_BASELINE_STEPS = 50.0
#: The noise sd may not collapse below this fraction of the step (a degenerate fit).
_MIN_NOISE_RATIO = 1e-3
#: Phase blocks per baseline window of the drift candidate that follows the lattice.
_PHASE_BLOCK_FRACTION = 4
#: Noise (in steps) to which the current is averaged down before its lattice phase is
#: measured.
_PHASE_MAX_NOISE = 0.2
#: The calibration's drift candidates, in order: none, a cubic trend, a moving mean, and
#: the drift that keeps the current on the lattice of its jumps' step.
_NO_DRIFT, _CUBIC, _MOVING_MEAN, _LATTICE_DRIFT = range(4)
#: Coherence (times the phase block's rows) below which the lattice's phase is noise:
#: ``1`` for no lattice; 15-250 measured on 16 random recordings of 1-8 channels, whose
#: lattice drifts then came within 0.03 step of the truth.
_MIN_COHERENCE = 8.0
#: Steps scanned for the lattice's phase where the density shows no peaks.
_COHERENCE_STEPS = 60
#: The coherent step must be this many times more coherent than the least coherent step
#: between it and twice it.
_COHERENCE_CONTRAST = 4.0
#: Rows of the warm-up EM that precedes EM on long data.
_WARM_ROWS = 250_000
#: Log-likelihood (nats) under which the two readings of the current's sign are a close
#: call: measured on 40 random cells of 1-8 channels (40,000-150,000 rows), the sign was
#: settled by 89-358 nats on fast kinetics and by 17-48 on slow ones (few transitions),
#: where the wrong reading once won by 20 (8 slow channels on 42,724 rows).
_SIGN_MARGIN = 30.0
#: Rows on which the mirror is first fitted, on data at least twice as long.
_MIRROR_ROWS = 50_000
#: Expected log-likelihood (nats) the open-channel noise must gain on the white fit's
#: posteriors before EM is run with it.
_OPEN_NOISE_GAIN = 10.0
#: Blocks (a fraction of ``baseline_window``) over which the fit's residual is averaged
#: to measure the slow noise left in it, and the ratio to white noise's variance above
#: which the fit warns: 0.3-2.1 measured on 40 random cells of white noise (drift, hum,
#: 1-8 channels) and 0.4-1.3 on filtered recordings (the filter undone) where the fit
#: holds, 25-56 under 1/f noise of 0.3 step.
_SLOW_NOISE_BLOCK = 0.25
_SLOW_NOISE_LIMIT = 5.0
#: Largest over-relaxation of the EM step of the log-rates.
_MAX_OMEGA = 256.0
#: Rows used to place a new recording's levels.
_SHIFT_ROWS = 50_000
#: Bins per noise sd of the sample whose lattice shift is searched.
_SHIFT_BINS_PER_SD = 40
#: Relative difference between a given unitary current and the step the peaks show
#: beyond which the peaks are not used.
_HINT_TOLERANCE = 0.15
#: Baseline-only EM rounds when predicting a new recording: at most this many, fewer
#: once a round moves the baseline by less than ``_TRACK_TOL`` unitary steps (rms).
_PREDICT_ROUNDS = 4
_TRACK_TOL = 1e-3
#: A tracking round that moves the baseline along the last move by more than this
#: fraction of it is stretched by a line search (EM crawling; see ``_track``).
_CRAWL = 0.5
#: Whole unitary steps (either way) by which the level check may move a block's baseline.
_MAX_LEVEL_SHIFT = 2
#: Baseline windows per block of the level check.
_SHIFT_BLOCK_WINDOWS = 2
#: Log-likelihood a block must gain to have its baseline moved by whole steps.
_MIN_SHIFT_GAIN = 3.0
#: Level checks (each followed by EM, or by baseline tracking when predicting).
_SHIFT_ROUNDS = 3
#: Rows per chunk of the level check's emission table.
_SHIFT_CHUNK_BLOCKS = 50
#: The current's sign is chosen again on the final lattice when the channel count, or
#: the step by more than this fraction, changed after the sign was chosen.
_REORIENT_CHANGE = 0.1
#: At the largest channel count (the given ``n_channels``, or ``max_channels``), a
#: baseline one step lower is tried where the fit's all-closed level is rarer than this
#: (and its top level holds no samples), whatever its open probability.
_RARE_CLOSED = 0.01


@dataclass(frozen=True)
class _Params:
    """Everything the E-step needs, shared by all recordings."""

    chain: AggregatedChain
    rates: np.ndarray  # edge rates, s^-1
    step: float
    noise: float  # sd with every channel closed
    dt: float
    #: Open-channel noise: each open channel adds its square to the variance; ``None``
    #: where the noise is white (the same at every level, nothing fitted).
    excess: float | None = None

    @property
    def open_noise(self):
        """``excess`` as a number (0 for white noise)."""
        return 0.0 if self.excess is None else self.excess

    def sd(self, counts):
        """Noise sd at every count of ``counts``."""
        return np.sqrt(self.noise**2 + np.asarray(counts) * self.open_noise**2)


@dataclass(frozen=True)
class _Posterior:
    """What EM keeps of one recording's count posterior."""

    mean: np.ndarray  # E[count] of every row
    second: np.ndarray  # E[count ** 2] of every row
    occupancy: np.ndarray  # expected rows at every count
    #: sums of (x - baseline) and its square over the rows, per count (the noise's
    #: M-step under open-channel noise); None where not asked for
    moments: np.ndarray | None


def _e_step(xs, baselines, params, labels=None, n_jobs=None, outs=None, *, moments=False):
    """Count posteriors per recording (``_Posterior``, with the residual's per-count
    ``moments`` when asked), expected transitions and the log-likelihood.

    Emissions are made a chunk of rows at a time (``chunked_forward_backward``), so
    that no array of rows by counts exists beyond ``outs``: per recording, an array of
    shape (n_rows, n_counts) that receives the posterior or of shape (n_rows,) that
    receives its argmax. Recordings run on up to ``n_jobs`` threads; every recording's
    transitions are counted apart and summed in order, so the result does not depend on
    ``n_jobs``.
    """
    chain = params.chain
    A = chain.transition(params.rates, params.dt)
    initial = chain.initial(params.rates)
    n_counts = chain.n_channels + 1
    k = np.arange(n_counts, dtype=np.float64)

    def one(i):
        x = xs[i]
        given = None if labels is None else labels[i]
        out = None if outs is None else outs[i]
        baseline = np.broadcast_to(baselines[i], x.shape)
        posterior = _Posterior(
            np.empty(len(x)),
            np.empty(len(x)),
            np.zeros(n_counts),
            np.zeros((2, n_counts)) if moments else None,
        )
        emission_of = count_emission_of(
            x, baselines[i], params.step, params.noise, n_counts, given, params.open_noise
        )

        def consume(start, stop, gamma):
            posterior.mean[start:stop] = gamma @ k
            posterior.second[start:stop] = gamma @ (k * k)
            posterior.occupancy[:] += gamma.sum(axis=0)
            if moments:
                r = x[start:stop] - baseline[start:stop]
                posterior.moments[0] += r @ gamma
                posterior.moments[1] += (r * r) @ gamma
            if out is not None:
                out[start:stop] = gamma if out.ndim == 2 else gamma.argmax(axis=1)

        xi, loglik = chunked_forward_backward(emission_of, len(x), chain.level, A, initial, consume)
        return posterior, xi, loglik

    xi = np.zeros(A.shape)
    posteriors, loglik = [], 0.0
    for posterior, counted, part in map_threads(one, range(len(xs)), n_jobs):
        posteriors.append(posterior)
        xi += counted
        loglik += part
    return posteriors, xi, loglik


def _shifted_emissions(x, baseline, params, shifts):
    """Count emissions of ``x`` with its baseline moved by every number of steps of
    ``shifts``, each row scaled by one number for all of them (so that their forward
    passes compare); with open-channel noise, made one shift at a time."""
    n_counts = params.chain.n_channels + 1
    if params.excess is None:  # one table of counts shifts[0]..N + shifts[-1]
        em, _ = count_emission(
            x,
            baseline + shifts[0] * params.step,
            params.step,
            params.noise,
            n_counts + shifts[-1] - shifts[0],
        )
        return [em[:, i : i + n_counts] for i in range(len(shifts))]
    variance = params.sd(np.arange(n_counts)) ** 2
    levels = params.step * np.arange(n_counts)

    def log_emission(shift):
        r = (x - baseline - shift * params.step)[:, None] - levels
        return -0.5 * (r * r / variance + np.log(variance))

    top = np.max([log_emission(shift).max(axis=1) for shift in shifts], axis=0)
    return (np.exp(log_emission(shift) - top[:, None]) for shift in shifts)


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


def _continued(fitted, refit):
    """``_em``'s tuple of ``refit``, counting the iterations of ``fitted`` before it."""
    return (*refit[:3], fitted[3] + refit[3], refit[4])


def _refuse_constant(xs):
    """A recording whose current never changes has no levels to find without labels."""
    for index, x in enumerate(xs):
        if x.min() == x.max():
            raise ValueError(
                f"recording {index} is constant ({x[0]:g} on all {len(x)} rows): it has no "
                "current levels to find."
            )


class AggregatedHMM(StrictParamsMixin, RecordingRequestsMixin, ClassifierMixin, BaseEstimator):
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
    (``open_channel_noise_sd_ = 0``). With ``y``
    (open channels), the counts are known and EM estimates only the hidden kinetics.

    ``predict_proba`` is the posterior over open-channel counts of each sample given its
    whole recording, with the recording's own baseline re-estimated (a new recording
    may sit at another offset or drift); ``predict`` is its argmax.

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
        Largest ``N`` that ``"auto"`` may choose.
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

    def _baseline(self, residual):
        return fit_baseline(
            residual,
            window=self._window(),
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

    # ------------------------------------------------------------ initialisation
    def _calibrate(self, x):
        """Step, noise and visited levels of one recording, with its coarse drift and
        that drift's kind (``_NO_DRIFT``, ``_CUBIC``, ``_MOVING_MEAN``, ``_LATTICE_DRIFT``).

        Up to four coarse drifts are tried: none, a cubic trend in time, a moving mean
        (which also follows slow gating), and the drift that keeps the current on the
        lattice of the step its jumps show (where the jumps are resolved: slow gating,
        whose dwells the moving mean follows). The lattice that shows at the least smoothing
        wins, and among those the one that explains the single samples best (lattice
        mixture log-likelihood per sample, less half a log of the sample size per
        level): a drift of a few steps can fake a lattice of another spacing after
        smoothing (1.55 pA found for 1.23 pA in a competition ramp at smoothing 8; 1.23
        pA at smoothing 1 once the cubic is removed), and a moving mean that follows
        slow gating fakes a finer lattice (0.60 for 1.0 pA at smoothing 8, where the raw
        current shows 1.0 at smoothing 1). Likelihoods alone would prefer the moving
        mean, which always narrows the density.
        """
        drifts = self._drift_candidates(x)
        found = self._sharpest(x, drifts)
        if found is not None:
            return found
        # no peaks: the current less the lattice's drift at the step its phase shows, if
        # any; else the step search on the current less its moving mean, and if that
        # fails (the moving mean blurred a sine drift into 12 levels for 10 channels)
        # less the cubic
        step = self._coherent_step(x)
        drift = None if step is None else self._lattice_drift(x, step, noise_sd(x))
        lattice = None if drift is None else self._hinted(calibrate_lattice(x - drift))
        if lattice is not None:
            return lattice, drift, _LATTICE_DRIFT
        try:
            drift, kind = drifts[_MOVING_MEAN], _MOVING_MEAN
            return self._search_lattice(x - drift)[0], drift, kind
        except ValueError:
            drift, kind = drifts[_CUBIC], _CUBIC
            return self._search_lattice(x - drift)[0], drift, kind

    def _sharpest(self, x, drifts):
        """``(lattice, drift, index)`` of the drift after which the lattice shows at the
        least smoothing, and among those the best lattice score; ``None`` if none shows."""
        found = []
        for i, drift in enumerate(drifts):
            lattice = self._hinted(calibrate_lattice(x - drift))
            if lattice is not None:
                key = (lattice.smoothing, -self._lattice_score(x - drift, lattice))
                found.append((key, i, lattice))
        if not found:
            return None
        _, i, lattice = min(found, key=lambda candidate: candidate[0])
        return lattice, drifts[i], i

    def _hinted(self, lattice):
        """A lattice the density's peaks show, with the given ``unitary_current``'s size
        as its step; ``None`` if the peaks are more than ``_HINT_TOLERANCE`` off it (the
        step search then starts from the hint alone). A given step thus still lets the
        peaks place the levels, as they do without it."""
        if lattice is None or self.unitary_current is None:
            return lattice
        step = abs(float(self.unitary_current))
        if abs(lattice.step / step - 1) > _HINT_TOLERANCE:
            return None
        n_levels = round((lattice.n_levels - 1) * lattice.step / step) + 1
        return replace(lattice, step=step, n_levels=n_levels)

    @staticmethod
    def _lattice_score(x, lattice):
        """Lattice mixture log-likelihood per sample of ``x`` (single samples), less a
        BIC penalty per level."""
        head = x[:CALIBRATION_ROWS]
        sample = head[:: max(len(head) // _REFINE_ROWS, 1)]
        *_, loglik = refine_lattice(
            sample, lattice.offset, lattice.step, lattice.n_levels, noise_sd(head), max_iter=20
        )
        return loglik - 0.5 * np.log(len(sample)) * lattice.n_levels / len(sample)

    @staticmethod
    def _cubic_drift(x):
        """Cubic trend of ``x`` in time (zero median)."""
        if len(x) <= 3:
            return np.zeros(len(x))
        t = np.linspace(-1.0, 1.0, len(x))
        cubic = np.polynomial.Polynomial.fit(t, x, deg=3)(t)
        return cubic - np.median(cubic)

    def _drift_candidates(self, x, step=None, sd=None):
        """No drift, the cubic trend of ``x`` in time, its moving mean, and the drift
        that keeps the current on the lattice of ``step`` (noise ``sd``), by default the
        step its jumps show (zero median; the last is left out where it is unknown)."""
        candidates = [np.zeros(len(x)), self._cubic_drift(x), self._coarse_drift(x)]
        if step is None:
            sd = noise_sd(x)
            step = jump_step(x[:CALIBRATION_ROWS], sd)
        drift = None if step is None else self._lattice_drift(x, step, sd)
        return candidates if drift is None else [*candidates, drift]

    def _lattice_drift(self, x, step, sd):
        """Drift (zero median) that keeps ``x`` on a lattice of spacing ``step`` (see
        ``lattice_baseline``), from the current averaged down to ``_PHASE_MAX_NOISE``
        step of noise (the lattice's phase fades as ``exp(-2 pi^2 sd^2 / step^2)``, and
        dwells long enough to show jumps stay on their levels). Unlike a moving mean it
        does not follow the channels' gating, however slow. ``None`` without a tracked
        baseline, or where the phase is too weak to be measured (coherence below
        ``_MIN_COHERENCE`` blocks' worth of noise)."""
        window = self._window()
        if window is None:
            return None
        z, block = self._phase_view(x, step, sd, window)
        if lattice_coherence(z, step, block) * block < _MIN_COHERENCE:
            return None
        drift = lattice_baseline(
            z,
            step=step,
            reference=float(np.median(x[:window])),
            block=block,
            line_freq=self.line_freq,
            sampling_rate=self._model_rate(),
        )
        return drift - np.median(drift)

    @staticmethod
    def _phase_view(x, step, sd, window):
        """``x`` averaged down to ``_PHASE_MAX_NOISE`` step of noise (at most a phase
        block), and the phase block's rows, for a baseline ``window``."""
        most = max(window // _PHASE_BLOCK_FRACTION, 1)
        smoothing = int(np.clip(np.ceil((sd / (_PHASE_MAX_NOISE * step)) ** 2), 1, most))
        z = uniform_filter1d(x, smoothing, mode="nearest") if smoothing > 1 else x
        return z, max(most, 2)

    def _coherent_step(self, x):
        """The step on whose lattice the current's phase is most coherent over phase
        blocks, found without peaks in the density; ``None`` where none stands out.

        A drift of several steps that no coarse drift follows blurs every level, but it
        barely moves the lattice's phase within a block: 7 bursting channels (noise 0.18
        step) on a random walk of 2.9 steps, whose density showed no peaks after any
        coarse drift, gave a coherence (times the block's rows) of 93 at 1.77 pA for a
        1.76 pA step, 1-6 elsewhere. Steps from the noise sd to two thirds of the spread
        left by the moving mean are scanned; the best must be a local maximum above
        ``_MIN_COHERENCE`` at least ``_COHERENCE_CONTRAST`` times the least coherence
        between it and twice it (at twice the step the even and odd counts cancel, and
        a step beyond the current's spread is coherent whatever the lattice).
        """
        window = self._window()
        if window is None:
            return None
        x = x[:CALIBRATION_ROWS]
        sd = noise_sd(x)
        low, high = np.quantile(x - self._coarse_drift(x), [0.001, 0.999])
        if not (sd > 0 and high - low > 1.5 * sd):
            return None
        steps = np.geomspace(sd, (high - low) / 1.5, _COHERENCE_STEPS)
        coherence = []
        for step in steps:
            z, block = self._phase_view(x, step, sd, window)
            coherence.append(lattice_coherence(z, step, block) * block)
        coherence = np.array(coherence)
        peaks = [
            i
            for i in range(1, len(steps) - 1)
            if coherence[i] >= max(coherence[i - 1], coherence[i + 1], _MIN_COHERENCE)
            and 2 * steps[i] <= steps[-1]
        ]
        if not peaks:
            return None
        best = max(peaks, key=lambda i: coherence[i])
        beyond = coherence[(steps > steps[best]) & (steps <= 2 * steps[best])]
        if coherence[best] < _COHERENCE_CONTRAST * beyond.min():
            return None
        return float(steps[best])

    def _short_em(self, x, baseline, chain, step, noise, dt, n_iter, *, track=False):
        """A few EM iterations on one recording from a constant baseline.

        Without ``track`` the baseline stays one constant: the search runs on the current
        with its coarse drift removed, and a tracked baseline would absorb the slow part
        of the channels' own fluctuations, biasing the step.
        """
        baselines = [np.broadcast_to(baseline, x.shape).astype(np.float64)]
        rates = self._initial_rates(chain, [x], baselines, step)
        params = _Params(chain, rates, float(step), float(noise), dt)
        runner = self
        if not track:
            runner = clone(self).set_params(baseline="constant")
            runner._decimation = self._decimation
        return runner._em([x], baselines, params, None, n_iter, 0.0)

    def _short_ems(self, x, starts, noise, dt, *, skip_failed=True, track=False):
        """``_short_em`` from every ``(chain, step, baseline, n_iter)`` start, in order, on
        ``n_jobs`` threads; ``None`` for a start whose fit failed if ``skip_failed``."""

        def one(start):
            chain, step, baseline, n_iter = start
            try:
                return self._short_em(x, baseline, chain, step, noise, dt, n_iter, track=track)
            except ValueError:
                if skip_failed:
                    return None
                raise

        return list(map_threads(one, starts, self.n_jobs))

    def _search_lattice(self, x):
        """Levels of a recording whose density shows no peaks: the step that a short EM of
        a two-state channel model explains best, over a grid of steps from the current's
        range down to half of it per channel allowed (``n_channels`` where given, else
        ``max_channels``): a given count bounds the search (with ``max_channels`` alone,
        6 channels given were refused as "8 current levels" by a step a quarter short)."""
        x = x[:_SEARCH_ROWS]
        sigma = noise_sd(x)
        low, high = np.quantile(x, [0.001, 0.999])
        spread = high - low
        if not spread > 0:
            raise ValueError("The recording is constant: there is nothing to idealize.")
        if self.unitary_current is not None:
            steps = np.array([abs(float(self.unitary_current))])
        else:
            steps = np.geomspace(max(spread / (2 * self._limit()), sigma), spread, 12)
        dt = 1.0 / self._model_rate()
        starts = []
        for step in steps:
            spanned = int(np.clip(round((spread - 4 * sigma) / step), 1, self._limit()))
            for n_channels in sorted({spanned, min(spanned + _UNSEEN_LEVELS, self._limit())}):
                starts.append((AggregatedChain(n_channels, 1, 1), step, low + 2 * sigma, 6))
        # a start that degenerated (an impossible sample) is skipped
        fits = [fit for fit in self._short_ems(x, starts, sigma, dt) if fit is not None]
        if not fits:
            raise ValueError(
                "No lattice of equally spaced current levels could be fitted to the "
                "recording: check that it holds channel openings."
            )
        # the best few starts run longer; the winner's step, still rough (the two-state
        # model is not the channel's), is then refined by the lattice mixture
        fits.sort(key=lambda fitted: -fitted[2])

        def longer(fitted):
            try:
                return self._em([x], fitted[1], fitted[0], None, _LONGER_ITER, 0.0)
            except ValueError:
                return None

        best = None
        for refit in map_threads(longer, fits[:_REFINE_CANDIDATES], self.n_jobs):
            if refit is not None and (best is None or refit[2] > best[2]):
                best = refit
        if best is None:
            best = fits[0]
        params, (baseline,), bound, _, _ = best
        occupancy = _e_step([x], [baseline], params)[0][0].occupancy
        used = np.flatnonzero(occupancy >= max(MIN_LEVEL_MASS, 1e-4 * len(x)))
        level = float(np.mean(baseline))
        lowest = level + params.step * (used.min() if params.step > 0 else used.max())
        best = (lowest, abs(params.step), int(np.ptp(used)) + 1, params.noise, bound)
        refined = refine_lattice(
            x[:: max(len(x) // _REFINE_ROWS, 1)], lowest, best[1], best[2], params.noise
        )
        if refined[2] >= 2:  # keep the refinement only if the time-aware model agrees
            chain = AggregatedChain(min(refined[2] - 1, self.max_channels), 1, 1)
            try:
                check = self._short_em(
                    x, refined[0], chain, refined[1], refined[3], dt, 6 + _LONGER_ITER
                )
            except ValueError:
                check = None
            if check is not None and check[2] > bound:
                best = (*refined[:4], check[2])
        offset, step, n_levels, sd, _ = best
        if sd / step > _MAX_NOISE_RATIO:
            raise ValueError(
                "No lattice of equally spaced current levels was found: either no channel "
                "opens (a flat recording), or the noise hides the levels (best fit: noise "
                f"{sd / step:.2f} times the step). Give unitary_current (pA) if it is known, "
                "or check that the recording holds channel openings."
            )
        if n_levels < 2:
            raise ValueError(
                "Only one current level was found: no channel opens in this recording (a "
                "flat recording), so neither the unitary current nor the kinetics can be "
                "estimated. Give unitary_current and n_channels, or idealize a recording "
                "with openings."
            )
        self._channel_counts(n_levels - 1)  # too many levels: an error here, not later
        return Lattice(offset, step, n_levels, sd, 1), best[4]

    def _limit(self):
        """The largest channel count a fit may reach: ``n_channels`` where given."""
        return self.max_channels if self.n_channels == "auto" else int(self.n_channels)

    def _channel_counts(self, visited):
        """Candidate N for ``visited + 1`` visited levels (an error if there are too many).

        A given ``n_channels`` is a cap here, and filled after EM (``_filled``): a start
        at the given count must place the visited levels in ``0..N`` from their weights
        alone, and at a high open probability those place them as well one or two
        steps up, or upside down (10 channels given at an open probability of 0.6 on
        20,000 rows: 5 of 8 draws, macro-F1 0.000-0.099), where a start at the levels
        seen grows to the right placement by the kinetics (8 of 8).
        """
        limit = self._limit()
        if visited > limit:
            raise ValueError(
                f"The recording shows {visited + 1} current levels, more than "
                f"n_channels + 1 = {limit + 1}: raise n_channels (or max_channels), or "
                "check for a second kind of channel or sub-conductance levels."
            )
        return range(max(visited, 1), min(visited + _EXTRA_LEVELS, limit) + 1)

    def _placements(self, visited):
        """Every placement ``(n_channels, below)`` of ``visited + 1`` visited levels in
        ``0..N``, ``below`` of them never visited under the lowest."""
        return [
            (n_channels, below)
            for n_channels in self._channel_counts(visited)
            for below in range(0, min(n_channels - visited, _EXTRA_LEVELS) + 1)
        ]

    def _structure_by_em(self, x, lattice, dt, placements):
        """The placement ``(n_channels, closed)`` that short EM fits of a two-state
        channel model prefer, with the fit's ``(closed, step, noise)``."""
        x = x[:_SEARCH_ROWS]
        best, penalty = None, 0.5 * np.log(len(x))
        starts = [(AggregatedChain(n, 1, 1), lattice.step, closed, 8) for n, closed in placements]
        fits = self._short_ems(x, starts, lattice.noise_sd, dt, skip_failed=False)
        for placement, (params, (baseline,), bound, _, _) in zip(placements, fits, strict=True):
            score = bound * len(x) - penalty * placement[0]
            if best is None or score > best[0]:
                best = (score, placement, (float(np.mean(baseline)), params.step, params.noise))
        return best[1:]

    def _structure(self, x, lattice):
        """The likeliest placements ``(n_channels, closed)`` of the levels by the time
        spent at every level, best first.

        Independent identical channels spend a Binomial(N, Po) fraction of the time with
        ``k`` open, whatever their scheme, so the visited levels' weights say which
        placement in ``0..N`` they have: with a high open probability the all-closed
        level is never visited (10 channels at Po 0.6 spend 0.008 % of the time there),
        and the binomial shape of the others places it. Every placement with up to
        three never-visited levels is scored by the weights' binomial log-likelihood at
        the fitted Po; ties go to the smaller N. The shape alone is a weak guide for
        many channels (it chose 9 channels for 10 at Po 0.6 on a drifting recording of
        300,000 rows, where short EM fits choose 10), so the best ``_PLACEMENTS`` are
        returned for the time-aware fits of ``_structure_by_em`` to choose from, with the
        lattice's own levels (none hidden) added when they are not among them.
        """
        sample = x[:: max(len(x) // _REFINE_ROWS, 1)]
        first, weights = level_weights(
            sample, lattice.offset, lattice.step, lattice.n_levels, lattice.noise_sd
        )
        visited = len(weights) - 1
        scored = []
        for n_channels, below in self._placements(visited):
            k = np.arange(len(weights)) + below
            p_open = float(np.clip(weights @ k / n_channels, 1e-9, 1 - 1e-9))
            score = float(weights @ binom.logpmf(k, n_channels, p_open))
            closed = lattice.offset + (first - below) * lattice.step
            scored.append((-score, n_channels, closed))
        scored.sort(key=lambda placement: placement[:2])
        best = [(n_channels, closed) for _, n_channels, closed in scored[:_PLACEMENTS]]
        # the peaks' levels, none hidden, always compete: the tails of a drift left in
        # the weights (a level below the lowest peak with 0.05 % of the time) ranked
        # them fourth for 3 channels at Po 0.6, and 4 channels, one never open, won
        as_seen = (max(lattice.n_levels - 1, 1), lattice.offset)
        return best if as_seen in best else [*best, as_seen]

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
    def _track_baselines(self, xs, means, step):
        """Baseline M-step: each recording's current minus its decoded channels."""
        return [self._baseline(x - step * mean_k) for x, mean_k in zip(xs, means, strict=True)]

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
        params, baselines, bound, n_iter, converged = self._open_channel_noise(xs, fitted, labels)
        if labels is None:
            self._check_lattice(xs, baselines, params, bound)
        self._store(params, baselines, bound, n_iter, converged)
        self.filter_cutoff_ = cutoff
        self.slow_noise_ratio_ = self._slow_noise(xs, baselines, params, labels)
        return self

    def _slow_noise(self, xs, baselines, params, labels):
        """``slow_noise_ratio`` of the fit's residual (``x - baseline - step E[count]``),
        over blocks of ``_SLOW_NOISE_BLOCK`` of the baseline window, with a
        ``CorrelatedNoiseWarning`` above ``_SLOW_NOISE_LIMIT``.

        Under 1/f noise (sd 0.3 step) the tracked baseline follows the noise below
        about 5 Hz; between that and the channels' own frequencies it is read as
        transitions, silently: 5 bursting channels were fitted as 6, read upside down
        (the mirror won by 1,056 nats; macro-F1 0.060), and fast channels lost 3-20
        points on stretches read a count off. The ratio was 25-56 there, 0.3-2.1 on
        white noise with and without drift."""
        posteriors = _e_step(xs, baselines, params, labels, self.n_jobs)[0]
        residuals = [
            x - b - params.step * p.mean for x, b, p in zip(xs, baselines, posteriors, strict=True)
        ]
        block = round(_SLOW_NOISE_BLOCK * self.baseline_window * self._model_rate())
        ratio = slow_noise_ratio(residuals, block)
        if ratio > _SLOW_NOISE_LIMIT:
            choices = (
                f"its choice of {params.chain.n_channels} channels and of the current's "
                "direction may be the readings that absorb the noise, and "
                if labels is None
                else ""
            )
            warnings.warn(
                "The noise is not white: averaged over "
                f"{1e3 * block / self._model_rate():.0f} ms, the fit's residual varies "
                f"{ratio:.0f} times more than white noise would (1/f noise, or a drift "
                f"faster than baseline_window = {self.baseline_window:g} s follows). "
                f"The model assumes white noise: {choices}stretches where the slow noise "
                "moves the current may be read a count off. Check the fit (plot it on "
                "the current); a U-Net trained on labelled recordings of this rig does "
                "not assume white noise.",
                CorrelatedNoiseWarning,
                stacklevel=2,
            )
        return ratio

    def _shift_levels(self, xs, baselines, params):
        """Baselines with every block moved by the whole number of unitary steps that its
        likelihood prefers, and whether any block moved.

        The baseline's M-step is a smoothing of the residual, so EM cannot leave a fit
        where part of a recording is decoded a whole level off: one more channel open
        and the baseline one step lower explain every sample equally well, only the
        kinetics and the occupancy of the counts tell them apart, and every path between
        the two passes through baselines half a step off that explain nothing. Measured
        on 10 channels at an open probability of 0.6 (noise 0.3 step, a ramp drift):
        the tracked baseline slid by one and then two steps over the second half of a
        recording (macro-F1 0.50, oracle 0.94). Each block of ``_SHIFT_BLOCK_WINDOWS``
        baseline windows is scored by a forward pass from the stationary distribution
        with its baseline moved by ``-2..2`` steps; a move is kept where it gains more
        than ``_MIN_SHIFT_GAIN`` (on that recording the right moves gained 5-180 per
        4,000 rows and wrong ones lost 10 or more).
        """
        chain = params.chain
        A = chain.transition(params.rates, params.dt)
        initial = chain.initial(params.rates)
        shifts = np.arange(-_MAX_LEVEL_SHIFT, _MAX_LEVEL_SHIFT + 1)
        window = self._window()

        def one(recording):
            x, baseline = recording
            block = len(x) if window is None else _SHIFT_BLOCK_WINDOWS * window
            chunk = block * _SHIFT_CHUNK_BLOCKS
            scores = []
            for start in range(0, len(x), chunk):
                rows = slice(start, start + chunk)
                scores.append(
                    [
                        block_log_likelihoods(em, chain.level, A, initial, block)
                        for em in _shifted_emissions(x[rows], baseline[rows], params, shifts)
                    ]
                )
            scores = np.concatenate(scores, axis=1)
            best = scores.argmax(axis=0)
            gain = scores[best, np.arange(scores.shape[1])] - scores[_MAX_LEVEL_SHIFT]
            move = np.where(gain > _MIN_SHIFT_GAIN, shifts[best], 0)
            if not move.any():
                return baseline, False
            return baseline + params.step * np.repeat(move, block)[: len(x)], True

        results = list(map_threads(one, zip(xs, baselines, strict=True), self.n_jobs))
        return [baseline for baseline, _ in results], any(moved for _, moved in results)

    def _settle_levels(self, xs, fitted):
        """EM again from baselines moved by whole levels (``_shift_levels``) while that
        raises the likelihood; ``fitted`` and the result are ``_em``'s tuples."""
        for _ in range(_SHIFT_ROUNDS):
            shifted, moved = self._shift_levels(xs, fitted[1], fitted[0])
            if not moved:
                break
            refit = self._em(
                xs, shifted, fitted[0], None, self.max_iter, self.tol, stage="EM, levels moved,"
            )
            if refit[2] <= fitted[2]:
                break
            fitted = _continued(fitted, refit)
        return fitted

    def _edge_level(self, xs, baselines, params, side):
        """The lowest (``side="below"``) or highest (``"above"``) count that holds at
        least ``MIN_LEVEL_MASS`` samples (by a mixture fit of the edge levels' weights)
        in any recording, counts below 0 and above N included (0 or N - 1 where no
        recording holds one beyond them)."""
        n_channels = params.chain.n_channels
        below = side == "below"
        edge_level = 0 if below else n_channels - 1
        noise = float(params.sd(edge_level)) / abs(params.step)
        for x, baseline in zip(xs, baselines, strict=True):
            counts = (x - baseline) / params.step
            edge = counts[counts < 0.5] if below else counts[counts > n_channels - 1.5]
            if len(edge) < MIN_LEVEL_MASS:
                continue
            if below:
                first, _ = level_weights(edge, 0, 1.0, 1, noise)
                edge_level = min(edge_level, first)
            else:
                first, weights = level_weights(edge, n_channels - 1, 1.0, 2, noise)
                edge_level = max(edge_level, n_channels - 2 + first + len(weights))
        return edge_level

    def _grow_above(self, xs, fitted):
        """More channels where a recording visits levels above the fitted N, if EM with
        them explains the data better (by BIC); ``fitted`` and the result are ``_em``'s
        tuples.

        The channel count is placed on the longest recording's first rows, where the
        highest levels of many slow channels may be missing: 7 channels at an open
        probability of 1/3 were fitted as 5 when 6 opened at once only in the other
        recording (142 samples), and 8 as 6 with 7 open in 0.3 % of the rows; every such
        sample was decoded a level low (-15 and -14 macro-F1 points).
        """
        params, baselines = fitted[:2]
        n_channels = min(self._edge_level(xs, baselines, params, "above"), self._limit())
        if n_channels <= params.chain.n_channels:
            return fitted
        return self._placed(xs, fitted, n_channels, baselines)

    def _raised(self, xs, fitted):
        """One channel fewer, every recording's baseline found again for it
        (``_start_baseline``), where a recording never visits count 0, if EM from there
        explains the data better (by the likelihood alone: the placement has as many
        parameters); ``fitted`` (after ``_grow_below``) and the result are ``_em``'s
        tuples. Only where the channel count is found (``n_channels="auto"``).

        The converse of ``_grow_below``'s lower placement. The start places the levels
        of each stretch of a recording by whole steps, and where the all-closed level is
        rare some stretches land a step off; EM and the level shifts then keep a fit
        that no single move up or down improves. 6 channels at an open probability of
        0.61 (all closed on 0.4 % of the rows, noise 0.25 step; random cell 3016 of
        ``benchmarks/idealization_grid.py --draws``) were fitted as 7, one recording's
        baseline a step down, every count of it read one high (macro-F1 0.006 on
        131,480 rows, the same on 30,000 of them); raised, 6,800 nats likelier (0.981).
        """
        params, baselines = fitted[:2]
        n_channels = params.chain.n_channels
        if self.n_channels != "auto" or n_channels < 2:
            return fitted
        if all(
            self._edge_level([x], [b + params.step], params, "below") < 0
            for x, b in zip(xs, baselines, strict=True)
        ):
            return fitted
        fewer = replace(params, chain=AggregatedChain(n_channels - 1, self.n_closed, self.n_open))
        weights = self._count_weights(fewer)
        raised = list(
            map_threads(lambda x: self._start_baseline(x, fewer, weights), xs, self.n_jobs)
        )
        return self._placed(xs, fitted, n_channels - 1, raised, penalized=False)

    def _grow_below(self, xs, fitted):
        """More channels, or the same ones, under a baseline moved down where the
        all-closed level may be missing, if EM with them explains the data better;
        ``fitted`` (its sign settled, see ``_reoriented``) and the result are ``_em``'s
        tuples.

        At a high open probability the all-closed level is so rare that the levels alone
        cannot place the baseline: 10 channels at an open probability of 0.6 (all closed
        on 0-7 of 20,000-60,000 rows) were fitted as 9 channels with the baseline one
        step up, every sample decoded one count low (macro-F1 0.002-0.03); only the
        kinetics tell the two apart (closing rates in proportion to the open channels).
        Levels below count 0 that hold samples in any recording are added first (by
        BIC). Then, while the fitted open probability exceeds one half, the baseline is
        tried one step lower, with one more channel (the same number at the given
        ``n_channels`` or at ``max_channels``, unless the top level holds samples: they would
        need one channel more; on 1,000,000 rows of 10 channels that hopeless EM cost
        133 s, twice the fit). At the largest count, a lattice placed too high reads
        every count low, so its open probability falls under one half: it is tried
        lower too where its all-closed level is rarer than ``_RARE_CLOSED`` (10 channels
        given at an open probability of 0.6 on 20,000 rows, started at 10, were placed
        one or two steps up in 4 of 8 draws, fitted open probabilities 0.39-0.49,
        macro-F1 0.000-0.004; 0.990-0.996 with this rule alone). A lower placement is
        kept if the likelihood rises at all: that
        placement has as many parameters as the fit, and the right one won by 1.6-28
        nats on 20,000 rows of 10 channels, the wrong one lost by 0.3-8.6 on 9 (8
        draws each; BIC's penalty of 5 nats left 3 of 16 a count off). Before the sign
        is settled, the levels below may be those above a count read upside down: 4
        bursting channels under a 1 kHz filter, fitted as 4 of the wrong sign, grew to 5
        (macro-F1 0.015).
        """
        limit = self._limit()
        if fitted[0].chain.n_channels < limit:
            params, baselines = fitted[:2]
            below = -self._edge_level(xs, baselines, params, "below")
            n_channels = min(params.chain.n_channels + below, limit)
            if n_channels > params.chain.n_channels:
                lower = [b - below * params.step for b in baselines]
                fitted = self._placed(xs, fitted, n_channels, lower)
        while True:
            params, baselines = fitted[:2]
            n_channels = params.chain.n_channels
            p_open = self._open_probability(params)
            if n_channels < limit:
                if p_open <= 0.5:
                    break
                n_channels += 1
            elif p_open <= 0.5 and self._all_closed(params) >= _RARE_CLOSED:
                break
            elif self._edge_level(xs, baselines, params, "above") >= n_channels:
                break  # one step lower, the samples at the top level need a count N + 1
            lower = [b - params.step for b in baselines]
            placed = self._placed(xs, fitted, n_channels, lower, penalized=False)
            if placed is fitted:
                break
            fitted = placed
        return fitted

    def _open_channel_noise(self, xs, fitted, labels=None):
        """The fit with open-channel noise (the variance growing by ``excess ** 2`` per
        open channel), and then one channel fewer, where either explains the data better
        (``fitted``, white, and the result are ``_em``'s tuples). With ``labels`` (the
        counts known), EM with it, kept by BIC.

        The white fit reads the wider levels of many open channels as more levels:
        3 fast channels whose noise sd grows from 0.2 step (all closed) by 0.25 step in
        quadrature per open channel were fitted as 4, 185 of 100,000 rows decoded at the
        fourth level (macro-F1 0.762, 0.953 over the true counts). The white fit's
        posteriors first tell how much the open-channel noise would gain (an EM step's
        lower bound on the gain); only beyond ``_OPEN_NOISE_GAIN`` nats is EM run with
        it, kept by BIC (one parameter more), and then one channel fewer at a time,
        each kept by the likelihood alone, where the count is found
        (``n_channels="auto"``): 5 bursting channels under that noise, fitted as 7 white,
        lost the seventh by 26 nats.
        """
        params, baselines = fitted[:2]
        posteriors, _, _ = _e_step(xs, baselines, params, labels, self.n_jobs, moments=True)
        rows, squares = level_squares(posteriors, params.step)
        floor = _MIN_NOISE_RATIO * abs(params.step)
        noise, excess = fit_open_noise(rows, squares, params.step, floor, (params.noise, 0.0))
        gain = expected_loglik(rows, squares, noise, excess) - expected_loglik(
            rows, squares, params.noise, 0.0
        )
        if self.verbose:
            print(f"Open-channel noise: sd {excess:.4g}, gain {gain:.1f} nats by the white fit")
        if gain <= _OPEN_NOISE_GAIN:
            return fitted
        start = replace(params, noise=noise, excess=excess)
        if labels is not None:
            refit = self._em(xs, baselines, start, labels, self.max_iter, self.tol)
            n_total = sum(len(x) for x in xs)
            gained = (refit[2] - fitted[2]) * n_total > 0.5 * np.log(n_total)
            return _continued(fitted, refit) if gained else fitted
        chosen = self._better(xs, fitted, start, baselines, "open-channel noise", 0.5)[0]
        if chosen is fitted or self.n_channels != "auto":
            return chosen
        while chosen[0].chain.n_channels > 1:
            chain = AggregatedChain(chosen[0].chain.n_channels - 1, self.n_closed, self.n_open)
            fewer = replace(chosen[0], chain=chain)
            stage = "open-channel noise, one channel fewer"
            fitted, chosen = chosen, self._better(xs, chosen, fewer, chosen[1], stage, 0.0)[0]
            if chosen is fitted:
                break
        return chosen

    def _filled(self, xs, fitted):
        """EM with the given ``n_channels``, the channels missing from ``fitted`` added
        above its levels (never visited), its levels settled (``_em``'s tuples)."""
        params, baselines = fitted[:2]
        chain = AggregatedChain(int(self.n_channels), self.n_closed, self.n_open)
        refit = self._em(
            xs,
            baselines,
            replace(params, chain=chain),
            None,
            self.max_iter,
            self.tol,
            stage="EM, channels given,",
        )
        return _continued(fitted, self._settle_levels(xs, refit))

    def _placed(self, xs, fitted, n_channels, baselines, *, penalized=True):
        """EM with ``n_channels`` channels from ``baselines``, its levels settled, kept if
        it beats ``fitted`` (``fitted`` and the result are ``_em``'s tuples): by BIC for
        channels added on the same baseline (``penalized``), by the likelihood alone
        for a placement with as many parameters.

        The levels are settled (``_settle_levels``) before the comparison: a baseline
        moved down by a step carries the blocks the smaller fit had decoded a level off
        into the grown one. 10 channels at an open probability of 0.6 on 20,000 rows,
        calibrated as 6 channels and grown one at a time: the tenth channel gained 3.6
        nats unsettled (every count decoded one low, macro-F1 0.004), 9.7 settled
        (0.992).
        """
        params = fitted[0]
        grown = replace(params, chain=AggregatedChain(n_channels, self.n_closed, self.n_open))
        added = n_channels - params.chain.n_channels
        return self._better(
            xs, fitted, grown, baselines, "placed", 0.5 * added if penalized else 0.0
        )[0]

    def _better(self, xs, fitted, start, baselines, stage, penalty, first=None, *, close=0.0):
        """``(chosen, margin)``: ``fitted``, or EM from ``start`` and ``baselines`` with
        its levels settled if that gains more than ``penalty`` times the log of the rows
        in log-likelihood (``fitted`` and ``chosen`` are ``_em``'s tuples); ``margin``
        is the candidate's gain beyond that, in nats, on the last rows compared.

        On long data the candidate is first fitted on the first rows (``first``, rising
        row counts, each used where the data are at least twice as long; by default the
        warm-up's) and compared there with ``fitted`` refitted on the same rows; only a
        candidate that wins on those rows, or loses there by less than ``close`` nats,
        goes on to the next, and at last to every row. The mirror and the lower
        placements are refitted on every fit, and on 1,000,000 rows of 10 channels EM
        from their starts on all rows took 6 times as long as the fit itself.
        """
        for rows in (_WARM_ROWS,) if first is None else first:
            heads = self._heads(xs, rows)
            if heads is None:
                continue
            head = [x[:k] for x, k in zip(xs, heads, strict=True)]
            n_head = sum(heads)
            here = self._em(
                head,
                [b[:k] for b, k in zip(fitted[1], heads, strict=True)],
                fitted[0],
                None,
                self.max_iter,
                self.tol,
            )
            there = self._em(
                head,
                [b[:k] for b, k in zip(baselines, heads, strict=True)],
                start,
                None,
                self.max_iter,
                self.tol,
                stage=f"EM, {stage}, on the first {n_head:,} rows,",
            )
            there = self._settle_levels(head, there)
            margin = (there[2] - here[2]) * n_head - penalty * np.log(n_head)
            if margin <= -close:
                return fitted, margin
            start = there[0]
        refit = self._em(xs, baselines, start, None, self.max_iter, self.tol, stage=f"EM, {stage},")
        refit = self._settle_levels(xs, refit)
        n_total = sum(len(x) for x in xs)
        margin = (refit[2] - fitted[2]) * n_total - penalty * np.log(n_total)
        if margin <= 0:
            return fitted, margin
        return _continued(fitted, refit), margin

    @staticmethod
    def _all_closed(params):
        """Stationary probability that every channel is closed."""
        chain = params.chain
        return float(chain.initial(params.rates)[chain.level == 0].sum())

    @staticmethod
    def _open_probability(params):
        """Stationary fraction of the channels that are open."""
        chain = params.chain
        return float(chain.initial(params.rates) @ chain.level) / chain.n_channels

    def _reoriented(self, xs, fitted, oriented):
        """The fit, or its mirror (every count ``k`` read as ``N - k``, the step's sign
        reversed) refitted by EM if that explains the data better, where the lattice
        changed after the sign was chosen on it (``oriented``: the start's parameters).

        The sign is chosen on the calibrated lattice, but EM may then move to another:
        four bursting channels (-2 pA, 1 kHz filter, a random walk of two steps) were
        calibrated as three channels of 3.4 pA, on which the positive sign explained the
        first rows better; EM found the right four channels of 2.1 pA and kept the sign,
        every count read upside down (macro-F1 0.18; with the sign given, 0.95).

        On an unchanged lattice the mirror is tried too, unless the scheme is its own
        mirror (as many closed as open states: both readings then explain the data
        equally, and the start's choice stands). Only the kinetics tell the two readings
        apart, and the start judges them after a few EM iterations: 9 channels at an
        open probability of 0.6 on 20,000 rows were read upside down in 4 draws of 4
        (the start preferred the mirror by 29-380 nats; at convergence the right sign
        wins by 54-120 nats; macro-F1 0.001 -> 0.99).

        On long data the mirror is fitted on the first 50,000 rows before the warm-up's
        250,000 (``_better``): where it won on all rows (9 channels at 0.6 on 200,000
        rows, read upside down by the start, 2 draws) it won there too, and where it
        lost on all rows (10 channels on 300,000, 6 on 150,000, 3 slow channels on
        150,000; 6 draws) it lost there, with the same counts in every draw.
        """
        params, baselines = fitted[:2]
        chain = params.chain
        changed = abs(abs(params.step) / abs(oriented.step) - 1) > _REORIENT_CHANGE
        if (
            self.unitary_current is not None
            or self.current_sign != "auto"
            or (
                self.n_closed == self.n_open
                and chain.n_channels == oriented.chain.n_channels
                and not changed
            )
        ):
            return fitted
        mirrored = [b + params.step * chain.n_channels for b in baselines]
        rates = self._initial_rates(chain, xs, mirrored, -params.step)
        start = replace(params, chain=chain, rates=rates, step=-params.step)
        chosen, margin = self._better(
            xs,
            fitted,
            start,
            mirrored,
            "mirrored",
            0.0,
            first=(_MIRROR_ROWS, _WARM_ROWS),
            close=_SIGN_MARGIN,
        )
        if abs(margin) < _SIGN_MARGIN:
            step = chosen[0].step
            warnings.warn(
                "The direction of the current is uncertain: read the other way up (every "
                f"count k as {chosen[0].chain.n_channels} - k, unitary current {-step:.3g} "
                f"instead of {step:.3g}) the recordings are only {abs(margin):.0f} nats less "
                "likely; only the kinetics tell the two apart, and few transitions show "
                "them. If the current is known to be outward or inward, give "
                "current_sign='positive' or 'negative' (or unitary_current).",
                AmbiguousFitWarning,
                stacklevel=2,
            )
        return chosen

    def _check_lattice(self, xs, baselines, params, bound):
        """Refuse a fit that is no lattice: no better than noise around a baseline
        (by BIC: a flat recording of white noise fits a fake lattice of 1.4 noise sd),
        a noise that dwarfs the sample-to-sample noise
        (the current glides between the levels; measured ratios 0.9 unfiltered, 2.8 and
        5.3 under 4-pole filters at a tenth and a twentieth of the sampling rate, 12 for
        a whole-cell decay and a sine), or a baseline that wanders over more than
        ``_MAX_BASELINE_STEPS`` steps (it tracked a large smooth current, and the
        "levels" are noise: 700 steps for a whole-cell decay)."""
        n_total = sum(len(x) for x in xs)
        residual_sq = sum(float(np.sum((x - self._baseline(x)) ** 2)) for x in xs)
        null = -0.5 * n_total * (np.log(2 * np.pi * residual_sq / n_total) + 1.0)
        penalty = 0.5 * (len(params.rates) + 2) * np.log(n_total)
        if bound * n_total - null < penalty:
            raise ValueError(
                "No channel openings found: a lattice of current levels explains the "
                "recording no better than noise around a slowly varying baseline (no "
                "openings, a smooth whole-cell current or voltage trace, or levels far "
                "below the noise). Idealize a single-channel recording with openings."
            )
        span = max(float(np.ptp(b)) for b in baselines) / abs(params.step)
        if span > _MAX_BASELINE_STEPS:
            raise ValueError(
                "No lattice of equally spaced current levels fits the recording: its "
                f"baseline would have to move over {span:.0f} unitary steps (of "
                f"{params.step:.3g}); the current is a large smooth signal (a whole-cell "
                "current or a voltage trace?). Idealize single-channel recordings only."
            )
        white = noise_sd(max(xs, key=len))
        # the noise's rms over the counts (their stationary weights): open-channel noise
        # can put a glide's spread on the upper levels alone
        k = np.arange(params.chain.n_channels + 1)
        noise = float(np.sqrt(self._count_weights(params) @ params.sd(k) ** 2))
        if white > 0 and noise > _MAX_NOISE_EXCESS * white:
            raise ValueError(
                "No lattice of equally spaced current levels fits the recording: the "
                f"current departs from the best lattice (step {params.step:.3g}) by "
                f"{noise / white:.0f} times its sample-to-sample noise, so it glides "
                "between values rather than jumping between levels (a whole-cell current "
                "or a voltage trace?). Idealize single-channel recordings only."
            )

    def _warm_up(self, xs, baselines, params, labels):
        """EM to convergence on the first ``_WARM_ROWS`` rows (shared between the
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

    @staticmethod
    def _heads(xs, rows=None):
        """Rows of every recording in the first ``rows`` rows (shared in proportion to
        their lengths; the warm-up's by default); ``None`` where the data are not twice
        as long."""
        rows = _WARM_ROWS if rows is None else rows
        n_total = sum(len(x) for x in xs)
        if n_total <= 2 * rows:
            return None
        return [max(len(x) * rows // n_total, 2) for x in xs]

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

    def _unsupervised_start(self, xs, dt):
        """Calibrate the longest recording, place its levels, choose the current's sign,
        then find every other recording's offset on that lattice."""
        longest = int(np.argmax([len(x) for x in xs]))
        x = xs[longest]
        if len(x) < _MIN_ROWS:
            raise ValueError(
                f"The longest recording has {len(x)} rows; finding the levels without "
                f"labels needs at least {_MIN_ROWS}. Fit on a longer recording, or give y."
            )
        lattice, drift, self._drift_kind = self._calibrate(x)
        sharp = lattice.noise_sd <= _BINOMIAL_MAX_NOISE * lattice.step
        flat = x - drift
        if lattice.smoothing == 1 and sharp:  # sharp levels: the binomial's best few
            placement, _ = self._structure_by_em(flat, lattice, dt, self._structure(flat, lattice))
            (n_channels, closed), step, noise = placement, lattice.step, lattice.noise_sd
        else:  # the weights of blurred levels are not reliable enough: try them all,
            # from one channel fewer than the levels seen (a level of the search's fit can
            # hold only the noise's tails: 2 channels at noise 0.6 step showed 4 levels)
            # to _EXTRA_LEVELS more (5 channels with a ramp showed 3 levels)
            seen = lattice.n_levels - 1
            options = {*self._placements(max(seen - 1, 1)), *self._placements(seen)}
            placements = [
                (n_channels, lattice.offset - below * lattice.step)
                for n_channels, below in sorted(options)
            ]
            (n_channels, _), (closed, step, noise) = self._structure_by_em(
                flat, lattice, dt, placements
            )
        chain = AggregatedChain(n_channels, self.n_closed, self.n_open)
        mirrored = closed + step * n_channels
        orientations = {"positive": [(closed, step)], "negative": [(mirrored, -step)]}
        if self.unitary_current is not None:
            sign = "positive" if self.unitary_current > 0 else "negative"
        else:
            sign = self.current_sign
        options = orientations.get(sign, orientations["positive"] + orientations["negative"])
        n_iter = _SCREEN_ITER if len(options) > 1 else 1
        starts = [(chain, signed_step, offset, n_iter) for offset, signed_step in options]
        fits = self._short_ems(
            flat[:_SCREEN_ROWS], starts, noise, dt, skip_failed=False, track=True
        )
        best = None
        for (offset, _), fitted in zip(options, fits, strict=True):
            occupancy = fitted[0].chain.initial(fitted[0].rates)[chain.level == 0].sum()
            key = (round(fitted[2], 5), occupancy)
            if best is None or key > best[0]:
                best = (key, fitted[0], offset)
        _, params, offset = best
        weights = self._count_weights(params)
        others = [other for i, other in enumerate(xs) if i != longest]
        baselines = list(
            map_threads(
                lambda other: self._start_baseline(other, params, weights), others, self.n_jobs
            )
        )
        baselines.insert(longest, offset + drift)
        return params, baselines

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

    @one_blas_thread
    def _decode(self, X, groups, *, kind):
        """Count posteriors (``kind="proba"``) or their argmax (``"argmax"``) and the
        baselines of new recordings, each baseline re-estimated.

        Every series writes its posterior straight into the output, so that memory
        beyond it is a few floats per row of the longest series, whatever its length.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        check_signal_range(X)
        xs, recordings = self._split(X, groups)
        xs = self._undo_filter(xs, self.filter_cutoff_)
        step = self._decimation
        params = self._params
        weights = self._count_weights(params)
        n_counts = params.chain.n_channels + 1
        if kind == "proba":
            out = np.empty((len(X), n_counts))
        else:
            out = np.empty(len(X), dtype=np.min_scalar_type(n_counts))
        baseline = np.empty(len(X))
        # every phase of a decimated recording is decoded as a series of its own
        series = [
            (slice(rows.start + phase, rows.stop, step), x[phase::step])
            for rows, x in zip(recordings, xs, strict=True)
            for phase in range(step)
        ]

        def one(rows_x):
            rows, x = rows_x
            baseline[rows] = self._decode_one(x, params, weights, out[rows])

        for _ in map_threads(one, series, self.n_jobs):
            pass
        return out, baseline

    def _decode_one(self, x, params, weights, out):
        """Baseline of one series, its count posterior (or argmax) written to ``out``:
        baseline-only EM rounds from the best lattice shift, then whole-level moves of
        blocks that raise its likelihood."""
        loglik, baseline = self._track(x, self._start_baseline(x, params, weights), params, out)
        for _ in range(_SHIFT_ROUNDS):
            (shifted,), moved = self._shift_levels([x], [baseline], params)
            if not moved:
                break
            candidate = self._track(x, shifted, params, out)
            if candidate[0] <= loglik:  # ``out`` holds the candidate's posterior: undo
                _e_step([x], [baseline], params, outs=[out])
                break
            loglik, baseline = candidate
        return baseline

    def _track(self, x, baseline, params, out):
        """Baseline-only EM rounds on one series (up to ``_PREDICT_ROUNDS``, until one
        moves the baseline by less than ``_TRACK_TOL`` steps rms): its log-likelihood
        and baseline, the count posterior (or argmax) written to ``out``.

        Two rounds suffice on a recording like the fit's (10 channels at noise 0.3
        step: the baseline moved 0.004 then 0.0009 step rms; four more rounds would
        move it 0.0003 in all), three E-steps fewer of five per series. Where a round
        moves the baseline the same way as the one before, by more than half as much
        (``_CRAWL``), EM is crawling and the move is stretched (``_stretched``): on 10
        channels at an open probability of 0.6 and noise 0.5 step, each round moved the
        baseline 0.001 step towards an optimum 0.2 step away (800 nats higher).
        """
        before = None
        for _ in range(_PREDICT_ROUNDS):
            (posterior,), _, loglik = _e_step([x], [baseline], params, outs=[out])
            moved = self._track_baselines([x], [posterior.mean], params.step)
            if np.sqrt(np.mean((moved[0] - baseline) ** 2)) < _TRACK_TOL * abs(params.step):
                return loglik, baseline
            (baseline,), before = self._unstuck([x], [baseline], moved, before, params)
        _, _, loglik = _e_step([x], [baseline], params, outs=[out])
        return loglik, baseline

    def _unstuck(self, xs, old, new, before, params):
        """Every recording's new baseline, stretched (``_stretched``) where EM moved it
        from ``old`` along its last move (``before``, ``None`` at first) by more than
        ``_CRAWL`` of it; and the moves, for the next call."""
        moves = [n - o for n, o in zip(new, old, strict=True)]
        if before is None:
            return new, moves

        def one(i):
            if moves[i] @ before[i] > _CRAWL * (before[i] @ before[i]):
                return self._stretched(xs[i], old[i], moves[i], params)
            return new[i]

        return list(map_threads(one, range(len(xs)), self.n_jobs)), moves

    @staticmethod
    def _stretched(x, baseline, move, params):
        """``baseline + a * move`` for the ``a`` (1 to ``_MAX_OMEGA``) of highest forward
        log-likelihood: ``a`` grows fourfold while that rises, then a parabola through
        the last three refines it."""
        chain = params.chain
        A, initial = chain.transition(params.rates, params.dt), chain.initial(params.rates)

        def loglik(a):
            emission_of = count_emission_of(
                x,
                baseline + a * move,
                params.step,
                params.noise,
                chain.n_channels + 1,
                excess=params.open_noise,
            )
            value = forward_log_likelihood(emission_of, len(x), chain.level, A, initial)
            return -np.inf if np.isnan(value) else value

        tried = [(1.0, loglik(1.0))]
        while tried[-1][0] < _MAX_OMEGA:
            a = 4.0 * tried[-1][0]
            tried.append((a, loglik(a)))
            if not tried[-1][1] > tried[-2][1]:
                break
        if len(tried) >= 3 and not tried[-1][1] > tried[-2][1] and np.isfinite(tried[-2][1]):
            (a0, f0), (a1, f1), (a2, f2) = tried[-3:]
            # vertex of the parabola through the three points (a1 is the highest)
            num = (a1 - a0) ** 2 * (f1 - f2) - (a1 - a2) ** 2 * (f1 - f0)
            den = (a1 - a0) * (f1 - f2) - (a1 - a2) * (f1 - f0)
            if den != 0:
                a = a1 - 0.5 * num / den
                if a0 < a < a2:
                    tried.append((a, loglik(a)))
        best = max(tried, key=lambda point: point[1])[0]
        return baseline + best * move

    @staticmethod
    def _count_weights(params):
        """Stationary probability of every open-channel count."""
        initial = params.chain.initial(params.rates)
        return np.bincount(params.chain.level, weights=initial)

    def _start_baseline(self, x, params, weights):
        """Starting baseline of a new recording: the lattice shift that best explains its
        current less a drift of the kind the calibration chose (``_drift_kind``).

        The lattice's drift (at the fitted step) where the calibration chose it (slow
        gating); the calibration's own choice made on this recording (``_sharpest``,
        among no drift, the cubic, the moving mean and the lattice's drift) where it
        chose no drift or the cubic (a cubic alone can miss another recording's random
        walk); and no drift, the moving mean or the lattice's drift, whichever explains
        the current better, where it chose the moving mean (or labels were given), as
        measured over the conditions grid. The mixture likelihood alone would misjudge
        the moving mean, which follows slow gating yet narrows the density: it was
        preferred to the lattice's drift (0.30 step off where that was 0.02) on 4 slow
        channels at noise 0.43 step, and to no drift at all (0.33 step off) on 6 slow
        channels at noise 0.5 step without drift. Where gating is fast, the lattice's
        drift alone is the worse start (10 channels at an open probability of 0.6, noise
        0.3 step, a ramp: 1.3 points lost), and the moving mean alone follows a random
        walk too loosely (4 channels at 0.6, noise 0.27 step: 0.11-0.14 step off where
        the lattice's drift is 0.02-0.05, macro-F1 0.953 where 0.982 is possible); the
        mixture chose the best of the three in both.
        """
        kind = getattr(self, "_drift_kind", _MOVING_MEAN)
        if kind == _LATTICE_DRIFT:
            drift = self._lattice_drift(x, abs(params.step), params.noise)
            trends = [np.zeros(len(x))] if drift is None else [drift]
        elif kind == _MOVING_MEAN:
            drift = self._coarse_drift(x)
            trends = [np.zeros(len(x)), drift] if np.any(drift) else [drift]
            lattice = self._lattice_drift(x, abs(params.step), params.noise)
            trends += [] if lattice is None else [lattice]
        else:
            trends = [self._sharpest_drift(x, params)]
        best = None
        for trend in trends:
            offset, loglik = self._best_shift((x - trend)[:_SHIFT_ROWS], params, weights)
            if best is None or loglik > best[1]:
                best = (offset + trend, loglik)
        return best[0]

    def _sharpest_drift(self, x, params):
        """The drift (none, cubic, moving mean, or the lattice's at the fitted step) that
        the calibration's own rule (``_sharpest``) chooses on this recording."""
        drifts = self._drift_candidates(x, abs(params.step), params.noise)
        found = self._sharpest(x, drifts)
        return drifts[0] if found is None else found[1]

    def _best_shift(self, sample, params, weights):
        """Closed level (and its mixture log-likelihood) on a grid of 1/20 step.

        The sample is first binned at ``1 / _SHIFT_BINS_PER_SD`` of the noise sd and every
        bin scored at its centre, times its rows (50,000 rows of 10 channels at noise 0.3
        step fall into about 800 bins).
        """
        step, noise = params.step, params.noise
        k = np.arange(params.chain.n_channels + 1)
        low, high = np.quantile(sample, [0.001, 0.999])
        lowest = min(low, high - step * k[-1]) if step > 0 else min(low - step * k[-1], high)
        candidates = np.arange(lowest - abs(step), max(low, high) + abs(step), abs(step) / 20)
        if len(candidates) > 2000:
            candidates = np.linspace(candidates[0], candidates[-1], 2000)
        width = noise / _SHIFT_BINS_PER_SD
        n_bins = int(np.ptp(sample) / width) + 1
        if n_bins < len(sample):
            rows, edges = np.histogram(sample, n_bins)
            values = 0.5 * (edges[:-1] + edges[1:])[rows > 0]
            rows = rows[rows > 0]
        else:
            values, rows = sample, np.ones(len(sample))
        sd = params.sd(k)
        log_w = np.log(np.clip(weights, 1e-300, None)) - np.log(sd / noise)
        best, best_ll = candidates[0], -np.inf
        for c in candidates:
            z = (values[:, None] - c - step * k[None, :]) / sd
            ll = rows @ np.logaddexp.reduce(log_w[None, :] - 0.5 * z * z, axis=1)
            if ll > best_ll:
                best, best_ll = c, ll
        return float(best), float(best_ll)

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

"""LatticeDetrender: baseline removal that uses the equal spacing of open-channel levels."""

from __future__ import annotations

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from .._requests import RecordingRequestsMixin
from .._signal import LARGEST, check_signal_range
from .._strict import StrictParamsMixin
from ..windowing import Recordings
from ._cleaning import check_below_nyquist, remove_trend
from ._recordings import RecordingTransformerMixin

__all__ = ["LatticeDetrender"]

#: Lattice hum regressions per recording, after a plain least-squares start: the first
#: removes the start's error, the second the bias of linearising the phase.
_HUM_ITERATIONS = 2


#: A block whose phasor is shorter than this fraction of the recording's median block
#: phasor is left out of the unwrapping: its phase is mostly noise.
_UNRELIABLE = 0.25
#: Blocks on either side in the sum of phasors that guides the unwrapping.
_GUIDE_REACH = 2
#: The sum turned back at the local rate of turn guides instead of the plain sum only
#: when it is this many times longer (a drift that turns the lattice fast and steadily).
_TURNED_PREFERRED = 3.0


def _drift_phase(z: np.ndarray, rotate: complex, block: int) -> np.ndarray:
    """Lattice phase of every row relative to the reference, from block means.

    The block phases are unwrapped from the first block, which resolves the whole-step
    ambiguity of a phase: the first block's baseline is taken within half a step of the
    reference. (Anchoring the recording's mean instead was measured worse: a whole step
    off on 1 in 10 recordings of 20,000 rows, where the cubic trend leaves a residual
    half sine.) Every block's phase is unwrapped against a guide (``_guide``), the
    phase of the sum of its neighbours' phasors, not against the previous block alone:
    under 1/f noise of 0.3 step the block phases jump by up to 0.45 turn from block to
    block, and unwrapping them one after the other slipped the rest of a recording by one
    or two whole steps on 6 of 9 draws. Blocks whose phasor is shorter than
    ``_UNRELIABLE`` times the median are left out and take the phase interpolated from
    their neighbours. Between block centres the phase is interpolated linearly; beyond the
    outer centres it is constant. Blocks are shortened to an eighth of a recording shorter
    than eight blocks, so that fast drift is still sampled.
    """
    means, centres = _block_means(z, max(1, min(block, len(z) // 8)))
    means = means * rotate
    length = np.abs(means)
    reliable = length >= _UNRELIABLE * np.median(length)
    reliable[0] = True  # the anchor
    means, centres = means[reliable], centres[reliable]
    guide = np.unwrap(np.angle(_guide(means)))
    phase = guide + np.angle(means * np.exp(-1j * guide))
    phase -= 2 * np.pi * np.round((phase[0] - np.angle(means[0])) / (2 * np.pi))
    return np.interp(np.arange(len(z)), centres, phase)


def _guide(means: np.ndarray) -> np.ndarray:
    """Every block phasor summed with its ``_GUIDE_REACH`` neighbours on each side: as
    they are, which weighs every block by its coherence and averages the noise out of
    the phase, or, where that sum cancels because a drift turns the lattice fast and
    steadily (the competition's drift turns it by 0.3 turn a block at the start of a
    recording), turned back at the local rate of turn (the phase of the summed products
    of consecutive phasors) when that makes the sum ``_TURNED_PREFERRED`` times longer.
    """
    reach = _GUIDE_REACH
    if len(means) < 2:
        return means
    padded = np.pad(means, reach, mode="edge")
    turns = padded[1:] * np.conj(padded[:-1])  # turns[j]: from padded j to j + 1
    rate = np.exp(1j * np.angle(np.convolve(turns, np.ones(2 * reach), mode="valid")))
    plain = np.zeros(len(means), dtype=complex)
    turned = np.zeros(len(means), dtype=complex)
    for k in range(-reach, reach + 1):
        neighbour = padded[reach + k : reach + k + len(means)]
        plain += neighbour
        turned += neighbour * rate ** (-k)
    return np.where(np.abs(turned) > _TURNED_PREFERRED * np.abs(plain), turned, plain)


def _block_edges(n: int, block: int) -> np.ndarray:
    """Edges of ``max(1, n // block)`` consecutive blocks of (nearly) equal length."""
    return np.linspace(0, n, max(1, n // block) + 1).astype(np.int64)


def _block_means(z: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of consecutive blocks of about ``block`` rows and the blocks' centre rows."""
    edges = _block_edges(len(z), block)
    means = np.add.reduceat(z, edges[:-1]) / np.diff(edges)
    return means, 0.5 * (edges[:-1] + edges[1:] - 1)


def _within_blocks(values: np.ndarray, block: int) -> np.ndarray:
    """``values`` minus the mean of its block (the blocks of ``_block_means``)."""
    means, _ = _block_means(values, block)
    return values - np.repeat(means, np.diff(_block_edges(len(values), block)))


def within_block_step(parts, block):
    """Least-squares slope of current on counts with every block's means removed.

    ``parts`` holds ``(current, counts)`` pairs, one per recording; drift is constant
    within a block of ``block`` rows, so it cancels. ``None`` when the counts never vary
    inside a block.
    """
    dx = np.concatenate([_within_blocks(x, block) for x, _ in parts])
    dk = np.concatenate([_within_blocks(k, block) for _, k in parts])
    spread = float(dk @ dk)
    return float(dx @ dk) / spread if spread > 0 else None


def lattice_coherence(x: np.ndarray, step: float, block: int) -> float:
    """Mean squared length of the block means of ``exp(2 pi i x / step)``.

    Close to 1 when every block's samples sit on a lattice of spacing ``step`` (whatever
    the occupancy), near ``1 / block`` for a signal with no such lattice. Slow drift
    moves the lattice between blocks but not within one, so it barely matters.
    """
    means, _ = _block_means(np.exp(2j * np.pi * x / step), block)
    return float(np.mean(np.abs(means) ** 2))


def lattice_baseline(
    x: np.ndarray,
    *,
    step: float,
    reference: float,
    block: int,
    line_freq: float | None,
    sampling_rate: float,
) -> np.ndarray:
    """Slowly varying baseline plus line hum of one recording, from its level lattice.

    With ``k`` open channels a sample is ``b(t) + k * step + noise``, so
    ``exp(2 pi i x / step)`` does not depend on ``k``: its mean over a block of rows
    points at ``2 pi b / step`` whatever the channels do. The block phases give the
    drift (see ``_drift_phase``: the first block's baseline must lie within half a
    step of ``reference``). The hum is the sinusoid at ``line_freq`` that best fits
    the current, refined on what the drift leaves of the phase (linearised least
    squares). ``x`` should already be coarsely detrended, so that the baseline moves by
    less than half a step between blocks.
    """
    n = len(x)
    z = np.exp(2j * np.pi * x / step)
    rotate = np.exp(-2j * np.pi * reference / step)
    if line_freq is None:
        return reference + step / (2 * np.pi) * _drift_phase(z, rotate, block)
    angle = 2 * np.pi * line_freq / sampling_rate * np.arange(n)
    basis = np.column_stack([np.cos(angle), np.sin(angle)])
    # start from the sinusoid that fits the current itself: off by the channels' own
    # content at line_freq, but close enough for the linearised lattice rounds, which
    # alone failed on a large hum (0.5 pA against a 1.23 pA step, a 2.6 rad swing)
    coef, *_ = np.linalg.lstsq(basis, x - x.mean(), rcond=None)
    hum = basis @ coef
    for _ in range(_HUM_ITERATIONS):
        drift_phase = _drift_phase(z * np.exp(-2j * np.pi * hum / step), rotate, block)
        # what is left: |c| * exp(i * 2 pi (hum residual) / step) + noise
        left = z * np.exp(-2j * np.pi * (reference + hum) / step - 1j * drift_phase)
        left /= left.mean()
        coef, *_ = np.linalg.lstsq(basis, left.imag, rcond=None)
        hum += step / (2 * np.pi) * (basis @ coef)
    drift_phase = _drift_phase(z * np.exp(-2j * np.pi * hum / step), rotate, block)
    return reference + step / (2 * np.pi) * drift_phase + hum


def _check_anchoring(residual, recordings, step):
    """Warn about training recordings whose lattice baseline is whole steps off their labels.

    ``residual`` is the cleaned current less the labelled channels: about zero where the
    lattice holds, about a whole number of steps where the anchoring failed. The phase
    fixes the baseline only modulo one step, so a recording whose closed level (after
    the coarse trend) starts more than half a step from the others' is cleaned whole
    steps off, and a model trained after it learns counts shifted by that many channels.
    """
    offsets = np.array([np.median(residual[rows]) / step for rows in recordings])
    whole = np.round(offsets)
    off = np.flatnonzero((whole != 0) & (np.abs(offsets - whole) < 0.25))
    if off.size:
        listed = ", ".join(f"{i} ({offsets[i]:+.1f} steps)" for i in off[:5])
        warnings.warn(
            f"The lattice baseline of training recording(s) {listed} is whole steps off "
            "their labels: LatticeDetrender anchors every recording at one closed level "
            "(closed_level_), and these recordings start more than half a step from it "
            "(different offsets, or drift before the first rows). Recordings like them are "
            "cleaned whole channels off. Use LatticeScaler (skion fit --calibration "
            "recording), which calibrates each recording on its own, or null the offsets.",
            UserWarning,
            stacklevel=4,  # the caller of fit (through _fit_context)
        )


def check_counts(y, n_samples, *, min_classes=2):
    """``y`` as float64 open-channel counts of ``n_samples`` rows, or a clear error."""
    y = column_or_1d(y, warn=True)
    if y.shape != (n_samples,):
        raise ValueError(f"y must have {n_samples} rows like X, got shape {y.shape}.")
    if y.dtype.kind not in "iufb":
        raise ValueError(
            f"Unknown label type: y must hold open-channel counts (integers >= 0), "
            f"got dtype {y.dtype}."
        )
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
        raise ValueError("y must hold open-channel counts: finite integers >= 0.")
    if len(np.unique(y)) < min_classes:
        raise ValueError(
            "y holds one class (a single open-channel count); learning the lattice "
            "step needs at least two. Give step as a number instead."
        )
    return y


class LatticeDetrender(
    StrictParamsMixin, RecordingRequestsMixin, RecordingTransformerMixin, BaseEstimator
):
    """Remove drift and line hum using the equally spaced levels of open channels.

    A recording of identical channels sits, at every instant, on a lattice: the
    current is ``baseline(t) + k * step + noise`` with ``k`` channels open. The phase
    of ``exp(2 pi i x / step)`` ignores ``k``, so averaged over a block of rows it
    tracks the baseline exactly, whatever the channels do, where a polynomial or
    median trend also follows slow changes in how many channels are open. Per
    recording (``groups``), ``transform``:

    1. removes a coarse polynomial trend of ``degree``, anchored at the recording's
       first row (drift that starts at zero, as in the competition data);
    2. measures the lattice phase of blocks of ``block`` rows, unwraps it from the
       first block and interpolates between block centres: the residual drift;
    3. with ``line_freq``, fits the line hum as a sinusoid of that frequency: first to
       the current, then to the remaining lattice phase (instead of a notch filter,
       which also removes the channels' own signal near that frequency);
    4. subtracts the baseline, so that ``k`` open channels read ``k * step_``.

    ``fit`` learns ``step_`` (the current of one channel) and ``closed_level_`` (the
    current with every channel closed) from the labelled training rows, which anchors
    every recording to the same lattice. Other columns of ``X`` pass through
    unchanged. Measured on ``make_ion_switching`` (train 1M, test 500k rows,
    ``benchmarks/cleaning.py``), the mean baseline error fell from 0.16 pA (50 Hz
    notch and cubic trend) to 0.011 pA, and the exact Bayes posterior computed on the
    cleaned signal went from 0.925 to 0.958 macro-F1 (0.959 with the true baseline).

    Parameters
    ----------
    step : "auto" or float, default="auto"
        Current of one open channel, in the units of ``X``: negative for inward
        currents that grow more negative as channels open. ``"auto"`` learns it from
        ``y`` in ``fit`` (least squares of the current on the open-channel count
        inside blocks of each recording, where drift cancels).
    closed_level : "auto" or float, default="auto"
        Current with every channel closed, the lattice's origin. ``"auto"`` learns it
        from ``y`` in ``fit``. With both given as numbers, ``fit`` needs no labels.
    block : int, default=1000
        Rows per phase estimate. Larger blocks average more noise; the baseline must
        move by less than half a step within one (after the coarse trend). A recording
        shorter than eight blocks uses blocks of an eighth of its length.
    degree : int, default=3
        Degree of the coarse polynomial trend removed first (0: a constant).
    line_freq : float, default=None
        Frequency of the line hum in Hz (50 or 60); ``None`` leaves hum alone.
    sampling_rate : float, default=10_000.0
        Sampling rate in Hz, used with ``line_freq``.

    Attributes
    ----------
    step_ : float
        Current of one open channel.
    closed_level_ : float
        Current with every channel closed at the start of a recording (the mean over
        the training recordings): the lattice's origin.
    coherence_ : float
        Mean squared block coherence of the cleaned training current, in (0, 1]:
        about ``exp(-4 pi^2 sd^2 / step^2)`` for Gaussian noise of sd ``sd``, plus
        ``1 / block`` from averaging. Below ``4 / block`` the phases are mostly noise
        and ``fit`` warns.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` had string column names.

    See Also
    --------
    skion.ZScoreWindower : Scaling and context features, usually the next step.
    skion.datasets.oracle_proba : The Bayes posterior used to measure cleaning.
    skion.AggregatedHMM : Baseline tracking without labels that survives high noise.

    Notes
    -----
    The lattice assumes the same single-channel current ``step`` in every recording
    (identical channels, the same gain); a recording with another gain breaks it. The
    first block of each recording must be within half a step of ``closed_level_`` once
    the coarse trend is removed, as for ``ZScoreWindower(detrend_anchor="start")``;
    ``fit`` warns when the labels show a training recording cleaned whole steps off
    (recordings with offsets that differ by more than half a step: use
    :class:`skion.LatticeScaler` for them). Noise blurs the lattice (see
    ``coherence_``), whose phase signal decays as ``exp(-2 pi^2 noise^2 / step^2)``.
    Measured on ``make_patch_clamp`` (3 channels, a sine drift of 3 steps, 200,000 rows,
    three draws each), the rms baseline error (of 1000-row means) is 0.002 step at
    noise/step 0.1, 0.015 at 0.3, 0.07-0.08 at 0.4 and about one step or more at 0.5 and
    0.6; under 1/f noise of 0.3 step it still slipped a whole step on 3 of 18 recordings
    (``benchmarks/colored_noise.py --hmm-only``). Beyond a noise of about 0.35 step, or
    with 1/f noise, use :class:`skion.AggregatedHMM`, which tracks the baseline from
    decoded counts (0.02 step at 0.6). Time and memory are O(n_samples), one recording at a time.

    Examples
    --------
    >>> from skion import LatticeDetrender
    >>> from skion.datasets import make_ion_switching
    >>> X, y, groups = make_ion_switching(100_000, regime="mixed", random_state=0)
    >>> detrender = LatticeDetrender(line_freq=50.0).fit(X, y, groups=groups)
    >>> round(detrender.step_, 2), round(detrender.closed_level_, 1)
    (1.23, -2.7)
    >>> Xt = detrender.transform(X, groups=groups)
    >>> bool(abs(Xt[y == 10, 0].mean() - 10 * detrender.step_) < 0.05)
    True
    """

    _parameter_constraints: dict = {
        "step": [StrOptions({"auto"}), Real],
        "closed_level": [StrOptions({"auto"}), Interval(Real, -LARGEST, LARGEST, closed="both")],
        "block": [Interval(Integral, 2, None, closed="left")],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "line_freq": [Interval(Real, 0, None, closed="neither"), None],
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        step="auto",
        closed_level="auto",
        block=1000,
        degree=3,
        line_freq=None,
        sampling_rate=10_000.0,
    ):
        self.step = step
        self.closed_level = closed_level
        self.block = block
        self.degree = degree
        self.line_freq = line_freq
        self.sampling_rate = sampling_rate

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike | None = None, groups: ArrayLike | None = None
    ) -> LatticeDetrender:
        """Learn the lattice (step and closed level) from labelled training recordings.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order; the current is column 0.
        y : array-like of shape (n_samples,), default=None
            Open-channel count of every row. Needed unless ``step`` and
            ``closed_level`` are both numbers.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row.

        Returns
        -------
        self : LatticeDetrender
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        check_signal_range(X)
        check_below_nyquist("line_freq", self.line_freq, self.sampling_rate)
        if self.step != "auto" and not (np.isfinite(self.step) and self.step != 0):
            raise ValueError(f"step must be a finite non-zero number or 'auto', got {self.step!r}.")
        learn = self.step == "auto" or self.closed_level == "auto"
        if learn and y is None:
            raise ValueError(
                "LatticeDetrender requires y to be passed, but the target y is None: it "
                "learns step and closed_level from the open-channel counts. Pass y to fit, "
                "or give both step and closed_level as numbers."
            )
        current = X[:, 0].astype(np.float64)
        recordings = Recordings(len(current), groups)
        coarse = recordings.apply(self._coarse, current)
        step = None if self.step == "auto" else float(self.step)
        level = None if self.closed_level == "auto" else float(self.closed_level)
        if learn:
            counts = check_counts(y, len(current))
            step, level = self._learn_lattice(coarse, counts, recordings, step, level)
        self.step_, self.closed_level_ = float(step), float(level)
        cleaned = coarse - recordings.apply(self._baseline, coarse)
        self.coherence_ = lattice_coherence(cleaned, self.step_, self.block)
        if self.coherence_ < 4.0 / self.block:
            warnings.warn(
                f"The level lattice is barely visible (coherence_={self.coherence_:.2g} for "
                f"blocks of {self.block} rows): noise or line hum is large against "
                f"step_={self.step_:.3g}, so the drift estimate is mostly noise. Increase "
                "block, give line_freq, or check step.",
                UserWarning,
                stacklevel=3,  # the caller of fit (through _fit_context)
            )
        elif learn:
            _check_anchoring(cleaned - self.step_ * counts, recordings, self.step_)
        return self

    def transform(self, X: ArrayLike, groups: ArrayLike | None = None) -> np.ndarray:
        """Subtract each recording's baseline from the current (column 0).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One row per time sample, in time order.
        groups : array-like of shape (n_samples,), default=None
            Recording of each row; nothing is computed across recordings.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features)
            ``X`` with column 0 replaced by the current above the closed level
            (``k`` open channels read about ``k * step_``). Same dtype as ``X``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        check_signal_range(X)
        out = np.array(X, copy=True)
        # one recording at a time: the temporaries (float64 and complex copies of the
        # current) stay the size of the longest recording, not of X
        for rows in Recordings(len(X), groups):
            coarse = self._coarse(X[rows, 0].astype(np.float64))
            out[rows, 0] = coarse - self._baseline(coarse)
        return out

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """Names of the output columns: the input names (nothing is added).

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; defaults to ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str
            The input column names.
        """
        check_is_fitted(self)
        return np.asarray(_check_feature_names_in(self, input_features), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.target_tags.required = True
        return tags

    # ---------------------------------------------------------------- helpers
    def _coarse(self, current):
        """One recording's current with its polynomial trend removed (start-anchored)."""
        return remove_trend(current[:, None], "poly", degree=self.degree, anchor="start")[:, 0]

    def _baseline(self, coarse, step=None, level=None):
        """The lattice baseline of one recording (``closed_level_`` plus drift and hum)."""
        return lattice_baseline(
            coarse,
            step=self.step_ if step is None else step,
            reference=self.closed_level_ if level is None else level,
            block=self.block,
            line_freq=self.line_freq,
            sampling_rate=self.sampling_rate,
        )

    def _learn_lattice(self, coarse, counts, recordings, step, level):
        """Step and closed level from the labelled training rows.

        The step is the within-block least-squares slope of the current on the counts
        (block means removed, inside each recording): drift is constant within a block,
        so it cancels, where a plain regression on the coarsely detrended current is
        biased by the trend following the occupancy. The closed level starts as the mean
        of ``current - step * counts`` and becomes the mean lattice baseline at the
        recordings' first rows, where the coarse trend anchors every recording.
        """
        if step is None:
            parts = [(coarse[rows], counts[rows]) for rows in recordings]
            step = within_block_step(parts, self.block)
            if step is None:
                raise ValueError(
                    "The open-channel count never changes inside a block of a recording, so "
                    "the step cannot be learned; give step as a number or a smaller block."
                )
            scale = max(float(np.ptp(coarse)), float(np.max(np.abs(coarse))))
            if not abs(step) > 1e-9 * scale:
                raise ValueError(
                    f"The current does not change with the open-channel count (learned step "
                    f"{step:.3g} against values up to {scale:.3g}): X is constant, or y does "
                    "not belong to X."
                )
        if level is None:
            first = [
                slice(rows.start, min(rows.start + self.block, rows.stop)) for rows in recordings
            ]
            level = float(np.mean([np.mean(coarse[f] - step * counts[f]) for f in first]))
            baseline = recordings.apply(partial(self._baseline, step=step, level=level), coarse)
            level = float(np.mean(baseline[recordings.starts]))
        return step, level

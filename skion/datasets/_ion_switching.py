"""Synthetic ion-switching recordings: Markov-gated channels, noise, line hum and drift.

Each recording holds ``N`` identical, independent channels whose gating follows a
continuous-time Markov scheme with rate matrix ``Q`` (s^-1). Sampled at 10 kHz, every
channel is a discrete-time Markov chain with transition matrix ``P = expm(Q * dt)``,
``dt = 1e-4`` s; the sum of the ``N`` channels' open indicators is exactly the aggregated
chain over occupancy counts.

A channel is simulated exactly without a Python loop per sample or per jump: its
dwell in state ``s`` is geometric with success probability ``1 - P[s, s]`` and the
states visited form the embedded jump chain with probabilities
``P[s, j] / (1 - P[s, s])``. Each jump is a random map ``f_k`` from states to states
(a function of one uniform draw), and the visited states are the prefix compositions
``f_k o ... o f_1`` applied to the initial state, computed with a parallel (Hillis-Steele)
scan in ``O(n_jumps * n_states * log n_jumps)`` numpy work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import expm
from scipy.signal import sosfilt, sosfilt_zi
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._signal import LARGEST_FLOAT32
from .._strict import validate_params
from ..hmm._aggregated_chain import stationary
from ..hmm._filter import bessel_sos

__all__ = ["KINETICS", "REGIMES", "RecordingModel", "make_ion_switching"]

#: Sampling interval of the recordings (s): 10 kHz, as in the competition data.
DT = 1e-4


def _linear_scheme(rates):
    """Rate matrix of a linear scheme ``0 <-> 1 <-> ... <-> S-1`` from (forward, backward)."""
    n_states = len(rates) + 1
    Q = np.zeros((n_states, n_states))
    for i, (forward, backward) in enumerate(rates):
        Q[i, i + 1] = forward
        Q[i + 1, i] = backward
    Q[np.diag_indices(n_states)] = -Q.sum(axis=1)
    return Q


#: Named gating schemes: ``name -> (Q in s^-1, open-state mask, description)``.
KINETICS = {
    "slow": (
        _linear_scheme([(10.0, 30.0), (60.0, 30.0)]),
        np.array([False, False, True]),
        "C1-C2-O, open dwell ~333 samples, P(open) = 1/3",
    ),
    "fast": (
        _linear_scheme([(300.0, 600.0), (1200.0, 500.0)]),
        np.array([False, False, True]),
        "C1-C2-O, open dwell ~20 samples, P(open) ~ 0.44",
    ),
    "bursting": (
        _linear_scheme([(200.0, 400.0), (800.0, 500.0), (100.0, 250.0)]),
        np.array([False, False, True, True]),
        "C1-C2-O1-O2, open lifetimes ~17 and ~40 samples, P(open) ~ 0.43",
    ),
    "high": (
        _linear_scheme([(400.0, 300.0), (1100.0, 400.0)]),
        np.array([False, False, True]),
        "C1-C2-O, open dwell ~25 samples, P(open) ~ 0.61",
    ),
}
for _Q, _mask, _ in KINETICS.values():
    _Q.setflags(write=False)
    _mask.setflags(write=False)

#: Preset regimes mirroring the competition batches: ``name -> (n_channels, kinetics, noise)``.
REGIMES = {
    "1_slow": (1, "slow", 0.25),
    "1_fast": (1, "fast", 0.25),
    "3_channels": (3, "bursting", 0.25),
    "5_channels": (5, "bursting", 0.28),
    "10_channels": (10, "high", 0.40),
}

#: Recordings of ``regime="mixed"``, in the order of the competition's training batches.
MIXED = (
    "1_slow",
    "1_slow",
    "1_fast",
    "3_channels",
    "10_channels",
    "5_channels",
    "1_fast",
    "3_channels",
    "5_channels",
    "10_channels",
)
#: Default drift of the ``mixed`` recordings (index -> kind), as in the competition data.
MIXED_DRIFT = {1: "ramp", 6: "sine", 7: "sine", 8: "sine", 9: "sine"}

_HUM_FREQUENCY = 50.0


@dataclass(frozen=True, eq=False)
class RecordingModel:
    """Everything needed to recompute one simulated recording's exact likelihood.

    The current of rows ``start:stop`` is
    ``baseline() + step * n_open + noise * N(0, 1)``, where ``n_open`` is the number of
    open channels among ``n_channels`` independent copies of the single-channel chain
    with transition matrix ``transition`` (``expm(rates * dt)``) started from its
    stationary distribution.

    Attributes
    ----------
    start, stop : int
        Row range of the recording in ``X`` (``stop`` excluded).
    regime : str
        Preset regime name (its gating scheme may be overridden, see ``kinetics``).
    n_channels : int
        Number of identical channels.
    kinetics : str
        Name of the gating scheme (a key of ``KINETICS`` or ``"custom"``).
    rates : ndarray of shape (n_states, n_states)
        Single-channel rate matrix ``Q`` in s^-1 (rows sum to zero).
    open_states : ndarray of shape (n_states,), dtype bool
        Which single-channel states conduct.
    transition : ndarray of shape (n_states, n_states)
        Single-channel per-sample transition matrix ``expm(rates * dt)``.
    stationary : ndarray of shape (n_states,)
        Stationary distribution of the single-channel chain (the initial distribution).
    step, offset, noise : float
        Current per open channel, current with all channels closed, noise sd (pA).
    dt : float
        Sampling interval (s).
    hum_amplitude, hum_frequency, hum_phase : float
        Line hum ``hum_amplitude * sin(2 pi hum_frequency t + hum_phase)`` (pA, Hz, rad).
    drift : {"none", "sine", "ramp"}
        Kind of slow drift. ``"sine"`` is ``drift_amplitude * sin(pi t / T)`` (half a
        period over the recording of duration ``T``); ``"ramp"`` rises linearly from 0
        to ``drift_amplitude``.
    drift_amplitude : float
        Drift amplitude (pA).
    hum_harmonics : tuple of float, default=()
        Amplitudes (pA) of the hum's harmonics 2, 3, ...; harmonic ``h`` has phase
        ``h * hum_phase``.
    drift_path : ndarray of shape (n_samples,) or None, default=None
        The drift of every row when ``drift="random_walk"``.
    filter_cutoff : float or None, default=None
        -3 dB frequency (Hz) of the 4-pole Bessel low-pass filter applied to the whole
        current (baseline, channels and noise), as a patch-clamp amplifier does.

    See Also
    --------
    make_ion_switching : Returns these models with ``return_model=True``.
    oracle_proba : The exact posterior of a recording given its model.

    Examples
    --------
    >>> from skion.datasets import make_ion_switching
    >>> X, y, groups, models = make_ion_switching(
    ...     1000, regime="3_channels", random_state=0, return_model=True
    ... )
    >>> model = models[0]
    >>> model.n_channels, model.kinetics, model.start, model.stop
    (3, 'bursting', 0, 1000)
    >>> model.baseline().shape  # offset + hum + drift of every row
    (1000,)
    """

    start: int
    stop: int
    regime: str
    n_channels: int
    kinetics: str
    rates: np.ndarray
    open_states: np.ndarray
    transition: np.ndarray
    stationary: np.ndarray
    step: float
    offset: float
    noise: float
    dt: float
    hum_amplitude: float
    hum_frequency: float
    hum_phase: float
    drift: str
    drift_amplitude: float
    hum_harmonics: tuple = ()
    drift_path: np.ndarray | None = None
    filter_cutoff: float | None = None

    @property
    def n_samples(self) -> int:
        """Number of rows of the recording."""
        return self.stop - self.start

    def hum_and_drift(self) -> np.ndarray:
        """Deterministic additive component (line hum + drift), shape ``(n_samples,)``."""
        n = self.n_samples
        t = np.arange(n) * self.dt
        out = self.hum_amplitude * np.sin(2 * np.pi * self.hum_frequency * t + self.hum_phase)
        for h, amplitude in enumerate(self.hum_harmonics, start=2):
            out += amplitude * np.sin(h * (2 * np.pi * self.hum_frequency * t + self.hum_phase))
        if self.drift == "sine":
            out += self.drift_amplitude * np.sin(np.pi * np.arange(n) / n)
        elif self.drift == "ramp":
            out += self.drift_amplitude * np.arange(n) / max(n - 1, 1)
        elif self.drift == "random_walk":
            out += self.drift_path
        return out

    def baseline(self) -> np.ndarray:
        """Noise-free current with all channels closed: ``offset + hum + drift``.

        With ``filter_cutoff``, the baseline as the amplifier's filter outputs it.
        """
        out = self.offset + self.hum_and_drift()
        if self.filter_cutoff is not None:
            out = bessel_lowpass(out, self.filter_cutoff, 1.0 / self.dt)
        return out


def bessel_lowpass(signal: np.ndarray, cutoff: float, sampling_rate: float) -> np.ndarray:
    """4-pole Bessel low-pass (-3 dB at ``cutoff`` Hz), causal, started at steady state.

    The filter of patch-clamp amplifiers. Linear, so filtering a sum equals the sum of
    the filtered parts (the initial state is scaled by each part's first value).
    """
    sos = bessel_sos(cutoff, sampling_rate)
    zi = sosfilt_zi(sos) * signal[0]
    return sosfilt(sos, signal, zi=zi)[0]


def _resolve_kinetics(kinetics):
    """Return ``(name, Q, open_mask)`` from a preset name or a ``(Q, open_states)`` pair."""
    if isinstance(kinetics, str):
        if kinetics not in KINETICS:
            raise ValueError(
                f"Unknown kinetics {kinetics!r}; expected one of {sorted(KINETICS)} "
                "or a (rates, open_states) pair."
            )
        Q, mask, _ = KINETICS[kinetics]
        return kinetics, np.array(Q), np.array(mask)
    try:
        Q, open_states = kinetics
    except (TypeError, ValueError):
        raise ValueError(
            f"kinetics must be a preset name or a (rates, open_states) pair, got {kinetics!r}."
        ) from None
    Q = np.array(Q, dtype=np.float64)
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1] or Q.shape[0] < 2:
        raise ValueError(f"kinetics rates must be a square matrix of size >= 2, got {Q.shape}.")
    off = ~np.eye(Q.shape[0], dtype=bool)
    if not np.all(np.isfinite(Q)) or np.any(Q[off] < 0):
        raise ValueError("kinetics rates must be finite with non-negative off-diagonal entries.")
    Q[~off] = 0.0
    Q[np.diag_indices_from(Q)] = -Q.sum(axis=1)
    if np.any(np.diag(Q) >= 0):
        raise ValueError("kinetics rates: every state needs a positive exit rate.")
    mask = np.zeros(Q.shape[0], dtype=bool)
    open_states = np.asarray(open_states)
    if open_states.dtype == bool:
        if open_states.shape != mask.shape:
            raise ValueError(
                f"kinetics open_states mask must have shape {mask.shape}, got {open_states.shape}."
            )
        mask = open_states.copy()
    else:
        mask[open_states.astype(int)] = True
    if mask.all() or not mask.any():
        raise ValueError("kinetics open_states must mark some, but not all, states as open.")
    # irreducibility: the stationary distribution must solve pi Q = 0 exactly and be unique
    if np.linalg.matrix_rank(Q) != Q.shape[0] - 1:
        raise ValueError("kinetics rates must describe an irreducible (connected) scheme.")
    return "custom", Q, mask


def _simulate_channel(P, pi, n_samples, rng):
    """Exact state path (int8, length ``n_samples``) of one discrete chain from ``pi``."""
    n_states = P.shape[0]
    leave = 1.0 - np.diag(P)
    jump = P / leave[:, None]
    jump[np.diag_indices(n_states)] = 0.0
    cum = np.cumsum(jump, axis=1)
    for s in range(n_states):  # exact upper end: u < 1 never selects a zero-probability state
        last = np.flatnonzero(jump[s] > 0)[-1]
        cum[s, last:] = 1.0
    thresholds = cum[:, :-1]  # next state = number of thresholds <= u
    rate = float(pi @ leave)  # expected jumps per sample
    state = int(rng.choice(n_states, p=pi))
    pieces, total = [], 0
    while total < n_samples:
        remaining = n_samples - total
        n_jumps = int(remaining * rate + 5 * math.sqrt(remaining * rate) + 10)
        u = rng.random(n_jumps - 1)
        maps = (u[:, None, None] >= thresholds[None, :, :]).sum(axis=2).astype(np.int8)
        # prefix compositions: after the loop maps[k] = f_{k+1} o ... o f_1
        shift = 1
        while shift < len(maps):
            maps[shift:] = np.take_along_axis(maps[shift:], maps[:-shift], axis=1)
            shift *= 2
        states = np.empty(n_jumps, dtype=np.int8)
        states[0] = state
        states[1:] = maps[:, state]
        dwell = rng.geometric(leave[states])
        cumulative = np.cumsum(dwell)
        keep = int(np.searchsorted(cumulative, remaining)) + 1
        pieces.append(np.repeat(states[:keep], dwell[:keep]))
        total += int(cumulative[min(keep, n_jumps) - 1])
        if total < n_samples:  # all jumps used: continue from the next state
            state = int(np.searchsorted(cum[states[-1]], rng.random(), side="right"))
    return np.concatenate(pieces)[:n_samples]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "regime": [StrOptions({"mixed", *REGIMES})],
        "n_channels": [Interval(Integral, 1, 10, closed="both"), None],
        "kinetics": [StrOptions(set(KINETICS)), tuple, None],
        "noise": [Interval(Real, 0, LARGEST_FLOAT32, closed="right"), None],
        "drift": ["boolean", StrOptions({"sine", "ramp", "none"}), None],
        "line_hum": [Interval(Real, 0, LARGEST_FLOAT32, closed="both")],
        "offset": [Interval(Real, -LARGEST_FLOAT32, LARGEST_FLOAT32, closed="both")],
        "step": [Interval(Real, 0, LARGEST_FLOAT32, closed="right")],
        "random_state": ["random_state"],
        "return_model": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_ion_switching(
    n_samples: int = 500_000,
    *,
    regime: str = "mixed",
    n_channels: int | None = None,
    kinetics: str | tuple[ArrayLike, ArrayLike] | None = None,
    noise: float | None = None,
    drift: bool | str | None = None,
    line_hum: float = 0.1,
    offset: float = -2.7,
    step: float = 1.23,
    random_state: int | np.random.RandomState | None = None,
    return_model: bool = False,
) -> (
    tuple[np.ndarray, np.ndarray, np.ndarray]
    | tuple[np.ndarray, np.ndarray, np.ndarray, tuple[RecordingModel, ...]]
):
    """Simulate patch-clamp recordings of Markov-gated ion channels (10 kHz).

    Every recording holds ``N`` identical, independent channels gated by a
    continuous-time Markov scheme with rate matrix ``Q``; at ``dt = 1e-4`` s each channel
    is a discrete chain with transition matrix ``expm(Q * dt)``, started from its
    stationary distribution and simulated exactly (geometric dwells, embedded jump chain;
    no loop per sample). The label is the number of open channels and the current is::

        offset + step * n_open + hum(t) + drift(t) + noise * N(0, 1)

    with a 50 Hz line hum of random phase per recording and an optional slow drift.

    Preset regimes (``n_channels``, gating scheme, noise sd in pA), mirroring the
    batches of the Kaggle "University of Liverpool - Ion Switching" data:

    - ``"1_slow"``: 1 channel, ``"slow"`` C1-C2-O scheme (open dwell ~333 samples),
      noise 0.25;
    - ``"1_fast"``: 1 channel, ``"fast"`` C1-C2-O scheme (open dwell ~20 samples),
      noise 0.25;
    - ``"3_channels"`` and ``"5_channels"``: 3 or 5 channels, ``"bursting"``
      C1-C2-O1-O2 scheme with two open lifetimes (~17 and ~40 samples), noise 0.25
      and 0.28;
    - ``"10_channels"``: 10 channels, ``"high"`` C1-C2-O scheme, P(open) ~ 0.61,
      noise 0.40 (the competition's noisiest batches; its hardest regime).

    ``regime="mixed"`` concatenates ten recordings of equal length in the order of the
    competition's training batches (1_slow, 1_slow, 1_fast, 3, 10, 5, 1_fast, 3, 5, 10
    channels), so that every class 0..10 appears; by default recording 1 carries a
    linear ramp and recordings 6-9 a half-period sine drift, as in the competition.

    Parameters
    ----------
    n_samples : int, default=500_000
        Total number of rows (split as evenly as possible between the recordings of
        ``"mixed"``, which needs at least 10).
    regime : {"mixed", "1_slow", "1_fast", "3_channels", "5_channels", "10_channels"}, \
default="mixed"
        Preset regime (see the table).
    n_channels : int, default=None
        Number of channels, 1..10, overriding the preset of a single regime. Not
        allowed with ``"mixed"``.
    kinetics : str or (rates, open_states) pair, default=None
        Gating scheme overriding the regime's (for every recording): a key of
        ``KINETICS`` (``"slow"``, ``"fast"``, ``"bursting"``, ``"high"``), or a rate matrix
        ``Q`` in s^-1 (off-diagonal entries are used; the diagonal is set so rows sum to
        zero) with a boolean mask or index list of the open states.
    noise : float, default=None
        Gaussian noise sd (pA), > 0, for every recording; ``None`` uses the regime's.
    drift : bool, {"sine", "ramp", "none"} or None, default=None
        Slow drift. ``None``: the competition pattern for ``"mixed"`` and no drift for a
        single regime. ``False`` or ``"none"``: no drift. ``True``: every recording gets a
        drift of random kind. ``"sine"`` or ``"ramp"``: every recording gets that kind.
        Amplitudes are drawn uniformly in 2..5 pA (ramps with a random sign).
    line_hum : float, default=0.1
        Amplitude of the 50 Hz line hum (pA), >= 0; its phase is random per recording.
    offset : float, default=-2.7
        Current with all channels closed (pA).
    step : float, default=1.23
        Current of one open channel (pA), > 0.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives identical output.
    return_model : bool, default=False
        Also return the generating model, one :class:`RecordingModel` per recording,
        from which :func:`oracle_proba` computes the exact Bayes posterior.

    Returns
    -------
    X : ndarray of shape (n_samples, 1), dtype float32
        The current (pA).
    y : ndarray of shape (n_samples,), dtype int64
        Number of open channels, 0..10.
    groups : ndarray of shape (n_samples,), dtype int64
        Recording id of every row (0, 1, ... in row order).
    model : tuple of RecordingModel
        Only when ``return_model=True``: rates, transition matrix, step, offset, noise,
        hum and drift of each recording, with its row range.

    Raises
    ------
    ValueError
        Unknown ``regime`` or ``kinetics``, ``n_channels`` outside 1..10, non-positive
        ``noise``, ``step`` or ``n_samples``, negative ``line_hum``, invalid ``drift``.

    See Also
    --------
    oracle_proba : Exact posterior over open-channel counts for the generated data.
    make_telegraph : Simpler two-state channels without hum or drift.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.datasets import make_ion_switching
    >>> X, y, groups = make_ion_switching(200_000, random_state=0)
    >>> X.shape, X.dtype, y.dtype, np.unique(groups).tolist()
    ((200000, 1), dtype('float32'), dtype('int64'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> np.unique(y).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

    One fast single channel without hum or drift: the current sits at ``offset`` or
    ``offset + step``.

    >>> X, y, _, model = make_ion_switching(
    ...     10_000, regime="1_fast", line_hum=0, random_state=0, return_model=True
    ... )
    >>> model[0].n_channels, model[0].kinetics, round(model[0].noise, 2)
    (1, 'fast', 0.25)
    >>> round(float(X[y == 1, 0].mean() - X[y == 0, 0].mean()), 1)
    1.2
    """
    n_samples = int(n_samples)
    if regime == "mixed":
        names = list(MIXED)
        if n_channels is not None:
            raise ValueError(
                "n_channels cannot be combined with regime='mixed'; choose a single regime."
            )
        if n_samples < len(names):
            raise ValueError(
                f"regime='mixed' needs n_samples >= {len(names)} (one row per recording), "
                f"got {n_samples}."
            )
    else:
        names = [regime]
    noise = None if noise is None else float(noise)
    step, line_hum, offset = float(step), float(line_hum), float(offset)
    drift = bool(drift) if isinstance(drift, bool | np.bool_) else drift
    custom = None if kinetics is None else _resolve_kinetics(kinetics)

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    rng = np.random.default_rng(seed)
    n_rec = len(names)
    sizes = np.full(n_rec, n_samples // n_rec)
    sizes[: n_samples % n_rec] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])

    X = np.empty(n_samples, dtype=np.float32)
    y = np.empty(n_samples, dtype=np.int64)
    groups = np.repeat(np.arange(n_rec, dtype=np.int64), sizes)
    models = []
    for i, name in enumerate(names):
        preset_channels, preset_kinetics, preset_noise = REGIMES[name]
        kin_name, Q, mask = custom if custom is not None else _resolve_kinetics(preset_kinetics)
        n_ch = preset_channels if n_channels is None else int(n_channels)
        if drift is None:
            kind = MIXED_DRIFT.get(i, "none") if regime == "mixed" else "none"
        elif drift is True:
            kind = ("sine", "ramp")[int(rng.integers(2))]
        elif drift is False:
            kind = "none"
        else:
            kind = drift
        amplitude = float(rng.uniform(2.0, 5.0)) if kind != "none" else 0.0
        if kind == "ramp" and rng.random() < 0.5:
            amplitude = -amplitude
        P = expm(Q * DT)
        P = np.clip(P, 0.0, None)
        P /= P.sum(axis=1, keepdims=True)
        pi = stationary(Q)
        for array in (Q, mask, P, pi):
            array.setflags(write=False)
        model = RecordingModel(
            start=int(bounds[i]),
            stop=int(bounds[i + 1]),
            regime=name,
            n_channels=n_ch,
            kinetics=kin_name,
            rates=Q,
            open_states=mask,
            transition=P,
            stationary=pi,
            step=step,
            offset=offset,
            noise=preset_noise if noise is None else noise,
            dt=DT,
            hum_amplitude=line_hum,
            hum_frequency=_HUM_FREQUENCY,
            hum_phase=float(rng.uniform(0, 2 * np.pi)),
            drift=kind,
            drift_amplitude=amplitude,
        )
        n = model.n_samples
        n_open = np.zeros(n, dtype=np.int64)
        for _ in range(n_ch):
            n_open += mask[_simulate_channel(P, pi, n, rng)]
        current = model.baseline() + step * n_open + model.noise * rng.standard_normal(n)
        X[model.start : model.stop] = current
        y[model.start : model.stop] = n_open
        models.append(model)
    X = X[:, None]
    if return_model:
        return X, y, groups, tuple(models)
    return X, y, groups

"""Recordings as another rig makes them: any scheme, rate, step, sign, drift, hum and filter."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from scipy.interpolate import CubicSpline
from scipy.linalg import expm
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._signal import LARGEST_FLOAT32
from .._strict import validate_params
from ..hmm._aggregated_chain import stationary
from ._ion_switching import (
    RecordingModel,
    _resolve_kinetics,
    _simulate_channel,
    bessel_lowpass,
)

__all__ = ["make_patch_clamp"]

#: Knot spacing (s) of the ``"random_walk"`` drift: slow wandering, smooth between knots.
_WALK_KNOT_SECONDS = 0.5


def _drift_path(kind, amplitude, n, sampling_rate, rng):
    """``(amplitude, path or None)`` of one recording's drift (path only for random walks)."""
    if kind == "ramp" and rng.random() < 0.5:
        return -amplitude, None
    if kind != "random_walk":
        return amplitude, None
    n_knots = max(int(n / sampling_rate / _WALK_KNOT_SECONDS), 1) + 2
    walk = np.cumsum(rng.standard_normal(n_knots))
    path = CubicSpline(np.linspace(0, n - 1, n_knots), walk)(np.arange(n))
    path -= path[0]
    span = np.ptp(path)
    return amplitude, path * (amplitude / span if span > 0 else 0.0)


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "kinetics": [str, tuple, list],
        "n_channels": [Interval(Integral, 1, 20, closed="both")],
        "n_recordings": [Interval(Integral, 1, None, closed="left")],
        "sampling_rate": [Interval(Real, 100, None, closed="left")],
        "unitary_current": [Interval(Real, -LARGEST_FLOAT32, LARGEST_FLOAT32, closed="both")],
        "offset": [Interval(Real, -LARGEST_FLOAT32, LARGEST_FLOAT32, closed="both")],
        "noise": [Interval(Real, 0, LARGEST_FLOAT32, closed="right")],
        "drift": [StrOptions({"none", "ramp", "sine", "random_walk"})],
        "drift_amplitude": [Interval(Real, 0, LARGEST_FLOAT32, closed="both")],
        "line_freq": [Interval(Real, 0, None, closed="neither")],
        "hum_amplitude": [Interval(Real, 0, LARGEST_FLOAT32, closed="both")],
        "hum_harmonics": [tuple, list],
        "filter_cutoff": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
        "return_model": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_patch_clamp(
    n_samples: int = 1_000_000,
    *,
    kinetics: str | tuple[ArrayLike, ArrayLike] = "fast",
    n_channels: int = 1,
    n_recordings: int = 1,
    sampling_rate: float = 10_000.0,
    unitary_current: float = 1.0,
    offset: float = 0.0,
    noise: float = 0.2,
    drift: str = "none",
    drift_amplitude: float = 0.0,
    line_freq: float = 50.0,
    hum_amplitude: float = 0.0,
    hum_harmonics: tuple[float, ...] = (),
    filter_cutoff: float | None = None,
    random_state: int | np.random.RandomState | None = None,
    return_model: bool = False,
):
    """Simulate patch-clamp recordings under any rig's conditions.

    Every recording holds ``n_channels`` identical, independent channels gated by a
    continuous-time Markov scheme; at ``dt = 1 / sampling_rate`` each channel is the
    discrete chain ``expm(Q * dt)``, started from its stationary distribution and simulated
    exactly. The current is::

        offset + unitary_current * n_open + hum(t) + drift(t) + noise * N(0, 1)

    low-pass filtered as a whole (channels, noise, hum and drift) by a 4-pole Bessel
    filter when ``filter_cutoff`` is given, as the amplifier does. The label is the
    number of open channels before filtering.

    Parameters
    ----------
    n_samples : int, default=1_000_000
        Total number of rows, split as evenly as possible between the recordings.
    kinetics : str or (rates, open_states) pair, default="fast"
        Gating scheme: a key of ``skion.datasets.KINETICS`` or a single-channel rate
        matrix ``Q`` in s^-1 (off-diagonal entries used) with a boolean mask or index
        list of its open states.
    n_channels : int, default=1
        Channels per recording, 1..20.
    n_recordings : int, default=1
        Number of recordings (independent draws of hum phase, drift and gating).
    sampling_rate : float, default=10_000.0
        Samples per second (Hz), >= 100.
    unitary_current : float, default=1.0
        Current of one open channel (pA), either sign (negative for inward currents),
        not zero.
    offset : float, default=0.0
        Current with every channel closed (pA).
    noise : float, default=0.2
        Standard deviation of the white recording noise (pA), > 0, before filtering.
    drift : {"none", "ramp", "sine", "random_walk"}, default="none"
        Slow baseline drift of every recording: a linear ramp of random sign, half a
        sine period over the recording, or a random walk with knots every 0.5 s joined
        by a cubic spline; each spans ``drift_amplitude``.
    drift_amplitude : float, default=0.0
        Peak-to-peak size of the drift (pA).
    line_freq : float, default=50.0
        Mains frequency of the hum (Hz); 50 or 60 on real rigs.
    hum_amplitude : float, default=0.0
        Amplitude of the hum's fundamental (pA); its phase is random per recording.
    hum_harmonics : tuple of float, default=()
        Amplitudes (pA) of harmonics 2, 3, ... of the hum.
    filter_cutoff : float or None, default=None
        -3 dB frequency (Hz) of the 4-pole Bessel low-pass filter; below the Nyquist
        frequency. ``None``: unfiltered.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives identical output.
    return_model : bool, default=False
        Also return one :class:`RecordingModel` per recording; :func:`oracle_proba`
        computes the exact posterior of unfiltered recordings from it.

    Returns
    -------
    X : ndarray of shape (n_samples, 1), dtype float32
        The current (pA).
    y : ndarray of shape (n_samples,), dtype int64
        Number of open channels.
    groups : ndarray of shape (n_samples,), dtype int64
        Recording of every row (0, 1, ...).
    baseline : ndarray of shape (n_samples,), dtype float64
        The true closed-channel current (offset + hum + drift, filtered like ``X``).
    model : tuple of RecordingModel
        Only when ``return_model=True``.

    Raises
    ------
    ValueError
        On an invalid scheme, a ``filter_cutoff`` at or above the Nyquist frequency, or
        a ``line_freq`` of a hum that the sampling rate cannot carry.

    See Also
    --------
    make_ion_switching : The competition-like preset regimes at 10 kHz.
    oracle_proba : Exact posterior of unfiltered recordings.

    Examples
    --------
    Two 20 kHz recordings of three channels with a -2 pA inward current, a random-walk
    drift and a 2 kHz filter:

    >>> from skion.datasets import make_patch_clamp
    >>> X, y, groups, baseline = make_patch_clamp(
    ...     100_000, n_channels=3, n_recordings=2, sampling_rate=20_000,
    ...     unitary_current=-2.0, drift="random_walk", drift_amplitude=4.0,
    ...     filter_cutoff=2_000, random_state=0,
    ... )
    >>> X.shape, sorted(set(groups.tolist())), int(y.max()) <= 3
    ((100000, 1), [0, 1], True)
    """
    if n_samples < n_recordings:
        raise ValueError(
            f"n_samples={n_samples} is fewer than one row per recording "
            f"(n_recordings={n_recordings})."
        )
    if unitary_current == 0:
        raise ValueError("unitary_current must not be zero.")
    nyquist = sampling_rate / 2
    if filter_cutoff is not None and filter_cutoff >= nyquist:
        raise ValueError(
            f"filter_cutoff={filter_cutoff} Hz must be below the Nyquist frequency "
            f"{nyquist:g} Hz of sampling_rate={sampling_rate:g}."
        )
    n_hum = 1 + len(hum_harmonics)
    if (hum_amplitude or any(hum_harmonics)) and n_hum * line_freq >= nyquist:
        raise ValueError(
            f"The hum's highest harmonic ({n_hum * line_freq:g} Hz) must be below the "
            f"Nyquist frequency {nyquist:g} Hz."
        )
    harmonics = tuple(float(a) for a in hum_harmonics)
    if not all(np.isfinite(a) and a >= 0 for a in harmonics):
        raise ValueError(f"hum_harmonics must be non-negative amplitudes, got {hum_harmonics!r}.")
    kin_name, Q, mask = _resolve_kinetics(kinetics)
    dt = 1.0 / float(sampling_rate)
    P = np.clip(expm(Q * dt), 0.0, None)
    P /= P.sum(axis=1, keepdims=True)
    pi = stationary(Q)
    for array in (Q, mask, P, pi):
        array.setflags(write=False)

    rng = np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    sizes = np.full(n_recordings, n_samples // n_recordings)
    sizes[: n_samples % n_recordings] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    X = np.empty(n_samples, dtype=np.float32)
    y = np.empty(n_samples, dtype=np.int64)
    true_baseline = np.empty(n_samples)
    groups = np.repeat(np.arange(n_recordings, dtype=np.int64), sizes)
    models = []
    for i in range(n_recordings):
        n = int(sizes[i])
        amplitude, path = _drift_path(drift, float(drift_amplitude), n, sampling_rate, rng)
        model = RecordingModel(
            start=int(bounds[i]),
            stop=int(bounds[i + 1]),
            regime="custom",
            n_channels=int(n_channels),
            kinetics=kin_name if isinstance(kinetics, str) else "custom",
            rates=Q,
            open_states=mask,
            transition=P,
            stationary=pi,
            step=float(unitary_current),
            offset=float(offset),
            noise=float(noise),
            dt=dt,
            hum_amplitude=float(hum_amplitude),
            hum_frequency=float(line_freq),
            hum_phase=float(rng.uniform(0, 2 * np.pi)),
            drift=drift,
            drift_amplitude=amplitude,
            hum_harmonics=harmonics,
            drift_path=path,
            filter_cutoff=None if filter_cutoff is None else float(filter_cutoff),
        )
        n_open = np.zeros(n, dtype=np.int64)
        for _ in range(int(n_channels)):
            n_open += mask[_simulate_channel(P, pi, n, rng)]
        raw = model.offset + model.hum_and_drift()
        current = raw + model.step * n_open + model.noise * rng.standard_normal(n)
        if filter_cutoff is not None:
            current = bessel_lowpass(current, filter_cutoff, sampling_rate)
        X[model.start : model.stop] = current
        y[model.start : model.stop] = n_open
        true_baseline[model.start : model.stop] = model.baseline()
        models.append(model)
    if return_model:
        return X[:, None], y, groups, true_baseline, tuple(models)
    return X[:, None], y, groups, true_baseline

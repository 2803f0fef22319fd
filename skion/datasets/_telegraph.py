"""Random telegraph signals: independent two-state ion channels plus Gaussian noise."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._signal import LARGEST_FLOAT32
from .._strict import validate_params

__all__ = ["make_telegraph"]


def _channel_states(n_samples, p_open, p_close, rng):
    """One two-state Markov chain (0 closed, 1 open) of ``n_samples`` steps.

    Dwell times are geometric, drawn in bulk and expanded with ``np.repeat``, so the
    cost is O(n_samples) numpy work with no Python loop per sample.
    """
    state = int(rng.random() < p_open / (p_open + p_close))  # stationary start
    states, total = [], 0
    while total < n_samples:
        mean_dwell = 0.5 * (1 / p_open + 1 / p_close)
        n_draw = int(1.2 * (n_samples - total) / mean_dwell) + 2
        leave = np.where((np.arange(n_draw) + state) % 2 == 1, p_close, p_open)
        dwell = rng.geometric(leave)
        values = (np.arange(n_draw) + state) % 2
        states.append(np.repeat(values.astype(np.int8), dwell))
        total += int(dwell.sum())
        state = 1 - values[-1]
    return np.concatenate(states)[:n_samples]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, 1000, closed="both")],
        "p_open": [Interval(Real, 0, 1, closed="right")],
        "p_close": [Interval(Real, 0, 1, closed="right")],
        "step": [Interval(Real, -LARGEST_FLOAT32, LARGEST_FLOAT32, closed="both")],
        "noise": [Interval(Real, 0, LARGEST_FLOAT32, closed="both")],
        "offset": [Interval(Real, -LARGEST_FLOAT32, LARGEST_FLOAT32, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_telegraph(
    n_samples: int = 100_000,
    *,
    n_channels: int = 1,
    p_open: float = 0.01,
    p_close: float = 0.01,
    step: float = 1.0,
    noise: float = 0.25,
    offset: float = 0.0,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a patch-clamp current of independent two-state channels.

    Each channel opens with probability ``p_open`` and closes with probability
    ``p_close`` per sample (a discrete-time Markov chain); the current is
    ``offset + step * n_open + noise * N(0, 1)``.

    Parameters
    ----------
    n_samples : int, default=100_000
        Number of time samples.
    n_channels : int, default=1
        Number of independent channels (1 to 1000); labels range over ``0..n_channels``.
    p_open, p_close : float, default=0.01
        Per-sample opening and closing probabilities, in (0, 1].
    step : float, default=1.0
        Current of one open channel (pA).
    noise : float, default=0.25
        Standard deviation of the additive Gaussian noise (pA).
    offset : float, default=0.0
        Current with all channels closed (pA).
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible signals.

    Returns
    -------
    X : ndarray of shape (n_samples, 1), dtype float32
        The current.
    y : ndarray of shape (n_samples,), dtype int64
        Number of open channels at each sample.

    Examples
    --------
    >>> from skion.datasets import make_telegraph
    >>> X, y = make_telegraph(1000, n_channels=3, random_state=0)
    >>> X.shape, y.shape, int(y.max()) <= 3
    ((1000, 1), (1000,), True)
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    rng = np.random.default_rng(seed)
    y = np.zeros(n_samples, dtype=np.int64)
    for _ in range(n_channels):
        y += _channel_states(n_samples, p_open, p_close, rng)
    current = offset + step * y + noise * rng.standard_normal(n_samples)
    return current.astype(np.float32)[:, None], y

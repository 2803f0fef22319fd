"""Open-channel noise: a variance that grows with the number of open channels.

Every open channel adds its own current noise (ion flux, conformational flicker), so the
variance at count ``k`` is ``noise ** 2 + k * excess ** 2``: the white noise of the
recording with every channel closed plus ``excess ** 2`` per open channel. These
functions give EM's M-step for ``(noise, excess)`` from the E-step's per-count sums.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

__all__ = ["expected_loglik", "fit_open_noise", "level_squares"]


def level_squares(posteriors, step):
    """``(rows, squares)`` per count ``k``: the expected rows at ``k`` and the expected sum
    of their squared residuals about ``step * k`` (residuals from the E-step's
    baselines), summed over the recordings' posteriors."""
    rows = sum(p.occupancy for p in posteriors)
    first = sum(p.moments[0] for p in posteriors)
    second = sum(p.moments[1] for p in posteriors)
    k = np.arange(len(rows))
    squares = second - 2.0 * step * k * first + (step * k) ** 2 * rows
    return rows, np.maximum(squares, 0.0)


def expected_loglik(rows, squares, noise, excess):
    """Expected log-likelihood of the residuals (without the ``2 pi`` term) under sd
    ``sqrt(noise ** 2 + k * excess ** 2)`` at count ``k``."""
    variance = noise**2 + np.arange(len(rows)) * excess**2
    return float(-0.5 * (rows @ np.log(variance) + squares @ (1.0 / variance)))


def fit_open_noise(rows, squares, step, floor, start):
    """``(noise, excess)`` of highest :func:`expected_loglik`, ``noise >= floor``.

    Parameters
    ----------
    rows, squares : ndarray of shape (n_counts,)
        :func:`level_squares`.
    step : float
        Unitary current: the variances are fitted in squared steps.
    floor : float
        Smallest noise sd.
    start : tuple of float
        ``(noise, excess)`` to start from.

    Returns
    -------
    noise, excess : float
    """
    scale = step * step
    total = rows.sum()
    g, s = rows / total, squares / (total * scale)
    k = np.arange(len(rows), dtype=np.float64)

    def objective(theta):
        v = theta[0] + k * theta[1]
        value = g @ np.log(v) + s @ (1.0 / v)
        d = g / v - s / (v * v)
        return value, np.array([d.sum(), k @ d])

    theta0 = np.array([max(start[0] ** 2 / scale, floor**2 / scale), start[1] ** 2 / scale])
    found = minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(floor**2 / scale, None), (0.0, None)],
    )
    a, c = found.x
    return float(np.sqrt(a * scale)), float(np.sqrt(max(c, 0.0) * scale))

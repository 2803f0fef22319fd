"""The closed-channel current of one recording: a slow drift plus line hum.

Given the current minus the decoded channel current (``x - step * E[k]``), the baseline
is what remains after the white noise is averaged away: a moving mean over
``window`` rows for the drift (or one constant), and a least-squares sinusoid at the line
frequency and its harmonics for the hum. Inside the EM of :class:`AggregatedHMM` this is
the M-step of the baseline: exact for a constant, and a smoothing of the residual for a
drift much slower than the window.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

__all__ = ["fit_baseline"]


def _hum(residual, line_freq, n_harmonics, sampling_rate):
    """Least-squares hum (fundamental and harmonics) of ``residual``."""
    n = len(residual)
    phase = 2 * np.pi * line_freq / sampling_rate * np.arange(n)
    hum = np.zeros(n)
    for h in range(1, n_harmonics + 1):
        if h * line_freq >= sampling_rate / 2:
            break
        for basis in (np.sin(h * phase), np.cos(h * phase)):
            norm = basis @ basis
            if norm > 0:
                hum += (residual @ basis) / norm * basis
    return hum


def fit_baseline(residual, *, window, line_freq, n_harmonics, sampling_rate):
    """Baseline of one recording from the current minus the decoded channels.

    Parameters
    ----------
    residual : ndarray of shape (n_samples,)
        ``x - step * E[n_open]``.
    window : int or None
        Rows of the moving mean that tracks drift; ``None`` fits a constant.
    line_freq : float or None
        Line frequency (Hz) whose hum is fitted with ``n_harmonics`` harmonics.
    n_harmonics : int
        Harmonics of the hum (1 = the fundamental only).
    sampling_rate : float
        Samples per second.

    Returns
    -------
    baseline : ndarray of shape (n_samples,)
    """
    hum = 0.0
    for _ in range(2 if line_freq is not None else 1):
        cleaned = residual - hum
        if window is None or window >= len(residual):
            slow = np.full(len(residual), cleaned.mean())
        else:
            slow = uniform_filter1d(cleaned, window, mode="reflect")
        if line_freq is not None:
            hum = _hum(residual - slow, line_freq, n_harmonics, sampling_rate)
    return slow + hum

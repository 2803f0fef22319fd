"""Lattice calibration of one recording without labels: noise, unitary current, levels.

The current of ``N`` identical channels sits on the lattice ``closed + k * unitary``.
At high noise (sd half the step or more) the lattice's peaks vanish from the histogram of
single samples, but not from the histogram of a moving average over ``m`` samples, whose
noise shrinks as ``1 / sqrt(m)`` while dwells longer than ``m`` samples stay on the
lattice. Calibration therefore looks for equally spaced peaks of the log-density at
increasing smoothing, and stops at the first smoothing that shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, uniform_filter1d
from scipy.signal import find_peaks

__all__ = ["Lattice", "calibrate_lattice", "level_weights", "noise_sd", "refine_lattice"]

#: Moving-average lengths tried, in order, until the lattice shows.
SMOOTHINGS = (1, 2, 4, 8, 16, 32)
#: Peaks must stand this many e-folds above the valleys beside them.
PROMINENCE = 1.0
#: Samples needed near a peak for it to count (guards against tails of few samples).
MIN_PEAK_MASS = 50
#: Rows (evenly spaced) of the lattice mixture fit.
_REFINE_ROWS = 100_000
#: Rows used for calibration (the longest recordings are subsampled in contiguous runs).
CALIBRATION_ROWS = 400_000


@dataclass(frozen=True)
class Lattice:
    """Levels found in one recording: ``levels[i] = offset + i * step`` (``step > 0``)."""

    offset: float
    step: float
    n_levels: int
    noise_sd: float
    smoothing: int


def noise_sd(x):
    """Robust white-noise sd: the MAD of first differences over sqrt(2).

    Gating transitions are rare among consecutive samples, so they barely move the
    median; drift and slow hum cancel in a difference.
    """
    d = np.diff(np.asarray(x, dtype=np.float64))
    if d.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def _peaks(z, width):
    """Peak positions of the log-density of ``z`` (Gaussian kernel of sd ``width``)."""
    lo, hi = np.quantile(z, [1e-4, 1 - 1e-4])
    lo, hi = lo - 3 * width, hi + 3 * width
    bin_width = width / 4
    n_bins = int(np.ceil((hi - lo) / bin_width)) + 1
    if n_bins > 200_000:  # width tiny against the spread: no lattice at this resolution
        return np.empty(0)
    hist, edges = np.histogram(z, bins=n_bins, range=(lo, hi))
    density = gaussian_filter1d(hist.astype(np.float64), sigma=4.0)
    log_density = np.log(density + 1e-3)
    idx, _ = find_peaks(log_density, prominence=PROMINENCE)
    mass = density[idx] * np.sqrt(2 * np.pi) * 4.0  # samples within about one kernel sd
    idx = idx[mass >= MIN_PEAK_MASS]
    return (edges[idx] + edges[idx + 1]) / 2


def _spacing(peaks):
    """Unitary step from peak positions (robust to a missing level), or None."""
    if len(peaks) < 2:
        return None
    gaps = np.diff(peaks)
    unit = np.median(gaps)
    multiples = np.maximum(np.round(gaps / unit), 1)
    if np.any(np.abs(gaps / multiples - unit) > 0.25 * unit):
        return None  # peaks not equally spaced: not a lattice
    return float((peaks[-1] - peaks[0]) / multiples.sum())


def refine_lattice(z, offset, step, n_levels, sd, *, max_iter=200, tol=1e-5):
    """Lattice mixture EM: means ``offset + k * step``, one sd, free weights.

    Peaks of overlapping levels lean towards the most occupied level, which shrinks
    their spacing (by 10 % for 10 channels at noise 0.33 of the step); the mixture fit
    removes that bias. Two levels beyond each outermost peak may take weight.
    """
    k = np.arange(-2, n_levels + 2, dtype=np.float64)
    weights = np.full(len(k), 1.0 / len(k))
    for _ in range(max_iter):
        previous = step
        d = (z[:, None] - offset - step * k[None, :]) / sd
        log_r = np.log(weights)[None, :] - 0.5 * d * d
        log_r -= log_r.max(axis=1, keepdims=True)
        r = np.exp(log_r)
        r /= r.sum(axis=1, keepdims=True)
        mass = r.sum(axis=0)
        weights = np.clip(mass / len(z), 1e-12, None)
        mean_k, mean_x = (mass @ k) / len(z), z.mean()
        cov = (z @ r @ k) / len(z) - mean_x * mean_k
        var_k = (mass @ (k * k)) / len(z) - mean_k**2
        if not var_k > 0:
            break
        step = cov / var_k
        offset = mean_x - step * mean_k
        resid = z[:, None] - offset - step * k[None, :]
        sd = float(np.sqrt(np.sum(r * resid * resid) / len(z)))
        if abs(step - previous) < tol * abs(step):
            break
    d = (z[:, None] - offset - step * k[None, :]) / sd
    loglik = float(
        np.logaddexp.reduce(np.log(weights)[None, :] - 0.5 * d * d, axis=1).mean() - np.log(sd)
    )
    used = np.flatnonzero(weights * len(z) >= min(MIN_PEAK_MASS, weights.max() * len(z)))
    offset += step * k[used.min()]
    return float(offset), float(step), int(used.max() - used.min()) + 1, sd, loglik


def level_weights(z, offset, step, n_levels, sd, *, max_iter=200, tol=1e-6):
    """Fraction of time at every level of a known lattice (a mixture fit of weights only).

    Levels from three below ``offset`` to three above the top are allowed. Returns
    ``(first, weights)``: the index (relative to ``offset``) of the lowest level with
    weight and the normalised weights from there to the highest level with weight.
    """
    k = np.arange(-3, n_levels + 3)
    d = (z[:, None] - offset - step * k[None, :]) / sd
    log_density = -0.5 * d * d
    log_density -= log_density.max(axis=1, keepdims=True)
    density = np.exp(log_density)
    weights = np.full(len(k), 1.0 / len(k))
    for _ in range(max_iter):
        r = density * weights[None, :]
        r /= r.sum(axis=1, keepdims=True)
        new = r.mean(axis=0)
        done = np.max(np.abs(new - weights)) < tol
        weights = new
        if done:
            break
    used = np.flatnonzero(weights * len(z) >= MIN_PEAK_MASS)
    if used.size == 0:
        return 0, np.ones(1)
    kept = weights[used.min() : used.max() + 1]
    return int(k[used.min()]), kept / kept.sum()


def calibrate_lattice(x):
    """Find the equally spaced levels of one recording without labels.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        The current of one recording.

    Returns
    -------
    lattice : Lattice or None
        ``None`` when no smoothing shows two or more equally spaced levels.
    """
    x = np.asarray(x, dtype=np.float64)
    if len(x) > CALIBRATION_ROWS:
        x = x[:CALIBRATION_ROWS]
    sigma = noise_sd(x)
    if not sigma > 0:
        return None
    for m in SMOOTHINGS:
        if 4 * m > len(x):
            break
        z = uniform_filter1d(x, m, mode="reflect") if m > 1 else x
        peaks = _peaks(z, 0.5 * sigma / np.sqrt(m))
        step = _spacing(peaks)
        if step is None:
            continue
        n_levels = round((peaks[-1] - peaks[0]) / step) + 1
        offset = float(peaks[0])
        if m == 1:  # overlapping levels: refine (smoothed peaks are sharp, and a mixture
            # fit to a smoothed current would read its blurred transitions as levels)
            sample = z[:: max(len(z) // _REFINE_ROWS, 1)]
            offset, step, n_levels, sigma, _ = refine_lattice(sample, offset, step, n_levels, sigma)
        return Lattice(offset, step, n_levels, sigma, m)
    return None

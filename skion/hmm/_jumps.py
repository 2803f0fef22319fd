"""Unitary current from the sharp jumps of a recording, whatever its drift.

Slow gating and drift are confounded in a density: when the channels dwell for tens of
milliseconds or longer in a state, a moving mean (or any smooth baseline) follows them,
and the lattice of the current less that baseline shows the wrong spacing (1.37 pA for
0.97 pA, three slow channels on a random walk). Gating, however, moves the current
within one sample and drift does not: the differences of the mean current just after
and just before each change point are whole multiples of the unitary current, with the
drift's share over a few dozen samples negligible.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

__all__ = ["jump_step"]

#: Half-widths (samples) of the mean-difference filter that finds change points, tried
#: in turn until the filter's noise is small against the jumps.
_WIDTHS = (4, 8, 16, 32, 64)
#: A change point stands this many noise sd of the filter above zero.
_THRESHOLD_SD = 4.0
#: The threshold must be below this fraction of the median jump.
_MAX_THRESHOLD = 0.5
#: Samples (in filter half-widths) either side of a change point that size its jump.
_SIDE_WIDTHS = 8
#: Jumps needed to size the unitary current.
_MIN_JUMPS = 20
#: Mean rows between change points, in filter half-widths, below which the jumps are not
#: resolved (measured: 2.5-3.1 for fast and bursting channels, whose jumps then gave
#: steps up to 20 % off; 4.5-24 for slow and high-Po ones, 0.5-4 % off).
_MIN_DWELL_WIDTHS = 4.0
#: Fraction of the jumps that must lie near a whole number of steps (0.41-0.57 fast,
#: 0.71-0.97 slow).
_MIN_NEAR = 0.6
#: Jumps further than this fraction of a step from a whole number of steps are ignored
#: (two change points merged, or a dwell shorter than the filter).
_JUMP_TOLERANCE = 0.25
_ROUNDS = 10


def _jumps(x, cumsum, sd, width):
    """Change points of ``x`` and the size of the jump at each."""
    n = len(x)
    t = np.arange(width, n - width + 1)
    after = (cumsum[t + width] - cumsum[t]) / width
    before = (cumsum[t] - cumsum[t - width]) / width
    size = np.abs(after - before)
    threshold = _THRESHOLD_SD * sd * np.sqrt(2.0 / width)
    points = t[(size == maximum_filter1d(size, 2 * width + 1)) & (size > threshold)]
    # the mean of each side, up to the neighbouring change points, sample at the change
    # point excluded (a jump lands anywhere within it)
    edges = np.concatenate([[0], points, [n]])
    side = _SIDE_WIDTHS * width
    lo = np.maximum(edges[:-2] + 1, points - side)
    hi = np.minimum(edges[2:] - 1, points + side)
    left = np.maximum(points - 1, lo)
    right = np.minimum(points + 1, hi)
    ok = (left - lo >= 2) & (hi - right >= 2)
    lo, left, right, hi = lo[ok], left[ok], right[ok], hi[ok]
    means_left = (cumsum[left] - cumsum[lo]) / (left - lo)
    means_right = (cumsum[hi] - cumsum[right]) / (hi - right)
    return means_right - means_left, threshold


def jump_step(x, sd):
    """Unitary current (``> 0``) from the jumps of ``x``, or ``None`` if too few jump.

    The change points come from a mean-difference filter at the narrowest half-width
    whose noise leaves single steps clear; each jump is sized by the mean current either
    side, and the step is the least-squares fit of the jumps that lie near a whole
    number of steps. Accurate when dwells are long against the filter (measured within
    0.5-4 % on slow channels at noise 0.15-0.43 step); fast gating merges jumps and
    biases it by up to 20 %, so short dwells or scattered jump sizes give ``None``.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Current of one recording.
    sd : float
        Its white-noise sd.

    Returns
    -------
    step : float or None
    """
    x = np.asarray(x, dtype=np.float64)
    if not sd > 0:
        return None
    cumsum = np.concatenate([[0.0], np.cumsum(x - np.mean(x))])
    for width in _WIDTHS:
        if 4 * width >= len(x):
            break
        sizes, threshold = _jumps(x, cumsum, sd, width)
        if len(sizes) < _MIN_JUMPS:
            continue
        step = float(np.median(np.abs(sizes)))
        if threshold > _MAX_THRESHOLD * step:
            continue
        if len(x) < _MIN_DWELL_WIDTHS * width * len(sizes):
            return None  # dwells as short as the filter: merged jumps
        for _ in range(_ROUNDS):
            k = np.round(sizes / step)
            near = (k != 0) & (np.abs(sizes - step * k) < _JUMP_TOLERANCE * step)
            if near.sum() < _MIN_JUMPS:
                return None
            step = float(sizes[near] @ k[near] / (k[near] @ k[near]))
        return step if near.mean() >= _MIN_NEAR else None
    return None

"""Slow noise left in a fit: how much more the residual's block means vary than white noise's.

The hidden Markov models assume white noise about a baseline that follows only slow
drift. Noise between the baseline's time scale and the channels' own (1/f noise, a
drift faster than the tracking window) breaks that silently: the model reads it as
transitions, and its likelihood then favours readings that absorb the noise (another
channel count, the current read upside down). Block means of the residual show it:
averaged over ``m`` rows, white noise's variance falls by ``m``; slow noise's does not.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_BLOCKS", "SLOW_NOISE_BLOCK", "SLOW_NOISE_LIMIT", "slow_noise_ratio"]

#: Blocks the recordings must hold for the ratio to be measured (its sd on white noise
#: is about ``sqrt(2 / blocks)``).
MIN_BLOCKS = 8
#: Blocks (a fraction of ``baseline_window``) over which the fit's residual is averaged
#: to measure the slow noise left in it, and the ratio to white noise's variance above
#: which the fit warns: 0.3-2.1 measured on 40 random cells of white noise (drift, hum,
#: 1-8 channels) and 0.4-1.3 on filtered recordings (the filter undone) where the fit
#: holds, 25-56 under 1/f noise of 0.3 step.
SLOW_NOISE_BLOCK = 0.25
SLOW_NOISE_LIMIT = 5.0


def slow_noise_ratio(residuals, block):
    """Variance of the residuals' means over blocks of ``block`` rows, times ``block``,
    over the residuals' variance; each recording centred, blocks pooled over them.

    About 1 for white noise (less where the baseline took up part of it); ``1 + 2 *``
    the sum of the residual's autocorrelations up to the block's length otherwise.
    ``nan`` where the recordings hold fewer than ``MIN_BLOCKS`` whole blocks, or the
    residual is constant.

    Parameters
    ----------
    residuals : list of ndarray of shape (n_rows,)
        The residual of every recording (current minus the fitted levels and baseline).
    block : int
        Rows per block.

    Returns
    -------
    ratio : float
    """
    block = max(int(block), 1)
    mean_squares, n_blocks, squares, n_rows = 0.0, 0, 0.0, 0
    for r in residuals:
        r = np.asarray(r, dtype=np.float64)
        r = r - r.mean()
        k = len(r) // block
        if k:
            means = r[: k * block].reshape(k, block).mean(axis=1)
            mean_squares += float(means @ means)
            n_blocks += k
        squares += float(r @ r)
        n_rows += len(r)
    if n_blocks < MIN_BLOCKS or not squares > 0:
        return float("nan")
    return (mean_squares / n_blocks) * block / (squares / n_rows)

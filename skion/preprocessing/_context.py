"""Neighbour features inside recordings: shifted copies and centred rolling statistics.

Both work on all recordings at once with O(n_samples) numpy operations; ``starts`` and
``ends`` are the recording bounds from :func:`skion.windowing.segment_bounds`.
"""

from __future__ import annotations

import numpy as np


def _recording_of(starts, ends):
    """Index of the recording of every row."""
    return np.repeat(np.arange(len(starts)), ends - starts)


def shifted(Z, k, starts, ends):
    """Row ``i`` gets row ``i - k`` of its recording (``k > 0``: lag, ``k < 0``: lead).

    Rows whose source would fall outside the recording repeat the edge row.
    """
    rec = _recording_of(starts, ends)
    source = np.clip(np.arange(len(Z)) - k, starts[rec], ends[rec] - 1)
    return Z[source]


def rolling_mean_std(Z, width, starts, ends):
    """Centred rolling mean and standard deviation over ``width`` rows per recording.

    The window of row ``i`` is ``[i - width // 2, i - width // 2 + width)`` cut at the
    recording's edges. Sums come from float64 cumulative sums, so the cost does not
    depend on ``width``.
    """
    rec = _recording_of(starts, ends)
    rows = np.arange(len(Z))
    lo = np.maximum(rows - width // 2, starts[rec])
    hi = np.minimum(rows - width // 2 + width, ends[rec])
    count = (hi - lo)[:, None].astype(np.float64)
    zero = np.zeros((1, Z.shape[1]))
    csum = np.concatenate([zero, np.cumsum(Z, axis=0, dtype=np.float64)])
    csq = np.concatenate([zero, np.cumsum(np.square(Z, dtype=np.float64), axis=0)])
    mean = (csum[hi] - csum[lo]) / count
    var = np.maximum((csq[hi] - csq[lo]) / count - mean**2, 0.0)
    return mean.astype(Z.dtype), np.sqrt(var).astype(Z.dtype)

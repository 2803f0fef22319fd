"""Checks shared by the kinetics functions: per-sample open-channel counts and recordings."""

from __future__ import annotations

import numpy as np

from ..windowing import segment_bounds


def check_counts(labels) -> np.ndarray:
    """``labels`` as a 1-D int64 array of non-negative whole counts, or a clear error."""
    counts = np.asarray(labels)
    if counts.ndim == 2 and counts.shape[1] == 1:
        counts = counts[:, 0]
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(
            f"labels must be a non-empty 1-D array of open-channel counts; got shape "
            f"{counts.shape}."
        )
    if not (np.issubdtype(counts.dtype, np.integer) or np.issubdtype(counts.dtype, np.floating)):
        raise ValueError(f"labels must be numeric open-channel counts; got dtype {counts.dtype}.")
    bad = np.flatnonzero(~np.isfinite(counts) | (counts != np.round(counts)) | (counts < 0))
    if len(bad):
        raise ValueError(
            f"labels must be whole numbers of open channels >= 0; row {bad[0]} holds "
            f"{counts[bad[0]].item()!r}."
        )
    if counts.max() > 2**31:
        raise ValueError(f"labels reach {counts.max()!r}: too large to count open channels.")
    return counts.astype(np.int64)


def recordings(n_samples: int, groups):
    """``(starts, ends, names)``: the rows of every recording and its name.

    A recording is a run of equal ``groups`` labels (as everywhere in skion); its name
    is that label, or 0 when ``groups`` is None.
    """
    if groups is not None:
        groups = np.asarray(groups)
        if groups.ndim != 1:
            raise ValueError(f"groups must be 1-D; got shape {groups.shape}.")
    starts, ends = segment_bounds(n_samples, groups)  # refuses NaN labels
    names = np.zeros(len(starts), dtype=np.int64) if groups is None else groups[starts]
    return starts, ends, names

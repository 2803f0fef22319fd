"""Per-recording signal cleaning: power-line interference and slow drift removal."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from scipy.signal import filtfilt, iirnotch


def check_below_nyquist(name, freq, sampling_rate):
    """Raise a ValueError naming ``name`` unless ``freq`` is None or below Nyquist."""
    if freq is not None and not freq < sampling_rate / 2:
        raise ValueError(
            f"{name}={freq} Hz must be below the Nyquist frequency "
            f"sampling_rate / 2 = {sampling_rate / 2} Hz."
        )


def remove_line_noise(part, freq, sampling_rate, *, quality=30.0):
    """Zero-phase notch filter at ``freq`` Hz along axis 0 of one recording."""
    b, a = iirnotch(freq, quality, fs=sampling_rate)
    padlen = min(3 * max(len(a), len(b)), len(part) - 1)
    if padlen < 1:  # a single row has no frequency content to remove
        return part
    return filtfilt(b, a, part, axis=0, padlen=padlen)


def remove_trend(part, kind, *, degree=1, window=50_000, anchor="mean"):
    """Subtract the slow trend of one recording.

    ``kind="poly"``: least-squares polynomial of ``degree`` in time.
    ``kind="median"``: medians of consecutive blocks of ``window`` rows, linearly
    interpolated between block centres (constant beyond the outer centres).
    ``anchor="mean"`` keeps the recording's mean level (drift with zero mean);
    ``anchor="start"`` keeps the level at its first row (drift that starts at zero,
    such as a ramp or a half sine added to a clean recording).
    """
    n = len(part)
    t = np.arange(n, dtype=np.float64)
    if kind == "poly":
        if n <= degree:
            return part
        scaled = (t - t.mean()) / max(t.std(), 1.0)  # well-conditioned Vandermonde
        vander = np.vander(scaled, degree + 1)
        coef, *_ = np.linalg.lstsq(vander, part.astype(np.float64), rcond=None)
        trend = vander @ coef
    elif kind == "median":
        n_blocks = max(1, int(np.ceil(n / window)))
        edges = np.linspace(0, n, n_blocks + 1).astype(int)
        centres = 0.5 * (edges[:-1] + edges[1:] - 1)
        medians = np.stack([np.median(part[a:b], axis=0) for a, b in pairwise(edges)])
        trend = np.column_stack(
            [np.interp(t, centres, medians[:, j]) for j in range(part.shape[1])]
        )
    else:
        raise ValueError(f"Unknown detrend {kind!r}.")
    reference = trend.mean(axis=0) if anchor == "mean" else trend[0]
    return part - (trend - reference)

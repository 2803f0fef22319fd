"""``resample_recordings``: recordings at another sampling rate, rows mapped back."""

from __future__ import annotations

from fractions import Fraction
from numbers import Real

import numpy as np
from scipy.signal import resample_poly
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ..windowing import Recordings

__all__ = ["resample_recordings"]

#: Largest denominator of the rate ratio (resample_poly's filter grows with it).
_MAX_DENOMINATOR = 1000


@validate_params(
    {
        "X": ["array-like"],
        "groups": ["array-like", None],
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
        "target_rate": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def resample_recordings(X, groups=None, *, sampling_rate, target_rate):
    """Resample every recording to another sampling rate, and map rows back.

    Models learn kinetics per sample, so a model trained at one rate predicts another
    rate's recordings after resampling them to its own. Each recording (a run of equal
    ``groups``) is resampled on its own with :func:`scipy.signal.resample_poly` (a
    polyphase filter that also low-passes against aliasing when the rate goes down), so
    no filter crosses a recording boundary; ``rows`` maps every input row to the output
    row at the nearest time, so ``model.predict(X_out)[rows]`` is one prediction per
    input row.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples in row order.
    groups : array-like of shape (n_samples,), default=None
        Recording of every row; None is one recording.
    sampling_rate : float
        Rate of ``X`` in Hz.
    target_rate : float
        Rate to resample to, in Hz. ``target_rate / sampling_rate`` must be a ratio of
        integers with a denominator up to 1000 (e.g. 20 kHz to 10 kHz, 44.1 to 10 kHz).

    Returns
    -------
    X_out : ndarray of shape (n_out, n_features), float
        The recordings at ``target_rate``.
    groups_out : ndarray of shape (n_out,), int64
        Recording index (0, 1, ...) of every output row.
    rows : ndarray of shape (n_samples,), int64
        Output row at the time of every input row.

    Raises
    ------
    ValueError
        If the two rates are not in a ratio of small integers.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.preprocessing import resample_recordings
    >>> X = np.repeat([0.0, 1.0, 0.0, 2.0], 50)[:, None]  # 200 rows at 20 kHz
    >>> X_out, groups_out, rows = resample_recordings(X, sampling_rate=20_000,
    ...                                               target_rate=10_000)
    >>> X_out.shape, rows[:6]
    ((100, 1), array([0, 1, 1, 2, 2, 3]))
    >>> X_out[rows][[25, 75, 125, 175], 0].round(2)  # mid-plateau, back at input rows
    array([0., 1., 0., 2.])
    """
    X = check_array(X, dtype=[np.float64, np.float32])
    ratio = Fraction(target_rate / sampling_rate).limit_denominator(_MAX_DENOMINATOR)
    if abs(float(ratio) * sampling_rate - target_rate) > 1e-6 * target_rate:
        raise ValueError(
            f"Cannot resample {sampling_rate:g} Hz to {target_rate:g} Hz: the rates are not "
            f"in a ratio of integers with a denominator up to {_MAX_DENOMINATOR}."
        )
    up, down = ratio.numerator, ratio.denominator
    pieces, out_groups, rows, offset = [], [], [], 0
    for index, recording in enumerate(Recordings(len(X), groups)):
        piece = X[recording]
        n_in = len(piece)
        if up != down:
            piece = resample_poly(piece, up, down, axis=0, padtype="line")
        nearest = (np.arange(n_in, dtype=np.int64) * up + down // 2) // down
        rows.append(offset + np.minimum(nearest, len(piece) - 1))
        pieces.append(piece)
        out_groups.append(np.full(len(piece), index, dtype=np.int64))
        offset += len(piece)
    return np.concatenate(pieces), np.concatenate(out_groups), np.concatenate(rows)

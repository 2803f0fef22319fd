"""The recordings of a row-per-sample signal: found once, then iterated by every step.

Rows of ``X`` are time samples; ``groups`` labels the recording of each row. Every
transformer and estimator finds the recordings once per call (:class:`Recordings`) and
works on one recording at a time (``for rows in recordings: ... X[rows] ...``), so that
nothing is computed across a recording boundary and helpers take a single recording.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval

from .._strict import validate_params

__all__ = ["Recordings", "segment_bounds"]


class Recordings:
    """The recordings marked by ``groups`` in ``n_samples`` rows.

    Found once (by :func:`segment_bounds`, with its checks), then iterated: iterating
    gives the rows of each recording as a ``slice``, in row order. Every skion
    transformer and estimator accepts a ``Recordings`` wherever it accepts ``groups``,
    so a caller that already found them does not make the next step find them again.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    groups : array-like of shape (n_samples,) or Recordings, default=None
        Recording label of each row (see :func:`segment_bounds`); ``None`` means one
        recording.

    Attributes
    ----------
    starts, ends : ndarray of int64
        ``[starts[i], ends[i])`` are the rows of recording ``i``.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.windowing import Recordings
    >>> recordings = Recordings(5, ["a", "a", "b", "b", "b"])
    >>> len(recordings), list(recordings)
    (2, [slice(0, 2, None), slice(2, 5, None)])
    >>> recordings.apply(np.cumsum, np.ones(5))
    array([1., 2., 1., 2., 3.])
    """

    __slots__ = ("ends", "starts")

    def __init__(self, n_samples: int, groups: ArrayLike | Recordings | None = None):
        self.starts, self.ends = segment_bounds(n_samples, groups)

    @property
    def n_samples(self) -> int:
        """Number of rows in all."""
        return int(self.ends[-1])

    @property
    def lengths(self) -> np.ndarray:
        """Number of rows of each recording."""
        return self.ends - self.starts

    def __len__(self) -> int:
        return len(self.starts)

    def __iter__(self) -> Iterator[slice]:
        for start, end in zip(self.starts.tolist(), self.ends.tolist(), strict=True):
            yield slice(start, end)

    def __repr__(self) -> str:
        return f"Recordings(n_recordings={len(self)}, n_samples={self.n_samples})"

    def apply(
        self, func: Callable[[np.ndarray], ArrayLike], values: np.ndarray, *, out=None
    ) -> np.ndarray:
        """``func`` of each recording's rows of ``values``, in the same rows of ``out``.

        Parameters
        ----------
        func : callable
            Takes the rows of one recording and returns as many rows.
        values : ndarray of shape (n_samples, ...)
            The signal.
        out : ndarray, default=None
            Where to write (may be ``values`` itself); a new array like ``values`` when
            None.

        Returns
        -------
        out : ndarray
        """
        if out is None:
            out = np.empty_like(values)
        for rows in self:
            out[rows] = func(values[rows])
        return out


#: ``groups`` over at least this many rows whose recordings have a median length under
#: ``_SHORTEST_TYPICAL_RECORDING`` rows are refused as a row index (``np.arange(n)``)
#: or a time column passed by mistake: nothing can be learnt from recordings that short.
_ROW_INDEX_CHECK_ROWS = 1000
_SHORTEST_TYPICAL_RECORDING = 10


@validate_params(
    {"n_samples": [Interval(Integral, 1, None, closed="left")], "groups": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def segment_bounds(
    n_samples: int, groups: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end rows of the recordings marked by ``groups``.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    groups : array-like of shape (n_samples,) or Recordings, default=None
        Recording label of each row. ``None`` means one recording.
        A recording is a maximal run of consecutive rows with equal labels, so
        ``[0, 0, 1, 1, 0]`` holds three recordings. :class:`Recordings` already
        found for these rows are used as they are.

    Returns
    -------
    starts, ends : ndarray of int64
        ``[starts[i], ends[i])`` are the rows of recording ``i``, in row order.

    Raises
    ------
    ValueError
        If ``groups`` does not have one label per row, holds NaN or None, or (over 1000
        rows or more) marks recordings of a median length under 10 rows, as a row index
        passed for ``groups`` would.

    Examples
    --------
    >>> segment_bounds(5, ["a", "a", "b", "b", "a"])
    (array([0, 2, 4]), array([2, 4, 5]))
    """
    if isinstance(groups, Recordings):
        if groups.n_samples != n_samples:
            raise ValueError(
                f"groups holds recordings of {groups.n_samples} rows in all, but X has "
                f"{n_samples} rows."
            )
        return groups.starts, groups.ends
    if groups is None:
        return np.array([0], dtype=np.int64), np.array([n_samples], dtype=np.int64)
    groups = np.asarray(groups)
    if groups.shape != (n_samples,):
        raise ValueError(
            f"groups must have shape ({n_samples},) to match the rows of X; "
            f"got shape {groups.shape}."
        )
    missing = _missing_labels(groups)
    if missing.size:
        raise ValueError(
            f"groups holds NaN or None at row {missing[0]} ({missing.size} row(s) in all): "
            "every row needs a recording label."
        )
    change = np.flatnonzero(groups[1:] != groups[:-1]) + 1
    starts = np.concatenate(([0], change)).astype(np.int64)
    ends = np.concatenate((change, [n_samples])).astype(np.int64)
    if n_samples >= _ROW_INDEX_CHECK_ROWS:
        typical = float(np.median(ends - starts))
        if typical < _SHORTEST_TYPICAL_RECORDING:
            raise ValueError(
                f"groups marks {len(starts)} recordings in {n_samples} rows (a median of "
                f"{typical:g} row(s) each): it looks like a row index or a time, not a "
                "recording label. Give every row the label of its recording (one value per "
                "recording, such as the file or sweep number), or leave groups out for one "
                "recording."
            )
    return starts, ends


def _missing_labels(groups: np.ndarray) -> np.ndarray:
    """Rows whose recording label is NaN (floats) or None/NaN (objects)."""
    if groups.dtype.kind in "fc":
        return np.flatnonzero(np.isnan(groups))
    if groups.dtype.kind == "O":
        import pandas as pd

        return np.flatnonzero(pd.isna(groups))
    return np.empty(0, dtype=np.int64)

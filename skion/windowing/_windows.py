"""Cut row-per-sample signals into fixed-length windows and stitch them back.

Everything here is pure numpy and works on index arithmetic only, so that a window
plan for a 10-million-sample recording costs a few arrays of length ``n_windows``.

Vocabulary
----------
segment
    A maximal run of consecutive rows with the same ``groups`` value: one
    recording. Windows never cross a segment boundary; rows a window needs beyond
    its segment are filled by reflecting the segment at its edge ("padding").
stride
    Distance between the starts of consecutive windows of a segment. Training uses
    ``stride == window`` (no overlap); prediction uses ``window - 2 * margin``.
owned rows
    Each row belongs to exactly one window: the one in which it lies furthest from
    the edges. Stitching reads every row's value from its owner, so the window
    edges (``margin`` rows on each side, except at segment ends) are discarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ._recordings import Recordings, segment_bounds

_ROWS = [Interval(Integral, 1, None, closed="left")]
_MARGIN = [Interval(Integral, 0, None, closed="left")]
_GROUPS = ["array-like", Recordings, None]

__all__ = [
    "WindowPlan",
    "gather_windows",
    "make_windows",
    "plan_windows",
    "stitch_windows",
]


@dataclass(frozen=True)
class WindowPlan:
    """Where every window of a windowed signal starts and which rows it owns.

    All arrays have length ``n_windows`` and hold absolute row indices, ordered by
    segment and then by time, so the owned ranges tile ``[0, n_samples)`` in order.

    Attributes
    ----------
    window : int
        Window length in rows.
    n_samples : int
        Number of rows of the signal the plan was made for.
    start : ndarray of int64
        First row of each window (the window may run past its segment's end).
    seg_start, seg_end : ndarray of int64
        Bounds ``[seg_start, seg_end)`` of the segment each window belongs to.
    own_start, own_end : ndarray of int64
        Rows ``[own_start, own_end)`` whose stitched value comes from this window.

    See Also
    --------
    plan_windows : Make a plan.
    gather_windows : Cut the planned windows out of an array.
    stitch_windows : Put per-window outputs back into row order.

    Examples
    --------
    >>> from skion.windowing import plan_windows
    >>> plan = plan_windows(10, 4)
    >>> plan.n_windows, plan.start
    (3, array([0, 4, 8]))
    >>> plan.valid_mask()[-1]  # the last window runs 2 rows past the end
    array([ True,  True, False, False])
    """

    window: int
    n_samples: int
    start: np.ndarray
    seg_start: np.ndarray
    seg_end: np.ndarray
    own_start: np.ndarray
    own_end: np.ndarray

    @property
    def n_windows(self) -> int:
        """Number of windows in the plan."""
        return len(self.start)

    def valid_mask(self, index: slice | ArrayLike = slice(None)) -> np.ndarray:
        """Boolean ``(n, window)`` mask: True where a window row is real, not padding.

        Parameters
        ----------
        index : slice or array-like of int, default=slice(None)
            Windows to describe (all by default).

        Returns
        -------
        mask : ndarray of shape (n_selected, window), dtype bool
            False on the rows past the end of a window's recording (reflected padding).
        """
        rows = self.start[index, None] + np.arange(self.window)
        return rows < self.seg_end[index, None]

    def subset(self, index: slice | ArrayLike) -> WindowPlan:
        """Plan restricted to the windows selected by ``index`` (for hold-out splits).

        Parameters
        ----------
        index : slice or array-like of int or bool
            Windows to keep, in the plan's window order.

        Returns
        -------
        plan : WindowPlan
            The selected windows, for the same ``n_samples`` rows.
        """
        return WindowPlan(
            window=self.window,
            n_samples=self.n_samples,
            start=self.start[index],
            seg_start=self.seg_start[index],
            seg_end=self.seg_end[index],
            own_start=self.own_start[index],
            own_end=self.own_end[index],
        )


@validate_params(
    {"n_samples": _ROWS, "window": _ROWS, "margin": _MARGIN, "groups": _GROUPS},
    prefer_skip_nested_validation=True,
)
def plan_windows(
    n_samples: int, window: int, *, margin: int = 0, groups: ArrayLike | None = None
) -> WindowPlan:
    """Plan the windows covering every recording of a signal.

    Windows of a recording start at its first row and follow each other with
    ``stride = window - 2 * margin``; the last one may run past the recording's end
    (its tail is padding). A recording shorter than ``window`` gets one window.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    window : int
        Window length, at least 1.
    margin : int, default=0
        Rows discarded at each inner window edge when stitching. Must satisfy
        ``0 <= 2 * margin < window``.
    groups : array-like of shape (n_samples,), default=None
        Recording labels, see :func:`segment_bounds`.

    Returns
    -------
    WindowPlan

    Examples
    --------
    >>> plan = plan_windows(10, 4)
    >>> plan.start, plan.own_start, plan.own_end
    (array([0, 4, 8]), array([0, 4, 8]), array([ 4,  8, 10]))
    """
    window, margin = int(window), int(margin)
    if 2 * margin >= window:
        raise ValueError(f"margin must satisfy 0 <= 2 * margin < window={window}, got {margin}.")
    stride = window - 2 * margin
    seg_starts, seg_ends = segment_bounds(n_samples, groups)
    lengths = seg_ends - seg_starts
    # ceil((L - window) / stride) + 1 windows make the last one reach the segment end.
    counts = 1 + np.maximum(0, -(-(lengths - window) // stride))
    seg_of_window = np.repeat(np.arange(len(lengths)), counts)
    first_window = np.cumsum(counts) - counts
    k = np.arange(counts.sum()) - first_window[seg_of_window]  # index within segment
    seg_start = seg_starts[seg_of_window]
    seg_end = seg_ends[seg_of_window]
    start = seg_start + k * stride
    is_first = k == 0
    is_last = k == counts[seg_of_window] - 1
    own_start = np.where(is_first, seg_start, start + margin)
    own_end = np.where(is_last, seg_end, start + margin + stride)
    return WindowPlan(
        window=window,
        n_samples=int(n_samples),
        start=start.astype(np.int64),
        seg_start=seg_start.astype(np.int64),
        seg_end=seg_end.astype(np.int64),
        own_start=own_start.astype(np.int64),
        own_end=own_end.astype(np.int64),
    )


def _reflect(offset: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Map offsets ``>= 0`` into ``[0, length)`` by mirror reflection (numpy 'reflect')."""
    period = np.maximum(2 * (length - 1), 1)
    folded = offset % period
    return np.where(folded < length, folded, period - folded)


@validate_params(
    {"array": ["array-like"], "plan": [WindowPlan], "index": [slice, "array-like"]},
    prefer_skip_nested_validation=True,
)
def gather_windows(
    array: ArrayLike, plan: WindowPlan, index: slice | ArrayLike = slice(None)
) -> np.ndarray:
    """Copy the rows of the selected windows out of ``array``.

    Parameters
    ----------
    array : ndarray of shape (n_samples, ...)
        Row-per-sample data (features, labels or weights).
    plan : WindowPlan
        Plan made for ``n_samples`` rows.
    index : slice or array of int, default=slice(None)
        Which windows to gather; a slice keeps memory bounded for chunked use.

    Returns
    -------
    windows : ndarray of shape (n_selected, plan.window, ...)
        Window rows; rows past the segment end are the segment reflected at its end.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.windowing import gather_windows, plan_windows
    >>> plan = plan_windows(6, 4)
    >>> gather_windows(np.arange(6), plan)  # the second window is padded by reflection
    array([[0, 1, 2, 3],
           [4, 5, 4, 3]])
    >>> gather_windows(np.arange(6), plan, slice(1, 2))
    array([[4, 5, 4, 3]])
    """
    array = np.asarray(array)
    if len(array) != plan.n_samples:
        raise ValueError(f"array has {len(array)} rows but the plan was made for {plan.n_samples}.")
    start = plan.start[index, None]
    seg_start = plan.seg_start[index, None]
    length = plan.seg_end[index, None] - seg_start
    offset = start - seg_start + np.arange(plan.window)
    return array[seg_start + _reflect(offset, length)]


@validate_params(
    {"array": ["array-like"], "window": _ROWS, "margin": _MARGIN, "groups": _GROUPS},
    prefer_skip_nested_validation=True,
)
def make_windows(
    array: ArrayLike, window: int, *, margin: int = 0, groups: ArrayLike | None = None
) -> tuple[np.ndarray, WindowPlan]:
    """Cut a row-per-sample array into windows.

    Parameters
    ----------
    array : array-like of shape (n_samples, ...)
        Row-per-sample data.
    window : int
        Window length.
    margin : int, default=0
        Overlap is ``2 * margin`` rows; see :func:`plan_windows`.
    groups : array-like of shape (n_samples,), default=None
        Recording labels; windows never cross a recording boundary.

    Returns
    -------
    windows : ndarray of shape (n_windows, window, ...)
        The windows; rows past a recording's end are reflected padding.
    plan : WindowPlan
        What :func:`stitch_windows` needs to undo the cut; ``plan.valid_mask()``
        tells real rows from padding.

    Examples
    --------
    >>> import numpy as np
    >>> windows, plan = make_windows(np.arange(7), 3, groups=[0, 0, 0, 0, 0, 1, 1])
    >>> windows
    array([[0, 1, 2],
           [3, 4, 3],
           [5, 6, 5]])
    >>> stitch_windows(windows, plan)
    array([0, 1, 2, 3, 4, 5, 6])
    """
    array = np.asarray(array)
    plan = plan_windows(len(array), window, margin=margin, groups=groups)
    return gather_windows(array, plan), plan


@validate_params(
    {
        "windows": ["array-like"],
        "plan": [WindowPlan],
        "out": [np.ndarray, None],
        "first_window": [Interval(Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def stitch_windows(
    windows: ArrayLike, plan: WindowPlan, *, out: np.ndarray | None = None, first_window: int = 0
) -> np.ndarray:
    """Put per-window outputs back into row order, each row taken from its owner window.

    Parameters
    ----------
    windows : ndarray of shape (n_chunk, plan.window, ...)
        Outputs for windows ``first_window .. first_window + n_chunk - 1`` of the plan.
    plan : WindowPlan
        The plan the windows were cut with.
    out : ndarray of shape (n_samples, ...), default=None
        Array to write into; allocated when None. Passing the same ``out`` for
        consecutive chunks of windows stitches a long signal with bounded memory.
    first_window : int, default=0
        Plan index of ``windows[0]``.

    Returns
    -------
    out : ndarray of shape (n_samples, ...)
        Only the rows owned by the given windows are written.

    Examples
    --------
    Windows of 4 rows overlapping by 2; each row comes from the window in which it lies
    furthest from the edges. Stitching chunk by chunk into one ``out`` gives the same
    result with bounded memory:

    >>> import numpy as np
    >>> from skion.windowing import gather_windows, plan_windows, stitch_windows
    >>> plan = plan_windows(10, 4, margin=1)
    >>> windows = gather_windows(np.arange(10), plan)
    >>> stitch_windows(10 * windows, plan)
    array([ 0, 10, 20, 30, 40, 50, 60, 70, 80, 90])
    >>> out = np.zeros(10, dtype=int)
    >>> for first in range(0, plan.n_windows, 2):
    ...     chunk = gather_windows(np.arange(10), plan, slice(first, first + 2))
    ...     _ = stitch_windows(chunk, plan, out=out, first_window=first)
    >>> out
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    windows = np.asarray(windows)
    n_chunk = len(windows)
    if windows.shape[1:2] != (plan.window,):
        raise ValueError(f"windows must have length {plan.window}; got shape {windows.shape}.")
    last = first_window + n_chunk
    if first_window < 0 or last > plan.n_windows:
        raise ValueError(
            f"windows {first_window}..{last - 1} are outside the plan's {plan.n_windows} windows."
        )
    if out is None:
        out = np.empty((plan.n_samples, *windows.shape[2:]), dtype=windows.dtype)
    if n_chunk == 0:
        return out
    own_start = plan.own_start[first_window:last]
    own_end = plan.own_end[first_window:last]
    # Owned ranges of consecutive windows are contiguous: rows lo..hi of the output.
    lo, hi = own_start[0], own_end[-1]
    which = np.repeat(np.arange(n_chunk), own_end - own_start)
    rows = np.arange(lo, hi)
    out[lo:hi] = windows[which, rows - plan.start[first_window:last][which]]
    return out

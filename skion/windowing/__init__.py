"""Windowing: cut row-per-sample signals into network windows and stitch them back."""

from ._recordings import Recordings, segment_bounds
from ._windows import (
    WindowPlan,
    gather_windows,
    make_windows,
    plan_windows,
    stitch_windows,
)

__all__ = [
    "Recordings",
    "WindowPlan",
    "gather_windows",
    "make_windows",
    "plan_windows",
    "segment_bounds",
    "stitch_windows",
]

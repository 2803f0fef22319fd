"""Windowing: cut row-per-sample signals into network windows and stitch them back."""

from ._windows import (
    WindowPlan,
    gather_windows,
    make_windows,
    plan_windows,
    segment_bounds,
    stitch_windows,
)

__all__ = [
    "WindowPlan",
    "gather_windows",
    "make_windows",
    "plan_windows",
    "segment_bounds",
    "stitch_windows",
]

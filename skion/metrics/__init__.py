"""Per-class scores of segmentations and plotting helpers (matplotlib, extra ``plot``)."""

from ._plotting import plot_confusion, plot_history, plot_per_class_f1, plot_segment
from ._report import f1_summary, per_class_report

__all__ = [
    "f1_summary",
    "per_class_report",
    "plot_confusion",
    "plot_history",
    "plot_per_class_f1",
    "plot_segment",
]

"""Figures of a segmentation: a zoomed trace, the confusion matrix, per-class F1 and
training curves. matplotlib is imported lazily (extra ``plot``); each helper draws on
``ax`` or on a new figure that is not registered with pyplot (no GUI, no global state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # matplotlib is optional (extra "plot")
    from matplotlib.axes import Axes

__all__ = ["plot_confusion", "plot_history", "plot_per_class_f1", "plot_segment"]


def _new_axes(ax, figsize):
    """``ax`` itself, or the axes of a new headless figure."""
    if ax is not None:
        return ax
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skion's plotting helpers need matplotlib: pip install 'skion[plot]'."
        ) from error
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_segment(
    signal: ArrayLike,
    y_true: ArrayLike,
    y_pred: ArrayLike | None = None,
    *,
    start: int = 0,
    stop: int | None = None,
    sampling_rate: float = 10_000.0,
    ax: Axes | None = None,
) -> Axes:
    """Draw a stretch of the current with the true (and predicted) open channels.

    Parameters
    ----------
    signal : array-like of shape (n_samples,) or (n_samples, 1)
        The current (pA), one row per sample.
    y_true : array-like of shape (n_samples,)
        True open-channel count of every sample.
    y_pred : array-like of shape (n_samples,), default=None
        Predicted count; drawn dashed over the truth when given.
    start, stop : int, default=0 and None
        Rows to draw (``stop=None``: to the end). Keep it short (a few thousand rows)
        to see single openings.
    sampling_rate : float, default=10_000.0
        Samples per second; the x axis is in milliseconds.
    ax : matplotlib Axes, default=None
        Where to draw the current; the counts go on a twin axis at its right.

    Returns
    -------
    ax : matplotlib Axes
        The axes of the current (``ax.figure`` is the figure to save).

    Examples
    --------
    >>> from skion.metrics import plot_segment
    >>> ax = plot_segment([0.1, 1.2, 1.0, 0.0], [0, 1, 1, 0], [0, 1, 0, 0])
    >>> ax.get_ylabel()
    'current (pA)'
    """
    signal = np.asarray(signal, dtype=float).reshape(len(signal), -1)[:, 0]
    y_true = np.asarray(y_true)
    if len(y_true) != len(signal) or (y_pred is not None and len(y_pred) != len(signal)):
        raise ValueError("signal, y_true and y_pred must have one value per sample each.")
    rows = slice(start, stop)
    time_ms = np.arange(len(signal))[rows] * 1000.0 / sampling_rate
    if not len(time_ms):
        raise ValueError(f"start={start}, stop={stop} select no rows of {len(signal)}.")
    ax = _new_axes(ax, (10, 3.5))
    ax.plot(time_ms, signal[rows], color="0.6", linewidth=0.6, label="current")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("current (pA)")
    counts = ax.twinx()
    counts.step(time_ms, y_true[rows], where="mid", color="black", linewidth=1.2, label="true")
    if y_pred is not None:
        counts.step(
            time_ms,
            np.asarray(y_pred)[rows],
            where="mid",
            color="tab:orange",
            linewidth=1.2,
            linestyle="--",
            label="predicted",
        )
    counts.set_ylabel("open channels")
    counts.legend(loc="upper right", fontsize="small")
    return ax


def plot_confusion(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Row-normalised confusion matrix (each row: where the samples of a class went).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class of every sample.
    labels : array-like, default=None
        Classes in display order; None: every class seen in either.
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from skion.metrics import plot_confusion
    >>> ax = plot_confusion([0, 1, 1, 2], [0, 1, 2, 2])
    >>> ax.get_xlabel()
    'Predicted label'
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    ax = _new_axes(ax, (6.5, 5.5))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=labels,
        normalize="true",
        values_format=".2f",
        colorbar=False,
        cmap="Blues",
        ax=ax,
        text_kw={"fontsize": "x-small"},
    )
    return ax


def plot_per_class_f1(
    reports: Mapping[str, pd.DataFrame] | pd.DataFrame, *, ax: Axes | None = None
) -> Axes:
    """Grouped bars of per-class F1, one colour per model.

    Parameters
    ----------
    reports : DataFrame or mapping of name to DataFrame
        Tables from :func:`per_class_report` (a single one, or one per model).
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from skion.metrics import per_class_report, plot_per_class_f1
    >>> report = per_class_report([0, 1, 1, 2], [0, 1, 2, 2])
    >>> ax = plot_per_class_f1({"model": report})
    >>> ax.get_ylabel()
    'F1'
    """
    if isinstance(reports, pd.DataFrame):
        reports = {"F1": reports}
    if not reports:
        raise ValueError("reports is empty: give at least one per-class report.")
    classes = sorted(set().union(*(report.index for report in reports.values())))
    ax = _new_axes(ax, (10, 3.5))
    width = 0.8 / len(reports)
    positions = np.arange(len(classes))
    for i, (name, report) in enumerate(reports.items()):
        f1 = report["f1"].reindex(classes).to_numpy(dtype=float)
        ax.bar(positions + (i - (len(reports) - 1) / 2) * width, f1, width, label=name)
    ax.set_xticks(positions, [str(c) for c in classes])
    ax.set_xlabel("class (open channels)")
    ax.set_ylabel("F1")
    ax.set_ylim(0, 1.05)
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=min(len(reports), 3), fontsize="small"
    )
    return ax


def plot_history(history: Mapping[str, list[float]], *, ax: Axes | None = None) -> Axes:
    """Training curves: loss (and validation loss) with validation macro-F1 at the right.

    Parameters
    ----------
    history : mapping of str to list of float
        A fitted ``SequenceUNetClassifier``'s ``history_`` (keys ``loss`` and, with
        validation, ``val_loss`` and ``val_macro_f1``).
    ax : matplotlib Axes, default=None
        Where to draw; None: a new figure.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from skion.metrics import plot_history
    >>> ax = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6],
    ...                    "val_macro_f1": [0.4, 0.8]})
    >>> ax.get_xlabel()
    'epoch'
    """
    if not history.get("loss"):
        raise ValueError("history has no 'loss' values: pass a fitted model's history_.")
    ax = _new_axes(ax, (6.5, 3.5))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], marker="o", label="training loss")
    if history.get("val_loss"):
        ax.plot(epochs, history["val_loss"], marker="o", label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.legend(loc="upper left", fontsize="small")
    if history.get("val_macro_f1"):
        f1 = ax.twinx()
        f1.plot(epochs, history["val_macro_f1"], color="tab:green", marker="s")
        f1.set_ylabel("validation macro-F1", color="tab:green")
        f1.set_ylim(0, 1)
    return ax

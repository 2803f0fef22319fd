"""Per-class precision, recall and F1 of a segmentation, with the spread of per-class F1."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import precision_recall_fscore_support
from sklearn.utils.multiclass import unique_labels

__all__ = ["f1_summary", "per_class_report"]


def per_class_report(
    y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None
) -> pd.DataFrame:
    """Precision, recall, F1 and support of every class, as a table.

    Macro-F1, the competition's metric, is the mean of the ``f1`` column; rare classes
    (9 or 10 open channels) weigh as much as common ones, so the table shows which
    classes hold the score down. A class that is never predicted has precision 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class of every sample.
    y_pred : array-like of shape (n_samples,)
        Predicted class of every sample.
    labels : array-like, default=None
        Classes to report, in this order; None: every class in ``y_true`` or ``y_pred``.

    Returns
    -------
    report : pandas.DataFrame
        Indexed by class, columns ``precision``, ``recall``, ``f1`` and ``support``
        (number of true samples of the class).

    See Also
    --------
    f1_summary : Mean, minimum, maximum and spread of the ``f1`` column.
    sklearn.metrics.classification_report : The same numbers as text.

    Examples
    --------
    >>> from skion.metrics import per_class_report
    >>> per_class_report([0, 0, 1, 1, 2], [0, 1, 1, 1, 2])
       precision  recall        f1  support
    0   1.000000     0.5  0.666667        2
    1   0.666667     1.0  0.800000        2
    2   1.000000     1.0  1.000000        1
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            "y_true and y_pred must be 1-D arrays of the same length, got shapes "
            f"{y_true.shape} and {y_pred.shape}."
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty: there is nothing to score.")
    labels = unique_labels(y_true, y_pred) if labels is None else np.asarray(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0.0
    )
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(labels, name=None),
    )


def f1_summary(
    y_true: ArrayLike, y_pred: ArrayLike, *, labels: ArrayLike | None = None
) -> dict[str, float]:
    """Mean (macro-F1), minimum, maximum and standard deviation of per-class F1.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class of every sample.
    y_pred : array-like of shape (n_samples,)
        Predicted class of every sample.
    labels : array-like, default=None
        Classes to include; None: every class in ``y_true`` or ``y_pred``.

    Returns
    -------
    summary : dict
        ``{"mean": ..., "min": ..., "max": ..., "std": ...}`` (population standard
        deviation); ``"mean"`` equals ``f1_score(..., average="macro")``.

    Examples
    --------
    >>> from skion.metrics import f1_summary
    >>> {k: round(v, 3) for k, v in f1_summary([0, 0, 1, 1, 2], [0, 1, 1, 1, 2]).items()}
    {'mean': 0.822, 'min': 0.667, 'max': 1.0, 'std': 0.137}
    """
    f1 = per_class_report(y_true, y_pred, labels=labels)["f1"].to_numpy()
    return {
        "mean": float(f1.mean()),
        "min": float(f1.min()),
        "max": float(f1.max()),
        "std": float(f1.std()),
    }

"""Reader for the Kaggle "University of Liverpool - Ion Switching" CSV files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .._strict import validate_params

__all__ = ["load_liverpool_csv"]

#: Sampling interval of the Liverpool recordings (10 kHz), in seconds.
SAMPLE_INTERVAL = 1e-4

#: Largest accepted deviation of one time step from ``SAMPLE_INTERVAL`` (1 % of a step).
#: The files store times with four decimals, so valid steps are exact up to float rounding.
_STEP_TOLERANCE = 1e-6

_REQUIRED = ("time", "signal")
_LABEL = "open_channels"


def _where(row: int) -> str:
    """Describe data row ``row`` (0-based) and its line in the file (header is line 1)."""
    return f"row {row} (line {row + 2} of the file)"


def check_labels(path, values) -> np.ndarray:
    """``open_channels`` values as int64, or a ValueError naming the first that is not a
    non-negative integer."""
    bad = (values < 0) | (values != np.round(values)) | (values > np.iinfo(np.int32).max)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{path}: column {_LABEL!r} must hold non-negative integers; got "
            f"{float(values[row])!r} at {_where(row)}."
        )
    return values.astype(np.int64)


def check_unique_columns(path, columns) -> None:
    """Refuse a header that names a column twice (spaces and case aside): which of the two
    holds the signal, the labels or the time cannot be told."""
    seen = {}
    for name in columns:
        key = str(name).strip().lower()
        if key in seen:
            raise ValueError(
                f"{path}: the header names the column {str(name).strip()!r} twice; give "
                "every column its own name."
            )
        seen[key] = name


def _diagnose_values(path, columns) -> None:
    """Re-read ``columns`` as text and raise a ValueError naming the first bad value.

    Only called after the fast typed read failed, so the cost of reading strings is paid
    for broken files alone.
    """
    raw = pd.read_csv(path, index_col=False, dtype=str, engine="c")
    for column in columns:
        text = raw[column]
        missing = text.isna().to_numpy()
        numeric = pd.to_numeric(text, errors="coerce").isna().to_numpy()
        bad = numeric & ~missing
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{path}: column {column!r} has a non-numeric value {text.iloc[row]!r} at "
                f"{_where(row)}."
            )
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise ValueError(f"{path}: column {column!r} has a missing value at {_where(row)}.")


def _check_drift_batches(drift_batches, n_batches: int, path) -> np.ndarray:
    indices = []
    for batch in drift_batches:
        if isinstance(batch, bool) or not isinstance(batch, int | np.integer):
            raise ValueError(f"drift_batches must contain integers, got {batch!r}.")
        if not 0 <= batch < n_batches:
            raise ValueError(
                f"drift_batches contains {int(batch)}, but {path} has {n_batches} batch(es) "
                f"(valid indices 0..{n_batches - 1})."
            )
        indices.append(int(batch))
    return np.asarray(sorted(set(indices)), dtype=np.int64)


@validate_params(
    {
        "path": [str, os.PathLike],
        "drift_batches": ["array-like", None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def load_liverpool_csv(
    path: str | os.PathLike,
    *,
    drift_batches: Iterable[int] | None = None,
    batch_size: int = 500_000,
) -> (
    tuple[np.ndarray, np.ndarray | None, np.ndarray]
    | tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]
):
    """Load a Kaggle "University of Liverpool - Ion Switching" CSV file.

    The files have the columns ``time, signal[, open_channels]``: time in seconds
    (10 kHz, so consecutive rows are 1e-4 s apart), the current in pA and, in the
    training file, the number of open channels. The training file holds 5,000,000 rows
    in 10 batches of 500,000 rows, each batch an independent recording; the test file
    holds 2,000,000 rows and starts at 500.0001 s. Rows are returned in file order;
    nothing is dropped, reordered or resampled. Columns other than the three above are
    ignored.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    drift_batches : array-like of int, default=None
        Indices of batches known to carry baseline drift. They change nothing in ``X``,
        ``y`` or ``groups``; they are validated (integers in ``0..n_batches - 1``) and
        returned as a fourth value, a boolean row mask, so a caller can remove drift
        from, weight or exclude exactly those rows (e.g. ``X[~drift]``).
    batch_size : int, default=500_000
        Number of rows per batch (recording), used to build ``groups``.

    Returns
    -------
    X : ndarray of shape (n_samples, 1), dtype float32
        The ``signal`` column (pA).
    y : ndarray of shape (n_samples,), dtype int64, or None
        The ``open_channels`` column, or None when the file has no such column.
    groups : ndarray of shape (n_samples,), dtype int64
        Batch index of every row, ``row // batch_size`` counted from the first data
        row of the file (so the test file also starts at group 0). The last batch is
        shorter when ``n_samples`` is not a multiple of ``batch_size``.
    drift : ndarray of shape (n_samples,), dtype bool
        Only returned when ``drift_batches`` is given: True on the rows of those
        batches.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty or has no data rows; ``time`` or ``signal`` is missing; a
        value is non-numeric or missing (the column and first bad row are named); the
        time step is not 1e-4 s (the first offending row is named); ``open_channels``
        holds negative or non-integer values; or ``batch_size`` / ``drift_batches`` are
        invalid.

    Examples
    --------
    >>> import os, tempfile
    >>> from skion.datasets import load_liverpool_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("time,signal,open_channels\\n")
    ...     _ = f.write("".join(f"{(i + 1) / 1e4:.4f},{i % 3 - 1.5:.4f},{i % 3}\\n"
    ...                         for i in range(10)))
    >>> X, y, groups = load_liverpool_csv(path, batch_size=4)
    >>> X.shape, X.dtype, y[:5], groups
    ((10, 1), dtype('float32'), array([0, 1, 2, 0, 1]), array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2]))
    >>> X, y, groups, drift = load_liverpool_csv(path, batch_size=4, drift_batches=[2])
    >>> drift.nonzero()[0]
    array([8, 9])
    """
    batch_size = int(batch_size)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {os.fspath(path)!r}")

    try:
        header = pd.read_csv(path, nrows=0, engine="c")
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty (no header, no data).") from None
    columns = [str(c).strip() for c in header.columns]
    # the header as written: pandas renames a repeated name ("signal" -> "signal.1")
    check_unique_columns(path, pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0])
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise ValueError(
            f"{path}: missing required column(s) {missing}; found {columns}. Expected "
            f"'time,signal[,open_channels]'."
        )
    wanted = [c for c in (*_REQUIRED, _LABEL) if c in columns]
    usecols = [name for name, c in zip(header.columns, columns, strict=True) if c in wanted]
    renames = dict(zip(usecols, [str(c).strip() for c in usecols], strict=True))

    try:
        # All columns are read (not ``usecols``, which silently skips surplus fields) with
        # ``index_col=False`` and ParserWarning as an error, so that a row with too many
        # fields is reported instead of dropped or turned into an index. open_channels is
        # parsed as float so that "1.5" or "-1" can be reported as such.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                index_col=False,
                dtype=dict.fromkeys(usecols, "float64"),
                engine="c",
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise ValueError(f"{path}: malformed CSV: {str(exc).strip()}") from None
    except (ValueError, TypeError) as exc:
        _diagnose_values(path, usecols)
        raise ValueError(f"{path}: could not parse values: {exc}") from exc
    frame = frame[usecols].rename(columns=renames)

    n_samples = len(frame)
    if n_samples == 0:
        raise ValueError(f"{path}: the file has a header but no data rows.")
    for column in wanted:
        isnan = np.isnan(frame[column].to_numpy())
        if isnan.any():
            row = int(np.flatnonzero(isnan)[0])
            raise ValueError(f"{path}: column {column!r} has a missing value at {_where(row)}.")

    time = frame["time"].to_numpy()
    if not np.isfinite(time).all():
        row = int(np.flatnonzero(~np.isfinite(time))[0])
        raise ValueError(f"{path}: column 'time' is not finite at {_where(row)}.")
    off = np.abs(np.diff(time) - SAMPLE_INTERVAL) > _STEP_TOLERANCE
    if off.any():
        row = int(np.flatnonzero(off)[0]) + 1
        raise ValueError(
            f"{path}: time step is not {SAMPLE_INTERVAL} s at {_where(row)}: time goes from "
            f"{float(time[row - 1])!r} to {float(time[row])!r}. "
            "Rows must be consecutive 10 kHz samples."
        )

    X = frame["signal"].to_numpy(dtype=np.float32)[:, None]
    if not np.isfinite(X).all():
        row = int(np.flatnonzero(~np.isfinite(X[:, 0]))[0])
        raise ValueError(
            f"{path}: column 'signal' is not finite (or overflows float32) at {_where(row)}."
        )

    y = check_labels(path, frame[_LABEL].to_numpy()) if _LABEL in wanted else None

    groups = np.arange(n_samples, dtype=np.int64) // batch_size
    if drift_batches is None:
        return X, y, groups
    drift_indices = _check_drift_batches(drift_batches, int(groups[-1]) + 1, path)
    return X, y, groups, np.isin(groups, drift_indices)

"""``skion fit`` / ``predict`` / ``evaluate``: recordings on disk, models in files.

DATA is a Liverpool-style CSV (``time,signal[,open_channels]``, one recording per
``--batch-size`` rows) or an Axon Binary Format file (one recording per sweep; no
labels, so ``predict`` only). A model file is the format of :mod:`skion._persistence`
holding the fitted Pipeline.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from .._persistence import ModelFileError, dump_estimator, load_estimator
from ..datasets import load_liverpool_csv, read_abf
from ..metrics import f1_summary, per_class_report
from ._models import unet_pipeline

__all__ = ["evaluate", "fit", "load_model", "predict", "read_data", "save_model"]


_CSV_STEP = 1e-4  # s between rows of a Liverpool CSV (10 kHz)


class CommandError(Exception):
    """A user error the command reports in one line (exit status 1)."""


def read_data(path, *, batch_size=500_000):
    """``(X, y or None, groups, time)`` from a ``.csv`` or ``.abf`` file; ``time`` in s."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        X, y, groups = load_liverpool_csv(path, batch_size=batch_size)
        # The reader checked that time advances by 1e-4 s per row; only its start is new.
        first = float(pd.read_csv(path, usecols=["time"], nrows=1)["time"].iloc[0])
        return X, y, groups, _timestamps(len(X), 1 / _CSV_STEP, first)
    if suffix == ".abf":
        X, sampling_rate, groups = read_abf(path)
        return X, None, groups, _timestamps(len(X), sampling_rate)
    raise CommandError(f"{path}: unknown data format {suffix or '(none)'}; use .csv or .abf")


def _timestamps(n, sampling_rate, first=0.0):
    """Sample times in s, rounded to the decimals the sampling rate needs (4 at 10 kHz)."""
    decimals = max(0, math.ceil(math.log10(sampling_rate)))
    return np.round(first + np.arange(n) / sampling_rate, decimals)


def save_model(estimator, path) -> None:
    """Write a fitted pipeline as a skion model file."""
    dump_estimator(estimator, path)


def load_model(path):
    """The fitted pipeline stored in a skion model file."""
    try:
        return load_estimator(path)
    except ModelFileError as error:
        raise CommandError(str(error)) from error


def fit(data, model_path, *, batch_size, random_state, verbose, echo=print, **unet_params):
    """Fit the U-Net pipeline on a labelled file and save it."""
    X, y, groups, _ = read_data(data, batch_size=batch_size)
    if y is None:
        raise CommandError(f"{data} has no labels (open_channels column): cannot fit on it")
    echo(f"fitting on {len(X):,} samples in {len(np.unique(groups))} recording(s) ...")
    tic = time.perf_counter()
    with sklearn.config_context(enable_metadata_routing=True):
        model = unet_pipeline(random_state=random_state, verbose=verbose, **unet_params)
        model.fit(X, y, groups=groups)
    save_model(model, model_path)
    echo(f"fitted in {time.perf_counter() - tic:.1f} s; model written to {model_path}")


def _predict(model, X, groups):
    with sklearn.config_context(enable_metadata_routing=True):
        return model.predict(X, groups=groups)


def predict(data, model_path, out, *, batch_size, echo=print):
    """Predict every sample of a file; write ``time,open_channels`` CSV."""
    model = load_model(model_path)
    X, _, groups, time_s = read_data(data, batch_size=batch_size)
    frame = pd.DataFrame({"time": time_s, "open_channels": _predict(model, X, groups)})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    echo(f"wrote {len(frame):,} predictions to {out}")


def evaluate(data, model_path, *, batch_size, echo=print):
    """Score a model on a labelled file: macro-F1 and the per-class table."""
    model = load_model(model_path)
    X, y, groups, _ = read_data(data, batch_size=batch_size)
    if y is None:
        raise CommandError(f"{data} has no labels (open_channels column): cannot evaluate")
    y_pred = _predict(model, X, groups)
    summary = f1_summary(y, y_pred)
    echo(per_class_report(y, y_pred).round(4).to_string())
    echo(
        f"macro-F1 {summary['mean']:.4f} (per-class F1 min {summary['min']:.4f}, "
        f"max {summary['max']:.4f}, std {summary['std']:.4f}) on {len(y):,} samples"
    )
    return summary

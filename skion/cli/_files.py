"""``skion fit`` / ``predict`` / ``evaluate``: recordings on disk, models in files.

DATA is a Liverpool-style CSV (``time,signal[,open_channels]``, one recording per
``--batch-size`` rows) or an Axon Binary Format file (one recording per sweep; no
labels, so ``predict`` only). A model file is the format of :mod:`skion._persistence`
holding the fitted Pipeline.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from .._persistence import ModelFileError, dump_estimator, read_model_file
from ..datasets import load_liverpool_csv, read_abf
from ..metrics import f1_summary, per_class_report
from ..windowing import segment_bounds
from ._models import unet_pipeline

__all__ = [
    "describe_model",
    "evaluate",
    "fit",
    "load_model",
    "predict",
    "read_data",
    "save_model",
]


_CSV_STEP = 1e-4  # s between rows of a Liverpool CSV (10 kHz)


class CommandError(Exception):
    """A user error the command reports in one line (exit status 1)."""


def read_data(path, *, batch_size=500_000):
    """``(X, y or None, groups, time, sampling_rate)`` from a ``.csv`` or ``.abf`` file.

    ``time`` is in s, ``sampling_rate`` in Hz.
    """
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        X, y, groups = load_liverpool_csv(path, batch_size=batch_size)
        # The reader checked that time advances by 1e-4 s per row; only its start is new.
        first = float(pd.read_csv(path, usecols=["time"], nrows=1)["time"].iloc[0])
        return X, y, groups, _timestamps(len(X), 1 / _CSV_STEP, first), 1 / _CSV_STEP
    if suffix == ".abf":
        X, sampling_rate, groups = read_abf(path)
        return X, None, groups, _timestamps(len(X), sampling_rate), float(sampling_rate)
    raise CommandError(f"{path}: unknown data format {suffix or '(none)'}; use .csv or .abf")


def _timestamps(n, sampling_rate, first=0.0):
    """Sample times in s, rounded to the decimals the sampling rate needs (4 at 10 kHz)."""
    decimals = max(0, math.ceil(math.log10(sampling_rate)))
    return np.round(first + np.arange(n) / sampling_rate, decimals)


def save_model(estimator, path, *, conditions=None) -> None:
    """Write a fitted pipeline, and the conditions of its training data, as a model file."""
    dump_estimator(estimator, path, conditions=conditions)


def _read_model(path):
    try:
        return read_model_file(path)
    except ModelFileError as error:
        raise CommandError(str(error)) from error


def load_model(path):
    """The fitted pipeline stored in a skion model file."""
    return _read_model(path)["estimator"]


def _conditions(data, X, y, groups, sampling_rate):
    """What a model file records about its training data (plain values)."""
    return {
        "data": Path(data).name,
        "sampling_rate": float(sampling_rate),
        "units": "pA",
        "n_samples": len(X),
        "n_recordings": len(segment_bounds(len(X), groups)[0]),
        "open_channels": [int(k) for k in np.unique(y)],
        "current_range": [float(v) for v in np.quantile(X[:, 0], [0.001, 0.999])],
    }


def fit(
    data,
    model_path,
    *,
    batch_size,
    random_state,
    verbose,
    calibration="labels",
    echo=print,
    **unet_params,
):
    """Fit the U-Net pipeline on a labelled file and save it."""
    X, y, groups, _, sampling_rate = read_data(data, batch_size=batch_size)
    if y is None:
        raise CommandError(f"{data} has no labels (open_channels column): cannot fit on it")
    echo(f"fitting on {len(X):,} samples in {len(np.unique(groups))} recording(s) ...")
    tic = time.perf_counter()
    with sklearn.config_context(enable_metadata_routing=True):
        model = unet_pipeline(
            calibration=calibration, random_state=random_state, verbose=verbose, **unet_params
        )
        model.fit(X, y, groups=groups)
    save_model(model, model_path, conditions=_conditions(data, X, y, groups, sampling_rate))
    echo(f"fitted in {time.perf_counter() - tic:.1f} s; model written to {model_path}")


def _check_rate(data, sampling_rate, conditions):
    """Refuse data sampled at another rate than the model's training data."""
    trained = conditions.get("sampling_rate")
    if trained is not None and not np.isclose(sampling_rate, trained, rtol=1e-6):
        raise CommandError(
            f"{data} is sampled at {sampling_rate:g} Hz, but the model was trained on "
            f"{trained:g} Hz recordings: its kinetics are per sample. Resample the data to "
            f"{trained:g} Hz first (for example scipy.signal.resample_poly), or fit a model "
            f"on {sampling_rate:g} Hz recordings."
        )


def _fitted_lattices(model):
    """The steps of a (possibly nested) pipeline that learned one lattice (``step_``)."""
    for _, step in getattr(model, "steps", [(None, model)]):
        if hasattr(step, "steps"):
            yield from _fitted_lattices(step)
        elif hasattr(step, "step_"):
            yield step


def _check_lattice_range(model, X, groups, conditions):
    """Warn when the cleaned current leaves the lattice the model was trained on."""
    first = next(_fitted_lattices(model), None)
    if first is None or "open_channels" not in conditions:
        return
    with sklearn.config_context(enable_metadata_routing=True):
        level = first.transform(X[:, :1], groups=groups)[:, 0] / first.step_
    low, high = np.quantile(level, [0.001, 0.999])
    top = max(conditions["open_channels"])
    if high > top + 1.5 or low < -1.5:
        print(
            f"skion: warning: the current spans {low:.1f} to {high:.1f} unitary steps "
            f"({first.step_:.3g} pA) above the model's closed level, but it was trained on "
            f"0-{top} open channels: this recording comes from another rig, channel or unit "
            "(pS, nA?), and its predictions are not meaningful. Idealize it without a "
            "model (skion idealize) instead.",
            file=sys.stderr,
        )


def _predict(model, X, groups):
    with sklearn.config_context(enable_metadata_routing=True):
        return model.predict(X, groups=groups)


def _load_for(data, model_path, batch_size):
    """The model and the data, after checking that they match."""
    payload = _read_model(model_path)
    X, y, groups, time_s, sampling_rate = read_data(data, batch_size=batch_size)
    _check_rate(data, sampling_rate, payload["conditions"])
    model = payload["estimator"]
    _check_lattice_range(model, X, groups, payload["conditions"])
    return model, X, y, groups, time_s


def predict(data, model_path, out, *, batch_size, echo=print):
    """Predict every sample of a file; write ``time,open_channels`` CSV."""
    model, X, _, groups, time_s = _load_for(data, model_path, batch_size)
    frame = pd.DataFrame({"time": time_s, "open_channels": _predict(model, X, groups)})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    echo(f"wrote {len(frame):,} predictions to {out}")


def evaluate(data, model_path, *, batch_size, echo=print):
    """Score a model on a labelled file: macro-F1 and the per-class table."""
    model, X, y, groups, _ = _load_for(data, model_path, batch_size)
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


def describe_model(model_path, *, echo=print):
    """Print what a model file holds: versions, steps, training conditions, lattice."""
    payload = _read_model(model_path)
    echo(f"{model_path}: skion model file, format {payload['format_version']}")
    for key in ("skion_version", "sklearn_version", "keras_version"):
        echo(f"  {key.replace('_', ' ')}: {payload.get(key)}")
    estimator = payload["estimator"]
    steps = getattr(estimator, "steps", [(type(estimator).__name__, estimator)])
    echo("  steps: " + " -> ".join(f"{name} ({type(step).__name__})" for name, step in steps))
    conditions = payload["conditions"]
    if not conditions:
        echo("  training conditions: not recorded (a file from an older skion)")
    for key, value in conditions.items():
        echo(f"  {key.replace('_', ' ')}: {value}")
    for lattice in _fitted_lattices(estimator):
        echo(
            f"  lattice: unitary current {lattice.step_:.4g} pA, closed level "
            f"{lattice.closed_level_:.4g} pA"
        )

"""``skion fit`` / ``predict`` / ``evaluate``: recordings on disk, models in files.

DATA is read by :func:`skion.datasets.read_recording` (a CSV at any constant rate, or an
Axon Binary Format file), with the command's ``--sampling-rate``, ``--channel``,
``--units`` and ``--batch-size``. A model file is the format of :mod:`skion.model_files`
holding the fitted Pipeline and the conditions of its training data.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import sklearn.pipeline

from ..datasets import read_recording
from ..metrics import f1_summary, per_class_report
from ..model_files import ModelFileError, dump_estimator, read_model_file
from ..pipelines import calibrated_counts, make_unet_pipeline
from ..preprocessing import resample_recordings
from ..windowing import Recordings
from ._errors import CommandError, say

__all__ = [
    "describe_model",
    "evaluate",
    "fit",
    "load_model",
    "predict",
    "read_data",
    "save_model",
]

#: Rows per recording of the Liverpool competition files, which mark no recordings.
LIVERPOOL_BATCH = 500_000


def read_data(path, *, sampling_rate=None, channel=None, units=None, batch_size=None):
    """The recording file as :func:`skion.datasets.read_recording` reads it.

    A file that marks no recordings and is longer than the competition files' recordings
    is read as recordings of 500,000 rows (said on standard error); warnings of the reader
    are printed as one line each.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            recording = read_recording(
                path,
                sampling_rate=sampling_rate,
                channel=channel,
                units=units,
                batch_size=batch_size,
            )
    except FileNotFoundError:
        raise CommandError(f"no such file: {path}") from None
    for warning in caught:
        say("warning", warning.message)
    n = len(recording.X)
    if batch_size is None and recording.recordings_marked_by is None and n > LIVERPOOL_BATCH:
        recording.groups = np.arange(n, dtype=np.int64) // LIVERPOOL_BATCH
        recording.recordings_marked_by = "batch_size"
        say(
            "note",
            f"{path} marks no recordings (no 'recording' column, its time never restarts): "
            f"read as recordings of {LIVERPOOL_BATCH:,} rows, as in the competition files "
            "(--batch-size to change)",
        )
    return recording


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


def _conditions(data, recording):
    """What a model file records about its training data (plain values)."""
    X, y, groups = recording.X, recording.y, recording.groups
    return {
        "data": Path(data).name,
        "sampling_rate": recording.sampling_rate,
        "units": recording.units,
        "channel": recording.channel_name,
        "n_samples": len(X),
        "n_recordings": len(Recordings(len(X), groups)),
        "open_channels": [int(k) for k in np.unique(y)],
        "current_range": [float(v) for v in np.quantile(X[:, 0], [0.001, 0.999])],
    }


def fit(
    data,
    model_path,
    *,
    reading,
    random_state,
    verbose,
    calibration="labels",
    progress=False,
    echo=print,
    **unet_params,
):
    """Fit the U-Net pipeline on a labelled file and save it.

    ``reading`` holds :func:`read_data`'s options; ``progress`` shows a bar of epochs
    on standard error (not stored in the model file).
    """
    recording = read_data(data, **reading)
    X, y, groups = recording.X, recording.y, recording.groups
    if y is None:
        raise CommandError(f"{data} has no labels (open_channels column): cannot fit on it")
    echo(f"fitting on {len(X):,} samples in {len(np.unique(groups))} recording(s) ...")
    tic = time.perf_counter()
    with sklearn.config_context(enable_metadata_routing=True):
        if progress:
            from ._progress import EpochProgress

            unet_params["callbacks"] = [EpochProgress("fitting the U-Net")]
        model = make_unet_pipeline(
            calibration=calibration, random_state=random_state, verbose=verbose, **unet_params
        )
        model.fit(X, y, groups=groups)
        model[-1].set_params(callbacks=None)  # the bar belongs to this run, not the model
    save_model(model, model_path, conditions=_conditions(data, recording))
    echo(f"fitted in {time.perf_counter() - tic:.1f} s; model written to {model_path}")


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
        unit = conditions.get("units", "pA")
        say(
            "warning",
            f"the current spans {low:.1f} to {high:.1f} unitary steps ({first.step_:.3g} "
            f"{unit}) above the model's closed level, but it was trained on 0-{top} open "
            "channels: this recording comes from another rig, channel or unit, and its "
            "predictions are not meaningful. Idealize it without a model (skion idealize), "
            "or fit with --calibration recording, instead.",
        )


def _check_units(data, recording, conditions, model):
    """Refuse data in other units than a one-lattice model's (nA and µA arrive as pA)."""
    trained = conditions.get("units", "pA")
    if recording.units != trained and next(_fitted_lattices(model), None) is not None:
        raise CommandError(
            f"{data} holds {recording.channel_name} in {recording.units}, but the model "
            f"learned one lattice in {trained}: the two cannot be converted without the "
            "driving force. Fit the model with --calibration recording (open-channel units, "
            "which do not depend on the unit), or give data in " + trained + "."
        )


def _match_rate(data, recording, conditions, other_rate):
    """``(X, groups, rows)`` to predict; ``rows`` maps resampled rows back (None: as read).

    ``auto`` predicts a recording at another rate as read (its cleaning at the file's rate,
    see :func:`_cleaning_at`): resampling down and holding each prediction over the file's
    rows cost the U-Net 3 points of macro-F1 at 20 and 40 kHz for a 10 kHz model (0.946
    against 0.979 as read), the HMM 3 points at 20 kHz, and resampling 5 kHz up broke the
    label-free calibration of the pretrained U-Net (0.115 against 0.988 for the HMM as
    read); docs/decisions.md.
    """
    trained = conditions.get("sampling_rate")
    rate = recording.sampling_rate
    if trained is None or np.isclose(rate, trained, rtol=1e-6):
        return recording.X, recording.groups, None
    if other_rate == "refuse":
        raise CommandError(
            f"{data} is sampled at {rate:g} Hz, but the model was trained on {trained:g} Hz "
            "recordings: its kinetics are per sample. Leave out --other-rate refuse to "
            f"predict it anyway, or fit a model on {rate:g} Hz recordings."
        )
    if other_rate == "auto":
        say(
            "note",
            f"{data} is sampled at {rate:g} Hz, the model at {trained:g} Hz: predicted at the "
            "file's rate (measured better than resampling; --other-rate resample to "
            "resample anyway)",
        )
        return recording.X, recording.groups, None
    X, groups, rows = resample_recordings(
        recording.X, recording.groups, sampling_rate=rate, target_rate=trained
    )
    say(
        "note",
        f"resampled {data} from {rate:g} Hz to the model's {trained:g} Hz; every row of the "
        "file gets the prediction at its time",
    )
    return X.astype(np.float32), groups, rows


def _cleaning_at(model, recording, rows):
    """A model predicting a file as read, at another rate than it was trained at, cleans
    it at the file's rate (hum frequency and baseline windows in seconds, not samples)."""
    if rows is None:
        names = [key for key in model.get_params() if key.endswith("__sampling_rate")]
        model.set_params(**dict.fromkeys(names, recording.sampling_rate))
    return model


def _load_for(data, model_path, reading, other_rate):
    """The model and the data at the model's rate, after checking that they match."""
    payload = _read_model(model_path)
    conditions, model = payload["conditions"], payload["estimator"]
    recording = read_data(data, **reading)
    _check_units(data, recording, conditions, model)
    X, groups, rows = _match_rate(data, recording, conditions, other_rate)
    model = _cleaning_at(model, recording, rows)
    _check_lattice_range(model, X, groups, conditions)
    return model, recording, X, groups, rows


def _predict(model, X, groups, rows, progress):
    """One prediction per row of the file (``rows`` maps resampled rows back); with
    ``progress``, a U-Net shows a bar of its chunks of windows (``verbose=1``)."""
    last = model.steps[-1][1] if isinstance(model, sklearn.pipeline.Pipeline) else model
    if progress and "predict_window_size" in last.get_params():  # a SequenceUNetClassifier
        last.set_params(verbose=max(last.verbose, 1))
    y_pred, _ = calibrated_counts(model, X, groups)
    return y_pred if rows is None else y_pred[rows]


def predict(
    data, model_path, out, *, reading, other_rate="auto", events=None, progress=False, echo=print
):
    """Predict every sample of a file; write ``time,open_channels`` CSV (and its events)."""
    model, recording, X, groups, rows = _load_for(data, model_path, reading, other_rate)
    y_pred = _predict(model, X, groups, rows, progress)
    frame = pd.DataFrame({"time": recording.time, "open_channels": y_pred})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    echo(f"wrote {len(frame):,} predictions to {out}")
    if events is not None:
        from ._kinetics import write_events

        write_events(y_pred, recording.sampling_rate, recording.groups, recording.X, events, echo)


def evaluate(data, model_path, *, reading, other_rate="auto", progress=False, echo=print):
    """Score a model on a labelled file: macro-F1 and the per-class table."""
    model, recording, X, groups, rows = _load_for(data, model_path, reading, other_rate)
    y = recording.y
    if y is None:
        raise CommandError(f"{data} has no labels (open_channels column): cannot evaluate")
    y_pred = _predict(model, X, groups, rows, progress)
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
        text = str(value)
        if isinstance(value, list | dict) and len(text) > 200:
            text = f"{len(value)} entries (read_model_file(path)['conditions'][{key!r}])"
        echo(f"  {key.replace('_', ' ')}: {text}")
    for lattice in _fitted_lattices(estimator):
        unit = conditions.get("units", "pA")
        echo(
            f"  lattice: unitary current {lattice.step_:.4g} {unit}, closed level "
            f"{lattice.closed_level_:.4g} {unit}"
        )

"""``skion fit`` / ``predict`` / ``evaluate``: recordings on disk, models in files.

DATA is opened by :func:`skion.datasets.open_recording` (CSV at any constant rate, ABF,
the formats neo or pynwb read), with the command's ``--sampling-rate``, ``--channel``,
``--units`` and ``--batch-size``; ``predict`` and ``evaluate`` read and predict it a
piece at a time (:meth:`skion.datasets.RecordingFile.pieces`). A model file is the
format of :mod:`skion.model_files` holding the fitted Pipeline and the conditions of its
training data.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import sklearn.pipeline

from ..datasets import PIECE_ROWS, open_recording
from ..metrics import f1_summary, per_class_report
from ..model_files import ModelFileError, dump_estimator, read_model_file
from ..pipelines import _at_sampling_rate, calibrated_counts, make_unet_pipeline
from ..preprocessing import resample_recordings
from ..windowing import Recordings
from ._errors import CommandError, say
from ._output import CountsWriter, events_to

__all__ = [
    "describe_model",
    "evaluate",
    "fit",
    "load_model",
    "open_data",
    "predict",
    "read_data",
    "save_model",
]

#: Rows per recording of the Liverpool competition files, which mark no recordings.
LIVERPOOL_BATCH = 500_000


def open_data(path, *, sampling_rate=None, channel=None, units=None, batch_size=None):
    """The recording file open, as :func:`skion.datasets.open_recording` opens it.

    A file that marks no recordings and is longer than the competition files' recordings
    is read as recordings of 500,000 rows (said on standard error); warnings of the reader
    are printed as one line each.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            recording_file = open_recording(
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
    n = recording_file.n_samples
    if batch_size is None and recording_file.recordings_marked_by is None and n > LIVERPOOL_BATCH:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a shorter last recording: said in the note
            recording_file = recording_file.with_batch_size(LIVERPOOL_BATCH)
        say(
            "note",
            f"{path} marks no recordings (no 'recording' column, its time never restarts): "
            f"read as recordings of {LIVERPOOL_BATCH:,} rows, as in the competition files "
            "(--batch-size to change)",
        )
    return recording_file


def read_data(path, **reading):
    """The whole recording file (:func:`open_data`'s options), as a Bunch."""
    with open_data(path, **reading) as recording_file:
        return recording_file.read()


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
    """Warn when the cleaned current leaves the lattice the model was trained on (and
    say whether it did)."""
    first = next(_fitted_lattices(model), None)
    if first is None or "open_channels" not in conditions:
        return False
    with sklearn.config_context(enable_metadata_routing=True):
        level = first.transform(X[:, :1], groups=groups)[:, 0] / first.step_
    low, high = np.quantile(level, [0.001, 0.999])
    top = max(conditions["open_channels"])
    outside = bool(high > top + 1.5 or low < -1.5)
    if outside:
        unit = conditions.get("units", "pA")
        say(
            "warning",
            f"the current spans {low:.1f} to {high:.1f} unitary steps ({first.step_:.3g} "
            f"{unit}) above the model's closed level, but it was trained on 0-{top} open "
            "channels: this recording comes from another rig, channel or unit, and its "
            "predictions are not meaningful. Idealize it without a model (skion idealize), "
            "or fit with --calibration recording, instead.",
        )
    return outside


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


def target_rate(data, rate, conditions, other_rate):
    """The rate to resample a file at ``rate`` to, or None to predict it as read.

    ``auto`` predicts a recording at another rate as read (its cleaning at the file's rate,
    see :func:`cleaning_at`): resampling down and holding each prediction over the file's
    rows cost the U-Net 3 points of macro-F1 at 20 and 40 kHz for a 10 kHz model (0.946
    against 0.979 as read), the HMM 3 points at 20 kHz, and resampling 5 kHz up broke the
    label-free calibration of the pretrained U-Net (0.115 against 0.988 for the HMM as
    read); docs/decisions.md.
    """
    trained = conditions.get("sampling_rate")
    if trained is None or np.isclose(rate, trained, rtol=1e-6):
        return None
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
        return None
    say(
        "note",
        f"resampling {data} from {rate:g} Hz to the model's {trained:g} Hz; every row of the "
        "file gets the prediction at its time",
    )
    return trained


def at_rate(piece, rate, target):
    """``(X, groups, rows)`` of a piece at the ``target`` rate (None: as read); ``rows``
    maps resampled rows back to the piece's (None: as read)."""
    if target is None:
        return piece.X, piece.groups, None
    X, groups, rows = resample_recordings(
        piece.X, piece.groups, sampling_rate=rate, target_rate=target
    )
    return X.astype(np.float32), groups, rows


def cleaning_at(model, rate, target):
    """A model predicting a file as read (``target`` None), at another rate than it was
    trained at, cleans it at the file's rate (hum frequency and baseline windows in
    seconds, not samples)."""
    return model if target is not None else _at_sampling_rate(model, rate)


def _load_for(data, model_path, reading, other_rate):
    """``(model, conditions, recording_file, target rate)`` after checking that the model
    and the file match; the file is open (close it)."""
    payload = _read_model(model_path)
    conditions, model = payload["conditions"], payload["estimator"]
    recording_file = open_data(data, **reading)
    try:
        _check_units(data, recording_file, conditions, model)
        target = target_rate(data, recording_file.sampling_rate, conditions, other_rate)
    except BaseException:
        recording_file.close()
        raise
    return (
        cleaning_at(model, recording_file.sampling_rate, target),
        conditions,
        recording_file,
        target,
    )


def _predicted_pieces(model, conditions, recording_file, target, progress, piece_rows):
    """``(piece, counts)`` of every piece of the file, in order."""
    warned = False
    for piece in recording_file.pieces(piece_rows):
        X, groups, rows = at_rate(piece, recording_file.sampling_rate, target)
        if not warned:
            warned = _check_lattice_range(model, X, groups, conditions)
        yield piece, _predict(model, X, groups, rows, progress)


def _predict(model, X, groups, rows, progress):
    """One prediction per row of the file (``rows`` maps resampled rows back); with
    ``progress``, a U-Net shows a bar of its chunks of windows (``verbose=1``)."""
    last = model.steps[-1][1] if isinstance(model, sklearn.pipeline.Pipeline) else model
    if progress and "predict_window_size" in last.get_params():  # a SequenceUNetClassifier
        last.set_params(verbose=max(last.verbose, 1))
    y_pred, _ = calibrated_counts(model, X, groups)
    return y_pred if rows is None else y_pred[rows]


def predict(
    data,
    model_path,
    out,
    *,
    reading,
    other_rate="auto",
    events=None,
    progress=False,
    piece_rows=PIECE_ROWS,
    echo=print,
):
    """Predict every sample of a file; write ``time,open_channels`` CSV (and its events).

    The file is read and predicted ``piece_rows`` rows at a time (whole recordings, or
    parts of a longer one, each calibrated on its own), so memory does not grow with it.
    """
    model, conditions, recording_file, target = _load_for(data, model_path, reading, other_rate)
    with recording_file, CountsWriter(out) as counts_out, events_to(events, recording_file) as ev:
        for piece, y_pred in _predicted_pieces(
            model, conditions, recording_file, target, progress, piece_rows
        ):
            counts_out.add(piece.time, y_pred)
            if ev is not None:
                ev.add(y_pred, piece)
    echo(f"wrote {counts_out.n_rows:,} predictions to {out}")
    if ev is not None:
        echo(f"wrote {ev.n_events:,} events to {events}")


def evaluate(
    data,
    model_path,
    *,
    reading,
    other_rate="auto",
    progress=False,
    piece_rows=PIECE_ROWS,
    echo=print,
):
    """Score a model on a labelled file: macro-F1 and the per-class table."""
    model, conditions, recording_file, target = _load_for(data, model_path, reading, other_rate)
    with recording_file:
        if not recording_file.has_labels:
            raise CommandError(f"{data} has no labels (open_channels column): cannot evaluate")
        y, y_pred = [], []
        for piece, predicted in _predicted_pieces(
            model, conditions, recording_file, target, progress, piece_rows
        ):
            y.append(piece.y)
            y_pred.append(predicted)
    y, y_pred = np.concatenate(y), np.concatenate(y_pred)
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

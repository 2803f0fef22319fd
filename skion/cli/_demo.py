"""``skion demo``: every model on recordings from four simulated rigs, per rig.

The embedded data set is :func:`skion.datasets.make_rigs`: two recordings from each of
four rigs with their own channels, gating scheme, unitary current (size and sign),
offset, noise, drift, hum and amplifier filter. Two folds of whole recordings, one
recording of every rig in each, test each model on recordings it never saw, of rigs it
has seen. Every recording is first calibrated on its own, without labels, into
open-channel units (:class:`~skion.LatticeScaler`, as ``skion fit --calibration
recording`` does, given the rig's mains frequency and current direction), once for all
models. The supervised models learn from the labels of
the training fold; :class:`~skion.AggregatedHMM` and the pretrained U-Net use no labels
(``skion idealize``). The exact Bayes posterior under the generating model is the ceiling
where it is exact: the unfiltered rigs.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline

from ..datasets import RIGS, make_rigs, oracle_proba
from ..metrics import f1_summary, per_class_report
from ..pipelines import UNET_PARAMS, UNET_QUICK_PARAMS, make_baseline_pipelines, make_unet_pipeline

__all__ = ["DemoResult", "run_demo", "write_outputs"]

ORACLE = "Bayes oracle (true model)"
UNET = "SequenceUNetClassifier"
IDEALIZER = "AggregatedHMM (no labels)"
PRETRAINED = "pretrained U-Net (no labels)"

#: A calibrated unitary current further than this from the generator's (relative) is
#: reported as a miscalibration.
_STEP_TOLERANCE = 0.1


def _folds(recordings, n_samples: int, n_folds: int = 2):
    """(train, test) boolean row masks over whole recordings.

    The recordings of each rig are dealt to the folds in turn, so every fold tests
    every rig on recordings whose rig the training side has also seen.
    """
    dealt = Counter()
    fold_of = []
    for recording in recordings:
        fold_of.append(dealt[recording.regime] % n_folds)
        dealt[recording.regime] += 1
    for fold in range(n_folds):
        test = np.zeros(n_samples, dtype=bool)
        for recording, assigned in zip(recordings, fold_of, strict=True):
            test[recording.start : recording.stop] = assigned == fold
        yield ~test, test


def _known(r):
    """What a rig's user knows without labels: its sampling rate, mains frequency and
    the current's direction at the holding potential (``AggregatedHMM``'s keywords).

    Without the direction, only the kinetics tell the two readings of a recording of two
    slow channels apart: rig C's second recording (seed 0) is 1 nat likelier upside down,
    and its misread units, shared by every model, cost the supervised models 3-10 points
    on the other rigs too."""
    sign = "positive" if r.step > 0 else "negative"
    return {"sampling_rate": 1.0 / r.dt, "line_freq": r.hum_frequency, "current_sign": sign}


def _calibrate(X, recordings):
    """``(units, n_channels, found)``: every recording in open-channel units, calibrated
    on its own without labels (the rig's mains frequency and current direction given, as
    its user knows them: ``_known``),
    with a filter the calibration found undone (``LatticeScaler``'s default); the channels
    its calibration found, per row; and ``(n_channels, unitary_current)`` found for every
    recording. Recordings are calibrated in parallel."""
    units = np.empty(X.shape, dtype=np.float64)
    n_channels = np.empty(len(X), dtype=np.int64)
    calibrated = Parallel(n_jobs=-1)(
        delayed(_calibrate_one)(X[r.start : r.stop], _known(r)) for r in recordings
    )
    for r, (scaled, channels, _) in zip(recordings, calibrated, strict=True):
        units[r.start : r.stop] = scaled
        n_channels[r.start : r.stop] = channels
    return units, n_channels, [(channels, step) for _, channels, step in calibrated]


def _calibrate_one(x, known):
    """One recording in open-channel units (its filter undone), its channels and step."""
    from ..preprocessing import LatticeScaler

    scaler = LatticeScaler(**known)
    units = scaler.fit_transform(x)
    (found,) = scaler.recordings_.itertuples()
    return units, int(found.n_channels), float(found.unitary_current)


def _misread(recordings, found):
    """Lines naming the recordings whose calibration missed the generator's lattice."""
    lines = []
    for index, (r, (channels, step)) in enumerate(zip(recordings, found, strict=True)):
        if channels != r.n_channels or abs(step / r.step - 1.0) > _STEP_TOLERANCE:
            lines.append(
                f"  warning: recording {index} ({r.regime}) was calibrated as {channels} "
                f"channel(s) of {step:+.2f} pA; it holds {r.n_channels} of {r.step:+.2f} pA. "
                "Every model's score on it reflects that miscalibration (recordings this "
                "short may be too short to calibrate: raise --n-samples)."
            )
    return lines


def _oracle(X, recordings):
    """The exact posterior's counts on unfiltered recordings; -1 on filtered ones."""
    counts = np.full(len(X), -1, dtype=np.int64)
    for r in recordings:
        if r.filter_cutoff is None:
            model = dataclasses.replace(r, start=0, stop=r.stop - r.start)
            counts[r.start : r.stop] = oracle_proba(X[r.start : r.stop], [model]).argmax(axis=1)
    return counts


def _idealize(X, recordings, rows):
    """``AggregatedHMM`` counts (0 outside ``rows``) of every recording in ``rows``, each
    fitted on its own, in parallel."""
    counts = np.zeros(len(X), dtype=np.int64)
    chosen = [r for r in recordings if rows[r.start]]
    fitted = Parallel(n_jobs=-1)(
        delayed(_idealize_one)(X[r.start : r.stop], _known(r)) for r in chosen
    )
    for r, one in zip(chosen, fitted, strict=True):
        counts[r.start : r.stop] = one
    return counts


def _idealize_one(x, known):
    from ..hmm import AggregatedHMM

    return AggregatedHMM(**known).fit(x).predict(x)


def _after_scaler(pipeline: Pipeline) -> Pipeline:
    """A command-line pipeline without its ``LatticeScaler``: it takes open-channel units."""
    clean = pipeline.named_steps["clean"]
    return Pipeline([("clean", clean[1:]), *pipeline.steps[1:]])


def run_demo(
    *,
    n_samples: int,
    quick: bool = False,
    epochs: int | None = None,
    out: str | Path | None = None,
    random_state: int = 0,
    verbose: int = 0,
    progress: bool = False,
    echo=print,
) -> DemoResult:
    """Run the demo, print its table and write results (and plots) to ``out``.

    ``progress`` shows a bar of the U-Net's epochs on standard error.
    """
    started = time.perf_counter()
    X, y, groups, recordings = make_rigs(n_samples, random_state=random_state)
    echo(
        f"skion demo: {len(recordings)} synthetic recordings ({n_samples:,} samples at 10 kHz, "
        f"two from each of {len(RIGS)} rigs); 2 folds of whole recordings"
    )
    for rig, conditions in RIGS.items():
        echo(f"  {rig}: {_describe(conditions)}")
    echo("  calibrating every recording without labels (open-channel units) ...")
    tic = time.perf_counter()
    units, cap, found = _calibrate(X, recordings)
    echo(f"  ... {time.perf_counter() - tic:.0f} s")
    for line in _misread(recordings, found):
        echo(line)
    unet_params = {**(UNET_QUICK_PARAMS if quick else UNET_PARAMS)}
    if epochs is not None:
        unet_params["epochs"] = epochs
    callbacks = {}
    if progress:
        from ._progress import EpochProgress

        callbacks = {"callbacks": [EpochProgress("  U-Net")]}
    folds = list(_folds(recordings, len(y)))
    predictions = {ORACLE: _oracle(X, recordings)}
    rows = [
        {"model": ORACLE, "fold": k, "fit_s": 0.0, "predict_s": np.nan}
        for k in range(1, len(folds) + 1)
    ]
    histories = []
    with sklearn.config_context(enable_metadata_routing=True):
        models = {
            UNET: make_unet_pipeline(
                calibration="recording",
                random_state=random_state,
                verbose=verbose,
                **unet_params,
                **callbacks,
            ),
            **make_baseline_pipelines(calibration="recording", random_state=random_state),
        }
        for name, template in models.items():
            predictions[name] = np.empty_like(y)
            for k, (train, test) in enumerate(folds, 1):
                model = _after_scaler(clone(template))  # clone keeps the metadata requests
                echo(f"  fold {k}/{len(folds)} {name}: fitting on {train.sum():,} samples ...")
                tic = time.perf_counter()
                model.fit(units[train], y[train], groups=groups[train])
                fitted = time.perf_counter()
                counts = model.predict(units[test], groups=groups[test])
                predictions[name][test] = np.minimum(counts, cap[test])
                rows.append(_timing(name, k, fitted - tic, time.perf_counter() - fitted))
                if name == UNET:
                    histories.append(model[-1].history_)
        from ..neural import load_pretrained_unet

        pretrained = _after_scaler(load_pretrained_unet())
        predictions[PRETRAINED] = np.empty_like(y)
        predictions[IDEALIZER] = np.empty_like(y)
        for k, (_, test) in enumerate(folds, 1):
            echo(f"  fold {k}/{len(folds)} {PRETRAINED} and {IDEALIZER} ...")
            tic = time.perf_counter()
            counts = pretrained.predict(units[test], groups=groups[test])
            predictions[PRETRAINED][test] = np.minimum(counts, cap[test])
            rows.append(_timing(PRETRAINED, k, 0.0, time.perf_counter() - tic))
            tic = time.perf_counter()
            predictions[IDEALIZER][test] = _idealize(X, recordings, test)[test]
            rows.append(_timing(IDEALIZER, k, time.perf_counter() - tic, np.nan))
    folds_table = pd.DataFrame(rows)
    folds_table["macro_f1"] = [
        _f1(y, predictions[model], folds[fold - 1][1])
        for model, fold in zip(folds_table["model"], folds_table["fold"], strict=True)
    ]
    result = DemoResult(
        X=X,
        y=y,
        recordings=recordings,
        predictions=predictions,
        histories=histories,
        folds=folds_table,
        config={"n_samples": n_samples, "random_state": random_state, "unet": unet_params},
    )
    echo(_format_table(result.summary))
    echo(f"total wall time {time.perf_counter() - started:.0f} s")
    if out is not None:
        written = write_outputs(result, Path(out))
        echo(f"wrote {', '.join(written)} to {out}")
    return result


def _timing(model, fold, fit_s, predict_s) -> dict:
    return {"model": model, "fold": fold, "fit_s": fit_s, "predict_s": predict_s}


def _describe(conditions) -> str:
    """One line of a rig's conditions."""
    c = {"offset": 0.0, "drift": "none", "line_freq": 50.0, "filter_cutoff": None, **conditions}
    filtered = "unfiltered" if c["filter_cutoff"] is None else f"{c['filter_cutoff']:g} Hz filter"
    return (
        f"{c['n_channels']} channel(s) '{c['kinetics']}', {c['unitary_current']:+g} pA, "
        f"offset {c['offset']:g} pA, noise {c['noise']:g} pA, {c['drift']} drift, "
        f"{c['line_freq']:g} Hz hum, {filtered}"
    )


def _f1(y, y_pred, rows) -> float:
    """Macro-F1 on ``rows``; NaN where the model predicts none of them (-1: the oracle on
    filtered recordings)."""
    if (y_pred[rows] < 0).any():
        return np.nan
    return float(f1_score(y[rows], y_pred[rows], average="macro"))


@dataclass
class DemoResult:
    """Everything the demo measured: data, out-of-fold predictions, per-fold scores."""

    X: np.ndarray
    y: np.ndarray
    recordings: tuple
    predictions: dict[str, np.ndarray]  # model name -> out-of-fold labels (-1: none)
    histories: list[dict]  # the U-Net's history_ of every fold
    folds: pd.DataFrame  # model, fold, fit_s, predict_s, macro_f1
    config: dict

    @property
    def rigs(self) -> dict[str, np.ndarray]:
        """Rows of every rig, by name."""
        rows = {}
        for r in self.recordings:
            rows.setdefault(r.regime, np.zeros(len(self.y), dtype=bool))[r.start : r.stop] = True
        return rows

    @property
    def summary(self) -> pd.DataFrame:
        """One row per model: macro-F1 of the pooled out-of-fold predictions of every rig,
        mean and std over folds, the worst class's F1 on all pooled out-of-fold
        predictions (NaN where a model predicts only some rigs), fit and predict seconds."""
        grouped = self.folds.groupby("model", sort=False)
        names = list(grouped.groups)
        per_rig = {
            rig: [_f1(self.y, self.predictions[n], rows) for n in names]
            for rig, rows in self.rigs.items()
        }
        summary = pd.DataFrame(
            {
                **per_rig,
                "macro_f1_mean": grouped["macro_f1"].mean(),
                "macro_f1_std": grouped["macro_f1"].std(ddof=0),
                "min_class_f1": [
                    np.nan
                    if (self.predictions[n] < 0).any()
                    else f1_summary(self.y, self.predictions[n])["min"]
                    for n in names
                ],
                "fit_s": grouped["fit_s"].sum(min_count=1),
                "predict_s": grouped["predict_s"].sum(min_count=1),
            },
            index=names,
        )
        summary.index.name = "model"
        return summary


def _format_table(summary: pd.DataFrame) -> str:
    """Macro-F1 per rig (columns A, B, ... by the rigs' first letters) and over all."""
    rigs = [c for c in summary.columns if c in RIGS]
    head = "".join(f"{rig.split(':')[0]:>7}" for rig in rigs)
    lines = [
        f"{'macro-F1 on held-out recordings':<31}{head} {'all rigs':>15} {'worst class':>12} "
        f"{'fit s':>7} {'predict s':>10}"
    ]

    def cell(value, width, fmt=".3f"):
        return f"{'-':>{width}}" if np.isnan(value) else f"{value:>{width}{fmt}}"

    for name, row in summary.iterrows():
        fit = np.nan if name == ORACLE else row.fit_s
        every = (
            f"{'-':>15}"
            if np.isnan(row.macro_f1_mean)
            else f"{row.macro_f1_mean:>8.3f} ± {row.macro_f1_std:.3f}"
        )
        lines.append(
            f"{name:<31}{''.join(cell(row[rig], 7) for rig in rigs)} {every} "
            f"{cell(row.min_class_f1, 12)} {cell(fit, 7, '.1f')} "
            f"{cell(row.predict_s, 10, '.1f')}"
        )
    return "\n".join(lines)


def write_outputs(result: DemoResult, out: Path) -> list[str]:
    """results.json, results.csv and (with matplotlib) the figures; returns file names."""
    out.mkdir(parents=True, exist_ok=True)
    labels = np.unique(result.y)
    reports = {
        name: per_class_report(result.y[pred >= 0], pred[pred >= 0], labels=labels)
        for name, pred in result.predictions.items()
    }
    result.folds.to_csv(out / "results.csv", index=False)
    payload = {
        "config": result.config,
        "summary": result.summary.reset_index().to_dict(orient="records"),
        "folds": result.folds.to_dict(orient="records"),
        "per_class_f1": {name: report["f1"].round(4).to_dict() for name, report in reports.items()},
        "unet_history": result.histories,
    }
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=_json_default))
    written = ["results.csv", "results.json"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return [*written, "(no plots: pip install 'skion[plot]')"]
    return written + _plot(result, reports, out)


def _plot(result: DemoResult, reports, out: Path) -> list[str]:
    from ..metrics import plot_confusion, plot_history, plot_per_class_f1, plot_segment

    # Zoom on 1000 samples (100 ms) in the middle of the recording with the most channels.
    recordings = result.recordings
    busiest = max(range(len(recordings)), key=lambda i: recordings[i].n_channels)
    start = (recordings[busiest].start + recordings[busiest].stop) // 2
    y, unet = result.y, result.predictions[UNET]
    figures = {
        "segment.png": plot_segment(result.X, y, unet, start=start, stop=start + 1000),
        "confusion.png": plot_confusion(y, unet),
        "per_class_f1.png": plot_per_class_f1(reports),
        "history.png": plot_history(result.histories[0]),
    }
    figures["segment.png"].set_title(
        f"{UNET} on recording {busiest} ({recordings[busiest].regime}), held out"
    )
    figures["confusion.png"].set_title(f"{UNET}, out-of-fold predictions")
    figures["per_class_f1.png"].set_title("per-class F1, out-of-fold predictions")
    figures["history.png"].set_title(f"{UNET} training, fold 1")
    for name, ax in figures.items():
        ax.figure.savefig(out / name, dpi=110)
    return list(figures)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")

"""``skion demo``: cross-validate the U-Net against the baselines on synthetic recordings.

The embedded data set is ``make_ion_switching``'s ``mixed`` regime: ten recordings in
the order of the competition's training batches, each regime twice, five with drift.
Two folds of whole recordings, one recording of every regime in each (recordings 0, 2-5
and 1, 6-9), test each model on recordings it never saw, of regimes it has seen. The
exact Bayes posterior under the generating model is the ceiling.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import clone
from sklearn.metrics import f1_score

from ..datasets import make_ion_switching, oracle_proba
from ..metrics import f1_summary, per_class_report
from ._models import UNET_DEFAULTS, UNET_QUICK, baseline_pipelines, unet_pipeline

__all__ = ["DemoResult", "run_demo", "write_outputs"]

ORACLE = "Bayes oracle (true model)"
UNET = "SequenceUNetClassifier"


def _folds(recordings, n_samples: int, n_folds: int = 2):
    """(train, test) boolean row masks over whole recordings.

    The recordings of each regime are dealt to the folds in turn, so every fold tests
    every regime on recordings whose regime the training side has also seen.
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
    X, y, groups, recordings = make_ion_switching(
        n_samples, random_state=random_state, return_model=True
    )
    echo(
        f"skion demo: {len(recordings)} synthetic recordings ({n_samples:,} samples at "
        f"10 kHz: {', '.join(r.regime for r in recordings)}); 2 folds of whole recordings"
    )
    unet_params = {**(UNET_QUICK if quick else UNET_DEFAULTS)}
    if epochs is not None:
        unet_params["epochs"] = epochs
    callbacks = {}
    if progress:
        from ._progress import EpochProgress

        callbacks = {"callbacks": [EpochProgress("  U-Net")]}
    folds = list(_folds(recordings, len(y)))
    predictions = {ORACLE: np.argmax(oracle_proba(X, recordings), axis=1)}
    rows = [
        {
            "model": ORACLE,
            "fold": k,
            "macro_f1": _f1(y, predictions[ORACLE], test),
            "fit_s": 0.0,
            "predict_s": np.nan,
        }
        for k, (_, test) in enumerate(folds, 1)
    ]
    histories = []
    with sklearn.config_context(enable_metadata_routing=True):
        models = {
            UNET: unet_pipeline(
                random_state=random_state, verbose=verbose, **unet_params, **callbacks
            ),
            **baseline_pipelines(random_state=random_state),
        }
        for name, template in models.items():
            predictions[name] = np.empty_like(y)
            for k, (train, test) in enumerate(folds, 1):
                model = clone(template)  # clone keeps the metadata requests
                echo(f"  fold {k}/{len(folds)} {name}: fitting on {train.sum():,} samples ...")
                tic = time.perf_counter()
                model.fit(X[train], y[train], groups=groups[train])
                fitted = time.perf_counter()
                predictions[name][test] = model.predict(X[test], groups=groups[test])
                done = time.perf_counter()
                if name == UNET:
                    histories.append(model[-1].history_)
                rows.append(
                    {
                        "model": name,
                        "fold": k,
                        "macro_f1": _f1(y, predictions[name], test),
                        "fit_s": fitted - tic,
                        "predict_s": done - fitted,
                    }
                )
    result = DemoResult(
        X=X,
        y=y,
        recordings=recordings,
        predictions=predictions,
        histories=histories,
        folds=pd.DataFrame(rows),
        config={"n_samples": n_samples, "random_state": random_state, "unet": unet_params},
    )
    echo(_format_table(result.summary))
    echo(f"total wall time {time.perf_counter() - started:.0f} s")
    if out is not None:
        written = write_outputs(result, Path(out))
        echo(f"wrote {', '.join(written)} to {out}")
    return result


def _f1(y, y_pred, rows) -> float:
    return float(f1_score(y[rows], y_pred[rows], average="macro"))


@dataclass
class DemoResult:
    """Everything the demo measured: data, out-of-fold predictions, per-fold scores."""

    X: np.ndarray
    y: np.ndarray
    recordings: tuple
    predictions: dict[str, np.ndarray]  # model name -> out-of-fold labels
    histories: list[dict]  # the U-Net's history_ of every fold
    folds: pd.DataFrame  # model, fold, macro_f1, fit_s, predict_s
    config: dict

    @property
    def summary(self) -> pd.DataFrame:
        """One row per model: macro-F1 mean and std over folds, the worst class's F1 on
        the pooled out-of-fold predictions, total fit and predict seconds."""
        grouped = self.folds.groupby("model", sort=False)
        names = list(grouped.groups)
        summary = pd.DataFrame(
            {
                "macro_f1_mean": grouped["macro_f1"].mean(),
                "macro_f1_std": grouped["macro_f1"].std(ddof=0),
                "min_class_f1": [f1_summary(self.y, self.predictions[n])["min"] for n in names],
                "fit_s": grouped["fit_s"].sum(min_count=1),
                "predict_s": grouped["predict_s"].sum(min_count=1),
            }
        )
        summary.index.name = "model"
        return summary


def _format_table(summary: pd.DataFrame) -> str:
    lines = [
        f"{'model':<33} {'macro-F1':>15} {'worst class F1':>15} {'fit s':>7} {'predict s':>10}"
    ]
    for name, row in summary.iterrows():
        fit = "-" if name == ORACLE else f"{row.fit_s:.1f}"
        predict = "-" if np.isnan(row.predict_s) else f"{row.predict_s:.1f}"
        lines.append(
            f"{name:<33} {row.macro_f1_mean:>8.3f} ± {row.macro_f1_std:.3f} "
            f"{row.min_class_f1:>15.3f} {fit:>7} {predict:>10}"
        )
    return "\n".join(lines)


def write_outputs(result: DemoResult, out: Path) -> list[str]:
    """results.json, results.csv and (with matplotlib) the figures; returns file names."""
    out.mkdir(parents=True, exist_ok=True)
    labels = np.unique(result.y)
    reports = {
        name: per_class_report(result.y, pred, labels=labels)
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

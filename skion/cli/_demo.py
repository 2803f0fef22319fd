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
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import clone
from sklearn.metrics import f1_score

from ..datasets import make_ion_switching, oracle_proba
from ..metrics import f1_summary, per_class_report
from ._models import UNET_DEFAULTS, UNET_QUICK, baseline_pipelines, unet_pipeline

__all__ = ["run_demo"]

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
    echo=print,
) -> pd.DataFrame:
    """Run the demo, print its table and write results (and plots) to ``out``.

    Returns the summary table (one row per model).
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
    folds = list(_folds(recordings, len(y)))
    predictions = {ORACLE: np.argmax(oracle_proba(X, recordings), axis=1)}
    rows = [
        {"model": ORACLE, "fold": k, "macro_f1": _f1(y, predictions[ORACLE], test)}
        | {"fit_s": 0.0, "predict_s": np.nan}
        for k, (_, test) in enumerate(folds, 1)
    ]
    histories = []
    with sklearn.config_context(enable_metadata_routing=True):
        models = {
            UNET: unet_pipeline(random_state=random_state, verbose=verbose, **unet_params),
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
    folds_table = pd.DataFrame(rows)
    summary = _summarise(folds_table, y, predictions)
    echo(_format_table(summary))
    echo(f"total wall time {time.perf_counter() - started:.0f} s")
    if out is not None:
        written = _write_outputs(
            Path(out),
            folds_table,
            summary,
            y,
            predictions,
            histories,
            X,
            groups,
            recordings,
            config={"n_samples": n_samples, "random_state": random_state, "unet": unet_params},
        )
        echo(f"wrote {', '.join(sorted(written))} to {out}")
    return summary


def _f1(y, y_pred, rows) -> float:
    return float(f1_score(y[rows], y_pred[rows], average="macro"))


def _summarise(folds_table, y, predictions) -> pd.DataFrame:
    """One row per model: macro-F1 mean and std over folds, pooled per-class F1 spread,
    total fit and predict seconds."""
    grouped = folds_table.groupby("model", sort=False)
    summary = pd.DataFrame(
        {
            "macro_f1_mean": grouped["macro_f1"].mean(),
            "macro_f1_std": grouped["macro_f1"].std(ddof=0),
            "min_class_f1": [f1_summary(y, predictions[name])["min"] for name in grouped.groups],
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


def _write_outputs(
    out, folds_table, summary, y, predictions, histories, X, groups, recordings, config
):
    """results.json, results.csv and (with matplotlib) the figures; returns file names."""
    out.mkdir(parents=True, exist_ok=True)
    reports = {
        name: per_class_report(y, pred, labels=np.unique(y)) for name, pred in predictions.items()
    }
    folds_table.to_csv(out / "results.csv", index=False)
    results = {
        "config": config,
        "summary": summary.reset_index().to_dict(orient="records"),
        "folds": folds_table.to_dict(orient="records"),
        "per_class_f1": {name: report["f1"].round(4).to_dict() for name, report in reports.items()},
        "unet_history": histories,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2, default=_json_default))
    written = ["results.csv", "results.json"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return [*written, "(no plots: pip install 'skion[plot]')"]
    written += _plot(out, y, predictions, reports, histories, X, groups, recordings)
    return written


def _plot(out, y, predictions, reports, histories, X, groups, recordings):
    from ..metrics import plot_confusion, plot_history, plot_per_class_f1, plot_segment

    # Zoom on 3000 samples in the middle of the recording with the most channels.
    busiest = max(range(len(recordings)), key=lambda i: recordings[i].n_channels)
    rows = np.flatnonzero(groups == np.unique(groups)[busiest])
    start = int(rows[len(rows) // 2])
    figures = {
        "segment.png": plot_segment(X, y, predictions[UNET], start=start, stop=start + 3000),
        "confusion.png": plot_confusion(y, predictions[UNET]),
        "per_class_f1.png": plot_per_class_f1(reports),
        "history.png": plot_history(histories[0]),
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

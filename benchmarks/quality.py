"""Quality: macro-F1 and per-regime F1 against the exact Bayes oracle on held-out recordings.

Training and test data are separate ``make_ion_switching`` draws (all five regimes, each
twice, the competition's drift on recordings 1 and 6-9 unless ``--drift`` says otherwise),
so every model is scored on recordings it never saw. Models: the Bayes oracle (the
generator's true model, the ceiling), the U-Net of ``skion demo`` (``UNET_PARAMS``), the
U-Net at the seed recipe's size for a few epochs, the ``skion demo`` baselines and a
nearest-level threshold rule. Every model sees the same cleaning
(``skion.pipelines.make_cleaning``: drift and 50 Hz hum measured on the lattice of
open-channel levels learned from the training labels, then a z-score). Per-regime F1 is
the macro-F1 over the classes present in that regime's recordings. Prints a markdown table.

    python benchmarks/quality.py [--train-samples 1000000] [--test-samples 500000]
        [--seed-epochs 4] [--extra-unet epochs=120 ...] [--out docs/_static/quality.md]
    python benchmarks/quality.py --quick    # smoke run, about a minute
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from _bench import machine
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from skion import SequenceUNetClassifier
from skion.datasets import REGIMES, make_ion_switching, oracle_proba
from skion.pipelines import UNET_PARAMS, make_baseline_pipelines, make_cleaning, make_unet_pipeline

ORACLE = "Bayes oracle (true model)"
MODELS = ("unet", "unet-seed", "hmm", "boosting", "logreg", "threshold")


class NearestLevelClassifier(ClassifierMixin, BaseEstimator):
    """Threshold baseline: each sample gets the class whose median level is nearest.

    ``fit`` takes the median of the first column per class; thresholds lie halfway
    between consecutive levels. No context, no kinetics: the floor any model must beat.
    """

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        self.classes_, codes = np.unique(y, return_inverse=True)
        levels = np.array([np.median(X[codes == k, 0]) for k in range(len(self.classes_))])
        self.order_ = np.argsort(levels)
        self.thresholds_ = 0.5 * (levels[self.order_][1:] + levels[self.order_][:-1])
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.classes_[self.order_[np.searchsorted(self.thresholds_, X[:, 0])]]


def _seed_params(epochs: int) -> dict:
    """The seed recipe's values for every setting that ``UNET_PARAMS`` overrides."""
    seed = SequenceUNetClassifier().get_params()
    return {**{key: seed[key] for key in UNET_PARAMS}, "epochs": epochs}


def _parse_overrides(text: str) -> dict:
    """``"epochs=120,window_size=2000"`` -> ``{"epochs": 120, "window_size": 2000}``."""
    pairs = (item.split("=", 1) for item in text.split(",") if item)
    return {key.strip(): ast.literal_eval(value.strip()) for key, value in pairs}


def _models(args) -> list[tuple[str, str, Pipeline]]:
    """(name, configuration note, pipeline) for every model the run asks for."""
    unet = {**UNET_PARAMS, "epochs": args.unet_epochs}
    models = []
    if "unet" in args.models:
        note = f"CPU config (UNET_PARAMS), {unet['epochs']} epochs"
        models.append(("SequenceUNetClassifier", note, make_unet_pipeline(random_state=0, **unet)))
    for text in args.extra_unet:
        params = {**unet, **_parse_overrides(text)}
        note = f"CPU config, {text}"
        models.append(
            ("SequenceUNetClassifier", note, make_unet_pipeline(random_state=0, **params))
        )
    if "unet-seed" in args.models:
        params = _seed_params(args.seed_epochs)
        note = f"seed defaults (5.1M parameters), {args.seed_epochs} epochs"
        models.append(
            ("SequenceUNetClassifier", note, make_unet_pipeline(random_state=0, **params))
        )
    baselines = make_baseline_pipelines(random_state=0)
    for key, name, note in (
        ("hmm", "HMMClassifier", "supervised Gaussian HMM, posterior decoding"),
        ("boosting", "gradient boosting (context)", "100 iterations, lags 1-3, rolling 5/15"),
        ("logreg", "logistic regression (pointwise)", "cleaned current only"),
    ):
        if key in args.models:
            models.append((name, note, baselines[name]))
    if "threshold" in args.models:
        pipeline = Pipeline([("clean", make_cleaning()), ("levels", NearestLevelClassifier())])
        models.append(("nearest-level threshold", "class medians, midpoint thresholds", pipeline))
    return models


def _scores(y, y_pred, recordings) -> dict:
    """Macro-F1 over all test rows and per regime (classes present in that regime)."""
    scores = {"macro": f1_score(y, y_pred, average="macro")}
    for regime in REGIMES:
        rows = np.zeros(len(y), dtype=bool)
        for recording in recordings:
            if recording.regime == regime:
                rows[recording.start : recording.stop] = True
        if rows.any():
            labels = np.unique(y[rows])
            scores[regime] = f1_score(y[rows], y_pred[rows], labels=labels, average="macro")
    return scores


def _table(rows, regimes) -> str:
    oracle = rows[0]["scores"]["macro"]
    head = ["model", "configuration", "macro-F1", "vs oracle", *regimes, "fit s", "predict s"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for row in rows:
        s = row["scores"]
        cells = [
            row["model"],
            row["note"],
            f"{s['macro']:.3f}",
            "—" if row["model"] == ORACLE else f"{s['macro'] - oracle:+.3f}",
            *(f"{s[r]:.3f}" for r in regimes),
            "—" if row["fit_s"] is None else f"{row['fit_s']:.0f}",
            f"{row['predict_s']:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-samples", type=int, default=1_000_000)
    parser.add_argument("--test-samples", type=int, default=500_000)
    parser.add_argument("--drift", choices=["competition", "all", "none"], default="competition")
    parser.add_argument("--unet-epochs", type=int, default=UNET_PARAMS["epochs"])
    parser.add_argument("--seed-epochs", type=int, default=4)
    parser.add_argument(
        "--extra-unet",
        action="append",
        default=[],
        metavar="KEY=VALUE,...",
        help="also fit the CPU-config U-Net with these overrides (repeatable)",
    )
    parser.add_argument("--no-tta-row", action="store_true", help="skip the tta_flip=False row")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--out", type=Path, help="also write the table (markdown) here")
    args = parser.parse_args(argv)
    if args.quick:
        args.train_samples, args.test_samples = 100_000, 50_000
        args.unet_epochs, args.seed_epochs = 2, 1

    started = time.perf_counter()
    drift = {"competition": None, "all": True, "none": False}[args.drift]
    X, y, groups, _ = make_ion_switching(
        args.train_samples, drift=drift, random_state=0, return_model=True
    )
    X_test, y_test, groups_test, recordings = make_ion_switching(
        args.test_samples, drift=drift, random_state=1, return_model=True
    )
    regimes = [r for r in REGIMES if any(rec.regime == r for rec in recordings)]
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    log(f"train {len(y):,} samples, test {len(y_test):,} (separate recordings)")

    tic = time.perf_counter()
    oracle = np.argmax(oracle_proba(X_test, recordings), axis=1)
    rows = [
        {
            "model": ORACLE,
            "note": "forward-backward with the generating model",
            "scores": _scores(y_test, oracle, recordings),
            "fit_s": None,
            "predict_s": time.perf_counter() - tic,
        }
    ]
    with sklearn.config_context(enable_metadata_routing=True):
        for name, note, model in _models(args):
            log(f"{name} ({note}): fitting ...")
            tic = time.perf_counter()
            model.fit(X, y, groups=groups)
            fit_s = time.perf_counter() - tic
            tic = time.perf_counter()
            y_pred = model.predict(X_test, groups=groups_test)
            row = {"model": name, "note": note, "fit_s": fit_s}
            rows.append({**row, "predict_s": time.perf_counter() - tic})
            rows[-1]["scores"] = _scores(y_test, y_pred, recordings)
            log(f"  macro-F1 {rows[-1]['scores']['macro']:.4f}, fit {fit_s:.0f} s")
            if isinstance(model[-1], SequenceUNetClassifier) and not args.no_tta_row:
                model[-1].set_params(tta_flip=False)
                tic = time.perf_counter()
                y_pred = model.predict(X_test, groups=groups_test)
                rows.append(
                    {
                        **row,
                        "note": f"{note}, tta_flip=False (same fit)",
                        "predict_s": time.perf_counter() - tic,
                        "scores": _scores(y_test, y_pred, recordings),
                    }
                )
    table = _table(rows, regimes)
    header = (
        f"Train {len(y):,} samples, test {len(y_test):,} samples (separate recordings, "
        f"drift: {args.drift}); {machine()}; total {time.perf_counter() - started:.0f} s\n"
    )
    print(header)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"{header}\n{table}\n")


if __name__ == "__main__":
    main()

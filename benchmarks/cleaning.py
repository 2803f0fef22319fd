"""Cleaning: how far each baseline removal is from the generator's baseline, and what it costs.

On ``make_ion_switching`` data (train and test are separate draws, every regime, the
competition's drift), every cleaning is scored three ways on the test recordings:

- the baseline error: mean |cleaned - true current above the closed level| per recording
  (the true current removes the generator's own offset, hum and drift);
- the exact Bayes posterior (``oracle_proba`` with the true kinetics and noise, but no
  hum, drift or offset) computed on the cleaned signal: the best any model can do after
  that cleaning;
- ``HMMClassifier`` fitted on the cleaned training recordings.

Rows: the generator's true baseline (the reference), ``ZScoreWindower``'s 50 Hz notch and
cubic trend anchored at the start (the cleaning of skion 0.1's demo), and
``LatticeDetrender`` with and without the hum fit. Prints a markdown table.

    python benchmarks/cleaning.py [--train-samples 1000000] [--test-samples 500000]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from _bench import machine
from sklearn.metrics import f1_score

from skion import HMMClassifier, LatticeDetrender, ZScoreWindower
from skion.datasets import make_ion_switching, oracle_proba


def true_current(X, models):
    """The current above the closed level with the generator's hum and drift removed."""
    out = X[:, 0].astype(np.float64).copy()
    for m in models:
        out[m.start : m.stop] -= m.baseline()
    return out


def _notch_and_cubic(X, y, groups):
    """ZScoreWindower's cleaning in pA, minus the closed level (the median cleaned training
    current of the y == 0 rows)."""
    zs = ZScoreWindower(detrend="poly", detrend_degree=3, detrend_anchor="start", notch_freq=50.0)
    zs.fit(X, groups=groups)

    def in_pa(X_new, groups_new):
        return zs.transform(X_new, groups=groups_new)[:, 0] * zs.scale_[0] + zs.center_[0]

    closed = float(np.median(in_pa(X, groups)[y == 0])) if np.any(y == 0) else 0.0

    def clean(X_new, groups_new, _models):
        return in_pa(X_new, groups_new) - closed

    return clean


def _lattice(**params):
    def make(X, y, groups):
        detrender = LatticeDetrender(**params).fit(X, y, groups=groups)
        return lambda X_new, groups_new, _models: detrender.transform(X_new, groups=groups_new)[
            :, 0
        ]

    return make


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-samples", type=int, default=1_000_000)
    parser.add_argument("--test-samples", type=int, default=500_000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    X, y, groups, train_models = make_ion_switching(
        args.train_samples, random_state=0, return_model=True
    )
    X_test, y_test, groups_test, models = make_ion_switching(
        args.test_samples, random_state=1, return_model=True
    )
    ten = np.zeros(len(y_test), dtype=bool)
    for m in models:
        ten[m.start : m.stop] |= m.regime == "10_channels"
    flat = [dataclasses.replace(m, offset=0.0, hum_amplitude=0.0, drift="none") for m in models]
    truth = true_current(X_test, models)

    def scores(pred):
        labels = np.unique(y_test[ten])
        return (
            f1_score(y_test, pred, average="macro"),
            f1_score(y_test[ten], pred[ten], labels=labels, average="macro"),
        )

    cleanings = {
        "true baseline (generator)": lambda *_: (
            lambda X_new, _groups, models_new: true_current(X_new, models_new)
        ),
        "ZScoreWindower: 50 Hz notch + cubic trend (start)": _notch_and_cubic,
        "LatticeDetrender(line_freq=50)": _lattice(line_freq=50.0),
        "LatticeDetrender() (no hum fit)": _lattice(),
    }
    lines = [
        "| cleaning | mean abs error (pA) | worst recording | oracle macro-F1 | oracle 10ch "
        "| HMM macro-F1 | HMM 10ch | clean s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, make in cleanings.items():
        tic = time.perf_counter()
        clean = make(X, y, groups)
        cleaned = clean(X_test, groups_test, models)
        seconds = time.perf_counter() - tic
        errors = [
            np.abs(cleaned[m.start : m.stop] - truth[m.start : m.stop]).mean() for m in models
        ]
        oracle = scores(oracle_proba(cleaned[:, None], flat).argmax(axis=1))
        hmm = HMMClassifier().fit(clean(X, groups, train_models)[:, None], y, groups=groups)
        hmm_scores = scores(hmm.predict(cleaned[:, None], groups=groups_test))
        cells = [f"{np.mean(errors):.3f}", f"{np.max(errors):.3f}"]
        cells += [f"{v:.3f}" for v in (*oracle, *hmm_scores)] + [f"{seconds:.1f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    print(
        f"\nTrain {len(y):,} rows, test {len(y_test):,} rows (separate draws); "
        f"{machine()}; "
        f"total {time.perf_counter() - started:.0f} s\n"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

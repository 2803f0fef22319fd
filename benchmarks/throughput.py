"""Training and inference throughput of SequenceUNetClassifier at the seed defaults.

Prints a markdown table. Absolute samples/s depend on the machine; the ratio column compares
the estimator with the same Keras model called directly on pre-cut windows in the same run
(the wrapper's overhead: validation, windowing, stitching, chunking).

    python benchmarks/throughput.py [--predict-samples 1000000] [--train-samples 384000]
"""

from __future__ import annotations

import argparse

import numpy as np
from _bench import machine, timed

from skion import SequenceUNetClassifier
from skion.datasets import make_telegraph
from skion.windowing import make_windows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predict-samples", type=int, default=1_000_000)
    parser.add_argument("--train-samples", type=int, default=384_000)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after a warm-up)")
    parser.add_argument(
        "--raw-batch",
        type=int,
        default=26,
        help="windows per raw Keras call (26 windows of 10,000 rows: the estimator's chunk "
        "of 2**18 rows)",
    )
    args = parser.parse_args()

    X, y = make_telegraph(
        args.train_samples, n_channels=10, p_open=0.002, p_close=0.004, random_state=0
    )
    # Training: time 1 epoch (tracing + first epoch) and 1 + E epochs; the difference is
    # E steady-state epochs.
    params = {"validation_fraction": 0.0, "random_state": 0}
    warm = timed(lambda: SequenceUNetClassifier(epochs=1, **params).fit(X, y))[1][0]
    clf = SequenceUNetClassifier(epochs=1 + args.epochs, **params)
    total = timed(lambda: clf.fit(X, y))[1][0]
    train_rate = args.epochs * len(X) / (total - warm)

    X_pred = np.resize(X, (args.predict_samples, 1))
    rows = []
    for tta in (False, True):
        clf.set_params(tta_flip=tta, predict_window_size=10_000)
        clf.predict_proba(X_pred[:1_000_000])  # trace full-chunk and last-chunk shapes
        wrapper = timed(lambda: clf.predict_proba(X_pred))[1][0]
        rows.append((f"predict_proba, window 10000, tta_flip={tta}", wrapper))
    # Raw Keras: the same windows (margin 10 %), pre-cut, as many per call as the estimator's
    # chunk holds, no TTA.
    windows, _ = make_windows(X_pred, 10_000, margin=1_000)
    chunk = args.raw_batch
    raw = timed(
        lambda: [
            clf.model_.predict_on_batch(windows[i : i + chunk])
            for i in range(0, len(windows), chunk)
        ]
    )[1][0]

    print(f"Machine: {machine()}\n")
    print("| measurement | samples/s | ratio to raw Keras predict |")
    print("|---|---:|---:|")
    print(f"| raw Keras predict_on_batch on pre-cut windows | {len(X_pred) / raw:,.0f} | 1.00 |")
    for name, seconds in rows:
        print(f"| {name} | {len(X_pred) / seconds:,.0f} | {raw / seconds:.2f} |")
    print(f"| fit, seed defaults (window 4000, batch 32), per epoch | {train_rate:,.0f} | |")
    print(
        f"\nTraining tracing + first epoch: {warm:.1f} s; parameters: {clf.model_.count_params():,}"
    )


if __name__ == "__main__":
    main()

"""Training speed of SequenceUNetClassifier: XLA (``jit_compile``) and batch size.

Times every epoch with a callback. The first epoch carries the one-off cost of tracing
(and, with XLA, compiling) the training step; later epochs are the steady state. Each
configuration is run ``--repeats`` times in alternation, and the table reports medians and
the steady-state speed as a ratio to the first row, measured in the same run (absolute
samples/s vary between machines).

    python benchmarks/training_speed.py [--samples 100000] [--epochs 4] [--repeats 2]
        [--config demo|seed]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import keras
import numpy as np

from skion import SequenceUNetClassifier
from skion.cli._models import UNET_DEFAULTS
from skion.datasets import make_telegraph


class EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def epoch_times(X, y, params):
    """Per-epoch wall times of one fit."""
    clf = SequenceUNetClassifier(**params, callbacks=[EpochTimer()]).fit(X, y)
    return clf.callbacks_[0].times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per fit (first is warm-up)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--config", choices=["demo", "seed"], default="demo")
    args = parser.parse_args()

    X, y = make_telegraph(
        args.samples, n_channels=3, p_open=0.01, p_close=0.02, noise=0.3, random_state=0
    )
    base = UNET_DEFAULTS if args.config == "demo" else {}
    base = {**base, "epochs": args.epochs, "validation_fraction": 0.0, "random_state": 0}
    batch = base.get("batch_size", 32)
    configs = {
        f"jit_compile=False, batch_size={batch}": {},
        f"jit_compile=True, batch_size={batch}": {"jit_compile": True},
        f"jit_compile=False, batch_size={4 * batch}": {"batch_size": 4 * batch},
    }
    runs = {name: [] for name in configs}
    for _ in range(args.repeats):
        for name, extra in configs.items():
            runs[name].append(epoch_times(X, y, {**base, **extra}))

    print(
        f"{args.config} config, {args.samples:,} samples, {args.epochs} epochs per fit, "
        f"{args.repeats} repeats; {platform.machine()}, {os.cpu_count()} cores\n"
    )
    print("| configuration | first epoch s | steady samples/s | ratio |")
    print("|---|---:|---:|---:|")
    reference = None
    for name, fits in runs.items():
        first = np.median([times[0] for times in fits])
        steady = args.samples / np.median([t for times in fits for t in times[1:]])
        reference = reference or steady
        print(f"| {name} | {first:.1f} | {steady:,.0f} | {steady / reference:.2f} |")


if __name__ == "__main__":
    main()

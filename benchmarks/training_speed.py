"""Training speed of SequenceUNetClassifier against the machine's peak: XLA
(``jit_compile``), batch size and bfloat16.

Times every epoch with a callback. The first epoch carries the one-off cost of tracing
(and, with XLA, compiling) the training step; later epochs are the steady state. Each
configuration is run ``--repeats`` times in alternation, and the table reports medians and
the steady-state speed as a ratio to the first row, measured in the same run (absolute
samples/s vary between machines).

The fraction of peak: a training step costs about three forward passes (forward, then
the gradients of the activations and of the weights), and a forward pass costs
``2 * kernel_size * in_channels * out_channels`` per output position of every
convolution (and ``2 * in * out`` per position of every dense layer); the rest (ReLU,
pooling, concatenation, the optimizer) is not counted. The peak is the best float32
4096 x 4096 matrix product TensorFlow computes on this machine (bfloat16's is printed
beside it), all cores.

    python benchmarks/training_speed.py [--samples 400000] [--epochs 4] [--repeats 2]
        [--config demo|seed]
"""

from __future__ import annotations

import argparse
import time
import warnings

import keras
import numpy as np
from _bench import machine

from skion import SequenceUNetClassifier
from skion.datasets import make_telegraph
from skion.pipelines import UNET_PARAMS


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
    """Per-epoch wall times of one fit, and the fitted estimator."""
    clf = SequenceUNetClassifier(**params, callbacks=[EpochTimer()]).fit(X, y)
    return clf.callbacks_[0].times, clf


def forward_flops_per_sample(model, window_size):
    """Multiply-adds (x2) of the convolutions and dense layers per input sample."""
    counted = (keras.layers.Conv1D, keras.layers.Conv1DTranspose, keras.layers.Dense)
    layers = [layer for layer in model.layers if isinstance(layer, counted)]
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the probe is called with a bare array
        outputs = probe(np.zeros((1, window_size, model.input_shape[-1]), np.float32))
    total = 0
    for layer, output in zip(layers, outputs, strict=True):
        positions = output.shape[1] if len(output.shape) == 3 else 1
        total += 2 * int(np.prod(layer.kernel.shape)) * positions
    return total / window_size


def matmul_peak(dtype, size=4096, repeats=3):
    """Best GFLOP/s of a size x size matrix product in TensorFlow."""
    import tensorflow as tf

    a = tf.cast(tf.random.normal((size, size), seed=0), dtype)
    product = tf.function(lambda: tf.linalg.matmul(a, a))
    product().numpy()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        product().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400_000)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per fit (first is warm-up)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--config", choices=["demo", "seed"], default="demo")
    args = parser.parse_args()

    X, y = make_telegraph(
        args.samples, n_channels=3, p_open=0.01, p_close=0.02, noise=0.3, random_state=0
    )
    base = UNET_PARAMS if args.config == "demo" else {}
    base = {**base, "epochs": args.epochs, "validation_fraction": 0.0, "random_state": 0}
    batch = base.get("batch_size", 32)
    configs = {
        f"jit_compile=False, batch_size={batch}": {},
        f"jit_compile=True, batch_size={batch}": {"jit_compile": True},
        f"jit_compile=False, batch_size={4 * batch}": {"batch_size": 4 * batch},
        f'mixed_precision="bfloat16", batch_size={batch}': {"mixed_precision": "bfloat16"},
    }
    peak, peak_bf16 = matmul_peak("float32"), matmul_peak("bfloat16")
    runs = {name: [] for name in configs}
    for _ in range(args.repeats):
        for name, extra in configs.items():
            times, clf = epoch_times(X, y, {**base, **extra})
            runs[name].append(times)
    flops = 3 * forward_flops_per_sample(clf.model_, clf.window_size)

    print(
        f"{args.config} config, {args.samples:,} samples, {args.epochs} epochs per fit, "
        f"{args.repeats} repeats; {machine()}; "
        f"{flops:,.0f} FLOP per training sample; peak (matrix product): float32 "
        f"{peak:.0f} GFLOP/s, bfloat16 {peak_bf16:.0f} GFLOP/s\n"
    )
    print("| configuration | first epoch s | steady samples/s | ratio | GFLOP/s | of fp32 peak |")
    print("|---|---:|---:|---:|---:|---:|")
    reference = None
    for name, fits in runs.items():
        first = np.median([times[0] for times in fits])
        steady = args.samples / np.median([t for times in fits for t in times[1:]])
        reference = reference or steady
        rate = flops * steady / 1e9
        print(
            f"| {name} | {first:.1f} | {steady:,.0f} | {steady / reference:.2f} | {rate:.0f} "
            f"| {rate / peak:.0%} |"
        )


if __name__ == "__main__":
    main()

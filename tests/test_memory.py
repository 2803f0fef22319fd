"""Fitting again and again in one process keeps no memory per fit.

Measured cause of growth (about 120 MB per fit of a small U-Net before): each traced
training step registered ~500 functions in TensorFlow's context (the optimizer's slot
variables created inside the trace) and a custom gradient whose closure held the whole
training graph. The fast tests count those registries; the slow one measures the
resident memory of 20 fits.
"""

import gc
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skion import SequenceUNetClassifier
from skion.datasets import make_telegraph

from .conftest import TINY


def _registries():
    gc.collect()  # functions of freed models leave the context when collected
    from tensorflow.python.eager import context
    from tensorflow.python.framework import ops

    return len(ops._gradient_registry._registry), len(context.context().list_function_names())


def test_repeated_fits_register_nothing_in_tensorflow():
    X, y = make_telegraph(3000, p_open=0.02, p_close=0.02, noise=0.2, random_state=0)
    params = {**TINY, "run_eagerly": False}  # traced training steps, as users run them
    sizes = []
    for seed in range(3):
        SequenceUNetClassifier(**{**params, "random_state": seed}).fit(X, y).predict(X)
        sizes.append(_registries())
    assert sizes[1] == sizes[2] == sizes[0], sizes


def test_forget_custom_gradients_removes_only_what_the_block_registered():
    import tensorflow as tf

    from skion.neural._tensorflow import forget_custom_gradients

    @tf.custom_gradient
    def scaled(x):
        return 2.0 * x, lambda upstream: 2.0 * upstream

    def trace():
        tf.function(lambda x: scaled(x)).get_concrete_function(tf.TensorSpec([3]))

    trace()
    kept, _ = _registries()
    with forget_custom_gradients():
        trace()
        assert _registries()[0] == kept + 1
    assert _registries()[0] == kept
    x = tf.constant([1.0, 2.0, 3.0])  # the gradients of traces outside the block still work
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.function(scaled)(x))
    np.testing.assert_allclose(tape.gradient(total, x), [2.0, 2.0, 2.0])


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_resident_memory_is_flat_over_20_fits():
    """Slow (about 2 minutes): 20 fits + predicts of a small U-Net in a fresh process,
    by the benchmark that prints the same measurement."""
    script = Path(__file__).parents[1] / "benchmarks" / "memory.py"
    result = subprocess.run(
        [sys.executable, str(script), "--fits", "20"],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    slope = float(result.stdout.split("MB per fit")[0].split()[-1])
    assert slope <= 5.0, f"{slope:.1f} MB per fit"

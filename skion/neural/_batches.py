"""Training batches over pre-cut windows: per-epoch shuffling and flip augmentation.

The whole plan (window order and flips of every epoch) is drawn from a numpy generator
up front, so a seeded generator makes the batch sequence reproducible; gathering and
flipping run inside a ``tf.data`` pipeline that prefetches the next batches while the
network trains on the current one (Keras' TensorFlow backend).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

__all__ = ["window_batches"]


def window_batches(x, y, weight, *, batch_size, flip_prob, epochs, rng):
    """Batches of ``(x, y, weight)`` windows for ``epochs`` epochs, and steps per epoch.

    Every epoch visits each window once in a new random order; each visit reverses
    the window in time with probability ``flip_prob`` (signal, labels and weights
    together: the recipe's augmentation). An epoch's last batch may be smaller.

    Parameters
    ----------
    x : ndarray of shape (n_windows, window, n_features)
    y : ndarray of shape (n_windows, window)
        Encoded labels.
    weight : ndarray of shape (n_windows, window)
        Per-sample loss weights; zero on padding.
    batch_size : int
    flip_prob : float
    epochs : int
    rng : numpy.random.Generator

    Returns
    -------
    dataset : tf.data.Dataset
        ``epochs * steps_per_epoch`` batches; pass it to ``Model.fit`` together with
        ``steps_per_epoch`` so that Keras keeps one iterator across epochs.
    steps_per_epoch : int
    """
    n = len(x)
    orders = np.stack([rng.permutation(n) for _ in range(epochs)])
    flips = rng.random((epochs, n)) < flip_prob
    x, y, weight = tf.constant(x), tf.constant(y), tf.constant(weight)

    def epoch(order, flip):
        return tf.data.Dataset.from_tensor_slices((order, flip)).batch(batch_size)

    def load(index, flip):
        def gather(values):
            values = tf.gather(values, index)
            mask = tf.reshape(flip, [-1] + [1] * (values.shape.rank - 1))
            return tf.where(mask, tf.reverse(values, axis=[1]), values)

        return gather(x), gather(y), gather(weight)

    dataset = (
        tf.data.Dataset.from_tensor_slices((orders, flips))
        .flat_map(epoch)
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    return dataset, math.ceil(n / batch_size)

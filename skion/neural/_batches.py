"""Training batches over pre-cut windows: per-epoch shuffling and flip augmentation."""

from __future__ import annotations

import math

import keras


class WindowBatches(keras.utils.PyDataset):
    """Serve ``(x, y, sample_weight)`` batches of windows to ``keras.Model.fit``.

    Every epoch the window order is reshuffled and each window is reversed in time
    with probability ``flip_prob`` (signal, labels and weights together: the
    recipe's augmentation). All randomness comes from ``rng``, so a seeded
    generator makes the batch sequence reproducible.

    Parameters
    ----------
    x : ndarray of shape (n_windows, window, n_features)
    y : ndarray of shape (n_windows, window)
        Encoded labels.
    weight : ndarray of shape (n_windows, window)
        Per-sample loss weights; zero on padding.
    batch_size : int
    flip_prob : float
    rng : numpy.random.Generator
    """

    def __init__(self, x, y, weight, *, batch_size, flip_prob, rng):
        super().__init__()
        self.x, self.y, self.weight = x, y, weight
        self.batch_size = batch_size
        self.flip_prob = flip_prob
        self.rng = rng
        self._shuffle()

    def _shuffle(self):
        n = len(self.x)
        self.order = self.rng.permutation(n)
        self.flip = self.rng.random(n) < self.flip_prob

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        take = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        x, y, w = self.x[take], self.y[take], self.weight[take]
        flip = self.flip[take]
        if flip.any():
            x[flip] = x[flip, ::-1]
            y[flip] = y[flip, ::-1]
            w[flip] = w[flip, ::-1]
        return x, y, w

    def on_epoch_end(self):
        self._shuffle()

"""Keras callbacks and learning-rate schedules used by SequenceUNetClassifier."""

from __future__ import annotations

import math

import keras
import numpy as np
from sklearn.metrics import f1_score

__all__ = ["BatchLoss", "ValidationScores", "make_lr_schedule"]


def make_lr_schedule(kind, learning_rate: float, epochs: int):
    """Return ``epoch -> learning rate`` for ``kind``.

    ``"step"`` is the recipe's schedule stretched to ``epochs``: the base rate until
    35/60 of the epochs, a tenth of it until 50/60, a hundredth after (exactly
    epochs 35 and 50 when ``epochs=60``). ``"cosine"`` decays from the base rate to
    1 % of it; ``"constant"`` keeps it; a callable ``f(epoch, learning_rate, epochs)``
    is used as given.
    """
    if callable(kind):

        def given(epoch):
            rate = kind(epoch, learning_rate, epochs)
            try:
                value = float(rate)
            except (TypeError, ValueError):
                value = math.nan
            if not (math.isfinite(value) and value > 0) or isinstance(rate, bool):
                raise ValueError(
                    f"lr_schedule returned {rate!r} for epoch {epoch}; it must return a "
                    "finite positive learning rate."
                )
            return value

        return given
    if kind == "constant":
        return lambda epoch: learning_rate
    if kind == "step":
        first, second = round(epochs * 35 / 60), round(epochs * 50 / 60)
        return lambda epoch: (
            learning_rate * (1.0 if epoch < first else 0.1 if epoch < second else 0.01)
        )
    if kind == "cosine":
        floor = 0.01 * learning_rate

        def cosine(epoch):
            progress = min(epoch / max(epochs - 1, 1), 1.0)
            return floor + (learning_rate - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

        return cosine
    raise ValueError(f"Unknown lr_schedule {kind!r}.")


class ValidationScores(keras.callbacks.Callback):
    """Add ``val_loss`` and ``val_macro_f1`` to the epoch logs (the recipe's F1 callback).

    Scores are computed over the real rows of the hold-out windows only (padding
    excluded), from one forward pass: ``val_loss`` is the weighted mean
    cross-entropy, ``val_macro_f1`` the macro-averaged F1 of the argmax.
    """

    def __init__(self, x, y, weight, *, batch_size):
        super().__init__()
        self.x, self.y, self.weight = x, y, weight
        self.batch_size = batch_size

    def on_epoch_end(self, epoch, logs=None):
        proba = self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
        keep = self.weight > 0
        y_true = self.y[keep]
        p = proba[keep]
        w = self.weight[keep]
        true_p = np.take_along_axis(p, y_true[:, None].astype(np.intp), axis=1)[:, 0]
        loss = -np.sum(w * np.log(np.clip(true_p, 1e-7, 1.0))) / np.sum(w)
        # Classes absent from both truth and prediction are left out, as sklearn does.
        f1 = f1_score(y_true, p.argmax(axis=1), average="macro", zero_division=0.0)
        if logs is not None:
            logs["val_loss"] = float(loss)
            logs["val_macro_f1"] = float(f1)


class BatchLoss(keras.callbacks.Callback):
    """Record the training loss of every batch (the multi-label recipe's loss tracker).

    Keras reports, after each batch, the mean loss of the epoch so far, weighted by
    batch size. With the batch sizes known, each batch's own loss is recovered from two
    consecutive running means: ``(N_b * mean_b - N_{b-1} * mean_{b-1}) / n_b``.

    Parameters
    ----------
    n_windows : int
        Training windows per epoch; batches hold ``batch_size`` windows except the
        epoch's last, which holds the remainder.
    batch_size : int
        Windows per batch.
    """

    def __init__(self, n_windows, batch_size):
        super().__init__()
        self.n_windows, self.batch_size = n_windows, batch_size
        self.losses = []

    def on_epoch_begin(self, epoch, logs=None):
        self._seen, self._total = 0, 0.0

    def on_train_batch_end(self, batch, logs=None):
        if not logs or "loss" not in logs:
            return
        size = min(self.batch_size, self.n_windows - batch * self.batch_size)
        running = float(logs["loss"]) * (self._seen + size)
        self.losses.append((running - self._total) / size)
        self._seen, self._total = self._seen + size, running

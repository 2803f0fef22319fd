"""Progress of long command-line work on standard error (rich, which Keras depends on)."""

from __future__ import annotations

import keras

from .._progress import stderr_bar

__all__ = ["EpochProgress"]


class EpochProgress(keras.callbacks.Callback):
    """A bar of training epochs on standard error, with the loss and validation macro-F1.

    Given to ``SequenceUNetClassifier(callbacks=...)`` by ``skion fit`` and ``skion demo``
    when standard error is a terminal (and neither ``--quiet`` nor ``--verbose`` is
    given). Copies and pickles hold only the description.

    Parameters
    ----------
    description : str, default="training"
        Text before the bar.
    """

    def __init__(self, description: str = "training"):
        super().__init__()
        self.description = description
        self._bar = None

    def __getstate__(self):
        return {"description": self.description}

    def __setstate__(self, state):
        self.__init__(**state)

    def on_train_begin(self, logs=None):
        self._bar = stderr_bar("epochs {task.fields[scores]}")
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=self.params["epochs"], scores="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        scores = ", ".join(
            f"{name} {logs[name]:.4f}" for name in ("loss", "val_macro_f1") if name in logs
        )
        self._bar.update(self._task, advance=1, scores=scores)

    def on_train_end(self, logs=None):
        self._bar.stop()
        self._bar = None

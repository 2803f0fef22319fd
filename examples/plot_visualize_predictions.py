"""
Visualising predictions
=======================

The figures of :mod:`skion.metrics` show where a segmentation goes wrong: a stretch of
the trace with true and predicted open channels, the confusion matrix, per-class F1 and
the training curves. Each helper draws on the Matplotlib ``ax`` it is given (or on a new
figure) and returns it. This example also draws the predicted probabilities over time.
"""

# %%
# A fitted model and its predictions
# ----------------------------------
# Three channels with bursting kinetics (short openings in bursts), trained on the first
# 60,000 samples and predicted on the next 30,000 by :mod:`skion.pipelines`' U-Net recipe
# (12 epochs instead of 60).
import matplotlib.pyplot as plt
import numpy as np

from skion.datasets import make_ion_switching
from skion.pipelines import make_unet_pipeline

X, y, _ = make_ion_switching(90_000, regime="3_channels", drift=False, random_state=0)
X_train, y_train, X_test, y_test = X[:60_000], y[:60_000], X[60_000:], y[60_000:]

pipe = make_unet_pipeline(epochs=12, random_state=0).fit(X_train, y_train)
proba = pipe.predict_proba(X_test)
y_pred = pipe.classes_[proba.argmax(axis=1)]

# %%
# Scores per class
# ----------------
# :func:`~skion.metrics.per_class_report` is a table of precision, recall, F1 and
# support; :func:`~skion.metrics.f1_summary` condenses its F1 column.
from skion.metrics import f1_summary, per_class_report

report = per_class_report(y_test, y_pred)
print(report.round(3))
print({name: round(value, 3) for name, value in f1_summary(y_test, y_pred).items()})

# %%
# The trace
# ---------
# :func:`~skion.metrics.plot_segment` draws the current (grey, left axis) with the true
# (black) and predicted (dashed) open channels on a twin axis. 50 ms are enough to see
# single openings; errors cluster at short openings and at transitions.
from skion.metrics import plot_segment

fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
plot_segment(X_test, y_test, y_pred, start=10_000, stop=10_500, ax=ax)
ax.set_title("50 ms of the test data")

# %%
# The probabilities
# -----------------
# ``predict_proba`` gives every sample a distribution over the classes; its spread shows
# where the model hesitates. Here the same 50 ms, one row per class.
from skion.metrics import plot_confusion

fig, ax = plt.subplots(figsize=(9, 2.5), layout="constrained")
stretch = slice(10_000, 10_500)
image = ax.imshow(
    proba[stretch].T,
    aspect="auto",
    origin="lower",
    cmap="Greys",
    vmin=0,
    vmax=1,
    interpolation="nearest",
    extent=(0, 50, -0.5, len(pipe.classes_) - 0.5),
)
ax.step(np.arange(500) / 10, y_test[stretch], where="mid", color="tab:orange", linewidth=1)
ax.set_xlabel("time (ms)")
ax.set_ylabel("open channels")
ax.set_yticks(range(len(pipe.classes_)))
fig.colorbar(image, ax=ax, label="probability")
ax.set_title("Predicted probabilities, with the true count in orange")

# %%
# The confusion matrix
# --------------------
# :func:`~skion.metrics.plot_confusion` normalises each row: where the samples of a class
# went. Errors of a good segmentation sit next to the diagonal (one channel too many or
# too few).
fig, ax = plt.subplots(figsize=(5, 4.5), layout="constrained")
plot_confusion(y_test, y_pred, ax=ax)

# %%
# Per-class F1 and training curves
# --------------------------------
# :func:`~skion.metrics.plot_per_class_f1` takes one report or a dict of reports (one
# bar per model, as in the model comparison example); :func:`~skion.metrics.plot_history`
# takes the U-Net's ``history_``.
from skion.metrics import plot_history, plot_per_class_f1

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
plot_per_class_f1({"U-Net": report}, ax=left)
plot_history(pipe["unet"].history_, ax=right)
plt.show()

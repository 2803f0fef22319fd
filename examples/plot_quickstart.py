"""
Quickstart: a U-Net pipeline on a simulated recording
=====================================================

Fit :class:`~skion.SequenceUNetClassifier` behind :class:`~skion.ZScoreWindower` in a
scikit-learn :class:`~sklearn.pipeline.Pipeline`, score it with contiguous
cross-validation folds, and look at its predictions next to the truth.
"""

# %%
# Data: one row per time sample
# -----------------------------
# :func:`~skion.datasets.make_telegraph` simulates the current of three independent
# two-state channels at 10 kHz with Gaussian noise. ``X`` has one column (the current in
# pA), ``y`` the number of open channels at every sample.
import numpy as np

from skion.datasets import make_telegraph

X, y = make_telegraph(60_000, n_channels=3, p_open=0.01, p_close=0.02, noise=0.35, random_state=0)
print(X.shape, y.shape, "classes:", np.unique(y))

# %%
# The pipeline
# ------------
# The z-score learns the training current's mean and standard deviation. The U-Net is
# the small one measured for a CPU (:data:`skion.pipelines.UNET_PARAMS`: windows of 1000
# samples, 16 filters, one residual block per level), trained for 10 epochs. The seed
# recipe's full-size network is ``SequenceUNetClassifier()`` with its defaults.
from sklearn.pipeline import Pipeline

from skion import SequenceUNetClassifier, ZScoreWindower
from skion.pipelines import UNET_PARAMS

unet = SequenceUNetClassifier(**{**UNET_PARAMS, "epochs": 10, "random_state": 0})
pipe = Pipeline([("z", ZScoreWindower()), ("unet", unet)])

# %%
# Cross-validation with contiguous folds
# --------------------------------------
# Rows are time order, so folds must be contiguous blocks: ``KFold`` without shuffling.
# A shuffled split would put every test sample's neighbours in the training set.
from sklearn.model_selection import KFold, cross_validate

results = cross_validate(pipe, X, y, cv=KFold(3), scoring="f1_macro", return_estimator=True)
print("macro-F1 per fold:", results["test_score"].round(3))

# %%
# Predict and look
# ----------------
# The last fold's pipeline was trained on the first two thirds of the data; predict the
# rest. ``predict`` returns one label per row: the U-Net's windows are cut and stitched
# inside the estimator.
import matplotlib.pyplot as plt

from skion.metrics import plot_history, plot_segment

pipe = results["estimator"][-1]
split = 40_000
y_pred = pipe.predict(X[split:])
print("rows predicted:", len(y_pred))

fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
plot_segment(X[split:], y[split:], y_pred, stop=2000, ax=ax)
ax.set_title("The first 200 ms of the held-out data")

# %%
# The training history
# --------------------
# ``history_`` holds the loss of every epoch and, on the 20 % of training windows held out
# by ``validation_fraction``, the validation loss and macro-F1.
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
plot_history(pipe["unet"].history_, ax=ax)
ax.set_title("Training curves")
plt.show()

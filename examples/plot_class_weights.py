"""
Rare classes: class weights for the U-Net
=========================================

Channels are closed most of the time, so samples with many open channels are rare: in
the competition data 10 open channels made up well under 1 % of the rows. Cross-entropy
then spends almost all of its gradient on the common classes, and macro-F1, which counts
every class equally, suffers. :class:`~skion.SequenceUNetClassifier` weights each
sample's loss by its class with ``class_weight``:

- ``None``: every sample counts the same;
- ``"balanced"``: weight ``n_samples / (n_classes * count)``, as in scikit-learn;
- ``"balanced_sqrt"``: the square root of that, which still lifts rare classes but keeps
  a handful of rare samples from dominating a small batch's gradient.
"""

# %%
# Imbalanced data
# ---------------
# Four channels that open rarely and close quickly: three or four open channels at once
# are rare events.
import numpy as np
import pandas as pd

from skion.datasets import make_telegraph

X, y = make_telegraph(90_000, n_channels=4, p_open=0.005, p_close=0.02, noise=0.3, random_state=0)
X_train, y_train, X_test, y_test = X[:60_000], y[:60_000], X[60_000:], y[60_000:]
counts = pd.Series(y_train).value_counts().sort_index()
print(pd.DataFrame({"samples": counts, "share": (counts / counts.sum()).round(4)}))

# %%
# The weights each setting gives a sample of every class, relative to class 0:
from sklearn.utils.class_weight import compute_class_weight

balanced = compute_class_weight("balanced", classes=np.unique(y_train), y=y_train)
print(
    pd.DataFrame(
        {"balanced": balanced / balanced[0], "balanced_sqrt": np.sqrt(balanced / balanced[0])}
    ).round(1)
)

# %%
# Three fits that differ only in ``class_weight``
# -----------------------------------------------
from sklearn.pipeline import Pipeline

from skion import SequenceUNetClassifier, ZScoreWindower
from skion.metrics import f1_summary, per_class_report
from skion.pipelines import UNET_PARAMS

reports, summaries = {}, {}
for class_weight in [None, "balanced", "balanced_sqrt"]:
    unet = SequenceUNetClassifier(
        **{**UNET_PARAMS, "epochs": 10, "class_weight": class_weight, "random_state": 0}
    )
    pipe = Pipeline([("z", ZScoreWindower()), ("unet", unet)]).fit(X_train, y_train)
    y_pred = pipe.predict(X_test)
    name = str(class_weight)
    reports[name] = per_class_report(y_test, y_pred, labels=np.unique(y))
    summaries[name] = f1_summary(y_test, y_pred, labels=np.unique(y))
    summaries[name]["accuracy"] = float(np.mean(y_pred == y_test))
print(pd.DataFrame(summaries).T.round(3))

# %%
# Per-class F1
# ------------
# Weighting trades accuracy on the common classes for recall on the rare ones: the
# stronger the weights, the more samples of common classes are labelled as rare ones
# (compare the accuracy column). With fewer than a hundred training samples of four open
# channels, strong weights may be needed for the network to predict that class at all,
# at a price in the others. On the demo's ten recordings ``"balanced_sqrt"`` gave the best
# macro-F1 (``docs/decisions.md``), and ``skion demo`` uses it. Judge a setting by the
# worst class's F1 (``min`` above) as well as the mean: a class that is never predicted
# hides in an average.
import matplotlib.pyplot as plt

from skion.metrics import plot_per_class_f1

fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
plot_per_class_f1(reports, ax=ax)
ax.set_title("Per-class F1 on held-out data, by class_weight")
plt.show()

# %%
# ``class_weight`` multiplies with ``sample_weight`` passed to ``fit``, for weights that
# depend on more than the class (a noisy stretch, a recording you trust less).

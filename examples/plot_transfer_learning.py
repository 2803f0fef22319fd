"""
Transfer learning: fine-tune a pretrained U-Net on a short recording
====================================================================

A new recording is often short, and labelling it is the expensive part. A network
pretrained on other recordings has already learned what channel openings look like in
noise; :class:`~skion.SequenceUNetClassifier` can start from it with ``init_model`` and
fit only what is new. Here the pretrained network saw recordings with up to 5 open
channels (6 classes); the new recording has 3 channels (4 classes), so its per-sample
head is replaced, and ``freeze_encoder=True`` keeps the pretrained contracting path fixed.
"""

# %%
# A network pretrained on a 5-channel recording
# ---------------------------------------------
# Same unit current per channel and similar noise as the new recording: the features
# worth reusing (level steps, edges in noise) are the same; the number of levels is not.
from sklearn.metrics import f1_score

from skion import SequenceUNetClassifier
from skion.datasets import make_telegraph

settings = {
    "window_size": 250,
    "filters": 8,
    "depth": 1,
    "normalization": "none",
    "batch_size": 8,
    "learning_rate": 5e-3,
    "lr_schedule": "constant",
    "random_state": 0,
}
X_big, y_big = make_telegraph(
    60_000, n_channels=5, p_open=0.02, p_close=0.02, noise=0.3, random_state=0
)
pretrained = SequenceUNetClassifier(**settings, epochs=6, validation_fraction=0.0)
pretrained.fit(X_big, y_big)
print("classes of the pretrained network:", pretrained.classes_)

# %%
# The new recording: 3 channels, 0.3 s labelled
# ---------------------------------------------
# 3,000 labelled samples (12 windows) to train on, and a longer stretch of the same
# channels to score on. Passing the latter as ``validation_data`` records the held-out
# macro-F1 after every epoch in ``history_``.
X_new, y_new = make_telegraph(
    3_000, n_channels=3, p_open=0.02, p_close=0.02, noise=0.3, random_state=1
)
X_test, y_test = make_telegraph(
    30_000, n_channels=3, p_open=0.02, p_close=0.02, noise=0.3, random_state=2
)

# %%
# Three ways to train for the same 8 epochs
# -----------------------------------------
# From scratch; from the pretrained weights with everything trainable; and from the
# pretrained weights with the encoder frozen (only the decoder and the new head learn).
runs = {
    "from scratch": {},
    "fine-tuned": {"init_model": pretrained},
    "fine-tuned, encoder frozen": {"init_model": pretrained, "freeze_encoder": True},
}
fitted = {}
for name, extra in runs.items():
    clf = SequenceUNetClassifier(**settings, epochs=8, **extra)
    fitted[name] = clf.fit(X_new, y_new, validation_data=(X_test, y_test))
    score = f1_score(y_test, clf.predict(X_test), average="macro")
    print(f"{name:28s} macro-F1 {score:.3f}  (layers copied: {clf.n_transferred_layers_})")

# %%
# Held-out macro-F1 after every epoch
# -----------------------------------
# From scratch, 12 windows are too little to learn the levels and the noise in 8 epochs.
# With every pretrained weight trainable, the learning rate that suits a fresh network
# also shakes the pretrained one, and the score swings from epoch to epoch. With the
# encoder frozen, only the decoder and the head move and the score climbs steadily.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
for name, clf in fitted.items():
    epochs = range(1, clf.n_epochs_ + 1)
    ax.plot(epochs, clf.history_["val_macro_f1"], marker="o", label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("held-out macro-F1")
ax.set_ylim(0, 1)
ax.legend()

# %%
# Saving the fine-tuned model
# ---------------------------
# ``save`` writes one file; ``SequenceUNetClassifier.load`` reads it back, and such a file
# can itself be the ``init_model`` of the next fine-tuning.
import tempfile
from pathlib import Path

path = Path(tempfile.mkdtemp()) / "fine_tuned.skion"
best = fitted["fine-tuned, encoder frozen"]
best.save(path)
reloaded = SequenceUNetClassifier.load(path)
print("reloaded predicts the same:", (reloaded.predict(X_test) == best.predict(X_test)).all())

"""
Reading an ABF file
===================

Patch-clamp amplifiers save Axon Binary Format files. :func:`~skion.datasets.read_abf`
reads one channel of an ABF1 or ABF2 file into skion's row-per-sample arrays through
`pyabf <https://pypi.org/project/pyabf/>`_ (``pip install "skion[abf]"``). ABF files
carry no labels, so a model trained elsewhere segments them.

No ABF file ships with skion, so this example first writes one with pyabf's own writer
(``pyabf.abfWriter.writeABF1``, part of the released package) from a simulated recording
whose labels it keeps for checking.
"""

# %%
# Write a three-sweep ABF file
# ----------------------------
# A recording of 3 channels, cut into three sweeps of 20,000 samples (2 s at 10 kHz).
# The writer stores 16-bit integers, so values come back rounded to the file's
# resolution.
import tempfile
from pathlib import Path

import numpy as np

with np.printoptions():  # pyabf's import changes NumPy's print options; keep ours
    import pyabf

from skion.datasets import make_ion_switching

signal, truth, _ = make_ion_switching(60_000, regime="3_channels", drift=False, random_state=3)
path = Path(tempfile.mkdtemp()) / "cell.abf"
pyabf.abfWriter.writeABF1(signal[:, 0].reshape(3, 20_000), str(path), 10_000, "pA")

# %%
# Read it back
# ------------
# ``read_abf`` returns the samples of all sweeps in sweep order, the sampling rate, and
# ``groups``, the sweep of every row.
from skion.datasets import read_abf

X, rate, groups = read_abf(path)
print(X.shape, X.dtype, f"{rate:.0f} Hz", "rows per sweep:", np.bincount(groups))
print(f"largest rounding error: {np.abs(X - signal).max():.4f} pA")

# %%
# Segment it
# ----------
# Train a model on labelled recordings of the same rate and regime, then predict the
# file with its sweeps as ``groups``, so that nothing carries over from the end of one
# sweep to the start of the next. skion's steps ask for ``groups`` by default; the pipeline
# hands it to them with scikit-learn's metadata routing turned on. The HMM baseline trains
# in well under a second.
import sklearn
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline

from skion import HMMClassifier, ZScoreWindower

X_train, y_train, _ = make_ion_switching(60_000, regime="3_channels", drift=False, random_state=4)
with sklearn.config_context(enable_metadata_routing=True):
    model = Pipeline([("z", ZScoreWindower(notch_freq=50)), ("hmm", HMMClassifier())])
    model.fit(X_train, y_train, groups=np.zeros(len(X_train)))
    y_pred = model.predict(X, groups=groups)
print(f"macro-F1 against the simulated truth: {f1_score(truth, y_pred, average='macro'):.3f}")

# %%
# The first 100 ms of each sweep
# ------------------------------
import matplotlib.pyplot as plt

from skion.metrics import plot_segment

fig, axes = plt.subplots(3, 1, figsize=(9, 7), layout="constrained", sharex=True)
for sweep, ax in enumerate(axes):
    rows = np.flatnonzero(groups == sweep)
    plot_segment(X[rows], truth[rows], y_pred[rows], stop=1000, sampling_rate=rate, ax=ax)
    ax.set_title(f"sweep {sweep}")
plt.show()

# %%
# On real files, check the sampling rate (``rate``) against the rate the model was trained
# at, and the channel's units: ``read_abf(path, channel=1)`` reads the second ADC channel.

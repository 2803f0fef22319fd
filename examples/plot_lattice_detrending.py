"""
Drift and hum removal on the lattice of open-channel levels
===========================================================

Patch-clamp baselines drift by several pA and carry line hum, while the levels that
count open channels are only about a pA apart. Subtracting a polynomial trend and
notching out 50 Hz looks harmless, but both also remove part of the channels' own
signal. The polynomial follows slow changes in how many channels are open. The notch
removes the steps' own 50 Hz content.

:class:`~skion.LatticeDetrender` measures the baseline on the lattice the levels form:
with ``k`` channels open a sample reads ``baseline + k * step + noise``. The phase of
``exp(2j * pi * x / step)`` does not depend on ``k``, so block averages of it follow the
baseline whatever the channels do.
"""

# %%
# Data with a known baseline
# --------------------------
# ``make_ion_switching`` returns the generating model of every recording, so the true
# baseline (offset, 50 Hz hum and drift) is known and every cleaning can be scored.
import numpy as np

from skion.datasets import make_ion_switching

X, y, groups, models = make_ion_switching(400_000, random_state=0, return_model=True)
X_test, y_test, groups_test, test_models = make_ion_switching(
    200_000, random_state=1, return_model=True
)


def true_current(X, models):
    """The current above the closed level, without the generator's hum and drift."""
    out = X[:, 0].astype(np.float64).copy()
    for m in models:
        out[m.start : m.stop] -= m.baseline()
    return out


truth = true_current(X_test, test_models)

# %%
# Two cleanings
# -------------
# The classic one: a 50 Hz notch and a cubic trend anchored at each recording's start
# (``ZScoreWindower``, brought back to pA). The lattice one: ``LatticeDetrender``, which
# learns the step and the closed level from the labels.
from skion import LatticeDetrender, ZScoreWindower

classic = ZScoreWindower(detrend="poly", detrend_degree=3, detrend_anchor="start", notch_freq=50)
classic.fit(X, groups=groups)


def classic_current_of(X, groups, closed=0.0):
    """The classic cleaning in pA (the z-score undone), minus a closed level."""
    Z = classic.transform(X, groups=groups)[:, 0]
    return Z * classic.scale_[0] + classic.center_[0] - closed


# the closed level: the median cleaned training current with no channel open
closed = np.median(classic_current_of(X, groups)[y == 0])
classic_current = classic_current_of(X_test, groups_test, closed)

lattice = LatticeDetrender(line_freq=50.0).fit(X, y, groups=groups)
lattice_current = lattice.transform(X_test, groups=groups_test)[:, 0]
print(f"step {lattice.step_:.3f} pA, closed level {lattice.closed_level_:.2f} pA")

for name, current in [("notch + cubic", classic_current), ("lattice", lattice_current)]:
    error = np.abs(current - truth)
    print(f"{name:14s} mean baseline error {error.mean():.3f} pA")

# %%
# What is left of the baseline
# ----------------------------
# The error of each cleaning against the true current, on a 10-channel recording with a
# half-sine drift, smoothed over 20 ms so that the noise does not hide it.
import matplotlib.pyplot as plt

recording = next(m for m in test_models if m.regime == "10_channels" and m.drift == "sine")
rows = slice(recording.start, recording.stop)
seconds = np.arange(recording.stop - recording.start) / 10_000
kernel = np.ones(200) / 200

fig, ax = plt.subplots(figsize=(8, 3.5))
for name, current in [("notch + cubic", classic_current), ("lattice", lattice_current)]:
    ax.plot(seconds, np.convolve(current[rows] - truth[rows], kernel, mode="same"), label=name)
ax.axhline(0, color="k", lw=0.8)
ax.set(xlabel="time (s)", ylabel="cleaned - true current (pA)")
ax.set_title("Baseline error, 10 channels, half-sine drift")
ax.legend()
fig.tight_layout()

# %%
# What it costs a model
# ---------------------
# An :class:`~skion.HMMClassifier` fitted after each cleaning, scored on the held-out
# recordings. No model can recover what the cleaning destroyed.
from sklearn.metrics import f1_score

from skion import HMMClassifier

train_currents = {
    "notch + cubic": classic_current_of(X, groups, closed),
    "lattice": lattice.transform(X, groups=groups)[:, 0],
}
test_currents = {"notch + cubic": classic_current, "lattice": lattice_current}
for name in train_currents:
    hmm = HMMClassifier().fit(train_currents[name][:, None], y, groups=groups)
    pred = hmm.predict(test_currents[name][:, None], groups=groups_test)
    print(f"{name:14s} HMM macro-F1 {f1_score(y_test, pred, average='macro'):.3f}")

"""
Idealizing a recording from another rig, without labels
=======================================================

A recording from someone else's rig: 20 kHz, an inward current of -1.8 pA per channel,
an offset of +4 pA, a random-walk drift of two unitary steps, 60 Hz hum, and the
amplifier's 4-pole Bessel filter at 5 kHz. No labels, no known levels.
:class:`~skion.AggregatedHMM` (what ``skion idealize`` runs) finds the channels, the
current, the noise, the baseline and the kinetics from the current alone.
"""

# %%
# A recording nobody labelled
# ---------------------------
# ``make_patch_clamp`` simulates it, so that the answer is known here; the estimator sees
# only ``X``.
import numpy as np
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.datasets import make_patch_clamp

rate = 20_000
X, y, groups, baseline = make_patch_clamp(
    400_000,
    kinetics="fast",
    n_channels=3,
    sampling_rate=rate,
    unitary_current=-1.8,
    offset=4.0,
    noise=0.5,
    drift="random_walk",
    drift_amplitude=3.6,
    line_freq=60.0,
    hum_amplitude=0.15,
    filter_cutoff=5_000,
    random_state=7,
)

# %%
# Fit without labels
# ------------------
hmm = AggregatedHMM(sampling_rate=rate, line_freq=60.0).fit(X, groups=groups)
print(f"channels: {hmm.n_channels_} (true 3)")
print(f"unitary current: {hmm.unitary_current_:.3f} pA (true -1.8)")
print(f"noise sd: {hmm.noise_sd_:.3f} pA (0.5 before the filter)")
print("single-channel rates (1/s):")
print(np.round(hmm.rates_, 0))

# %%
# The idealization and the baseline it tracked
# --------------------------------------------
proba = hmm.predict_proba(X, groups=groups)
counts = hmm.classes_[proba.argmax(axis=1)]
tracked = hmm.predict_baseline(X, groups=groups)
print(f"macro-F1 against the simulator's labels: {f1_score(y, counts, average='macro'):.3f}")
error = np.sqrt(np.mean((tracked - baseline) ** 2)) / 1.8
print(f"baseline error: {error:.3f} unitary steps (rms)")

# %%
import matplotlib.pyplot as plt

window = slice(100_000, 104_000)
t = np.arange(window.stop - window.start) / rate * 1000
fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
top.plot(t, X[window, 0], lw=0.5, color="0.6", label="current")
top.plot(
    t,
    tracked[window] + hmm.unitary_current_ * counts[window],
    lw=1.2,
    color="C0",
    label="idealized levels",
)
top.plot(t, tracked[window], lw=1, color="C3", label="tracked baseline")
top.set_ylabel("pA")
top.legend(loc="lower left", fontsize=8)
bottom.step(t, y[window], where="mid", color="0.3", label="true open channels")
bottom.step(t, counts[window] + 0.05, where="mid", color="C0", label="idealized")
bottom.set_xlabel("time (ms)")
bottom.set_ylabel("open channels")
bottom.legend(loc="upper left", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# The filter correlates the noise and smooths the steps, which the model does not
# describe: brief openings are missed. The grid benchmark in the documentation measures
# what filtering costs against unfiltered recordings.

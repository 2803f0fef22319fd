"""
From an idealization to kinetics: a C-C-O channel with known rates
==================================================================

One channel gated by the scheme C1 <-> C2 <-> O opens in bursts: brief shuttings in C2
within bursts, long ones in C1 between them. A 60-second recording of it at 10 kHz
(-2 pA, noise 0.3 pA, 2 kHz Bessel filter) is idealized without labels by
:class:`~skion.AggregatedHMM` (what ``skion idealize`` runs), and :mod:`skion.kinetics`
recovers the open probability, the dwell-time components and the bursts, beside the
values the rates imply.
"""

# %%
# The scheme and its recording
# ----------------------------
import numpy as np
from scipy.linalg import eig

from skion import AggregatedHMM
from skion.datasets import make_patch_clamp
from skion.kinetics import (
    bursts,
    critical_time,
    dwell_times,
    impose_resolution,
    open_probability,
    plot_dwell_histogram,
    select_components,
)

rate = 10_000
Q = np.array(
    [
        [-100.0, 100.0, 0.0],  # C1 -> C2
        [200.0, -2200.0, 2000.0],  # C2 -> C1, C2 -> O
        [0.0, 1000.0, -1000.0],  # O -> C2
    ]
)
X, y, groups, _ = make_patch_clamp(
    600_000,
    kinetics=(Q, [2]),
    sampling_rate=rate,
    unitary_current=-2.0,
    noise=0.3,
    filter_cutoff=2_000,
    random_state=0,
)

# %%
# What the rates imply: Po from the stationary distribution, the open time 1 / 1000 s,
# and the two shut-time components from the eigenvalues of the shut block of Q.
values, vectors = eig(Q.T)
stationary = np.real(vectors[:, np.argmin(np.abs(values))])
stationary /= stationary.sum()
shut_block = Q[:2, :2]
true_shut_taus = np.sort(-1.0 / np.linalg.eigvals(shut_block).real)
print(f"true Po {stationary[2]:.3f}, open tau 1.000 ms, shut taus {true_shut_taus * 1e3} ms")

# %%
# Idealize without labels, then impose a resolution
# -------------------------------------------------
# The 2 kHz filter hides events shorter than about 0.2 ms; imposing that resolution makes
# what remains consistent (HJCFIT's convention).
hmm = AggregatedHMM(sampling_rate=rate, n_channels=1).fit(X, groups=groups)
counts = hmm.predict(X, groups=groups)
t_res = 2e-4
events = impose_resolution(dwell_times(counts, rate, current=X), t_res)
inner = events[~events["censored"]]
print(f"{len(events):,} events; Po {open_probability(counts, n_channels=1).iloc[0]:.3f}")

# %%
# Dwell-time components
# ---------------------
# Fitted by maximum likelihood from ``t_res`` up, exact for durations that are whole
# samples; the number of components is chosen by BIC.
fits = {}
for level, name in ((0, "shut"), (1, "open")):
    durations = inner.loc[inner["level"] == level, "duration"].to_numpy()
    fits[level] = select_components(durations, t_min=t_res, sampling_rate=rate)
    found = ", ".join(
        f"{tau * 1e3:.3f} ms ({a:.2f})"
        for tau, a in zip(fits[level].taus, fits[level].fractions, strict=True)
    )
    print(f"{name} times: {found}")

# %%
# The histograms, on a square-root scale, with the fits overlaid.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for ax, (level, name) in zip(axes, ((0, "shut"), (1, "open")), strict=True):
    durations = inner.loc[inner["level"] == level, "duration"].to_numpy()
    plot_dwell_histogram(durations, fits[level], ax=ax)
    ax.set_title(f"{name} times")
plt.show()

# %%
# Bursts
# ------
# The critical time between the two shut components separates gaps within bursts from
# gaps between them (equal numbers misclassified).
t_crit = critical_time(fits[0])
found = bursts(events, t_crit)
found = found[~found["censored"]]
print(
    f"t_crit {t_crit * 1e3:.2f} ms: {len(found)} bursts, "
    f"{found['n_openings'].mean():.1f} openings and {found['length'].mean() * 1e3:.1f} ms "
    f"each, Po within bursts {found['open_probability'].mean():.2f}"
)

# %%
# Against the truth
# -----------------
# The same analysis of the simulator's own labels tells what the idealization costs:
true_events = impose_resolution(dwell_times(y, rate), t_res)
true_inner = true_events[~true_events["censored"]]
for level, name in ((0, "shut"), (1, "open")):
    durations = true_inner.loc[true_inner["level"] == level, "duration"].to_numpy()
    fit = select_components(durations, t_min=t_res, sampling_rate=rate)
    print(f"{name} times of the true labels: {np.round(fit.taus * 1e3, 3)} ms")

# %%
# The idealization loses next to nothing. The slow shut component (between bursts, C1)
# and the open probability come out as the rates imply. The fast shut component and the
# open time are *apparent* ones: events shorter than the resolution are missed, so brief
# shuttings join openings (longer apparent openings, fewer openings per burst) and brief
# openings join shut times. For the rates themselves, corrected for missed events, write
# the events for HJCFIT (``write_scn``) with the same ``t_res``.

"""Kinetics from idealized labels: how close skion.kinetics comes to known rates.

Single-channel recordings are simulated with ``make_patch_clamp`` from schemes whose
rates are known, and their true labels are analysed as an idealization would be
(the idealization's own errors are not part of this table):

1. a two-state scheme C-O: open probability and the open and shut time constants,
   fitted with the exact likelihood of sampled dwells and, for comparison, as if the
   durations were continuous;
2. a C1-C2-O scheme: the two shut-time components (time constants and areas) against
   the ones the rate matrix implies, the critical time between them, and the mean
   number of openings per burst against its expected value;
3. the resolution: apparent open time constants after ``impose_resolution`` at
   several ``t_res``, beside the first-order prediction (every shutting shorter than
   ``t_res`` joins two openings and adds its length to them).

The truth a sampled record can show is the sampled chain ``expm(Q / rate)``: a sojourn
shorter than a sample is missed by any idealization, so the scheme's own time constants
differ from it by that missed-event bias (shown beside).

    python benchmarks/kinetics.py [--seconds 400] [--seed 1]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.linalg import eig, expm

from skion.datasets import make_patch_clamp
from skion.kinetics import (
    bursts,
    critical_time,
    dwell_times,
    fit_exponentials,
    impose_resolution,
    open_probability,
)

RATE = 10_000.0


def scheme(rates):
    """A linear scheme's Q from ``[(forward, backward), ...]`` rates (1/s)."""
    n = len(rates) + 1
    Q = np.zeros((n, n))
    for i, (forward, backward) in enumerate(rates):
        Q[i, i + 1], Q[i + 1, i] = forward, backward
    Q[np.diag_indices(n)] = -Q.sum(axis=1)
    return Q


def labels(Q, open_states, seconds, seed):
    _, y, _, _ = make_patch_clamp(
        int(seconds * RATE), kinetics=(Q, open_states), sampling_rate=RATE, random_state=seed
    )
    return y


def shut_components(Q, shut, entry):
    """Time constants and areas of the shut-time distribution of a scheme."""
    Q_ss = Q[np.ix_(shut, shut)]
    exit_rates = -Q_ss.sum(axis=1)
    values, vectors = eig(Q_ss)
    inverse = np.linalg.inv(vectors)
    taus = -1.0 / values.real
    # f(t) = entry exp(Q_ss t) exit = sum_i (entry v_i)(w_i exit) exp(-t / tau_i)
    areas = np.array(
        [(entry @ vectors[:, i]) * (inverse[i] @ exit_rates) * taus[i] for i in range(len(taus))]
    ).real
    order = np.argsort(taus)
    return taus[order], areas[order]


def sampled_components(Q, shut, opened, rate):
    """Time constants and areas of the shut times the sampled chain ``expm(Q / rate)`` shows.

    A sampled record misses every sojourn shorter than a sample; these are the
    components a perfect idealization of sampled data holds (openings that began and
    ended between two samples are part of the shut times).
    """
    P = expm(Q / rate)
    values, vectors = eig(Q.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values))])
    pi /= pi.sum()
    entry = pi[opened] @ P[np.ix_(opened, shut)]
    entry /= entry.sum()
    q, V = eig(P[np.ix_(shut, shut)])
    W = np.linalg.inv(V)
    leave = P[np.ix_(shut, opened)].sum(axis=1)
    # P(k samples) = sum_i c_i q_i^(k - 1); component i holds c_i / (1 - q_i) of them.
    areas = np.real((entry @ V) * (W @ leave) / (1 - q))
    taus = -1.0 / (rate * np.log(np.real(q)))
    order = np.argsort(taus)
    return taus[order], areas[order]


def uncensored(events, level):
    keep = (events["level"] == level) & ~events["censored"]
    return events.loc[keep, "duration"].to_numpy()


def two_state(seconds, seed):
    k_open, k_close = 200.0, 1000.0  # mean shut 5 ms, mean open 1 ms
    y = labels(scheme([(k_open, k_close)]), [1], seconds, seed)
    events = dwell_times(y, RATE)
    print(f"\n## Two states C-O, {len(events):,} events, {seconds:g} s at {RATE:g} Hz\n")
    po = float(open_probability(y, n_channels=1).iloc[0])
    print(f"Po {po:.4f} (true {k_open / (k_open + k_close):.4f})\n")
    print(
        "| dwell | scheme tau (ms) | sampled chain's (ms) | fitted, sampled likelihood (ms) "
        "| error vs chain | fitted as continuous (ms) | error vs chain |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    Q = scheme([(k_open, k_close)])
    for name, level, tau in (("open", 1, 1 / k_close), ("shut", 0, 1 / k_open)):
        chain = sampled_components(Q, [level], [1 - level], RATE)[0][0]
        d = uncensored(events, level)
        exact = fit_exponentials(d, 1, sampling_rate=RATE).taus[0]
        continuous = fit_exponentials(d, 1).taus[0]
        print(
            f"| {name} | {tau * 1e3:.3f} | {chain * 1e3:.3f} | {exact * 1e3:.3f} "
            f"| {100 * (exact / chain - 1):+.1f} % | {continuous * 1e3:.3f} "
            f"| {100 * (continuous / chain - 1):+.1f} % |"
        )
    chain = [sampled_components(Q, [level], [1 - level], RATE)[0][0] for level in (1, 0)]
    return events, *chain


def three_state(seconds, seed):
    # C1 <-> C2 <-> O: long closures in C1, brief ones in C2, bursts of openings.
    rates = [(100.0, 200.0), (2000.0, 1000.0)]
    Q = scheme(rates)
    y = labels(Q, [2], seconds, seed)
    events = dwell_times(y, RATE)
    print(f"\n## C1-C2-O, {len(events):,} events, {seconds:g} s at {RATE:g} Hz\n")
    taus, areas = shut_components(Q, [0, 1], np.array([0.0, 1.0]))
    fit = fit_exponentials(uncensored(events, 0), 2, sampling_rate=RATE)
    chain_taus, chain_areas = sampled_components(Q, [0, 1], [2], RATE)
    print(
        "| shut component | scheme tau (ms) | sampled chain's | fitted | error vs chain "
        "| scheme area | chain's | fitted |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for i, label in enumerate(("fast (C2)", "slow (C1)")):
        print(
            f"| {label} | {taus[i] * 1e3:.3f} | {chain_taus[i] * 1e3:.3f} "
            f"| {fit.taus[i] * 1e3:.3f} | {100 * (fit.taus[i] / chain_taus[i] - 1):+.1f} % "
            f"| {areas[i]:.3f} | {chain_areas[i]:.3f} | {fit.fractions[i]:.3f} |"
        )
    t_crit = critical_time(fit)
    found = bursts(events, t_crit)
    found = found[~found["censored"]]
    to_c1, to_open = rates[0][1], rates[1][0]
    ideal = (to_c1 + to_open) / to_c1
    # A burst ends at every gap longer than t_crit: the chain's gaps above it.
    ends = np.sum(chain_areas * np.exp(-t_crit / chain_taus))
    print(
        f"\nt_crit {t_crit * 1e3:.2f} ms (equal numbers misclassified); {len(found):,} bursts, "
        f"{found['n_openings'].mean():.2f} openings per burst; expected {1 / ends:.2f} from the "
        f"sampled chain's gaps longer than t_crit ({ideal:.2f} if no gap were misclassified "
        "and no opening missed)"
    )


def resolution(events, tau_open, tau_shut):
    print("\n## Apparent open times after impose_resolution (two states)\n")
    print(
        "| t_res (ms) | fitted apparent tau_o (ms) | first-order prediction (ms) "
        "| tau_o of the sampled chain (ms) |"
    )
    print("|---:|---:|---:|---:|")
    for t_res in (0.0, 2e-4, 5e-4, 1e-3, 2e-3):
        resolved = impose_resolution(events, t_res) if t_res else events
        fit = fit_exponentials(uncensored(resolved, 1), 1, t_min=t_res, sampling_rate=RATE)
        # Each apparent opening joins exp(x) openings through exp(x) - 1 brief shuttings
        # (x = t_res / tau_c) whose mean length is tau_c - t_res / (exp(x) - 1).
        joins = np.exp(t_res / tau_shut)
        predicted = tau_open * joins + (joins - 1) * tau_shut - t_res
        print(
            f"| {t_res * 1e3:g} | {fit.taus[0] * 1e3:.3f} | {predicted * 1e3:.3f} "
            f"| {tau_open * 1e3:.3f} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=400.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    events, tau_open, tau_shut = two_state(args.seconds, args.seed)
    three_state(args.seconds, args.seed + 1)
    resolution(events, tau_open, tau_shut)


if __name__ == "__main__":
    main()

"""Channels that run down (or up) within a recording, idealized without labels.

Patches lose channels as they are recorded (rundown), or gain them as an agonist washes
in. ``AggregatedHMM`` holds the same channels throughout, so the count that disappears
is entered far less often than its chain would enter it; which reading of the sign
explains the recording better can then be the wrong one. Every draw joins two
``make_patch_clamp`` recordings of the same rig: ``before`` channels for a fraction of
the rows, ``after`` channels for the rest.

- ``--grid`` (the default): 3 bursting channels, then 2, after 5 % (noise 0.2 pA),
  10 % (0.3 pA) and 15 % (0.4 pA) of 60,000 rows at 10 kHz, 1.2 pA, seeds 1-8 (the
  second recording's seed one higher);
- ``--draws N --seed S``: N draws at random: 1-5 channels before and a different count
  after (either way round), any of the four schemes but high (bursting twice as often),
  rundown after 5-50 % of 40,000-120,000 rows, unitary current 0.8-3 pA of either sign,
  noise 0.15-0.4 step, no drift or a ramp of one step.

Columns: the rows, the counts before and after, the fitted channel count, the sign found
against the true one, macro-F1, the warnings (``AmbiguousFitWarning``: "sign" where the
direction is uncertain, "jumps" for the joint-jump check, "cap" for levels above the
count; ``CorrelatedNoiseWarning``: "slow") and the seconds of the fit.

    python benchmarks/rundown.py [--grid] [--draws N --seed S]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.datasets import make_patch_clamp

try:  # run as a script from the repository root
    from _bench import machine
except ImportError:  # pragma: no cover
    from benchmarks._bench import machine


def _joined(n_samples, before, after, fraction, seed, **rig):
    """``(X, y)``: ``before`` channels on the first ``fraction`` of the rows, then
    ``after`` (the second recording drawn with ``seed + 1``)."""
    first = make_patch_clamp(n_samples, n_channels=before, random_state=seed, **rig)
    then = make_patch_clamp(n_samples, n_channels=after, random_state=seed + 1, **rig)
    k = int(fraction * n_samples)
    return np.concatenate([first[0][:k], then[0][k:]]), np.concatenate([first[1][:k], then[1][k:]])


def grid_draws():
    """The ``--grid`` draws: ``(label, before, after, fraction, seed, n_samples, rig)``."""
    for seed in range(1, 9):
        for fraction, noise in ((0.05, 0.2), (0.1, 0.3), (0.15, 0.4)):
            rig = {"kinetics": "bursting", "unitary_current": 1.2, "noise": noise}
            yield f"bursting, noise {noise} pA", 3, 2, fraction, seed, 60_000, rig


def random_draws(n_draws, seed):
    """``n_draws`` draws at random (see the module's docstring), from ``seed``."""
    rng = np.random.default_rng(seed)
    for _ in range(n_draws):
        scheme = str(rng.choice(["fast", "bursting", "slow", "bursting"]))
        before = int(rng.integers(2, 6))
        after = int(rng.integers(1, before))
        if rng.random() < 0.3:
            before, after = after, before
        step = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 3.0))
        noise = float(rng.uniform(0.15, 0.4))
        drift = str(rng.choice(["none", "ramp"]))
        rig = {
            "kinetics": scheme,
            "unitary_current": step,
            "noise": noise * abs(step),
            "drift": drift,
            "drift_amplitude": abs(step),
        }
        label = f"{scheme}, {step:+.2f} pA, noise {noise:.2f}, {drift}"
        fraction = float(rng.uniform(0.05, 0.5))
        n_samples = int(rng.integers(40_000, 120_000))
        yield label, before, after, fraction, int(rng.integers(1_000_000)), n_samples, rig


_SAID = {"direction of the current": "sign", "levels at once": "jumps", "level(s) above": "cap"}


def _said(caught):
    names = set()
    for warning in caught:
        text = str(warning.message)
        if warning.category.__name__ == "CorrelatedNoiseWarning":
            names.add("slow")
        names.update(name for key, name in _SAID.items() if key in text)
    return ", ".join(sorted(names)) or "-"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="the 24 bursting draws")
    parser.add_argument("--draws", type=int, default=0, help="draws at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random draws")
    args = parser.parse_args(argv)
    draws = list(random_draws(args.draws, args.seed)) if args.draws else []
    if args.grid or not args.draws:
        draws = list(grid_draws()) + draws
    print(f"{machine()}; {time.strftime('%Y-%m-%d')}\n")
    print("| rig | rows | channels | after | fitted N | sign | macro-F1 | warned | fit s |")
    print("|---|---:|---:|---:|---:|---|---:|---|---:|")
    for label, before, after, fraction, seed, n_samples, rig in draws:
        X, y = _joined(n_samples, before, after, fraction, seed, **rig)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hmm = AggregatedHMM().fit(X)
        seconds = time.perf_counter() - start
        right = np.sign(hmm.unitary_current_) == np.sign(rig["unitary_current"])
        f1 = f1_score(y, hmm.predict(X), average="macro")
        print(
            f"| {label} (seed {seed}) | {n_samples:,} | {before} | {after} at {fraction:.0%} "
            f"| {hmm.n_channels_} | {'right' if right else 'upside down'} | {f1:.3f} "
            f"| {_said(caught)} | {seconds:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

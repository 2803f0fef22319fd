"""Noise that is not white: where the U-Net leads skion's HMMs, and where it does not.

The HMMs model the recording noise as white and Gaussian, the same at every level. Real
rigs add 1/f (pink) noise, and open channels add their own noise. Each row draws a
recording with ``make_patch_clamp`` at almost no noise (0.01 pA) and adds one of:

- ``white``: Gaussian, sd 0.3 unitary currents (the HMMs' own assumption);
- ``pink``: 1/f noise above 1 Hz (flat below), same sd (lag-1 autocorrelation 0.83);
- ``open``: Gaussian with variance growing with the open channels: sd 0.2 steps when
  all are closed, plus 0.25 steps per open channel (in quadrature).

Training draw 200,000 rows (seed 1), test draw 100,000 rows (seed 2), 10 kHz. Models:
``AggregatedHMM()`` fitted without labels on the test recording itself; the labelled
``HMMClassifier`` baseline of ``make_baseline_pipelines()``; the recipe's U-Net
(``make_unet_pipeline``, ``UNET_PARAMS``, 60 epochs; ``--quick``: 10) trained on the
training draw; the pretrained network as ``skion idealize --method unet`` runs it (its
counts capped at the channels each recording's calibration found). Scores are test
macro-F1; in brackets, macro-F1 over the classes the test labels hold, where a model
predicted a count that never occurs (on a few dozen rows an empty class counts fully in
macro-F1). "warned (R)": ``AggregatedHMM`` said that the noise is not white
(``CorrelatedNoiseWarning``, ``slow_noise_ratio_`` R).

    python benchmarks/colored_noise.py [--quick] [--rows fast3_pink burst5_open ...]
    python benchmarks/colored_noise.py --hmm-only 101 111 121 [--rows ...]

``--hmm-only SEED ...`` runs the two HMMs alone on other draws (training seed, test seed +
1), with the labelled pipeline's cleaning residual on its training rows.

``--tracking SEED ...`` measures ``AggregatedHMM``'s tracking window under 1/f noise: on
the table's three 1/f rows and on ``TRACKING``'s conditions (100,000 rows per seed), each
fit once, its counts with the chosen ``tracking_window_`` against the same fit tracked
over ``baseline_window`` alone. The design was chosen on seeds 2 102 112 122; seeds
5005 6006 were not used for it. "joint jumps": ``joint_jump_ratio_``, and "warned" where
the fit said that its channels jump by several levels at once too often (its lattice
finer than the channels' own)::

    python benchmarks/colored_noise.py --tracking 5005 6006
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _bench import machine, pink, timed
from sklearn import config_context
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.datasets import make_patch_clamp
from skion.exceptions import AmbiguousFitWarning, CorrelatedNoiseWarning
from skion.neural import load_pretrained_unet
from skion.pipelines import (
    UNET_PARAMS,
    UNET_QUICK_PARAMS,
    calibrated_counts,
    make_baseline_pipelines,
    make_unet_pipeline,
)

SAMPLING_RATE = 10_000.0

#: name -> (kinetics, channels, unitary current (pA), noise)
ROWS = {
    "fast3_white": ("fast", 3, 1.2, "white"),
    "fast3_pink": ("fast", 3, 1.2, "pink"),
    "fast3_open": ("fast", 3, 1.2, "open"),
    "burst5_white": ("bursting", 5, 1.2, "white"),
    "burst5_pink": ("bursting", 5, 1.2, "pink"),
    "burst5_open": ("bursting", 5, 1.2, "open"),
    "fast3_pink_inward": ("fast", 3, -2.0, "pink"),
}


#: ``--tracking``'s conditions beyond the table's 1/f rows: kinetics, channels, white and
#: 1/f noise sd (unitary currents), at 1.2 pA with a ramp drift.
TRACKING = (
    ("slow", 3, 0.2, 0.2),
    ("high", 6, 0.2, 0.2),
    ("bursting", 4, 0.15, 0.25),
    ("fast", 2, 0.2, 0.15),
    ("high", 8, 0.15, 0.2),
    ("bursting", 6, 0.25, 0.15),
    ("fast", 4, 0.3, 0.3),
    ("bursting", 3, 0.1, 0.4),
    ("high", 4, 0.25, 0.1),
)


def draw(n, kinetics, n_channels, step, noise, seed):
    """``(X, y, groups)``: one recording with the given noise added."""
    X, y, groups, _ = make_patch_clamp(
        n,
        kinetics=kinetics,
        n_channels=n_channels,
        unitary_current=step,
        noise=0.01,
        sampling_rate=SAMPLING_RATE,
        random_state=seed,
    )
    rng = np.random.default_rng(seed + 1000)
    size = abs(step)
    if noise == "white":
        added = 0.3 * size * rng.standard_normal(n)
    elif noise == "pink":
        added = 0.3 * size * pink(n, rng, SAMPLING_RATE)
    else:
        sd = np.sqrt((0.2 * size) ** 2 + y * (0.25 * size) ** 2)
        added = sd * rng.standard_normal(n)
    return (X[:, 0].astype(np.float64) + added).astype(np.float32)[:, None], y, groups


def scores(y, predicted):
    """Macro-F1, and (where the model predicted a count the labels never hold) macro-F1
    over the labels' classes."""
    everything = f1_score(y, predicted, average="macro")
    if np.isin(predicted, y).all():
        return f"{everything:.3f}"
    held = f1_score(y, predicted, labels=np.unique(y), average="macro")
    return f"{everything:.3f} ({held:.3f})"


def label_free(X, y, groups):
    """``AggregatedHMM``'s cell: macro-F1, and its slow-noise ratio where it warned that
    the noise is not white."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CorrelatedNoiseWarning)
        hmm = AggregatedHMM().fit(X, groups=groups)
    cell = scores(y, hmm.predict(X, groups=groups))
    if any(issubclass(warning.category, CorrelatedNoiseWarning) for warning in caught):
        cell += f" warned ({hmm.slow_noise_ratio_:.0f})"
    return cell


def tracking_draw(kinetics, n_channels, white, slow, seed, n=100_000):
    """``(X, y)``: one of ``TRACKING``'s recordings."""
    X, y, _, _ = make_patch_clamp(
        n,
        kinetics=kinetics,
        n_channels=n_channels,
        unitary_current=1.2,
        noise=white * 1.2,
        drift="ramp",
        sampling_rate=SAMPLING_RATE,
        random_state=seed,
    )
    added = slow * 1.2 * pink(n, np.random.default_rng(seed + 7), SAMPLING_RATE)
    return (X[:, 0] + added).astype(np.float32)[:, None], y


def tracking_rows(seeds):
    """``--tracking``: a table row per recording, and the gains (points) of the window."""
    recordings = [
        (name, seed, *draw(100_000, *ROWS[name], seed=seed)[:2])
        for name in ("fast3_pink", "fast3_pink_inward", "burst5_pink")
        for seed in seeds
    ]
    recordings += [
        (
            f"{kinetics}, {n} ch, white {white}, 1/f {slow}",
            seed,
            *tracking_draw(kinetics, n, white, slow, seed),
        )
        for kinetics, n, white, slow in TRACKING
        for seed in seeds
    ]
    gains = []
    for name, seed, X, y in recordings:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore", CorrelatedNoiseWarning)
            warnings.simplefilter("always", AmbiguousFitWarning)
            hmm = AggregatedHMM().fit(X)
        joint = f"{hmm.joint_jump_ratio_:.2f}"
        if any("levels at once" in str(warning.message) for warning in caught):
            joint += " warned"
        chosen = hmm.tracking_window_
        tracked = f1_score(y, hmm.predict(X), average="macro")
        hmm.tracking_window_ = hmm.baseline_window
        long = f1_score(y, hmm.predict(X), average="macro")
        gains.append(100 * (tracked - long))
        print(
            f"| {name} | {seed} | {hmm.n_channels_}/{y.max()} | {hmm.slow_noise_ratio_:.1f} | "
            f"{1e3 * chosen:g} | {tracked:.3f} | {long:.3f} | {gains[-1]:+.1f} | {joint} |",
            flush=True,
        )
    return gains


def hmm_row(name, seed):
    """The HMMs alone on one draw (training ``seed``, test ``seed + 1``), with the
    residual of the labelled pipeline's cleaning on its training rows (in steps)."""
    kinetics, n_channels, step, noise = ROWS[name]
    X, y, groups = draw(200_000, kinetics, n_channels, step, noise, seed=seed)
    X_test, y_test, groups_test = draw(100_000, kinetics, n_channels, step, noise, seed=seed + 1)
    with config_context(enable_metadata_routing=True):
        hmm = make_baseline_pipelines()["HMMClassifier"].fit(X, y, groups=groups)
        cleaning = hmm["clean"]["baseline"]
        residual = cleaning.transform(X, groups=groups)[:, 0] - y * cleaning.step_
        labelled = hmm.predict(X_test, groups=groups_test)
    return (
        f"| {name} | {seed}/{seed + 1} | {label_free(X_test, y_test, groups_test)} | "
        f"{scores(y_test, labelled)} | {residual.std() / abs(cleaning.step_):.2f} |"
    )


def row(name, epochs):
    kinetics, n_channels, step, noise = ROWS[name]
    X, y, groups = draw(200_000, kinetics, n_channels, step, noise, seed=1)
    X_test, y_test, groups_test = draw(100_000, kinetics, n_channels, step, noise, seed=2)
    params = UNET_PARAMS if epochs == UNET_PARAMS["epochs"] else UNET_QUICK_PARAMS
    with config_context(enable_metadata_routing=True):
        hmm = make_baseline_pipelines()["HMMClassifier"].fit(X, y, groups=groups)
        unet, (fit_seconds, _) = timed(
            lambda: make_unet_pipeline(random_state=0, **params).fit(X, y, groups=groups)
        )
        pretrained = load_pretrained_unet()
        predicted = [
            hmm.predict(X_test, groups=groups_test),
            unet.predict(X_test, groups=groups_test),
            calibrated_counts(pretrained, X_test, groups_test)[0],
        ]
    cells = [label_free(X_test, y_test, groups_test)] + [scores(y_test, p) for p in predicted]
    cells[2] += f" ({fit_seconds:.0f} s fit)"
    return f"| {kinetics}, {n_channels} ch, {step:+g} pA | {noise} | " + " | ".join(cells) + " |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="U-Net for 10 epochs, not 60")
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    parser.add_argument(
        "--hmm-only",
        type=int,
        nargs="+",
        metavar="SEED",
        help="the HMMs alone, on draws of these training seeds (test: seed + 1)",
    )
    parser.add_argument(
        "--tracking",
        type=int,
        nargs="+",
        metavar="SEED",
        help="AggregatedHMM's tracking window under 1/f noise, on draws of these seeds",
    )
    args = parser.parse_args()
    if args.tracking:
        print(f"Machine: {machine()}\n")
        print(
            "| recording | seed | N fitted / most open | slow-noise ratio | window (ms) | "
            "macro-F1 | over baseline_window | gain (pts) | joint jumps |"
        )
        print("|---|---|---|---:|---:|---:|---:|---:|---:|")
        gains = np.array(tracking_rows(args.tracking))
        print(
            f"\n{len(gains)} recordings: mean {gains.mean():+.2f}, median "
            f"{np.median(gains):+.2f}, min {gains.min():+.2f}, max {gains.max():+.2f} points"
        )
        return
    if args.hmm_only:
        print(f"Machine: {machine()}\n")
        print(
            "| row | seeds | AggregatedHMM | HMMClassifier pipeline | cleaning residual (steps) |"
        )
        print("|---|---|---:|---:|---:|")
        for name in args.rows:
            for seed in args.hmm_only:
                print(hmm_row(name, seed), flush=True)
        return
    epochs = UNET_QUICK_PARAMS["epochs"] if args.quick else UNET_PARAMS["epochs"]
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    print(f"Machine: {machine()}\n")
    print(
        f"| recording | noise | AggregatedHMM (no labels) | HMMClassifier pipeline | "
        f"U-Net, {epochs} epochs | pretrained U-Net |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for name in args.rows:
        print(row(name, epochs), flush=True)


if __name__ == "__main__":
    main()

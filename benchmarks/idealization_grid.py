"""Idealization without labels over a grid of recording conditions, against the oracle.

Every cell draws fresh recordings with ``make_patch_clamp`` (two recordings per cell, a
seed per cell): a unitary current of random size (0.5-3 pA) and sign, a random offset,
a drift of the cell's kind spanning up to three unitary steps, 50 Hz hum of a tenth of a
step, and the cell's channels, scheme, noise (as a fraction of the step), sampling rate
and filter. Nothing is tuned per cell: ``AggregatedHMM(line_freq=50)`` is fitted without
labels with its defaults (a C-C-O scheme per channel, whatever the true scheme), exactly
what ``skion idealize --line-freq 50`` runs. Columns:

- macro-F1 of the idealization and of the exact Bayes posterior (``oracle_proba``, the
  generator's own model; only for unfiltered cells), and their difference in points;
- the calibration: channels found / true, relative error of the unitary current, and
  the baseline error (rms over the rows, in unitary steps);
- fit and predict seconds.

``--unet`` adds the pretrained U-Net (``skion idealize --method unet``: every recording
calibrated without labels by its ``LatticeScaler``, then the network) on the same
recordings: its macro-F1 and its difference to the HMM's, in points.

``--speed`` also times one forward-backward pass at 11, 66 and 286 aggregated states and a
fit + predict of 1,000,000 samples (two recordings), on one thread and on every core.

``--draws N --seed S`` replaces the grid by N cells drawn at random away from it (1-8
channels, any scheme, noise 0.1-0.45 step, 40,000-150,000 rows, seeds S..S+N-1): where
the grid's fixed cells may hide a failure, new draws find it.

    python benchmarks/idealization_grid.py [--samples 300000] [--quick] [--extra-only]
        [--regime "6 slow" ...]
        [--draws N --seed S] [--unet] [--speed] [--out docs/_static/idealization_grid.md]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
import zlib

import numpy as np
from _bench import machine
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.datasets import make_patch_clamp, oracle_proba
from skion.neural import load_pretrained_unet
from skion.pipelines import calibrated_counts

REGIMES = {  # name -> (channels, scheme)
    "1 slow": (1, "slow"),
    "1 fast": (1, "fast"),
    "3 bursting": (3, "bursting"),
    "5 bursting": (5, "bursting"),
    "6 slow": (6, "slow"),
    "10 high Po": (10, "high"),
}
NOISE = (0.1, 0.3, 0.5, 0.6)
DRIFTS = ("none", "ramp", "sine", "random_walk")
#: Extra conditions: (regime, noise/step, sampling rate, filter cutoff as a fraction of it)
EXTRA = [
    ("1 fast", 0.3, 5_000, None),
    ("3 bursting", 0.3, 5_000, None),
    ("1 fast", 0.3, 50_000, None),
    ("3 bursting", 0.3, 100_000, None),
    ("1 fast", 0.3, 10_000, 0.2),
    ("3 bursting", 0.3, 10_000, 0.2),
    ("5 bursting", 0.3, 20_000, 0.1),
]


def unet_f1(X, y, groups, rate):
    """Macro-F1 of the pretrained U-Net, as ``skion idealize --method unet`` runs it."""
    try:
        counts, _ = calibrated_counts(load_pretrained_unet(sampling_rate=rate), X, groups)
    except ValueError as error:
        return "error: " + str(error)[:60]
    return f1_score(y, counts, average="macro")


def run_cell(regime, noise_ratio, rate, cutoff, n_samples, seed, unet=False):
    """One cell; ``regime`` is a key of ``REGIMES`` or ``(n_channels, scheme)``."""
    rng = np.random.default_rng(seed)
    n_channels, scheme = REGIMES[regime] if isinstance(regime, str) else regime
    regime = regime if isinstance(regime, str) else f"{n_channels} {scheme}"
    step = float(rng.uniform(0.5, 3.0) * rng.choice([-1.0, 1.0]))
    drift = DRIFTS[seed % len(DRIFTS)]
    X, y, groups, baseline, models = make_patch_clamp(
        n_samples,
        kinetics=scheme,
        n_channels=n_channels,
        n_recordings=2,
        sampling_rate=rate,
        unitary_current=step,
        offset=float(rng.uniform(-5, 5)),
        noise=noise_ratio * abs(step),
        drift=drift,
        drift_amplitude=float(rng.uniform(0, 3)) * abs(step),
        hum_amplitude=0.1 * abs(step),
        filter_cutoff=None if cutoff is None else cutoff * rate,
        random_state=seed,
        return_model=True,
    )
    row = {
        "regime": regime,
        "noise/step": noise_ratio,
        "rate": rate,
        "filter": "-" if cutoff is None else f"{cutoff * rate / 1000:g} kHz",
        "drift": drift,
    }
    if unet:
        row["U-Net F1"] = unet_f1(X, y, groups, rate)
    hmm = AggregatedHMM(sampling_rate=rate, line_freq=50.0)
    tic = time.perf_counter()
    try:
        hmm.fit(X, groups=groups)
    except ValueError as error:
        return {**row, "error": str(error)[:80]}
    row["fit s"] = time.perf_counter() - tic
    tic = time.perf_counter()
    codes, estimated = hmm._decode(X, groups, kind="argmax")
    row["predict s"] = time.perf_counter() - tic
    pred = hmm.classes_[codes]
    row["F1"] = f1_score(y, pred, average="macro")
    if cutoff is None:
        oracle = oracle_proba(X, models, n_classes=max(11, n_channels + 1)).argmax(axis=1)
        row["oracle"] = f1_score(y, oracle, average="macro")
    row["N"] = f"{hmm.n_channels_}/{n_channels}"
    row["step err %"] = 100 * (hmm.unitary_current_ / step - 1)
    row["baseline err (steps)"] = float(np.sqrt(np.mean((estimated - baseline) ** 2)) / abs(step))
    return row


def random_cells(n_draws, seed):
    """``n_draws`` cells away from the grid: 1-8 channels, any scheme, noise 0.1-0.45 of
    the step, 40,000-150,000 rows, unfiltered at 10 kHz; ``(cell, n_samples, seed)``."""
    for draw in range(seed, seed + n_draws):
        rng = np.random.default_rng(draw)
        regime = (int(rng.integers(1, 9)), str(rng.choice(["slow", "fast", "bursting", "high"])))
        cell = (regime, round(float(rng.uniform(0.1, 0.45)), 2), 10_000, None)
        yield cell, int(rng.integers(40_000, 150_000)), draw


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def table(rows):
    columns = [
        "regime", "noise/step", "rate", "filter", "drift", "F1", "oracle", "vs oracle (pts)",
        "U-Net F1", "U-Net vs HMM (pts)", "N", "step err %", "baseline err (steps)", "fit s",
        "predict s",
    ]  # fmt: skip
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        if "error" in row:
            row = {**row, "F1": "error: " + row["error"]}
        elif "oracle" in row:
            row = {**row, "vs oracle (pts)": 100 * (row["F1"] - row["oracle"])}
        if isinstance(row.get("U-Net F1"), float) and isinstance(row.get("F1"), float):
            row = {**row, "U-Net vs HMM (pts)": 100 * (row["U-Net F1"] - row["F1"])}
        lines.append("| " + " | ".join(_fmt(row.get(c, "-")) for c in columns) + " |")
    return "\n".join(lines)


def speed():
    from skion.hmm._aggregated_chain import AggregatedChain
    from skion.hmm._count_kernels import count_forward_backward

    lines = ["| aggregated states | samples/s (one forward-backward pass) |", "|---:|---:|"]
    rng = np.random.default_rng(0)
    for n_channels, n_closed, n_open, n in [
        (10, 1, 1, 1_000_000),  # 11 states
        (10, 2, 1, 200_000),  # 66
        (10, 2, 2, 40_000),  # 286
    ]:
        chain = AggregatedChain(n_channels, n_closed, n_open)
        rates = np.array([300.0, 1200.0, 800.0, 600.0, 500.0, 250.0][: 2 * (n_closed + n_open - 1)])
        A, initial = chain.transition(rates, 1e-4), chain.initial(rates)
        emission = rng.random((n, n_channels + 1))
        count_forward_backward(emission[:1000], chain.level, A, initial)  # compile
        tic = time.perf_counter()
        count_forward_backward(emission, chain.level, A, initial)
        lines.append(f"| {len(chain.counts)} | {n / (time.perf_counter() - tic):,.0f} |")
    X, _, groups, _ = make_patch_clamp(
        1_000_000, kinetics="high", n_channels=10, n_recordings=2, unitary_current=1.23,
        noise=0.3, random_state=0,
    )  # fmt: skip
    lines.append(
        "\n| fit + predict of 1,000,000 samples (10 channels, 66 states) | fit s | predict s |"
    )
    lines.append("|---|---:|---:|")
    for n_jobs in (None, -1):
        tic = time.perf_counter()
        hmm = AggregatedHMM(n_jobs=n_jobs).fit(X, groups=groups)
        fit_s = time.perf_counter() - tic
        tic = time.perf_counter()
        hmm.predict(X, groups=groups)
        threads = "one thread" if n_jobs is None else f"n_jobs=-1 ({os.cpu_count()} cores)"
        lines.append(
            f"| {threads}, {hmm.n_iter_} EM iterations | {fit_s:.1f} | "
            f"{time.perf_counter() - tic:.1f} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=300_000, help="rows per cell")
    parser.add_argument("--quick", action="store_true", help="noise 0.3 and 0.6 only")
    parser.add_argument("--unet", action="store_true", help="also the pretrained U-Net")
    parser.add_argument(
        "--extra-only", action="store_true", help="only the other rates and filtered cells"
    )
    parser.add_argument(
        "--draws", type=int, default=0, help="instead of the grid: this many random cells"
    )
    parser.add_argument("--seed", type=int, default=0, help="first seed of --draws")
    parser.add_argument(
        "--regime", action="append", choices=list(REGIMES), help="only this regime (repeatable)"
    )
    parser.add_argument("--speed", action="store_true", help="also time the recursions")
    parser.add_argument("--out", help="also write the tables to this markdown file")
    args = parser.parse_args()
    noises = (0.3, 0.6) if args.quick else NOISE
    regimes = args.regime or list(REGIMES)
    cells = [(r, nz, 10_000, None) for r, nz in itertools.product(regimes, noises)]
    if not args.regime:
        cells += EXTRA
    if args.extra_only:
        cells = EXTRA
    runs = [(cell, args.samples, zlib.crc32(repr(cell).encode()) % 100_000) for cell in cells]
    rows_per_cell = f"{args.samples:,} rows per cell"
    if args.draws:
        runs = list(random_cells(args.draws, args.seed))
        last = args.seed + args.draws - 1
        rows_per_cell = f"{args.draws} random cells (seeds {args.seed}-{last})"
    rows = []
    for cell, n_samples, seed in runs:
        rows.append(run_cell(*cell, n_samples=n_samples, seed=seed, unet=args.unet))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = [
        f"{rows_per_cell} (two recordings), {machine()}\n",
        table(rows),
    ]
    if args.speed:
        text += ["", speed()]
    print("\n".join(text))
    if args.out:
        with open(args.out, "w") as handle:
            handle.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()

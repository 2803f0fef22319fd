"""Scaling: fit and predict time of every model versus the number of samples.

For each size a fresh ``make_ion_switching`` draw (all regimes) is cleaned once by the
``skion demo`` cleaning step (``LatticeDetrender`` + ``ZScoreWindower``, timed as
"cleaning"), then each model is timed on the
cleaned signal:

- U-Net at the demo's CPU config: a fit of 1 epoch (build, trace, windowing, one epoch) and
  the extra time of a fit of 2 epochs (the per-epoch cost, which is what scales with data),
  then ``predict`` after a warm-up call on a short slice;
- HMMClassifier fit and predict;
- the cleaning with ZScoreWindower(context=3, rolling_windows=(5, 15)) fit + transform
  (the boosting features) and gradient boosting on them, 10 iterations without early
  stopping (so the work per iteration, not the stopping point, sets the time).

Prints a markdown table with the log-log slope of time vs samples fitted over the sizes
from 1e6 up (1.0 = linear), and saves a plot.

    python benchmarks/scaling.py [--max-samples 10000000] [--plot docs/_static/scaling.png]
        [--out docs/_static/scaling.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from _bench import machine, timed

from skion.datasets import make_ion_switching
from skion.pipelines import UNET_PARAMS, make_baseline_pipelines, make_unet_pipeline

SIZES = (100_000, 300_000, 1_000_000, 3_000_000, 10_000_000)


def _measure(n: int) -> dict:
    """Seconds of every timed step on ``n`` samples."""
    X, y, groups = make_ion_switching(n, random_state=0)
    baselines = make_baseline_pipelines(random_state=0)
    times = {}

    clean = baselines["HMMClassifier"]["clean"]
    Z, times["cleaning (LatticeDetrender + ZScoreWindower) fit+transform"] = timed(
        lambda: clean.fit(X, y, groups=groups).transform(X, groups=groups)
    )

    unet = make_unet_pipeline(random_state=0, **UNET_PARAMS)["unet"]
    _, one = timed(lambda: unet.set_params(epochs=1).fit(Z, y, groups=groups))
    _, two = timed(lambda: unet.set_params(epochs=2).fit(Z, y, groups=groups))
    times["U-Net fit, 1 epoch (build, trace, windows)"] = one
    times["U-Net fit, per further epoch"] = two - one
    unet.predict(Z[:50_000])  # warm-up: trace the prediction function
    _, times["U-Net predict (tta_flip)"] = timed(lambda: unet.predict(Z, groups=groups))

    hmm = baselines["HMMClassifier"]["hmm"]
    _, times["HMMClassifier fit"] = timed(lambda: hmm.fit(Z, y, groups=groups))
    hmm.predict(Z[:1000])  # warm-up: import hmmlearn
    _, times["HMMClassifier predict"] = timed(lambda: hmm.predict(Z, groups=groups))

    boosting = baselines["gradient boosting (context)"]
    features = boosting["clean"]
    F, times["cleaning + context features fit+transform"] = timed(
        lambda: features.fit(X, y, groups=groups).transform(X, groups=groups)
    )
    hgb = boosting["hgb"].set_params(max_iter=10, early_stopping=False)
    _, times["gradient boosting fit (10 iterations)"] = timed(lambda: hgb.fit(F, y))
    _, times["gradient boosting predict"] = timed(lambda: hgb.predict(F))
    return times


def _slope(sizes, seconds) -> float:
    """Least-squares slope of log(seconds) on log(sizes), over positive times (NaN if < 2)."""
    sizes, seconds = np.asarray(sizes, dtype=float), np.asarray(seconds, dtype=float)
    keep = seconds > 0
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(sizes[keep]), np.log(seconds[keep]), 1)[0])


def _fmt(value, digits=2) -> str:
    return "—" if np.isnan(value) else f"{value:.{digits}f}"


def _table(results: dict) -> str:
    """Wall seconds per size, then log-log slopes from 1e6 up of wall and CPU time."""
    sizes = sorted(results)
    steps = list(results[sizes[0]])
    big = [n for n in sizes if n >= 1_000_000] or sizes
    head = ["step", *(f"{n:,}" for n in sizes), "slope wall", "slope CPU", "µs/sample"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for step in steps:
        wall = [results[n][step][0] for n in sizes]
        cells = [
            step,
            *(f"{s:.1f}" for s in wall),
            _fmt(_slope(big, [results[n][step][0] for n in big])),
            _fmt(_slope(big, [results[n][step][1] for n in big])),
            f"{1e6 * wall[-1] / sizes[-1]:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plot(results: dict, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = np.array(sorted(results))
    steps = list(results[sizes[0]])
    column = 0 if np.isnan(results[sizes[0]][steps[0]][1]) else 1  # CPU time when measured
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, kind in zip(axes, ("fit", "predict"), strict=True):
        chosen = [s for s in steps if (kind == "predict") == ("predict" in s or "transform" in s)]
        for step in chosen:
            seconds = np.array([results[n][step][column] for n in sizes])
            ax.loglog(sizes, np.where(seconds > 0, seconds, np.nan), "o-", label=step)
        reference = sizes / sizes[-1] * max(results[sizes[-1]][s][column] for s in chosen)
        ax.loglog(sizes, reference, "k--", lw=1, label="linear (slope 1)")
        ax.set_xlabel("samples")
        ax.set_title(
            "fit / training epoch" if kind == "fit" else "predict / transform", fontsize=10
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel(("wall", "CPU")[column] + " seconds")
    fig.suptitle(f"skion scaling, {os.cpu_count()} CPU cores", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-samples", type=int, default=SIZES[-1])
    parser.add_argument("--sizes", type=int, nargs="+", help="explicit sizes (overrides)")
    parser.add_argument("--plot", type=Path, help="save the PNG plot here")
    parser.add_argument("--out", type=Path, help="also write the table (markdown) here")
    parser.add_argument("--json", type=Path, help="also write the raw seconds (JSON) here")
    parser.add_argument(
        "--from-json", type=Path, help="re-render the table and plot of a saved run; no timing"
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or [n for n in SIZES if n <= args.max_samples]

    started = time.perf_counter()
    results = {}
    if args.from_json:  # a float is a wall time saved by an older version (no CPU time)
        saved = json.loads(args.from_json.read_text())
        results = {
            int(n): {k: np.append(v, np.nan)[:2] for k, v in r.items()} for n, r in saved.items()
        }
        sizes = []
    for n in sizes:
        with sklearn.config_context(enable_metadata_routing=True):
            results[n] = _measure(n)
        steps = ", ".join(f"{k} {v[0]:.1f}s (CPU {v[1]:.1f}s)" for k, v in results[n].items())
        print(f"{n:,}: {steps}", file=sys.stderr, flush=True)
    header = f"{machine()}; wall-clock seconds; total {time.perf_counter() - started:.0f} s\n"
    table = _table(results)
    print(header)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"{header}\n{table}\n")
    if args.json:
        args.json.write_text(
            json.dumps({str(n): {k: v.tolist() for k, v in r.items()} for n, r in results.items()})
        )
    if args.plot:
        _plot(results, args.plot)
        print(f"\nplot: {args.plot}")


if __name__ == "__main__":
    main()

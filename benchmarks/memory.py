"""Peak memory of prediction and transformation versus signal length.

Each (model, size) runs in a fresh process (peak RSS cannot be reset within one). The
model is fitted on a short signal first; the long input is allocated before the baseline
is read, so the growth is what ``predict``/``transform`` itself needs. It should be the
returned array plus a bounded working set that does not grow with the signal:

- ``unet``: ``SequenceUNetClassifier.predict_proba`` at seed defaults (window 10000, flip
  TTA), chunked inference;
- ``hmm``: ``HMMClassifier.predict`` on ``--recordings`` recordings of equal length;
- ``aggregated``: ``AggregatedHMM.predict`` (fitted without labels on 200,000 samples of
  10 channels of the three-state ``"fast"`` scheme, 66 aggregated states) on
  ``--recordings`` recordings of equal length;
- ``zscore``: the gradient-boosting baseline's cleaning ``transform`` (``LatticeDetrender``,
  then ``ZScoreWindower`` with 3 lags and leads and rolling windows 5 and 15), on
  ``--recordings`` recordings.

    python benchmarks/memory.py [--models unet hmm aggregated zscore]
        [--sizes 1000000 10000000] [--recordings 10]
    python benchmarks/memory.py --fits 20

``--fits N`` measures instead the resident memory of one process that fits and predicts
a small U-Net (window 500, 4 filters, depth 2, one epoch on 20,000 rows) N times: the
table of resident memory after every fit and its slope over fits 6..N (MB per fit; a
process that keeps something of every fit grows linearly). ``tests/test_memory.py`` runs
it as a slow test (goal: at most 5 MB per fit).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _repeated_fits(n_fits: int) -> list[float]:
    """Resident memory (MB) after each of ``n_fits`` fits + predicts in this process."""
    from skion import SequenceUNetClassifier
    from skion.datasets import make_ion_switching

    X, y, groups = make_ion_switching(20_000, random_state=0)
    resident = []
    for seed in range(n_fits):
        model = SequenceUNetClassifier(
            window_size=500, filters=4, depth=2, epochs=1, batch_size=8, random_state=seed
        ).fit(X, y, groups=groups)
        model.predict(X[:5000])
        resident.append(_resident_mb())
    return resident


def _fits_table(n_fits: int) -> None:
    import numpy as np

    result = subprocess.run(
        [sys.executable, __file__, "--fits-child", str(n_fits)],
        capture_output=True,
        text=True,
        check=True,
    )
    resident = json.loads(result.stdout.strip().splitlines()[-1])
    print("| fit | resident memory (MB) |\n|---:|---:|")
    for i, mb in enumerate(resident, 1):
        print(f"| {i} | {mb:.0f} |")
    slope = np.polyfit(np.arange(5, n_fits), resident[5:], 1)[0]
    print(f"\nslope over fits 6-{n_fits}: {slope:.2f} MB per fit")


def _measure(model: str, n_samples: int, n_recordings: int) -> dict:
    """Fit ``model`` on a short signal, run it on n_samples rows, report peak RSS (MB)."""
    import numpy as np
    import sklearn

    from skion import AggregatedHMM, HMMClassifier, SequenceUNetClassifier
    from skion.datasets import make_ion_switching, make_patch_clamp, make_telegraph
    from skion.pipelines import make_baseline_pipelines

    groups = np.repeat(np.arange(n_recordings), -(-n_samples // n_recordings))[:n_samples]
    if model == "unet":
        X, y = make_telegraph(8000, n_channels=10, p_open=0.002, p_close=0.004, random_state=0)
        clf = SequenceUNetClassifier(epochs=1, validation_fraction=0, random_state=0)
        clf.set_params(predict_window_size=10_000).fit(X, y)
        run, groups = clf.predict_proba, None  # one recording, as before
    elif model == "aggregated":
        X = make_patch_clamp(200_000, n_channels=10, noise=0.3, random_state=0)[0]
        clf = AggregatedHMM(n_channels=10).fit(X)
        run = clf.predict
    else:
        X, y, fit_groups = make_ion_switching(200_000, random_state=0)
        if model == "hmm":
            clf = HMMClassifier().fit(X, y, groups=fit_groups)
            run = clf.predict
        else:
            # the cleaning is a Pipeline: groups reach its steps through metadata routing
            sklearn.set_config(enable_metadata_routing=True)
            clf = make_baseline_pipelines()["gradient boosting (context)"]["clean"]
            clf.fit(X, y, groups=fit_groups)
            run = clf.transform
    X_long = np.resize(X, (n_samples, 1)).astype(np.float32)
    before = _peak_mb()
    out = run(X_long, groups=groups)
    after = _peak_mb()
    return {
        "model": model,
        "n": n_samples,
        "before": before,
        "after": after,
        "output": out.nbytes / 2**20,
        "output_desc": f"{out.dtype} {'x'.join(map(str, out.shape))}",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", choices=["unet", "hmm", "aggregated", "zscore"], default=["unet"]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 4_000_000])
    parser.add_argument("--recordings", type=int, default=10, help="for hmm, aggregated and zscore")
    parser.add_argument("--fits", type=int, help="repeated fits instead (at least 8)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--fits-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fits_child:
        print(json.dumps(_repeated_fits(args.fits_child)))
        return
    if args.fits:
        _fits_table(args.fits)
        return
    if args.child:
        model, n = args.child
        print(json.dumps(_measure(model, int(n), args.recordings)))
        return
    print(
        "| model | samples | peak RSS before (MB) | peak growth (MB) | output array | "
        "output (MB) | growth beyond output (MB) |"
    )
    print("|---|---:|---:|---:|---|---:|---:|")
    recordings = str(args.recordings)
    for model in args.models:
        for n in args.sizes:
            result = subprocess.run(
                [sys.executable, __file__, "--child", model, str(n), "--recordings", recordings],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(result.stdout.strip().splitlines()[-1])
            growth = r["after"] - r["before"]
            print(
                f"| {model} | {n:,} | {r['before']:.0f} | {growth:.0f} | {r['output_desc']} "
                f"| {r['output']:.0f} | {growth - r['output']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

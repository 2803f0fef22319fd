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
        [--sizes 1000000 10000000]
        [--recordings 10]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
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

"""Peak memory of SequenceUNetClassifier.predict_proba versus signal length.

Each size runs in a fresh process (peak RSS cannot be reset within one). Growth beyond the
output array must stay flat as the signal gets longer: inference is chunked.

    python benchmarks/memory.py [--sizes 1000000 4000000 10000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys


def _measure(n_samples: int) -> dict:
    """Fit a seed-default model on a short signal, predict n_samples rows, report RSS."""
    import numpy as np

    from skion import SequenceUNetClassifier
    from skion.datasets import make_telegraph

    X, y = make_telegraph(8000, n_channels=10, p_open=0.002, p_close=0.004, random_state=0)
    clf = SequenceUNetClassifier(epochs=1, validation_fraction=0, random_state=0)
    clf.set_params(predict_window_size=10_000).fit(X, y)
    X_long = np.resize(X, (n_samples, 1))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    proba = clf.predict_proba(X_long)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n_samples, "before": before, "after": after, "output": proba.nbytes / 2**20}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 4_000_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.child)))
        return
    print(
        "| samples | peak RSS before predict (MB) | peak growth (MB) | output array (MB) "
        "| growth beyond output (MB) |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        result = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(result.stdout.strip().splitlines()[-1])
        growth = r["after"] - r["before"]
        print(
            f"| {n:,} | {r['before']:.0f} | {growth:.0f} | {r['output']:.0f} "
            f"| {growth - r['output']:.0f} |"
        )


if __name__ == "__main__":
    main()

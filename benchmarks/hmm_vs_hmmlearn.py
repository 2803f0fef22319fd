"""HMMClassifier's decoders (compiled, numpy) against hmmlearn's C implementation.

All decode the same supervised model (parameters from HMMClassifier.fit, handed to
hmmlearn.hmm.GaussianHMM by ``implementation="hmmlearn"``), so the posteriors and paths
must agree; the table gives the time of each (after one warm-up call that compiles the
numba kernels) and the ratio to hmmlearn's posterior.

    pip install hmmlearn && python benchmarks/hmm_vs_hmmlearn.py [--n-samples 500000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from skion import HMMClassifier
from skion.datasets import make_ion_switching


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=500_000)
    args = parser.parse_args()

    X, y, _ = make_ion_switching(args.n_samples, regime="10_channels", drift=False, random_state=0)
    fitted = HMMClassifier().fit(X, y)
    results, rows = {}, []
    for decoder in ("posterior", "viterbi"):
        for implementation in ("compiled", "numpy", "hmmlearn"):
            hmm = fitted.set_params(decoder=decoder, implementation=implementation)
            predict = hmm.predict_proba if decoder == "posterior" else hmm.predict
            predict(X[:1000])  # compile / import
            start = time.perf_counter()
            results[decoder, implementation] = predict(X)
            rows.append((decoder, implementation, time.perf_counter() - start))
    reference = next(s for d, i, s in rows if (d, i) == ("posterior", "hmmlearn"))
    print(f"{args.n_samples:,} samples, {len(fitted.classes_)} states (10-channel regime)\n")
    print("| decoder | implementation | seconds | samples/s | time vs hmmlearn posterior |")
    print("|---|---|---:|---:|---:|")
    for decoder, implementation, seconds in rows:
        print(
            f"| {decoder} | {implementation} | {seconds:.2f} | {args.n_samples / seconds:,.0f} "
            f"| {seconds / reference:.2f} |"
        )
    for implementation in ("numpy", "hmmlearn"):
        gap = np.abs(results["posterior", "compiled"] - results["posterior", implementation])
        same = np.mean(results["viterbi", "compiled"] == results["viterbi", implementation])
        print(
            f"\ncompiled vs {implementation}: max |posterior difference| {gap.max():.2e}; "
            f"Viterbi paths agree on {same:.4%} of samples"
        )


if __name__ == "__main__":
    main()

"""HMMClassifier's numpy forward-backward against hmmlearn's C implementation.

Both decode the same supervised model (parameters from HMMClassifier.fit copied into
hmmlearn.hmm.GaussianHMM), so the posteriors must agree; the table gives the time of each.

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
    from hmmlearn.hmm import GaussianHMM

    X, y, _ = make_ion_switching(args.n_samples, regime="10_channels", drift=False, random_state=0)
    ours = HMMClassifier().fit(X, y)
    theirs = GaussianHMM(n_components=len(ours.classes_), covariance_type="diag", init_params="")
    theirs.startprob_ = ours.startprob_
    theirs.transmat_ = ours.transmat_
    theirs.means_ = ours.means_
    theirs.covars_ = ours.vars_

    rows = []
    for name, predict in [
        ("skion HMMClassifier.predict_proba (numpy)", lambda: ours.predict_proba(X)),
        ("hmmlearn GaussianHMM.predict_proba (C)", lambda: theirs.predict_proba(X)),
        (
            "skion HMMClassifier Viterbi (numpy)",
            lambda: ours.set_params(decoder="viterbi").predict(X),
        ),
        ("hmmlearn GaussianHMM.predict Viterbi (C)", lambda: theirs.predict(X)),
    ]:
        start = time.perf_counter()
        result = predict()
        rows.append((name, time.perf_counter() - start, result))
    gap = np.abs(rows[0][2] - rows[1][2]).max()
    same_path = np.mean(ours.classes_[rows[3][2]] == rows[2][2])
    reference = rows[1][1]
    print(f"{args.n_samples:,} samples, {len(ours.classes_)} states (10-channel regime)\n")
    print("| decoder | seconds | samples/s | time vs hmmlearn posterior |")
    print("|---|---:|---:|---:|")
    for name, seconds, _ in rows:
        print(
            f"| {name} | {seconds:.2f} | {args.n_samples / seconds:,.0f} "
            f"| {seconds / reference:.2f} |"
        )
    print(
        f"\nMax |posterior difference|: {gap:.2e}; "
        f"Viterbi paths agree on {same_path:.4%} of samples"
    )


if __name__ == "__main__":
    main()

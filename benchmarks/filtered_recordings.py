"""Idealization without labels of low-pass filtered recordings: the filter undone or not.

Amplifiers low-pass filter the current with a 4-pole Bessel filter before it is sampled.
Every cell draws one recording with ``make_patch_clamp`` (0.8 pA unitary current, noise
0.3 pA before the filter, a ramp drift of 1 pA, 10 kHz) at a cut-off that is a fraction
of the sampling rate, and idealizes it without labels three ways:

- ``AggregatedHMM(filter_cutoff=None)``: modelled as it is (white noise assumed);
- ``AggregatedHMM()``: the cut-off read from the recording and the filter undone
  (``filter_cutoff="auto"``, the default, what ``skion idealize`` runs);
- the pretrained U-Net (``skion idealize --method unet``), calibrated by ``LatticeScaler``.

The ceiling is the exact posterior of the same recording unfiltered (same seed: same
gating and noise, before the filter). Columns: macro-F1 of each, the cut-off found, and
seconds of the undone fit.

    python benchmarks/filtered_recordings.py [--samples 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import re
import time

from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.datasets import make_patch_clamp, oracle_proba

try:  # run as a script from the repository root
    from idealization_grid import unet_f1
except ImportError:  # pragma: no cover
    from benchmarks.idealization_grid import unet_f1

RATE = 10_000.0
CELLS = [  # (channels, scheme)
    (1, "slow"),
    (3, "fast"),
    (5, "bursting"),
    (8, "high"),
]
CUTOFFS = (0.2, 0.1, 0.05)  # fractions of the sampling rate


def _draw(n_channels, scheme, cutoff, n_samples, seed):
    return make_patch_clamp(
        n_samples,
        kinetics=scheme,
        n_channels=n_channels,
        unitary_current=0.8,
        offset=3.0,
        noise=0.3,
        drift="ramp",
        drift_amplitude=1.0,
        sampling_rate=RATE,
        filter_cutoff=cutoff,
        random_state=seed,
        return_model=True,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(
        "| channels, scheme | cut-off (of rate) | found (Hz) | unfiltered oracle | "
        "as it is | filter undone | pretrained U-Net | fit s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for n_channels, scheme in CELLS:
        for fraction in CUTOFFS:
            seed = args.seed + 100 * n_channels + int(fraction * 100)
            X, y, groups, _, _ = _draw(n_channels, scheme, fraction * RATE, args.samples, seed)
            X0, _, _, _, models = _draw(n_channels, scheme, None, args.samples, seed)
            oracle = f1_score(y, oracle_proba(X0, models).argmax(axis=1), average="macro")
            scores = []
            for cutoff in (None, "auto"):
                tic = time.perf_counter()
                try:
                    model = AggregatedHMM(filter_cutoff=cutoff).fit(X)
                    scores.append(f"{f1_score(y, model.predict(X), average='macro'):.3f}")
                except ValueError as error:
                    model = None
                    levels = re.search(r"shows (\d+) current levels", str(error))
                    scores.append(f"refused ({levels[1]} levels)" if levels else "refused")
                seconds = time.perf_counter() - tic
            found = (
                "-"
                if model is None or model.filter_cutoff_ is None
                else f"{model.filter_cutoff_:.0f}"
            )
            unet = unet_f1(X, y, groups, RATE)
            unet = unet if isinstance(unet, str) else f"{unet:.3f}"
            print(
                f"| {n_channels} {scheme} | {fraction:g} ({fraction * RATE:.0f} Hz) | {found} | "
                f"{oracle:.3f} | {scores[0]} | {scores[1]} | {unet} | {seconds:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Models between rigs: train on one simulated rig, predict others, against same-rig models.

Four rigs record three bursting channels (``make_patch_clamp``) with their own unitary
current (size and sign), offset, noise, drift and hum. The same classifier
(``HMMClassifier``) follows one of two cleanings:

- one lattice (``LatticeDetrender``: step and closed level learned from the training
  labels, then ``ZScoreWindower``), what ``skion fit`` ran until now;
- open-channel units (``LatticeScaler``: every recording calibrated on its own without
  labels, then ``ZScoreWindower``).

Each is trained on rig A and on each rig itself (other recordings of it), and scored by
macro-F1 on held-out recordings of every rig. Nothing is tuned per rig.

``--unet`` uses the command line's U-Net (``UNET_PARAMS`` with ``--epochs``) instead of
the HMM.

    python benchmarks/transfer.py [--samples 200000] [--unet] [--epochs 20]
"""

from __future__ import annotations

import argparse
import time
import warnings

from sklearn import config_context
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline

from skion import (
    HMMClassifier,
    LatticeDetrender,
    LatticeScaler,
    SequenceUNetClassifier,
    ZScoreWindower,
)
from skion.datasets import make_patch_clamp
from skion.pipelines import UNET_PARAMS

#: name -> conditions (the noise as a fraction of the unitary current)
RIGS = {
    "A: +1.2 pA, noise 0.3": dict(unitary_current=1.2, noise=0.3, drift="ramp", hum_amplitude=0.1),
    "B: -2.4 pA, offset 5 pA": dict(unitary_current=-2.4, offset=5.0, noise=0.3, drift="sine"),
    "C: +0.8 pA, noise 0.4": dict(unitary_current=0.8, noise=0.4, drift="random_walk"),
    "D: -3 pA, noise 0.2, hum": dict(
        unitary_current=-3.0, offset=-2.0, noise=0.2, hum_amplitude=0.3
    ),
}
CLEANINGS = {"one lattice": LatticeDetrender, "open-channel units": LatticeScaler}


def recordings(rig, n_samples, seed):
    conditions = dict(RIGS[rig])
    step = conditions["unitary_current"]
    conditions["noise"] *= abs(step)
    if conditions.get("drift", "none") != "none":
        conditions["drift_amplitude"] = 2 * abs(step)
    X, y, groups, _ = make_patch_clamp(
        n_samples, kinetics="bursting", n_channels=3, n_recordings=2, random_state=seed,
        **conditions,
    )  # fmt: skip
    return X, y, groups


def pipeline(cleaning, epochs=None):
    steps = [("clean", CLEANINGS[cleaning](line_freq=50.0)), ("scale", ZScoreWindower())]
    if epochs is None:
        model = HMMClassifier()
    else:
        model = SequenceUNetClassifier(**{**UNET_PARAMS, "epochs": epochs}, random_state=0)
    return Pipeline([*steps, ("model", model)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200_000, help="rows per data set")
    parser.add_argument("--unet", action="store_true", help="the U-Net instead of the HMM")
    parser.add_argument("--epochs", type=int, default=20, help="U-Net epochs")
    args = parser.parse_args()
    epochs = args.epochs if args.unet else None
    names = list(RIGS)
    train = {rig: recordings(rig, args.samples, seed=i) for i, rig in enumerate(names)}
    test = {rig: recordings(rig, args.samples, seed=100 + i) for i, rig in enumerate(names)}
    columns = [f"{c}, trained on {w}" for w in ("A", "the rig") for c in CLEANINGS]
    model = f"U-Net ({args.epochs} epochs)" if args.unet else "HMMClassifier"
    print(f"{model}; {args.samples:,} rows per data set (2 recordings); macro-F1 on held-out")
    print()
    print("| test rig | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    tic = time.perf_counter()
    with config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RigMismatchWarning is the point of rig A's rows
        from_a = {
            c: pipeline(c, epochs).fit(*train[names[0]][:2], groups=train[names[0]][2])
            for c in CLEANINGS
        }
        for rig in names:
            X, y, groups = test[rig]
            same = {
                c: pipeline(c, epochs).fit(*train[rig][:2], groups=train[rig][2]) for c in CLEANINGS
            }
            scores = [
                f1_score(y, model[c].predict(X, groups=groups), average="macro")
                for model in (from_a, same)
                for c in CLEANINGS
            ]
            print(f"| {rig} | " + " | ".join(f"{s:.3f}" for s in scores) + " |", flush=True)
    print(f"\n{time.perf_counter() - tic:.0f} s")


if __name__ == "__main__":
    main()

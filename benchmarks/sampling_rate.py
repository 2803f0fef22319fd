"""Another sampling rate: predict it as read, or resample it to the model's rate?

A model (open-channel units, ``LatticeScaler`` then ``ZScoreWindower``) is trained on a
10 kHz rig and predicts another rig (-1.5 pA, offset 2 pA, sine drift) recorded at 5, 20
and 50 kHz, three seconds per recording, two recordings: as read, resampled to 10 kHz
with ``resample_recordings`` (``scipy.signal.resample_poly``, predictions mapped back to
the file's rows), or resampled by the nearest sample (no new current values). The
reference is the same classifier trained on the rig itself at its rate (``LatticeDetrender``,
its lattice from the labels). Macro-F1 on held-out recordings; this chose the command
line's ``--other-rate auto`` (resample up, predict a higher rate as read).

    python benchmarks/sampling_rate.py [--unet] [--epochs 15]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn import config_context
from sklearn.metrics import f1_score
from transfer import pipeline

from skion.datasets import make_patch_clamp
from skion.preprocessing import resample_recordings
from skion.windowing import segment_bounds

TRAINED_RATE = 10_000
RATES = (5_000, 20_000, 50_000)


def recordings(step, offset, drift, rate, kinetics, seed, seconds=3.0):
    X, y, groups, _ = make_patch_clamp(
        int(2 * seconds * rate), kinetics=kinetics, n_channels=3, n_recordings=2,
        unitary_current=step, offset=offset, noise=0.25 * abs(step), drift=drift,
        drift_amplitude=abs(step), sampling_rate=rate, random_state=seed,
    )  # fmt: skip
    return X, y, groups


def nearest(X, groups, sampling_rate, target_rate):
    """Resampling by the nearest sample: ``resample_recordings``'s outputs, no filter."""
    starts, ends = segment_bounds(len(X), groups)
    pieces, out_groups, rows, offset = [], [], [], 0
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        n = end - start
        m = int(n * target_rate / sampling_rate)
        pieces.append(
            X[start:end][
                np.minimum(np.round(np.arange(m) * sampling_rate / target_rate).astype(int), n - 1)
            ]
        )
        out_groups.append(np.full(m, index))
        rows.append(
            offset
            + np.minimum(np.round(np.arange(n) * target_rate / sampling_rate).astype(int), m - 1)
        )
        offset += m
    return np.concatenate(pieces), np.concatenate(out_groups), np.concatenate(rows)  # fmt: skip


def poly(X, groups, sampling_rate, target_rate):
    X_out, groups_out, rows = resample_recordings(
        X, groups, sampling_rate=sampling_rate, target_rate=target_rate
    )
    return X_out.astype(np.float32), groups_out, rows


def score(model, X, y, groups, rate, resample=None):
    try:
        if resample is None:
            return f1_score(y, model.predict(X, groups=groups), average="macro")
        X, groups, rows = resample(X, groups, rate, TRAINED_RATE)
        return f1_score(y, model.predict(X, groups=groups)[rows], average="macro")
    except ValueError:  # the label-free calibration found no lattice
        return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--unet", action="store_true", help="the U-Net instead of the HMM")
    parser.add_argument("--epochs", type=int, default=15, help="U-Net epochs")
    args = parser.parse_args()
    epochs = args.epochs if args.unet else None
    warnings.simplefilter("ignore")
    print(f"model: {'U-Net' if args.unet else 'HMMClassifier'}, trained at 10 kHz")
    print("| kinetics | file rate | same rig | as read | resample_poly | nearest sample |")
    print("|---|---:|---:|---:|---:|---:|")
    with config_context(enable_metadata_routing=True):
        for kinetics in ("fast", "bursting"):
            X, y, groups = recordings(1.2, 0.0, "ramp", TRAINED_RATE, kinetics, seed=0)
            model = pipeline("open-channel units", epochs).fit(X, y, groups=groups)
            for rate in RATES:
                train = recordings(-1.5, 2.0, "sine", rate, kinetics, seed=21)
                same_rig = pipeline("one lattice", epochs).fit(train[0], train[1], groups=train[2])
                X, y, groups = recordings(-1.5, 2.0, "sine", rate, kinetics, seed=11)
                cells = [score(same_rig, X, y, groups, rate)] + [
                    score(model, X, y, groups, rate, resample) for resample in (None, poly, nearest)
                ]
                print(f"| {kinetics} | {rate / 1000:g} kHz | "
                      + " | ".join(f"{c:.3f}" for c in cells) + " |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""Train the U-Net that ships inside skion (``skion.neural.load_pretrained_unet``).

The network learns open-channel counts from the current in open-channel units
(``LatticeScaler``: every recording calibrated on its own, so any unitary current, sign,
offset or unit, with a low-pass filter the calibration finds undone), on recordings drawn
from ``make_patch_clamp`` over wide ranges (one draw per recording, seeded):

- 1-10 channels; kinetics ``slow``, ``fast``, ``bursting`` (two-state and three-state
  schemes) or ``high`` (a four-state bursting scheme at high open probability);
- noise 0.1-0.6 times the unitary current; unitary current 0.5-3 pA of either sign,
  offset -5 to 5 pA;
- drift none, ramp, sine or random walk (up to 1.5 unitary currents), 50 Hz hum on half;
- half unfiltered, half low-pass filtered (4-pole Bessel, 1-3 kHz at 10 kHz: correlated
  noise and rounded transitions);
- on unfiltered recordings, noise that is not white: on a quarter of them 1/f noise
  (``_bench.pink``, sd 0.1-0.4 unitary currents, over white noise of 0.02-0.3), on
  another quarter open-channel noise (every open channel adds sd 0.1-0.3 unitary
  currents in quadrature, over white noise of 0.1-0.4).

The shipped model is exactly the default command (10 kHz, seed 0)::

    python benchmarks/pretrain_unet.py

``--recordings``, ``--samples`` and ``--epochs`` make a short run (``tests/test_pretrained.py``
re-runs it in miniature); ``--out`` writes elsewhere than the package.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _bench import pink
from sklearn import config_context

from skion.datasets import make_patch_clamp
from skion.exceptions import RigMismatchWarning
from skion.model_files import dump_estimator
from skion.neural import PRETRAINED_UNET_PATH
from skion.pipelines import make_unet_pipeline

SAMPLING_RATE = 10_000.0
KINETICS = ("slow", "fast", "bursting", "high")
DRIFTS = ("none", "ramp", "sine", "random_walk")
#: Noise of the unfiltered recordings, and how often: white, 1/f, open-channel.
NOISE_KINDS = ("white", "pink", "open")
NOISE_ODDS = (0.5, 0.25, 0.25)


def draw_conditions(rng):
    """One recording's conditions, drawn from the ranges above: ``make_patch_clamp``'s
    keywords, plus ``pink_noise`` and ``open_channel_noise`` (pA) added after it."""
    step = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 3.0)
    filtered = rng.random() < 0.5
    kind = "white" if filtered else str(rng.choice(NOISE_KINDS, p=NOISE_ODDS))
    white = {"white": (0.1, 0.6), "pink": (0.02, 0.3), "open": (0.1, 0.4)}[kind]
    return {
        "kinetics": str(rng.choice(KINETICS)),
        "n_channels": int(rng.integers(1, 11)),
        "unitary_current": float(step),
        "offset": float(rng.uniform(-5.0, 5.0)),
        "noise": float(rng.uniform(*white) * abs(step)),
        "drift": str(rng.choice(DRIFTS)),
        "drift_amplitude": float(rng.uniform(0.0, 1.5) * abs(step)),
        "hum_amplitude": float(rng.uniform(0.0, 0.3) * abs(step)) if rng.random() < 0.5 else 0.0,
        "filter_cutoff": float(rng.uniform(1000.0, 3000.0)) if filtered else None,
        "pink_noise": float(rng.uniform(0.1, 0.4) * abs(step)) if kind == "pink" else 0.0,
        "open_channel_noise": float(rng.uniform(0.1, 0.3) * abs(step)) if kind == "open" else 0.0,
    }


def draw_recordings(n_recordings, n_samples, random_state):
    """``(X, y, groups, conditions)`` of ``n_recordings`` recordings of ``n_samples`` rows."""
    rng = np.random.default_rng(random_state)
    pieces, labels, groups, conditions = [], [], [], []
    for index in range(n_recordings):
        drawn = draw_conditions(rng)
        keywords = {k: v for k, v in drawn.items() if k not in ("pink_noise", "open_channel_noise")}
        X, y, _, _ = make_patch_clamp(
            n_samples,
            sampling_rate=SAMPLING_RATE,
            random_state=int(rng.integers(2**31)),
            **keywords,
        )
        added = drawn["pink_noise"] * pink(n_samples, rng, SAMPLING_RATE)
        added += np.sqrt(y) * drawn["open_channel_noise"] * rng.standard_normal(n_samples)
        X = (X[:, 0] + added).astype(np.float32)[:, None]
        pieces.append(X)
        labels.append(y)
        groups.append(np.full(n_samples, index))
        conditions.append(drawn)
    return np.concatenate(pieces), np.concatenate(labels), np.concatenate(groups), conditions


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, default=64, help="training recordings")
    parser.add_argument("--samples", type=int, default=30_000, help="rows per recording")
    parser.add_argument("--epochs", type=int, default=60, help="U-Net epochs")
    parser.add_argument("--seed", type=int, default=0, help="data and network seed")
    parser.add_argument("--out", type=Path, default=PRETRAINED_UNET_PATH, help="model file")
    args = parser.parse_args(argv)

    tic = time.perf_counter()
    X, y, groups, conditions = draw_recordings(args.recordings, args.samples, args.seed)
    with config_context(enable_metadata_routing=True), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", RigMismatchWarning)
        model = make_unet_pipeline(
            calibration="recording", random_state=args.seed, epochs=args.epochs
        )
        model.fit(X, y, groups=groups)
    fallbacks = sum("calibrated from its labels" in str(item.message) for item in w)
    command = "python benchmarks/pretrain_unet.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    dump_estimator(
        model,
        args.out,
        conditions={
            "data": "make_patch_clamp draws of benchmarks/pretrain_unet.py",
            "command": command.strip(),
            "seed": args.seed,
            "sampling_rate": SAMPLING_RATE,
            "units": "open-channel units (any current or conductance unit)",
            "n_samples": len(X),
            "n_recordings": args.recordings,
            "open_channels": [int(k) for k in np.unique(y)],
            "recordings": conditions,
            "ranges": {
                "n_channels": [1, 10],
                "kinetics": list(KINETICS),
                "noise / unitary current": [0.1, 0.6],
                "|unitary current| pA": [0.5, 3.0],
                "offset pA": [-5.0, 5.0],
                "drift": list(DRIFTS),
                "filter_cutoff Hz": "none on half, 1000-3000 on half",
                "noise of the unfiltered": "white on half, 1/f (0.1-0.4 step) on a "
                "quarter, open-channel (0.1-0.3 step per open channel) on a quarter",
            },
        },
    )
    size = args.out.stat().st_size
    print(
        f"trained on {len(X):,} rows of {args.recordings} recordings ({fallbacks} calibrated "
        f"from their labels) in {time.perf_counter() - tic:.0f} s; wrote {args.out} "
        f"({size / 1e6:.2f} MB)"
    )


if __name__ == "__main__":
    main()

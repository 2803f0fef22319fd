"""Recordings from several simulated rigs: the data set of ``skion demo``."""

from __future__ import annotations

import dataclasses
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ._patch_clamp import make_patch_clamp

__all__ = ["RIGS", "make_rigs"]

#: Simulated rigs at 10 kHz: ``name -> make_patch_clamp keyword arguments``. Each has its
#: own channel count, gating scheme, unitary current (size and sign), offset, noise, drift,
#: hum and amplifier filter. A and D satisfy an HMM's assumptions (white noise, transitions
#: within a sample); B and C are low-pass filtered, as most rigs record: their noise is
#: correlated and every transition is smeared over several samples.
RIGS = {
    "A: 3 high-Po, unfiltered": {
        "n_channels": 3,
        "kinetics": "high",
        "unitary_current": 1.0,
        "offset": 0.0,
        "noise": 0.25,
        "drift": "ramp",
        "drift_amplitude": 2.0,
        "hum_amplitude": 0.1,
    },
    "B: 4 bursting, 1 kHz filter": {
        "n_channels": 4,
        "kinetics": "bursting",
        "unitary_current": -2.0,
        "offset": 3.0,
        "noise": 0.6,
        "drift": "random_walk",
        "drift_amplitude": 4.0,
        "hum_amplitude": 0.2,
        "filter_cutoff": 1_000.0,
    },
    "C: 2 slow, 2 kHz filter": {
        "n_channels": 2,
        "kinetics": "slow",
        "unitary_current": 0.8,
        "offset": -1.0,
        "noise": 0.24,
        "drift": "sine",
        "drift_amplitude": 1.6,
        "line_freq": 60.0,
        "hum_amplitude": 0.08,
        "hum_harmonics": (0.04, 0.02),
        "filter_cutoff": 2_000.0,
    },
    "D: 10 fast, unfiltered": {
        "n_channels": 10,
        "kinetics": "fast",
        "unitary_current": 1.5,
        "offset": -2.0,
        "noise": 0.45,
        "drift": "sine",
        "drift_amplitude": 3.0,
        "hum_amplitude": 0.1,
    },
}


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "recordings_per_rig": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_rigs(n_samples: int = 1_000_000, *, recordings_per_rig: int = 2, random_state=None):
    """Simulate recordings of several rigs, as ``skion demo`` cross-validates them.

    Every rig of :data:`RIGS` records ``recordings_per_rig`` recordings of
    ``n_samples / (len(RIGS) * recordings_per_rig)`` rows at 10 kHz with
    :func:`make_patch_clamp`; the recordings follow each other rig by rig.

    Parameters
    ----------
    n_samples : int, default=1_000_000
        Total number of rows, split as evenly as possible between the recordings; at
        least one row per recording.
    recordings_per_rig : int, default=2
        Recordings of every rig.
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives identical output.

    Returns
    -------
    X : ndarray of shape (n_samples, 1), dtype float32
        The current (pA).
    y : ndarray of shape (n_samples,), dtype int64
        Number of open channels.
    groups : ndarray of shape (n_samples,), dtype int64
        Recording of every row (0, 1, ...).
    models : tuple of RecordingModel
        One per recording, ``regime`` naming its rig; :func:`oracle_proba` gives the exact
        posterior of the unfiltered ones.

    See Also
    --------
    make_patch_clamp : One rig's recordings under any conditions.

    Examples
    --------
    >>> from skion.datasets import make_rigs
    >>> X, y, groups, models = make_rigs(80_000, random_state=0)
    >>> X.shape, len(models), models[2].regime
    ((80000, 1), 8, 'B: 4 bursting, 1 kHz filter')
    """
    n_recordings = len(RIGS) * recordings_per_rig
    if n_samples < n_recordings:
        raise ValueError(
            f"n_samples={n_samples} is fewer than one row per recording ({len(RIGS)} rigs x "
            f"recordings_per_rig={recordings_per_rig})."
        )
    rng = check_random_state(random_state)
    sizes = np.full(len(RIGS), n_samples // len(RIGS))
    sizes[: n_samples % len(RIGS)] += 1
    parts, models, start = [], [], 0
    for (name, conditions), size in zip(RIGS.items(), sizes, strict=True):
        X, y, _, _, rig_models = make_patch_clamp(
            int(size),
            n_recordings=recordings_per_rig,
            **conditions,
            random_state=rng.randint(np.iinfo(np.int32).max),
            return_model=True,
        )
        parts.append((X, y))
        models += [
            dataclasses.replace(m, regime=name, start=m.start + start, stop=m.stop + start)
            for m in rig_models
        ]
        start += int(size)
    X = np.concatenate([X for X, _ in parts])
    y = np.concatenate([y for _, y in parts])
    groups = np.repeat(np.arange(n_recordings), [m.stop - m.start for m in models])
    return X, y, groups, tuple(models)

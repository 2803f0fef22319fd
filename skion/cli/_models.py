"""The pipelines the command line fits: the U-Net and the classic baselines.

Every pipeline starts with the same per-recording cleaning, then a train-statistics
z-score. ``calibration="labels"`` (the default, the measured recipe of ``skion demo``):
``LatticeDetrender``, one lattice learned from the training labels (cubic trend anchored at
the recording's start, then drift and 50 Hz hum measured on that lattice).
``calibration="recording"``: ``LatticeScaler``, every recording in open-channel units,
calibrated on its own without labels, so that the model travels to rigs with another
unitary current, sign, offset or drift. Every skion step asks for
``groups`` through scikit-learn's metadata routing (a class-level default), so that
nothing crosses a recording boundary: fit and predict them with ``groups`` inside
``sklearn.config_context(enable_metadata_routing=True)``.
"""

from __future__ import annotations

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .. import (
    HMMClassifier,
    LatticeDetrender,
    LatticeScaler,
    SequenceUNetClassifier,
    ZScoreWindower,
)

__all__ = ["CALIBRATIONS", "UNET_DEFAULTS", "UNET_QUICK", "baseline_pipelines", "unet_pipeline"]

#: ``--calibration`` choices: how the cleaning finds each recording's lattice.
CALIBRATIONS = ("labels", "recording")

#: U-Net settings of ``skion demo`` and ``skion fit``: a small network without batch
#: normalization, trained with many short-window optimizer steps and square-root balanced
#: class weights (macro-F1 counts the rare 9 and 10 open channels as much as the rest);
#: it fits a 2-core CPU's budget. docs/decisions.md has the measurements behind each value.
UNET_DEFAULTS = {
    "window_size": 1000,
    "filters": 16,
    "depth": 1,
    "normalization": "none",
    "class_weight": "balanced_sqrt",
    "batch_size": 8,
    "epochs": 60,
    "learning_rate": 5e-3,
    "validation_fraction": 0.1,
}
#: ``--quick``: the same recordings, 10 epochs (a smoke run of the whole demo; 2.5-second
#: recordings, as the old quick run used, were too short to calibrate without labels).
UNET_QUICK = {**UNET_DEFAULTS, "epochs": 10}


def _cleaning(calibration="labels", **context) -> Pipeline:
    """The shared cleaning steps, requesting ``groups`` for fit and transform.

    ``LatticeDetrender`` replaced a 50 Hz notch plus cubic trend: the notch also removed
    the channels' own signal near 50 Hz and the trend followed slow changes in occupancy,
    together 0.16 pA of baseline error (0.011 pA now), which cost the HMM 0.043 macro-F1
    (``benchmarks/cleaning.py``, docs/benchmarks.md).
    """
    if calibration not in CALIBRATIONS:
        raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {calibration!r}.")
    first = LatticeDetrender if calibration == "labels" else LatticeScaler
    return Pipeline([("baseline", first(line_freq=50.0)), ("scale", ZScoreWindower(**context))])


def unet_pipeline(*, calibration="labels", random_state=None, verbose=0, **params) -> Pipeline:
    """Cleaning followed by ``SequenceUNetClassifier(**UNET_DEFAULTS | params)``."""
    unet = SequenceUNetClassifier(
        **{**UNET_DEFAULTS, **params}, random_state=random_state, verbose=verbose
    )
    return Pipeline([("clean", _cleaning(calibration)), ("unet", unet)])


def baseline_pipelines(*, calibration="labels", random_state=None) -> dict[str, Pipeline]:
    """The classic baselines by display name, cheapest last, after the same cleaning."""
    hmm = HMMClassifier()
    # early stopping (on above 10,000 rows) is what keeps it from diverging: without it,
    # 100 iterations on the demo's open-channel units fell to macro-F1 0.26 on the
    # training rows themselves (0.80 with it, stopped after 11)
    boosting = HistGradientBoostingClassifier(max_iter=100, random_state=random_state)
    return {
        "HMMClassifier": Pipeline([("clean", _cleaning(calibration)), ("hmm", hmm)]),
        "gradient boosting (context)": Pipeline(
            [
                ("clean", _cleaning(calibration, context=3, rolling_windows=(5, 15))),
                ("hgb", boosting),
            ]
        ),
        "logistic regression (pointwise)": Pipeline(
            [
                ("clean", _cleaning(calibration)),
                ("logreg", LogisticRegression(solver="newton-cholesky")),
            ]
        ),
    }

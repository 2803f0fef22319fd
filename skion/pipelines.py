"""The measured recipes: the U-Net and the classic baselines as ready pipelines.

These are the pipelines ``skion demo`` compares and ``skion fit`` trains, with the
settings measured for a 2-core CPU (``docs/decisions.md`` has the measurements behind
each value). Every pipeline starts with the same per-recording cleaning, then a
train-statistics z-score:

- ``calibration="labels"`` (the default, the demo's recipe): ``LatticeDetrender``, one
  lattice learned from the training labels (a cubic trend anchored at the recording's
  start, then drift and 50 Hz hum measured on that lattice);
- ``calibration="recording"``: ``LatticeScaler``, every recording in open-channel units,
  calibrated on its own without labels, so that the model travels to rigs with another
  unitary current, sign, offset or drift.

Every skion step requests ``groups`` (a class-level default), so that nothing crosses a
recording boundary: fit and predict with ``groups`` inside
``sklearn.config_context(enable_metadata_routing=True)``. Idealizing without labels needs
no recipe: it is :class:`skion.AggregatedHMM` with its defaults.
"""

from __future__ import annotations

import numpy as np
from sklearn import config_context
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import HasMethods, StrOptions

from . import HMMClassifier, LatticeDetrender, LatticeScaler, SequenceUNetClassifier, ZScoreWindower
from ._strict import validate_params

__all__ = [
    "CALIBRATIONS",
    "UNET_PARAMS",
    "UNET_QUICK_PARAMS",
    "calibrated_counts",
    "make_baseline_pipelines",
    "make_cleaning",
    "make_unet_pipeline",
]

#: How the cleaning finds each recording's lattice (``skion fit --calibration``).
CALIBRATIONS = ("labels", "recording")

#: U-Net settings of ``skion demo`` and ``skion fit``: a small network without batch
#: normalization, trained with many short-window optimizer steps and square-root balanced
#: class weights (macro-F1 counts the rare 9 and 10 open channels as much as the rest);
#: it fits a 2-core CPU's budget.
UNET_PARAMS = {
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
#: ``skion demo --quick``: the same network, 10 epochs (a smoke run of the whole demo).
UNET_QUICK_PARAMS = {**UNET_PARAMS, "epochs": 10}

_CALIBRATION = [StrOptions(set(CALIBRATIONS))]


@validate_params({"calibration": _CALIBRATION}, prefer_skip_nested_validation=True)
def make_cleaning(calibration="labels", **context) -> Pipeline:
    """The cleaning every recipe starts with: the baseline removed, then a z-score.

    ``LatticeDetrender`` replaced a 50 Hz notch plus cubic trend: the notch also removed
    the channels' own signal near 50 Hz and the trend followed slow changes in occupancy,
    together 0.16 pA of baseline error (0.011 pA now), which cost the HMM 0.043 macro-F1
    (``benchmarks/cleaning.py``, docs/benchmarks.md).

    Parameters
    ----------
    calibration : {"labels", "recording"}, default="labels"
        ``"labels"``: :class:`~skion.LatticeDetrender` (one lattice learned from the
        training labels); ``"recording"``: :class:`~skion.LatticeScaler` (every
        recording calibrated alone, in open-channel units).
    **context
        Passed to :class:`~skion.ZScoreWindower` (e.g. ``context=3``,
        ``rolling_windows=(5, 15)`` for pointwise models).

    Returns
    -------
    cleaning : Pipeline
        Steps ``"baseline"`` and ``"scale"``.

    Examples
    --------
    >>> from skion.pipelines import make_cleaning
    >>> [name for name, _ in make_cleaning("recording").steps]
    ['baseline', 'scale']
    >>> type(make_cleaning("recording")["baseline"]).__name__
    'LatticeScaler'
    """
    first = LatticeDetrender if calibration == "labels" else LatticeScaler
    return Pipeline([("baseline", first(line_freq=50.0)), ("scale", ZScoreWindower(**context))])


@validate_params(
    {
        "calibration": _CALIBRATION,
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def make_unet_pipeline(*, calibration="labels", random_state=None, verbose=0, **params) -> Pipeline:
    """The cleaning, then ``SequenceUNetClassifier(**UNET_PARAMS | params)``.

    Parameters
    ----------
    calibration : {"labels", "recording"}, default="labels"
        See :func:`make_cleaning`.
    random_state : int, RandomState instance or None, default=None
        The network's seed.
    verbose : int, default=0
        The network's progress output.
    **params
        Any :class:`~skion.SequenceUNetClassifier` parameter, over ``UNET_PARAMS``.

    Returns
    -------
    pipeline : Pipeline
        Steps ``"clean"`` and ``"unet"``.

    Examples
    --------
    >>> from skion.pipelines import make_unet_pipeline
    >>> pipeline = make_unet_pipeline(epochs=5, random_state=0)
    >>> pipeline["unet"].filters, pipeline["unet"].epochs
    (16, 5)
    """
    unet = SequenceUNetClassifier(
        **{**UNET_PARAMS, **params}, random_state=random_state, verbose=verbose
    )
    return Pipeline([("clean", make_cleaning(calibration)), ("unet", unet)])


@validate_params(
    {"calibration": _CALIBRATION, "random_state": ["random_state"]},
    prefer_skip_nested_validation=True,
)
def make_baseline_pipelines(*, calibration="labels", random_state=None) -> dict[str, Pipeline]:
    """The classic baselines by display name, cheapest last, after the same cleaning.

    ``HMMClassifier`` (supervised Gaussian HMM), gradient boosting on context features
    (the value and its 3 neighbours on each side, rolling means and deviations over 5 and
    15 samples; early stopping on above 10,000 rows keeps it from diverging: without it,
    100 iterations on the demo's open-channel units fell to macro-F1 0.26 on the training
    rows themselves, 0.80 with it) and pointwise logistic regression.

    Parameters
    ----------
    calibration : {"labels", "recording"}, default="labels"
        See :func:`make_cleaning`.
    random_state : int, RandomState instance or None, default=None
        Gradient boosting's seed.

    Returns
    -------
    pipelines : dict of str to Pipeline
        Each with steps ``"clean"`` and the model.

    Examples
    --------
    >>> from skion.pipelines import make_baseline_pipelines
    >>> list(make_baseline_pipelines())
    ['HMMClassifier', 'gradient boosting (context)', 'logistic regression (pointwise)']
    """
    boosting = HistGradientBoostingClassifier(max_iter=100, random_state=random_state)
    return {
        "HMMClassifier": Pipeline(
            [("clean", make_cleaning(calibration)), ("hmm", HMMClassifier())]
        ),
        "gradient boosting (context)": Pipeline(
            [
                ("clean", make_cleaning(calibration, context=3, rolling_windows=(5, 15))),
                ("hgb", boosting),
            ]
        ),
        "logistic regression (pointwise)": Pipeline(
            [
                ("clean", make_cleaning(calibration)),
                ("logreg", LogisticRegression(solver="newton-cholesky")),
            ]
        ),
    }


def _at_sampling_rate(model, rate):
    """``model`` with every step's ``sampling_rate`` set to ``rate``: its cleaning then
    reads hum frequencies and baseline windows at that rate (they are in Hz and seconds,
    not samples), and the model predicts recordings at that rate as read."""
    names = [key for key in model.get_params() if key.endswith("__sampling_rate")]
    return model.set_params(**dict.fromkeys(names, float(rate)))


@validate_params(
    {"model": [HasMethods("predict")], "X": ["array-like"], "groups": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def calibrated_counts(model, X, groups=None):
    """Open channels of every row, never more than each recording's calibration found.

    A pipeline whose cleaning calibrates every recording on its own (a ``"clean"`` step
    starting with :class:`~skion.LatticeScaler`: ``calibration="recording"``, the
    pretrained network of :func:`skion.neural.load_pretrained_unet`) calibrates each
    recording once, predicts, and caps every row's count at the channels its recording
    was calibrated with: a network can otherwise predict a count that never occurs on a
    few rows. ``skion predict`` and ``skion idealize --method unet`` count this way. Any
    other model's counts are its predictions.

    Parameters
    ----------
    model : estimator
        A fitted pipeline (or classifier) predicting open-channel counts.
    X : array-like of shape (n_samples, n_features)
        One row per time sample, in time order; the current is column 0.
    groups : array-like of shape (n_samples,), default=None
        Recording of each row.

    Returns
    -------
    counts : ndarray of shape (n_samples,)
        Open channels of every row.
    table : pandas.DataFrame or None
        The calibration, one row per recording (``LatticeScaler.calibrate``'s table:
        ``start``, ``stop``, ``unitary_current``, ``n_channels``, ...); None for a model
        without a per-recording calibration.

    Examples
    --------
    >>> from skion.datasets import make_patch_clamp
    >>> from skion.neural import load_pretrained_unet
    >>> from skion.pipelines import calibrated_counts
    >>> X, y, groups, _ = make_patch_clamp(30_000, n_channels=3, unitary_current=-2.0,
    ...                                    noise=0.4, random_state=0)
    >>> counts, table = calibrated_counts(load_pretrained_unet(), X, groups)
    >>> int(table["n_channels"].iloc[0]), bool(counts.max() <= 3)
    (3, True)
    """
    clean = getattr(model, "named_steps", {}).get("clean")
    scaler = clean.steps[0][1] if isinstance(clean, Pipeline) else None
    with config_context(enable_metadata_routing=True):
        if not isinstance(scaler, LatticeScaler):
            return model.predict(X, groups=groups), None
        units, table = scaler.calibrate(X, groups, return_transformed=True)
        rest = Pipeline([("clean", clean[1:]), *model.steps[1:]])
        counts = rest.predict(units, groups=groups)
    lengths = (table["stop"] - table["start"]).to_numpy()
    return np.minimum(counts, np.repeat(table["n_channels"].to_numpy(), lengths)), table

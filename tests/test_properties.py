"""Property test: random finite recordings of random shapes into every estimator.

Whatever the input, an estimator either refuses it with a ValueError that says why, or
returns one finite output row per input row, with probabilities that sum to 1 and labels
among the classes it learnt.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skion

# (estimator, supervised, parameters that keep a fit small)
ESTIMATORS = {
    "HMMClassifier": (True, {}),
    "AggregatedHMM": (False, {}),
    "LatticeDetrender": (True, {}),
    "LatticeScaler": (False, {}),
    "ZScoreWindower": (False, {}),
    "RecordingCleaner": (False, {"detrend": "median", "detrend_window": 50, "notch_freq": 50.0}),
    "RecordingScaler": (False, {"scope": "recording", "robust": True}),
    "ContextFeatures": (False, {"context": 2, "rolling_windows": (3, 8)}),
    "SequenceUNetClassifier": (
        True,
        {"window_size": 125, "filters": 2, "depth": 1, "epochs": 1, "random_state": 0},
    ),
}
# fewer examples where one costs seconds (a network fit; a label-free calibration)
EXAMPLES = {"SequenceUNetClassifier": 4, "AggregatedHMM": 6, "LatticeScaler": 5}
# the label-free calibration needs 1000 rows in a recording and a visible lattice (the
# refusals of the rest are the usual draws'); these draws also reach its outputs
LABEL_FREE = {"shortest": 1000, "longest": 2000, "noises": (0.05, 0.1, 0.2)}
DRAWS = {"AggregatedHMM": LABEL_FREE, "LatticeScaler": LABEL_FREE}


@st.composite
def recordings(draw, shortest=2, longest=400, noises=(0.0, 0.05, 0.3, 1.0, 5.0)):
    """A signal on a random lattice (or pure noise) at any scale, with labels and groups."""
    lengths = draw(st.lists(st.integers(shortest, longest), min_size=1, max_size=3))
    n = sum(lengths)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # mostly the scales of recorded currents, sometimes anywhere float64 reaches
    scale = 10.0 ** draw(st.one_of(st.floats(-6, 6), st.floats(-300, 300)))
    n_levels = draw(st.integers(1, 4))
    dwell = draw(st.sampled_from([1, 20]))  # rows a level lasts, on average
    runs = rng.geometric(1.0 / dwell, n)
    counts = np.repeat(rng.integers(0, n_levels, n), runs)[:n]
    noise = draw(st.sampled_from(noises))
    offset = draw(st.floats(-1e3, 1e3))
    X = scale * (offset + counts + noise * rng.standard_normal(n))
    groups = np.repeat(np.arange(len(lengths)), lengths)
    return X[:, None], counts, groups


def _check(name, X, y, groups):
    supervised, params = ESTIMATORS[name]
    estimator = getattr(skion, name)(**params)
    try:
        if supervised:
            estimator.fit(X, y, groups=groups)
        else:
            estimator.fit(X, groups=groups)
        outputs = [estimator.transform(X, groups=groups)] if hasattr(estimator, "transform") else []
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X, groups=groups)
            labels = estimator.predict(X, groups=groups)
            assert proba.shape == (len(X), len(estimator.classes_))
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
            assert np.isin(labels, estimator.classes_).all() and len(labels) == len(X)
            outputs.append(proba)
    except ValueError as error:
        assert str(error).strip(), f"{name} raised a ValueError without a message"
        return False
    for out in outputs:
        assert len(out) == len(X)
        assert np.isfinite(out).all(), f"{name} returned a non-finite value"
    return True


@pytest.mark.parametrize("name", ESTIMATORS)
def test_random_recordings_give_finite_rows_or_a_clear_error(name):
    @settings(
        max_examples=EXAMPLES.get(name, 100),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(recordings(**DRAWS.get(name, {})))
    def check(recording):
        _check(name, *recording)

    check()

"""Labels of mixed types get an error that says so (np.unique cannot sort them)."""

import numpy as np
import pytest

from skion import HMMClassifier, SequenceUNetClassifier


@pytest.mark.parametrize(
    "estimator",
    [HMMClassifier(), SequenceUNetClassifier(window_size=100, filters=2, depth=1, epochs=1)],
    ids=type,
)
def test_labels_of_mixed_types_are_refused_with_the_reason(estimator):
    X = np.random.default_rng(0).normal(size=(400, 1))
    y = np.array(["0", 1] * 200, dtype=object)
    with pytest.raises(ValueError, match=r"y mixes label types \(int, str\)"):
        estimator.fit(X, y)
    assert not hasattr(estimator, "classes_")
    estimator.fit(X, y.astype(str))  # one type: fitted as before
    assert list(estimator.classes_) == ["0", "1"]


@pytest.mark.parametrize(
    "weights, match", [(-1.0, "Negative values"), (0.0, "non-zero|all zero|sum")]
)
def test_negative_or_all_zero_sample_weights_are_refused(weights, match):
    X = np.random.default_rng(0).normal(size=(400, 1))
    y = np.repeat([0, 1], 200)
    model = SequenceUNetClassifier(window_size=100, filters=2, depth=1, epochs=1)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, sample_weight=np.full(400, weights))

"""The classic baselines: gradient boosting on context features, and a pointwise model."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import Pipeline

from skion import ZScoreWindower
from skion.datasets import make_ion_switching


@pytest.fixture(scope="module")
def recording():
    X, y, _ = make_ion_switching(60_000, regime="5_channels", drift=False, random_state=2)
    return X[:40_000], y[:40_000], X[40_000:], y[40_000:]


def _gradient_boosting():
    return Pipeline(
        [
            ("z", ZScoreWindower(context=3, rolling_windows=(5, 15))),
            ("clf", HistGradientBoostingClassifier(max_iter=40, random_state=0)),
        ]
    )


def test_context_features_beat_the_pointwise_baseline(recording):
    X_train, y_train, X_test, y_test = recording
    pointwise = Pipeline([("z", ZScoreWindower()), ("clf", LogisticRegression())])
    scores = {}
    for name, model in [("pointwise", pointwise), ("context", _gradient_boosting())]:
        model.fit(X_train, y_train)
        scores[name] = f1_score(y_test, model.predict(X_test), average="macro")
    assert scores["context"] > scores["pointwise"] + 0.01, scores


def test_permutation_importance_names_the_context_features(recording):
    X_train, y_train, X_test, y_test = recording
    z = ZScoreWindower(context=2, rolling_windows=(9,)).fit(X_train)
    clf = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    clf.fit(z.transform(X_train), y_train)
    result = permutation_importance(
        clf,
        z.transform(X_test[:8000]),
        y_test[:8000],
        n_repeats=2,
        random_state=0,
        scoring="f1_macro",
    )
    names = z.get_feature_names_out()
    assert len(result.importances_mean) == len(names) == 7
    ranked = names[np.argsort(result.importances_mean)[::-1]]
    assert ranked[0] in {"x0", "x0_mean9"}  # the sample itself or its smoothed value
    assert np.all(np.isfinite(result.importances_mean))

"""SequenceUNetClassifier inside scikit-learn's model-selection tools."""

import numpy as np
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skion import SequenceUNetClassifier


def _pipeline(tiny_params):
    return Pipeline([("z", StandardScaler()), ("unet", SequenceUNetClassifier(**tiny_params))])


def test_cross_val_score_in_a_pipeline(telegraph, tiny_params):
    X, y = telegraph
    scores = cross_val_score(_pipeline(tiny_params), X, y, cv=KFold(3), scoring="f1_macro")
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_grid_search_over_filters(telegraph, tiny_params):
    X, y = telegraph
    search = GridSearchCV(
        _pipeline(tiny_params), {"unet__filters": [2, 4]}, cv=KFold(2), scoring="f1_macro"
    ).fit(X, y)
    assert search.best_params_["unet__filters"] in (2, 4)
    assert search.predict(X).shape == y.shape


def test_cross_val_predict_proba(telegraph, tiny_params):
    X, y = telegraph
    proba = cross_val_predict(_pipeline(tiny_params), X, y, cv=KFold(3), method="predict_proba")
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_groups_through_pipeline_fit_params(telegraph, tiny_params):
    X, y = telegraph
    groups = np.repeat([0, 1, 2], 1000)
    pipe = _pipeline(tiny_params).fit(X, y, unet__groups=groups)
    assert pipe.predict(X).shape == y.shape
    scores = cross_val_score(
        SequenceUNetClassifier(**tiny_params),
        X,
        y,
        groups=groups,
        cv=GroupKFold(3),
        params={"groups": groups},
    )
    assert np.all(np.isfinite(scores))


def test_groups_through_metadata_routing(telegraph, tiny_params):
    """With routing on, groups reach both the splitter and the U-Net's fit."""
    import sklearn

    X, y = telegraph
    groups = np.repeat([0, 1, 2], 1000)
    with sklearn.config_context(enable_metadata_routing=True):
        unet = SequenceUNetClassifier(**tiny_params).set_fit_request(groups=True)
        pipe = Pipeline([("z", StandardScaler()), ("unet", unet)])
        scores = cross_val_score(
            pipe, X, y, cv=GroupKFold(3), scoring="f1_macro", params={"groups": groups}
        )
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_parallel_cross_validation_returns_fitted_models(telegraph, tiny_params):
    """joblib workers pickle fitted estimators back to the parent (the .keras round trip)."""
    from sklearn.model_selection import cross_validate

    X, y = telegraph
    result = cross_validate(
        SequenceUNetClassifier(**tiny_params),
        X,
        y,
        cv=KFold(2),
        n_jobs=2,
        return_estimator=True,
    )
    for estimator in result["estimator"]:
        assert estimator.predict(X[:500]).shape == (500,)


def test_zscore_and_unet_pipeline_with_routed_groups(telegraph, tiny_params):
    """groups reach ZScoreWindower (fit and transform) and the U-Net end to end."""
    import sklearn

    from skion import ZScoreWindower

    X, y = telegraph
    groups = np.repeat([0, 1, 2], 1000)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                (
                    "z",
                    ZScoreWindower(detrend="poly")
                    .set_fit_request(groups=True)
                    .set_transform_request(groups=True),
                ),
                (
                    "unet",
                    SequenceUNetClassifier(**tiny_params)
                    .set_fit_request(groups=True)
                    .set_predict_request(groups=True),
                ),
            ]
        )
        scores = cross_val_score(
            pipe, X, y, cv=GroupKFold(3), scoring="f1_macro", params={"groups": groups}
        )
        assert np.all(np.isfinite(scores))
        pipe.fit(X, y, groups=groups)
        assert pipe.predict(X, groups=groups).shape == y.shape

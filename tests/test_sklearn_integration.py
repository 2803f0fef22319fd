"""skion's estimators inside scikit-learn's pipelines and model-selection tools."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skion import (
    AggregatedHMM,
    HMMClassifier,
    LatticeDetrender,
    LatticeScaler,
    SequenceUNetClassifier,
    ZScoreWindower,
)


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

    X, y = telegraph
    groups = np.repeat([0, 1, 2], 1000)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("z", StandardScaler()), ("unet", SequenceUNetClassifier(**tiny_params))])
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
    X, y = telegraph
    groups = np.repeat([0, 1, 2], 1000)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [("z", ZScoreWindower(detrend="poly")), ("unet", SequenceUNetClassifier(**tiny_params))]
        )
        scores = cross_val_score(
            pipe, X, y, cv=GroupKFold(3), scoring="f1_macro", params={"groups": groups}
        )
        assert np.all(np.isfinite(scores))
        pipe.fit(X, y, groups=groups)
        assert pipe.predict(X, groups=groups).shape == y.shape


class _Seen(BaseEstimator, TransformerMixin):
    """Records the groups each call receives (None when none was routed)."""

    __metadata_request__fit = {"groups": True}
    __metadata_request__transform = {"groups": True}

    def fit(self, X, y=None, groups=None):
        self.fit_groups_ = groups
        return self

    def transform(self, X, groups=None):
        return X


@pytest.mark.parametrize(
    "estimator",
    [
        SequenceUNetClassifier(),
        HMMClassifier(),
        AggregatedHMM(n_channels=1),
        LatticeDetrender(),
        LatticeScaler(),
        ZScoreWindower(),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_every_estimator_requests_groups_by_default(estimator):
    # no set_*_request call: a Pipeline with routing on hands groups to every method
    # that takes it, and an explicit request per instance still overrides the default
    methods = {"fit", "transform", "predict", "predict_proba"}
    routing = estimator.get_metadata_routing()
    requested = {m for m in methods if getattr(routing, m).requests.get("groups") is True}
    assert requested == {m for m in methods if hasattr(estimator, m)}
    with sklearn.config_context(enable_metadata_routing=True):
        off = clone(estimator).set_fit_request(groups=False)
        assert off.get_metadata_routing().fit.requests["groups"] is False
        assert clone(estimator).get_metadata_routing().fit.requests["groups"] is True


def test_default_requests_route_groups_through_a_pipeline(telegraph):
    X, y = telegraph
    groups = np.repeat([0, 1, 2], 1000)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("seen", _Seen()), ("hmm", HMMClassifier())])
        pipe.fit(X, y, groups=groups)
        np.testing.assert_array_equal(pipe["seen"].fit_groups_, groups)
        together = pipe.predict_proba(X, groups=groups)
        np.testing.assert_allclose(
            together[:1000],
            pipe["hmm"].predict_proba(X[:1000]),  # routed: decoded apart
        )
        assert not np.allclose(together, pipe.predict_proba(X))  # one recording differs

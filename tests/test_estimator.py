"""SequenceUNetClassifier behaviour: learning, stitching, groups, persistence, errors."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.metrics import f1_score

from skion import SequenceUNetClassifier
from skion.datasets import make_telegraph


def test_is_classifier():
    assert is_classifier(SequenceUNetClassifier())


def test_learns_a_two_level_telegraph_signal():
    """Not timed: a small U-Net segments a noisy random telegraph signal."""
    X, y = make_telegraph(40_000, p_open=0.01, p_close=0.01, noise=0.3, random_state=1)
    clf = SequenceUNetClassifier(
        window_size=1000,
        filters=8,
        depth=1,
        epochs=12,
        batch_size=8,
        learning_rate=3e-3,
        lr_schedule="constant",
        random_state=0,
    )
    clf.fit(X[:30_000], y[:30_000])
    score = f1_score(y[30_000:], clf.predict(X[30_000:]), average="macro")
    assert score > 0.9
    assert clf.history_["val_macro_f1"][-1] > 0.9
    assert set(clf.history_) >= {"loss", "val_loss", "val_macro_f1", "learning_rate"}
    assert len(clf.history_["loss"]) == clf.n_epochs_ == 12


def test_fitted_attributes_and_output_shapes(telegraph, tiny_params):
    X, y = telegraph
    clf = SequenceUNetClassifier(**tiny_params).fit(X, y)
    assert clf.n_features_in_ == 1
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.window_size_ == 250
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.predict(X[:777]).shape == (777,)


def test_string_labels_and_missing_classes(telegraph, tiny_params):
    """Any labels work; a fold lacking a class simply has fewer classes_."""
    X, y = telegraph
    labels = np.array(["closed", "open", "never-seen-in-fit"])[y]
    clf = SequenceUNetClassifier(**tiny_params).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["closed", "open"])
    assert set(clf.predict(X)) <= {"closed", "open"}
    three = np.where(np.arange(len(y)) < 1500, y, y + 5)  # classes 0, 1, 5, 6
    clf = SequenceUNetClassifier(**tiny_params).fit(X, three)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 5, 6])
    assert clf.predict_proba(X).shape == (len(X), 4)


def test_window_size_rounded_to_network_multiple(telegraph, tiny_params):
    X, y = telegraph
    clf = SequenceUNetClassifier(**{**tiny_params, "window_size": 300}).fit(X, y)
    assert clf.window_size_ == 375
    # A recording shorter than a window is trained on as one shorter window.
    clf = SequenceUNetClassifier(**{**tiny_params, "window_size": 4000}).fit(X[:130], y[:130])
    assert clf.window_size_ == 250
    assert clf.predict(X[:7]).shape == (7,)


def test_predictions_do_not_depend_on_chunking(telegraph, tiny_params, monkeypatch):
    """Streaming inference in small chunks stitches exactly what one chunk gives."""
    from skion.neural import _estimator

    X, y = telegraph
    clf = SequenceUNetClassifier(**tiny_params, predict_window_size=500).fit(X, y)
    whole = clf.predict_proba(X)
    monkeypatch.setattr(_estimator, "_PREDICT_CHUNK_ROWS", 2000)  # two windows a chunk
    np.testing.assert_allclose(clf.predict_proba(X), whole, rtol=1e-5, atol=1e-6)


def test_without_groups_windows_cross_the_boundary(telegraph, tiny_params):
    """The converse of tests/test_recording_checks.py: one recording is one recording."""
    X, y = telegraph
    groups = np.repeat([7, 3], [1700, 1300])
    clf = SequenceUNetClassifier(**tiny_params).fit(X, y, groups=groups)
    together = clf.predict_proba(X, groups=groups)
    assert not np.allclose(clf.predict_proba(X), together, atol=1e-6)


def test_flip_tta_averages_the_reversed_window(telegraph, tiny_params):
    X, y = telegraph
    clf = SequenceUNetClassifier(**{**tiny_params, "tta_flip": False}).fit(X, y)
    one_window = X[:250]  # exactly one window, so reversing keeps the window alignment
    forward = clf.predict_proba(one_window)
    backward = clf.predict_proba(one_window[::-1])[::-1]
    assert not np.allclose(forward, backward, atol=1e-4)
    clf.set_params(tta_flip=True)
    np.testing.assert_allclose(
        clf.predict_proba(one_window), 0.5 * (forward + backward), rtol=1e-4, atol=1e-5
    )


def test_random_state_makes_fits_reproducible(telegraph, tiny_params):
    X, y = telegraph
    params = {**tiny_params, "epochs": 2, "run_eagerly": False}
    first = SequenceUNetClassifier(**params).fit(X, y).predict_proba(X)
    second = SequenceUNetClassifier(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip(telegraph, tiny_params, dump, tmp_path):
    X, y = telegraph
    clf = SequenceUNetClassifier(**tiny_params)
    assert pickle.loads(pickle.dumps(clf)).get_params() == clf.get_params()
    clf.fit(X, y)
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "clf.joblib")
        loaded = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.history_ == clf.history_
    assert clf.model_ is not None and not isinstance(clf.model_, bytes)  # source untouched


def test_clone_of_fitted_is_unfitted(telegraph, tiny_params):
    X, y = telegraph
    clf = SequenceUNetClassifier(**tiny_params).fit(X, y)
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    assert not hasattr(cloned, "model_")


def test_warm_start_continues_training(telegraph, tiny_params):
    X, y = telegraph
    clf = SequenceUNetClassifier(**tiny_params, warm_start=True).fit(X, y)
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model
    with pytest.raises(ValueError, match="warm_start=True needs the classes"):
        clf.fit(X, y + 1)


def test_early_stopping_restores_best(telegraph, tiny_params):
    X, y = telegraph
    clf = SequenceUNetClassifier(
        **{**tiny_params, "epochs": 6}, early_stopping=True, patience=1, validation_fraction=0.3
    ).fit(X, y)
    assert 2 <= clf.n_epochs_ <= 6
    fitted = SequenceUNetClassifier(**tiny_params, early_stopping=True, warm_start=True)
    fitted.fit(X, y)
    model = fitted.model_
    with pytest.raises(ValueError, match="early_stopping=True needs validation windows"):
        fitted.set_params(warm_start=False).fit(X[:200], y[:200])
    assert fitted.model_ is model  # a rejected fit leaves the fitted state alone


def test_sample_and_class_weights_reach_the_loss(telegraph, tiny_params):
    X, y = telegraph
    base = SequenceUNetClassifier(**tiny_params).fit(X, y).history_["loss"][0]
    zeroed = SequenceUNetClassifier(**tiny_params).fit(
        X, y, sample_weight=np.where(y == 1, 0.0, 1.0)
    )
    weighted = SequenceUNetClassifier(**tiny_params, class_weight={0: 1.0, 1: 0.0}).fit(X, y)
    assert zeroed.history_["loss"][0] != pytest.approx(base)
    assert weighted.history_["loss"][0] == pytest.approx(zeroed.history_["loss"][0], rel=1e-5)


def test_balanced_sqrt_weights_are_the_root_of_balanced(telegraph, tiny_params):
    """With one epoch from the same seed, the first-batch loss is a weighted mean: the
    two weightings give different losses, and "balanced_sqrt" equals its explicit dict."""
    from sklearn.utils.class_weight import compute_class_weight

    X, y = telegraph
    y = np.where((y == 1) & (np.arange(len(y)) % 4 > 0), 0, y)  # make class 1 rare
    balanced = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    as_dict = dict(enumerate(np.sqrt(balanced)))
    losses = {
        name: SequenceUNetClassifier(**tiny_params, class_weight=weight)
        .fit(X, y)
        .history_["loss"][0]
        for name, weight in [("sqrt", "balanced_sqrt"), ("dict", as_dict), ("full", "balanced")]
    }
    assert losses["sqrt"] == pytest.approx(losses["dict"], rel=1e-5)
    assert losses["sqrt"] != pytest.approx(losses["full"], rel=1e-3)


def test_silent_at_verbose_zero(telegraph, tiny_params, capfd):
    X, y = telegraph
    SequenceUNetClassifier(**{**tiny_params, "validation_fraction": 0.2}).fit(X, y).predict(X)
    out, _ = capfd.readouterr()
    assert out == ""


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.full((300, 1), np.nan), np.arange(300) % 2, "Input X contains NaN"),
        (np.full((300, 1), np.inf), np.arange(300) % 2, "Input X contains infinity"),
        (np.zeros(300), np.arange(300) % 2, "Expected 2D array, got 1D array"),
        (np.zeros((300, 1)), np.arange(299) % 2, "inconsistent numbers of samples"),
        (np.zeros((300, 1)), np.zeros(300), "at least 2 classes"),
        (np.zeros((300, 1)), np.linspace(0, 1, 300), "Unknown label type"),
    ],
)
def test_bad_input_is_a_clear_value_error(X, y, message, tiny_params):
    with pytest.raises(ValueError, match=message):
        SequenceUNetClassifier(**tiny_params).fit(X, y)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("window_size", 0),
        ("window_size", -5),
        ("predict_margin", 0.5),
        ("epochs", 0),
        ("lr_schedule", "linear"),
        ("flip_augment", 1.5),
        ("class_weight", "rare"),
        ("callbacks", "EarlyStopping"),
        ("init_model", 3),
        ("mixed_precision", "float8"),
        ("jit_compile", "yes"),
    ],
)
def test_bad_parameters(param, value, telegraph, tiny_params):
    X, y = telegraph
    with pytest.raises(ValueError, match=f"'{param}' parameter of SequenceUNetClassifier"):
        SequenceUNetClassifier(**{**tiny_params, param: value}).fit(X, y)


def test_predict_errors(telegraph, tiny_params):
    X, y = telegraph
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SequenceUNetClassifier().predict(X)
    clf = SequenceUNetClassifier(**tiny_params).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but SequenceUNetClassifier"):
        clf.predict(np.hstack([X, X]))
    with pytest.raises(ValueError, match=r"groups must have shape \(3000,\)"):
        clf.predict(X, groups=np.zeros(10))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict(np.where(np.arange(3000)[:, None] == 5, np.nan, X))

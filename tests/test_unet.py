"""The Keras network: recipe fidelity, shapes and serialization."""

import numpy as np
import pytest

from skion import build_unet
from skion.neural import min_window_multiple


def test_seed_defaults_parameter_count():
    """The recipe's network (1 feature, 11 classes) has about 5.08 M parameters."""
    model = build_unet(1, 11)
    assert model.count_params() == pytest.approx(5.08e6, rel=0.002)


def test_output_is_a_per_sample_distribution():
    model = build_unet(2, 4, filters=4, depth=1)
    x = np.random.default_rng(0).standard_normal((3, 2 * min_window_multiple(), 2))
    proba = np.asarray(model(x.astype("float32")))
    assert proba.shape == (3, 250, 4)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=1e-5)


def test_structure_follows_the_recipe():
    model = build_unet(1, 11, filters=8, depth=2)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("UpSampling1D") == 3
    assert kinds.count("AveragePooling1D") == 2  # raw input injected at levels 2 and 3
    assert kinds.count("GlobalAveragePooling1D") == 4 * 2  # one SE block per resblock
    strides = [layer.strides[0] for layer in model.layers if type(layer).__name__ == "Conv1D"]
    assert strides.count(5) == 3


def test_normalization_none_drops_every_batchnorm_layer():
    with_bn = build_unet(1, 11, filters=8, depth=1)
    without = build_unet(1, 11, filters=8, depth=1, normalization="none")
    kinds = [type(layer).__name__ for layer in without.layers]
    assert "BatchNormalization" not in kinds
    n_bn = [type(layer).__name__ for layer in with_bn.layers].count("BatchNormalization")
    assert n_bn == 4 * (1 + 2 * 1) + 3  # per level: cbr + 2 per resblock; 3 decoder cbr
    bn_params = sum(layer.count_params() for layer in with_bn.layers if "batch" in layer.name)
    assert with_bn.count_params() - without.count_params() == bn_params


def test_keras_file_round_trip(tmp_path):
    import keras

    model = build_unet(1, 3, filters=4, depth=1)
    x = np.random.default_rng(0).standard_normal((1, 125, 1)).astype("float32")
    path = tmp_path / "unet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": 0}, "'filters' parameter of build_unet must be an int"),
        ({"depth": -1}, "'depth' parameter of build_unet must be an int"),
        ({"dropout": 1.0}, "'dropout' parameter of build_unet must be a float in the range"),
        ({"normalization": "layer"}, "'normalization' parameter of build_unet must be a str"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_unet(1, 2, **kwargs)


def test_usable_as_scikeras_model():
    scikeras = pytest.importorskip("scikeras.wrappers")
    clf = scikeras.KerasClassifier(
        model=build_unet,
        model__n_features=1,
        model__n_classes=2,
        model__filters=4,
        model__depth=1,
        loss="sparse_categorical_crossentropy",
        epochs=1,
        verbose=0,
    )
    X = np.random.default_rng(0).standard_normal((4, 125, 1)).astype("float32")
    y = np.zeros((4, 125), dtype=int)
    y[:, 60:] = 1
    clf.fit(X, y)

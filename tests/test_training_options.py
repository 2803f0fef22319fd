"""Training options of SequenceUNetClassifier: imbalance, validation data, callbacks,
per-batch history, transfer learning, save/load, mixed precision, XLA and progress."""

import pickle
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import f1_score, recall_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skion import SequenceUNetClassifier
from skion.datasets import make_telegraph
from skion.model_files import ModelFileError
from skion.neural import encoder_layers

#: Settings shared by the learning tests below: small, fast, constant learning rate.
LEARNING = {
    "window_size": 250,
    "batch_size": 8,
    "learning_rate": 5e-3,
    "lr_schedule": "constant",
    "validation_fraction": 0.0,
    "random_state": 0,
}


# ------------------------------------------------------------------ imbalance
def _skewed(n, seed):
    """Independent samples of 3 levels; level 2 is 2 % of them and overlaps level 1."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.6, 0.38, 0.02])
    return (y + 0.45 * rng.standard_normal(n)).astype(np.float32)[:, None], y


def test_balanced_class_weight_raises_rare_class_recall():
    X, y = _skewed(15_000, seed=0)
    X_test, y_test = _skewed(15_000, seed=1)
    recall = {}
    for weight in (None, "balanced"):
        clf = SequenceUNetClassifier(
            **LEARNING, filters=4, depth=0, epochs=4, class_weight=weight
        ).fit(X, y)
        recall[weight] = recall_score(y_test, clf.predict(X_test), labels=[2], average=None)[0]
    # Measured: 0.00 unweighted (class 2 is never the most probable) vs 0.88 balanced.
    assert recall[None] < 0.2
    assert recall["balanced"] > recall[None] + 0.5


def test_class_weight_dict_must_name_known_classes(telegraph, tiny_params):
    X, y = telegraph
    with pytest.raises(ValueError, match="are not in class_weight"):
        SequenceUNetClassifier(**tiny_params, class_weight={7: 2.0}).fit(X, y)


# ------------------------------------------------- validation data and history
def test_validation_data_replaces_the_held_out_windows(telegraph, tiny_params):
    X, y = telegraph
    X_val, y_val = make_telegraph(1000, p_open=0.02, p_close=0.02, noise=0.2, random_state=1)
    clf = SequenceUNetClassifier(**{**tiny_params, "epochs": 2}, validation_fraction=0.5)
    clf.fit(X, y, validation_data=(X_val, y_val))
    assert len(clf.history_["val_macro_f1"]) == 2
    assert clf.steps_per_epoch_ == 2  # all 12 windows of 250 trained on: fraction ignored

    groups_val = np.repeat([0, 1], 500)
    clf.fit(X, y, validation_data=(X_val, y_val, groups_val))
    assert len(clf.history_["val_loss"]) == 2


@pytest.mark.parametrize(
    ("validation_data", "error", "message"),
    [
        ("not a tuple", ValueError, "tuple"),
        ((np.zeros((10, 1)),), ValueError, "length 1"),
        ((np.zeros((300, 2)), np.zeros(300)), ValueError, "features"),
        ((np.zeros((300, 1)), np.full(300, 5)), ValueError, r"not seen in y: \[5\]"),
        ((np.zeros((300, 1)), np.zeros(200)), ValueError, "inconsistent numbers of samples"),
    ],
)
def test_bad_validation_data(validation_data, error, message, telegraph, tiny_params):
    X, y = telegraph
    with pytest.raises(error, match=message):
        SequenceUNetClassifier(**tiny_params).fit(X, y, validation_data=validation_data)


def test_history_records_every_batch_loss(telegraph, tiny_params):
    X, y = telegraph
    # 3000 samples = 12 windows, 2 held out: 10 per epoch in batches of 4, 4 and 2.
    clf = SequenceUNetClassifier(
        **{**tiny_params, "epochs": 3, "batch_size": 4, "validation_fraction": 0.2}
    ).fit(X, y)
    assert clf.steps_per_epoch_ == 3
    batches = np.reshape(clf.history_["batch_loss"], (3, 3))
    # Keras' epoch loss is the batch losses' mean weighted by batch size.
    epoch_means = batches @ np.array([4, 4, 2]) / 10
    np.testing.assert_allclose(epoch_means, clf.history_["loss"], rtol=1e-4)
    assert not np.allclose(batches[:, 0], batches[:, 1])  # per batch, not running means
    assert set(clf.history_) >= {"loss", "learning_rate", "val_loss", "val_macro_f1"}


# ----------------------------------------------------------------- callbacks
class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(dict(logs))


def test_callbacks_are_copied_and_see_validation_scores(telegraph, tiny_params):
    X, y = telegraph
    recorder = _Recorder()
    clf = SequenceUNetClassifier(
        **{**tiny_params, "epochs": 2, "validation_fraction": 0.2}, callbacks=[recorder]
    ).fit(X, y)
    assert recorder.epochs == []  # the parameter itself never trains
    (used,) = clf.callbacks_
    assert [set(logs) >= {"loss", "val_macro_f1"} for logs in used.epochs] == [True, True]
    clone(clf)  # a parameter bound to a network would be deep-copied with it
    restored = pickle.loads(pickle.dumps(clf))
    assert not hasattr(restored, "callbacks_")


def test_user_early_stopping_on_another_metric(telegraph, tiny_params):
    X, y = telegraph
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    clf = SequenceUNetClassifier(**{**tiny_params, "epochs": 5}, callbacks=[stop]).fit(X, y)
    assert clf.n_epochs_ == 2  # no improvement of 1e9 after the first epoch


def test_callbacks_must_be_keras_callbacks(telegraph, tiny_params):
    X, y = telegraph
    with pytest.raises(TypeError, match=r"keras\.callbacks\.Callback"):
        SequenceUNetClassifier(**tiny_params, callbacks=[print]).fit(X, y)


# --------------------------------------------------------- transfer learning
@pytest.fixture(scope="session")  # once per xdist worker, whatever order tests run in
def pretrained():
    """A U-Net trained on a 5-channel recording (labels 0..5)."""
    X, y = make_telegraph(
        60_000, n_channels=5, p_open=0.02, p_close=0.02, noise=0.3, random_state=0
    )
    arch = {"filters": 8, "depth": 1, "normalization": "none"}
    return SequenceUNetClassifier(**LEARNING, **arch, epochs=6).fit(X, y), arch


def _three_channels(n, seed):
    return make_telegraph(n, n_channels=3, p_open=0.02, p_close=0.02, noise=0.3, random_state=seed)


def test_fine_tuning_beats_training_from_scratch(pretrained):
    source, arch = pretrained
    X, y = _three_channels(3_000, seed=1)  # 12 windows: a short recording
    X_test, y_test = _three_channels(30_000, seed=2)
    scores = {}
    for name, extra in [
        ("scratch", {}),
        ("fine-tuned", {"init_model": source, "freeze_encoder": True}),
    ]:
        clf = SequenceUNetClassifier(**LEARNING, **arch, epochs=4, **extra).fit(X, y)
        scores[name] = f1_score(y_test, clf.predict(X_test), average="macro")
    # Measured: 0.53 from scratch vs 0.93 fine-tuned, with the same 4 epochs.
    assert scores["fine-tuned"] > scores["scratch"] + 0.15, scores


def test_init_model_copies_all_but_a_resized_head(pretrained, tmp_path):
    source, arch = pretrained
    X, y = _three_channels(1_000, seed=3)
    n_weighted = sum(bool(layer.weights) for layer in source.model_.layers)
    source.save(tmp_path / "source.skion")
    source.model_.save(tmp_path / "source.keras")
    pipeline = make_pipeline(FunctionTransformer(), source)
    for init in (
        source,
        source.model_,
        pipeline,
        tmp_path / "source.skion",
        str(tmp_path / "source.keras"),
    ):
        clf = SequenceUNetClassifier(
            **LEARNING, **arch, epochs=1, init_model=init, run_eagerly=True
        )
        clf.fit(X, y)
        assert clf.n_transferred_layers_ == n_weighted - 1  # the 6-class head is replaced
        assert clf.model_.output_shape[-1] == 4

    same_classes = make_telegraph(1_000, n_channels=5, noise=0.3, random_state=4)
    same_classes[1][:6] = np.arange(6)  # every class present
    clf = SequenceUNetClassifier(**LEARNING, **arch, epochs=1, init_model=source, run_eagerly=True)
    assert clf.fit(*same_classes).n_transferred_layers_ == n_weighted


def test_freeze_encoder_trains_only_the_decoder(pretrained):
    source, arch = pretrained
    X, y = _three_channels(1_000, seed=3)
    clf = SequenceUNetClassifier(
        **LEARNING, **arch, epochs=2, init_model=source, freeze_encoder=True, run_eagerly=True
    ).fit(X, y)
    frozen = encoder_layers(clf.model_)
    assert frozen and not any(layer.trainable for layer in frozen)
    before = {layer.name: layer for layer in encoder_layers(source.model_)}
    for new, old in zip(frozen, before.values(), strict=True):
        for a, b in zip(new.get_weights(), old.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    decoder_conv = [layer for layer in clf.model_.layers if layer.weights][len(frozen)]
    source_conv = [layer for layer in source.model_.layers if layer.weights][len(frozen)]
    assert not np.array_equal(decoder_conv.get_weights()[0], source_conv.get_weights()[0])


def test_transfer_errors(pretrained, telegraph, tiny_params):
    source, _ = pretrained
    X, y = telegraph
    with pytest.raises(ValueError, match="same filters"):
        SequenceUNetClassifier(**tiny_params, init_model=source).fit(X, y)  # filters 4 vs 8
    with pytest.raises(ValueError, match="unfitted"):
        SequenceUNetClassifier(**tiny_params, init_model=clone(source)).fit(X, y)
    with pytest.raises(ValueError, match="needs init_model"):
        SequenceUNetClassifier(**tiny_params, freeze_encoder=True).fit(X, y)
    with pytest.raises(ValueError, match="no such"):
        SequenceUNetClassifier(**tiny_params, init_model="missing.keras").fit(X, y)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"freeze_encoder": True}, ValueError, "needs init_model"),
        ({"callbacks": ["EarlyStopping"]}, TypeError, "keras.callbacks.Callback"),
        # (refused before the windows by the old code too)
        ({"class_weight": {0: -1.0, 1: 1.0}}, ValueError, "finite weights >= 0"),
    ],
)
def test_conflicting_parameters_are_refused_before_any_work(
    telegraph, tiny_params, monkeypatch, params, error, message
):
    from skion.neural import _estimator

    def no_windows(*args, **kwargs):
        raise AssertionError("windows were built before the parameters were checked")

    monkeypatch.setattr(_estimator, "plan_windows", no_windows)
    X, y = telegraph
    with pytest.raises(error, match=message):
        SequenceUNetClassifier(**{**tiny_params, **params}).fit(X, y)


# ----------------------------------------------------------------- save/load
def test_save_and_load_in_another_process(telegraph, tiny_params, tmp_path):
    X, y = telegraph
    clf = SequenceUNetClassifier(**tiny_params).fit(X, y)
    path = tmp_path / "sub" / "model.skion"
    assert clf.save(path) is clf
    np.save(tmp_path / "X.npy", X)
    code = (
        "import sys, numpy as np; from skion import SequenceUNetClassifier as C; "
        "est = C.load(sys.argv[1]); np.save(sys.argv[3], est.predict_proba(np.load(sys.argv[2])))"
    )
    out = tmp_path / "proba.npy"
    subprocess.run([sys.executable, "-c", code, path, tmp_path / "X.npy", out], check=True)
    np.testing.assert_allclose(np.load(out), clf.predict_proba(X), rtol=1e-5, atol=1e-6)
    loaded = SequenceUNetClassifier.load(path)
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)


def test_save_load_errors(telegraph, tiny_params, tmp_path):
    from sklearn.exceptions import NotFittedError

    from skion import HMMClassifier
    from skion.model_files import dump_estimator

    with pytest.raises(NotFittedError):
        SequenceUNetClassifier(**tiny_params).save(tmp_path / "x.skion")
    with pytest.raises(ModelFileError, match="no such model file"):
        SequenceUNetClassifier.load(tmp_path / "missing.skion")
    X, y = telegraph
    dump_estimator(HMMClassifier().fit(X, y), tmp_path / "hmm.skion")
    with pytest.raises(ModelFileError, match="holds a HMMClassifier"):
        SequenceUNetClassifier.load(tmp_path / "hmm.skion")
    (tmp_path / "junk.skion").write_text("not a model")
    with pytest.raises(ModelFileError, match="not a skion model file"):
        SequenceUNetClassifier.load(tmp_path / "junk.skion")


# ------------------------------------------------------ precision, XLA, output
def test_mixed_precision_auto_is_off_without_gpu(telegraph, tiny_params):
    X, y = telegraph
    clf = SequenceUNetClassifier(**tiny_params).fit(X, y)  # mixed_precision="auto"
    assert clf.model_.dtype_policy.name == "float32"


@pytest.mark.parametrize(
    ("setting", "policy"),
    [(True, "mixed_float16"), ("float16", "mixed_float16"), ("bfloat16", "mixed_bfloat16")],
)
def test_mixed_precision_on_computes_in_half_precision(
    telegraph, tiny_params, setting, policy, tmp_path
):
    X, y = telegraph
    clf = SequenceUNetClassifier(**tiny_params, mixed_precision=setting).fit(X, y)
    assert clf.model_.get_layer("head").dtype_policy.name == policy
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-3)
    clf.save(tmp_path / "model.skion")
    loaded = SequenceUNetClassifier.load(tmp_path / "model.skion")
    assert loaded.model_.get_layer("head").dtype_policy.name == policy
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)


@pytest.mark.slow  # XLA compiles the training step for minutes on a 2-core CPU
def test_jit_compile_trains(telegraph, tiny_params):
    X, y = telegraph
    params = {**tiny_params, "run_eagerly": False, "epochs": 2}
    xla = SequenceUNetClassifier(**params, jit_compile=True).fit(X, y)
    assert xla.model_.jit_compile
    plain = SequenceUNetClassifier(**params).fit(X, y)
    np.testing.assert_allclose(xla.history_["loss"], plain.history_["loss"], rtol=1e-3)


def test_progress_bar_shows_loss_and_validation_f1(telegraph, tiny_params, capfd):
    X, y = telegraph
    params = {**tiny_params, "epochs": 2, "validation_fraction": 0.2}
    SequenceUNetClassifier(**params, verbose=1).fit(X, y)
    out = capfd.readouterr().out
    assert out.count("Epoch ") == 2
    assert "loss:" in out and "val_macro_f1:" in out

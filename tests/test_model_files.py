"""Model files hold data only: no load path runs code from a file."""

import inspect
import os
import pathlib
import pickle

import joblib
import numpy as np
import pytest
import skops.io
from sklearn import config_context
from sklearn.base import BaseEstimator

import skion
from skion import HMMClassifier, LatticeDetrender, SequenceUNetClassifier
from skion.cli import main
from skion.datasets import make_telegraph
from skion.model_files import (
    TRUSTED_TYPES,
    ModelFileError,
    convert_model_file,
    dump_estimator,
    load_estimator,
    read_model_file,
)


class Payload:
    """Unpickling this writes a marker file: the code a crafted model file would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (pathlib.Path.write_text, (pathlib.Path(self.marker), "the payload ran"))

    def __setstate__(self, state):  # the route skops' ObjectNode would take
        pathlib.Path(state["marker"]).write_text("the payload ran")


def _payload(estimator, version):
    return {"format": "skion-model", "format_version": version, "estimator": estimator}


@pytest.fixture
def crafted(tmp_path):
    """A pickle model file (skion 0.1's format) and a skops one, both carrying a payload."""
    marker = tmp_path / "marker"
    joblib.dump(_payload(Payload(marker), 1), tmp_path / "pickle.skion")
    skops.io.dump({**_payload(Payload(marker), 2), "conditions": "{}"}, tmp_path / "skops.skion")
    skops.io.dump({**_payload(os.system, 2), "conditions": "{}"}, tmp_path / "function.skion")
    assert not marker.exists()
    return tmp_path, marker


LOADERS = {
    "read_model_file": read_model_file,
    "load_estimator": load_estimator,
    "SequenceUNetClassifier.load": SequenceUNetClassifier.load,
    "init_model": lambda path: SequenceUNetClassifier(
        init_model=path, epochs=1, window_size=125, filters=2, depth=1
    ).fit(*make_telegraph(500, random_state=0)),
}


@pytest.mark.parametrize("name", ["pickle.skion", "skops.skion", "function.skion"])
@pytest.mark.parametrize("loader", LOADERS)
def test_no_python_load_path_runs_a_crafted_file(crafted, name, loader):
    folder, marker = crafted
    with pytest.raises(ModelFileError, match=r"skion 0.1, a pickle|does not trust"):
        LOADERS[loader](folder / name)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["pickle.skion", "skops.skion", "function.skion"])
@pytest.mark.parametrize("command", ["predict", "evaluate", "info", "convert-model"])
def test_no_command_runs_a_crafted_file(crafted, name, command, capsys):
    folder, marker = crafted
    data = folder / "data.csv"
    X, y = make_telegraph(1000, random_state=0)
    data.write_text("time,signal,open_channels\n" + "".join(
        f"{i / 1e4},{x},{c}\n" for i, (x, c) in enumerate(zip(X[:, 0], y, strict=True))
    ))  # fmt: skip
    model = str(folder / name)
    argv = {
        "predict": ["predict", str(data), "--model", model, "--out", str(folder / "p.csv")],
        "evaluate": ["evaluate", str(data), "--model", model],
        "info": ["info", model],
        "convert-model": ["convert-model", model, str(folder / "new.skion")],  # no --trust
    }[command]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err
    assert not marker.exists()


def test_convert_model_needs_trust_and_then_converts(tmp_path, capsys):
    X, y = make_telegraph(2000, random_state=1)
    hmm = HMMClassifier().fit(X, y)
    old = tmp_path / "old.skion"
    joblib.dump({**_payload(hmm, 1), "conditions": {"sampling_rate": 10_000.0}}, old)
    with pytest.raises(ModelFileError, match="trust=True"):
        convert_model_file(old, tmp_path / "new.skion")
    assert main(["convert-model", str(old), str(tmp_path / "new.skion"), "--trust"]) == 0
    payload = read_model_file(tmp_path / "new.skion")
    assert payload["format_version"] == 2
    assert payload["conditions"] == {"sampling_rate": 10_000.0}
    np.testing.assert_array_equal(payload["estimator"].predict(X), hmm.predict(X))


def test_keras_networks_load_in_safe_mode():
    """A network with Python code in it (a Lambda layer) is refused, not run."""
    import keras

    from skion.neural._serialization import model_from_bytes, model_to_bytes

    inputs = keras.Input((4,))
    network = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    with pytest.raises(ValueError, match="safe_mode"):
        model_from_bytes(model_to_bytes(network))


def test_every_estimator_of_skion_is_trusted():
    estimators = [
        obj
        for name in skion.__all__
        if inspect.isclass(obj := getattr(skion, name)) and issubclass(obj, BaseEstimator)
    ]
    assert len(estimators) >= 6
    for cls in estimators:
        assert f"{cls.__module__}.{cls.__qualname__}" in TRUSTED_TYPES


def test_metadata_requests_survive_pickle_and_model_files(tmp_path):
    X, y = make_telegraph(3000, random_state=2)
    with config_context(enable_metadata_routing=True):
        detrender = LatticeDetrender().set_fit_request(groups=True)
        detrender = detrender.set_transform_request(groups="recording")
    detrender.fit(X, y)
    dump_estimator(detrender, tmp_path / "d.skion")
    for restored in (load_estimator(tmp_path / "d.skion"), pickle.loads(pickle.dumps(detrender))):
        assert restored._metadata_request.fit.requests == {"groups": True}
        assert restored._metadata_request.transform.requests == {"groups": "recording"}
        np.testing.assert_array_equal(restored.transform(X), detrender.transform(X))
    state = detrender.__getstate__()
    assert state["_metadata_request"] == {
        "fit": {"groups": True},
        "transform": {"groups": "recording"},
    }
    with pytest.raises(ValueError, match="invalid metadata request"):
        LatticeDetrender().__setstate__({**state, "_metadata_request": {"__class__": {"x": 1}}})


def test_saving_refuses_what_it_could_not_load(tmp_path):
    """callbacks are dropped from the saved copy; a schedule function is refused."""
    import keras

    X, y = make_telegraph(2000, random_state=3)
    params = {"epochs": 1, "window_size": 125, "filters": 2, "depth": 1}
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1)
    clf = SequenceUNetClassifier(callbacks=[stop], **params).fit(X, y)
    clf.save(tmp_path / "a.skion")
    assert clf.callbacks == [stop]  # the estimator itself is unchanged
    assert SequenceUNetClassifier.load(tmp_path / "a.skion").callbacks is None
    clf = SequenceUNetClassifier(lr_schedule=_halve, **params).fit(X, y)
    with pytest.raises(ModelFileError, match="lr_schedule"):
        clf.save(tmp_path / "b.skion")
    assert not (tmp_path / "b.skion").exists()


def _halve(epoch, learning_rate, epochs):
    return learning_rate / 2


def test_a_file_written_before_the_hmm_parameters_moved_loads(tmp_path):
    # AggregatedHMM's parameters moved from skion.hmm._aggregated to skion.hmm._posterior;
    # files written before name the old module and must load with the same counts.
    import zipfile

    from skion.hmm import AggregatedHMM

    X, _ = make_telegraph(5_000, random_state=0)
    hmm = AggregatedHMM(n_channels=1, max_iter=5).fit(X)
    new, old = tmp_path / "new.skion", tmp_path / "old.skion"
    dump_estimator(hmm, new)
    with zipfile.ZipFile(new) as source, zipfile.ZipFile(old, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "schema.json":
                assert b'"skion.hmm._posterior"' in data
                data = data.replace(b'"skion.hmm._posterior"', b'"skion.hmm._aggregated"')
            target.writestr(item, data)
    np.testing.assert_array_equal(load_estimator(old).predict(X), hmm.predict(X))

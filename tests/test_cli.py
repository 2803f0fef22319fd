"""The ``skion`` command: demo, fit / predict / evaluate round trips and error paths."""

import json
import os
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.metrics import f1_score

from skion.cli import main
from skion.cli._files import load_model, save_model
from skion.datasets import RIGS, make_ion_switching, make_rigs
from skion.kinetics import dwell_times

MODELS = [
    "Bayes oracle (true model)",
    "SequenceUNetClassifier",
    "HMMClassifier",
    "gradient boosting (context)",
    "logistic regression (pointwise)",
    "pretrained U-Net (no labels)",
    "AggregatedHMM (no labels)",
]


def test_demo_reports_every_model_and_writes_results(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--quick", "--n-samples", "20000", "--epochs", "1", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    for name in MODELS:
        assert name in printed
    assert "macro-F1" in printed and "total wall time" in printed
    results = json.loads((out / "results.json").read_text())
    assert [row["model"] for row in results["summary"]] == MODELS
    assert results["config"]["unet"]["epochs"] == 1
    folds = pd.read_csv(out / "results.csv")
    assert len(folds) == 2 * len(MODELS) and set(folds["fold"]) == {1, 2}
    scored = folds["model"] != MODELS[0]
    assert folds.loc[scored, "macro_f1"].between(0, 1).all()
    oracle = results["summary"][0]
    assert np.isnan(oracle["macro_f1_mean"])  # exact on the unfiltered rigs only
    unfiltered = [rig for rig, kw in RIGS.items() if "filter_cutoff" not in kw]
    assert min(oracle[rig] for rig in unfiltered) > 0.8  # even on tiny recordings
    assert all(np.isnan(oracle[rig]) for rig in RIGS if rig not in unfiltered)
    for rig in RIGS:  # one column per rig in the printed table
        assert f"  {rig}: " in printed
    # 2,500-row recordings are too short to calibrate: the demo says so instead of scoring
    # miscalibrated recordings in silence
    assert "was calibrated as" in printed and "raise --n-samples" in printed
    for name in ["segment.png", "confusion.png", "per_class_f1.png", "history.png"]:
        assert (out / name).read_bytes().startswith(b"\x89PNG"), name


def test_demo_names_the_recordings_its_calibration_misread():
    from skion.cli._demo import _misread

    _, _, _, recordings = make_rigs(10_000, random_state=0)
    truth = [(r.n_channels, r.step) for r in recordings]
    assert _misread(recordings, truth) == []
    wrong = list(truth)
    wrong[2] = (truth[2][0], -truth[2][1])  # upside down
    wrong[5] = (truth[5][0] + 1, truth[5][1])  # one channel too many
    lines = _misread(recordings, wrong)
    assert len(lines) == 2 and "recording 2 " in lines[0] and "recording 5 " in lines[1]


def test_demo_folds_hold_one_recording_of_every_rig():
    from skion.cli._demo import _folds

    _, _, groups, recordings = make_rigs(10_000, random_state=0)
    folds = list(_folds(recordings, len(groups)))
    assert len(folds) == 2
    tested = []
    for train, test in folds:
        np.testing.assert_array_equal(train, ~test)
        test_ids = np.unique(groups[test])
        assert not np.isin(test_ids, groups[train]).any()  # whole recordings only
        regimes = sorted(recordings[i].regime for i in test_ids)
        assert regimes == sorted(RIGS)  # one of every rig
        tested += test_ids.tolist()
    assert sorted(tested) == list(range(8))
    np.testing.assert_array_equal(np.unique(groups[folds[0][1]]), [0, 2, 4, 6])


@pytest.fixture(scope="module")
def recordings_csv(tmp_path_factory):
    """A labelled Liverpool-style CSV of two 3-channel recordings of 6000 rows."""
    X, y, _ = make_ion_switching(12_000, regime="3_channels", random_state=0)
    path = tmp_path_factory.mktemp("data") / "train.csv"
    frame = pd.DataFrame(
        {"time": 0.0001 + np.arange(len(y)) / 1e4, "signal": X[:, 0], "open_channels": y}
    )
    frame.to_csv(path, index=False, float_format="%.4f")
    return path, y


def test_fit_predict_evaluate_round_trip(recordings_csv, tmp_path, capsys):
    data, y = recordings_csv
    model = tmp_path / "model.skion"
    fit = ["fit", str(data), "--model", str(model), "--batch-size", "6000"]
    assert main([*fit, "--epochs", "2", "--filters", "4", "--window-size", "500"]) == 0
    printed = capsys.readouterr()
    assert "model written to" in printed.out
    assert "epochs" not in printed.err  # no progress bar where stderr is not a terminal

    pred_csv = tmp_path / "pred.csv"
    predict = ["predict", str(data), "--model", str(model), "--batch-size", "6000"]
    assert main([*predict, "--out", str(pred_csv)]) == 0
    pred = pd.read_csv(pred_csv)
    assert list(pred.columns) == ["time", "open_channels"] and len(pred) == len(y)
    np.testing.assert_allclose(pred["time"], 0.0001 + np.arange(len(y)) / 1e4, atol=1e-9)

    assert main(["evaluate", str(data), "--model", str(model), "--batch-size", "6000"]) == 0
    printed = capsys.readouterr().out
    expected = f1_score(y, pred["open_channels"], average="macro")
    assert f"macro-F1 {expected:.4f}" in printed

    # The saved pipeline predicts exactly what the command wrote, in a fresh load.
    again, events = tmp_path / "again.csv", tmp_path / "events.csv"
    assert main([*predict, "--out", str(again), "--events", str(events)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(again), pred)
    # --events: the events of the predictions, per recording, with their mean current.
    written = pd.read_csv(events)
    groups = np.arange(len(y)) // 6000
    expected = dwell_times(pred["open_channels"], 1e4, groups=groups)
    pd.testing.assert_frame_equal(written[expected.columns], expected, check_exact=False)
    assert "mean_current" in written


def test_fit_shows_a_bar_of_epochs_on_a_terminal(recordings_csv, tmp_path, capsys, monkeypatch):
    data, _ = recordings_csv
    fit = ["fit", str(data), "--batch-size", "6000", "--epochs", "2", "--filters", "4"]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main([*fit, "--window-size", "500", "--model", str(tmp_path / "a.skion")]) == 0
    err = capsys.readouterr().err
    assert "fitting the U-Net" in err and "2/2" in err and "val_macro_f1" in err
    assert load_model(tmp_path / "a.skion")[-1].callbacks is None  # not stored
    assert main([*fit, "--quiet", "--model", str(tmp_path / "b.skion")]) == 0
    assert "fitting the U-Net" not in capsys.readouterr().err
    # predict and evaluate: a bar of the U-Net's chunks of windows (a few windows each)
    from skion.neural import _estimator

    monkeypatch.setattr(_estimator, "_PREDICT_CHUNK_ROWS", 4000)
    for command in (["predict", "--out", str(tmp_path / "p.csv")], ["evaluate"]):
        args = [command[0], str(data), "--model", str(tmp_path / "a.skion"), *command[1:]]
        assert main(args) == 0
        assert "predicting" in capsys.readouterr().err
        assert main([*args, "--quiet"]) == 0
        assert "predicting" not in capsys.readouterr().err


def test_predict_an_abf_file_one_recording_per_sweep(recordings_csv, tmp_path, capsys):
    with np.printoptions():  # pyabf's import changes numpy's print options
        pyabf = pytest.importorskip("pyabf")
    data, _ = recordings_csv
    model = tmp_path / "model.skion"
    fit = ["fit", str(data), "--model", str(model), "--batch-size", "6000", "--epochs", "1"]
    assert main([*fit, "--filters", "4", "--window-size", "500"]) == 0
    X, _, _ = make_ion_switching(2000, regime="3_channels", random_state=1)
    abf = tmp_path / "cell.abf"
    pyabf.abfWriter.writeABF1(X[:, 0].reshape(2, 1000), str(abf), 10_000, "pA")
    out = tmp_path / "cell.csv"
    assert main(["predict", str(abf), "--model", str(model), "--out", str(out)]) == 0
    pred = pd.read_csv(out)
    assert len(pred) == 2000 and pred["open_channels"].isin([0, 1, 2, 3]).all()
    np.testing.assert_allclose(pred["time"], np.arange(2000) / 10_000)
    assert main(["evaluate", str(abf), "--model", str(model)]) == 1
    assert "has no labels" in capsys.readouterr().err
    # another sampling rate: predicted as read, or with --other-rate resample resampled to
    # the model's rate; one prediction per row of the file either way
    fast = tmp_path / "fast.abf"
    pyabf.abfWriter.writeABF1(np.repeat(X[:, 0], 2).reshape(2, 2000), str(fast), 20_000, "pA")
    long, _, _ = make_ion_switching(4000, regime="3_channels", random_state=2)
    slow, base = tmp_path / "slow.abf", tmp_path / "base.abf"
    pyabf.abfWriter.writeABF1(long[::2, 0].reshape(2, 1000), str(slow), 5_000, "pA")
    pyabf.abfWriter.writeABF1(long[:, 0].reshape(2, 2000), str(base), 10_000, "pA")
    again = tmp_path / "again.csv"
    assert main(["predict", str(base), "--model", str(model), "--out", str(again)]) == 0
    at_base = pd.read_csv(again)["open_channels"].to_numpy()
    for path, options, said in [
        (fast, [], "predicted at the file's rate"),
        (fast, ["--other-rate", "resample"], "from 20000 Hz to the model's 10000 Hz"),
        (slow, ["--other-rate", "resample"], "from 5000 Hz to the model's 10000 Hz"),
    ]:
        capsys.readouterr()
        argv = ["predict", str(path), "--model", str(model), "--out", str(again), *options]
        assert main(argv) == 0
        assert said in capsys.readouterr().err
        counts = pd.read_csv(again)["open_channels"].to_numpy()
        # each 10 kHz sample held for two 20 kHz rows, or every other one kept at 5 kHz:
        # mostly the counts predicted at 10 kHz
        if path == fast:
            assert len(counts) == 4000
            assert np.mean(counts[::2] == pred["open_channels"]) > 0.9, options
        else:
            assert len(counts) == 2000 and np.mean(counts == at_base[::2]) > 0.9
    refused = tmp_path / "refused.csv"
    argv = ["predict", str(fast), "--model", str(model), "--out", str(refused)]
    assert main([*argv, "--other-rate", "refuse"]) == 1
    err = capsys.readouterr().err
    assert "sampled at 20000 Hz, but the model was trained on 10000 Hz" in err
    assert not refused.exists()


def test_info_shows_the_training_conditions_and_mismatches_warn(recordings_csv, tmp_path, capsys):
    data, _ = recordings_csv
    model = tmp_path / "model.skion"
    fit = ["fit", str(data), "--model", str(model), "--batch-size", "6000", "--epochs", "1"]
    assert main([*fit, "--filters", "4", "--window-size", "500"]) == 0
    capsys.readouterr()
    assert main(["info", str(model)]) == 0
    shown = capsys.readouterr().out
    assert "sampling rate: 10000.0" in shown and "open channels: [0, 1, 2, 3]" in shown
    assert "n recordings: 2" in shown and "units: pA" in shown
    assert "steps: clean (Pipeline) -> unet (SequenceUNetClassifier)" in shown
    assert "lattice: unitary current 1.2" in shown
    # the same recordings in another unit (x 10, as a conductance would be) are warned about
    frame = pd.read_csv(data)
    frame["signal"] *= 10
    scaled = tmp_path / "scaled.csv"
    frame.to_csv(scaled, index=False)
    out = tmp_path / "pred.csv"
    predict = ["predict", str(scaled), "--model", str(model), "--batch-size", "6000"]
    assert main([*predict, "--out", str(out)]) == 0
    assert "trained on 0-3 open channels: this recording comes from another rig" in (
        capsys.readouterr().err
    )
    assert (
        main(
            ["predict", str(data), "--model", str(model), "--batch-size", "6000", "--out", str(out)]
        )
        == 0
    )
    assert "warning" not in capsys.readouterr().err
    # the same current in nA is converted and predicted alike; a conductance is refused
    original = pd.read_csv(out)["open_channels"]
    frame = pd.read_csv(data)
    nano = tmp_path / "nano.csv"
    frame.assign(signal=frame["signal"] / 1000).rename(columns={"signal": "current (nA)"}).to_csv(
        nano, index=False, float_format="%.8f"
    )
    again = tmp_path / "again.csv"
    assert main([*predict[:1], str(nano), *predict[2:], "--out", str(again)]) == 0
    assert np.mean(pd.read_csv(again)["open_channels"] == original) > 0.999
    siemens = tmp_path / "siemens.csv"
    frame.rename(columns={"signal": "conductance"}).to_csv(siemens, index=False)
    assert main([*predict[:1], str(siemens), *predict[2:], "--out", str(again)]) == 1
    assert "in pS, but the model learned one lattice in pA" in capsys.readouterr().err


def test_a_long_file_that_marks_no_recordings_is_read_in_competition_batches(tmp_path, capsys):
    from skion.cli._files import read_data

    n = 500_010
    path = tmp_path / "long.csv"
    pd.DataFrame({"time": np.arange(1, n + 1) / 1e4, "signal": np.zeros(n)}).to_csv(
        path, index=False, float_format="%.4f"
    )
    recording = read_data(path)
    assert np.bincount(recording.groups).tolist() == [500_000, 10]
    assert "read as recordings of 500,000 rows" in capsys.readouterr().err
    assert np.bincount(read_data(path, batch_size=n).groups).tolist() == [n]


def test_model_file_round_trip_keeps_the_estimator(recordings_csv, tmp_path):
    from sklearn.dummy import DummyClassifier

    X = np.zeros((10, 1))
    estimator = DummyClassifier().fit(X, np.arange(10) % 2)
    save_model(estimator, tmp_path / "m.skion")
    loaded = load_model(tmp_path / "m.skion")
    np.testing.assert_array_equal(loaded.classes_, [0, 1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "missing.csv", "--model", "m.skion"], "no such model file"),
        (["fit", "missing.csv", "--model", "m.skion"], "no such file: missing.csv"),
        (["fit", "{txt}", "--model", "m.skion"], "unknown data format .txt"),
        (["fit", "{unlabelled}", "--model", "m.skion"], "has no labels"),
        (["fit", "{bad_column}", "--model", "m.skion"], "signal"),
        (["evaluate", "{unlabelled}", "--model", "{not_a_model}"], "not a skion model file"),
        (["evaluate", "{unlabelled}", "--model", "{garbage}"], "not a skion model file"),
        (["evaluate", "{unlabelled}", "--model", "{old_pickle}"], "convert-model"),
    ],
)
def test_bad_files_exit_1_with_a_one_line_message(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.txt").write_text("time,signal\n0.0001,1.0\n")
    (tmp_path / "unlabelled.csv").write_text("time,signal\n0.0001,1.0\n0.0002,1.1\n")
    (tmp_path / "bad.csv").write_text("time,voltage\n0.0001,1.0\n")
    skops.io.dump({"format": "something else"}, tmp_path / "other.skion")
    joblib.dump({"format": "skion-model", "format_version": 1}, tmp_path / "old.skion")
    (tmp_path / "garbage.skion").write_bytes(b"not a pickle")
    files = {
        "txt": "data.txt",
        "unlabelled": "unlabelled.csv",
        "bad_column": "bad.csv",
        "not_a_model": "other.skion",
        "garbage": "garbage.skion",
        "old_pickle": "old.skion",
    }
    assert main([arg.format(**files) for arg in argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"skion {argv[0]}: error:") and message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--n-samples", "10000"], "must be at least 20000"),  # 625 rows: too short
        (["demo", "--epochs", "0"], "must be at least 1"),
        (["demo", "--epochs", "two"], "expected an integer"),
        (["predict", "data.csv", "--model", "m.skion"], "--out"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "skion", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("skion ")


def test_fit_with_per_recording_calibration_predicts_another_rig(recordings_csv, tmp_path):
    data, _ = recordings_csv
    model = tmp_path / "model.skion"
    fit = ["fit", str(data), "--model", str(model), "--batch-size", "6000", "--epochs", "1"]
    assert main([*fit, "--filters", "4", "--window-size", "500", "--calibration", "recording"]) == 0
    # the same channels on a rig with an inward current twice as large and an offset
    frame = pd.read_csv(data)
    frame["signal"] = 5.0 - 2.0 * frame["signal"]
    other = tmp_path / "other.csv"
    # ... recorded as a conductance: open-channel units do not depend on the unit
    frame.rename(columns={"signal": "conductance"}).to_csv(other, index=False)
    predictions = []
    for path in (data, other):
        out = tmp_path / f"pred-{path.stem}.csv"
        predict = ["predict", str(path), "--model", str(model), "--batch-size", "6000"]
        assert main([*predict, "--out", str(out)]) == 0
        predictions.append(pd.read_csv(out)["open_channels"].to_numpy())
    assert np.mean(predictions[0] == predictions[1]) > 0.97


def test_counts_never_exceed_the_channels_calibration_found():
    """A per-recording pipeline predicts no more channels than each recording shows."""
    import sklearn
    from sklearn.dummy import DummyClassifier
    from sklearn.pipeline import Pipeline

    from skion.datasets import make_patch_clamp
    from skion.pipelines import calibrated_counts, make_cleaning

    X5, y5, _, _ = make_patch_clamp(
        30_000, kinetics="fast", n_channels=5, unitary_current=1.5, noise=0.2, random_state=0
    )
    X3, _, _, _ = make_patch_clamp(
        30_000, kinetics="fast", n_channels=3, unitary_current=-2.0, noise=0.3, random_state=1
    )
    always_five = DummyClassifier(strategy="constant", constant=5)
    with sklearn.config_context(enable_metadata_routing=True):
        model = Pipeline([("clean", make_cleaning("recording")), ("dummy", always_five)])
        model.fit(X5, y5)
    counts, table = calibrated_counts(model, X3, None)
    assert table["n_channels"].tolist() == [3]
    np.testing.assert_array_equal(counts, 3)
    counts, table = calibrated_counts(model, X5, None)
    np.testing.assert_array_equal(counts, 5)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["fit", "{data}", "--model", "/proc/skion.skion"], "--model"),
        (["demo", "--out", "/proc/skion-demo"], "--out"),
        (["kinetics", "{data}", "--out", "/proc/skion-kinetics"], "--out"),
        (["idealize", "{data}", "--out", "/proc/counts.csv"], "--out"),
        (["idealize", "{data}", "--out", "{tmp}/o.csv", "--summary", "/proc/s.json"], "--summary"),
    ],
    ids=["fit", "demo", "kinetics", "idealize", "summary"],
)
def test_an_output_that_cannot_be_written_is_one_line_before_any_work(
    tmp_path, capsys, command, option
):
    """/proc refuses new files even to root, whom file permissions do not stop: the check
    creates a file where the output will go instead of asking for permissions."""
    data = tmp_path / "d.csv"
    data.write_text("time,signal,open_channels\n0,0.0,0\n0.0001,1.0,1\n")
    argv = [part.format(data=data, tmp=tmp_path) for part in command]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"skion {argv[0]}: error: {option} /proc/") and "cannot write" in err
    assert "\n" not in err  # one line, no traceback, and no work done before it


def test_an_output_below_a_file_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("")
    assert main(["demo", "--out", str(blocker / "results")]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err

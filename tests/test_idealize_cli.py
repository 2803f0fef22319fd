"""``skion idealize``: counts of an unlabelled file at any rate, a summary, clear errors."""

import json

import numpy as np
import pandas as pd
import pytest

from skion.cli import main
from skion.datasets import make_patch_clamp


def _write(path, X, rate, y=None, time=True):
    frame = {"signal": X[:, 0]}
    if time:
        frame = {"time": np.round(np.arange(len(X)) / rate, 8), **frame}
    if y is not None:
        frame["open_channels"] = 9  # ignored: a wrong column must not leak into the result
    pd.DataFrame(frame).to_csv(path, index=False)


def test_idealize_reads_the_rate_and_ignores_labels(tmp_path, capsys):
    X, y, _, _ = make_patch_clamp(
        80_000,
        kinetics="slow",
        n_channels=2,
        sampling_rate=20_000,
        unitary_current=-2.0,
        offset=1.0,
        noise=0.4,
        random_state=0,
    )
    data, out, summary = tmp_path / "rec.csv", tmp_path / "pred.csv", tmp_path / "sum.json"
    _write(data, X, 20_000, y=y)
    argv = ["idealize", str(data), "--out", str(out), "--summary", str(summary)]
    assert main(argv) == 0
    assert "20000 Hz" in capsys.readouterr().out
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["time", "open_channels"] and len(pred) == len(X)
    assert np.mean(pred["open_channels"].to_numpy() == y) > 0.99
    report = json.loads(summary.read_text())
    assert report["n_channels"] == 2 and report["sampling_rate"] == pytest.approx(20_000)
    assert report["unitary_current"] == pytest.approx(-2.0, rel=0.02)
    assert report["noise_sd"] == pytest.approx(0.4, rel=0.05)
    assert report["open_channel_noise_sd"] == 0.0
    assert report["tracking_window_s"] == 0.2  # white noise: baseline_window
    # slow channels make few jumps of several levels: any ratio, or none (null)
    assert report["joint_jump_ratio"] is None or report["joint_jump_ratio"] >= 0
    assert report["recordings"][0]["closed_level"] == pytest.approx(1.0, abs=0.05)
    assert len(report["scheme"]["rates_per_s"]) == 3


def test_time_restarting_starts_a_new_recording(tmp_path):
    X, _, _, _ = make_patch_clamp(
        60_000, kinetics="slow", n_recordings=2, noise=0.2, random_state=1
    )
    data, out, summary = tmp_path / "two.csv", tmp_path / "pred.csv", tmp_path / "s.json"
    time = np.concatenate([np.arange(30_000), np.arange(30_000)]) / 10_000
    pd.DataFrame({"time": time, "signal": X[:, 0]}).to_csv(data, index=False)
    assert main(["idealize", str(data), "--out", str(out), "--summary", str(summary)]) == 0
    assert len(json.loads(summary.read_text())["recordings"]) == 2


def test_a_file_without_time_needs_the_rate(tmp_path, capsys):
    X, _, _, _ = make_patch_clamp(30_000, kinetics="slow", noise=0.2, random_state=2)
    data, out = tmp_path / "bare.csv", tmp_path / "pred.csv"
    _write(data, X, 10_000, time=False)
    assert main(["idealize", str(data), "--out", str(out)]) == 1
    assert "--sampling-rate" in capsys.readouterr().err
    assert main(["idealize", str(data), "--out", str(out), "--sampling-rate", "10000"]) == 0


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"time": [0.0, 1e-4, 3e-4, 4e-4], "signal": [0.0, 1, 0, 1]}, "not constant"),
        ({"time": [0.0, 1e-4], "voltage": [0.0, 1.0]}, "no signal column"),
        ({"time": [0.0, 1e-4, 2e-4], "signal": [0.0, "x", 1.0]}, "non-numeric value 'x'"),
    ],
)
def test_bad_files_get_one_line_errors(tmp_path, capsys, frame, message):
    data = tmp_path / "bad.csv"
    pd.DataFrame(frame).to_csv(data, index=False)
    assert main(["idealize", str(data), "--out", str(tmp_path / "p.csv")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_flat_recording_is_refused(tmp_path, capsys):
    data = tmp_path / "flat.csv"
    X = np.random.default_rng(0).normal(0, 0.2, (40_000, 1))
    _write(data, X, 10_000)
    assert main(["idealize", str(data), "--out", str(tmp_path / "p.csv")]) == 1
    assert "flat recording" in capsys.readouterr().err


def test_progress_prints_em_iterations(tmp_path, capsys):
    X, _, _, _ = make_patch_clamp(30_000, kinetics="slow", noise=0.2, random_state=3)
    data = tmp_path / "rec.csv"
    _write(data, X, 10_000)
    argv = ["idealize", str(data), "--out", str(tmp_path / "p.csv"), "--progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "EM iteration 1:" in out and "EM iteration 2:" in out
    assert main([*argv[:-1], "--quiet"]) == 0
    assert "iteration" not in capsys.readouterr().out


def test_a_close_call_on_the_sign_is_said_and_the_sign_can_be_given(tmp_path, capsys):
    from .test_aggregated_hmm import CLOSE_SIGN

    X, y, groups, _ = make_patch_clamp(**CLOSE_SIGN)
    data, out, summary = tmp_path / "slow.csv", tmp_path / "pred.csv", tmp_path / "s.json"
    frame = {"time": np.arange(len(X)) / 10_000, "signal": X[:, 0], "recording": groups}
    pd.DataFrame(frame).to_csv(data, index=False)
    argv = ["idealize", str(data), "--out", str(out), "--summary", str(summary)]
    assert main([*argv, "--line-freq", "50"]) == 0
    said = capsys.readouterr().err
    assert "skion: warning: The direction of the current is uncertain" in said
    assert "current_sign" in json.loads(summary.read_text())["warnings"][0]
    assert main([*argv, "--line-freq", "50", "--current-sign", "positive"]) == 0
    assert "uncertain" not in capsys.readouterr().err
    assert json.loads(summary.read_text())["warnings"] == []
    assert np.mean(pd.read_csv(out)["open_channels"].to_numpy() == y) > 0.99
    assert main([*argv, "--method", "unet", "--current-sign", "negative"]) == 1
    assert "--current-sign set the HMM's model" in capsys.readouterr().err

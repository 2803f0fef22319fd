"""``skion kinetics`` and ``--events``: from an idealization to the numbers papers report."""

import json

import numpy as np
import pandas as pd
import pytest

from skion.cli import main
from skion.datasets import make_patch_clamp
from skion.kinetics import dwell_times, read_dwt

#: C1-C2-O: bursts of ~1 ms openings separated by ~0.5 ms shuttings, ~11 ms between bursts.
Q = np.array([[-100.0, 100.0, 0.0], [200.0, -2200.0, 2000.0], [0.0, 1000.0, -1000.0]])


@pytest.fixture(scope="module")
def counts_csv(tmp_path_factory):
    """Per-sample counts of two 20 s recordings (the time restarting), as predict writes."""
    _, y, groups, _ = make_patch_clamp(400_000, kinetics=(Q, [2]), n_recordings=2, random_state=0)
    path = tmp_path_factory.mktemp("kinetics") / "counts.csv"
    time = np.concatenate([np.arange(200_000)] * 2) / 10_000
    pd.DataFrame({"time": time, "open_channels": y}).to_csv(path, index=False)
    return path, y, groups


def test_kinetics_of_per_sample_counts(counts_csv, tmp_path, capsys):
    path, y, groups = counts_csv
    out = tmp_path / "out"
    argv = ["kinetics", str(path), "--t-res", "0.0002", "--out", str(out), "--dwt", "--scn"]
    assert main([*argv, "--unitary-current", "-2"]) == 0
    printed = capsys.readouterr().out
    assert "10000 Hz, resolution 0.2 ms" in printed and "bursts (t_crit" in printed
    report = json.loads((out / "kinetics.json").read_text())
    assert [r["recording"] for r in report["recordings"]] == [0, 1]
    for recording, rows in zip(report["recordings"], (groups == 0, groups == 1), strict=True):
        # Po of the resolved events is close to the samples' (brief events were merged)
        assert recording["open_probability"] == pytest.approx(y[rows].mean(), abs=0.01)
        assert recording["n_channels"] == 1 and not recording["n_channels_stated"]
    shut, opened = report["levels"]
    assert [c["tau_s"] for c in shut["components"]] == pytest.approx([5.3e-4, 1.11e-2], rel=0.15)
    assert len(opened["components"]) == 1
    assert 3 < report["bursts"]["mean_openings"] < 12
    assert report["bursts"]["t_crit_s"] == pytest.approx(2e-3, rel=0.25)
    for name in ("dwell_level0.png", "dwell_level1.png", "recording0.scn", "recording1.scn"):
        assert (out / name).stat().st_size > 0
    events = read_dwt(out / "events.dwt")
    assert events["recording"].nunique() == 2 and events["duration"].min() >= 2e-4 - 1e-12


def test_kinetics_of_an_event_list_states_the_channels(counts_csv, tmp_path, capsys):
    _, y, groups = counts_csv
    events = tmp_path / "events.csv"
    dwell_times(y, 10_000.0, groups=groups).to_csv(events, index=False)
    assert main(["kinetics", str(events), "--n-channels", "2"]) == 0
    printed = capsys.readouterr().out
    assert "(N = 2)" in printed and f"Po {y[groups == 0].mean() / 2:.4f}" in printed


def test_idealize_writes_the_events_of_its_counts(tmp_path):
    X, _, _, _ = make_patch_clamp(60_000, kinetics="slow", noise=0.2, random_state=3)
    data, out, events = tmp_path / "rec.csv", tmp_path / "pred.csv", tmp_path / "ev.csv"
    pd.DataFrame({"time": np.arange(len(X)) / 10_000, "signal": X[:, 0]}).to_csv(data)
    assert main(["idealize", str(data), "--out", str(out), "--events", str(events)]) == 0
    counts = pd.read_csv(out)["open_channels"]
    written = pd.read_csv(events)
    expected = dwell_times(counts, 10_000.0, current=X)
    pd.testing.assert_frame_equal(written, expected, check_exact=False, atol=1e-6)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n", "expected an event list"),
        ("time,open_channels\n0,1\n0.1,0\n0.15,1\n", "not constant"),
        ("recording,level,start,duration,n_samples,censored\n0,1,0,-1,1,True\n", "positive"),
        ("recording,level,start,duration,n_samples,censored\n0,1,0,1,1,maybe\n", "True or Fal"),
    ],
)
def test_kinetics_names_what_is_wrong_with_the_file(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["kinetics", str(path)]) == 1
    assert message in capsys.readouterr().err


def test_kinetics_refuses_a_resolution_above_every_event(counts_csv, capsys):
    assert main(["kinetics", str(counts_csv[0]), "--t-res", "100"]) == 1
    assert "longer than every event" in capsys.readouterr().err
    assert main(["kinetics", str(counts_csv[0]), "--t-res", "0.002"]) == 0
    assert "skion: warning: t_res=0.002 s is longer than" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["kinetics", str(counts_csv[0]), "--t-res", "-1"])

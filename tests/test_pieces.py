"""Files read and predicted a piece at a time: pieces equal to the whole file, memory that
does not grow with it, events stitched across cut recordings, and no half-written output."""

import json
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn import config_context

from skion.cli import main
from skion.cli._output import EventWriter
from skion.datasets import make_ion_switching, open_recording, read_recording
from skion.kinetics import dwell_times
from skion.model_files import dump_estimator
from skion.pipelines import make_baseline_pipelines


def _csv(path, lengths, *, seed=0):
    """Recordings of ``lengths`` rows (a ``recording`` column), labelled, at 10 kHz."""
    rng = np.random.default_rng(seed)
    n = sum(lengths)
    y = np.repeat(rng.integers(0, 3, n // 5 + 1), 5)[:n]  # dwells of 5 samples
    frame = pd.DataFrame(
        {
            "recording": np.repeat(np.arange(len(lengths)), lengths),
            "signal": y + rng.normal(0, 0.1, n).round(3),
            "open_channels": y,
        }
    )
    frame.to_csv(path, index=False)
    return path


def _pyabf():
    with np.printoptions():  # pyabf's import changes numpy's print options
        return pytest.importorskip("pyabf")


def _concatenated(pieces):
    pieces = list(pieces)
    return {
        key: np.concatenate([getattr(piece, key) for piece in pieces])
        for key in ("X", "groups", "time")
    } | {"y": None if pieces[0].y is None else np.concatenate([p.y for p in pieces])}


def test_pieces_hold_whole_recordings_or_near_equal_parts_of_a_long_one(tmp_path):
    path = _csv(tmp_path / "r.csv", [3, 2, 9, 1])
    with open_recording(path, sampling_rate=10_000) as f:
        plan = [(p.rows, p.offset, p.continues) for p in f.pieces(max_rows=4)]
        assert f.n_pieces(4) == len(plan) == 6
        assert plan == [
            (slice(0, 3), 0, False),
            (slice(3, 5), 0, False),
            (slice(5, 8), 0, True),  # recording 2 (9 rows) in three parts of 3
            (slice(8, 11), 3, True),
            (slice(11, 14), 6, False),
            (slice(14, 15), 0, False),
        ]
        assert [p.rows for p in f.pieces(max_rows=5)][:2] == [slice(0, 5), slice(5, 9)]
        whole = f.read()
        for max_rows in (1, 4, 6, 100, None):
            joined = _concatenated(f.pieces(max_rows=max_rows))
            for key in ("X", "y", "groups", "time"):
                np.testing.assert_array_equal(joined[key], whole[key], err_msg=key)
        only = list(f.pieces(max_rows=4, only={3}))
        assert len(only) == 1 and only[0].rows == slice(8, 11)
        with pytest.raises(ValueError, match="max_rows must be a whole number >= 1"):
            next(f.pieces(max_rows=0))
    with pytest.raises(ValueError, match=r"r\.csv: the file is closed"):
        next(f.pieces())


@pytest.mark.parametrize("sweeps", [1, 3])
def test_abf_pieces_equal_the_whole_file_and_pyabf(tmp_path, sweeps):
    pyabf = _pyabf()
    X, _, _ = make_ion_switching(6_000, regime="3_channels", random_state=0)
    path = tmp_path / "cell.abf"
    pyabf.abfWriter.writeABF1(X[:, 0].reshape(sweeps, -1), str(path), 10_000, "pA")
    whole = read_recording(path)
    abf = pyabf.ABF(str(path))
    expected = []
    for sweep in abf.sweepList:
        abf.setSweep(sweep)
        expected.append(abf.sweepY)
    np.testing.assert_array_equal(whole.X[:, 0], np.concatenate(expected))  # bit for bit
    with open_recording(path) as f:
        assert f.n_recordings == sweeps
        joined = _concatenated(f.pieces(max_rows=700))
    for key in ("X", "groups", "time"):
        np.testing.assert_array_equal(joined[key], whole[key], err_msg=key)


def test_reading_a_long_abf_file_holds_one_piece_at_a_time(tmp_path):
    pyabf = _pyabf()
    n = 4_000_000  # 8 MB of int16 on disk; 16 MB as float32, 32 MB as float64
    signal = np.sin(np.arange(n) / 50.0).astype(np.float32)
    path = tmp_path / "long.abf"
    pyabf.abfWriter.writeABF1(signal[None, :], str(path), 50_000, "pA")
    with open_recording(path) as f:
        tracemalloc.start()
        rows = 0
        for piece in f.pieces(max_rows=50_000):
            rows += len(piece.X)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert rows == n
    # a piece: 50,000 rows of float64 and float32 values, time and groups (~2.5 MB)
    assert peak < 5e6, f"peak {peak / 1e6:.1f} MB reading pieces of a 4M-sample file"


@pytest.mark.parametrize("max_rows", [None, 1, 7, 23, 100, 1000])
def test_events_stitched_across_pieces_equal_the_whole_recordings(tmp_path, max_rows):
    rng = np.random.default_rng(1)
    lengths = [400, 1, 250, 3000]
    path = _csv(tmp_path / "r.csv", lengths)
    # long dwells (some longer than a piece) as well as one-sample ones
    counts = np.repeat(rng.integers(0, 3, 60), rng.integers(1, 200, 60))[: sum(lengths)]
    counts = np.resize(counts, sum(lengths))
    with open_recording(path, sampling_rate=10_000) as f:
        whole = f.read()
        with EventWriter(tmp_path / "events.csv", f.sampling_rate) as writer:
            for piece in f.pieces(max_rows=max_rows):
                writer.add(counts[piece.rows], piece)
    expected = dwell_times(counts, 10_000, groups=whole.groups, current=whole.X)
    written = pd.read_csv(tmp_path / "events.csv")
    assert writer.n_events == len(expected)
    pd.testing.assert_frame_equal(
        written.drop(columns="mean_current"), expected.drop(columns="mean_current")
    )
    np.testing.assert_allclose(written["mean_current"], expected["mean_current"], rtol=1e-6)


@pytest.fixture(scope="module")
def hmm_model(tmp_path_factory):
    """An HMM pipeline in a model file, fitted on 2 recordings of 3 channels at 10 kHz."""
    X, y, groups = make_ion_switching(20_000, regime="3_channels", random_state=0)
    groups = np.arange(len(y)) // 10_000
    with config_context(enable_metadata_routing=True):
        model = make_baseline_pipelines()["HMMClassifier"].fit(X, y, groups=groups)
    path = tmp_path_factory.mktemp("model") / "hmm.skion"
    conditions = {"sampling_rate": 10_000.0, "units": "pA", "open_channels": [0, 1, 2, 3]}
    dump_estimator(model, path, conditions=conditions)
    return path


def _recordings_csv(path, n, per_recording, seed):
    X, y, _ = make_ion_switching(n, regime="3_channels", random_state=seed)
    pd.DataFrame(
        {
            "time": np.arange(n) % per_recording / 1e4,  # restarts: a recording each
            "signal": X[:, 0].round(4),
            "open_channels": y,
        }
    ).to_csv(path, index=False)
    return path


def test_predict_a_piece_at_a_time(hmm_model, tmp_path, capsys):
    data = _recordings_csv(tmp_path / "data.csv", 40_000, 20_000, seed=3)
    base = ["predict", str(data), "--model", str(hmm_model)]
    outputs = {}
    for size in (100_000, 20_000, 10_000):
        out, events = tmp_path / f"p{size}.csv", tmp_path / f"e{size}.csv"
        argv = [*base, "--out", str(out), "--events", str(events), "--piece-samples", str(size)]
        assert main(argv) == 0
        outputs[size] = (out.read_text(), pd.read_csv(out), pd.read_csv(events))
    assert "wrote 40,000 predictions" in capsys.readouterr().out
    # whole recordings in every piece: the same file, byte for byte
    assert outputs[20_000][0] == outputs[100_000][0]
    # recordings cut in two: each part cleaned and decoded apart, nearly the same counts
    cut, whole = outputs[10_000][1], outputs[100_000][1]
    pd.testing.assert_series_equal(cut["time"], whole["time"])
    assert np.mean(cut["open_channels"] == whole["open_channels"]) > 0.99
    # and its events are those of its counts, recording by recording, dwells not cut
    groups = np.arange(40_000) // 20_000
    expected = dwell_times(cut["open_channels"].to_numpy(), 1e4, groups=groups)
    pd.testing.assert_frame_equal(outputs[10_000][2][expected.columns], expected)
    argv = ["evaluate", str(data), "--model", str(hmm_model), "--piece-samples", "10000"]
    assert main(argv) == 0
    assert "on 40,000 samples" in capsys.readouterr().out


def test_a_failure_on_the_way_leaves_no_half_written_file(hmm_model, tmp_path, monkeypatch, capsys):
    data = _recordings_csv(tmp_path / "data.csv", 30_000, 10_000, seed=4)
    out, events = tmp_path / "out.csv", tmp_path / "events.csv"
    out.write_text("an older result\n")
    calls = []

    def fail_on_the_second(model, X, groups=None):
        calls.append(len(X))
        if len(calls) == 2:
            raise MemoryError("no room for the second piece")
        return real(model, X, groups)

    import skion.cli._files as files

    real = files.calibrated_counts
    monkeypatch.setattr(files, "calibrated_counts", fail_on_the_second)
    argv = ["predict", str(data), "--model", str(hmm_model), "--out", str(out)]
    with pytest.raises(MemoryError):
        main([*argv, "--events", str(events), "--piece-samples", "10000"])
    assert out.read_text() == "an older result\n"
    # neither the counts nor the events of the first piece are left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "out.csv"]
    # and a run that completes leaves no partial file either
    monkeypatch.setattr(files, "calibrated_counts", real)
    assert main([*argv, "--events", str(events), "--piece-samples", "10000"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "events.csv", "out.csv"]


def test_idealize_a_long_file_fits_on_spans_and_decodes_every_sample(tmp_path, capsys):
    X, y, _ = make_ion_switching(40_000, regime="3_channels", random_state=5)
    data = tmp_path / "long.csv"
    pd.DataFrame({"signal": X[:, 0].round(4)}).to_csv(data, index=False)
    runs = {}
    for size in (100_000, 10_000):
        out, summary = tmp_path / f"c{size}.csv", tmp_path / f"s{size}.json"
        argv = ["idealize", str(data), "--out", str(out), "--summary", str(summary)]
        argv += ["--sampling-rate", "10000", "--piece-samples", str(size), "--quiet"]
        assert main(argv) == 0
        runs[size] = (pd.read_csv(out)["open_channels"].to_numpy(), json.loads(summary.read_text()))
    assert "fitting on 8 spans spread through the file (10,000 of 40,000 samples)" in (
        capsys.readouterr().out
    )
    cut, whole = runs[10_000][0], runs[100_000][0]
    assert len(cut) == 40_000 and np.mean(cut == whole) > 0.99
    assert np.mean(cut == y) > 0.95
    recordings = runs[10_000][1]["recordings"]
    assert [r["n_samples"] for r in recordings] == [40_000]  # one recording, four pieces

"""idealize_files: a folder of recordings, one task per file, here or on a Dask cluster."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from skion import idealize_files
from skion.cli import main
from skion.datasets import make_patch_clamp

RATE = 10_000.0


def _write(path, seed, n_channels=2, flat=False):
    X, y, _, _ = make_patch_clamp(
        20_000, n_channels=n_channels, unitary_current=1.5, noise=0.2, random_state=seed
    )
    signal = np.random.default_rng(seed).normal(0.0, 0.2, len(X)) if flat else X[:, 0]
    time = np.arange(len(X)) / RATE
    pd.DataFrame({"time": time, "signal": signal}).to_csv(path, index=False)
    return y


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two cells (2 and 3 channels), a flat trace without openings, and a stray file."""
    folder = tmp_path_factory.mktemp("cells")
    labels = {
        "cell_a": _write(folder / "cell_a.csv", 0),
        "cell_b": _write(folder / "cell_b.csv", 1, n_channels=3),
    }
    _write(folder / "flat.csv", 2, flat=True)
    (folder / "notes.txt").write_text("not a recording")
    return folder, labels


@pytest.fixture(scope="module")
def local_report(folder, tmp_path_factory):
    return idealize_files(folder[0], tmp_path_factory.mktemp("out"))


def test_every_file_of_a_folder_is_idealized_as_skion_idealize_does_it(
    folder, local_report, tmp_path
):
    data, labels = folder
    report = local_report
    assert [Path(name).name for name in report["file"]] == [
        "cell_a.csv",
        "cell_b.csv",
        "flat.csv",
    ]  # sorted, the .txt file left out
    assert report["n_channels"].tolist()[:2] == [2, 3]
    for (_, row), name in zip(report.iloc[:2].iterrows(), labels, strict=True):
        counts = pd.read_csv(row["counts"])
        assert f1_score(labels[name], counts["open_channels"], average="macro") > 0.98
        # the same counts as the command line on that file alone
        out = tmp_path / f"{name}.csv"
        assert main(["idealize", str(data / f"{name}.csv"), "--out", str(out), "--quiet"]) == 0
        pd.testing.assert_frame_equal(pd.read_csv(out), counts)
    flat = report.iloc[2]
    assert flat["error"].startswith("ValueError: Only one current level was found")
    out_dir = Path(report["counts"].iloc[0]).parent
    assert pd.isna(flat["counts"]) and not (out_dir / "flat.csv").exists()
    assert not (out_dir / "flat.json").exists()
    assert report["error"].iloc[:2].isna().all()


def test_bad_calls_are_refused_before_any_work(folder, tmp_path):
    data, _ = folder
    with pytest.raises(FileNotFoundError, match="no such folder"):
        idealize_files(tmp_path / "missing", tmp_path / "out")
    with pytest.raises(ValueError, match="holds no recording files"):
        idealize_files(tmp_path, tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="no such file"):
        idealize_files([data / "cell_a.csv", data / "cell_c.csv"], tmp_path / "out")
    other = tmp_path / "other"
    other.mkdir()
    (other / "cell_a.csv").write_text((data / "cell_a.csv").read_text())
    with pytest.raises(ValueError, match=r"share a name.*cell_a"):
        idealize_files([data / "cell_a.csv", other / "cell_a.csv"], tmp_path / "out")
    with pytest.raises(ValueError, match="pretrained U-Net finds them itself"):
        idealize_files(data, tmp_path / "out", method="unet", n_channels=2)
    with pytest.raises(ValueError, match="client"):
        idealize_files(data, tmp_path / "out", client="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="holds recordings being idealized"):
        idealize_files(data, data)  # the counts could overwrite the recordings
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ValueError, match="is a file; give a folder"):
        idealize_files(data, tmp_path / "a_file")
    (other / "Cell_A.abf").write_text("")
    with pytest.raises(ValueError, match="share a name"):  # one output on Windows, macOS
        idealize_files([data / "cell_a.csv", other / "Cell_A.abf"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_dask_cluster_runs_one_task_per_file_with_the_same_results(
    folder, local_report, tmp_path, capsys
):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        report = idealize_files(folder[0], tmp_path, client=client, verbose=1)
        workers = len(client.scheduler_info()["workers"])
    assert workers == 2
    printed = sorted(capsys.readouterr().out.splitlines())  # as the files finish
    assert [line.split(":")[0] for line in printed] == ["cell_a.csv", "cell_b.csv", "flat.csv"]
    pd.testing.assert_series_equal(report["n_channels"], local_report["n_channels"])
    assert report["error"].iloc[2] == local_report["error"].iloc[2]
    for here, there in zip(report["counts"][:2], local_report["counts"][:2], strict=True):
        pd.testing.assert_frame_equal(pd.read_csv(here), pd.read_csv(there))


def test_a_cross_validated_search_runs_on_dask_workers_with_the_same_scores():
    # joblib's Dask backend: the pipeline pickles to the workers, groups reach the folds,
    # and the scores are those of a search in this process.
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from skion import HMMClassifier

    X, y, groups, _ = make_patch_clamp(
        30_000, n_channels=2, n_recordings=3, unitary_current=1.5, noise=0.3, random_state=3
    )
    search = GridSearchCV(
        HMMClassifier(), {"pseudo_count": [0.1, 1.0]}, cv=GroupKFold(3), scoring="f1_macro"
    )
    here = search.fit(X, y, groups=groups).cv_results_["mean_test_score"]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        parallel_config(backend="dask"),
        distributed.get_task_stream(client) as tasks,
    ):
        there = search.set_params(n_jobs=2).fit(X, y, groups=groups).cv_results_
    assert len(tasks.data) >= 6  # 2 candidates x 3 folds, fitted on the workers
    np.testing.assert_array_equal(there["mean_test_score"], here)
    assert here.min() > 0.9


def test_skion_idealize_a_folder(folder, tmp_path, capsys):
    data, _ = folder
    out = tmp_path / "idealized"
    assert main(["idealize", str(data), "--out", str(out), "--quiet"]) == 1  # flat.csv
    printed = capsys.readouterr().out
    assert "cell_a.csv: 2 channel(s), unitary current 1.5" in printed
    assert "cell_b.csv: 3 channel(s)" in printed
    assert "flat.csv: refused: ValueError: Only one current level" in printed
    assert "wrote 2 of 3 file(s)" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "cell_a.csv", "cell_a.json", "cell_b.csv", "cell_b.json"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--summary", "s.json"], "--summary names one file; with a folder as DATA"),
        (["--events", "e.csv"], "--events names one file"),
    ],
)
def test_skion_idealize_a_folder_refuses_one_file_options(folder, tmp_path, capsys, extra, message):
    status = main(["idealize", str(folder[0]), "--out", str(tmp_path / "o"), *extra])
    assert status == 1 and message in capsys.readouterr().err


def test_skion_idealize_scheduler_needs_a_folder_and_a_scheduler(folder, tmp_path, capsys):
    one = str(folder[0] / "cell_a.csv")
    assert main(["idealize", one, "--out", str(tmp_path / "a.csv"), "--scheduler", "x:1"]) == 1
    assert "give a folder as DATA" in capsys.readouterr().err
    pytest.importorskip("distributed")
    status = main(
        ["idealize", str(folder[0]), "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert status == 1 and "no Dask scheduler at tcp://127.0.0.1:1" in capsys.readouterr().err
    bad = ["idealize", str(folder[0]), "--out", str(tmp_path), "--scheduler", "tcp://h:abc"]
    assert main(bad) == 1 and "no Dask scheduler at tcp://h:abc" in capsys.readouterr().err
    unet = ["idealize", str(folder[0]), "--out", str(tmp_path), "--method", "unet"]
    assert main([*unet, "--n-channels", "2"]) == 1
    assert "--n-channels, --line-freq and --current-sign set the HMM" in capsys.readouterr().err

"""load_liverpool_csv: the Kaggle ion-switching CSV format to (X, y, groups)."""

import numpy as np
import pytest

from skion.datasets import load_liverpool_csv


def _write(path, header, rows):
    """Write ``rows`` (lists of cell strings) under ``header`` and return the path."""
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def _rows(n, *, start=0.0001, labels=True, seed=0):
    rng = np.random.default_rng(seed)
    time = start + np.arange(n) / 1e4
    y = rng.integers(0, 4, n)
    signal = y * 1.25 - 2.5 + rng.normal(0, 0.2, n)
    cells = [
        [f"{t:.4f}", f"{s:.4f}"] + ([str(c)] if labels else [])
        for t, s, c in zip(time, signal, y, strict=True)
    ]
    return cells, np.array([float(r[1]) for r in cells]), y


@pytest.fixture
def train_csv(tmp_path):
    cells, signal, y = _rows(2500)
    path = _write(tmp_path / "train.csv", "time,signal,open_channels", cells)
    return path, signal, y


def test_round_trip_train_file(train_csv):
    path, signal, y_true = train_csv
    X, y, groups = load_liverpool_csv(path, batch_size=1000)
    assert X.shape == (2500, 1) and X.dtype == np.float32
    np.testing.assert_array_equal(X[:, 0], signal.astype(np.float32))  # order kept
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, y_true)
    assert groups.dtype == np.int64
    np.testing.assert_array_equal(groups, np.arange(2500) // 1000)
    assert np.bincount(groups).tolist() == [1000, 1000, 500]  # last batch shorter


def test_str_path_and_default_batch_size(train_csv):
    path, _, _ = train_csv
    _, _, groups = load_liverpool_csv(str(path))
    assert (groups == 0).all()


def test_test_file_without_labels_starting_late(tmp_path):
    cells, signal, _ = _rows(1200, start=500.0001, labels=False)
    path = _write(tmp_path / "test.csv", "time,signal", cells)
    X, y, groups = load_liverpool_csv(path, batch_size=500)
    assert y is None
    np.testing.assert_array_equal(X[:, 0], signal.astype(np.float32))
    assert np.bincount(groups).tolist() == [500, 500, 200]


def test_column_order_and_extra_columns(tmp_path):
    rows = [[f"{0.2 + i:.1f}", "x", f"{(i + 1) / 1e4:.4f}", i % 2] for i in range(5)]
    path = _write(tmp_path / "f.csv", "signal,comment,time,open_channels", rows)
    X, y, _ = load_liverpool_csv(path)
    np.testing.assert_allclose(X[:, 0], [0.2, 1.2, 2.2, 3.2, 4.2], rtol=1e-6)
    assert y.tolist() == [0, 1, 0, 1, 0]


def test_integer_valued_float_labels_accepted(tmp_path):
    rows = [[f"{(i + 1) / 1e4:.4f}", "0.5", f"{i % 3}.0"] for i in range(6)]
    path = _write(tmp_path / "f.csv", "time,signal,open_channels", rows)
    _, y, _ = load_liverpool_csv(path)
    assert y.tolist() == [0, 1, 2, 0, 1, 2] and y.dtype == np.int64


def test_drift_batches_mask(train_csv):
    path, _, _ = train_csv
    X, _, groups, drift = load_liverpool_csv(path, batch_size=1000, drift_batches=[2, 0])
    assert drift.dtype == bool and drift.shape == (2500,)
    np.testing.assert_array_equal(drift, np.isin(groups, [0, 2]))
    X_plain, _, _ = load_liverpool_csv(path, batch_size=1000)
    np.testing.assert_array_equal(X, X_plain)  # drift_batches changes no values
    *_, none = load_liverpool_csv(path, batch_size=1000, drift_batches=np.array([], dtype=int))
    assert not none.any()


@pytest.mark.parametrize(
    ("drift_batches", "match"),
    [
        ([3], r"3 batch\(es\)"),
        ([-1], r"valid indices 0\.\.2"),
        ([1.5], "integers"),
        ([True], "integers"),
        ("1", "'drift_batches' parameter"),
        (1, "'drift_batches' parameter"),
    ],
)
def test_drift_batches_invalid(train_csv, drift_batches, match):
    path, _, _ = train_csv
    with pytest.raises(ValueError, match=match):
        load_liverpool_csv(path, batch_size=1000, drift_batches=drift_batches)


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True, "10"])
def test_batch_size_invalid(train_csv, batch_size):
    path, _, _ = train_csv
    with pytest.raises(ValueError, match="batch_size"):
        load_liverpool_csv(path, batch_size=batch_size)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_liverpool_csv(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=r"empty.csv.*empty"):
        load_liverpool_csv(path)


def test_header_only(tmp_path):
    path = _write(tmp_path / "h.csv", "time,signal,open_channels", [])
    with pytest.raises(ValueError, match="no data rows"):
        load_liverpool_csv(path)


@pytest.mark.parametrize(("header", "missing"), [("time,current", "signal"), ("t,signal", "time")])
def test_missing_columns(tmp_path, header, missing):
    path = _write(tmp_path / "c.csv", header, [["0.0001", "1.0"]])
    with pytest.raises(ValueError, match=rf"c.csv.*missing required column.*'{missing}'"):
        load_liverpool_csv(path)


@pytest.mark.parametrize(("column", "index"), [("time", 0), ("signal", 1), ("open_channels", 2)])
def test_non_numeric_value(tmp_path, column, index):
    cells, _, _ = _rows(50)
    cells[17][index] = "abc"
    path = _write(tmp_path / "bad.csv", "time,signal,open_channels", cells)
    with pytest.raises(ValueError, match=rf"bad.csv.*'{column}'.*'abc'.*row 17 \(line 19"):
        load_liverpool_csv(path)


@pytest.mark.parametrize(("column", "index"), [("time", 0), ("signal", 1), ("open_channels", 2)])
@pytest.mark.parametrize("text", ["", "NaN", "nan"])
def test_missing_value(tmp_path, column, index, text):
    cells, _, _ = _rows(50)
    cells[23][index] = text
    path = _write(tmp_path / "nan.csv", "time,signal,open_channels", cells)
    with pytest.raises(ValueError, match=rf"nan.csv.*'{column}'.*missing value.*row 23 "):
        load_liverpool_csv(path)


def test_short_row_is_a_missing_value(tmp_path):
    cells, _, _ = _rows(10)
    cells[4] = cells[4][:2]
    path = _write(tmp_path / "short.csv", "time,signal,open_channels", cells)
    with pytest.raises(ValueError, match=r"'open_channels'.*missing value.*row 4 "):
        load_liverpool_csv(path)


@pytest.mark.parametrize("all_rows", [False, True])
def test_long_row_is_malformed(tmp_path, all_rows):
    cells, _, _ = _rows(10)
    for i in range(10) if all_rows else [4]:
        cells[i] = [*cells[i], "9"]
    path = _write(tmp_path / "long.csv", "time,signal,open_channels", cells)
    with pytest.raises(ValueError, match=r"long\.csv.*malformed"):
        load_liverpool_csv(path)


def test_infinite_signal(tmp_path):
    cells, _, _ = _rows(10)
    cells[6][1] = "inf"
    path = _write(tmp_path / "inf.csv", "time,signal,open_channels", cells)
    with pytest.raises(ValueError, match=r"'signal' is not finite.*row 6 "):
        load_liverpool_csv(path)


def _gap(cells):
    del cells[30]  # a skipped sample


def _repeat(cells):
    cells.insert(30, list(cells[29]))  # a repeated time stamp


def _backwards(cells):
    cells[30][0] = f"{30 * 1e-4:.4f}"  # time goes back one step


def _20khz(cells):
    for i, cell in enumerate(cells):
        cell[0] = f"{(i + 1) / 2e4:.5f}"


@pytest.mark.parametrize(
    ("edit", "row"), [(_gap, 30), (_repeat, 30), (_backwards, 30), (_20khz, 1)]
)
def test_non_uniform_time(tmp_path, edit, row):
    cells, _, _ = _rows(60)
    edit(cells)
    path = _write(tmp_path / "t.csv", "time,signal,open_channels", cells)
    with pytest.raises(ValueError, match=rf"t.csv.*time step.*row {row} "):
        load_liverpool_csv(path)


def test_late_start_has_no_rounding_false_alarm(tmp_path):
    cells, _, _ = _rows(3000, start=699.7001)  # large times: float rounding of the step
    path = _write(tmp_path / "late.csv", "time,signal,open_channels", cells)
    X, _, _ = load_liverpool_csv(path)
    assert X.shape == (3000, 1)


@pytest.mark.parametrize("value", ["-1", "1.5", "1e12"])
def test_bad_labels(tmp_path, value):
    cells, _, _ = _rows(20)
    cells[11][2] = value
    path = _write(tmp_path / "y.csv", "time,signal,open_channels", cells)
    with pytest.raises(ValueError, match=r"y.csv.*'open_channels'.*non-negative integers.*row 11 "):
        load_liverpool_csv(path)


@pytest.mark.parametrize("header", ["time,signal ,signal", "time,signal,open_channels,signal"])
def test_a_column_named_twice_is_refused(tmp_path, header):
    # the first was used in silence, or X came out of shape (n, 1, 2)
    path = tmp_path / "twice.csv"
    path.write_text(
        header + "\n" + "\n".join(",".join(["0"] * len(header.split(","))) for _ in range(3))
    )
    with pytest.raises(ValueError, match=r"twice\.csv: the header names the column 'signal' twice"):
        load_liverpool_csv(path)

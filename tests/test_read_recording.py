"""read_recording: rate, units, channel and recordings from CSV and ABF files, or a clear error."""

import struct

import numpy as np
import pytest

from skion.datasets import read_recording


def _csv(path, text):
    path.write_text(text)
    return path


def _rows(rate, values, start=0):
    return "".join(f"{(start + i) / rate:.6f},{v}\n" for i, v in enumerate(values))


def test_rate_from_the_time_column_and_units_from_the_header(tmp_path):
    path = _csv(tmp_path / "a.csv", "time,current (nA)\n" + _rows(20_000, [0.001, 0.002, 0]))
    rec = read_recording(path)
    assert rec.sampling_rate == pytest.approx(20_000)
    assert (rec.units, rec.file_units, rec.channel_name) == ("pA", "nA", "current (nA)")
    np.testing.assert_allclose(rec.X[:, 0], [1.0, 2.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(rec.time, [0, 5e-5, 1e-4])
    assert rec.y is None and rec.recordings_marked_by is None


def test_time_in_ms_conductance_and_given_units(tmp_path):
    path = _csv(tmp_path / "g.csv", "time (ms),conductance\n0,10\n0.1,20\n0.2,10\n")
    rec = read_recording(path)
    assert rec.sampling_rate == pytest.approx(10_000) and rec.units == "pS"
    path = _csv(tmp_path / "u.csv", "time,signal\n0,1.5\n0.0001,2.5\n")
    rec = read_recording(path, units="uA")
    assert rec.file_units == "uA" and rec.X[0, 0] == pytest.approx(1.5e6)
    assert read_recording(path, units="nS").units == "pS"


@pytest.mark.parametrize(
    ("text", "rate", "columns"),
    [
        ("1.0\n2.0\n1.0\n", 5000, 1),
        ("0.0,1.0\n0.0002,2.0\n0.0004,1.0\n", None, 2),
        ("0.0,1.0,0\n0.0002,2.0,1\n0.0004,1.0,0\n", None, 3),
    ],
)
def test_headerless_csv_when_unambiguous(tmp_path, text, rate, columns):
    rec = read_recording(_csv(tmp_path / "bare.csv", text), sampling_rate=rate)
    np.testing.assert_array_equal(rec.X[:, 0], [1.0, 2.0, 1.0])
    assert rec.sampling_rate == pytest.approx(5000)
    if columns == 3:
        np.testing.assert_array_equal(rec.y, [0, 1, 0])


def test_labels_recording_column_and_time_restarting(tmp_path):
    text = "time,signal,open_channels,recording\n"
    text += "".join(f"{i / 1e4},{i % 2},{i % 2},cell{i // 3}\n" for i in range(7))
    rec = read_recording(_csv(tmp_path / "r.csv", text))
    np.testing.assert_array_equal(rec.groups, [0, 0, 0, 1, 1, 1, 2])
    assert rec.recordings_marked_by == "its 'recording' column"
    np.testing.assert_array_equal(rec.y, [0, 1, 0, 1, 0, 1, 0])
    restart = "time,signal\n" + _rows(1e4, [0, 1, 0]) + _rows(1e4, [1, 0])
    rec = read_recording(_csv(tmp_path / "t.csv", restart))
    np.testing.assert_array_equal(rec.groups, [0, 0, 0, 1, 1])
    assert rec.recordings_marked_by == "its time restarting"


def test_batch_size_blocks_are_checked_against_the_file(tmp_path):
    unmarked = _csv(tmp_path / "flat.csv", "time,signal\n" + _rows(1e4, range(8)))
    np.testing.assert_array_equal(read_recording(unmarked, batch_size=4).groups, [0] * 4 + [1] * 4)
    with pytest.warns(UserWarning, match="last one has 2"):
        read_recording(unmarked, batch_size=3)
    marked = _csv(tmp_path / "two.csv", "time,signal\n" + _rows(1e4, range(4)) * 2)
    with pytest.raises(ValueError, match=r"batch_size=2 splits a recording at row 2.*time"):
        read_recording(marked, batch_size=2)
    with pytest.raises(ValueError, match="batch_size=8 misses the recording starting at row 4"):
        read_recording(marked, batch_size=8)
    np.testing.assert_array_equal(read_recording(marked, batch_size=4).groups, [0] * 4 + [1] * 4)


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("time,signal\n0,1\n0.0001,2\n", {"units": "mV"}, "in mV, a voltage"),
        ("time,signal\n0,1\n0.0001,2\n", {"units": "furlong"}, "neither a current"),
        ("time,current (pA)\n0,1\n0.0001,2\n", {"units": "nA"}, "units='nA' disagrees"),
        ("time,signal\n0,1\n0.0001,2\n", {"sampling_rate": 20_000}, "disagrees with the time"),
        ("signal\n1\n2\n", {}, "sampling rate must be given"),
        ("time,signal\n0,1\n0.0001,2\n0.0002,1\n0.0004,1\n", {}, "not constant.*line 5"),
        ("time,voltage\n0,1\n0.0001,2\n", {}, "no signal column"),
        ("time,signal,current\n0,1,1\n0.0001,2,2\n", {}, "more than one signal column"),
        # read as labels of shape (n, 2), and a TypeError (a traceback in the CLI), before
        (
            "time,signal,open_channels,open_channels\n0,1,1,1\n0.0001,2,2,2\n",
            {},
            "'open_channels' twice",
        ),
        ("time,signal,time\n0,1,0\n0.0001,2,0.0001\n", {}, "column 'time' twice"),
        ("time,signal,Signal \n0,1,1\n0.0001,2,2\n", {}, "column 'Signal' twice"),
        ("time,signal\n0,1\n0.0001,2\n", {"channel": "Im"}, "no column 'Im'"),
        ("1,2\n1,3\n0,2\n", {}, "not a constant-rate time"),
        ("0,1,2,3\n", {}, "found 4 column"),
        ("time,signal,open_channels\n0,1,1.5\n0.0001,2,0\n", {}, "non-negative integers"),
        ("time,signal,recording\n0,1,a\n0.0001,2,b\n0.0002,2,a\n", {}, "'a' is not contig"),
        ("time,signal\n0,1\n0.0001,\n", {}, "missing value at row 1"),
        ("", {}, "empty"),
    ],
)
def test_bad_files_get_an_error_naming_the_problem(tmp_path, text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        read_recording(_csv(tmp_path / "bad.csv", text), **kwargs)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"unknown data format \.txt"):
        read_recording(_csv(tmp_path / "a.txt", "1\n"))
    with pytest.raises(FileNotFoundError, match=r"absent\.csv"):
        read_recording(tmp_path / "absent.csv")


@pytest.fixture
def pyabf():
    with np.printoptions():  # pyabf's import changes numpy's print options
        return pytest.importorskip("pyabf")


def _patch(path, fmt, offset, value):
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


def _voltage_and_current_abf(pyabf, path, voltage, current, rate):
    """A two-channel ABF1 file: channel 0 'Vm' in mV, channel 1 'Im' in nA.

    writeABF1 writes one channel: interleave two and patch the header (channel count,
    sample interval, sampling sequence, names and units per physical channel).
    """
    interleaved = np.stack([voltage, current], axis=-1).reshape(voltage.shape[0], -1)
    pyabf.abfWriter.writeABF1(interleaved, str(path), rate, "pA")
    _patch(path, "h", 120, 2)
    _patch(path, "f", 122, 1e6 / (2 * rate))
    _patch(path, "h", 412, 1)
    for physical, (name, unit) in enumerate([(b"Vm", b"mV"), (b"Im", b"nA")]):
        _patch(path, "10s", 442 + 10 * physical, name)
        _patch(path, "8s", 602 + 8 * physical, unit)


def test_abf_default_channel_is_the_first_current_and_nA_becomes_pA(pyabf, tmp_path):
    rng = np.random.default_rng(0)
    voltage = rng.uniform(-5, 5, size=(2, 1000))
    current = rng.choice([0.0, 0.002, 0.004], size=(2, 1000))
    path = tmp_path / "cell.abf"
    _voltage_and_current_abf(pyabf, path, voltage, current, 10_000)
    rec = read_recording(path)
    assert (rec.channel_name, rec.file_units, rec.units) == ("Im", "nA", "pA")
    assert rec.recordings_marked_by == "its sweeps" and rec.sampling_rate == 10_000
    lsb = 10 / 2**15 * 1000  # the writer's 16-bit step for values up to 5, in pA
    np.testing.assert_allclose(rec.X[:, 0], current.ravel() * 1000, atol=lsb)
    np.testing.assert_array_equal(np.bincount(rec.groups), [1000, 1000])
    assert read_recording(path, channel="Im").channel_name == "Im"
    with pytest.raises(ValueError, match="Vm is in mV, a voltage"):
        read_recording(path, channel=0)
    with pytest.raises(ValueError, match=r"no channel named 'I'.*'Vm', 'Im'"):
        read_recording(path, channel="I")
    with pytest.raises(ValueError, match="disagrees with the file"):
        read_recording(path, sampling_rate=20_000)


def test_an_abf_without_a_current_channel_is_refused(pyabf, tmp_path):
    path = tmp_path / "vc.abf"
    pyabf.abfWriter.writeABF1(np.zeros((1, 2000)), str(path), 10_000, "mV")
    with pytest.raises(ValueError, match=r"no channel holds a current.*0 'IN 0' \(mV\)"):
        read_recording(path)

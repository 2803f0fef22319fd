"""read_abf: Axon Binary Format files (written here with pyabf's ABF1 writer)."""

import struct
import sys

import numpy as np
import pytest

from skion.datasets import read_abf

# pyabf 2.3 reads ABF1 header fields up to byte 5806, but its writer reserves only 2048 bytes
# of header, so files it writes are readable only with at least 1792 samples in all.
N_POINTS = 1000


@pytest.fixture
def pyabf():
    # pyabf's import calls np.set_printoptions(threshold=5, ...), which would break the
    # doctests that run after this file; keep the session's print options.
    with np.printoptions():
        return pytest.importorskip("pyabf")


def _lsb(data):
    """Quantisation step of ``pyabf.abfWriter.writeABF1`` for ``data`` (its own scale rule).

    The writer picks the largest ``fInstrumentScaleFactor`` in 10, 1, 0.1, ... that fits
    ``max|data|`` into int16 and stores ``int(value * scale)``: truncation toward zero, so
    a value read back is off by less than one step (not half a step).
    """
    factor, max_abs = 100.0, np.max(np.abs(data))
    for _ in range(10):
        factor /= 10
        scale = 2**15 / 10 * factor
        if 32767 / scale >= max_abs:
            break
    return 1 / scale


def _patch(path, fmt, offset, value):
    """Overwrite one ABF1 header field in place."""
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("amplitude", [0.9, 7.0, 250.0])
def test_round_trip_sweeps(pyabf, tmp_path, amplitude):
    rng = np.random.default_rng(0)
    sweeps = rng.uniform(-amplitude, amplitude, size=(3, N_POINTS))
    path = tmp_path / "sweeps.abf"
    pyabf.abfWriter.writeABF1(sweeps, str(path), 10_000, "pA")

    X, rate, groups = read_abf(path)
    assert X.shape == (3 * N_POINTS, 1) and X.dtype == np.float32
    assert isinstance(rate, float) and rate == 10_000.0
    assert groups.dtype == np.int64
    np.testing.assert_array_equal(groups, np.repeat([0, 1, 2], N_POINTS))
    error = np.abs(X[:, 0].astype(np.float64) - sweeps.ravel())
    assert error.max() < _lsb(sweeps) * (1 + 1e-5)


def test_single_sweep_rate_and_str_path(pyabf, tmp_path):
    signal = np.sin(np.linspace(0, 30, 2500))[None, :]
    path = tmp_path / "gapfree.abf"
    pyabf.abfWriter.writeABF1(signal, str(path), 20_000, "pA")
    X, rate, groups = read_abf(str(path))
    assert rate == 20_000.0
    assert (groups == 0).all() and X.shape == (2500, 1)
    np.testing.assert_allclose(X[:, 0], signal[0], atol=_lsb(signal) * (1 + 1e-5), rtol=0)


def _two_channel_file(pyabf, path, c0, c1, rate):
    """writeABF1 writes one channel; interleave two and patch the header to say two.

    Both channels share the writer's scaling (chosen from the larger one).
    """
    interleaved = np.stack([c0, c1], axis=-1).reshape(c0.shape[0], -1)
    pyabf.abfWriter.writeABF1(interleaved, str(path), rate, "pA")
    _patch(path, "h", 120, 2)  # nADCNumChannels
    _patch(path, "f", 122, 1e6 / (2 * rate))  # fADCSampleInterval: between any two samples
    _patch(path, "h", 410 + 2, 1)  # nADCSamplingSeq[1]: second slot is ADC 1


def test_channel_selection(pyabf, tmp_path):
    rng = np.random.default_rng(1)
    c0 = rng.uniform(-5, 5, size=(2, N_POINTS))
    c1 = rng.uniform(-50, 50, size=(2, N_POINTS))
    path = tmp_path / "two.abf"
    _two_channel_file(pyabf, path, c0, c1, 10_000)
    tol = _lsb(np.stack([c0, c1])) * (1 + 1e-5)
    for channel, expected in [(0, c0), (1, c1)]:
        X, rate, groups = read_abf(path, channel=channel)
        assert rate == 10_000.0
        np.testing.assert_array_equal(groups, np.repeat([0, 1], N_POINTS))
        np.testing.assert_allclose(X[:, 0], expected.ravel(), atol=tol, rtol=0)
    with pytest.raises(ValueError, match=r"two.abf.*channel 2.*2 channel\(s\)"):
        read_abf(path, channel=2)


@pytest.mark.parametrize("channel", [1, -1])
def test_channel_out_of_range(pyabf, tmp_path, channel):
    path = tmp_path / "one.abf"
    pyabf.abfWriter.writeABF1(np.zeros((1, 2000)), str(path), 10_000, "pA")
    with pytest.raises(ValueError, match=rf"channel {channel} is out of range.*1 channel\(s\)"):
        read_abf(path, channel=channel)


@pytest.mark.parametrize("channel", ["0", 0.0, True, None])
def test_channel_not_an_integer(channel):
    with pytest.raises(ValueError, match="'channel' parameter of read_abf"):
        read_abf("irrelevant.abf", channel=channel)


def test_missing_file(pyabf, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"absent\.abf"):
        read_abf(tmp_path / "absent.abf")


def test_file_without_samples(pyabf, tmp_path):
    # writeABF1 refuses empty data (it takes the max of it), so empty the header's counts.
    path = tmp_path / "empty.abf"
    pyabf.abfWriter.writeABF1(np.zeros((1, 2000)), str(path), 10_000, "pA")
    _patch(path, "i", 10, 0)  # lActualAcqLength
    _patch(path, "i", 16, 0)  # lActualEpisodes
    _patch(path, "i", 138, 0)  # lNumSamplesPerEpisode
    with pytest.raises(ValueError, match=r"empty\.abf.*no samples"):
        read_abf(path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: raw[:100], r"not a readable ABF file.*struct\.error"),
        (lambda raw: raw[: len(raw) // 2], r"not a readable ABF file"),
        (lambda raw: b"", r"not a readable ABF file.*NotImplementedError"),
        (lambda raw: b"ABF " + bytes(range(256)) * 20, r"damaged ABF header: .* sweeps"),
    ],
)
def test_a_damaged_file_is_a_one_line_error_that_names_it(pyabf, tmp_path, damage, message):
    # pyabf raised struct.error ("unpack requires a buffer of 2 bytes") without the file
    path = tmp_path / "damaged.abf"
    pyabf.abfWriter.writeABF1(np.zeros((2, 2000)), str(path), 10_000, "pA")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=r"damaged\.abf: " + message):
        read_abf(path)


@pytest.mark.parametrize("episodes", [0, 1000])
def test_a_sweep_count_that_does_not_fit_the_data_is_refused(pyabf, tmp_path, episodes):
    # lActualEpisodes=1000 read 4000 samples as 1000 sweeps of 4; 0 as one sweep of 4000
    path = tmp_path / "crafted.abf"
    pyabf.abfWriter.writeABF1(np.zeros((2, 2000)), str(path), 10_000, "pA")
    _patch(path, "i", 16, episodes)  # lActualEpisodes
    with pytest.raises(ValueError, match=r"damaged ABF header: .* episodes of 2000 samples"):
        read_abf(path)


def test_import_keeps_numpy_print_options(pyabf, tmp_path, monkeypatch):
    path = tmp_path / "p.abf"
    pyabf.abfWriter.writeABF1(np.zeros((1, 2000)), str(path), 10_000, "pA")
    for name in [m for m in sys.modules if m == "pyabf" or m.startswith("pyabf.")]:
        monkeypatch.delitem(sys.modules, name)  # read_abf imports pyabf afresh; restored after
    before = np.get_printoptions()
    read_abf(path)
    assert "pyabf.tools.abfHeaderDisplay" in sys.modules  # the module that changes them ran
    assert np.get_printoptions() == before


def test_missing_pyabf_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyabf", None)  # makes `import pyabf` fail
    with pytest.raises(ImportError, match=r'pip install "skion\[abf\]"'):
        read_abf(tmp_path / "any.abf")


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "message"),
    [
        (122, "f", -100.0, r"sampling rate of -10000 Hz"),  # fADCSampleInterval (µs)
        (122, "f", 0.0, r"ZeroDivisionError"),
        (10, "i", -5, r"damaged ABF header: 2 sweep\(s\) of -2 samples"),  # lActualAcqLength
        (16, "i", 10**8, r"100,000,000 sweeps in a file of"),  # a minute, then MemoryError
    ],
    ids=["negative interval", "zero interval", "negative length", "1e8 sweeps"],
)
def test_a_crafted_header_is_refused_in_one_line(pyabf, tmp_path, offset, fmt, value, message):
    # a negative interval was read as a rate of -10,000 Hz; a negative length was a bare
    # AssertionError from pyabf (a traceback in the command line)
    path = tmp_path / "crafted.abf"
    pyabf.abfWriter.writeABF1(np.zeros((2, 2000)), str(path), 10_000, "pA")
    _patch(path, fmt, offset, value)
    with pytest.raises(ValueError, match=r"crafted\.abf: .*" + message):
        read_abf(path)

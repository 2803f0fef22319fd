"""Formats read through neo (WinEDR, WinWCP, AxoGraph, NIX, Spike2): files the tests write,
read back, and a public Spike2 sample file.

The WinEDR, WinWCP and AxoGraph writers below follow the formats' published layouts (the
Strathclyde Electrophysiology Software file formats; AxoGraph's file format notes), as
neo's readers parse them; NIX files are written by neo itself. neo has no Spike2 writer:
the Spike2 tests read neo's own sample file (tests/data/README.md).
"""

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from skion.cli import main
from skion.datasets import make_patch_clamp, read_recording

neo = pytest.importorskip("neo")

ADCMAX = 32767


def _header(fields, size):
    text = "".join(f"{key}={value}\r\n" for key, value in fields.items()).encode("ascii")
    assert len(text) <= size
    return text.ljust(size, b"\x00")


def write_edr(path, raw, *, dt, names, units, ycf, ad=10.0):
    """A WinEDR file: a 2048-byte text header, then int16 samples, channels interleaved.

    A value is ``(raw - YZ) * AD / (YCF * YAG * (ADCMAX + 1))``: ``ycf`` is each channel's
    calibration in V per unit (zero YZ, unit gain YAG).
    """
    n_samples, n_channels = raw.shape
    fields = {
        "VER": 6,
        "NC": n_channels,
        "NP": n_samples * n_channels,
        "NBH": 2048,
        "ADCMAX": ADCMAX,
        "AD": ad,
        "DT": dt,
    }
    for c in range(n_channels):
        fields |= {
            f"YN{c}": names[c],
            f"YU{c}": units[c],
            f"YCF{c}": ycf[c],
            f"YAG{c}": 1.0,
            f"YZ{c}": 0,
            f"YO{c}": c,
        }
    with open(path, "wb") as f:
        f.write(_header(fields, 2048))
        f.write(np.ascontiguousarray(raw, dtype="<i2").tobytes())


def write_wcp(path, records, *, dt, names, units, vmax=10.0):
    """A WinWCP file: a 1024-byte text header, then per record a 1024-byte analysis block
    (status, type, group, time, sampling interval, the ADC's range per channel) and int16
    samples, channels interleaved; a value is ``raw * VMax / ADCMAX / YG`` (YG = 1).
    """
    n_samples, n_channels = records[0].shape
    sectors = -(-n_samples * n_channels * 2 // 512)  # 512-byte sectors per record
    fields = {
        "VER": 9,
        "RTIME": "04/12/2026 09:00:00",
        "NC": n_channels,
        "NR": len(records),
        "NBH": 2,
        "NBA": 2,
        "NBD": sectors,
        "AD": vmax,
        "ADCMAX": ADCMAX,
        "NP": n_samples,
        "DT": dt,
        "NZ": 0,
    }
    for c in range(n_channels):
        fields |= {f"YN{c}": names[c], f"YU{c}": units[c], f"YG{c}": 1.0, f"YZ{c}": 0, f"YO{c}": c}
    with open(path, "wb") as f:
        f.write(_header(fields, 1024))
        for index, raw in enumerate(records):
            vmax_all = [vmax] * n_channels + [0.0] * (8 - n_channels)
            analysis = struct.pack(
                "<8s4sfff8f", b"ACCEPTED", b"TEST", 1.0, index * 1.0, dt, *vmax_all
            )
            f.write(analysis.ljust(1024, b"\x00"))
            f.write(np.ascontiguousarray(raw, dtype="<i2").tobytes().ljust(512 * sectors, b"\x00"))


def _axg_string(text):
    data = text.encode("utf-16-be")
    return struct.pack(">l", len(data)) + data


def write_axgx(path, values, *, dt, title):
    """An AxoGraph X file (format 6, big-endian): a time column as a series (first value,
    increment), one float column titled ``title`` (e.g. ``"Current (pA)"``), no traces."""
    with open(path, "wb") as f:
        f.write(b"axgx" + struct.pack(">ll", 6, 2))
        f.write(struct.pack(">ll", len(values), 9) + _axg_string("Time (s)"))
        f.write(struct.pack(">dd", 0.0, dt))
        f.write(struct.pack(">ll", len(values), 6) + _axg_string(title))
        f.write(np.asarray(values, dtype=">f4").tobytes())
        f.write(_axg_string("") + _axg_string("") + struct.pack(">l", 0))  # comment, notes


def write_nix(path, segments, *, rate, units, name="Im"):
    """A NIX file written by neo: one segment per recording."""
    pytest.importorskip("nixio")
    import quantities as pq

    block = neo.Block()
    for values in segments:
        segment = neo.Segment()
        segment.analogsignals.append(
            neo.AnalogSignal(values[:, None], units=units, sampling_rate=rate * pq.Hz, name=name)
        )
        block.segments.append(segment)
    with neo.NixIO(str(path), mode="ow") as io:
        io.write_block(block)


@pytest.fixture(scope="module")
def recording():
    """Two recordings of three channels, 20 kHz, inward 2 pA current."""
    X, y, groups, _ = make_patch_clamp(
        8_000,
        n_channels=3,
        n_recordings=2,
        unitary_current=-2.0,
        offset=1.0,
        noise=0.3,
        sampling_rate=20_000.0,
        random_state=0,
    )
    return X[:, 0].astype(np.float64), y, groups


def test_winedr_reads_the_current_channel_in_pa(tmp_path, recording):
    X, _, groups = recording
    current = X[groups == 0]
    ycf = 10.0 / 50.0  # V per pA: +-50 pA over the +-10 V converter
    raw = np.stack(
        [
            np.round(np.full_like(current, -60.0) * 0.01 / 10.0 * ADCMAX),
            np.round(current * ycf / 10.0 * (ADCMAX + 1)),
        ],
        axis=1,
    )
    path = tmp_path / "cell.EDR"
    write_edr(path, raw, dt=5e-5, names=["Vm", "Im"], units=["mV", "pA"], ycf=[0.01, ycf])
    rec = read_recording(path)
    assert rec.channel_name == "Im" and rec.units == "pA" and rec.file_units == "pA"
    assert rec.sampling_rate == pytest.approx(20_000.0)
    assert rec.recordings_marked_by is None and not rec.groups.any()
    # 16-bit resolution: 100 pA over 65536 codes
    np.testing.assert_allclose(rec.X[:, 0], current, atol=100 / 65536 + 1e-6)
    with pytest.raises(ValueError, match=r"cell\.EDR: Vm is in mV, a voltage"):
        read_recording(path, channel="Vm")
    with pytest.raises(ValueError, match="channel 2 is out of range; the file has 2 channel"):
        read_recording(path, channel=2)
    with pytest.raises(ValueError, match="sampling_rate=10000 Hz disagrees with the file"):
        read_recording(path, sampling_rate=10_000)


def test_winwcp_records_are_recordings_and_na_becomes_pa(tmp_path, recording):
    X, _, groups = recording
    records = [X[groups == g] / 1000.0 for g in (0, 1)]  # in nA
    scale = ADCMAX / 10.0 * 100  # +-10 V holds +-0.1 nA
    raw = [np.round(r * scale)[:, None] for r in records]
    path = tmp_path / "sweeps.wcp"
    write_wcp(path, raw, dt=5e-5, names=["Im"], units=["nA"], vmax=10.0 / 100)
    rec = read_recording(path)
    assert rec.units == "pA" and rec.file_units == "nA" and rec.recordings_marked_by == "its sweeps"
    assert rec.sampling_rate == pytest.approx(20_000.0)
    np.testing.assert_array_equal(rec.groups, groups)
    np.testing.assert_allclose(rec.X[:, 0], X, atol=1000 / scale + 1e-4)


def test_axograph_reads_a_titled_column(tmp_path, recording):
    X, _, groups = recording
    path = tmp_path / "cell.axgx"
    write_axgx(path, X[groups == 1], dt=5e-5, title="Current (pA)")
    rec = read_recording(path)
    assert rec.channel_name == "Current" and rec.units == "pA"
    assert rec.sampling_rate == pytest.approx(20_000.0)
    np.testing.assert_allclose(rec.X[:, 0], X[groups == 1], rtol=1e-6, atol=1e-6)


def test_nix_segments_are_recordings(tmp_path, recording):
    X, _, groups = recording
    path = tmp_path / "cell.nix"
    write_nix(path, [X[groups == g] for g in (0, 1)], rate=20_000.0, units="pA")
    rec = read_recording(path)
    assert rec.channel_name == "Im" and rec.units == "pA"
    np.testing.assert_array_equal(rec.groups, groups)
    np.testing.assert_allclose(rec.X[:, 0], X, rtol=1e-6, atol=1e-6)


def test_a_damaged_file_is_named_in_one_line(tmp_path):
    path = tmp_path / "broken.wcp"
    path.write_bytes(b"VER=9\r\nNC=1\r\n")  # a header cut short
    with pytest.raises(ValueError, match=r"broken.wcp: not a readable WinWCP"):
        read_recording(path)
    assert main(["idealize", str(path), "--out", str(tmp_path / "o.csv")]) == 1


def test_without_neo_the_error_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "cell.edr"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "neo.rawio", None)
    with pytest.raises(ImportError, match=r'WinEDR .* pip install "skion\[neo\]"'):
        read_recording(path)


def test_the_command_line_idealizes_a_winedr_file(tmp_path, capsys):
    X, y, _, _ = make_patch_clamp(
        30_000, kinetics="fast", n_channels=2, unitary_current=1.5, noise=0.3, random_state=3
    )
    path = tmp_path / "cell.edr"
    write_edr(
        path,
        np.round(X * 0.2 / 10.0 * (ADCMAX + 1)),
        dt=1e-4,
        names=["Im"],
        units=["pA"],
        ycf=[0.2],
    )
    out = tmp_path / "counts.csv"
    assert main(["idealize", str(path), "--out", str(out)]) == 0
    counts = np.loadtxt(out, delimiter=",", skiprows=1)[:, 1]
    assert (counts == y).mean() > 0.95


SPIKE2 = Path(__file__).parent / "data" / "spike2_respiration.smr"


def _spike2_in_pa(tmp_path):
    """The sample file with its waveform's unit changed from Volts to pA (the SON channel
    header stores it as a 5-character Pascal string), so that it holds a current."""
    data = SPIKE2.read_bytes()
    assert data.count(b"\x05Volts") >= 1
    path = tmp_path / "respiration_pa.smr"
    path.write_bytes(data.replace(b"\x05Volts", b"\x02pA   "))
    return path


def test_a_spike2_file_without_a_current_is_refused_with_its_channels():
    with pytest.raises(ValueError, match=r"no channel holds a current .*'Respi' \(Volts\)"):
        read_recording(SPIKE2)
    with pytest.raises(ValueError, match=r"unit 'Volts'.* neither a current"):
        read_recording(SPIKE2, channel="Respi")


def test_a_spike2_waveform_in_pa_is_read_with_its_rate(tmp_path):
    path = _spike2_in_pa(tmp_path)
    rec = read_recording(path)
    assert rec.channel_name == "Respi" and rec.units == "pA"
    assert rec.sampling_rate == pytest.approx(200.80321285)
    assert rec.X.shape == (45_688, 1) and np.all(rec.groups == 0)
    reader = neo.rawio.Spike2RawIO(filename=str(path))
    reader.parse_header()
    raw = reader.get_analogsignal_chunk(0, 0, stream_index=0, channel_indexes=[0])
    expected = reader.rescale_signal_raw_to_float(raw, dtype="float64", stream_index=0)
    np.testing.assert_allclose(rec.X[:, 0], expected[:, 0], rtol=1e-6)
    assert np.ptp(rec.X) > 0  # a real trace, not a constant

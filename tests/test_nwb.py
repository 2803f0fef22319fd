"""Neurodata Without Borders files, written by pynwb in the tests and read back."""

import sys
from datetime import datetime, timezone

import numpy as np
import pytest

from skion.cli import main
from skion.datasets import make_patch_clamp, read_recording

pynwb = pytest.importorskip("pynwb")
from pynwb.icephys import CurrentClampSeries, VoltageClampSeries  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    # pynwb's writer stores sweep numbers as unsigned integers and says so
    "ignore:Spec 'VoltageClampSeries/sweep_number'",
    "ignore:Spec 'CurrentClampSeries/sweep_number'",
)


def new_file():
    nwb = pynwb.NWBFile(
        session_description="skion test",
        identifier="skion-test",
        session_start_time=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    device = nwb.create_device(name="amplifier")
    return nwb, device


def electrode(nwb, device, name):
    return nwb.create_icephys_electrode(name=name, description="patch pipette", device=device)


def voltage_clamp(name, data, elec, *, sweep=None, conversion=1e-12, offset=0.0, **timing):
    """A sweep of a voltage clamp; ``timing`` is ``rate=`` (default 20 kHz, starting at
    ``sweep`` s) or ``timestamps=``."""
    if "timestamps" not in timing:
        timing = {"rate": 20_000.0, "starting_time": float(sweep or 0)} | timing
    return VoltageClampSeries(
        name=name,
        data=data,
        gain=1.0,
        electrode=elec,
        sweep_number=sweep,
        conversion=conversion,
        offset=offset,
        unit="amperes",
        **timing,
    )


def write(path, nwb):
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def test_sweeps_of_an_electrode_are_recordings_in_pa(tmp_path):
    # stored in file order 2, 0, 1 as int16 counts of 0.5 pA with an offset of 3 pA
    nwb, device = new_file()
    elec = electrode(nwb, device, "elec0")
    sweeps = {i: np.arange(5, dtype=np.int16) + 10 * i for i in (2, 0, 1)}
    for i, counts in sweeps.items():
        nwb.add_acquisition(
            voltage_clamp(f"sweep_{i}", counts, elec, sweep=i, conversion=0.5e-12, offset=3e-12)
        )
    write(tmp_path / "cell.nwb", nwb)
    rec = read_recording(tmp_path / "cell.nwb")
    expected = np.concatenate([sweeps[i] * 0.5 + 3.0 for i in (0, 1, 2)])
    np.testing.assert_allclose(rec.X[:, 0], expected, rtol=1e-6)
    np.testing.assert_array_equal(rec.groups, np.repeat([0, 1, 2], 5))
    assert rec.sampling_rate == 20_000.0
    assert (rec.units, rec.file_units, rec.channel_name) == ("pA", "A", "elec0")
    assert rec.recordings_marked_by == "its sweeps"


def test_the_default_channel_is_the_first_current_and_others_are_named(tmp_path):
    nwb, device = new_file()
    held = electrode(nwb, device, "clamped")
    nwb.add_acquisition(
        CurrentClampSeries(
            name="voltage",
            data=np.zeros(4),
            electrode=electrode(nwb, device, "current clamp"),
            rate=10_000.0,
            sweep_number=0,
            unit="volts",
        )
    )
    nwb.add_acquisition(voltage_clamp("current", np.ones(4), held, sweep=0, rate=10_000.0))
    nwb.add_acquisition(
        pynwb.TimeSeries(name="pipette", data=np.full(4, 20.0), unit="siemens", rate=10.0e3)
    )
    path = tmp_path / "mixed.nwb"
    write(path, nwb)
    assert read_recording(path).channel_name == "clamped"
    rec = read_recording(path, channel="pipette")
    assert rec.units == "pS" and rec.X[0, 0] == pytest.approx(20e12)
    with pytest.raises(ValueError, match=r"mixed\.nwb: current clamp is in V, a voltage"):
        read_recording(path, channel="current clamp")
    listed = r"the file has \['clamped', 'pipette', 'current clamp'\]\."  # by series name
    with pytest.raises(ValueError, match=listed):
        read_recording(path, channel="elec9")


def test_time_stamps_give_the_rate_and_must_be_constant(tmp_path):
    nwb, device = new_file()
    elec = electrode(nwb, device, "elec0")
    nwb.add_acquisition(
        voltage_clamp("even", np.ones(100), elec, timestamps=5.0 + np.arange(100) / 50_000.0)
    )
    write(tmp_path / "even.nwb", nwb)
    assert read_recording(tmp_path / "even.nwb").sampling_rate == pytest.approx(50_000.0)
    with pytest.raises(ValueError, match="sampling_rate=5000 Hz disagrees with the file"):
        read_recording(tmp_path / "even.nwb", sampling_rate=5_000.0)

    nwb, device = new_file()
    stamps = np.concatenate([np.arange(50), 60 + np.arange(50)]) / 50_000.0
    elec = electrode(nwb, device, "elec0")
    nwb.add_acquisition(voltage_clamp("gap", np.ones(100), elec, timestamps=stamps))
    write(tmp_path / "gap.nwb", nwb)
    with pytest.raises(ValueError, match="series 'gap' is not sampled at a constant rate"):
        read_recording(tmp_path / "gap.nwb")


def test_sweeps_at_different_rates_are_refused(tmp_path):
    nwb, device = new_file()
    elec = electrode(nwb, device, "elec0")
    nwb.add_acquisition(voltage_clamp("a", np.ones(5), elec, sweep=0, rate=10_000.0))
    nwb.add_acquisition(voltage_clamp("b", np.ones(5), elec, sweep=1, rate=20_000.0))
    write(tmp_path / "rates.nwb", nwb)
    with pytest.raises(ValueError, match="'elec0' are sampled at different rates"):
        read_recording(tmp_path / "rates.nwb")


def test_a_file_without_a_series_or_not_nwb_is_named_in_one_line(tmp_path):
    nwb, _ = new_file()
    write(tmp_path / "empty.nwb", nwb)
    with pytest.raises(ValueError, match=r"empty.nwb: no one-dimensional series .*empty\)"):
        read_recording(tmp_path / "empty.nwb")
    (tmp_path / "text.nwb").write_text("not hdf5")
    with pytest.raises(ValueError, match=r"text.nwb: not a readable NWB file \(") as caught:
        read_recording(tmp_path / "text.nwb")
    assert "\n" not in str(caught.value)


def test_without_pynwb_the_error_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "cell.nwb").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "pynwb", None)  # makes `import pynwb` fail
    with pytest.raises(ImportError, match=r'cell.nwb: .*pip install "skion\[nwb\]"'):
        read_recording(tmp_path / "cell.nwb")


def test_the_command_line_idealizes_an_nwb_file(tmp_path):
    X, y, groups, _ = make_patch_clamp(
        30_000,
        kinetics="fast",
        n_channels=2,
        unitary_current=-1.5,
        noise=0.3,
        n_recordings=2,
        random_state=4,
    )
    nwb, device = new_file()
    elec = electrode(nwb, device, "elec0")
    for i in (0, 1):  # float32 amperes, as many acquisition programs store them
        current = (X[groups == i, 0] * 1e-12).astype(np.float32)
        nwb.add_acquisition(
            voltage_clamp(f"sweep_{i}", current, elec, sweep=i, rate=10_000.0, conversion=1.0)
        )
    write(tmp_path / "cell.nwb", nwb)
    out = tmp_path / "counts.csv"
    assert main(["idealize", str(tmp_path / "cell.nwb"), "--out", str(out)]) == 0
    counts = np.loadtxt(out, delimiter=",", skiprows=1)[:, 1]
    assert (counts == y).mean() > 0.95

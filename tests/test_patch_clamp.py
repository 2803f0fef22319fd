"""make_patch_clamp: rigs' conditions, exact labels, true baseline, and the oracle."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from skion.datasets import make_patch_clamp, oracle_proba


def test_levels_sign_offset_and_rate_follow_the_parameters():
    X, y, groups, baseline = make_patch_clamp(
        200_000,
        n_channels=3,
        kinetics="bursting",
        sampling_rate=20_000,
        unitary_current=-2.0,
        offset=5.0,
        noise=0.1,
        random_state=0,
    )
    assert X.shape == (200_000, 1) and X.dtype == np.float32
    np.testing.assert_allclose(baseline, 5.0)
    for k in range(4):
        assert abs(X[y == k, 0].mean() - (5.0 - 2.0 * k)) < 0.01
    assert np.all(groups == 0)


def test_same_seed_same_data_and_recordings_differ():
    a = make_patch_clamp(
        50_000,
        n_recordings=2,
        drift="random_walk",
        drift_amplitude=3,
        hum_amplitude=0.2,
        random_state=4,
    )
    b = make_patch_clamp(
        50_000,
        n_recordings=2,
        drift="random_walk",
        drift_amplitude=3,
        hum_amplitude=0.2,
        random_state=4,
    )
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    _X, _y, groups, baseline = a
    assert np.bincount(groups).tolist() == [25_000, 25_000]
    assert not np.allclose(baseline[:25_000], baseline[25_000:])


@pytest.mark.parametrize("drift", ["ramp", "sine", "random_walk"])
def test_drift_spans_its_amplitude(drift):
    _, _, _, baseline = make_patch_clamp(100_000, drift=drift, drift_amplitude=3.0, random_state=1)
    assert 2.9 < np.ptp(baseline) <= 3.0 + 1e-9


def test_hum_harmonics_and_filter():
    _X, _y, _, baseline, (_model,) = make_patch_clamp(
        100_000,
        hum_amplitude=0.5,
        hum_harmonics=(0.25,),
        noise=0.01,
        random_state=2,
        return_model=True,
    )
    spectrum = np.abs(np.fft.rfft(baseline))
    freqs = np.fft.rfftfreq(len(baseline), 1e-4)
    assert set(freqs[np.argsort(spectrum)[-2:]].round().tolist()) == {50.0, 100.0}
    raw, _, _, _ = make_patch_clamp(100_000, noise=0.5, random_state=3)
    filtered, _, _, _ = make_patch_clamp(100_000, noise=0.5, filter_cutoff=1_000, random_state=3)
    # a 1 kHz 4-pole Bessel filter at 10 kHz keeps about a fifth of the white-noise power
    ratio = np.var(np.diff(filtered[:, 0])) / np.var(np.diff(raw[:, 0]))
    assert ratio < 0.1


def test_oracle_is_exact_for_unfiltered_and_refuses_filtered():
    X, y, _groups, _, model = make_patch_clamp(
        60_000,
        n_channels=2,
        kinetics="slow",
        unitary_current=-1.0,
        noise=0.3,
        sampling_rate=5_000,
        return_model=True,
        random_state=5,
    )
    proba = oracle_proba(X, model, n_classes=3)
    assert f1_score(y, proba.argmax(axis=1), average="macro") > 0.97
    *_, filtered = make_patch_clamp(1000, filter_cutoff=1000, return_model=True, random_state=0)
    with pytest.raises(ValueError, match="unfiltered"):
        oracle_proba(np.zeros((1000, 1)), filtered)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unitary_current": 0.0}, "unitary_current must not be zero"),
        ({"filter_cutoff": 6000.0}, "Nyquist"),
        ({"hum_amplitude": 0.1, "line_freq": 60.0, "sampling_rate": 100.0}, "Nyquist"),
        ({"n_recordings": 20}, "fewer than one row per recording"),
        ({"noise": -1.0}, "noise"),
        ({"drift": "wobble"}, "drift"),
        ({"hum_harmonics": (float("nan"),)}, "hum_harmonics"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_patch_clamp(10, **kwargs)


def test_rigs_follow_their_conditions_rig_by_rig():
    from skion.datasets import RIGS, make_rigs

    X, y, groups, models = make_rigs(80_000, recordings_per_rig=2, random_state=3)
    assert X.shape == (80_000, 1) and len(models) == 2 * len(RIGS)
    assert [m.regime for m in models] == [rig for rig in RIGS for _ in range(2)]
    for i, m in enumerate(models):
        conditions = RIGS[m.regime]
        np.testing.assert_array_equal(groups[m.start : m.stop], i)
        assert m.step == conditions["unitary_current"]
        assert m.filter_cutoff == conditions.get("filter_cutoff")
        assert y[m.start : m.stop].max() <= conditions["n_channels"]
    again = make_rigs(80_000, recordings_per_rig=2, random_state=3)
    np.testing.assert_array_equal(X, again[0])
    with pytest.raises(ValueError, match="fewer than one row per recording"):
        make_rigs(7)

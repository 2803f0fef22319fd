"""LatticeScaler: open-channel units per recording, calibrated without labels."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skion import LatticeScaler
from skion.datasets import make_patch_clamp
from skion.exceptions import RigMismatchWarning


def _rig(unitary_current, offset, noise, *, n_channels=2, seed=0, kinetics="slow", **kwargs):
    return make_patch_clamp(
        60_000,
        kinetics=kinetics,
        n_channels=n_channels,
        n_recordings=2,
        unitary_current=unitary_current,
        offset=offset,
        noise=noise,
        random_state=seed,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("unitary_current", "offset", "kinetics", "drift"),
    [(1.2, 0.0, "slow", "none"), (-2.4, 5.0, "fast", "ramp"), (0.7, -3.0, "fast", "sine")],
)
def test_counts_read_as_units_on_any_rig(unitary_current, offset, kinetics, drift):
    # drift of two steps within 3 s: gating must be fast against it to tell them apart
    # (slow gating shows a handful of dwells in 3 s; see the Notes)
    X, y, groups, baseline = _rig(
        unitary_current,
        offset,
        0.15 * abs(unitary_current),
        kinetics=kinetics,
        drift=drift,
        drift_amplitude=2 * abs(unitary_current),
    )
    scaler = LatticeScaler().fit(X, groups=groups)
    units = scaler.transform(X, groups=groups)[:, 0]
    assert np.mean(np.round(units) == y) > 0.99  # rounding loses 0.1 % at noise 0.15
    table = scaler.recordings_
    assert list(table["start"]) == [0, 30_000]
    assert np.allclose(table["unitary_current"], unitary_current, rtol=0.03)
    assert list(table["n_channels"]) == [2, 2]
    assert np.allclose(table["noise_ratio"], 0.15, atol=0.02)
    # the baseline is tracked: units times the step plus it give back the current
    assert np.allclose(table["closed_level"], [b.mean() for b in np.split(baseline, 2)], atol=0.1)


def test_labels_calibrate_the_training_rows_and_check_the_label_free_calibration():
    X, y, groups, _ = _rig(1.0, 0.0, 0.2)
    scaler = LatticeScaler()
    fitted = scaler.fit_transform(X, y, groups=groups)
    assert (scaler.recordings_["label_agreement"] > 0.98).all()
    # label-free and label calibrations agree to a small fraction of a channel
    np.testing.assert_allclose(fitted, scaler.transform(X, groups=groups), atol=0.05)


def test_labels_that_the_calibration_contradicts_are_warned_and_followed():
    X, y, groups, _ = _rig(1.0, 0.0, 0.2)
    with pytest.warns(
        RigMismatchWarning, match=r"recording\(s\) 0 \(0\.\d\d\), 1 \(0\.\d\d\) disagree"
    ):
        units = LatticeScaler().fit_transform(X, y + 1, groups=groups)[:, 0]
    assert np.mean(np.round(units) == y + 1) > 0.98  # rounding loses 1.2 % at noise 0.2


def test_other_columns_and_float32_pass_through():
    X, _, groups, _ = _rig(1.0, 0.0, 0.2)
    X = np.column_stack([X[:, 0], np.arange(len(X))]).astype(np.float32)
    out = LatticeScaler().fit(X, groups=groups).transform(X, groups=groups)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 1], X[:, 1])


def test_more_channels_or_more_noise_than_trained_warns():
    X, _, groups, _ = _rig(1.0, 0.0, 0.15, n_channels=1)
    scaler = LatticeScaler().fit(X, groups=groups)
    X_more, y_more, g_more, _ = _rig(1.0, 0.0, 0.15, n_channels=3, seed=1)
    with pytest.warns(RigMismatchWarning) as caught:
        units = scaler.transform(X_more, groups=g_more)[:, 0]
    record = [w for w in caught if w.category is RigMismatchWarning]  # the sign may be too
    assert sorted(str(w.message).split(";")[0] for w in record) == [
        "Recording 0 (rows 0-30000) shows 3 channels",
        "Recording 1 (rows 30000-60000) shows 3 channels",
    ]
    assert all("the training recordings had at most 1" in str(w.message) for w in record)
    assert np.mean(np.round(units) == y_more) > 0.99  # still computed
    X_noisy, _, g_noisy, _ = _rig(1.0, 0.0, 0.3, n_channels=1, seed=2)
    with pytest.warns(RigMismatchWarning, match=r"has noise 0\.\d\d times its unitary current"):
        scaler.transform(X_noisy, groups=g_noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RigMismatchWarning)
        scaler.transform(*_rig(2.0, 1.0, 0.3, n_channels=1, seed=3)[::2])  # same conditions


def test_recording_without_a_lattice_is_refused_by_name():
    X, _, groups, _ = _rig(1.0, 0.0, 0.2)
    scaler = LatticeScaler().fit(X, groups=groups)
    rng = np.random.default_rng(0)
    t = np.arange(30_000) / 10_000.0
    noise = 0.2 * rng.standard_normal(30_000)
    whole_cell = np.concatenate([X[:30_000, 0], -200.0 * np.exp(-t / 0.3) + noise])[:, None]
    flat = np.concatenate([X[:30_000, 0], 2.0 + noise])[:, None]
    for trace in (whole_cell, flat):
        with pytest.raises(ValueError, match=r"Recording 1 \(rows 30000-60000\) cannot be put.*"):
            scaler.transform(trace, groups=groups)


def test_estimator_conventions_on_recordings_long_enough():
    # what the common checks cannot run on their 10-100-row data (tests/test_common.py)
    X, y, groups, _ = _rig(1.0, 0.0, 0.2)
    frame = pd.DataFrame({"current": X[:, 0], "other": 1.0})
    scaler = LatticeScaler(max_iter=5)
    assert scaler.fit(frame, y, groups=groups) is scaler
    assert scaler.n_features_in_ == 2 and list(scaler.feature_names_in_) == ["current", "other"]
    assert list(scaler.get_feature_names_out()) == ["current", "other"]
    assert clone(scaler).get_params() == LatticeScaler(max_iter=5).get_params()
    restored = pickle.loads(pickle.dumps(scaler))
    np.testing.assert_array_equal(
        restored.transform(frame, groups=groups), scaler.transform(frame, groups=groups)
    )
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        scaler.transform(frame[["current"]], groups=groups)
    with pytest.raises(ValueError, match="needs at least 1000"):
        LatticeScaler().fit(X[:500])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LatticeScaler().fit(np.where(np.arange(len(X))[:, None] == 5, np.nan, X))


def test_a_training_recording_without_a_label_free_calibration_follows_its_labels():
    X, y, _, _ = _rig(1.0, 0.0, 0.2)
    short = np.r_[np.zeros(59_500, dtype=int), np.ones(500, dtype=int)]  # 500 rows: too few
    with pytest.warns(RigMismatchWarning, match=r"Recording 1 \(rows 59500-60000\).*labels"):
        scaler = LatticeScaler()
        units = scaler.fit_transform(X, y, groups=short)[:, 0]
    assert np.mean(np.round(units[59_500:]) == y[59_500:]) > 0.95
    assert scaler.recordings_["unitary_current"].iloc[1] == pytest.approx(1.0, rel=0.05)
    with pytest.raises(ValueError, match="needs at least 1000"):
        LatticeScaler().fit(X, groups=short)  # without labels: refused


def test_a_filtered_recording_comes_out_with_its_filter_undone():
    X, y, groups, _ = make_patch_clamp(
        60_000, kinetics="bursting", n_channels=2, noise=0.3, filter_cutoff=1_000, random_state=2
    )
    kept = LatticeScaler(undo_filter=False)
    recorded = kept.fit_transform(X, groups=groups)[:, 0]
    undone = clone(kept).set_params(undo_filter=True).fit_transform(X, groups=groups)[:, 0]
    cutoff = kept.recordings_["filter_cutoff"].iloc[0]
    assert 800 < cutoff < 1_250  # found by the calibration, in both cases
    # transitions within a sample again: the rounded units follow the labels far better
    assert np.mean(np.round(undone) == y) > np.mean(np.round(recorded) == y) + 0.05
    # an unfiltered recording is left as it is
    X, _, groups, _ = make_patch_clamp(20_000, n_channels=2, noise=0.2, random_state=2)
    scaler = LatticeScaler()
    np.testing.assert_array_equal(
        scaler.fit_transform(X, groups=groups), clone(kept).fit_transform(X, groups=groups)
    )
    assert np.isnan(scaler.recordings_["filter_cutoff"]).all()


def test_a_scaler_saved_before_undo_filter_keeps_the_filter():
    scaler = LatticeScaler()
    state = LatticeScaler().__getstate__()
    del state["undo_filter"]
    scaler.__setstate__(state)
    assert scaler.undo_filter is False

"""ZScoreWindower and its parts (RecordingCleaner, RecordingScaler, ContextFeatures):
statistics, cleaning, context features, groups and pipelines."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.pipeline import Pipeline, make_pipeline

from skion import ContextFeatures, RecordingCleaner, RecordingScaler, ZScoreWindower
from skion.model_files import dump_estimator, load_estimator

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Every test draws the same data however xdist orders and splits the tests."""
    global rng
    rng = np.random.default_rng(0)


def test_train_statistics_are_applied_to_new_data():
    """The recipe: test data are scaled with the training mean and std."""
    train = rng.normal(3.0, 2.0, (5000, 2))
    zs = ZScoreWindower().fit(train)
    np.testing.assert_allclose(zs.center_, train.mean(axis=0))
    np.testing.assert_allclose(zs.scale_, train.std(axis=0))
    test = rng.normal(5.0, 2.0, (100, 2))
    np.testing.assert_allclose(zs.transform(test), (test - train.mean(0)) / train.std(0))


def test_robust_statistics_ignore_outliers():
    X = rng.normal(0.0, 1.0, (20000, 1))
    X[:200] = 1e6
    zs = ZScoreWindower(robust=True).fit(X)
    assert abs(zs.center_[0]) < 0.05 and zs.scale_[0] == pytest.approx(1.0, rel=0.05)


def test_recording_scope_scales_each_recording_by_itself():
    X = np.concatenate([rng.normal(0, 1, 3000), rng.normal(10, 3, 3000)])[:, None]
    groups = np.repeat([0, 1], 3000)
    Z = ZScoreWindower(scope="recording").fit(X, groups=groups).transform(X, groups=groups)
    for g in (0, 1):
        assert Z[groups == g].mean() == pytest.approx(0.0, abs=1e-9)
        assert Z[groups == g].std() == pytest.approx(1.0, rel=1e-9)


def test_context_columns_stay_inside_recordings():
    X = np.arange(10.0)[:, None]
    groups = np.repeat([0, 1], 5)
    zs = ZScoreWindower(context=2).fit(X)
    Z = zs.transform(X, groups=groups) * zs.scale_[0] + zs.center_[0]  # back to raw units
    names = list(zs.get_feature_names_out())
    assert names == ["x0", "x0_lag1", "x0_lead1", "x0_lag2", "x0_lead2"]
    np.testing.assert_allclose(Z[:, names.index("x0_lag2")], [0, 0, 0, 1, 2, 5, 5, 5, 6, 7])
    np.testing.assert_allclose(Z[:, names.index("x0_lead1")], [1, 2, 3, 4, 4, 6, 7, 8, 9, 9])


def test_rolling_statistics_match_brute_force_inside_each_recording():
    X = rng.normal(size=(300, 2))
    groups = np.repeat([0, 1, 2], [120, 100, 80])
    zs = ZScoreWindower(rolling_windows=(5, 8)).fit(X)
    out = pd.DataFrame(zs.set_output(transform="pandas").transform(X, groups=groups))
    Z = (X - zs.center_) / zs.scale_
    for width in (5, 8):
        for g in range(3):
            part = pd.DataFrame(Z[groups == g], columns=["x0", "x1"])
            expected_mean = _edge_aware(part, width, "mean")
            expected_std = _edge_aware(part, width, "std")
            got = out[groups == g]
            np.testing.assert_allclose(got[f"x0_mean{width}"], expected_mean["x0"], atol=1e-10)
            np.testing.assert_allclose(got[f"x1_std{width}"], expected_std["x1"], atol=1e-8)


def _edge_aware(part, width, stat):
    """Statistic over rows [i - width//2, i - width//2 + width), cut at the part's edges."""
    values = part.to_numpy()
    rows = []
    for i in range(len(values)):
        window = values[max(i - width // 2, 0) : max(i - width // 2 + width, 0)]
        rows.append(window.mean(0) if stat == "mean" else window.std(0))
    return pd.DataFrame(rows, columns=part.columns)


def test_detrend_removes_drift_but_keeps_the_level():
    t = np.arange(40_000)
    levels = np.repeat(rng.integers(0, 3, 400), 100).astype(float)
    drift = 3.0 * np.sin(2 * np.pi * t / 40_000)
    X = (levels + drift + 0.1 * rng.normal(size=t.size))[:, None]
    for kind, kwargs in [("median", {"detrend_window": 4000}), ("poly", {"detrend_degree": 5})]:
        zs = ZScoreWindower(detrend=kind, **kwargs).fit(X)
        cleaned = zs.transform(X) * zs.scale_[0] + zs.center_[0]
        residual = cleaned[:, 0] - levels
        assert abs(residual.mean() - drift.mean()) < 0.05  # mean level kept
        assert np.std(residual) < 0.35, kind  # sd of drift alone: 2.1


def test_detrend_anchored_at_start_removes_a_drift_that_starts_at_zero():
    """A half-sine bump has a non-zero mean: only the start anchor recovers the levels."""
    t = np.arange(60_000)
    levels = np.repeat(rng.integers(0, 3, 600), 100).astype(float)
    drift = 4.0 * np.sin(np.pi * t / t.size)  # mean 2.55: two levels up under "mean"
    X = (levels + drift + 0.1 * rng.normal(size=t.size))[:, None]
    # The median trend is flat over the first half block, so its anchor misses the drift
    # accrued there (4 * sin(pi * 2000 / 60000) = 0.42 at most); a least-squares polynomial
    # is least certain at its ends.
    cases = [("median", {"detrend_window": 4000}, 0.42), ("poly", {"detrend_degree": 4}, 0.2)]
    for kind, kwargs, tolerance in cases:
        errors = {}
        for anchor in ("mean", "start"):
            zs = ZScoreWindower(detrend=kind, detrend_anchor=anchor, **kwargs).fit(X)
            cleaned = zs.transform(X)[:, 0] * zs.scale_[0] + zs.center_[0]
            errors[anchor] = abs(np.mean(cleaned - levels))
        assert errors["start"] < tolerance, (kind, errors)
        assert errors["mean"] > 2.0, (kind, errors)


def test_notch_removes_line_hum():
    t = np.arange(50_000) / 10_000.0
    levels = np.repeat(rng.integers(0, 3, 500), 100).astype(float)
    hum = 0.5 * np.sin(2 * np.pi * 50 * t + 0.3)
    X = (levels + hum)[:, None]
    zs = ZScoreWindower(notch_freq=50).fit(X)
    cleaned = zs.transform(X) * zs.scale_[0] + zs.center_[0]
    bin_50 = np.argmin(np.abs(np.fft.rfftfreq(len(t), 1 / 10_000.0) - 50))
    assert np.abs(np.fft.rfft(cleaned[:, 0]))[bin_50] < 0.05 * np.abs(np.fft.rfft(X[:, 0]))[bin_50]
    # The notch also takes the steps' own 50 Hz content: the error drops 3-fold, not to 0.
    assert np.std(cleaned[:, 0] - levels) < 0.3 * np.std(hum)


def test_groups_reach_transform_through_fit_transform_in_a_pipeline():
    X = np.arange(10.0)[:, None]
    groups = np.repeat([0, 1], 5)
    pipe = Pipeline([("z", ZScoreWindower(context=1))])
    via_pipeline = pipe.fit_transform(X, z__groups=groups)
    direct = ZScoreWindower(context=1).fit(X).transform(X, groups=groups)
    np.testing.assert_allclose(via_pipeline, direct)


def test_float32_is_preserved():
    X = rng.normal(size=(100, 1)).astype(np.float32)
    assert ZScoreWindower(context=1, rolling_windows=(4,)).fit_transform(X).dtype == np.float32


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rolling_windows": (1,)}, "rolling_windows must be a sequence of integers >= 2"),
        ({"rolling_windows": (2.5,)}, "rolling_windows must be a sequence of integers >= 2"),
        ({"notch_freq": 6000}, "must be below the Nyquist frequency"),
        ({"context": -1}, "'context' parameter of ZScoreWindower"),
        ({"detrend": "spline"}, "'detrend' parameter of ZScoreWindower"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        ZScoreWindower(**params).fit(np.zeros((10, 1)))


def test_bad_input():
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ZScoreWindower().fit(np.array([[1.0], [np.nan]]))
    zs = ZScoreWindower().fit(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="X has 1 features, but ZScoreWindower"):
        zs.transform(np.zeros((10, 1)))
    with pytest.raises(ValueError, match=r"groups must have shape \(10,\)"):
        zs.transform(np.zeros((10, 2)), groups=[0, 1])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"context": 2, "rolling_windows": (3, 8), "robust": True},
        {"detrend": "median", "detrend_window": 500, "notch_freq": 50.0, "scope": "recording"},
    ],
    ids=["default", "context", "cleaning"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zscore_windower_is_its_three_parts_in_a_row(params, dtype):
    X = rng.normal(2.0, 3.0, (3000, 2)).astype(dtype)
    groups = np.repeat([0, 1, 2], 1000)
    zs = ZScoreWindower(**params).fit(X, groups=groups)
    parts = ZScoreWindower(**params)._parts()
    Z = X
    for part in parts:
        Z = part.fit_transform(Z, groups=groups)
    np.testing.assert_array_equal(zs.transform(X, groups=groups), Z)
    assert Z.dtype == dtype
    scaler = parts[1]
    np.testing.assert_array_equal(zs.center_, scaler.center_)
    np.testing.assert_array_equal(zs.get_feature_names_out(), parts[2].get_feature_names_out())


def test_zscore_windower_parts_chain_in_a_pipeline_with_routing():
    X = rng.normal(size=(2000, 1))
    groups = np.repeat([0, 1], 1000)
    params = {"context": 1, "detrend": "poly", "scope": "recording"}
    with sklearn.config_context(enable_metadata_routing=True):
        pipeline = make_pipeline(*ZScoreWindower(**params)._parts()).fit(X, groups=groups)
        np.testing.assert_array_equal(
            pipeline.transform(X, groups=groups),
            ZScoreWindower(**params).fit_transform(X, groups=groups),
        )


def test_recording_scaler_scales_in_place_without_copy():
    X = rng.normal(5.0, 2.0, (1000, 1))
    expected = RecordingScaler().fit(X).transform(X)
    out = RecordingScaler(copy=False).fit(X).transform(X)
    assert out is X
    np.testing.assert_array_equal(X, expected)
    frozen = rng.normal(size=(100, 1))
    frozen.flags.writeable = False  # copied first rather than failing
    RecordingScaler(copy=False).fit(frozen).transform(frozen)


def test_pipeline_of_the_parts_is_saved_and_loaded(tmp_path):
    X = rng.normal(size=(3000, 1))
    y = (X[:, 0] > 0).astype(int)
    pipeline = make_pipeline(
        RecordingCleaner(detrend="poly"), RecordingScaler(), ContextFeatures(context=1)
    ).fit(X, y)
    dump_estimator(pipeline, tmp_path / "parts.skion")
    restored = load_estimator(tmp_path / "parts.skion")
    np.testing.assert_array_equal(restored.transform(X), pipeline.transform(X))


def test_a_current_in_amperes_is_still_standardised():
    # the "constant column" floor was float32's eps (1.2e-7) for any column whose values
    # are under 1: a current in A (~1e-11) came out unscaled
    X = (rng.normal(3.0, 1.0, (1000, 1)) * 1e-11).astype(np.float32)
    Z = RecordingScaler().fit_transform(X)
    assert Z.std() == pytest.approx(1.0, rel=1e-3) and abs(Z.mean()) < 1e-3
    constant = np.full((100, 1), 0.1, dtype=np.float32)
    assert RecordingScaler().fit(constant).scale_[0] == 1.0

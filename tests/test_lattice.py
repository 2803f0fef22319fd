"""LatticeDetrender: the lattice of open-channel levels gives drift and hum exactly."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.pipeline import Pipeline

from skion import HMMClassifier, LatticeDetrender, ZScoreWindower
from skion.datasets import make_ion_switching, make_patch_clamp


def _true_current(X, models):
    """The current above the closed level, with the generator's hum and drift removed."""
    out = X[:, 0].astype(np.float64).copy()
    for m in models:
        out[m.start : m.stop] -= m.baseline()
    return out


@pytest.fixture(scope="module")
def data():
    train = make_ion_switching(200_000, random_state=0, return_model=True)
    test = make_ion_switching(200_000, random_state=1, return_model=True)
    return train, test


def test_learns_step_and_closed_level_from_counts(data):
    (X, y, groups, _), _ = data
    detrender = LatticeDetrender(line_freq=50.0).fit(X, y, groups=groups)
    assert detrender.step_ == pytest.approx(1.23, rel=0.003)
    assert detrender.closed_level_ == pytest.approx(-2.7, abs=0.1)
    assert 0.05 < detrender.coherence_ < 1


def test_removes_drift_and_hum_on_unseen_recordings(data):
    """Error of the baseline against the generator's: 0.01-0.02 pA, where the notch and
    cubic trend leave 0.07-0.3 pA (they also follow occupancy and the channels' own
    50 Hz content)."""
    (X, y, groups, _), (X_test, _, groups_test, models) = data
    truth = _true_current(X_test, models)
    cleaned = LatticeDetrender(line_freq=50.0).fit(X, y, groups=groups)
    error = cleaned.transform(X_test, groups=groups_test)[:, 0] - truth
    classic = ZScoreWindower(
        detrend="poly", detrend_degree=3, detrend_anchor="start", notch_freq=50.0
    ).fit(X, groups=groups)
    classic_current = classic.transform(X_test, groups=groups_test)[:, 0]
    classic_current = classic_current * classic.scale_[0] + classic.center_[0]
    classic_error = classic_current - (truth + np.mean(classic_current - truth))
    for m in models:
        rows = slice(m.start, m.stop)
        assert np.abs(error[rows]).mean() < 0.04, m.regime
    assert np.abs(error).mean() < np.abs(classic_error).mean() / 3


def test_levels_read_k_times_step(data):
    (X, y, groups, _), _ = data
    detrender = LatticeDetrender(line_freq=50.0).fit(X, y, groups=groups)
    current = detrender.transform(X, groups=groups)[:, 0]
    for k in (0, 1, 5, 10):
        assert current[y == k].mean() == pytest.approx(k * detrender.step_, abs=0.1)


def test_hum_is_fitted_only_when_asked():
    """A 0.5 pA hum swings the lattice phase by 2.6 rad: without line_freq it blurs the
    lattice within every block (and fit says so); with it, the hum is removed."""
    X, y, _, models = make_ion_switching(
        60_000, regime="3_channels", line_hum=0.5, random_state=2, return_model=True
    )
    truth = _true_current(X, models)
    with pytest.warns(UserWarning, match="barely visible") as record:
        blind = LatticeDetrender().fit(X, y)
    assert record[0].filename == __file__  # the warning points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tuned = LatticeDetrender(line_freq=50.0).fit(X, y)
    assert np.abs(tuned.transform(X)[:, 0] - truth).mean() < 0.03
    assert np.abs(blind.transform(X)[:, 0] - truth).mean() > 0.2


def test_inward_currents_have_a_negative_step(data):
    (X, y, groups, models), _ = data
    detrender = LatticeDetrender(line_freq=50.0).fit(-X, y, groups=groups)
    assert detrender.step_ == pytest.approx(-1.23, rel=0.003)
    error = detrender.transform(-X, groups=groups)[:, 0] + _true_current(X, models)
    assert np.abs(error).mean() < 0.03


def test_known_lattice_needs_no_labels(data):
    (X, y, groups, _), _ = data
    learned = LatticeDetrender(line_freq=50.0).fit(X, y, groups=groups)
    given = LatticeDetrender(
        step=learned.step_, closed_level=learned.closed_level_, line_freq=50.0
    ).fit(X, groups=groups)
    np.testing.assert_allclose(
        given.transform(X, groups=groups), learned.transform(X, groups=groups), atol=1e-6
    )


def test_other_columns_pass_through_and_dtype_is_kept():
    X, y, _ = make_ion_switching(20_000, regime="5_channels", random_state=0)
    extra = np.random.default_rng(0).normal(size=(len(X), 1)).astype(np.float32)
    X2 = np.hstack([X, extra])
    out = LatticeDetrender().fit(X2, y).transform(X2)
    assert out.dtype == np.float32 and out.shape == X2.shape
    np.testing.assert_array_equal(out[:, 1], extra[:, 0])


def test_warns_when_noise_hides_the_lattice():
    X, y, _ = make_ion_switching(20_000, regime="5_channels", noise=1.5, random_state=0)
    with pytest.warns(UserWarning, match="lattice is barely visible"):
        LatticeDetrender(block=200).fit(X, y)


def test_clean_lattice_does_not_warn():
    X, y, _ = make_ion_switching(20_000, regime="5_channels", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LatticeDetrender().fit(X, y)


def test_warns_when_training_recordings_start_whole_steps_apart():
    """One closed level anchors every recording: a recording offset by two steps is
    cleaned two channels off, which the labels show in fit."""
    X, y, groups, _ = make_patch_clamp(
        60_000, kinetics="bursting", n_channels=5, n_recordings=3, unitary_current=1.23,
        noise=0.25, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LatticeDetrender().fit(X, y, groups=groups)
    X[groups == 1, 0] += 2 * 1.23
    with pytest.warns(UserWarning, match=r"recording\(s\) .*1 \(\+1\.0 steps\)"):
        LatticeDetrender().fit(X, y, groups=groups)


@pytest.mark.parametrize(
    ("params", "y", "match"),
    [
        ({}, None, "requires y to be passed"),
        ({"step": 1.2}, None, "requires y to be passed"),
        ({}, "half", "finite integers >= 0"),
        ({}, "negative", "finite integers >= 0"),
        ({}, "constant", "one class"),
        ({}, "strings", "Unknown label type"),
        ({}, "short", "must have 2000 rows"),
        ({"step": 0.0, "closed_level": 0.0}, None, "non-zero"),
        ({"line_freq": 6000.0}, "ok", "Nyquist"),
    ],
)
def test_bad_input_is_named(params, y, match):
    X, counts, _ = make_ion_switching(2000, regime="3_channels", random_state=0)
    labels = {
        None: None,
        "ok": counts,
        "half": counts + 0.5,
        "negative": counts - 1,
        "constant": np.zeros_like(counts),
        "strings": counts.astype(str).astype(object),
        "short": counts[:10],
    }[y]
    with pytest.raises(ValueError, match=match):
        LatticeDetrender(**params).fit(X, labels)


def test_count_never_changing_within_blocks_is_named():
    X = np.arange(4000.0)[:, None]
    y = np.repeat([0, 1], 2000)
    with pytest.raises(ValueError, match="never changes inside a block"):
        LatticeDetrender(block=1000).fit(X, y)


def test_in_a_pipeline_with_groups_routed(data):
    (X, y, groups, _), (X_test, y_test, groups_test, _) = data
    with sklearn.config_context(enable_metadata_routing=True):
        pipeline = Pipeline(
            [("baseline", LatticeDetrender(line_freq=50.0)), ("hmm", HMMClassifier())]
        )
        pipeline.fit(X, y, groups=groups)
        accuracy = (pipeline.predict(X_test, groups=groups_test) == y_test).mean()
    assert accuracy > 0.95

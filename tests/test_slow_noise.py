"""Slow (correlated) noise left in a fit: measured, and said, never silent."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.cli import main
from skion.datasets import make_patch_clamp
from skion.exceptions import CorrelatedNoiseWarning
from skion.hmm._slow_noise import MIN_BLOCKS, slow_noise_ratio
from skion.preprocessing import LatticeScaler

from .conftest import pink_recording


def slow(n, correlation, seed):
    """Unit-sd AR(1) noise of lag-1 correlation ``correlation``."""
    noise = lfilter([1.0], [1.0, -correlation], np.random.default_rng(seed).standard_normal(n))
    return noise / noise.std()


def recording(seed, slow_sd=0.0, n_samples=30_000):
    """3 fast channels of 1 pA, white noise 0.05 pA, plus AR(1) noise of 20 ms."""
    X, y, _, _ = make_patch_clamp(
        n_samples,
        kinetics="fast",
        n_channels=3,
        noise=0.05 if slow_sd else 0.2,
        random_state=seed,
    )
    return X + slow_sd * slow(n_samples, 0.995, seed)[:, None], y


def test_ratio_is_one_for_white_noise_and_large_for_slow_noise():
    white = np.random.default_rng(0).standard_normal(100_000)
    assert 0.8 < slow_noise_ratio([white], 500) < 1.2
    # pooled over recordings of any length, each centred
    assert 0.8 < slow_noise_ratio([white[:30_000] + 5.0, white[30_000:] - 2.0], 500) < 1.2
    # AR(1) at 0.99: 1 + 2 * sum of the autocorrelations, near (1 + 0.99) / (1 - 0.99)
    assert 100 < slow_noise_ratio([slow(100_000, 0.99, 1)], 500) < 200


def test_ratio_needs_enough_blocks():
    white = np.random.default_rng(0).standard_normal(500 * MIN_BLOCKS)
    assert np.isfinite(slow_noise_ratio([white], 500))
    assert np.isnan(slow_noise_ratio([white[:-1]], 500))
    assert np.isnan(slow_noise_ratio([np.ones(10_000)], 500))


def test_white_noise_fit_does_not_warn():
    X, _ = recording(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CorrelatedNoiseWarning)
        hmm = AggregatedHMM().fit(X)
    assert hmm.n_channels_ == 3
    assert hmm.slow_noise_ratio_ < 2


@pytest.mark.parametrize("labelled", [False, True])
def test_slow_noise_is_said(labelled):
    X, y = recording(seed=0, slow_sd=0.3)
    with pytest.warns(CorrelatedNoiseWarning, match=r"The noise is not white.* ms") as caught:
        hmm = AggregatedHMM().fit(X, y if labelled else None)
    assert hmm.slow_noise_ratio_ > 20  # 60 without labels, 164 with them
    message = str(caught[-1].message)
    # only a label-free fit chose the channel count and the direction
    assert ("current's direction" in message) is not labelled
    assert f"{hmm.slow_noise_ratio_:.0f} times more" in message


def test_calibration_names_the_recording_with_slow_noise():
    clean, _ = recording(seed=1)
    noisy, _ = recording(seed=0, slow_sd=0.3)
    X = np.concatenate([clean, noisy])
    groups = np.repeat([0, 1], 30_000)
    with pytest.warns(CorrelatedNoiseWarning) as caught:
        LatticeScaler().fit(X, groups=groups)
    said = [str(w.message) for w in caught if issubclass(w.category, CorrelatedNoiseWarning)]
    assert said and all(m.startswith("Recording 1 (rows 30000-60000): ") for m in said)


def test_idealize_says_and_lists_it(tmp_path, capsys):
    X, _ = recording(seed=0, slow_sd=0.3)
    data, out, summary = tmp_path / "rec.csv", tmp_path / "pred.csv", tmp_path / "sum.json"
    time = np.round(np.arange(len(X)) / 10_000, 8)
    pd.DataFrame({"time": time, "signal": X[:, 0]}).to_csv(data, index=False)
    assert main(["idealize", str(data), "--out", str(out), "--summary", str(summary)]) == 0
    assert "skion: warning: The noise is not white" in capsys.readouterr().err
    report = json.loads(summary.read_text())
    assert report["slow_noise_ratio"] > 20
    assert report["tracking_window_s"] < 0.2
    assert any(note.startswith("The noise is not white") for note in report["warnings"])


@pytest.mark.parametrize("seed", [0, 4])
def test_under_1_over_f_noise_baselines_are_tracked_over_a_shorter_window(seed):
    # The moving mean of 0.2 s left stretches of the 1/f noise read a count off
    # (macro-F1 0.959 and 0.949); tracked again over 12.5 or 6.25 ms (the window of
    # least leave-one-out error), from the levels found over 0.2 s: 0.992 and 0.990.
    X, y = pink_recording(seed)
    with pytest.warns(CorrelatedNoiseWarning, match=r"predict tracks baselines over \d+ ms"):
        hmm = AggregatedHMM().fit(X)
    assert hmm.n_channels_ == 3
    assert hmm.tracking_window_ <= hmm.baseline_window / 16
    tracked = f1_score(y, hmm.predict(X), average="macro")
    X_new, y_new = pink_recording(seed + 100)
    tracked_new = f1_score(y_new, hmm.predict(X_new), average="macro")
    hmm.tracking_window_ = hmm.baseline_window  # as before the window was chosen
    assert tracked > 0.98 and tracked > f1_score(y, hmm.predict(X), average="macro") + 0.02
    assert tracked_new > f1_score(y_new, hmm.predict(X_new), average="macro") + 0.01


def test_white_noise_is_tracked_over_baseline_window_as_model_files_before_it():
    X, y = recording(seed=0)
    hmm = AggregatedHMM().fit(X)
    assert hmm.tracking_window_ == hmm.baseline_window
    counts = hmm.predict(X)
    del hmm.tracking_window_  # a model file written before the attribute
    np.testing.assert_array_equal(hmm.predict(X), counts)
    assert f1_score(y, counts, average="macro") > 0.95

"""Open-channel noise: levels that widen with the open channels, fitted by AggregatedHMM."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.cli import main
from skion.datasets import make_patch_clamp
from skion.hmm import _fit_refinement
from skion.hmm._count_kernels import count_emission
from skion.hmm._open_noise import expected_loglik, fit_open_noise

STEP = 1.2
CLOSED_SD, OPEN_SD = 0.2 * STEP, 0.25 * STEP  # the sd at k open: sqrt(0.24² + k 0.3²)


def open_noise_recording(n_samples, seed, noise=True):
    """3 fast channels; the noise sd grows from 0.2 step (all closed) by 0.25 step per open
    channel, in quadrature (white noise of 0.3 step with ``noise=False``)."""
    X, y, _, _ = make_patch_clamp(
        n_samples, kinetics="fast", n_channels=3, unitary_current=STEP, noise=0.01,
        random_state=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    sd = np.sqrt(CLOSED_SD**2 + y * OPEN_SD**2) if noise else 0.3 * STEP
    return (X[:, 0] + sd * rng.standard_normal(n_samples))[:, None], y


def test_emission_widens_with_the_open_channels():
    rng = np.random.default_rng(0)
    x, baseline = rng.normal(0, 3, 400), rng.normal(0, 0.5, 400)
    k = np.arange(5)
    log_em = norm.logpdf((x - baseline)[:, None], 1.3 * k, np.sqrt(0.4**2 + k * 0.7**2))
    em, log_scale = count_emission(x, baseline, 1.3, 0.4, 5, excess=0.7)
    np.testing.assert_allclose(em, np.exp(log_em - log_em.max(axis=1, keepdims=True)), rtol=1e-10)
    assert log_scale == pytest.approx(log_em.max(axis=1).sum(), rel=1e-10)


@pytest.mark.parametrize("excess", [0.0, 0.35])
def test_noise_m_step_recovers_the_level_variances(excess):
    rows = np.array([5000.0, 3000.0, 1500.0, 400.0])
    variance = 0.25**2 + np.arange(4) * excess**2
    squares = rows * variance  # residual sums of squares at their expectation
    noise, fitted = fit_open_noise(rows, squares, 1.5, 1e-3, (0.5, 0.1))
    assert noise == pytest.approx(0.25, rel=1e-4)
    assert fitted == pytest.approx(excess, abs=1e-3)
    best = expected_loglik(rows, squares, noise, fitted)
    for other in [(0.26, fitted), (noise, fitted + 0.02)]:
        assert expected_loglik(rows, squares, *other) < best


def test_open_channel_noise_is_fitted_and_keeps_the_true_count(monkeypatch):
    X, y = open_noise_recording(30_000, seed=0)
    hmm = AggregatedHMM().fit(X)
    assert hmm.n_channels_ == 3
    assert hmm.noise_sd_ == pytest.approx(CLOSED_SD, rel=0.1)
    assert hmm.open_channel_noise_sd_ == pytest.approx(OPEN_SD, rel=0.1)
    assert f1_score(y, hmm.predict(X), average="macro") > 0.95
    # another recording of the same channels, decoded with the fitted noise
    X_new, y_new = open_noise_recording(20_000, seed=1)
    assert f1_score(y_new, hmm.predict(X_new), average="macro") > 0.95

    # with the noise the same at every level, the wider levels read as a fourth channel
    monkeypatch.setattr(_fit_refinement, "_OPEN_NOISE_GAIN", np.inf)
    white = AggregatedHMM().fit(X)
    assert white.n_channels_ == 4 and white.open_channel_noise_sd_ == 0.0
    assert f1_score(y, white.predict(X), average="macro") < 0.8


def test_white_noise_stays_white():
    X, _ = open_noise_recording(30_000, seed=2, noise=False)
    hmm = AggregatedHMM().fit(X)
    assert hmm.open_channel_noise_sd_ == 0.0
    assert hmm.n_channels_ == 3
    assert hmm.noise_sd_ == pytest.approx(0.3 * STEP, rel=0.05)


def test_idealize_says_the_open_channel_noise(tmp_path, capsys):
    X, y = open_noise_recording(30_000, seed=3)
    data, out, summary = tmp_path / "rec.csv", tmp_path / "pred.csv", tmp_path / "sum.json"
    time = np.round(np.arange(len(X)) / 10_000, 8)
    pd.DataFrame({"time": time, "signal": X[:, 0]}).to_csv(data, index=False)
    assert main(["idealize", str(data), "--out", str(out), "--summary", str(summary)]) == 0
    said = capsys.readouterr().out
    assert "3 channel(s)" in said and "pA per open channel" in said
    report = json.loads(summary.read_text())
    assert report["open_channel_noise_sd"] == pytest.approx(OPEN_SD, rel=0.1)
    assert np.mean(pd.read_csv(out)["open_channels"].to_numpy() == y) > 0.95


def test_labelled_fit_learns_the_open_channel_noise():
    X, y = open_noise_recording(30_000, seed=4)
    hmm = AggregatedHMM().fit(X, y)
    assert hmm.n_channels_ == 3
    assert hmm.open_channel_noise_sd_ == pytest.approx(OPEN_SD, rel=0.1)
    X_new, y_new = open_noise_recording(20_000, seed=5)
    assert f1_score(y_new, hmm.predict(X_new), average="macro") > 0.95
    white_X, white_y = open_noise_recording(30_000, seed=6, noise=False)
    assert AggregatedHMM().fit(white_X, white_y).open_channel_noise_sd_ == 0.0

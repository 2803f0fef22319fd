"""AggregatedHMM: exact recursions, EM without labels, baselines, groups and errors."""

import warnings

import numpy as np
import pytest
from scipy.linalg import expm
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.datasets import aggregated_chain, make_patch_clamp
from skion.exceptions import AmbiguousFitWarning
from skion.hmm import forward_backward, viterbi
from skion.hmm._aggregated import _next_omega
from skion.hmm._aggregated_chain import AggregatedChain
from skion.hmm._calibration import noise_sd
from skion.hmm._count_kernels import (
    block_log_likelihoods,
    count_emission,
    count_forward_backward,
)
from skion.hmm._jumps import jump_step

from .conftest import bytes_per_row_beyond_output

DT = 1e-4
RATES = np.array([300.0, 1200.0, 600.0, 500.0])  # C1->C2, C2->O, C2->C1, O->C2


def test_chain_equals_the_multinomial_convolution():
    chain = AggregatedChain(3, 2, 1)
    Q = chain.rate_matrix(RATES)
    counts, T, n_open = aggregated_chain(expm(Q * DT), chain.open_states, 3)
    np.testing.assert_array_equal(counts, chain.counts)
    np.testing.assert_array_equal(n_open, chain.level)
    np.testing.assert_allclose(chain.transition(RATES, DT), T, atol=1e-14)


@pytest.mark.parametrize("chunk", [None, 1024])
def test_compiled_kernels_match_the_reference_recursions(monkeypatch, chunk):
    # 3000 rows: several checkpoint blocks, and with 1024-row chunks three chunks, the
    # last one short
    from skion.hmm import _count_kernels

    if chunk is not None:
        monkeypatch.setattr(_count_kernels, "CHUNK", chunk)
        monkeypatch.setattr(_count_kernels, "BLOCK", 256)
    rng = np.random.default_rng(0)
    chain = AggregatedChain(2, 2, 1)
    A, initial = chain.transition(RATES, DT), chain.initial(RATES)
    emission = rng.random((3000, 3))
    gamma, xi, log_scale = count_forward_backward(emission, chain.level, A, initial)
    post, loglik = forward_backward(
        np.log(emission[:, chain.level]), A, initial, return_log_likelihood=True
    )
    expected = np.stack([post[:, chain.level == k].sum(axis=1) for k in range(3)], axis=1)
    np.testing.assert_allclose(gamma, expected, atol=1e-12)
    assert log_scale == pytest.approx(loglik, abs=1e-8)
    assert xi.sum() == pytest.approx(len(emission) - 1)

    def emission_of(start, stop):
        return emission[start:stop], 0.5 * (stop - start)  # rows scaled by exp(-0.5)

    total = _count_kernels.forward_log_likelihood(emission_of, 3000, chain.level, A, initial)
    assert total == pytest.approx(loglik + 1500, abs=1e-8)

    def log_emission_of(start, stop):
        return np.log(emission[start:stop]) - 7.0  # any constant per row

    path = _count_kernels.chunked_viterbi(log_emission_of, 3000, chain.level, A, initial)
    np.testing.assert_array_equal(path, viterbi(np.log(emission[:, chain.level]), A, initial))


def test_viterbi_keeps_a_state_far_below_the_best_of_its_row():
    # only state 1 may start, and its emission is 1000 nats below state 0's: a path
    # exists (exp(-1000) would underflow to an impossible row)
    from skion.hmm._count_kernels import chunked_viterbi

    log_emission = np.array([[0.0, -1000.0], [0.0, -1.0]])
    path = chunked_viterbi(
        lambda start, stop: log_emission[start:stop],
        2,
        np.arange(2),
        np.array([[0.5, 0.5], [0.5, 0.5]]),
        np.array([0.0, 1.0]),
    )
    np.testing.assert_array_equal(path, [1, 0])
    assert (
        len(chunked_viterbi(lambda a, b: log_emission[a:b], 0, np.arange(2), np.eye(2), [1, 0]))
        == 0
    )


def test_compiled_emission_matches_the_gaussian_densities():
    rng = np.random.default_rng(2)
    x, baseline = rng.normal(0, 3, 500), rng.normal(0, 0.5, 500)
    labels = rng.integers(0, 6, 500)
    k = np.arange(6)
    log_em = -0.5 * (((x - baseline)[:, None] - 1.3 * k) / 0.4) ** 2 - np.log(
        0.4 * np.sqrt(2 * np.pi)
    )
    for given in (None, labels):
        kept = log_em if given is None else np.where(k == given[:, None], log_em, -np.inf)
        em, log_scale = count_emission(x, baseline, 1.3, 0.4, 6, given)
        np.testing.assert_allclose(em, np.exp(kept - kept.max(axis=1, keepdims=True)), rtol=1e-12)
        assert log_scale == pytest.approx(kept.max(axis=1).sum(), rel=1e-12)


def test_block_log_likelihoods_restart_every_block():
    rng = np.random.default_rng(1)
    chain = AggregatedChain(3, 2, 1)
    A, initial = chain.transition(RATES, DT), chain.initial(RATES)
    emission = rng.random((2500, 4))
    blocks = block_log_likelihoods(emission, chain.level, A, initial, 1000)
    expected = [
        count_forward_backward(emission[start : start + 1000], chain.level, A, initial)[2]
        for start in (0, 1000, 2000)
    ]
    np.testing.assert_allclose(blocks, expected, rtol=1e-10)
    emission[1500] = 0.0  # a row no state can emit: only its block is impossible
    blocks = block_log_likelihoods(emission, chain.level, A, initial, 1000)
    assert np.isneginf(blocks[1]) and np.isfinite(blocks[[0, 2]]).all()


def test_rate_m_step_recovers_rates_from_expected_counts():
    chain = AggregatedChain(3, 2, 1)
    A = chain.transition(RATES, DT)
    xi = 1e6 * chain.initial(RATES)[:, None] * A
    np.testing.assert_allclose(chain.fit_rates(xi, 2 * RATES, DT), RATES, rtol=1e-3)


@pytest.mark.parametrize(
    ("rho", "n_steps"), [([0.97], 3), ([0.97, 0.97], 3), ([0.97, 0.5], 8), ([0.99, 0.9, 0.3], 18)]
)
def test_over_relaxed_steps_reach_the_end_of_a_linear_crawl(rho, n_steps):
    # EM on a ridge: every step covers 1 - rho of the way left (plain EM: 680 steps at
    # rho 0.97, 2,000 at 0.99, to 1e-9)
    theta, last, taken = np.ones(len(rho)), None, 0
    move = -(1 - np.array(rho)) * theta
    while np.abs(move).max() >= 1e-9 and taken < 1000:
        omega = 1.0 if last is None else _next_omega(*last, move)
        last, theta, taken = (omega, move), theta + omega * move, taken + 1
        move = -(1 - np.array(rho)) * theta
    assert taken < n_steps


def test_without_labels_finds_channels_current_sign_and_noise():
    X, y, _, _ = make_patch_clamp(
        120_000,
        kinetics="slow",
        n_channels=2,
        unitary_current=-1.5,
        offset=3.0,
        noise=0.3,
        random_state=0,
    )
    hmm = AggregatedHMM(baseline="constant").fit(X)
    assert hmm.n_channels_ == 2
    assert hmm.unitary_current_ == pytest.approx(-1.5, rel=0.01)
    assert hmm.noise_sd_ == pytest.approx(0.3, rel=0.02)
    assert hmm.closed_level_[0] == pytest.approx(3.0, abs=0.02)
    assert np.mean(hmm.predict(X) == y) > 0.99
    proba = hmm.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_the_levels_seen_compete_with_hidden_ones():
    """3 channels at Po 0.6 with a random walk: the drift's tails put 0.05 % of the time
    below the lowest level, the binomial shape then ranked 4 channels (one never open)
    above 3, and 3 was not even tried; the levels as the peaks show them always are."""
    X, y, _, _ = make_patch_clamp(
        108_149, kinetics="high", n_channels=3, unitary_current=-1.3986, noise=0.388,
        offset=4.23, drift="random_walk", drift_amplitude=2.43, hum_amplitude=0.14,
        random_state=101,
    )  # fmt: skip
    hmm = AggregatedHMM(line_freq=50.0).fit(X)
    assert hmm.n_channels_ == 3
    assert hmm.open_probability_ == pytest.approx(np.mean(y) / 3, abs=0.01)


def test_blurred_levels_may_hide_channels_above_them():
    """A ramp of 1.5 steps over 6 s blurs the levels: the lattice search shows 3 of the
    6 levels of 5 channels. The channel count is searched above the levels seen too
    (searching only below them found 4 channels: macro-F1 0.82 instead of 0.99)."""
    X, y, _, _ = make_patch_clamp(
        60_000, kinetics="bursting", n_channels=5, unitary_current=1.23, noise=0.28,
        offset=-2.75, drift="ramp", drift_amplitude=1.85, hum_amplitude=0.123,
        random_state=269786,
    )  # fmt: skip
    hmm = AggregatedHMM(line_freq=50.0).fit(X)
    assert hmm.n_channels_ == 5
    assert f1_score(y, hmm.predict(X), average="macro") > 0.97


def test_jumps_size_the_unitary_current_of_slow_channels_whatever_the_drift():
    """Slow gating under a 3 pA sine: the jumps give the step; fast gating, whose jumps
    merge, and white noise give none."""
    for kinetics, expected in [("slow", 1.7), ("fast", None)]:
        X, _, _, _ = make_patch_clamp(
            30_000, kinetics=kinetics, n_channels=3, unitary_current=-1.7, noise=0.5,
            offset=2.0, drift="sine", drift_amplitude=3.0, random_state=0,
        )  # fmt: skip
        step = jump_step(X[:, 0], noise_sd(X[:, 0]))
        assert step == (None if expected is None else pytest.approx(expected, rel=0.02))
    noise = np.random.default_rng(0).normal(size=30_000)
    assert jump_step(noise, noise_sd(noise)) is None


def test_slow_channels_under_drift_keep_their_levels():
    """6 slow channels under a ramp: a moving mean follows their gating, and the fit
    started from it decoded levels 1-3 off (macro-F1 0.10 and 0.08, baseline 4.4 steps
    off); the drift that keeps the current on the lattice of the jumps' step does not
    follow gating, in the longest recording as in the other."""
    X, y, groups, baseline = make_patch_clamp(
        40_000, kinetics="slow", n_channels=6, n_recordings=2, unitary_current=0.64,
        noise=0.135, offset=-3.5, drift="ramp", drift_amplitude=0.9, hum_amplitude=0.064,
        random_state=2,
    )  # fmt: skip
    hmm = AggregatedHMM(line_freq=50.0).fit(X, groups=groups)
    pred = hmm.predict(X, groups=groups)
    for g in (0, 1):
        assert f1_score(y[groups == g], pred[groups == g], average="macro") > 0.99
    error = hmm.predict_baseline(X, groups=groups) - baseline
    assert np.sqrt(np.mean(error**2)) < 0.05 * 0.64


@pytest.mark.filterwarnings("ignore::skion.exceptions.AmbiguousFitWarning")  # the sign: 20 nats
def test_a_level_visited_only_in_another_recording_adds_a_channel():
    """7 slow channels at an open probability of 1/3: the longest recording never has
    more than 5 open, the other has 6 open in 142 samples. Fitted as 5 channels, those
    samples were decoded as 5 open (macro-F1 0.85); the level above N, with EM's
    likelihood gain, adds the channel."""
    X, y, groups, _ = make_patch_clamp(
        51_901, kinetics="slow", n_channels=7, n_recordings=2, unitary_current=-1.0945,
        noise=0.1423, offset=-1.427, hum_amplitude=0.109, random_state=2012,
    )  # fmt: skip
    assert y[groups == 0].max() == 5 and np.sum(y[groups == 1] == 6) == 142
    hmm = AggregatedHMM(line_freq=50.0).fit(X, groups=groups)
    assert hmm.n_channels_ >= 6
    assert f1_score(y, hmm.predict(X, groups=groups), average="macro") > 0.99


def test_a_rare_all_closed_level_is_placed_by_the_kinetics():
    """8 channels at an open probability of 0.6: all closed on 1 row of 20,000, one open
    on 110. Fitted as 7 channels with the baseline one step up, every sample was decoded
    one count low (macro-F1 0.004); one more channel under a baseline one step lower,
    kept because the likelihood rises (that placement adds no parameter), is right."""
    X, y, _, _ = make_patch_clamp(
        20_000, kinetics="high", n_channels=8, unitary_current=1.5, noise=0.3, random_state=5
    )
    assert np.bincount(y)[:2].tolist() == [1, 110]
    hmm = AggregatedHMM().fit(X)
    assert hmm.n_channels_ == 8
    assert f1_score(y, hmm.predict(X), average="macro") > 0.99


def test_a_drift_that_blurs_every_level_is_found_by_the_lattice_phase():
    """7 bursting channels on a random walk of about three steps: no coarse drift
    leaves peaks in the density, and the step search found a lattice of 8 channels at
    2/3 of the step (macro-F1 0.000, in silence). The lattice's phase over short blocks
    shows the step; the current less the lattice's drift at that step shows the levels."""
    X, y, _, _ = make_patch_clamp(
        30_000, kinetics="bursting", n_channels=7, unitary_current=-1.76, noise=0.32,
        drift="random_walk", drift_amplitude=5.1, hum_amplitude=0.176, random_state=1,
    )  # fmt: skip
    hmm = AggregatedHMM(line_freq=50.0).fit(X)
    assert hmm.n_channels_ == 7
    assert hmm.unitary_current_ == pytest.approx(-1.76, rel=0.02)
    assert f1_score(y, hmm.predict(X), average="macro") > 0.99


def test_high_noise_and_drift_are_tracked_without_labels():
    """Noise 0.6 of the step and a 3-step sine drift: the levels hide in the histogram."""
    X, y, groups, baseline = make_patch_clamp(
        200_000,
        kinetics="fast",
        n_channels=1,
        unitary_current=1.0,
        noise=0.6,
        drift="sine",
        drift_amplitude=3.0,
        n_recordings=2,
        random_state=1,
    )
    hmm = AggregatedHMM().fit(X, groups=groups)
    assert hmm.unitary_current_ == pytest.approx(1.0, rel=0.03)
    error = hmm.predict_baseline(X, groups=groups) - baseline
    assert np.sqrt(np.mean(error**2)) < 0.05  # in steps (the step is 1 pA)
    assert np.mean(hmm.predict(X, groups=groups) == y) > 0.9


def test_a_given_inward_current_helps_where_the_levels_hide():
    """Noise 0.6 of the step: no peaks, so the levels come from the step search, which
    runs with the step's size; a given negative current used to fix the M-step's step to
    the other sign there (noise fitted at 16 times its value, every count wrong)."""
    X, y, _, _ = make_patch_clamp(
        100_000, kinetics="fast", n_channels=2, unitary_current=-1.0, noise=0.6,
        offset=2.0, random_state=6,
    )  # fmt: skip
    hmm = AggregatedHMM(unitary_current=-1.0, baseline="constant").fit(X)
    assert hmm.unitary_current_ == -1.0
    assert hmm.n_channels_ == 2
    assert hmm.noise_sd_ == pytest.approx(0.6, rel=0.05)
    assert np.mean(hmm.predict(X) == y) > 0.8


def test_labels_fix_the_counts_and_em_learns_the_hidden_kinetics():
    X, y, _, _ = make_patch_clamp(
        200_000, kinetics="fast", n_channels=2, noise=0.2, unitary_current=2.0, random_state=2
    )
    hmm = AggregatedHMM(baseline="constant", max_iter=20).fit(X, y)
    assert hmm.n_channels_ == 2
    assert hmm.unitary_current_ == pytest.approx(2.0, rel=0.01)
    # the open dwell (1 / O->C2 rate, 2 ms) is what the labels show directly
    assert hmm.rates_[2, 1] == pytest.approx(500.0, rel=0.1)


def test_a_baseline_a_whole_level_off_is_moved_back(monkeypatch):
    """Ten channels at an open probability of 0.6: a baseline one step low over half the
    recording explains every sample as well as the right one (one channel more open);
    only the kinetics tell, and baseline tracking alone never leaves it."""
    X, y, _, baseline = make_patch_clamp(
        60_000, kinetics="high", n_channels=10, unitary_current=1.0, noise=0.3,
        drift="ramp", drift_amplitude=2.0, random_state=5,
    )  # fmt: skip
    hmm = AggregatedHMM(sampling_rate=10_000).fit(X, y)
    # one step low from row 32,000 on (a boundary of the check's 4,000-row blocks)
    wrong = baseline - (np.arange(len(X)) >= 32_000)
    monkeypatch.setattr(AggregatedHMM, "_start_baseline", lambda *args: wrong)
    (moved,), changed = hmm._shift_levels([X[:, 0]], [wrong], hmm._params)
    assert changed
    np.testing.assert_allclose(moved, baseline, atol=0.01)  # moved by the fitted step
    assert np.mean(hmm.predict(X) == y) > 0.85
    error = hmm.predict_baseline(X) - baseline
    assert np.sqrt(np.mean(error**2)) < 0.05
    (kept,), changed = hmm._shift_levels([X[:, 0]], [baseline], hmm._params)
    assert not changed and np.array_equal(kept, baseline)


@pytest.mark.parametrize("noise", [0.25, 0.55])
def test_threads_give_the_same_fit_and_posteriors(noise):
    # recordings, candidate lattices (noise 0.55 step: the search by short EM fits) and
    # decoded series run on n_jobs threads; every transition count is summed in order
    X, _, groups, _ = make_patch_clamp(
        45_000, kinetics="bursting", n_channels=2, n_recordings=3, noise=noise,
        drift="ramp", random_state=7,
    )  # fmt: skip
    fits = [AggregatedHMM(n_jobs=n_jobs).fit(X, groups=groups) for n_jobs in (None, 2)]
    for name in ("n_channels_", "unitary_current_", "noise_sd_", "rates_", "lower_bound_"):
        np.testing.assert_array_equal(getattr(fits[0], name), getattr(fits[1], name))
    np.testing.assert_array_equal(
        fits[0].predict_proba(X, groups=groups), fits[1].predict_proba(X, groups=groups)
    )


def test_a_new_recording_at_another_offset_is_recalibrated():
    X, y, _, _ = make_patch_clamp(100_000, kinetics="slow", noise=0.2, random_state=4)
    hmm = AggregatedHMM(baseline="constant").fit(X)
    shifted = X + 7.3
    assert np.mean(hmm.predict(shifted) == y) > 0.99


def test_a_flat_recording_is_refused_with_the_reason():
    X = np.random.default_rng(0).normal(0, 0.3, (50_000, 1))
    with pytest.raises(ValueError, match="flat recording"):
        AggregatedHMM().fit(X)


def test_a_recording_too_short_to_calibrate_is_refused():
    X, _, _, _ = make_patch_clamp(500, kinetics="fast", noise=0.2, random_state=0)
    with pytest.raises(ValueError, match="needs at least 1000"):
        AggregatedHMM().fit(X)


def test_more_levels_than_channels_is_refused():
    X, _, _, _ = make_patch_clamp(
        100_000, kinetics="slow", n_channels=3, noise=0.05, random_state=5
    )
    with pytest.raises(ValueError, match="more than n_channels"):
        AggregatedHMM(n_channels=1).fit(X)


@pytest.mark.parametrize(
    ("params", "y", "match"),
    [
        ({"line_freq": 60.0, "sampling_rate": 100.0}, None, "Nyquist"),
        ({}, "negative", "open-channel counts"),
        ({"n_channels": 1}, "three", "n_channels=1"),
    ],
)
def test_bad_input_is_named(params, y, match):
    X = np.random.default_rng(0).normal(0, 1, (1000, 1))
    labels = {None: None, "negative": -np.ones(1000), "three": np.full(1000, 3)}[y]
    with pytest.raises(ValueError, match=match):
        AggregatedHMM(**params).fit(X, labels)


def test_the_sign_is_chosen_again_when_em_moves_to_another_lattice():
    # Rig B of make_rigs (4 bursting channels, -2 pA, 1 kHz filter, a random walk of two
    # steps), its second recording: calibrated as 3 channels of 3.4 pA, on which the
    # positive sign won; EM then found 4 channels of 2.1 pA and kept that sign, every
    # count read as 4 - k (macro-F1 0.18).
    from skion.datasets import make_rigs

    X, y, _, models = make_rigs(1_000_000, random_state=0)
    rig_b = models[3]
    assert rig_b.regime.startswith("B") and rig_b.step < 0
    x, labels = X[rig_b.start : rig_b.stop], y[rig_b.start : rig_b.stop]
    model = AggregatedHMM(sampling_rate=10_000, line_freq=50.0).fit(x)
    assert model.unitary_current_ < 0 and model.n_channels_ == 4
    assert f1_score(labels, model.predict(x), average="macro") > 0.9


def test_the_sign_is_chosen_again_by_the_converged_kinetics():
    # 9 channels at an open probability of 0.6: the start's short EM preferred the
    # mirror (the count read as 9 - k, sign negative) by 29 nats and the lattice never
    # changed, so the sign was not questioned again (macro-F1 0.001).
    X, y, _, _ = make_patch_clamp(
        20_000, kinetics="high", n_channels=9, unitary_current=1.5, noise=0.3, random_state=0
    )
    hmm = AggregatedHMM().fit(X)
    assert hmm.unitary_current_ > 0 and hmm.n_channels_ == 9
    assert f1_score(y, hmm.predict(X), average="macro") > 0.98


#: Random cell 3016: 6 channels at an open probability of 0.61 (+2.48 pA, noise 0.25 step).
PLACED_HIGH = {
    "n_samples": 131480,
    "kinetics": "high",
    "n_channels": 6,
    "n_recordings": 2,
    "unitary_current": 2.484135046191522,
    "offset": 0.343850024118173,
    "noise": 0.6210337615478805,
    "drift": "none",
    "drift_amplitude": 6.331925865109781,
    "hum_amplitude": 0.2484135046191522,
    "random_state": 3016,
}
#: Random cell 3010 of ``benchmarks/idealization_grid.py --draws``: 8 slow channels
#: (+0.80 pA, noise 0.19 step, a sine drift) whose two recordings visit counts 0-5 only.
CLOSE_SIGN = {
    "n_samples": 42724,
    "kinetics": "slow",
    "n_channels": 8,
    "n_recordings": 2,
    "unitary_current": 0.8008616261586305,
    "offset": -0.18941268319084337,
    "noise": 0.1521637089701398,
    "drift": "sine",
    "drift_amplitude": 0.24979093306935396,
    "hum_amplitude": 0.08008616261586306,
    "random_state": 3010,
}


def test_a_close_call_on_the_current_sign_is_a_warning():
    # Read upside down (5 channels of -0.80 pA), the recordings are 20 nats likelier
    # than read right: only slow kinetics' few transitions tell the two apart, and the
    # fit chose the wrong one (macro-F1 0.000) in silence. Given the sign: 0.9999.
    X, y, groups, _ = make_patch_clamp(**CLOSE_SIGN)
    with pytest.warns(AmbiguousFitWarning, match="current_sign='positive' or 'negative'"):
        AggregatedHMM(sampling_rate=10_000, line_freq=50.0).fit(X, groups=groups)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmbiguousFitWarning)
        hmm = AggregatedHMM(sampling_rate=10_000, line_freq=50.0, current_sign="positive")
        hmm.fit(X, groups=groups)
    assert f1_score(y, hmm.predict(X, groups=groups), average="macro") > 0.99


def test_a_sign_the_kinetics_settle_is_no_warning():
    X, y, _, _ = make_patch_clamp(
        20_000, kinetics="fast", n_channels=3, unitary_current=-1.5, noise=0.3, random_state=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmbiguousFitWarning)
        hmm = AggregatedHMM().fit(X)
    assert hmm.unitary_current_ < 0 and hmm.n_channels_ == 3
    assert f1_score(y, hmm.predict(X), average="macro") > 0.95


def test_a_given_channel_count_bounds_the_step_search():
    # The first 30,000 rows of random cell 3016 (6 channels at an open probability of
    # 0.61, noise 0.25 step): with n_channels=6 given, the step search tried steps
    # down to a twentieth of the current's range (for max_channels=10) and settled on
    # 8 levels; the full recording was refused ("shows 8 current levels, more than
    # n_channels + 1"), these rows read with every count off (macro-F1 0.038).
    X, y, groups, _ = make_patch_clamp(**PLACED_HIGH)
    x, labels = X[groups == 0][:30_000], y[groups == 0][:30_000]
    hmm = AggregatedHMM(sampling_rate=10_000, line_freq=50.0, n_channels=6).fit(x)
    assert f1_score(labels, hmm.predict(x), average="macro") > 0.95


def test_a_lattice_placed_a_step_low_with_a_channel_too_many_is_raised():
    # 15,000 rows of each of random cell 3016's recordings: fitted as 6 channels with
    # part of one recording's baseline a step up, then as 7 a step lower (which that
    # part preferred: 168 nats), every count of the other read one high (macro-F1
    # 0.006). One channel fewer, every baseline found again, is right.
    X, y, groups, _ = make_patch_clamp(**PLACED_HIGH)
    rows = np.r_[0:15_000, 65_740:80_740]
    x, labels, g = X[rows], y[rows], groups[rows]
    hmm = AggregatedHMM(sampling_rate=10_000, line_freq=50.0).fit(x, groups=g)
    assert hmm.n_channels_ == 6
    assert f1_score(labels, hmm.predict(x, groups=g), average="macro") > 0.95


def test_long_data_try_the_mirror_and_a_lower_placement_on_their_first_rows(monkeypatch, capsys):
    # On long data both candidates are fitted on the warm-up rows first and refitted on
    # every row only where they win there (EM from their starts on all of 1,000,000 rows
    # took 6 times as long as the fit). Here 20,000 rows count as long: 10 channels at
    # an open probability of 0.6, calibrated too few and too high, are still placed.
    monkeypatch.setattr("skion.hmm._fit_refinement._WARM_ROWS", 8_000)
    X, y, _, _ = make_patch_clamp(
        20_000, kinetics="high", n_channels=10, unitary_current=1.5, noise=0.3, random_state=1
    )
    hmm = AggregatedHMM(verbose=1).fit(X)
    printed = capsys.readouterr().out
    assert "EM, mirrored, on the first 8,000 rows" in printed
    assert "EM, placed, on the first 8,000 rows" in printed
    assert hmm.unitary_current_ > 0 and hmm.n_channels_ == 10
    assert f1_score(y, hmm.predict(X), average="macro") > 0.98


@pytest.mark.parametrize("seed", [0, 6])
def test_a_given_channel_count_is_placed_by_the_kinetics_too(seed):
    # 10 channels given, at an open probability of 0.6: a start at 10 channels placed the
    # lattice two steps up (seed 0: counts 9 and 10 empty, fitted open probability 0.41,
    # macro-F1 0.001) or read it upside down (seed 6: 0.099); the given count is now a
    # cap that the fit grows to, and filled after EM.
    X, y, _, _ = make_patch_clamp(
        20_000, kinetics="high", n_channels=10, unitary_current=1.5, noise=0.3, random_state=seed
    )
    hmm = AggregatedHMM(n_channels=10).fit(X)
    assert hmm.unitary_current_ > 0 and hmm.open_probability_ > 0.55
    assert f1_score(y, hmm.predict(X), average="macro") > 0.98


def test_blas_runs_on_one_thread_during_fit_and_predict(monkeypatch):
    # The rates' M-step evaluates small matrix exponentials thousands of times; on BLAS's
    # own threads, beside the recursions' threads, each took 45 times as long.
    from threadpoolctl import threadpool_info, threadpool_limits

    from skion.hmm import _aggregated, _decoding, _fit_refinement, _lattice_search

    seen = []
    original = _aggregated._e_step

    def spy(*args, **kwargs):
        seen.append({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
        return original(*args, **kwargs)

    for module in (_aggregated, _decoding, _fit_refinement, _lattice_search):
        monkeypatch.setattr(module, "_e_step", spy)
    X, _, _, _ = make_patch_clamp(
        5_000, kinetics="fast", n_channels=2, noise=0.2, unitary_current=2.0, random_state=0
    )
    with threadpool_limits(limits=2, user_api="blas"):
        hmm = AggregatedHMM(max_iter=3).fit(X)
        hmm.predict(X)
        after = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert seen and all(threads == {1} for threads in seen)
    assert after == {2}  # restored


def test_predict_stops_tracking_the_baseline_once_it_settles(monkeypatch):
    # Baseline-only rounds stop once one moves the baseline by under 0.001 step rms: the
    # counts and the baseline are those of the full four rounds, at fewer E-steps.
    from skion.hmm import _decoding

    X, y, _, _ = make_patch_clamp(
        40_000, kinetics="fast", n_channels=3, noise=0.3, unitary_current=1.5,
        drift="sine", drift_amplitude=2.0, random_state=4,
    )  # fmt: skip
    hmm = AggregatedHMM().fit(X)
    calls = []
    original = _decoding._e_step
    monkeypatch.setattr(_decoding, "_e_step", lambda *a, **k: calls.append(1) or original(*a, **k))
    counts, baseline = hmm.predict(X), hmm.predict_baseline(X)
    settled = len(calls)
    monkeypatch.setattr(_decoding, "_TRACK_TOL", 0.0)
    calls.clear()
    full_counts, full_baseline = hmm.predict(X), hmm.predict_baseline(X)
    assert settled < len(calls)
    assert np.mean(counts == full_counts) > 0.999
    assert np.sqrt(np.mean((baseline - full_baseline) ** 2)) < 0.003 * 1.5
    assert f1_score(y, counts, average="macro") > 0.95


def test_a_crawling_baseline_is_stretched_to_the_likelihood_optimum(monkeypatch):
    # 10 channels at an open probability of 0.6 under noise of half a step: baseline EM
    # moves a baseline a quarter step off by about a thousandth of a step per round. A
    # line search along its moves reaches the optimum in the same four rounds.
    from skion.hmm import _decoding

    X, y, _, baseline = make_patch_clamp(
        40_000, kinetics="high", n_channels=10, unitary_current=2.0, noise=1.0, random_state=0
    )
    hmm = AggregatedHMM(max_iter=5).fit(X, y)  # labels: the model without the baseline
    x, off = X[:, 0], baseline - 0.5  # a quarter step low

    def track():
        loglik, tracked = hmm._track(x, off, hmm._params, np.empty(len(x), np.int8))
        return loglik, np.sqrt(np.mean((tracked - baseline) ** 2)) / 2.0

    stretched_ll, stretched_error = track()
    monkeypatch.setattr(_decoding, "_CRAWL", np.inf)
    crawled_ll, crawled_error = track()
    assert crawled_error > 0.15  # EM alone barely moves it
    assert stretched_error < 0.08 and stretched_ll > crawled_ll + 50


def test_a_losing_level_shift_leaves_the_better_posterior(monkeypatch):
    # predict writes each candidate's posterior into its output: when a whole-level
    # shift of the baseline loses, the kept baseline's posterior must be written back
    from skion.hmm import _decoding

    X, y, _, _ = make_patch_clamp(20_000, n_channels=3, noise=0.3, random_state=0)
    hmm = AggregatedHMM(n_channels=3).fit(X, y)
    monkeypatch.setattr(_decoding, "_SHIFT_ROUNDS", 0)
    unshifted = hmm.predict_proba(X)
    monkeypatch.setattr(_decoding, "_SHIFT_ROUNDS", 1)
    proposed = []

    def one_level_up(xs, baselines, params):
        proposed.append(True)
        return [b + params.step for b in baselines], True  # every row a level off: worse

    monkeypatch.setattr(hmm, "_shift_levels", one_level_up)
    np.testing.assert_allclose(hmm.predict_proba(X), unshifted, atol=1e-12)
    assert proposed


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_memory_of_decoding_does_not_hold_rows_by_states(method):
    # one recording of 6 channels: emissions and posteriors are made a chunk at a time
    # and written straight into the output. Peak beyond the output per added row:
    # measured 59 (predict) and 66 bytes (predict_proba: beyond its own 56) where whole-
    # recording emissions and posteriors took 251 and 204
    X, y, _, _ = make_patch_clamp(100_000, n_channels=6, noise=0.3, random_state=0)
    hmm = AggregatedHMM(n_channels=6).fit(X, y)
    per_row = bytes_per_row_beyond_output(getattr(hmm, method), np.resize(X, (600_000, 1)))
    assert per_row < 120, per_row


def test_em_without_labels_recovers_the_rates_of_a_million_samples():
    # The generator's C1-C2-O scheme ("fast": 300, 600, 1200, 500 s^-1) on two channels,
    # fitted without labels: every rate within 10 % (measured 0.5-5 %).
    from skion.datasets._ion_switching import KINETICS

    X, _, _, _ = make_patch_clamp(
        1_000_000, kinetics="fast", n_channels=2, unitary_current=1.5, noise=0.3, random_state=0
    )
    hmm = AggregatedHMM().fit(X)
    Q = KINETICS["fast"][0]
    edges = ~np.eye(3, dtype=bool) & (Q != 0)
    assert hmm.n_channels_ == 2
    np.testing.assert_allclose(hmm.rates_[edges], Q[edges], rtol=0.1)

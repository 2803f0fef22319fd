"""make_ion_switching (Markov-gated channel simulator) and its exact Bayes oracle."""

import itertools

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.stats import multinomial
from sklearn.metrics import f1_score

from skion.datasets._ion_switching import KINETICS, REGIMES, make_ion_switching
from skion.datasets._oracle import aggregated_chain, oracle_proba

DT = 1e-4


def _runs(mask):
    """Lengths of the runs of True in ``mask``, without the (censored) first and last run."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = edges[::2], edges[1::2]
    interior = (starts > 0) & (stops < len(mask))
    return (stops - starts)[interior]


def _sojourn_survival(P, pi, subset, lengths):
    """P(sojourn in ``subset`` >= L) of the discrete chain, for every L in ``lengths``.

    Entry distribution: stationary flux into the subset, ``pi_out @ P[out, subset]``.
    """
    inside = np.zeros(len(pi), dtype=bool)
    inside[subset] = True
    entry = pi[~inside] @ P[np.ix_(~inside, inside)]
    entry /= entry.sum()
    P_in = P[np.ix_(inside, inside)]
    mean = entry @ np.linalg.solve(np.eye(inside.sum()) - P_in, np.ones(inside.sum()))
    survival = [
        entry @ np.linalg.matrix_power(P_in, L - 1) @ np.ones(inside.sum()) for L in lengths
    ]
    return mean, np.array(survival)


# ----------------------------------------------------------------------------- generator


def test_shapes_and_dtypes():
    X, y, groups = make_ion_switching(20_000, random_state=0)
    assert X.shape == (20_000, 1) and X.dtype == np.float32
    assert y.shape == (20_000,) and y.dtype == np.int64
    assert groups.shape == (20_000,) and np.issubdtype(groups.dtype, np.integer)
    X, y, groups = make_ion_switching(1_001, regime="3_channels", random_state=0)
    assert X.shape == (1_001, 1) and set(np.unique(groups)) == {0}
    assert y.min() >= 0 and y.max() <= 3


def test_deterministic_with_random_state():
    a = make_ion_switching(30_000, drift=True, random_state=7)
    b = make_ion_switching(30_000, drift=True, random_state=7)
    c = make_ion_switching(30_000, drift=True, random_state=8)
    for first, second in zip(a, b, strict=True):
        np.testing.assert_array_equal(first, second)
    assert not np.array_equal(a[0], c[0])
    rs = np.random.RandomState(3)
    np.testing.assert_array_equal(
        make_ion_switching(5_000, random_state=rs)[0],
        make_ion_switching(5_000, random_state=np.random.RandomState(3))[0],
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mixed_has_every_class_and_groups_per_recording(seed):
    _, y, groups, model = make_ion_switching(200_003, random_state=seed, return_model=True)
    assert np.unique(y).tolist() == list(range(11))
    assert len(model) == 10
    # groups: ids 0..9 in row order, one contiguous block per recording, sizes differ by <= 1
    assert np.all(np.diff(groups) >= 0)
    sizes = np.bincount(groups)
    assert sizes.tolist() == [20_001, 20_001, 20_001] + [20_000] * 7
    for gid, rec in enumerate(model):
        assert np.all(groups[rec.start : rec.stop] == gid)
        assert y[rec.start : rec.stop].max() <= rec.n_channels
    assert [rec.n_channels for rec in model] == [1, 1, 1, 3, 10, 5, 1, 3, 5, 10]
    assert [rec.drift for rec in model].count("none") == 5  # competition-like default


@pytest.mark.parametrize("regime", sorted(REGIMES))
def test_levels_at_offset_plus_k_steps(regime):
    X, y, _, (rec,) = make_ion_switching(
        60_000,
        regime=regime,
        line_hum=0.3,
        drift="sine",
        offset=-1.5,
        step=1.1,
        random_state=1,
        return_model=True,
    )
    residual = X[:, 0] - rec.hum_and_drift()
    for k in np.unique(y):
        values = residual[y == k]
        if len(values) < 50:
            continue
        tol = 5 * rec.noise / np.sqrt(len(values)) + 1e-4
        assert abs(values.mean() - (-1.5 + 1.1 * k)) < tol
    # noise sd about each level
    centred = residual - (-1.5 + 1.1 * y)
    assert centred.std() == pytest.approx(rec.noise, rel=0.03)


def test_levels_without_hum_or_drift():
    X, y, _ = make_ion_switching(
        50_000, regime="5_channels", line_hum=0, drift=False, noise=0.2, random_state=2
    )
    for k in np.unique(y):
        values = X[y == k, 0]
        if len(values) >= 50:
            assert abs(values.mean() - (-2.7 + 1.23 * k)) < 5 * 0.2 / np.sqrt(len(values))


def test_hum_and_drift_are_as_documented():
    _, _, _, model = make_ion_switching(
        100_000, drift=True, line_hum=0.1, random_state=0, return_model=True
    )
    for rec in model:
        extra = rec.hum_and_drift()
        assert rec.drift in ("sine", "ramp") and 2 <= abs(rec.drift_amplitude) <= 5
        hum = 0.1 * np.sin(2 * np.pi * 50 * np.arange(rec.n_samples) * DT + rec.hum_phase)
        drift = extra - hum
        if rec.drift == "ramp":
            np.testing.assert_allclose(drift[[0, -1]], [0, rec.drift_amplitude], atol=1e-12)
        else:
            assert drift[0] == pytest.approx(0) and drift.max() == pytest.approx(
                rec.drift_amplitude, rel=1e-6
            )
        np.testing.assert_allclose(rec.baseline(), rec.offset + extra)
    _, _, _, (rec,) = make_ion_switching(
        1_000, regime="1_slow", line_hum=0, random_state=0, return_model=True
    )
    assert rec.drift == "none" and np.all(rec.hum_and_drift() == 0)


def test_model_exposes_exact_chain():
    _, _, _, model = make_ion_switching(
        10_000, regime="10_channels", random_state=0, return_model=True
    )
    (rec,) = model
    Q, mask, _ = KINETICS["high"]
    np.testing.assert_array_equal(rec.rates, Q)
    np.testing.assert_allclose(rec.transition, expm(Q * DT), atol=1e-12)
    np.testing.assert_allclose(rec.stationary @ rec.rates, 0, atol=1e-9)
    np.testing.assert_array_equal(rec.open_states, mask)
    assert (rec.start, rec.stop, rec.n_channels, rec.noise, rec.step) == (
        0,
        10_000,
        10,
        0.40,
        1.23,
    )


@pytest.mark.parametrize(
    ("kinetics", "n_samples"), [("fast", 200_000), ("slow", 600_000), ("bursting", 200_000)]
)
def test_single_channel_dwell_times_match_rates(kinetics, n_samples):
    _, y, _, (rec,) = make_ion_switching(
        n_samples,
        regime="1_fast",
        kinetics=kinetics,
        line_hum=0,
        random_state=3,
        return_model=True,
    )
    P, pi, Q = rec.transition, rec.stationary, rec.rates
    open_idx = np.flatnonzero(rec.open_states)
    closed_idx = np.flatnonzero(~rec.open_states)
    for idx, dwell in [(open_idx, _runs(y == 1)), (closed_idx, _runs(y == 0))]:
        lengths = np.array([5, 20, 60])
        mean, survival = _sojourn_survival(P, pi, idx, lengths)
        assert len(dwell) > 100
        # mean dwell within 4 standard errors (the dwell sd is about its mean or less)
        assert abs(dwell.mean() - mean) < 4 * dwell.std() / np.sqrt(len(dwell))
        # the shape of the dwell distribution, not only its mean
        for L, s in zip(lengths, survival, strict=True):
            se = np.sqrt(s * (1 - s) / len(dwell))
            assert abs(np.mean(dwell >= L) - s) < 4 * se + 1e-3
    if len(open_idx) == 1:
        # C-C-O: open dwell is geometric ~ exponential with rate = total exit rate from O
        exit_rate = -Q[open_idx[0], open_idx[0]]
        assert abs(_runs(y == 1).mean() * DT * exit_rate - 1) < 0.15
    # fraction of time open: the stationary probability (loose: samples are correlated)
    assert np.mean(y) == pytest.approx(pi[open_idx].sum(), abs=0.05)


def test_custom_kinetics_and_n_channels():
    Q = [[0, 500.0], [800.0, 0]]  # diagonal is ignored
    _, y, _, (rec,) = make_ion_switching(
        20_000,
        regime="3_channels",
        n_channels=7,
        kinetics=(Q, [1]),
        random_state=0,
        return_model=True,
    )
    assert rec.kinetics == "custom" and rec.n_channels == 7 and y.max() <= 7
    np.testing.assert_allclose(rec.rates, [[-500, 500], [800, -800]])
    assert np.mean(y) == pytest.approx(7 * 500 / 1300, abs=0.3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"regime": "3"}, "'regime' parameter"),
        ({"regime": "1_slow", "n_channels": 0}, "'n_channels' parameter"),
        ({"regime": "1_slow", "n_channels": 11}, "'n_channels' parameter"),
        ({"regime": "1_slow", "n_channels": 2.5}, "'n_channels' parameter"),
        ({"n_channels": 3}, "cannot be combined with regime='mixed'"),
        ({"noise": 0}, "'noise' parameter"),
        ({"noise": -0.1}, "'noise' parameter"),
        ({"noise": float("inf")}, "'noise' parameter"),
        ({"step": 0}, "'step' parameter"),
        ({"line_hum": -1}, "'line_hum' parameter"),
        ({"drift": "cubic"}, "'drift' parameter"),
        ({"offset": float("nan")}, "'offset' parameter"),
        ({"kinetics": "medium"}, "'kinetics' parameter"),
        ({"kinetics": ([[0, 1], [0, 0]], [1])}, "positive exit rate"),
        ({"kinetics": ([[0, 1], [1, 0]], [0, 1])}, "some, but not all"),
        ({"n_samples": 0}, "'n_samples' parameter"),
        ({"n_samples": "many"}, "'n_samples' parameter"),
        ({"n_samples": 10.5}, "'n_samples' parameter"),
        ({"n_samples": True}, "'n_samples' parameter .* not the boolean"),
        ({"drift": "ramp", "noise": "loud"}, "'noise' parameter"),
        ({"n_samples": 5}, "needs n_samples >= 10"),
    ],
)
def test_bad_input(kwargs, match):
    kwargs = {"n_samples": 1_000, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_ion_switching(**kwargs)


def test_generation_is_well_inside_the_speed_budget():
    """The issue's budget is 5 M samples in 30 s on 2 cores; 500 k must take well under 3 s."""
    import time

    start = time.perf_counter()
    make_ion_switching(500_000, random_state=0)
    assert time.perf_counter() - start < 3.0


# ----------------------------------------------------------------------------- oracle


@pytest.mark.parametrize(("n_states", "n_channels"), [(2, 3), (3, 2), (4, 2), (3, 3)])
def test_aggregated_chain_matches_lumped_product_chain(n_states, n_channels):
    rng = np.random.default_rng(n_states * 10 + n_channels)
    P = rng.random((n_states, n_states)) + np.eye(n_states)
    P /= P.sum(axis=1, keepdims=True)
    mask = np.arange(n_states) >= n_states - 1
    counts, agg, n_open = aggregated_chain(P, mask, n_channels)
    assert len(counts) == len({tuple(c) for c in counts})
    np.testing.assert_allclose(agg.sum(axis=1), 1)
    np.testing.assert_array_equal(n_open, counts[:, mask].sum(axis=1))
    # brute force: the product chain over all channel configurations, lumped by occupancy
    configs = list(itertools.product(range(n_states), repeat=n_channels))
    lookup = {tuple(c): i for i, c in enumerate(counts)}
    occupancy = [lookup[tuple(np.bincount(c, minlength=n_states))] for c in configs]
    expected = np.zeros_like(agg)
    for source in configs:  # one representative per occupancy suffices (lumpable chain)
        row = lookup[tuple(np.bincount(source, minlength=n_states))]
        if expected[row].sum() > 0:
            continue
        for dest, j in zip(configs, occupancy, strict=True):
            expected[row, j] += np.prod([P[a, b] for a, b in zip(source, dest, strict=True)])
    np.testing.assert_allclose(agg, expected, atol=1e-13)


@pytest.mark.parametrize("regime", ["3_channels", "5_channels", "10_channels"])
def test_multi_channel_switching_rate_matches_aggregated_chain(regime):
    """Sum of simulated channels vs the exact aggregated chain: mean and change rate."""
    _, y, _, (rec,) = make_ion_switching(100_000, regime=regime, random_state=0, return_model=True)
    counts, agg, n_open = aggregated_chain(rec.transition, rec.open_states, rec.n_channels)
    pi = multinomial.pmf(counts, rec.n_channels, rec.stationary)  # stationary law
    np.testing.assert_allclose(pi @ agg, pi, atol=1e-12)
    change_rate = (pi[:, None] * agg * (n_open[:, None] != n_open[None, :])).sum()
    assert np.mean(y[1:] != y[:-1]) == pytest.approx(change_rate, rel=0.04)
    assert np.mean(y) == pytest.approx(pi @ n_open, rel=0.05)


def test_oracle_is_normalised_respects_channels_and_beats_naive_rounding():
    X, y, _, model = make_ion_switching(60_000, random_state=0, return_model=True)
    proba = oracle_proba(X, model)
    assert proba.shape == (60_000, 11)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-9)
    for rec in model:
        assert np.all(proba[rec.start : rec.stop, rec.n_channels + 1 :] == 0)
    oracle_f1 = f1_score(y, proba.argmax(axis=1), average="macro")
    offset, step = model[0].offset, model[0].step
    naive = np.clip(np.round((X[:, 0] - offset) / step), 0, 10).astype(int)
    naive_f1 = f1_score(y, naive, average="macro")
    assert oracle_f1 > 0.8
    assert oracle_f1 > naive_f1 + 0.1
    # even knowing hum and drift exactly, pointwise rounding is worse than the posterior
    baseline = np.concatenate([rec.baseline() for rec in model])
    aligned = np.clip(np.round((X[:, 0] - baseline) / step), 0, 10).astype(int)
    assert oracle_f1 > f1_score(y, aligned, average="macro")


def test_oracle_bad_input():
    X, _, _, model = make_ion_switching(1_000, random_state=0, return_model=True)
    with pytest.raises(ValueError, match="covers 1000 rows but X has 999"):
        oracle_proba(X[:-1], model)
    with pytest.raises(ValueError, match="contiguously"):
        oracle_proba(X, model[1:])
    with pytest.raises(ValueError, match="n_classes=5 is too small"):
        oracle_proba(X, model, n_classes=5)


def test_numpy_bool_drift_is_accepted():
    _, _, _, model = make_ion_switching(1_000, drift=np.True_, random_state=0, return_model=True)
    assert all(rec.drift in ("sine", "ramp") for rec in model)

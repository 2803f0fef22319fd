"""forward_backward: exact against brute-force path enumeration, normalised, stable."""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from skion.hmm import forward_backward


def _random_hmm(rng, n_samples, n_states):
    A = rng.random((n_states, n_states)) + np.eye(n_states)
    A /= A.sum(axis=1, keepdims=True)
    initial = rng.random(n_states)
    initial /= initial.sum()
    log_em = rng.normal(scale=2.0, size=(n_samples, n_states))
    return log_em, A, initial


def _brute_force(log_em, A, initial):
    """Posterior and log-likelihood by enumerating every state path."""
    n_samples, n_states = log_em.shape
    paths = np.array(list(itertools.product(range(n_states), repeat=n_samples)))
    t = np.arange(n_samples)
    log_p = np.log(initial[paths[:, 0]]) + log_em[t, paths].sum(axis=1)
    log_p += np.log(A[paths[:, :-1], paths[:, 1:]]).sum(axis=1)
    weights = np.exp(log_p - logsumexp(log_p))
    posterior = np.zeros((n_samples, n_states))
    for step in range(n_samples):
        np.add.at(posterior[step], paths[:, step], weights)
    return posterior, logsumexp(log_p)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_enumeration(seed):
    log_em, A, initial = _random_hmm(np.random.default_rng(seed), n_samples=5, n_states=3)
    expected, expected_ll = _brute_force(log_em, A, initial)
    posterior, ll = forward_backward(log_em, A, initial, return_log_likelihood=True)
    np.testing.assert_allclose(posterior, expected, rtol=1e-10, atol=1e-12)
    assert ll == pytest.approx(expected_ll, rel=1e-10)


def test_rows_sum_to_one_and_non_negative():
    log_em, A, initial = _random_hmm(np.random.default_rng(3), n_samples=2000, n_states=11)
    posterior = forward_backward(log_em, A, initial)
    assert posterior.shape == (2000, 11)
    assert np.all(posterior >= 0)
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0, atol=1e-12)


def test_stable_with_very_negative_log_emissions():
    rng = np.random.default_rng(4)
    log_em, A, initial = _random_hmm(rng, n_samples=500, n_states=4)
    reference = forward_backward(log_em, A, initial)
    # a huge per-row shift and large spreads must neither underflow nor overflow
    shifted = log_em * 50 - 1e6 - rng.random((500, 1)) * 1e5
    posterior = forward_backward(shifted, A, initial)
    assert np.all(np.isfinite(posterior))
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(
        forward_backward(log_em - 1e6, A, initial), reference, rtol=1e-9, atol=1e-12
    )


def test_impossible_states_are_excluded():
    A = np.full((3, 3), 1 / 3)
    log_em = np.zeros((4, 3))
    log_em[2, 1] = -np.inf
    posterior = forward_backward(log_em, A, np.ones(3))
    assert posterior[2, 1] == 0.0
    np.testing.assert_allclose(posterior.sum(axis=1), 1.0)


def test_sticky_chain_smooths_an_outlier():
    A = np.array([[0.99, 0.01], [0.01, 0.99]])
    log_em = np.log(np.tile([0.8, 0.2], (21, 1)))
    log_em[10] = np.log([0.3, 0.7])
    posterior = forward_backward(log_em, A, [0.5, 0.5])
    assert posterior[10, 0] > 0.9


@pytest.mark.parametrize(
    ("log_em", "A", "initial", "match"),
    [
        (np.zeros(3), np.eye(3), np.ones(3), "2-D"),
        (np.zeros((4, 3)), np.eye(2), np.ones(3), "transition must have shape"),
        (np.zeros((4, 3)), np.eye(3), np.ones(2), "initial must have shape"),
        (np.zeros((4, 2)), [[0.5, 0.6], [0.5, 0.5]], np.ones(2), "sum to 1"),
        (np.zeros((4, 2)), [[1.5, -0.5], [0.5, 0.5]], np.ones(2), "non-negative"),
        (np.full((4, 2), np.nan), np.eye(2), np.ones(2), "NaN"),
        (np.full((4, 2), -np.inf), np.eye(2), np.ones(2), "-inf for every state at row 0"),
    ],
)
def test_bad_input(log_em, A, initial, match):
    with pytest.raises(ValueError, match=match):
        forward_backward(log_em, A, initial)


def test_zero_probability_sequence_is_reported():
    # identity transitions: the state can never change, but emissions demand a change
    log_em = np.array([[0.0, -np.inf], [-np.inf, 0.0]])
    with pytest.raises(ValueError, match="probability zero"):
        forward_backward(log_em, np.eye(2), [0.5, 0.5])

"""HMMClassifier: closed-form fit, exact posteriors, decoding, groups and errors."""

import importlib.util
import itertools

import numpy as np
import pytest
from sklearn.metrics import f1_score

from skion import HMMClassifier
from skion.datasets import make_ion_switching, make_telegraph

from .conftest import bytes_per_row_beyond_output

HAS_HMMLEARN = importlib.util.find_spec("hmmlearn") is not None


def test_transitions_are_counted_inside_recordings_only():
    X = np.arange(6.0)[:, None]
    y = np.array([0, 0, 1, 1, 0, 0])
    groups = np.array([0, 0, 0, 1, 1, 1])
    hmm = HMMClassifier(pseudo_count=0.0).fit(X, y, groups=groups)
    # Pairs: (0,0), (0,1) in recording 0; (1,0), (0,0) in recording 1; (1,1) crosses.
    np.testing.assert_allclose(hmm.transmat_, [[2 / 3, 1 / 3], [1.0, 0.0]])
    np.testing.assert_allclose(hmm.startprob_, [4 / 6, 2 / 6])


def test_emissions_are_class_means_and_pooled_variance():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 30_000)
    X = (1.5 * y + rng.normal(0, 0.3, y.size))[:, None]
    shared = HMMClassifier().fit(X, y)
    np.testing.assert_allclose(shared.means_[:, 0], [0.0, 1.5, 3.0], atol=0.01)
    np.testing.assert_allclose(shared.vars_[:, 0], 0.09, rtol=0.03)
    X[y == 2] += rng.normal(0, 0.6, (np.sum(y == 2), 1))
    per_class = HMMClassifier(covariance="per_class").fit(X, y)
    np.testing.assert_allclose(per_class.vars_[:, 0], [0.09, 0.09, 0.45], rtol=0.05)


def _brute_force_posterior(hmm, X):
    """Enumerate every state path of a short chain: the exact posterior, no recursion."""
    log_e = hmm._log_emission(X)
    n, k = log_e.shape
    posterior = np.zeros((n, k))
    for path in itertools.product(range(k), repeat=n):
        log_p = np.log(hmm.startprob_[path[0]]) + log_e[0, path[0]]
        for t in range(1, n):
            log_p += np.log(hmm.transmat_[path[t - 1], path[t]]) + log_e[t, path[t]]
        posterior[np.arange(n), path] += np.exp(log_p)
    return posterior / posterior.sum(axis=1, keepdims=True)


IMPLEMENTATIONS = [
    "compiled",
    "numpy",
    pytest.param("hmmlearn", marks=pytest.mark.skipif(not HAS_HMMLEARN, reason="no hmmlearn")),
]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_posterior_matches_brute_force_on_a_tiny_chain(implementation):
    X, y = make_telegraph(3000, n_channels=2, noise=0.6, random_state=3)
    hmm = HMMClassifier(implementation=implementation).fit(X, y)
    short = X[100:106]
    proba = hmm.predict_proba(short)
    np.testing.assert_allclose(proba, _brute_force_posterior(hmm, short), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_viterbi_is_the_most_probable_path(implementation):
    X, y = make_telegraph(3000, n_channels=2, noise=0.6, random_state=4)
    hmm = HMMClassifier(decoder="viterbi", implementation=implementation).fit(X, y)
    short = X[200:207]
    log_e = hmm._log_emission(short)

    def log_joint(path):
        return (
            np.log(hmm.startprob_[path[0]])
            + log_e[0, path[0]]
            + sum(
                np.log(hmm.transmat_[path[t - 1], path[t]]) + log_e[t, path[t]]
                for t in range(1, len(path))
            )
        )

    best = max(itertools.product(range(3), repeat=len(short)), key=log_joint)
    np.testing.assert_array_equal(hmm.predict(short), hmm.classes_[list(best)])


def test_beats_pointwise_rounding_on_ion_switching_data():
    X, y, _ = make_ion_switching(200_000, regime="5_channels", random_state=0, drift=False)
    hmm = HMMClassifier().fit(X[:100_000], y[:100_000])
    hmm_f1 = f1_score(y[100_000:], hmm.predict(X[100_000:]), average="macro")
    nearest = np.argmin(np.abs(X[100_000:] - hmm.means_[:, 0]), axis=1)
    rounding_f1 = f1_score(y[100_000:], hmm.classes_[nearest], average="macro")
    assert hmm_f1 > rounding_f1 + 0.02
    assert hmm_f1 > 0.8


def test_string_labels_and_extra_columns():
    X, y = make_telegraph(5000, n_channels=1, noise=0.3, random_state=6)
    labels = np.array(["closed", "open"])[y]
    X2 = np.hstack([X, np.random.default_rng(0).normal(size=X.shape)])  # an uninformative column
    hmm = HMMClassifier().fit(X2, labels)
    assert hmm.means_.shape == (2, 2)
    assert set(hmm.predict(X2)) <= {"closed", "open"}
    assert (hmm.predict(X2) == labels).mean() > 0.95


def test_stable_on_long_recordings():
    X, y = make_telegraph(300_000, n_channels=3, noise=0.3, random_state=7)
    proba = HMMClassifier().fit(X, y).predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.full((10, 1), np.nan), np.arange(10) % 2, "Input X contains NaN"),
        (np.zeros(10), np.arange(10) % 2, "Expected 2D array"),
        (np.zeros((10, 1)), np.arange(9) % 2, "inconsistent numbers of samples"),
        (np.zeros((10, 1)), np.linspace(0, 1, 10), "Unknown label type"),
        (np.zeros((10, 1)), np.arange(10) % 2, "Emission variance is zero"),
    ],
)
def test_bad_input(X, y, message):
    with pytest.raises(ValueError, match=message):
        HMMClassifier(var_smoothing=0.0).fit(X, y)


def test_bad_parameters_and_unfitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(ValueError, match="'decoder' parameter of HMMClassifier"):
        HMMClassifier(decoder="beam").fit(np.arange(4.0)[:, None], [0, 1, 0, 1])
    with pytest.raises(NotFittedError):
        HMMClassifier().predict(np.zeros((3, 1)))


@pytest.mark.parametrize(
    ("implementation", "chunk", "atol"),
    [
        ("compiled", None, 1e-10),
        ("compiled", 512, 1e-10),  # every recording crosses chunk and checkpoint boundaries
        pytest.param(
            "hmmlearn", None, 1e-8,
            marks=pytest.mark.skipif(not HAS_HMMLEARN, reason="no hmmlearn"),
        ),
    ],
)  # fmt: skip
def test_decoders_agree_with_numpy_on_long_multi_recording_input(
    monkeypatch, implementation, chunk, atol
):
    from skion.hmm import _count_kernels

    if chunk is not None:
        monkeypatch.setattr(_count_kernels, "CHUNK", chunk)
        monkeypatch.setattr(_count_kernels, "BLOCK", 128)
    X, y, groups = make_ion_switching(60_000, random_state=1)
    numpy_hmm = HMMClassifier(implementation="numpy").fit(X, y, groups=groups)
    other = HMMClassifier(implementation=implementation).fit(X, y, groups=groups)
    np.testing.assert_allclose(
        other.predict_proba(X, groups=groups), numpy_hmm.predict_proba(X, groups=groups), atol=atol
    )
    for hmm in (numpy_hmm, other):
        hmm.set_params(decoder="viterbi")
    np.testing.assert_array_equal(
        other.predict(X, groups=groups), numpy_hmm.predict(X, groups=groups)
    )


@pytest.mark.parametrize("decoder", ["posterior", "viterbi"])
def test_memory_does_not_grow_with_the_length_of_a_recording(decoder):
    # one recording of 11 classes, peak memory beyond the labels per added row:
    # measured 1.2 bytes (posterior) and 4 (Viterbi: one-byte back-pointers) where the
    # numpy decoder's lattices took 553 and 113, and hmmlearn's 836 and 185
    X, y, _ = make_ion_switching(100_000, regime="10_channels", random_state=0)
    hmm = HMMClassifier(decoder=decoder).fit(X, y)
    X_long = np.resize(X, (600_000, 1))
    per_row = bytes_per_row_beyond_output(hmm.predict, X_long)
    assert per_row < 20, per_row


def test_missing_hmmlearn_is_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "hmmlearn", None)
    monkeypatch.setitem(sys.modules, "hmmlearn.hmm", None)
    X, y = make_telegraph(1000, random_state=0)
    with pytest.raises(ImportError, match=r"pip install \"skion\[hmm\]\""):
        HMMClassifier(implementation="hmmlearn").fit(X, y).predict(X)
    assert HMMClassifier().fit(X, y).predict_proba(X).shape == (1000, 2)  # auto: compiled

"""The amplifier's low-pass filter: its cut-off read from a recording, undone, and
AggregatedHMM on filtered recordings."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from skion import AggregatedHMM
from skion.datasets import make_patch_clamp
from skion.datasets._ion_switching import bessel_lowpass
from skion.hmm._filter import decimation, estimate_filter_cutoff, undo_filter
from skion.preprocessing import resample_recordings


def _recording(cutoff, *, rate=10_000.0, kinetics="fast", n_channels=3, seed=0, n=80_000):
    return make_patch_clamp(
        n,
        kinetics=kinetics,
        n_channels=n_channels,
        unitary_current=0.8,
        offset=3.0,
        noise=0.3,
        sampling_rate=rate,
        filter_cutoff=cutoff,
        drift="ramp",
        drift_amplitude=1.0,
        random_state=seed,
    )


@pytest.mark.parametrize(
    ("cutoff", "rate"), [(500.0, 10_000.0), (2_000.0, 10_000.0), (4_000.0, 20_000.0)]
)
def test_the_cutoff_is_read_from_the_spectrum(cutoff, rate):
    X, *_ = _recording(cutoff, rate=rate)
    estimate = estimate_filter_cutoff(X[:, 0], rate)
    assert 0.75 * cutoff < estimate < 1.1 * cutoff


@pytest.mark.parametrize("kinetics", ["slow", "fast", "high"])
def test_unfiltered_and_resampled_recordings_read_as_unfiltered(kinetics):
    X, _, groups, _ = _recording(None, rate=5_000.0, kinetics=kinetics, n_channels=5)
    assert estimate_filter_cutoff(X[:, 0], 5_000.0) is None
    # resample_poly's filter is a brick wall, not a Bessel filter: left alone
    X, groups, _ = resample_recordings(X, groups, sampling_rate=5_000.0, target_rate=10_000.0)
    assert estimate_filter_cutoff(X[:, 0], 10_000.0) is None
    assert estimate_filter_cutoff(X[:500, 0], 10_000.0) is None  # too short to tell


def test_undoing_the_filter_restores_sharp_steps_in_place():
    rng = np.random.default_rng(0)
    clean = np.repeat(rng.integers(0, 3, 2_000), 50).astype(float)
    clean += 0.1 * rng.standard_normal(len(clean))
    filtered = bessel_lowpass(clean, 1_000.0, 10_000.0)
    undone = undo_filter(filtered, 1_000.0, 10_000.0)
    assert undone.shape == clean.shape
    error = np.sqrt(np.mean((undone - clean) ** 2))
    assert error < 0.4 * np.sqrt(np.mean((filtered - clean) ** 2))
    lags = range(-3, 4)  # no shift in time
    assert min(lags, key=lambda lag: np.mean((np.roll(undone, lag) - clean) ** 2)) == 0


def test_decimation_keeps_the_kept_samples_nearly_independent():
    assert decimation(None, 10_000.0) == 1
    assert decimation(2_000.0, 10_000.0) == 1
    assert decimation(1_000.0, 10_000.0) == 2
    assert decimation(500.0, 10_000.0) == 3
    # the hum fitted at 50 Hz and 2 harmonics (150 Hz) stays below the kept rate's Nyquist
    assert decimation(50.0, 5_000.0) == 15
    assert decimation(50.0, 5_000.0, highest_hum=150.0) == 15
    assert decimation(50.0, 5_000.0, highest_hum=180.0) == 12


@pytest.mark.parametrize(("kinetics", "cutoff"), [("high", 2_000.0), ("fast", 1_000.0)])
def test_filtered_recordings_are_idealized_on_their_own_lattice(kinetics, cutoff):
    # modelled as they are: 12 levels found for 3 channels (refused), and a step 8 %
    # short (F1 0.73)
    X, y, _, _ = _recording(cutoff, kinetics=kinetics)
    try:
        as_is = AggregatedHMM(filter_cutoff=None).fit(X)
        as_is = f1_score(y, as_is.predict(X), average="macro")
    except ValueError as error:
        assert "12 current levels" in str(error)
        as_is = 0.0
    hmm = AggregatedHMM().fit(X)
    assert hmm.filter_cutoff_ == pytest.approx(cutoff, rel=0.25)
    assert hmm.n_channels_ == 3
    assert hmm.unitary_current_ == pytest.approx(0.8, rel=0.03)
    assert f1_score(y, hmm.predict(X), average="macro") > max(0.9, as_is + 0.1)


def test_a_given_cutoff_is_used_and_checked():
    X, _, _, _ = _recording(1_000.0, n=40_000)
    hmm = AggregatedHMM(filter_cutoff=1_000.0).fit(X)
    assert hmm.filter_cutoff_ == 1_000.0
    proba = hmm.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)  # every phase decoded
    with pytest.raises(ValueError, match=r"filter_cutoff=6000\.0 Hz must be below the Nyquist"):
        AggregatedHMM(filter_cutoff=6_000.0).fit(X)

"""skion's own common checks, run on every estimator beside scikit-learn's.

Rows are time samples and ``groups`` names the recording of each row, which
scikit-learn's checks know nothing about. Every skion estimator must:

- process each recording alone: its rows of the output are the same whether it is given
  alone or beside others, in any order of the recordings;
- keep one output row per input row;
- receive ``groups`` through ``fit_transform`` and through a ``Pipeline`` with metadata
  routing, without a ``set_*_request`` call (the class-level default);
- find the recordings once per call (the labels scanned once), and accept recordings
  already found (:class:`skion.windowing.Recordings`) for ``groups``.
"""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from skion import (
    AggregatedHMM,
    HMMClassifier,
    LatticeDetrender,
    LatticeScaler,
    SequenceUNetClassifier,
    ZScoreWindower,
)
from skion.datasets import make_patch_clamp
from skion.preprocessing import ContextFeatures, RecordingCleaner, RecordingScaler
from skion.windowing import Recordings, _recordings, _windows

from .conftest import TINY

#: Every estimator, small enough to fit in seconds.
ESTIMATORS = [
    SequenceUNetClassifier(**TINY),
    HMMClassifier(),
    AggregatedHMM(n_channels=3),
    LatticeDetrender(),
    LatticeScaler(),
    ZScoreWindower(context=2, rolling_windows=(5,)),
    RecordingCleaner(detrend="median", detrend_window=5000, notch_freq=50.0),
    RecordingScaler(scope="recording"),
    ContextFeatures(context=2, rolling_windows=(5,)),
]


def _ids(estimator):
    return type(estimator).__name__


def _output(estimator, X, groups=None):
    method = estimator.transform if hasattr(estimator, "transform") else estimator.predict_proba
    return method(X, groups=groups)


@pytest.fixture(scope="module")
def recordings():
    """Two recordings of three channels at different offsets, 20,000 and 16,000 rows."""
    parts = [
        make_patch_clamp(
            n, n_channels=3, unitary_current=1.2, offset=offset, noise=0.3, random_state=seed
        )[:2]
        for n, offset, seed in ((20_000, 0.0, 0), (16_000, 2.0, 1))
    ]
    X = np.concatenate([X for X, _ in parts]).astype(np.float32)
    y = np.concatenate([y for _, y in parts])
    groups = np.repeat([0, 1], [len(X) for X, _ in parts])
    return X, y, groups


@pytest.fixture(scope="module", params=ESTIMATORS, ids=_ids)
def fitted(request, recordings):
    X, y, groups = recordings
    return clone(request.param).fit(X, y, groups=groups)


def test_each_recording_is_processed_alone_in_any_order(fitted, recordings):
    X, _, groups = recordings
    together = _output(fitted, X, groups)
    assert len(together) == len(X)
    first, second = groups == 0, groups == 1
    for rows in (first, second):
        np.testing.assert_allclose(_output(fitted, X[rows]), together[rows], atol=1e-5)
    swapped_groups = np.concatenate([groups[second], groups[first]])
    swapped = _output(fitted, np.concatenate([X[second], X[first]]), swapped_groups)
    reordered = np.concatenate([together[second], together[first]])
    np.testing.assert_allclose(swapped, reordered, atol=1e-5)


def test_groups_reach_every_step_without_a_request(fitted, recordings):
    X, y, groups = recordings
    expected = _output(fitted, X, groups)
    with sklearn.config_context(enable_metadata_routing=True):
        if hasattr(fitted, "transform"):
            assert not hasattr(fitted, "predict_proba")
            # LatticeScaler's fit_transform returns labelled training rows calibrated from
            # their labels (documented), which transform cannot do: compared without them
            labels = None if isinstance(fitted, LatticeScaler) else y
            alone = clone(fitted).fit(X, labels, groups=groups).transform(X, groups=groups)
            direct = clone(fitted).fit_transform(X, labels, groups=groups)
            np.testing.assert_allclose(direct, alone, atol=1e-5)
            pipeline = Pipeline([("step", clone(fitted)), ("hmm", HMMClassifier())])
            pipeline.fit(X, y, groups=groups)
            np.testing.assert_allclose(pipeline[0].transform(X, groups=groups), expected, atol=1e-5)
            trained_on = clone(fitted).fit_transform(X, y, groups=groups)
            reference = HMMClassifier().fit(trained_on, y, groups=groups)
            np.testing.assert_allclose(
                pipeline.predict_proba(X, groups=groups),
                reference.predict_proba(expected, groups=groups),
                atol=1e-5,
            )
        else:
            pipeline = Pipeline([("step", clone(fitted))]).fit(X, y, groups=groups)
            np.testing.assert_allclose(
                pipeline.predict_proba(X, groups=groups), expected, atol=1e-5
            )


def test_recordings_already_found_are_accepted_for_groups(fitted, recordings):
    X, _, groups = recordings
    found = Recordings(len(X), groups)
    np.testing.assert_array_equal(_output(fitted, X, found), _output(fitted, X, groups))
    with pytest.raises(ValueError, match="recordings of 36000 rows in all, but X has 100"):
        _output(fitted, X[:100], found)


def test_the_labels_are_scanned_once_per_call(fitted, recordings, monkeypatch):
    X, y, groups = recordings
    scans = []
    find = _recordings.segment_bounds

    def counting(n_samples, labels=None):
        if labels is not None and not isinstance(labels, Recordings):
            scans.append(n_samples)
        return find(n_samples, labels)

    monkeypatch.setattr(_recordings, "segment_bounds", counting)
    monkeypatch.setattr(_windows, "segment_bounds", counting)
    estimator = clone(fitted)
    if hasattr(estimator, "transform"):
        estimator.fit_transform(X, y, groups=groups)
    else:
        estimator.fit(X, y, groups=groups)
    assert scans == [len(X)], "fit"
    scans.clear()
    _output(fitted, X, groups)
    assert scans == [len(X)], "output"

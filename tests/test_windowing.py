"""Property tests of the pure-numpy windowing functions."""

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skion.windowing import (
    Recordings,
    gather_windows,
    make_windows,
    plan_windows,
    segment_bounds,
    stitch_windows,
)

lengths = st.lists(st.integers(1, 60), min_size=1, max_size=6)


@st.composite
def layouts(draw):
    """Recording lengths, a window and a valid margin."""
    seg_lengths = draw(lengths)
    window = draw(st.integers(1, 40))
    margin = draw(st.integers(0, (window - 1) // 2))
    groups = np.repeat(np.arange(len(seg_lengths)), seg_lengths)
    return groups, window, margin


@settings(max_examples=300, deadline=None)
@given(layouts(), st.integers(1, 3))
def test_round_trip_identity(layout, n_features):
    """Stitching the cut windows gives back the input, for any length/window/overlap."""
    groups, window, margin = layout
    X = np.arange(len(groups) * n_features).reshape(len(groups), n_features)
    windows, plan = make_windows(X, window, margin=margin, groups=groups)
    assert windows.shape == (plan.n_windows, window, n_features)
    np.testing.assert_array_equal(stitch_windows(windows, plan), X)


@settings(max_examples=300, deadline=None)
@given(layouts())
def test_windows_never_cross_recordings(layout):
    """Every row of a window, padding included, comes from the window's own recording."""
    groups, window, margin = layout
    windows, plan = make_windows(groups, window, margin=margin, groups=groups)
    owner = groups[plan.seg_start]
    np.testing.assert_array_equal(windows, np.broadcast_to(owner[:, None], windows.shape))


@settings(max_examples=200, deadline=None)
@given(layouts())
def test_owned_rows_tile_the_signal_and_lie_inside_their_window(layout):
    groups, window, margin = layout
    plan = plan_windows(len(groups), window, margin=margin, groups=groups)
    assert plan.own_start[0] == 0 and plan.own_end[-1] == len(groups)
    np.testing.assert_array_equal(plan.own_start[1:], plan.own_end[:-1])
    assert np.all(plan.own_start >= plan.start)
    assert np.all(plan.own_end <= plan.start + window)
    # Inner window edges are discarded: a row owned by a window that has a
    # neighbour on that side is at least `margin` rows from the window edge.
    has_prev = plan.start > plan.seg_start
    assert np.all(plan.own_start[has_prev] - plan.start[has_prev] >= margin)


@settings(max_examples=200, deadline=None)
@given(layouts(), st.integers(1, 5))
def test_chunked_stitching_equals_whole(layout, chunk):
    """Stitching windows chunk by chunk into one output gives the same result."""
    groups, window, margin = layout
    X = np.arange(len(groups), dtype=float)
    plan = plan_windows(len(X), window, margin=margin, groups=groups)
    out = np.full(len(X), np.nan)
    for first in range(0, plan.n_windows, chunk):
        index = slice(first, first + chunk)
        stitch_windows(gather_windows(X, plan, index), plan, out=out, first_window=first)
    np.testing.assert_array_equal(out, X)


def test_padding_is_reflection_and_masked():
    windows, plan = make_windows(np.arange(5), 4)
    np.testing.assert_array_equal(windows, [[0, 1, 2, 3], [4, 3, 2, 1]])
    np.testing.assert_array_equal(plan.valid_mask(), [[1, 1, 1, 1], [1, 0, 0, 0]])


def test_short_recording_gets_one_window():
    windows, plan = make_windows(np.arange(3), 8)
    assert plan.n_windows == 1
    np.testing.assert_array_equal(windows, [[0, 1, 2, 1, 0, 1, 2, 1]])


def test_segments_are_runs_of_equal_labels():
    starts, ends = segment_bounds(6, np.array([2, 2, 1, 1, 2, 2]))
    np.testing.assert_array_equal(starts, [0, 2, 4])
    np.testing.assert_array_equal(ends, [2, 4, 6])


@given(layouts())
def test_recordings_iterate_the_rows_of_each_recording_in_order(layout):
    groups, n = layout[0], len(layout[0])
    recordings = Recordings(n, groups)
    rows = list(recordings)
    assert len(recordings) == len(rows) and recordings.n_samples == n
    np.testing.assert_array_equal(np.concatenate([np.arange(n)[r] for r in rows]), np.arange(n))
    for r in rows:  # one label inside, another across each boundary
        assert len(set(groups[r])) == 1
    assert all(a.stop == b.start for a, b in pairwise(rows))
    np.testing.assert_array_equal(recordings.lengths, [r.stop - r.start for r in rows])
    np.testing.assert_array_equal(Recordings(n, recordings).starts, recordings.starts)


def test_recordings_apply_a_one_recording_function():
    values = np.arange(6.0)
    recordings = Recordings(6, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(recordings.apply(np.cumsum, values), [0, 1, 3, 3, 7, 12])
    recordings.apply(lambda part: part - part[0], values, out=values)  # in place
    np.testing.assert_array_equal(values, [0, 1, 2, 0, 1, 2])
    assert repr(recordings) == "Recordings(n_recordings=2, n_samples=6)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 0}, "'window' parameter"),
        ({"window": 4.5}, "'window' parameter"),
        ({"window": True}, "'window' parameter .* not the boolean"),
        ({"window": 4, "margin": 2}, "margin must satisfy"),
        ({"window": 4, "margin": -1}, "'margin' parameter"),
        ({"window": 4, "groups": [0, 1]}, r"groups must have shape \(5,\)"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plan_windows(5, **kwargs)


def test_stitch_rejects_mismatched_windows():
    windows, plan = make_windows(np.arange(10), 4)
    with pytest.raises(ValueError, match="windows must have length 4"):
        stitch_windows(windows[:, :3], plan)
    with pytest.raises(ValueError, match="outside the plan"):
        stitch_windows(windows, plan, first_window=1)


@pytest.mark.parametrize(
    "groups",
    [[0.0, 0.0, np.nan, 1.0], np.array(["a", None, "b", "b"], dtype=object)],
    ids=["float NaN", "object None"],
)
def test_missing_recording_labels_are_refused(groups):
    with pytest.raises(ValueError, match=r"groups holds NaN or None at row [12]"):
        segment_bounds(4, groups)


def test_every_estimator_refuses_nan_recording_labels():
    """Not one recording per NaN row (the U-Net fit then took 90 s): a clear error."""
    from skion import (
        AggregatedHMM,
        HMMClassifier,
        LatticeDetrender,
        LatticeScaler,
        SequenceUNetClassifier,
        ZScoreWindower,
    )
    from skion.datasets import make_telegraph

    X, y = make_telegraph(4000, random_state=0)
    groups = np.repeat([0.0, 1.0], 2000)
    groups[100:110] = np.nan
    for estimator in (
        HMMClassifier(),
        LatticeDetrender(),
        ZScoreWindower(),
        LatticeScaler(),
        AggregatedHMM(sampling_rate=10_000, max_iter=1),
        SequenceUNetClassifier(epochs=1, window_size=125, filters=2, depth=1),
    ):
        with pytest.raises(ValueError, match="groups holds NaN"):
            estimator.fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="groups must have shape"):  # even without cleaning
        ZScoreWindower().fit(X, groups=np.zeros(len(X) - 1))

"""Performance regressions that need no timing: retracing and per-window Python loops.

(a) Repeated ``predict`` calls reuse the Keras model's compiled prediction function and do
not trace it again; new input lengths add at most one relaxed trace. (b) Windowing,
stitching and chunked prediction execute a number of Python lines that depends on the number
of chunks, not on the number of windows (Python lines counted with ``sys.settrace``, so
the test does not depend on how the functions are named or split).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

import skion
from skion import SequenceUNetClassifier
from skion.windowing import make_windows, stitch_windows

SKION = str(Path(skion.__file__).resolve().parent)


def _count_python_lines(function, *, only_under=None):
    """Run ``function()`` and count the Python lines it executes (``sys.settrace``).

    A Python loop over windows executes its body once per window, even when the body
    is pure numpy indexing, so the count exposes it.
    """
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        if only_under is not None and not frame.f_code.co_filename.startswith(only_under):
            return None  # do not trace this frame's lines
        if event == "line":
            lines += 1
        return trace

    sys.settrace(trace)
    try:
        result = function()
    finally:
        sys.settrace(None)
    return result, lines


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    y = np.repeat(rng.integers(0, 3, 80), 50)
    X = (y + 0.3 * rng.standard_normal(y.size)).astype(np.float32)[:, None]
    clf = SequenceUNetClassifier(
        window_size=125,
        filters=4,
        depth=0,
        epochs=1,
        validation_fraction=0,
        random_state=0,
        run_eagerly=True,  # tracing the training step would cost most of the test's time
    )
    clf.fit(X, y)
    clf.model_.run_eagerly = False  # predict as with the default: a compiled tf.function
    return clf, X


def test_repeated_predict_does_not_retrace(fitted):
    clf, X = fitted
    long = np.resize(X, (20_000, 1))
    clf.predict(long)
    function = clf.model_.predict_function
    assert function is not None and hasattr(function, "experimental_get_tracing_count")
    traces = function.experimental_get_tracing_count()
    for _ in range(3):
        clf.predict(long)
        clf.predict_proba(long)
    assert clf.model_.predict_function is function  # not rebuilt per call
    assert function.experimental_get_tracing_count() == traces  # not retraced per call
    for n in (7_001, 13_337, 3_000, 19_999):  # new shapes: relaxed once, then reused
        clf.predict(long[:n])
    assert clf.model_.predict_function is function
    assert function.experimental_get_tracing_count() <= traces + 1


def _lines_to_cut_and_stitch(n_samples):
    signal = np.arange(n_samples, dtype=np.float32)[:, None]
    groups = np.repeat(np.arange(4), n_samples // 4)
    (windows, plan), lines_cut = _count_python_lines(
        lambda: make_windows(signal, 100, margin=10, groups=groups)
    )
    out, lines_stitch = _count_python_lines(lambda: stitch_windows(windows, plan))
    np.testing.assert_array_equal(out, signal)
    return plan.n_windows, lines_cut, lines_stitch


def test_windowing_and_stitching_have_no_per_window_python_loop():
    """Four times the windows, the same Python lines (argument validation included)."""
    n_few, *few = _lines_to_cut_and_stitch(250_000)
    n_many, *many = _lines_to_cut_and_stitch(1_000_000)
    assert n_many > 10_000 and n_many > 3.9 * n_few
    assert many == few, (few, many)
    assert max(many) < n_many / 5, many


def test_chunked_predict_calls_scale_with_chunks_not_windows(fitted):
    clf, X = fitted
    long = np.resize(X, (300_000, 1))
    n_windows = make_windows(long, clf.window_size_, margin=int(0.1 * clf.window_size_))[
        1
    ].n_windows
    clf.predict_proba(long)  # warm-up: tracing is not what this test counts
    _, lines = _count_python_lines(lambda: clf.predict_proba(long), only_under=SKION)
    assert n_windows > 2_500 and lines > 0
    assert lines < n_windows / 10, (lines, n_windows)

"""skion.metrics: per-class report, F1 summary and the plotting helpers."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from skion.metrics import (
    f1_summary,
    per_class_report,
    plot_confusion,
    plot_history,
    plot_per_class_f1,
    plot_segment,
)

rng = np.random.default_rng(0)
y_true = rng.integers(0, 5, 2000)
y_pred = np.where(rng.random(2000) < 0.7, y_true, rng.integers(0, 5, 2000))


def test_report_matches_scikit_learn_per_class_scores():
    report = per_class_report(y_true, y_pred)
    assert list(report.index) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(report["f1"], f1_score(y_true, y_pred, average=None))
    np.testing.assert_allclose(report["precision"], precision_score(y_true, y_pred, average=None))
    np.testing.assert_allclose(report["recall"], recall_score(y_true, y_pred, average=None))
    np.testing.assert_array_equal(report["support"], np.bincount(y_true))


def test_summary_mean_is_macro_f1_and_spread_is_per_class():
    summary = f1_summary(y_true, y_pred)
    per_class = f1_score(y_true, y_pred, average=None)
    assert summary["mean"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert summary["min"] == pytest.approx(per_class.min())
    assert summary["max"] == pytest.approx(per_class.max())
    assert summary["std"] == pytest.approx(per_class.std())


def test_a_class_never_predicted_scores_zero_and_labels_fix_the_rows():
    report = per_class_report([0, 1, 2, 2], [0, 1, 1, 1], labels=[2, 1, 0, 7])
    assert list(report.index) == [2, 1, 0, 7]
    assert report.loc[2, "f1"] == 0.0 and report.loc[2, "support"] == 2
    assert report.loc[7, "support"] == 0


@pytest.mark.parametrize(
    ("truth", "pred", "message"),
    [([0, 1], [0], "same length"), ([[0, 1]], [[0, 1]], "1-D"), ([], [], "empty")],
)
def test_report_rejects_bad_input(truth, pred, message):
    with pytest.raises(ValueError, match=message):
        per_class_report(truth, pred)


def test_plots_draw_and_save(tmp_path):
    signal = y_true[:500] * 1.2 + 0.2 * rng.standard_normal(500)
    figures = {
        "segment": plot_segment(signal, y_true[:500], y_pred[:500], start=100, stop=300),
        "confusion": plot_confusion(y_true, y_pred),
        "f1": plot_per_class_f1(
            {"a": per_class_report(y_true, y_pred), "b": per_class_report(y_true, y_true)}
        ),
        "history": plot_history(
            {"loss": [1.0, 0.6], "val_loss": [1, 0.7], "val_macro_f1": [0.3, 0.6]}
        ),
    }
    segment = figures["segment"]
    assert len(segment.lines) == 1 and len(segment.lines[0].get_xdata()) == 200
    true_line, pred_line = segment.figure.axes[1].lines
    np.testing.assert_array_equal(true_line.get_ydata(), y_true[100:300])
    np.testing.assert_array_equal(pred_line.get_ydata(), y_pred[100:300])
    assert len(figures["f1"].patches) == 10  # 5 classes x 2 models
    assert figures["f1"].patches[5].get_height() == pytest.approx(1.0)  # b is perfect
    for name, ax in figures.items():
        path = tmp_path / f"{name}.png"
        ax.figure.savefig(path)
        assert path.read_bytes().startswith(b"\x89PNG")


def test_plots_reject_bad_input():
    with pytest.raises(ValueError, match="one value per sample"):
        plot_segment([0.0, 1.0], [0, 1, 1])
    with pytest.raises(ValueError, match="select no rows"):
        plot_segment([0.0, 1.0], [0, 1], start=5)
    with pytest.raises(ValueError, match="no 'loss'"):
        plot_history({})
    with pytest.raises(ValueError, match="reports is empty"):
        plot_per_class_f1({})

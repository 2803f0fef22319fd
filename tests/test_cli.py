"""The ``skion`` command line."""

import subprocess
import sys

import pytest

from skion.cli import main


def test_demo_runs_and_reports_both_models(capsys):
    assert main(["demo", "--n-samples", "6000", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "SequenceUNetClassifier" in out and "logistic regression" in out
    assert "macro-F1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--n-samples", "10"], "--n-samples must be at least 1000"),
        (["demo", "--epochs", "0"], "--epochs must be at least 1"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "skion", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("skion ")

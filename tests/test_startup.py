"""The command line starts without TensorFlow; TensorFlow starts without chatter."""

import os
import subprocess
import sys

import pytest

from skion.neural._tensorflow import _filtered_stderr, startup_chatter

HEAVY = ("keras", "numpy", "pandas", "scipy", "sklearn", "tensorflow")

# What `main` imported, printed after it ran (argparse exits through SystemExit).
RUN_MAIN = f"""
import sys
from skion.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
print(status, sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))
"""


def _python(code, *args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "status", "stderr"),
    [
        (["--help"], 0, ""),
        (["--version"], 0, ""),
        (["idealize", "--help"], 0, ""),
        (["fit", "data.csv"], 2, "the following arguments are required: --model"),
        (["idealize", "missing.csv", "--out", "o.csv"], 1, "no such file: missing.csv"),
        (["evaluate", "data.csv", "--model", "missing.skion"], 1, "no such model file"),
        (["info", "missing.skion"], 1, "no such model file: missing.skion"),
        # Outputs that cannot be written fail before the work, not after it.
        (["fit", "data.csv", "--model", "folder"], 1, "--model folder is a folder"),
        (["idealize", "data.csv", "--out", "folder"], 1, "--out folder is a folder"),
        (["idealize", "data.csv", "--out", "data.csv/x.csv"], 1, "data.csv is a file"),
        (["kinetics", "data.csv", "--out", "data.csv"], 1, "--out data.csv is a file"),
        (["demo", "--out", "data.csv"], 1, "--out data.csv is a file"),
        (
            ["predict", "data.csv", "--model", "data.csv", "--out", "o.csv", "--events", "folder"],
            1,
            "--events folder is a folder",
        ),
    ],
)
def test_cli_answers_help_and_argument_and_file_errors_without_heavy_imports(
    tmp_path, argv, status, stderr
):
    (tmp_path / "data.csv").write_text("signal\n1.0\n")
    (tmp_path / "folder").mkdir()
    result = _python(RUN_MAIN, *argv, cwd=tmp_path)
    assert result.stdout.splitlines()[-1] == f"{status} []"
    assert stderr in result.stderr
    if status == 1:
        assert len(result.stderr.splitlines()) == 1


def test_import_skion_is_lazy_and_its_names_resolve():
    result = _python(
        "import sys, skion; before = 'tensorflow' in sys.modules; "
        "from skion import AggregatedHMM, SequenceUNetClassifier; "
        "print(before, 'tensorflow' in sys.modules, set(skion.__all__) <= set(dir(skion)), "
        "all(getattr(skion, name) for name in skion.__all__), hasattr(skion, 'nothing'))"
    )
    assert result.stdout.split() == ["False", "True", "True", "True", "False"], result.stderr


def test_importing_tensorflow_through_skion_writes_no_startup_chatter():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = _python(
        "import skion.neural, tensorflow as tf; "
        "tf.config.threading.set_intra_op_parallelism_threads(1); "  # the runtime is not
        # initialized yet: users can still configure threads and GPUs. TensorFlow counts
        # retraces over every model in the process: that warning goes, others stay.
        "tf.get_logger().warning('5 out of the last 9 calls to <function f> triggered "
        "tf.function retracing.'); tf.get_logger().warning('another warning'); "
        "print('imported')",
        env=env,
    )
    assert result.stdout.strip() == "imported"
    assert "retracing" not in result.stderr and "another warning" in result.stderr
    assert "cuda" not in result.stderr.lower()
    assert "absl::InitializeLog" not in result.stderr
    assert not any(startup_chatter(line.encode(), 2) for line in result.stderr.splitlines())


PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
INFO = b"I0000 00:00:1796279992.676873    1942 port.cc:153] oneDNN custom operations are on."
NO_GPU = b"E0000 00:00:1796279995.848169    1942 cuda_platform.cc:52] failed call to cuInit: 303"
ERROR = b"E0000 00:00:1796279995.848169    1942 op_kernel.cc:1] Out of memory"


@pytest.mark.parametrize(
    ("line", "dropped_at"),
    [
        (PREAMBLE, 2),
        (INFO, 2),
        (b"W1203 06:41:02.5 77 cpu_feature_guard.cc:210] AVX512F available", 2),
        (NO_GPU, 2),
        (ERROR, 3),
        (b"Traceback (most recent call last):", None),
        (b"ImportError: libcudart.so.12: cannot open shared object file", None),
        (b"", None),
    ],
)
def test_startup_chatter_follows_tf_cpp_min_log_level(line, dropped_at):
    for level in range(4):
        expected = dropped_at is not None and level >= dropped_at
        assert startup_chatter(line, level) is expected, level


def test_filtered_stderr_writes_back_what_is_not_chatter(capfd):
    with _filtered_stderr(2):
        os.write(2, b"\n".join([PREAMBLE, INFO, b"a real message", NO_GPU, ERROR, b"end"]))
    assert capfd.readouterr().err == "a real message\n" + ERROR.decode() + "\nend"


def test_filtered_stderr_restores_stderr_when_the_block_raises(capfd):
    with pytest.raises(ImportError, match="boom"), _filtered_stderr(2):
        os.write(2, INFO + b"\nwhy it failed\n")
        raise ImportError("boom")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "why it failed\nafter\n"

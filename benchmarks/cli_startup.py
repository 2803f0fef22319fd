"""Start-up time of the ``skion`` command for what needs no model.

Each command runs in a fresh interpreter ``--repeats`` times; the table gives the median
wall time and its ratio to importing TensorFlow alone (what every command paid before
the command line imported it only where a command needs it). ``tests/test_startup.py``
guards the imports themselves (no TensorFlow, NumPy, pandas or scikit-learn on these
paths).

    python benchmarks/cli_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "skion --help": "--help",
    "skion --version": "--version",
    "skion fit (argument error: no --model)": "fit data.csv",
    "skion predict missing.csv (file error)": "predict missing.csv --model m.skion --out o.csv",
    "skion info missing.skion (file error)": "info missing.skion",
}


def _median_seconds(argv: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    python = [sys.executable, "-c"]
    reference = _median_seconds([*python, "import tensorflow"], args.repeats)
    rows = [("python -c pass", _median_seconds([*python, "pass"], args.repeats))]
    for name, command in COMMANDS.items():
        argv = [sys.executable, "-m", "skion", *command.split()]
        rows.append((name, _median_seconds(argv, args.repeats)))
    rows.append(("python -c 'import tensorflow' (reference)", reference))
    print(f"median of {args.repeats} runs, fresh interpreter each\n")
    print("| command | seconds | vs importing TensorFlow |\n|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / reference:.3f} |")


if __name__ == "__main__":
    main()

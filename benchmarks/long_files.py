"""Long files a piece at a time: peak memory of ``skion predict`` as the file grows, and
the ABF reader's values against pyabf's.

Memory: a gap-free ABF file of N samples at 10 kHz (a 1,000,000-sample draw of
``make_ion_switching(regime="3_channels")``, repeated) and an ``HMMClassifier`` pipeline
model file (fitted on 200,000 samples) are written to a temporary folder; ``skion predict
FILE --events`` runs in a fresh process per size, and its peak resident memory (the
kernel's ``ru_maxrss`` of the child) and wall time are printed. ``--reference TREE`` runs
the same command with another skion source tree first on ``PYTHONPATH`` (an older commit's
``git worktree``), for a before/after table, and says whether both wrote the same bytes.

ABF values: ``--abf-folder DIR`` reads every channel of every ``.abf`` file in ``DIR`` both
ways (skion's memory map and pyabf's loaded sweeps) and counts the channels equal bit for
bit (pyABF's ``data/abfs`` folder holds 83 readable files).

    python benchmarks/long_files.py [--sizes 20000000 60000000] [--reference /tmp/old]
    python benchmarks/long_files.py --abf-folder pyABF/data/abfs
"""

from __future__ import annotations

import argparse
import filecmp
import glob
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _bench import machine


def _pyabf():
    with np.printoptions():  # pyabf's import changes numpy's print options
        import pyabf
    return pyabf


def compare_abf(folder):
    """Channels of the folder's ABF files equal to pyabf's values, and those that differ."""
    from skion.datasets._abf import open_abf_channel

    pyabf = _pyabf()
    equal, differ = 0, []
    files = sorted(glob.glob(os.path.join(folder, "*.abf")))
    for path in files:
        try:
            abf = pyabf.ABF(path)
        except Exception:  # a Git LFS pointer or a file pyabf cannot read either
            continue
        for channel in range(abf.channelCount):
            sweeps = []
            for sweep in abf.sweepList:
                abf.setSweep(sweep, channel=channel)
                sweeps.append(np.asarray(abf.sweepY, dtype=np.float32))
            source = open_abf_channel(path, channel)
            ours = source.read(0, source.n_samples).astype(np.float32)
            expected = np.concatenate(sweeps)
            if ours.shape == expected.shape and np.array_equal(ours, expected, equal_nan=True):
                equal += 1
            else:
                differ.append(f"{os.path.basename(path)} channel {channel}")
    print(f"{len(files)} files: {equal} channels equal to pyabf bit for bit, {len(differ)} differ")
    for name in differ:
        print("  differs:", name)


def write_inputs(folder, sizes):
    """The long ABF files and the model file."""
    from sklearn import config_context

    from skion.datasets import make_ion_switching
    from skion.model_files import dump_estimator
    from skion.pipelines import make_baseline_pipelines

    pyabf = _pyabf()
    X, _, _ = make_ion_switching(1_000_000, regime="3_channels", random_state=7)
    for n in sizes:
        signal = np.resize(X[:, 0], n)[None, :]
        pyabf.abfWriter.writeABF1(signal, str(folder / f"long{n}.abf"), 10_000, "pA")
    X, y, _ = make_ion_switching(200_000, regime="3_channels", random_state=0)
    with config_context(enable_metadata_routing=True):
        model = make_baseline_pipelines()["HMMClassifier"]
        model.fit(X, y, groups=np.arange(len(y)) // 100_000)
    conditions = {"sampling_rate": 10_000.0, "units": "pA", "open_channels": [0, 1, 2, 3]}
    dump_estimator(model, folder / "hmm.skion", conditions=conditions)


def run_predict(folder, n, tree, tag):
    """``(peak RSS in MB, seconds, counts path)`` of one ``skion predict`` in a child."""
    out, events = folder / f"{tag}{n}.csv", folder / f"{tag}{n}_events.csv"
    argv = [sys.executable, "-m", "skion", "predict", str(folder / f"long{n}.abf")]
    argv += ["--model", str(folder / "hmm.skion"), "--out", str(out), "--events", str(events)]
    env = dict(os.environ, PYTHONPATH=str(tree))
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, check=True
    )
    kilobytes, seconds = done.stdout.split()
    return int(kilobytes) / 1024, float(seconds), out, events


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000_000, 60_000_000])
    parser.add_argument("--reference", type=Path, help="another skion tree to compare")
    parser.add_argument("--abf-folder", help="compare the ABF reader with pyabf instead")
    args = parser.parse_args()
    print(machine())
    if args.abf_folder:
        compare_abf(args.abf_folder)
        return
    here = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tic = time.perf_counter()
        write_inputs(folder, args.sizes)
        print(f"inputs written in {time.perf_counter() - tic:.0f} s")
        print("| samples | code | peak RSS (MB) | seconds | same output |")
        print("|---:|---|---:|---:|---|")
        for n in args.sizes:
            runs = {}
            trees = [("reference", args.reference)] if args.reference else []
            for tag, tree in [*trees, ("this tree", here)]:
                runs[tag] = run_predict(folder, n, tree, tag.split()[0])
            same = ""
            if args.reference:
                (_, _, a, a_events), (_, _, b, b_events) = runs.values()
                same = filecmp.cmp(a, b, False) and filecmp.cmp(a_events, b_events, False)
            for tag, (peak, seconds, _, _) in runs.items():
                shown = same if args.reference and tag == "this tree" else ""
                print(f"| {n:,} | {tag} | {peak:,.0f} | {seconds:.0f} | {shown} |")
            for _, _, out, events in runs.values():
                out.unlink()
                events.unlink()


if __name__ == "__main__":
    main()

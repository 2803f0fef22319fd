"""Many recording files: ``idealize_files`` on a two-worker Dask ``LocalCluster`` versus a
plain loop in this process (each file then on every core).

Writes 20 CSV files (1-6 channels, any of the four schemes, noise 0.1-0.4 step, 50,000
rows at 10 kHz each, seeds 0-19) to a temporary folder, idealizes them both ways, checks
that both give the same counts, and prints the wall times and their ratio.

Usage: python benchmarks/many_files.py [--files 20] [--samples 50000] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

from skion import idealize_files
from skion.datasets import make_patch_clamp


def write_files(folder, n_files, n_samples):
    for seed in range(n_files):
        rng = np.random.default_rng(seed)
        X, _, _, _ = make_patch_clamp(
            n_samples,
            kinetics=str(rng.choice(["slow", "fast", "bursting", "high"])),
            n_channels=int(rng.integers(1, 7)),
            unitary_current=float(rng.uniform(0.5, 3.0) * rng.choice([-1, 1])),
            noise=float(rng.uniform(0.1, 0.4)),
            random_state=seed,
        )
        time_s = np.arange(n_samples) / 10_000
        frame = pd.DataFrame({"time": time_s, "signal": X[:, 0]})
        frame.to_csv(folder / f"cell_{seed:02d}.csv", index=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--samples", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    write_files(folder, args.files, args.samples)
    tic = time.perf_counter()
    loop = idealize_files(folder, folder / "loop")
    loop_s = time.perf_counter() - tic
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: None)  # workers up before the clock starts
        tic = time.perf_counter()
        dask = idealize_files(folder, folder / "dask", client=client)
        dask_s = time.perf_counter() - tic
    both = loop.merge(dask, on="file", suffixes=("_loop", "_dask"))
    same = both["error_loop"].isna().equals(both["error_dask"].isna()) and all(
        pd.read_csv(a).equals(pd.read_csv(b))
        for a, b in both[["counts_loop", "counts_dask"]].dropna().itertuples(index=False)
    )
    print(
        f"{args.files} files of {args.samples:,} rows; refused: {int(loop['error'].notna().sum())}"
    )
    print("| engine | wall s | vs loop |")
    print("|---|---:|---:|")
    print(f"| plain loop, every core per file | {loop_s:.1f} | 1.00 |")
    print(
        f"| Dask LocalCluster, {args.workers} workers x 1 thread | {dask_s:.1f} | "
        f"{dask_s / loop_s:.2f} |"
    )
    print(f"same counts in every file: {same}")


if __name__ == "__main__":
    main()

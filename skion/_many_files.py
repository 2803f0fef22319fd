"""Idealize many recording files without labels: one task per file, in this process or
on a Dask cluster.

Every file is read, fitted and written by the same code as ``skion idealize FILE``
(:func:`skion.cli._idealize.idealize`), so one file gives the same counts either way. A
file that cannot be idealized (unreadable, flat, no lattice) is reported in the returned
table and the others go on: a folder of hundreds of recordings is not lost to one.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from numbers import Integral, Real
from pathlib import Path

import pandas as pd
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from .datasets._recording import RECORDING_SUFFIXES

__all__ = ["describe", "idealize_files", "recording_files"]


def recording_files(paths) -> list[Path]:
    """The files to idealize: a folder's recording files (sorted by name), or ``paths``.

    Raises
    ------
    FileNotFoundError
        If the folder or one of the files does not exist.
    ValueError
        If there is no file, or two files would write the same outputs (same name
        without its ending).
    """
    if isinstance(paths, (str, os.PathLike)):
        folder = Path(paths)
        if not folder.is_dir():
            raise FileNotFoundError(f"no such folder: {folder}")
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in RECORDING_SUFFIXES
        )
        if not files:
            raise ValueError(
                f"{folder} holds no recording files (names ending in "
                f"{', '.join(RECORDING_SUFFIXES)})"
            )
    else:
        files = [Path(p) for p in paths]
        if not files:
            raise ValueError("No files given: pass a folder or a list of recording files.")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"no such file: {', '.join(missing)}")
    # case folded: Cell.abf and cell.csv write the same files on Windows and macOS
    clashes = sorted(stem for stem, n in Counter(f.stem.casefold() for f in files).items() if n > 1)
    if clashes:
        raise ValueError(
            "Several files share a name without their ending, and would write the same "
            f"outputs: {', '.join(clashes)}. Rename them or idealize them apart."
        )
    return [f.resolve() for f in files]  # workers elsewhere see the same absolute paths


def _idealize_one(path, out_dir, options, n_jobs):
    """One file's task: its counts (``<name>.csv``) and summary (``<name>.json``) written
    to ``out_dir``; one row of the report (the error instead, if the file was refused)."""
    from .cli._idealize import idealize

    counts, summary = out_dir / f"{path.stem}.csv", out_dir / f"{path.stem}.json"
    tic = time.perf_counter()
    for stale in (counts, summary):  # an earlier run's, which a refusal would leave
        stale.unlink(missing_ok=True)
    try:
        idealize(
            path,
            counts,
            summary=summary,
            verbose=False,
            echo=lambda *args: None,
            n_jobs=n_jobs,
            **options,
        )
        report = json.loads(summary.read_text())
    except Exception as error:  # one file's failure, whatever it is, is that file's row
        for partial in (counts, summary):  # counts written before a later step failed
            partial.unlink(missing_ok=True)
        return _refused(path, error, time.perf_counter() - tic)
    if "n_channels" in report:  # the HMM: one model of the file
        n_channels, current = report["n_channels"], report["unitary_current"]
    else:  # the pretrained U-Net: every recording calibrated apart
        n_channels = max(r["n_channels"] for r in report["recordings"])
        current = None
    return {
        "file": str(path),
        "counts": str(counts),
        "summary": str(summary),
        "n_channels": n_channels,
        "unitary_current": current,
        "units": report["units"],
        "seconds": time.perf_counter() - tic,
        "error": None,
    }


def _refused(path, error, seconds):
    """The report's row of a file that could not be idealized."""
    row = dict.fromkeys(["counts", "summary", "n_channels", "unitary_current", "units"])
    return {"file": str(path), **row, "seconds": seconds,
            "error": f"{type(error).__name__}: {error}"}  # fmt: skip


@validate_params(
    {
        "paths": [str, os.PathLike, list, tuple],
        "out_dir": [str, os.PathLike],
        "client": [None, HasMethods(["map", "gather"])],
        "method": [StrOptions({"hmm", "unet"})],
        "line_freq": [None, Interval(Real, 0, None, closed="neither")],
        "n_channels": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "current_sign": [StrOptions({"auto", "positive", "negative"})],
        "sampling_rate": [None, Interval(Real, 0, None, closed="neither")],
        "channel": [None, str, Integral],
        "units": [None, str],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def idealize_files(
    paths,
    out_dir,
    *,
    client=None,
    method="hmm",
    line_freq=None,
    n_channels="auto",
    current_sign="auto",
    sampling_rate=None,
    channel=None,
    units=None,
    batch_size=None,
    verbose=0,
):
    """Idealize many recording files without labels, one task per file.

    Each file is idealized as ``skion idealize FILE`` does it (by default a fitted
    :class:`~skion.AggregatedHMM`) and writes ``<name>.csv`` (``time,open_channels``) and
    ``<name>.json`` (channels, unitary current, levels, noise, rates) into ``out_dir``.
    Without ``client`` the files run one after another in this process, each on every
    core; with a Dask ``client`` every file is a task on the cluster's workers (the
    HMM on one thread per task: start workers with one thread each, ``dask worker
    --nthreads 1``), which must see the files and ``out_dir`` at the same paths.
    ``out_dir`` may not be a folder of the recordings.

    Parameters
    ----------
    paths : str, path-like or list of them
        A folder (its files in a format ``skion.datasets.read_recording`` reads, sorted
        by name), or the files.
    out_dir : str or path-like
        Folder to write into (created if needed).
    client : dask.distributed.Client, default=None
        Cluster to run the files on; ``None``: this process.
    method : {"hmm", "unet"}, default="hmm"
        ``"hmm"``: an AggregatedHMM fitted to every file; ``"unet"``: the pretrained U-Net.
    line_freq : float, default=None
        Mains hum to fit (50 or 60 Hz), HMM only.
    n_channels : "auto" or int, default="auto"
        Channels in every file, HMM only.
    current_sign : {"auto", "positive", "negative"}, default="auto"
        Direction of the unitary current in every file (outward: ``"positive"``), HMM
        only; ``"auto"`` reads it from the kinetics (the summary's ``warnings`` say
        where they barely tell).
    sampling_rate : float, default=None
        Hz, for CSV files without a time column.
    channel : str or int, default=None
        Channel of binary files (index or name), or a CSV's signal column.
    units : str, default=None
        Unit of the signal where the files do not say (pA, nA, uA, pS, ...).
    batch_size : int, default=None
        Rows per recording for files that mark none (no ``recording`` column, the time
        never restarting); ``None``: 500,000 for longer files, as ``skion idealize``.
    verbose : int, default=0
        Print a line per file as it finishes (its channels, or why it was refused).

    Returns
    -------
    report : pandas.DataFrame
        One row per file, in the files' order: ``file``, ``counts`` and ``summary`` (the
        paths written), ``n_channels``, ``unitary_current`` (HMM only) and its ``units``,
        ``seconds``, and ``error`` (``None``, or why the file was refused; its outputs
        are then not written).

    Raises
    ------
    FileNotFoundError
        If the folder or a file does not exist.
    ValueError
        If there are no files, two share a name without their ending, or ``out_dir`` is
        a file or a folder of the recordings.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from skion import idealize_files
    >>> from skion.datasets import make_patch_clamp
    >>> folder = Path(tempfile.mkdtemp())
    >>> for seed in (0, 1):
    ...     X, _, _, _ = make_patch_clamp(
    ...         20_000, n_channels=2, unitary_current=1.5, noise=0.2, random_state=seed
    ...     )
    ...     pd.DataFrame({"time": pd.RangeIndex(20_000) / 10_000, "signal": X[:, 0]}).to_csv(
    ...         folder / f"cell{seed}.csv", index=False
    ...     )
    >>> report = idealize_files(folder, folder / "idealized")
    >>> report[["n_channels", "error"]].to_numpy().tolist()
    [[2, None], [2, None]]
    """
    if method == "unet" and (
        n_channels != "auto" or line_freq is not None or current_sign != "auto"
    ):
        raise ValueError(
            "n_channels, line_freq and current_sign set the HMM's model; the pretrained "
            "U-Net finds them itself (leave them out, or use method='hmm')."
        )
    files = recording_files(paths)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out_dir {out_dir} is a file; give a folder.")
    if out_dir.resolve() in {f.parent for f in files}:
        raise ValueError(
            f"out_dir {out_dir} holds recordings being idealized: their counts (NAME.csv) "
            "could overwrite them, and would be read as recordings next time. Give "
            "another folder."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    options = {
        "reading": {
            "sampling_rate": sampling_rate,
            "channel": channel,
            "units": units,
            "batch_size": batch_size,
        },
        "method": method,
        "line_freq": line_freq,
        "n_channels": n_channels,
        "current_sign": current_sign,
    }
    out_dir = out_dir.resolve()
    if client is None:
        rows = []
        for path in files:
            rows.append(_idealize_one(path, out_dir, options, -1))
            if verbose:
                print(describe(rows[-1]), flush=True)
    else:
        from distributed import as_completed

        futures = client.map(
            _idealize_one, files, out_dir=out_dir, options=options, n_jobs=1, pure=False
        )
        path_of = {future.key: path for future, path in zip(futures, files, strict=True)}
        done = {}
        for future in as_completed(futures):
            try:
                done[future.key] = future.result()
            except Exception as error:  # the task failed (a worker killed for memory)
                done[future.key] = _refused(path_of[future.key], error, float("nan"))
            if verbose:
                print(describe(done[future.key]), flush=True)
        rows = [done[future.key] for future in futures]
    columns = ["file", "counts", "summary", "n_channels", "unitary_current", "units", "seconds"]
    columns += ["error"]
    return pd.DataFrame(rows, columns=columns).astype({"n_channels": "Int64"})


def describe(row) -> str:
    """One line on a file of ``idealize_files``'s report (a row, or its dictionary)."""
    name = Path(row["file"]).name
    if not pd.isna(row["error"]):
        return f"{name}: refused: {row['error']}"
    current = row["unitary_current"]
    current = "" if pd.isna(current) else f", unitary current {current:.4g} {row['units']}"
    return f"{name}: {row['n_channels']} channel(s){current} ({row['seconds']:.1f} s)"

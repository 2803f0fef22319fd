"""``skion idealize``: open-channel counts of an unlabelled recording, by AggregatedHMM.

The CSV may have any constant sampling rate (read from its ``time`` column, or given with
``--sampling-rate`` when the file has only a ``signal`` column); a time that jumps back
starts a new recording. An ``open_channels`` column, if present, is ignored. ABF files
give their rate and one recording per sweep.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import read_abf
from ..windowing import segment_bounds
from ._files import CommandError

__all__ = ["idealize", "read_trace"]

#: Relative spread of the time steps that still counts as a constant rate.
_RATE_TOLERANCE = 1e-3


def _csv_trace(path, sampling_rate):
    frame = pd.read_csv(path)
    if "signal" not in frame.columns:
        raise CommandError(f"{path}: no 'signal' column (found {list(frame.columns)})")
    x = pd.to_numeric(frame["signal"], errors="coerce").to_numpy(np.float64)
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x))[0])
        raise CommandError(f"{path}: the signal is missing or not a number at data row {bad + 1}")
    if "time" not in frame.columns:
        if sampling_rate is None:
            raise CommandError(f"{path}: no 'time' column; give the rate with --sampling-rate HZ")
        return x, float(sampling_rate), np.zeros(len(x), dtype=np.int64), None
    t = pd.to_numeric(frame["time"], errors="coerce").to_numpy(np.float64)
    if len(t) < 2 or not np.all(np.isfinite(t)):
        raise CommandError(f"{path}: the time column must hold numbers (at least two rows)")
    steps = np.diff(t)
    groups = np.concatenate([[0], np.cumsum(steps <= 0)])  # time restarting: next recording
    forward = steps[steps > 0]
    if forward.size == 0:
        raise CommandError(f"{path}: time never advances")
    dt = float(np.median(forward))
    if np.max(np.abs(forward - dt)) > _RATE_TOLERANCE * dt:
        worst = int(np.argmax(np.abs(steps - dt) * (steps > 0)))
        raise CommandError(
            f"{path}: the sampling rate is not constant (time step {steps[worst]:g} s at data "
            f"row {worst + 2}, against {dt:g} s elsewhere)"
        )
    rate = 1.0 / dt
    if sampling_rate is not None and abs(sampling_rate - rate) > _RATE_TOLERANCE * rate:
        raise CommandError(
            f"{path}: --sampling-rate {sampling_rate:g} Hz disagrees with the time column "
            f"({rate:g} Hz)"
        )
    return x, rate, groups, t


def read_trace(path, *, sampling_rate=None):
    """``(current, sampling_rate, groups, time)`` of a CSV or ABF file, labels ignored."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        x, rate, groups, t = _csv_trace(path, sampling_rate)
    elif suffix == ".abf":
        X, rate, groups = read_abf(path)
        x, t = X[:, 0].astype(np.float64), None
    else:
        raise CommandError(f"{path}: unknown data format {suffix or '(none)'}; use .csv or .abf")
    if t is None:
        t = np.round(np.arange(len(x)) / rate, 9)
    return x, float(rate), groups, t


def idealize(
    data,
    out,
    *,
    summary=None,
    sampling_rate=None,
    line_freq=None,
    n_channels="auto",
    verbose=None,
    echo=print,
):
    """Fit :class:`skion.AggregatedHMM` to a file without labels and write its counts."""
    from ..hmm import AggregatedHMM

    x, rate, groups, t = read_trace(data, sampling_rate=sampling_rate)
    starts, ends = segment_bounds(len(x), groups)
    echo(
        f"idealizing {len(x):,} samples at {rate:g} Hz in {len(starts)} recording(s) "
        "without labels ..."
    )
    tic = time.perf_counter()
    if verbose is None:  # progress by default on a terminal, silent in pipes and logs
        verbose = sys.stdout.isatty()
    model = AggregatedHMM(
        sampling_rate=rate, line_freq=line_freq, n_channels=n_channels, verbose=int(verbose)
    )
    X = x[:, None]
    model.fit(X, groups=groups)
    proba, baseline = model._decode(X, groups)
    counts = model.classes_[proba.argmax(axis=1)]
    pd.DataFrame({"time": t, "open_channels": counts}).to_csv(out, index=False)
    echo(
        f"{model.n_channels_} channel(s), unitary current {model.unitary_current_:.4g}, "
        f"noise sd {model.noise_sd_:.4g} ({time.perf_counter() - tic:.1f} s); wrote {out}"
    )
    if summary is not None:
        recordings = [
            {
                "recording": i,
                "first_row": int(s),
                "n_samples": int(e - s),
                "closed_level": float(baseline[s:e].mean()),
                "open_probability": float(counts[s:e].mean() / model.n_channels_),
            }
            for i, (s, e) in enumerate(zip(starts, ends, strict=True))
        ]
        report = {
            "sampling_rate": rate,
            "n_channels": model.n_channels_,
            "unitary_current": model.unitary_current_,
            "noise_sd": model.noise_sd_,
            "scheme": {
                "n_closed": model.n_closed,
                "n_open": model.n_open,
                "rates_per_s": model.rates_.tolist(),
                "open_states": model.open_states_.tolist(),
            },
            "open_probability_model": model.open_probability_,
            "em_iterations": model.n_iter_,
            "converged": model.converged_,
            "recordings": recordings,
        }
        Path(summary).write_text(json.dumps(report, indent=2))
        echo(f"wrote {summary}")
    return counts

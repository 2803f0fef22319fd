"""``skion idealize``: open-channel counts of an unlabelled recording, by AggregatedHMM.

The file is read by :func:`skion.cli._files.read_data` (any constant sampling rate, units
converted, recordings marked by a ``recording`` column, the time restarting or ABF
sweeps). An ``open_channels`` column, if present, is ignored.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

from ..windowing import segment_bounds
from ._files import read_data

__all__ = ["idealize"]


def idealize(
    data,
    out,
    *,
    reading,
    summary=None,
    line_freq=None,
    n_channels="auto",
    verbose=None,
    echo=print,
):
    """Fit :class:`skion.AggregatedHMM` to a file without labels and write its counts.

    ``reading`` holds :func:`~skion.cli._files.read_data`'s options.
    """
    from ..hmm import AggregatedHMM

    recording = read_data(data, **reading)
    X, rate, groups = recording.X.astype("float64"), recording.sampling_rate, recording.groups
    starts, ends = segment_bounds(len(X), groups)
    echo(
        f"idealizing {len(X):,} samples at {rate:g} Hz in {len(starts)} recording(s) "
        "without labels ..."
    )
    tic = time.perf_counter()
    if verbose is None:  # progress by default on a terminal, silent in pipes and logs
        verbose = sys.stdout.isatty()
    model = AggregatedHMM(
        sampling_rate=rate, line_freq=line_freq, n_channels=n_channels, verbose=int(verbose)
    )
    model.fit(X, groups=groups)
    proba, baseline = model._decode(X, groups)
    counts = model.classes_[proba.argmax(axis=1)]
    pd.DataFrame({"time": recording.time, "open_channels": counts}).to_csv(out, index=False)
    units = recording.units
    echo(
        f"{model.n_channels_} channel(s), unitary current {model.unitary_current_:.4g} {units}, "
        f"noise sd {model.noise_sd_:.4g} {units} ({time.perf_counter() - tic:.1f} s); "
        f"wrote {out}"
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
            "units": units,
            "channel": recording.channel_name,
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

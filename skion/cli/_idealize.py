"""``skion idealize``: open-channel counts of an unlabelled recording, by AggregatedHMM
(``--method hmm``) or the pretrained U-Net (``--method unet``).

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

from ..pipelines import calibrated_counts
from ..windowing import Recordings
from ._errors import CommandError
from ._files import _cleaning_at, _match_rate, read_data
from ._kinetics import write_events

__all__ = ["check_method_options", "idealize", "idealize_unet", "unet_counts"]


def idealize(
    data,
    out,
    *,
    reading,
    summary=None,
    line_freq=None,
    n_channels="auto",
    method="hmm",
    verbose=None,
    events=None,
    echo=print,
    n_jobs=-1,
):
    """Fit :class:`skion.AggregatedHMM` to a file without labels and write its counts.

    ``reading`` holds :func:`~skion.cli._files.read_data`'s options; ``method="unet"``
    predicts with the pretrained U-Net instead (:func:`idealize_unet`). ``n_jobs``: the
    HMM's threads (every core by default; one per file on a cluster's workers).
    """
    from ..hmm import AggregatedHMM

    check_method_options(method, n_channels, line_freq)
    if method == "unet":
        return idealize_unet(data, out, reading=reading, summary=summary, events=events, echo=echo)
    recording = read_data(data, **reading)
    X, rate, groups = recording.X.astype("float64"), recording.sampling_rate, recording.groups
    recordings = Recordings(len(X), groups)
    echo(
        f"idealizing {len(X):,} samples at {rate:g} Hz in {len(recordings)} recording(s) "
        "without labels ..."
    )
    tic = time.perf_counter()
    if verbose is None:  # progress by default on a terminal, silent in pipes and logs
        verbose = sys.stdout.isatty()
    model = AggregatedHMM(
        sampling_rate=rate,
        line_freq=line_freq,
        n_channels=n_channels,
        n_jobs=n_jobs,  # recordings and candidate lattices on threads
        verbose=int(verbose),
    )
    model.fit(X, groups=recordings)
    codes, baseline = model._decode(X, recordings, kind="argmax")
    counts = model.classes_[codes]
    pd.DataFrame({"time": recording.time, "open_channels": counts}).to_csv(out, index=False)
    units = recording.units
    undone = model.filter_cutoff_
    echo(
        f"{model.n_channels_} channel(s), unitary current {model.unitary_current_:.4g} {units}, "
        f"noise sd {model.noise_sd_:.4g} {units}"
        + ("" if undone is None else f" (low-pass filter at {undone:.0f} Hz undone)")
        + f" ({time.perf_counter() - tic:.1f} s); wrote {out}"
    )
    if events is not None:
        write_events(counts, rate, groups, X, events, echo)
    if summary is not None:
        rows_of = [
            {
                "recording": i,
                "first_row": rows.start,
                "n_samples": rows.stop - rows.start,
                "closed_level": float(baseline[rows].mean()),
                "open_probability": float(counts[rows].mean() / model.n_channels_),
            }
            for i, rows in enumerate(recordings)
        ]
        report = {
            "sampling_rate": rate,
            "units": units,
            "channel": recording.channel_name,
            "n_channels": model.n_channels_,
            "unitary_current": model.unitary_current_,
            "noise_sd": model.noise_sd_,
            "filter_cutoff_undone": undone,
            "scheme": {
                "n_closed": model.n_closed,
                "n_open": model.n_open,
                "rates_per_s": model.rates_.tolist(),
                "open_states": model.open_states_.tolist(),
            },
            "open_probability_model": model.open_probability_,
            "em_iterations": model.n_iter_,
            "converged": model.converged_,
            "recordings": rows_of,
        }
        Path(summary).write_text(json.dumps(report, indent=2))
        echo(f"wrote {summary}")
    return counts


def check_method_options(method, n_channels, line_freq):
    """Refuse the HMM's options with the pretrained U-Net, which finds both itself."""
    if method == "unet" and (n_channels != "auto" or line_freq is not None):
        raise CommandError(
            "--n-channels and --line-freq set the HMM's model; the pretrained U-Net "
            "finds both itself (leave them out, or use --method hmm)"
        )


def unet_counts(recording, data):
    """``(counts, table)`` of a recording (``read_data``'s Bunch) by the pretrained U-Net.

    Every recording is calibrated once, without labels, by the pipeline's ``LatticeScaler``
    (``table``: one row per recording), at the file's rate, and predicted as read; counts
    never exceed the channels that calibration found.
    """
    from ..model_files import read_model_file
    from ..neural import PRETRAINED_UNET_PATH

    payload = read_model_file(PRETRAINED_UNET_PATH)
    X, groups, rows = _match_rate(data, recording, payload["conditions"], "auto")
    model = _cleaning_at(payload["estimator"], recording, rows)
    counts, table = calibrated_counts(model, X, groups)
    return (counts if rows is None else counts[rows]), table


def idealize_unet(data, out, *, reading, summary=None, events=None, echo=print):
    """Counts of a file by the pretrained U-Net (:func:`skion.neural.load_pretrained_unet`)."""
    recording = read_data(data, **reading)
    echo(
        f"idealizing {len(recording.X):,} samples at {recording.sampling_rate:g} Hz with the "
        "pretrained U-Net ..."
    )
    tic = time.perf_counter()
    counts, table = unet_counts(recording, data)
    pd.DataFrame({"time": recording.time, "open_channels": counts}).to_csv(out, index=False)
    echo(
        f"{int(table['n_channels'].max())} channel(s) at most in {len(table)} recording(s) "
        f"({time.perf_counter() - tic:.1f} s); wrote {out}"
    )
    if events is not None:
        write_events(counts, recording.sampling_rate, recording.groups, recording.X, events, echo)
    if summary is not None:
        report = {
            "method": "pretrained U-Net",
            "sampling_rate": recording.sampling_rate,
            "units": recording.units,
            "channel": recording.channel_name,
            "recordings": [
                {
                    "recording": int(i),
                    "n_channels": int(row.n_channels),
                    "unitary_current": float(row.unitary_current),
                    "closed_level": float(row.closed_level),
                    "noise_ratio": float(row.noise_ratio),
                }
                for i, row in table.iterrows()
            ],
        }
        Path(summary).write_text(json.dumps(report, indent=2))
        echo(f"wrote {summary}")
    return counts

"""``skion idealize``: open-channel counts of an unlabelled recording, by AggregatedHMM
(``--method hmm``) or the pretrained U-Net (``--method unet``).

The file is opened by :func:`skion.cli._files.open_data` (any constant sampling rate, units
converted, recordings marked by a ``recording`` column, the time restarting or sweeps)
and decoded a piece at a time. An ``open_channels`` column, if present, is ignored.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import PIECE_ROWS
from ..pipelines import calibrated_counts
from ..windowing import Recordings
from ._errors import CommandError, say
from ._files import cleaning_at, open_data, target_rate
from ._output import CountsWriter, events_to

__all__ = [
    "FIT_SPANS",
    "check_method_options",
    "idealize",
    "idealize_unet",
    "pretrained_unet",
]


def idealize(
    data,
    out,
    *,
    reading,
    summary=None,
    line_freq=None,
    n_channels="auto",
    current_sign="auto",
    method="hmm",
    verbose=None,
    events=None,
    echo=print,
    n_jobs=-1,
    piece_rows=PIECE_ROWS,
):
    """Fit :class:`skion.AggregatedHMM` to a file without labels and write its counts.

    ``reading`` holds :func:`~skion.cli._files.open_data`'s options; ``method="unet"``
    predicts with the pretrained U-Net instead (:func:`idealize_unet`). ``n_jobs``: the
    HMM's threads (every core by default; one per file on a cluster's workers). The file
    is decoded ``piece_rows`` rows at a time; a longer file is fitted on
    :data:`FIT_SPANS` spans spread through it, ``piece_rows`` rows in all. The fit's
    warnings are said on standard error and listed in the summary (``warnings``).
    """
    from ..hmm import AggregatedHMM

    check_method_options(method, n_channels, line_freq, current_sign)
    if method == "unet":
        return idealize_unet(
            data,
            out,
            reading=reading,
            summary=summary,
            events=events,
            echo=echo,
            piece_rows=piece_rows,
        )
    with open_data(data, **reading) as recording_file:
        rate, n = recording_file.sampling_rate, recording_file.n_samples
        echo(
            f"idealizing {n:,} samples at {rate:g} Hz in {recording_file.n_recordings} "
            "recording(s) without labels ..."
        )
        tic = time.perf_counter()
        if verbose is None:  # progress by default on a terminal, silent in pipes and logs
            verbose = sys.stdout.isatty()
        model = AggregatedHMM(
            sampling_rate=rate,
            line_freq=line_freq,
            n_channels=n_channels,
            current_sign=current_sign,
            n_jobs=n_jobs,  # recordings and candidate lattices on threads
            verbose=int(verbose),
        )
        whole = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if n <= piece_rows:  # fitted and decoded whole, read once
                whole = next(recording_file.pieces(None))
                model.fit(whole.X.astype("float64"), groups=Recordings(n, whole.groups))
            else:
                spans, recordings = _fit_sample(recording_file, piece_rows, echo)
                model.fit(spans, groups=recordings)
        notes = [str(warning.message) for warning in caught]
        for note in notes:
            say("warning", note)
        per_recording = {}
        with CountsWriter(out) as counts_out, events_to(events, recording_file) as ev:
            for piece in [whole] if whole is not None else recording_file.pieces(piece_rows):
                X = piece.X.astype("float64")
                recordings = Recordings(len(X), piece.groups)
                codes, baseline = model._decode(X, recordings, kind="argmax")
                counts = model.classes_[codes]
                counts_out.add(piece.time, counts)
                if ev is not None:
                    ev.add(counts, piece)
                for rows in recordings:
                    first, sums = piece.rows.start + rows.start, [0, 0.0, 0]
                    entry = per_recording.setdefault(int(piece.groups[rows.start]), [first, *sums])
                    entry[1] += rows.stop - rows.start
                    entry[2] += float(baseline[rows].sum())
                    entry[3] += int(counts[rows].sum())
    units = recording_file.units
    undone = model.filter_cutoff_
    echo(
        f"{model.n_channels_} channel(s), unitary current {model.unitary_current_:.4g} {units}, "
        f"noise sd {model.noise_sd_:.4g} {units}"
        + (
            f" + {model.open_channel_noise_sd_:.4g} {units} per open channel"
            if model.open_channel_noise_sd_ > 0
            else ""
        )
        + ("" if undone is None else f" (low-pass filter at {undone:.0f} Hz undone)")
        + f" ({time.perf_counter() - tic:.1f} s); wrote {out}"
    )
    if ev is not None:
        echo(f"wrote {ev.n_events:,} events to {events}")
    if summary is not None:
        rows_of = [
            {
                "recording": i,
                "first_row": first,
                "n_samples": length,
                "closed_level": baseline_sum / length,
                "open_probability": count_sum / length / model.n_channels_,
            }
            for i, (first, length, baseline_sum, count_sum) in sorted(per_recording.items())
        ]
        report = {
            "sampling_rate": rate,
            "units": units,
            "channel": recording_file.channel_name,
            "n_channels": model.n_channels_,
            "unitary_current": model.unitary_current_,
            "noise_sd": model.noise_sd_,
            "open_channel_noise_sd": model.open_channel_noise_sd_,
            "filter_cutoff_undone": undone,
            "slow_noise_ratio": (
                None if np.isnan(model.slow_noise_ratio_) else model.slow_noise_ratio_
            ),
            "tracking_window_s": model.tracking_window_,
            "joint_jump_ratio": (
                None if np.isnan(model.joint_jump_ratio_) else model.joint_jump_ratio_
            ),
            "scheme": {
                "n_closed": model.n_closed,
                "n_open": model.n_open,
                "rates_per_s": model.rates_.tolist(),
                "open_states": model.open_states_.tolist(),
            },
            "open_probability_model": model.open_probability_,
            "em_iterations": model.n_iter_,
            "converged": model.converged_,
            "warnings": notes,
            "recordings": rows_of,
        }
        Path(summary).write_text(json.dumps(report, indent=2))
        echo(f"wrote {summary}")


#: Spans of a file longer than a piece that ``skion idealize`` fits the HMM on.
FIT_SPANS = 8


def _fit_sample(recording_file, piece_rows, echo):
    """``(X, recordings)``: :data:`FIT_SPANS` spans spread evenly through the file,
    ``piece_rows`` rows in all, every span (or whole recording in it) a recording."""
    span = max(piece_rows // FIT_SPANS, 1)
    n_pieces = recording_file.n_pieces(span)
    chosen = set(np.linspace(0, n_pieces - 1, min(FIT_SPANS, n_pieces)).round().astype(int))
    xs, groups, label = [], [], 0
    for piece in recording_file.pieces(span, only=chosen):
        xs.append(piece.X.astype("float64"))
        groups.append(piece.groups - piece.groups[0] + label)
        label = int(groups[-1][-1]) + 1
    X = np.concatenate(xs)
    echo(
        f"fitting on {len(chosen)} spans spread through the file ({len(X):,} of "
        f"{recording_file.n_samples:,} samples); decoding every sample, "
        f"{piece_rows:,} at a time ..."
    )
    return X, Recordings(len(X), np.concatenate(groups))


def check_method_options(method, n_channels, line_freq, current_sign="auto"):
    """Refuse the HMM's options with the pretrained U-Net, which finds them itself."""
    if method == "unet" and (
        n_channels != "auto" or line_freq is not None or current_sign != "auto"
    ):
        raise CommandError(
            "--n-channels, --line-freq and --current-sign set the HMM's model; the "
            "pretrained U-Net finds them itself (leave them out, or use --method hmm)"
        )


def pretrained_unet(data, rate):
    """The pretrained U-Net's pipeline, cleaning at ``rate`` (a file at another rate than
    its training data's is predicted as read; said once)."""
    from ..model_files import read_model_file
    from ..neural import PRETRAINED_UNET_PATH

    payload = read_model_file(PRETRAINED_UNET_PATH)
    target = target_rate(data, rate, payload["conditions"], "auto")
    return cleaning_at(payload["estimator"], rate, target)


def idealize_unet(
    data, out, *, reading, summary=None, events=None, echo=print, piece_rows=PIECE_ROWS
):
    """Counts of a file by the pretrained U-Net (:func:`skion.neural.load_pretrained_unet`),
    ``piece_rows`` rows at a time."""
    with open_data(data, **reading) as recording_file:
        rate = recording_file.sampling_rate
        echo(
            f"idealizing {recording_file.n_samples:,} samples at {rate:g} Hz with the "
            "pretrained U-Net ..."
        )
        tic = time.perf_counter()
        model = pretrained_unet(data, rate)
        calibrations = []
        with CountsWriter(out) as counts_out, events_to(events, recording_file) as ev:
            for piece in recording_file.pieces(piece_rows):
                counts, table = calibrated_counts(model, piece.X, piece.groups)
                counts_out.add(piece.time, counts)
                if ev is not None:
                    ev.add(counts, piece)
                table.insert(0, "recording", piece.groups[table["start"].to_numpy()])
                table["first_row"] = piece.rows.start + table["start"]
                calibrations.append(table)
    table = pd.concat(calibrations, ignore_index=True)
    echo(
        f"{int(table['n_channels'].max())} channel(s) at most in "
        f"{recording_file.n_recordings} recording(s) ({time.perf_counter() - tic:.1f} s); "
        f"wrote {out}"
    )
    if ev is not None:
        echo(f"wrote {ev.n_events:,} events to {events}")
    if summary is not None:
        report = {
            "method": "pretrained U-Net",
            "sampling_rate": rate,
            "units": recording_file.units,
            "channel": recording_file.channel_name,
            "recordings": [
                {
                    "recording": int(row.recording),
                    "first_row": int(row.first_row),
                    "n_samples": int(row.stop - row.start),
                    "n_channels": int(row.n_channels),
                    "unitary_current": float(row.unitary_current),
                    "closed_level": float(row.closed_level),
                    "noise_ratio": float(row.noise_ratio),
                }
                for row in table.itertuples()
            ],
        }
        Path(summary).write_text(json.dumps(report, indent=2))
        echo(f"wrote {summary}")

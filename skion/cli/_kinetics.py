"""``skion kinetics``: open probability, dwell times, exponential fits and bursts of an
idealization (an event list, or the per-sample counts ``skion predict`` and ``skion
idealize`` write), with histograms, a JSON of results and QuB/SCAN exports."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..kinetics import (
    bursts,
    critical_time,
    dwell_times,
    impose_resolution,
    plot_dwell_histogram,
    select_components,
    write_dwt,
    write_scn,
)
from ..kinetics._event_table import EVENT_COLUMNS, check_events, sample_interval
from ._errors import CommandError, say

__all__ = ["events_of", "kinetics", "kinetics_report"]

#: Fewest uncensored dwells of a level for which exponentials are fitted.
MIN_DWELLS = 20


def events_of(path) -> pd.DataFrame:
    """The events of a CSV file: an event list, or per-sample ``time,open_channels``."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise CommandError(f"no such file: {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: not a CSV file ({error})") from None
    if all(column in frame.columns for column in EVENT_COLUMNS):
        events = frame[[c for c in frame.columns if c in [*EVENT_COLUMNS, "mean_current"]]]
        if events["censored"].dtype != bool:
            raise CommandError(f"{path}: the 'censored' column must hold True or False")
        try:
            check_events(events)
        except ValueError as error:
            raise CommandError(f"{path}: {error}") from None
        return events
    if {"time", "open_channels"} <= set(frame.columns):
        from ..datasets._csv import recording_starts, time_and_rate

        time = frame["time"].to_numpy(dtype=np.float64)
        restarts, rate = time_and_rate(path, time, None)
        groups = np.zeros(len(frame), dtype=np.int64)
        if "recording" in frame.columns:
            groups = frame["recording"].to_numpy()
            recording_starts(path, groups)  # contiguous recordings
        elif restarts.size:
            groups[restarts] = 1
            groups = np.cumsum(groups)
        return dwell_times(frame["open_channels"].to_numpy(), rate, groups=groups)
    raise CommandError(
        f"{path}: expected an event list (columns {', '.join(EVENT_COLUMNS)}, as written by "
        "--events) or per-sample counts (columns time,open_channels, as written by skion "
        f"predict or idealize); found columns {list(frame.columns)}"
    )


def _components(fit):
    return [
        {"tau_s": float(tau), "fraction": float(a), "stderr_s": float(se)}
        for tau, a, se in zip(fit.taus, fit.fractions, fit.stderr, strict=True)
    ]


def kinetics_report(events, *, t_res=0.0, n_channels=None, max_components=4):
    """``(report, fits, resolved)``: the kinetics of events as a JSON-ready dict, the fits
    by level, and the events at resolution ``t_res``.

    Po per recording (time-weighted open channels over ``n_channels``, or over the most
    channels seen open at once when it is not given, as a lower bound of N); per level,
    the number and mean of uncensored dwells and the exponentials of lowest BIC fitted
    from ``t_res`` up with the exact likelihood of sampled dwells; bursts of a
    one-channel record, cut at the critical time between the two fastest shut
    components.
    """
    rate = 1.0 / sample_interval(events)
    if t_res > 0:
        events = impose_resolution(events, t_res)
    recordings = []
    for name, recording in events.groupby("recording", sort=False):
        time = recording["duration"].sum()
        npo = float((recording["level"] * recording["duration"]).sum() / time)
        channels = n_channels or int(recording["level"].max()) or 1
        recordings.append(
            {
                "recording": name.item() if hasattr(name, "item") else name,
                "duration_s": float(time),
                "max_open": int(recording["level"].max()),
                "npo": npo,
                "n_channels": channels,
                "n_channels_stated": n_channels is not None,
                "open_probability": npo / channels,
            }
        )
    levels, fits = [], {}
    for level, group in events[~events["censored"]].groupby("level"):
        durations = group["duration"].to_numpy()
        entry = {"level": int(level), "n_dwells": len(durations), "mean_s": float(durations.mean())}
        if len(durations) >= MIN_DWELLS:
            fit = select_components(durations, max_components, t_min=t_res, sampling_rate=rate)
            fits[int(level)] = fit
            entry.update(components=_components(fit), loglik=fit.loglik, bic=fit.bic)
        levels.append(entry)
    report = {
        "sampling_rate": rate,
        "t_res_s": t_res,
        "n_events": len(events),
        "recordings": recordings,
        "levels": levels,
        "bursts": _burst_summary(events, fits.get(0)),
    }
    return report, fits, events


def _burst_summary(events, shut_fit):
    if events["level"].max() > 1:
        return {"skipped": "bursts are defined for one-channel records; up to "
                f"{int(events['level'].max())} channels were open at once"}  # fmt: skip
    if shut_fit is None or len(shut_fit.taus) < 2:
        return {"skipped": "the shut times have fewer than two exponential components"}
    t_crit = critical_time(shut_fit)
    found = bursts(events, t_crit)
    found = found[~found["censored"]]
    if found.empty:
        return {"skipped": f"no complete burst at t_crit={t_crit:.4g} s", "t_crit_s": t_crit}
    return {
        "t_crit_s": t_crit,
        "n_bursts": len(found),
        "mean_length_s": float(found["length"].mean()),
        "mean_openings": float(found["n_openings"].mean()),
        "mean_open_probability": float(found["open_probability"].mean()),
    }


def _print_report(report, echo):
    echo(
        f"{report['n_events']:,} events at {report['sampling_rate']:g} Hz"
        + (f", resolution {report['t_res_s'] * 1e3:g} ms" if report["t_res_s"] else "")
    )
    for rec in report["recordings"]:
        n = rec["n_channels"]
        how = f"N = {n}" if rec["n_channels_stated"] else f"N >= {n}, the most seen open"
        echo(
            f"recording {rec['recording']}: {rec['duration_s']:.4g} s, NPo {rec['npo']:.4f}, "
            f"Po {rec['open_probability']:.4f} ({how})"
        )
    for level in report["levels"]:
        line = (
            f"level {level['level']}: {level['n_dwells']:,} dwells, mean "
            f"{level['mean_s'] * 1e3:.4g} ms"
        )
        if "components" in level:
            line += "; " + ", ".join(
                f"tau {c['tau_s'] * 1e3:.4g} ms ({c['fraction']:.3f})" for c in level["components"]
            )
        else:
            line += f" (fewer than {MIN_DWELLS}: not fitted)"
        echo(line)
    burst = report["bursts"]
    if "skipped" in burst:
        echo(f"bursts: not computed ({burst['skipped']})")
    else:
        echo(
            f"bursts (t_crit {burst['t_crit_s'] * 1e3:.4g} ms): {burst['n_bursts']:,}, mean "
            f"length {burst['mean_length_s'] * 1e3:.4g} ms, {burst['mean_openings']:.3g} "
            f"openings, Po within bursts {burst['mean_open_probability']:.3f}"
        )


def kinetics(
    path,
    out=None,
    *,
    t_res=0.0,
    n_channels=None,
    max_components=4,
    dwt=False,
    scn=False,
    unitary_current=1.0,
    echo=print,
):
    """Print the kinetics of a file of events or counts; with ``out``, write figures,
    ``kinetics.json`` and the requested event files there."""
    events = events_of(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report, fits, resolved = kinetics_report(
            events, t_res=t_res, n_channels=n_channels, max_components=max_components
        )
    for warning in caught:
        say("warning", warning.message)
    report["source"] = str(path)
    _print_report(report, echo)
    if out is None:
        return report
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        say("note", "no histograms: they need matplotlib (pip install 'skion[plot]')")
        fits = {}
    for level, fit in fits.items():
        durations = resolved.loc[(resolved["level"] == level) & ~resolved["censored"], "duration"]
        ax = plot_dwell_histogram(durations.to_numpy(), fit)
        ax.set_title(f"{'shut' if level == 0 else f'{level} open'} times")
        ax.figure.savefig(folder / f"dwell_level{level}.png", dpi=120)
        written.append(f"dwell_level{level}.png")
    if dwt:
        write_dwt(resolved, folder / "events.dwt", unitary_current=unitary_current)
        written.append("events.dwt")
    if scn:
        for name, recording in resolved.groupby("recording", sort=False):
            write_scn(recording, folder / f"recording{name}.scn", unitary_current=unitary_current)
            written.append(f"recording{name}.scn")
    (folder / "kinetics.json").write_text(json.dumps(report, indent=2))
    written.append("kinetics.json")
    echo(f"wrote {', '.join(written)} to {folder}")
    return report

"""Bursts of openings: groups of openings separated by shut times shorter than t_crit."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from sklearn.utils._param_validation import Interval, StrOptions

from .._strict import validate_params
from ..windowing import segment_bounds
from ._event_table import check_events
from ._exponentials import ExponentialFit

__all__ = ["bursts", "critical_time"]


@validate_params(
    {"events": [pd.DataFrame], "t_crit": [Interval(Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def bursts(events, t_crit) -> pd.DataFrame:
    """Group the openings of a one-channel record into bursts.

    A burst is a run of openings separated by shut times no longer than ``t_crit``;
    a shut time longer than ``t_crit`` (strictly) separates bursts, as in EKDIST and
    DCPROGS. An opening is a run of consecutive open events (level >= 1; a change
    between open levels does not end it). Bursts never cross recordings. A burst
    whose extent is cut by its recording's start or end (its first or last event, or
    the shut time before or after it, is ``censored`` and shorter than ``t_crit``)
    is flagged ``censored``: leave it out of burst-length statistics.

    Bursts describe one channel; with several channels in the patch, openings of
    different channels overlap and are counted as one (a warning says so).

    Parameters
    ----------
    events : pandas.DataFrame
        Events from :func:`dwell_times`, usually after :func:`impose_resolution`.
    t_crit : float
        Critical shut time (s), for example from :func:`critical_time`.

    Returns
    -------
    bursts : pandas.DataFrame
        One row per burst, with columns ``recording``, ``start`` (s, its first
        opening's start), ``length`` (s, to the end of its last opening),
        ``n_openings``, ``open_time`` (s, total time open), ``open_probability``
        (``open_time / length``) and ``censored`` (bool).

    See Also
    --------
    critical_time : A ``t_crit`` between two shut-time components.

    Examples
    --------
    >>> from skion.kinetics import bursts, dwell_times
    >>> labels = [0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    >>> events = dwell_times(labels, sampling_rate=1000)
    >>> bursts(events, t_crit=0.002)
       recording  start  length  n_openings  open_time  open_probability  censored
    0          0  0.004   0.004           2      0.003              0.75     False
    1          0  0.013   0.003           1      0.003              1.00     False
    """
    check_events(events)
    columns = ["recording", "start", "length", "n_openings", "open_time", "open_probability"]
    if events.empty:
        return pd.DataFrame({name: [] for name in [*columns, "censored"]})
    level = events["level"].to_numpy()
    if level.max() > 1:
        warnings.warn(
            f"bursts assume a one-channel record, but up to {level.max()} channels are open at "
            "once: overlapping openings of different channels count as one opening.",
            UserWarning,
            stacklevel=3,  # the caller, past validate_params
        )
    is_open = level > 0
    duration = events["duration"].to_numpy()
    starts, _ = segment_bounds(len(events), events["recording"].to_numpy())
    first_of_recording = np.zeros(len(events), dtype=bool)
    first_of_recording[starts] = True
    gap = ~is_open & (duration > t_crit)
    # A burst is what lies between gaps and recording starts; gaps belong to none.
    burst = np.cumsum(gap | first_of_recording)
    previous_open = np.concatenate(([False], is_open[:-1])) & ~first_of_recording
    samples = events["n_samples"].to_numpy()
    table = pd.DataFrame(
        {
            "burst": burst,
            "recording": events["recording"].to_numpy(),
            "start": events["start"].to_numpy(),
            "end": events["start"].to_numpy() + duration,
            "duration": duration,
            "new_opening": is_open & ~previous_open,
            "open_samples": np.where(is_open, samples, 0),
            "samples_so_far": np.cumsum(samples),  # up to the end of each event
            "censored": events["censored"].to_numpy(),
        }
    )[~gap]
    # Censored events inside a burst (short edge shut times too) make it censored.
    censored = table.groupby("burst")["censored"].any()
    per_burst = table[is_open[~gap]].groupby("burst")
    first_open = per_burst["samples_so_far"].first() - per_burst["open_samples"].first()
    result = pd.DataFrame(
        {
            "recording": per_burst["recording"].first(),
            "start": per_burst["start"].first(),
            "length": per_burst["end"].last() - per_burst["start"].first(),
            "n_openings": per_burst["new_opening"].sum().astype(np.int64),
            "open_time": per_burst["duration"].sum(),
            # in samples, exactly: open samples over those from first to last opening
            "open_probability": per_burst["open_samples"].sum()
            / (per_burst["samples_so_far"].last() - first_open),
        }
    )
    result["censored"] = censored.loc[result.index].to_numpy()
    return result.reset_index(drop=True)


@validate_params(
    {
        "fit": [ExponentialFit],
        "component": [Interval(Integral, 0, None, closed="left")],
        "criterion": [StrOptions({"number", "proportion"})],
    },
    prefer_skip_nested_validation=True,
)
def critical_time(fit, *, component=0, criterion="number") -> float:
    """The critical shut time between two components of a shut-time fit.

    Shut times shorter than ``t_crit`` are taken as gaps within bursts (the faster
    component), longer ones as gaps between bursts (the slower component); some are
    misclassified either way. With ``criterion="number"`` (Jackson, Wong, Morris and
    Lecar, 1983) as many short gaps are misclassified as long ones:
    ``a_f exp(-t / tau_f) = a_s (1 - exp(-t / tau_s))``. With ``"proportion"``
    (Colquhoun and Sakmann, 1985) the same fraction of each component is:
    ``exp(-t / tau_f) = 1 - exp(-t / tau_s)``. Only the two components weigh in.

    Parameters
    ----------
    fit : ExponentialFit
        A fit of shut times with at least two components, from
        :func:`fit_exponentials` or :func:`select_components`.
    component : int, default=0
        ``t_crit`` lies between ``fit.taus[component]`` and
        ``fit.taus[component + 1]``.
    criterion : {"number", "proportion"}, default="number"
        Equal numbers or equal proportions misclassified.

    Returns
    -------
    t_crit : float
        Seconds.

    See Also
    --------
    bursts : Openings grouped by ``t_crit``.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.kinetics import ExponentialFit, critical_time
    >>> fit = ExponentialFit(taus=np.array([0.001, 0.1]), fractions=np.array([0.8, 0.2]),
    ...                      loglik=0.0, stderr=np.full(2, np.nan), n_events=1000,
    ...                      t_min=0.0, sampling_rate=None)
    >>> round(critical_time(fit) * 1000, 2)  # ms
    4.51
    >>> round(critical_time(fit, criterion="proportion") * 1000, 2)
    3.4
    """
    if component + 1 >= len(fit.taus):
        raise ValueError(
            f"component={component} needs a fit with at least {component + 2} components; "
            f"this one has {len(fit.taus)}."
        )
    tau_f, tau_s = fit.taus[component], fit.taus[component + 1]
    a_f, a_s = fit.fractions[component], fit.fractions[component + 1]
    if criterion == "proportion":
        a_f = a_s = 1.0

    def excess(t):  # fast gaps counted as slow minus slow gaps counted as fast
        return a_f * np.exp(-t / tau_f) + a_s * np.expm1(-t / tau_s)

    return float(brentq(excess, 0.0, 50.0 * tau_s, xtol=1e-15, rtol=1e-12))

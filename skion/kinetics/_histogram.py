"""Log-binned dwell-time histograms with the square-root display of Sigworth and Sine."""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils._param_validation import Interval

from .._strict import validate_params
from ..metrics._plotting import _new_axes
from ._exponentials import ExponentialFit

if TYPE_CHECKING:  # matplotlib is optional (extra "plot")
    from matplotlib.axes import Axes

__all__ = ["dwell_histogram", "plot_dwell_histogram"]

_HISTOGRAM_CONSTRAINTS = {
    "durations": ["array-like"],
    "t_min": [Interval(Real, 0, None, closed="left")],
    "sampling_rate": [Interval(Real, 0, None, closed="neither"), None],
    "bins_per_decade": [Interval(Integral, 1, 100, closed="both"), None],
}


def _positive_durations(durations) -> np.ndarray:
    x = np.asarray(durations, dtype=np.float64)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("durations must be a non-empty 1-D array of positive, finite times (s).")
    return x


@validate_params(_HISTOGRAM_CONSTRAINTS, prefer_skip_nested_validation=True)
def dwell_histogram(durations, *, t_min=0.0, sampling_rate=None, bins_per_decade=None):
    """Counts of dwell times in logarithmic bins.

    Dwell times span decades, so their histogram is binned on a logarithmic time
    axis, each bin a fixed ratio wider than the last; with the square root of the
    counts as ordinate (Sigworth and Sine, 1987) every exponential component shows
    as a peak at its time constant. Bins start at ``t_min`` (or the shortest
    duration) and the last edge lies above the longest duration, so nothing is left
    out. With ``sampling_rate`` the edges fall half-way between whole numbers of
    samples (and bins narrower than a sample are joined), so that no bin is empty
    only because no sampled duration can fall in it.

    Parameters
    ----------
    durations : array-like of shape (n_events,)
        Dwell times (s).
    t_min : float, default=0.0
        Shortest duration counted (s); 0: from the shortest duration.
    sampling_rate : float, default=None
        Samples per second, when the durations are whole numbers of samples.
    bins_per_decade : int, default=None
        None: 5 up to 300 durations, 8 up to 1,000, 10 up to 3,000, 12 above (the
        convention of DCPROGS).

    Returns
    -------
    counts : ndarray of shape (n_bins,)
        Durations in each bin ``[edges[i], edges[i + 1])``.
    edges : ndarray of shape (n_bins + 1,)
        Bin edges (s).

    See Also
    --------
    plot_dwell_histogram : The histogram drawn, with a fit overlaid.

    Examples
    --------
    >>> from skion.kinetics import dwell_histogram
    >>> counts, edges = dwell_histogram([0.001, 0.002, 0.002, 0.05], bins_per_decade=1)
    >>> counts.tolist(), edges.round(3).tolist()
    ([3, 1], [0.001, 0.01, 0.1])
    """
    x = _positive_durations(durations)
    # As fit_exponentials counts them: sampled durations from the sample nearest t_min.
    x = x[x >= t_min - (0.0 if sampling_rate is None else 0.5 / sampling_rate)]
    if x.size == 0:
        raise ValueError(f"no duration is at or above t_min={t_min} s.")
    if bins_per_decade is None:
        n = x.size
        bins_per_decade = 5 if n <= 300 else 8 if n <= 1000 else 10 if n <= 3000 else 12
    low = t_min if t_min > 0 else x.min()
    if sampling_rate is not None:
        low = (max(np.rint(low * sampling_rate), 1.0) - 0.5) / sampling_rate
    decades = np.log10(x.max() / low)
    n_bins = max(int(np.floor(decades * bins_per_decade)) + 1, 1)
    edges = low * 10.0 ** (np.arange(n_bins + 1) / bins_per_decade)
    if sampling_rate is not None:
        edges = np.unique(np.rint(edges * sampling_rate - 0.5) + 0.5) / sampling_rate
        if edges.size < 2:
            edges = np.append(edges, edges[0] + 1.0 / sampling_rate)
    counts, _ = np.histogram(x, bins=edges)
    return counts, edges


@validate_params(
    {**_HISTOGRAM_CONSTRAINTS, "fit": [ExponentialFit, None], "ax": "no_validation"},
    prefer_skip_nested_validation=True,
)
def plot_dwell_histogram(
    durations, fit=None, *, t_min=0.0, sampling_rate=None, bins_per_decade=None, ax=None
) -> Axes:
    """Draw a log-binned dwell-time histogram on a square-root scale, with a fit.

    The bars are :func:`dwell_histogram`'s counts, drawn as a staircase on a
    logarithmic time axis with the square root of the counts per decade of time as
    ordinate (per decade rather than per bin, so that bins joined to whole samples at
    short times do not show as false peaks). A fit of the same durations is overlaid
    as the counts it expects in every bin (its components dashed), so a missing
    component shows as a peak the curve misses.

    Parameters
    ----------
    durations : array-like of shape (n_events,)
        Dwell times (s).
    fit : ExponentialFit, default=None
        A fit of these durations (:func:`fit_exponentials`, :func:`select_components`).
    t_min : float, default=0.0
        Shortest duration drawn (s); the fit's ``t_min`` when a fit is given and
        this is 0.
    sampling_rate : float, default=None
        As in :func:`dwell_histogram`; the fit's when a fit is given and this is None.
    bins_per_decade : int, default=None
        As in :func:`dwell_histogram`.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; None: a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes

    See Also
    --------
    dwell_histogram : The counts and edges.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.kinetics import fit_exponentials, plot_dwell_histogram
    >>> durations = np.random.default_rng(0).geometric(0.1, 2000) / 10_000
    >>> fit = fit_exponentials(durations, 1, sampling_rate=10_000)
    >>> ax = plot_dwell_histogram(durations, fit)
    >>> ax.get_xscale()
    'log'
    """
    if fit is not None:
        t_min = t_min or fit.t_min
        sampling_rate = sampling_rate if sampling_rate is not None else fit.sampling_rate
    counts, edges = dwell_histogram(
        durations, t_min=t_min, sampling_rate=sampling_rate, bins_per_decade=bins_per_decade
    )
    # Per decade, so that bins joined to whole samples do not look like peaks.
    decades = np.log10(edges[1:] / edges[:-1])
    ax = _new_axes(ax, (5, 3.5))
    ax.stairs(np.sqrt(counts / decades), edges, color="0.3", label=f"{counts.sum()} dwells")
    if fit is not None:  # the counts it expects in the same bins, and its components'
        centres = np.sqrt(edges[:-1] * edges[1:])
        expected = fit.expected_counts(edges) / decades
        ax.plot(centres, np.sqrt(expected), color="C3", label=_describe(fit))
        if len(fit.taus) > 1:
            for i in range(len(fit.taus)):
                expected = fit.expected_counts(edges, component=i) / decades
                ax.plot(centres, np.sqrt(expected), "--", color="C3", alpha=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("dwell time (s)")
    ax.set_ylabel("sqrt(dwells per decade)")
    ax.legend(frameon=False, fontsize="small")
    return ax


def _describe(fit: ExponentialFit) -> str:
    parts = [
        f"{tau * 1e3:.3g} ms ({a:.2f})" for tau, a in zip(fit.taus, fit.fractions, strict=True)
    ]
    return "fit: " + ", ".join(parts)

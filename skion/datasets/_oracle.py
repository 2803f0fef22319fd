"""Exact Bayes posterior over open-channel counts for recordings from ``make_ion_switching``."""

from __future__ import annotations

from collections.abc import Sequence
from math import factorial

import numpy as np
from numpy.typing import ArrayLike

from ..hmm import forward_backward
from ..hmm._aggregated_chain import compositions
from ._ion_switching import RecordingModel

__all__ = ["aggregated_chain", "oracle_proba"]


def aggregated_chain(
    transition: ArrayLike, open_states: ArrayLike, n_channels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Markov chain over occupancy counts of ``n_channels`` independent identical channels.

    The aggregated state is the multiset of single-channel states: a vector of counts
    ``(m_0, ..., m_{S-1})`` summing to ``n_channels``. In one step, the ``m_s`` channels in
    state ``s`` move multinomially with probabilities ``transition[s]``; the aggregated
    transition probability is the convolution of these multinomials. There are
    ``comb(n_channels + S - 1, S - 1)`` states (66 for 10 channels of a 3-state scheme).

    Parameters
    ----------
    transition : array-like of shape (S, S)
        Single-channel row-stochastic transition matrix.
    open_states : array-like of shape (S,), dtype bool
        Which single-channel states conduct.
    n_channels : int
        Number of channels (>= 1).

    Returns
    -------
    counts : ndarray of shape (n_agg, S), dtype int64
        Occupancy vector of every aggregated state.
    agg_transition : ndarray of shape (n_agg, n_agg)
        Row-stochastic transition matrix of the aggregated chain.
    n_open : ndarray of shape (n_agg,), dtype int64
        Number of open channels in every aggregated state.

    Examples
    --------
    Two channels of a 2-state (closed, open) scheme: states (2, 0), (1, 1), (0, 2).

    >>> import numpy as np
    >>> from skion.datasets import aggregated_chain
    >>> P = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> counts, T, n_open = aggregated_chain(P, [False, True], 2)
    >>> counts.tolist(), n_open.tolist()
    ([[2, 0], [1, 1], [0, 2]], [0, 1, 2])
    >>> np.round(T[0], 3).tolist()  # both closed: stay 0.81, one opens 0.18, both 0.01
    [0.81, 0.18, 0.01]
    """
    P = np.asarray(transition, dtype=np.float64)
    mask = np.asarray(open_states, dtype=bool)
    n_states = P.shape[0]
    if P.shape != (n_states, n_states) or mask.shape != (n_states,):
        raise ValueError(
            f"transition must be square and open_states match it, got {P.shape} and {mask.shape}."
        )
    if int(n_channels) != n_channels or n_channels < 1:
        raise ValueError(f"n_channels must be a positive integer, got {n_channels!r}.")
    n_channels = int(n_channels)
    counts = np.array(compositions(n_channels, n_states), dtype=np.int64)
    radix = (n_channels + 1) ** np.arange(n_states)  # counts <-> integer key, no carries
    keys = counts @ radix
    index = np.full(int(keys.max()) + 1, -1, dtype=np.int64)
    index[keys] = np.arange(len(counts))

    # moves[s][m] = (keys, probs): where m channels starting in state s end up
    moves = []
    for s in range(n_states):
        per_m = [(np.zeros(1, dtype=np.int64), np.ones(1))]
        for m in range(1, n_channels + 1):
            outcomes = np.array(compositions(m, n_states), dtype=np.int64)
            coef = np.array(
                [factorial(m) / np.prod([factorial(c) for c in row]) for row in outcomes]
            )
            with np.errstate(divide="ignore"):
                probs = coef * np.prod(P[s] ** outcomes, axis=1)
            per_m.append((outcomes @ radix, probs))
        moves.append(per_m)

    n_agg = len(counts)
    size = int(keys.max()) + 1
    agg = np.zeros((n_agg, n_agg))
    for i, source in enumerate(counts):
        dist_keys, dist_probs = np.zeros(1, dtype=np.int64), np.ones(1)
        for s in range(n_states):
            if source[s] == 0:
                continue
            k, p = moves[s][source[s]]
            dense = np.bincount(
                (dist_keys[:, None] + k[None, :]).ravel(),
                weights=(dist_probs[:, None] * p[None, :]).ravel(),
                minlength=size,
            )
            dist_keys = np.flatnonzero(dense)
            dist_probs = dense[dist_keys]
        agg[i, index[dist_keys]] = dist_probs
    agg /= agg.sum(axis=1, keepdims=True)
    return counts, agg, counts[:, mask].sum(axis=1)


def _multinomial_pmf(counts, probs):
    n = int(counts[0].sum())
    coef = np.array([factorial(n) / np.prod([factorial(c) for c in row]) for row in counts])
    with np.errstate(divide="ignore"):
        return coef * np.prod(np.asarray(probs) ** counts, axis=1)


def oracle_proba(
    X: ArrayLike, model: Sequence[RecordingModel], *, n_classes: int = 11
) -> np.ndarray:
    """Exact Bayes posterior over open-channel counts, given the generating model.

    For every recording of ``model`` (as returned by ``make_ion_switching(...,
    return_model=True)``), runs the forward-backward algorithm on the aggregated chain
    over occupancy counts (see :func:`aggregated_chain`), started from its stationary
    (multinomial) distribution, with the exact Gaussian emission of mean
    ``offset + step * k + hum + drift`` and sd ``noise`` for ``k`` open channels. No
    information crosses recording boundaries. Its argmax is the Bayes classifier that
    maximises per-sample accuracy: the ceiling any learned model can reach on these data.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,)
        The simulated current (first column when 2-D), with the rows of ``model``.
    model : sequence of RecordingModel
        The recordings' generating models, covering ``X`` contiguously from row 0.
    n_classes : int, default=11
        Number of output columns (open counts ``0..n_classes - 1``); must exceed the
        largest channel count.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        ``P(n_open = k | X of the recording)``; rows sum to 1.

    Examples
    --------
    >>> from sklearn.metrics import f1_score
    >>> from skion.datasets import make_ion_switching, oracle_proba
    >>> X, y, groups, model = make_ion_switching(20_000, random_state=0, return_model=True)
    >>> proba = oracle_proba(X, model)
    >>> proba.shape
    (20000, 11)
    >>> bool(f1_score(y, proba.argmax(axis=1), average="macro") > 0.8)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    signal = X[:, 0] if X.ndim == 2 else X
    if signal.ndim != 1:
        raise ValueError(f"X must be 1-D or 2-D, got shape {X.shape}.")
    model = tuple(model)
    if not model:
        raise ValueError("model must contain at least one RecordingModel.")
    expected = 0
    for rec in model:
        if rec.start != expected:
            raise ValueError(
                f"model recordings must cover X contiguously from row 0; a recording starts "
                f"at row {rec.start}, expected {expected}."
            )
        if rec.filter_cutoff is not None:
            raise ValueError(
                "oracle_proba is exact only for unfiltered recordings; a recording was "
                f"low-pass filtered at {rec.filter_cutoff:g} Hz (its samples are correlated)."
            )
        if rec.n_channels >= n_classes:
            raise ValueError(
                f"n_classes={n_classes} is too small for a recording of {rec.n_channels} channels."
            )
        expected = rec.stop
    if expected != len(signal):
        raise ValueError(f"model covers {expected} rows but X has {len(signal)}.")

    proba = np.zeros((len(signal), n_classes))
    for rec in model:
        counts, agg, n_open = aggregated_chain(rec.transition, rec.open_states, rec.n_channels)
        initial = _multinomial_pmf(counts, rec.stationary)
        residual = signal[rec.start : rec.stop] - rec.baseline()
        k = np.arange(rec.n_channels + 1)
        log_em_k = -0.5 * ((residual[:, None] - rec.step * k[None, :]) / rec.noise) ** 2
        posterior = forward_backward(log_em_k[:, n_open], agg, initial)
        per_count = posterior @ (n_open[:, None] == k[None, :])
        proba[rec.start : rec.stop, : rec.n_channels + 1] = per_count
    return proba

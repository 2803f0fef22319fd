"""Compiled forward-backward over aggregated states, reporting only count-level posteriors.

The hidden states of an aggregated-kinetics HMM are occupancy vectors (66 for 10 channels
of a 3-state scheme); the emission depends only on the number of open channels. These
kernels (numba, dense loops that the compiler vectorises: 4-5 times faster than a sparse
walk, since ``expm(Q_agg * dt)`` is nearly dense at 10 kHz) keep the forward variable only
at block checkpoints, recomputing a block at a time in the backward pass, and return the
posterior over *counts* and the expected transition counts. Memory is
``O(n_samples * n_counts + n_samples / block * n_states)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["block_log_likelihoods", "count_emission", "count_forward_backward"]

#: Rows between stored forward variables; a block of this many rows is recomputed in
#: the backward pass (memory: block * n_states floats).
BLOCK = 512


@njit(cache=True, nogil=True, fastmath=True)
def _advance(previous, emission_row, level, transition, out):
    """``out = (previous @ A) * emission``; returns the sum of ``out`` (unnormalised)."""
    n_states = level.shape[0]
    for j in range(n_states):
        out[j] = 0.0
    for i in range(n_states):
        a = previous[i]
        if a == 0.0:
            continue
        row = transition[i]
        for j in range(n_states):
            out[j] += a * row[j]
    total = 0.0
    for j in range(n_states):
        out[j] *= emission_row[level[j]]
        total += out[j]
    return total


@njit(cache=True, nogil=True, fastmath=True)
def _block_kernel(emission, level, transition, initial, block, out):
    """``out[b]``: log-likelihood of block ``b`` of rows, started from ``initial``."""
    n_samples = emission.shape[0]
    n_states = level.shape[0]
    alpha = np.empty(n_states)
    nxt = np.empty(n_states)
    for b in range(out.shape[0]):
        start = b * block
        total = 0.0
        for j in range(n_states):
            alpha[j] = initial[j] * emission[start, level[j]]
            total += alpha[j]
        loglik = 0.0
        for t in range(start, min(start + block, n_samples)):
            if t > start:
                total = _advance(alpha, emission[t], level, transition, nxt)
                alpha, nxt = nxt, alpha
            if not total > 0.0:
                loglik = -np.inf
                break
            loglik += np.log(total)
            for j in range(n_states):
                alpha[j] /= total
        out[b] = loglik


@njit(cache=True, nogil=True, fastmath=True)
def _kernel(emission, level, transition, initial, block, gamma, xi):
    """Fill ``gamma`` (n_samples, n_counts) and add to ``xi``; return (log c sum, bad row)."""
    n_samples = emission.shape[0]
    n_states = level.shape[0]
    n_blocks = (n_samples + block - 1) // block
    checkpoint = np.empty((n_blocks, n_states))
    scale = np.empty(n_samples)
    alpha = np.empty(n_states)
    nxt = np.empty(n_states)

    total = 0.0
    for j in range(n_states):
        alpha[j] = initial[j] * emission[0, level[j]]
        total += alpha[j]
    log_scale = 0.0
    for t in range(n_samples):
        if t > 0:
            total = _advance(alpha, emission[t], level, transition, nxt)
            alpha, nxt = nxt, alpha
        if not total > 0.0:
            return log_scale, t
        scale[t] = total
        log_scale += np.log(total)
        for j in range(n_states):
            alpha[j] /= total
        if t % block == 0:
            checkpoint[t // block] = alpha

    buffer = np.empty((block, n_states))
    beta = np.ones(n_states)
    weight = np.empty(n_states)
    have_weight = False
    for b in range(n_blocks - 1, -1, -1):
        start = b * block
        stop = min(start + block, n_samples)
        buffer[0] = checkpoint[b]
        for t in range(start + 1, stop):
            _advance(buffer[t - start - 1], emission[t], level, transition, nxt)
            inv = 1.0 / scale[t]
            for j in range(n_states):
                buffer[t - start, j] = nxt[j] * inv
        for t in range(stop - 1, start - 1, -1):
            a_t = buffer[t - start]
            if have_weight:  # beta_t = A @ weight_{t+1}; xi += alpha_t A weight_{t+1}
                for i in range(n_states):
                    acc = 0.0
                    ai = a_t[i]
                    row = transition[i]
                    xi_row = xi[i]
                    for j in range(n_states):
                        term = row[j] * weight[j]
                        acc += term
                        xi_row[j] += ai * term
                    beta[i] = acc
            norm = 0.0
            for i in range(n_states):
                norm += a_t[i] * beta[i]
            inv = 1.0 / norm
            for i in range(n_states):
                gamma[t, level[i]] += a_t[i] * beta[i] * inv
            inv = 1.0 / scale[t]
            for j in range(n_states):
                weight[j] = emission[t, level[j]] * beta[j] * inv
            have_weight = True
    return log_scale, -1


@njit(cache=True, nogil=True)
def _emission_kernel(x, baseline, step, noise, labels, out):
    """Fill ``out`` with every row's Gaussian densities over its maximum; return the sum
    of the maxima's logs (only the labelled count where ``labels[t] >= 0``)."""
    n_counts = out.shape[1]
    spacing = step / noise
    norm = -np.log(noise) - 0.5 * np.log(2.0 * np.pi)
    total = 0.0
    for t in range(x.shape[0]):
        r = (x[t] - baseline[t]) / noise
        best = -np.inf
        for k in range(n_counts):
            z = r - spacing * k
            value = -0.5 * z * z
            if labels[t] >= 0 and k != labels[t]:
                value = -np.inf
            out[t, k] = value
            if value > best:
                best = value
        for k in range(n_counts):
            out[t, k] = np.exp(out[t, k] - best)
        total += best + norm
    return total


def count_emission(x, baseline, step, noise, n_counts, labels=None):
    """Emission likelihood of every open-channel count, each row scaled by its maximum.

    Parameters
    ----------
    x, baseline : ndarray of shape (n_samples,)
        Current and closed level.
    step, noise : float
        Unitary current (signed) and white-noise sd.
    n_counts : int
        Counts ``0..n_counts - 1``.
    labels : ndarray of shape (n_samples,), default=None
        Known counts: every other count gets likelihood 0.

    Returns
    -------
    emission : ndarray of shape (n_samples, n_counts)
        ``N(x - baseline; step * k, noise) / max_k``.
    log_scale : float
        Sum over rows of the log of the maxima.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    baseline = np.broadcast_to(np.asarray(baseline, dtype=np.float64), x.shape)
    labels = np.full(len(x), -1, dtype=np.int64) if labels is None else np.asarray(labels, np.int64)
    out = np.empty((len(x), n_counts))
    log_scale = _emission_kernel(
        x, np.ascontiguousarray(baseline), float(step), float(noise), labels, out
    )
    return out, float(log_scale)


def count_forward_backward(emission, level, transition, initial, xi=None):
    """Posterior over counts and expected transitions of one recording.

    Parameters
    ----------
    emission : ndarray of shape (n_samples, n_counts), float64
        Emission likelihood of every count, each row scaled by a positive constant
        (e.g. ``exp(log_em - row max)``).
    level : ndarray of shape (n_states,), int64
        Count (open channels) of every aggregated state.
    transition : ndarray of shape (n_states, n_states)
        Row-stochastic transition matrix.
    initial : ndarray of shape (n_states,)
        Distribution of the first state.
    xi : ndarray of shape (n_states, n_states), optional
        Expected transition counts to add to.

    Returns
    -------
    gamma : ndarray of shape (n_samples, n_counts)
        ``P(count_t = k | recording)``.
    xi : ndarray of shape (n_states, n_states)
        Expected number of transitions ``i -> j``, added to ``xi``.
    log_scale : float
        Sum of the log normalisers: the log-likelihood up to the rows' scaling constants.

    Raises
    ------
    ValueError
        If the observations have probability zero under the model at some row.
    """
    emission = np.ascontiguousarray(emission, dtype=np.float64)
    gamma = np.zeros(emission.shape)
    transition = np.ascontiguousarray(transition, dtype=np.float64)
    if xi is None:
        xi = np.zeros(transition.shape)
    log_scale, bad = _kernel(emission, level, transition, initial, BLOCK, gamma, xi)
    if bad >= 0:
        raise ValueError(f"The observations have probability zero under the model at row {bad}.")
    return gamma, xi, log_scale


def block_log_likelihoods(emission, level, transition, initial, block):
    """Log-likelihood of every block of ``block`` rows, each started afresh from ``initial``.

    Forward pass only (no posteriors are kept): blocks are scored independently, so that
    alternatives for one block (e.g. its baseline moved by a whole level) can be compared
    without the rest of the recording.

    Parameters
    ----------
    emission : ndarray of shape (n_samples, n_counts), float64
        Emission likelihood of every count, each row scaled by a positive constant.
    level : ndarray of shape (n_states,), int64
        Count (open channels) of every aggregated state.
    transition : ndarray of shape (n_states, n_states)
        Row-stochastic transition matrix.
    initial : ndarray of shape (n_states,)
        Distribution of the state at the start of every block.
    block : int
        Rows per block (the last may be shorter).

    Returns
    -------
    loglik : ndarray of shape (ceil(n_samples / block),)
        Log-likelihood of every block up to its rows' scaling constants; ``-inf`` where
        a row has probability zero.
    """
    emission = np.ascontiguousarray(emission, dtype=np.float64)
    out = np.empty(-(-len(emission) // block))
    _block_kernel(
        emission, level, np.ascontiguousarray(transition, dtype=np.float64), initial, block, out
    )
    return out

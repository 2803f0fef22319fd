"""Compiled forward-backward over aggregated states, reporting only count-level posteriors.

The hidden states of an aggregated-kinetics HMM are occupancy vectors (66 for 10 channels
of a 3-state scheme); the emission depends only on the number of open channels. These
kernels (numba, dense loops that the compiler vectorises: 4-5 times faster than a sparse
walk, since ``expm(Q_agg * dt)`` is nearly dense at 10 kHz) keep the forward variable only
at block checkpoints, recomputing a block at a time in the backward pass, and return the
posterior over *counts* and the expected transition counts. Emissions are made and
posteriors handed over a chunk of rows at a time (``chunked_forward_backward``), so that
memory is one float per row plus ``O(CHUNK * n_counts + n_samples / BLOCK * n_states)``:
one 10 M-sample recording of 10 channels needs about 100 MB where its emissions and
posteriors alone would take 1.8 GB.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "block_log_likelihoods",
    "chunked_forward_backward",
    "chunked_viterbi",
    "count_emission",
    "count_emission_of",
    "count_forward_backward",
    "forward_log_likelihood",
]

#: Rows between stored forward variables; a block of this many rows is recomputed in
#: the backward pass (memory: block * n_states floats).
BLOCK = 512

#: Rows whose emissions and posteriors are held at once (a multiple of ``BLOCK``).
CHUNK = 128 * BLOCK


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
def _forward(emission, first_row, level, transition, initial, alpha, block, checkpoint, scale):
    """Forward pass over rows ``first_row..`` (``emission``'s rows), normalised.

    ``alpha`` holds the forward variable of the row before on entry (ignored at row 0)
    and of the last row on return. Where ``scale``/``checkpoint`` are not empty, every
    row's normaliser and every ``block``-th forward variable are stored at their global
    rows. Returns (sum of the logs of the normalisers, first impossible row or -1).
    """
    n_states = level.shape[0]
    store = scale.shape[0] > 0
    current = alpha.copy()
    nxt = np.empty(n_states)
    log_scale = 0.0
    for t in range(emission.shape[0]):
        row = first_row + t
        if row == 0:
            total = 0.0
            for j in range(n_states):
                current[j] = initial[j] * emission[t, level[j]]
                total += current[j]
        else:
            total = _advance(current, emission[t], level, transition, nxt)
            current, nxt = nxt, current
        if not total > 0.0:
            return log_scale, row
        log_scale += np.log(total)
        for j in range(n_states):
            current[j] /= total
        if store:
            scale[row] = total
            if row % block == 0:
                checkpoint[row // block] = current
    alpha[:] = current
    return log_scale, -1


@njit(cache=True, nogil=True, fastmath=True)
def _backward(
    emission, first_row, level, transition, block, checkpoint, scale, beta, weight, have_weight,
    gamma, xi,
):  # fmt: skip
    """Backward pass over ``emission``'s rows (from ``first_row``, a multiple of ``block``),
    the forward variables recomputed a block at a time from the checkpoints.

    Adds every row's count posterior to ``gamma`` and the expected transitions to ``xi``.
    ``beta``/``weight`` carry the backward variable of the row after the last (and
    ``have_weight`` whether there is one) in and out. Returns ``have_weight``.
    """
    n_samples = emission.shape[0]
    n_states = level.shape[0]
    buffer = np.empty((block, n_states))
    nxt = np.empty(n_states)
    for b in range((n_samples + block - 1) // block - 1, -1, -1):
        start = b * block
        stop = min(start + block, n_samples)
        buffer[0] = checkpoint[(first_row + start) // block]
        for t in range(start + 1, stop):
            _advance(buffer[t - start - 1], emission[t], level, transition, nxt)
            inv = 1.0 / scale[first_row + t]
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
            inv = 1.0 / scale[first_row + t]
            for j in range(n_states):
                weight[j] = emission[t, level[j]] * beta[j] * inv
            have_weight = True
    return have_weight


@njit(cache=True, nogil=True)
def _viterbi_forward(log_emission, first_row, level, log_transition, log_initial, score, back):
    """Viterbi recursion over rows ``first_row..`` in log space: ``score`` (in and out)
    is the best path's log-probability ending in every state; ``back[row, j]`` the state
    before ``j`` on it (the first best, as ``argmax``)."""
    n_states = level.shape[0]
    new = np.empty(n_states)
    for t in range(log_emission.shape[0]):
        row = first_row + t
        if row == 0:
            for j in range(n_states):
                score[j] = log_initial[j] + log_emission[t, level[j]]
            continue
        for j in range(n_states):
            best, arg = -np.inf, 0
            for i in range(n_states):
                value = score[i] + log_transition[i, j]
                if value > best:
                    best, arg = value, i
            new[j] = best + log_emission[t, level[j]]
            back[row, j] = arg
        score[:] = new


@njit(cache=True, nogil=True)
def _backtrack(back, last, path):
    path[-1] = last
    for t in range(path.shape[0] - 1, 0, -1):
        path[t - 1] = back[t, path[t]]


@njit(cache=True, nogil=True)
def _emission_kernel(x, baseline, step, noise, excess, labels, out):
    """Fill ``out`` with every row's Gaussian densities over its maximum; return the sum
    of the maxima's logs (only the labelled count where ``labels[t] >= 0``). Count ``k``
    has sd ``sqrt(noise ** 2 + k * excess ** 2)``."""
    n_counts = out.shape[1]
    spacing = step / noise
    norm = -np.log(noise) - 0.5 * np.log(2.0 * np.pi)
    ratio = np.empty(n_counts)  # noise / sd of every count
    for k in range(n_counts):
        ratio[k] = 1.0 / np.sqrt(1.0 + k * (excess / noise) ** 2)
    total = 0.0
    for t in range(x.shape[0]):
        r = (x[t] - baseline[t]) / noise
        best = -np.inf
        for k in range(n_counts):
            z = r - spacing * k
            if excess == 0.0:
                value = -0.5 * z * z
            else:
                z *= ratio[k]
                value = -0.5 * z * z + np.log(ratio[k])
            if labels[t] >= 0 and k != labels[t]:
                value = -np.inf
            out[t, k] = value
            if value > best:
                best = value
        for k in range(n_counts):
            out[t, k] = np.exp(out[t, k] - best)
        total += best + norm
    return total


def count_emission(x, baseline, step, noise, n_counts, labels=None, excess=0.0):
    """Emission likelihood of every open-channel count, each row scaled by its maximum.

    Parameters
    ----------
    x, baseline : ndarray of shape (n_samples,)
        Current and closed level.
    step, noise : float
        Unitary current (signed) and the noise sd with every channel closed.
    n_counts : int
        Counts ``0..n_counts - 1``.
    labels : ndarray of shape (n_samples,), default=None
        Known counts: every other count gets likelihood 0.
    excess : float, default=0.0
        Open-channel noise: every open channel adds ``excess ** 2`` to the variance.

    Returns
    -------
    emission : ndarray of shape (n_samples, n_counts)
        ``N(x - baseline; step * k, sqrt(noise ** 2 + k * excess ** 2)) / max_k``.
    log_scale : float
        Sum over rows of the log of the maxima.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    baseline = np.broadcast_to(np.asarray(baseline, dtype=np.float64), x.shape)
    labels = np.full(len(x), -1, dtype=np.int64) if labels is None else np.asarray(labels, np.int64)
    out = np.empty((len(x), n_counts))
    log_scale = _emission_kernel(
        x, np.ascontiguousarray(baseline), float(step), float(noise), float(excess), labels, out
    )
    return out, float(log_scale)


def _impossible(row):
    return ValueError(f"The observations have probability zero under the model at row {row}.")


def chunked_forward_backward(emission_of, n_samples, level, transition, initial, consume, xi=None):
    """Forward-backward over a recording whose emissions are made ``CHUNK`` rows at a time.

    Memory beyond the caller's is one chunk's emissions and posteriors, a float per row
    (the normalisers) and a forward variable per ``BLOCK`` rows, whatever the length.

    Parameters
    ----------
    emission_of : callable
        ``emission_of(start, stop)`` returns the emission likelihoods of rows
        ``start..stop-1`` as an array of shape (stop - start, n_counts), each row scaled
        by a positive constant, and the sum of the logs of those constants (a float).
        Called twice per chunk (forward, then backward) unless the recording is one chunk.
    n_samples : int
        Rows of the recording.
    level : ndarray of shape (n_states,), int64
        Count (open channels) of every aggregated state.
    transition : ndarray of shape (n_states, n_states)
        Row-stochastic transition matrix.
    initial : ndarray of shape (n_states,)
        Distribution of the first state.
    consume : callable
        ``consume(start, stop, gamma)`` receives ``P(count_t = k | recording)`` of rows
        ``start..stop-1``, chunk by chunk from the last (the array is reused afterwards).
    xi : ndarray of shape (n_states, n_states), optional
        Expected transition counts to add to.

    Returns
    -------
    xi : ndarray of shape (n_states, n_states)
        Expected number of transitions ``i -> j``, added to ``xi``.
    log_likelihood : float
        Log-likelihood of the recording (the normalisers' logs plus the rows' constants).

    Raises
    ------
    ValueError
        If the observations have probability zero under the model at some row.
    """
    assert CHUNK % BLOCK == 0, "a chunk must hold whole checkpoint blocks"
    transition = np.ascontiguousarray(transition, dtype=np.float64)
    xi = np.zeros(transition.shape) if xi is None else xi
    if n_samples == 0:
        return xi, 0.0
    n_states = len(level)
    checkpoint = np.empty((-(-n_samples // BLOCK), n_states))
    scale = np.empty(n_samples)
    alpha = np.empty(n_states)
    log_likelihood = 0.0
    starts = range(0, n_samples, CHUNK)
    for start in starts:
        emission, offset = emission_of(start, min(start + CHUNK, n_samples))
        emission = np.ascontiguousarray(emission, dtype=np.float64)
        part, bad = _forward(
            emission, start, level, transition, initial, alpha, BLOCK, checkpoint, scale
        )
        if bad >= 0:
            raise _impossible(bad)
        log_likelihood += part + offset
    beta, weight, have_weight = np.ones(n_states), np.empty(n_states), False
    gamma = np.empty((min(CHUNK, n_samples), emission.shape[1]))
    for start in reversed(starts):
        stop = min(start + CHUNK, n_samples)
        if start != starts[-1]:  # the last chunk's emissions are still at hand
            emission = np.ascontiguousarray(emission_of(start, stop)[0], dtype=np.float64)
        part = gamma[: stop - start]
        part[:] = 0.0
        have_weight = _backward(
            emission, start, level, transition, BLOCK, checkpoint, scale, beta, weight,
            have_weight, part, xi,
        )  # fmt: skip
        consume(start, stop, part)
    return xi, log_likelihood


def forward_log_likelihood(emission_of, n_samples, level, transition, initial):
    """Log-likelihood of a recording by the forward pass alone, a chunk at a time.

    Parameters are those of :func:`chunked_forward_backward`; ``emission_of`` is called
    once per chunk. Returns ``-inf`` where a row has probability zero.
    """
    transition = np.ascontiguousarray(transition, dtype=np.float64)
    alpha, nothing = np.empty(len(level)), np.empty(0)
    total = 0.0
    for start in range(0, n_samples, CHUNK):
        emission, offset = emission_of(start, min(start + CHUNK, n_samples))
        part, bad = _forward(
            np.ascontiguousarray(emission, dtype=np.float64), start, level, transition,
            initial, alpha, BLOCK, nothing.reshape(0, 1), nothing,
        )  # fmt: skip
        if bad >= 0:
            return -np.inf
        total += part + offset
    return total


def chunked_viterbi(log_emission_of, n_samples, level, transition, initial):
    """Most probable state path, the emissions made ``CHUNK`` rows at a time.

    Memory beyond the path is a back-pointer table of one byte per row and state (for
    up to 127 states) and one chunk's emissions.

    Parameters
    ----------
    log_emission_of : callable
        ``log_emission_of(start, stop)`` returns the log-likelihoods of every count for
        rows ``start..stop-1``, shape (stop - start, n_counts), each row up to an additive
        constant (logs, not likelihoods: a state far below the row's best keeps its
        finite value). Called once per chunk.
    n_samples, level, transition, initial
        As in :func:`chunked_forward_backward`.

    Returns
    -------
    path : ndarray of shape (n_samples,), int64
        State of every row (the first best where several paths tie).

    Raises
    ------
    ValueError
        If no state sequence has a non-zero probability.
    """
    n_states = len(level)
    path = np.empty(n_samples, dtype=np.int64)
    if n_samples == 0:
        return path
    with np.errstate(divide="ignore"):
        log_transition = np.log(np.asarray(transition, dtype=np.float64))
        log_initial = np.log(np.asarray(initial, dtype=np.float64))
    back = np.zeros((n_samples, n_states), dtype=np.int8 if n_states <= 127 else np.int32)
    score = np.empty(n_states)
    for start in range(0, n_samples, CHUNK):
        log_emission = log_emission_of(start, min(start + CHUNK, n_samples))
        log_emission = np.ascontiguousarray(log_emission, dtype=np.float64)
        _viterbi_forward(log_emission, start, level, log_transition, log_initial, score, back)
    if not np.isfinite(score.max()):
        raise ValueError(
            "no state sequence has a non-zero probability: the emissions need a transition "
            "that has probability 0 (or a first state that initial excludes)."
        )
    _backtrack(back, int(np.argmax(score)), path)
    return path


def count_emission_of(x, baseline, step, noise, n_counts, labels=None, excess=0.0):
    """:func:`count_emission` of rows ``start..stop-1``, as the ``emission_of`` of
    :func:`chunked_forward_backward` and :func:`forward_log_likelihood`."""
    baseline = np.broadcast_to(baseline, np.shape(x))

    def emission_of(start, stop):
        given = None if labels is None else labels[start:stop]
        return count_emission(
            x[start:stop], baseline[start:stop], step, noise, n_counts, given, excess
        )

    return emission_of


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
    gamma = np.empty(np.shape(emission))

    def keep(start, stop, part):
        gamma[start:stop] = part

    xi, log_scale = chunked_forward_backward(
        lambda start, stop: (emission[start:stop], 0.0), len(emission), level, transition,
        initial, keep, xi,
    )  # fmt: skip
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

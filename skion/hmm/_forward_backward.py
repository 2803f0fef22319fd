"""Numerically stable forward-backward smoothing for discrete-state hidden Markov models."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["forward_backward"]


def _check_inputs(log_emission, transition, initial):
    log_emission = np.asarray(log_emission, dtype=np.float64)
    transition = np.asarray(transition, dtype=np.float64)
    initial = np.asarray(initial, dtype=np.float64)
    if log_emission.ndim != 2 or log_emission.shape[0] < 1 or log_emission.shape[1] < 1:
        raise ValueError(
            "log_emission must be a non-empty 2-D array of shape (n_samples, n_states), "
            f"got shape {log_emission.shape}."
        )
    n_states = log_emission.shape[1]
    if transition.shape != (n_states, n_states):
        raise ValueError(
            f"transition must have shape ({n_states}, {n_states}) to match log_emission, "
            f"got {transition.shape}."
        )
    if initial.shape != (n_states,):
        raise ValueError(
            f"initial must have shape ({n_states},) to match log_emission, got {initial.shape}."
        )
    if not np.all(np.isfinite(transition)) or np.any(transition < 0):
        raise ValueError("transition must contain finite, non-negative probabilities.")
    if not np.allclose(transition.sum(axis=1), 1.0, rtol=0, atol=1e-6):
        raise ValueError("Each row of transition must sum to 1.")
    if not np.all(np.isfinite(initial)) or np.any(initial < 0) or initial.sum() <= 0:
        raise ValueError("initial must contain finite, non-negative weights with a positive sum.")
    if np.any(np.isnan(log_emission)) or np.any(log_emission == np.inf):
        raise ValueError("log_emission must not contain NaN or +inf.")
    impossible = np.flatnonzero(np.all(log_emission == -np.inf, axis=1))
    if impossible.size:
        raise ValueError(
            f"log_emission is -inf for every state at row {impossible[0]} "
            f"({impossible.size} row(s) in all): no state can emit that sample."
        )
    return log_emission, transition, initial / initial.sum()


def forward_backward(
    log_emission: ArrayLike,
    transition: ArrayLike,
    initial: ArrayLike,
    *,
    return_log_likelihood: bool = False,
) -> np.ndarray | tuple[np.ndarray, float]:
    """Posterior state probabilities of a hidden Markov model (forward-backward).

    Computes ``P(state_t = j | observations_0..n-1)`` for every time step ``t`` of a
    discrete-state HMM given per-sample emission log-likelihoods. The recursion is the
    scaled (normalised) one: each row of ``log_emission`` has its maximum subtracted
    before exponentiation, and the forward variable is renormalised at every step, so
    log-likelihoods of any magnitude (e.g. ``-1e5``) neither underflow nor overflow.
    The loop over time is in Python, but every step is a vectorised operation over
    states; cost is ``O(n_samples * n_states**2)``.

    Parameters
    ----------
    log_emission : array-like of shape (n_samples, n_states)
        ``log p(x_t | state_t = j)``, up to an additive constant per row. ``-inf`` marks
        impossible states; a row must have at least one finite entry.
    transition : array-like of shape (n_states, n_states)
        Row-stochastic transition matrix, ``transition[i, j] = P(state_{t+1}=j | state_t=i)``.
    initial : array-like of shape (n_states,)
        Distribution of the first state (normalised internally).
    return_log_likelihood : bool, default=False
        Also return ``log p(x_0..x_{n-1})`` (exact when ``log_emission`` holds exact
        log-densities).

    Returns
    -------
    posterior : ndarray of shape (n_samples, n_states)
        Smoothed state probabilities; every row sums to 1.
    log_likelihood : float
        Only when ``return_log_likelihood=True``.

    Raises
    ------
    ValueError
        On inconsistent shapes, a transition matrix that is not row-stochastic, or an
        observation sequence that has probability zero under the model.

    Examples
    --------
    A two-state chain that rarely switches: the smoothed posterior pulls the ambiguous
    middle observation towards the state of its neighbours.

    >>> import numpy as np
    >>> from skion.hmm import forward_backward
    >>> log_em = np.log([[0.9, 0.1], [0.5, 0.5], [0.9, 0.1]])
    >>> A = np.array([[0.95, 0.05], [0.05, 0.95]])
    >>> post = forward_backward(log_em, A, [0.5, 0.5])
    >>> post.shape, np.allclose(post.sum(axis=1), 1)
    ((3, 2), True)
    >>> bool(post[1, 0] > 0.9)
    True
    """
    log_emission, transition, initial = _check_inputs(log_emission, transition, initial)
    n_samples, n_states = log_emission.shape
    row_max = log_emission.max(axis=1)  # finite: _check_inputs refuses all -inf rows
    emission = np.exp(log_emission - row_max[:, None])

    alpha = np.empty((n_samples, n_states))
    scale = np.empty(n_samples)
    a = initial * emission[0]
    s = a.sum()
    t = 0
    dot = np.dot
    while True:  # the first iteration only normalises row 0
        if not s > 0:
            raise ValueError(f"The observations have probability zero under the model at row {t}.")
        scale[t] = s
        alpha[t] = a / s
        t += 1
        if t == n_samples:
            break
        a = dot(alpha[t - 1], transition)
        a *= emission[t]
        s = a.sum()

    beta = np.empty((n_samples, n_states))
    beta[-1] = 1.0
    weighted = emission / scale[:, None]  # fold the forward scaling into the emissions once
    for t in range(n_samples - 2, -1, -1):
        beta[t] = dot(transition, weighted[t + 1] * beta[t + 1])

    posterior = alpha * beta
    posterior /= posterior.sum(axis=1, keepdims=True)
    if return_log_likelihood:
        return posterior, float(np.log(scale).sum() + row_max.sum())
    return posterior

"""Most probable state path of a hidden Markov model (Viterbi), in log space."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._forward_backward import _check_inputs

__all__ = ["viterbi"]


def viterbi(log_emission: ArrayLike, transition: ArrayLike, initial: ArrayLike) -> np.ndarray:
    """Most probable state sequence given per-sample emission log-likelihoods.

    The recursion runs in log space (no underflow); the loop over time is in Python,
    each step vectorised over states: ``O(n_samples * n_states**2)`` time and an
    ``(n_samples, n_states)`` int8/int16 back-pointer table.

    Parameters
    ----------
    log_emission : array-like of shape (n_samples, n_states)
        ``log p(x_t | state_t = j)``.
    transition : array-like of shape (n_states, n_states)
        Row-stochastic transition matrix.
    initial : array-like of shape (n_states,)
        Distribution of the first state.

    Returns
    -------
    path : ndarray of shape (n_samples,), dtype int64
        State index at every time step.

    Examples
    --------
    >>> import numpy as np
    >>> from skion.hmm import viterbi
    >>> log_em = np.log([[0.9, 0.1], [0.4, 0.6], [0.9, 0.1]])
    >>> A = np.array([[0.95, 0.05], [0.05, 0.95]])
    >>> viterbi(log_em, A, [0.5, 0.5])
    array([0, 0, 0])
    """
    log_emission, transition, initial = _check_inputs(log_emission, transition, initial)
    n_samples, n_states = log_emission.shape
    with np.errstate(divide="ignore"):
        log_a, log_pi = np.log(transition), np.log(initial)
    pointer_dtype = np.int8 if n_states <= 127 else np.int32
    back = np.empty((n_samples, n_states), dtype=pointer_dtype)
    score = log_pi + log_emission[0]
    for t in range(1, n_samples):
        candidates = score[:, None] + log_a  # from state i (rows) to state j (columns)
        best = candidates.argmax(axis=0)
        back[t] = best
        score = candidates[best, np.arange(n_states)] + log_emission[t]
    if score.max() == np.inf or np.isnan(score).any():
        raise ValueError(
            f"log_emission is too large to sum over {n_samples} samples: its largest value, "
            f"{log_emission.max():.3g}, overflows float64 (a log-likelihood of a density is "
            "at most a few hundred unless its scale is near zero)."
        )
    if not np.isfinite(score.max()):
        raise ValueError(
            "no state sequence has a non-zero probability: the emissions need a transition "
            "that has probability 0 (or a first state that initial excludes)."
        )
    path = np.empty(n_samples, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(n_samples - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path

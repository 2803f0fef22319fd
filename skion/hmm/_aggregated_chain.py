"""The Markov chain of N identical independent channels, as a function of single-channel rates.

A channel follows a linear scheme ``C1 - ... - C_nc - O1 - ... - O_no`` with one rate per
edge and direction (s^-1). N channels in continuous time jump from occupancy vector ``m``
to ``m - e_s + e_j`` at rate ``m_s * q_sj``, so the aggregated generator is linear in the
rates: ``Q_agg = sum_r rate_r * B_r``. The per-sample transition matrix is
``expm(Q_agg * dt)`` (exact: it equals the multinomial convolution of ``expm(Q * dt)``),
and its derivative with respect to every rate follows from the Fréchet derivative of the
matrix exponential, which makes the M-step for the rates a smooth low-dimensional
optimisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb, factorial

import numpy as np
from scipy.linalg import expm, expm_frechet
from scipy.optimize import minimize

__all__ = ["AggregatedChain", "compositions", "stationary"]


def compositions(total, n_parts):
    """All tuples of ``n_parts`` non-negative integers summing to ``total`` (lexicographic)."""
    if n_parts == 1:
        return [(total,)]
    return [
        (first, *rest)
        for first in range(total, -1, -1)
        for rest in compositions(total - first, n_parts - 1)
    ]


def rate_bounds(dt):
    """Smallest and largest single-channel rate (s^-1) the M-step may return: from one
    transition in 1000 s to 50 per sample interval (dwells far below one sample)."""
    return 1e-3, 50.0 / dt


def stationary(Q, floor=0.0):
    """Stationary distribution of an irreducible rate matrix (solve pi Q = 0, sum pi = 1).

    Entries are clipped at ``floor`` before normalising (a positive floor keeps a
    degenerate rate matrix from dividing by zero).
    """
    n_states = Q.shape[0]
    A = np.vstack([Q.T, np.ones(n_states)])
    b = np.zeros(n_states + 1)
    b[-1] = 1.0
    pi, *_ = np.linalg.lstsq(A, b, rcond=None)
    pi = np.clip(pi, floor, None)
    return pi / pi.sum()


@dataclass(frozen=True, eq=False)
class AggregatedChain:
    """Occupancy chain of ``n_channels`` channels of a linear ``n_closed``/``n_open`` scheme."""

    n_channels: int
    n_closed: int
    n_open: int

    def __post_init__(self):
        n_states = self.n_closed + self.n_open
        counts = np.array(compositions(self.n_channels, n_states), dtype=np.int64)
        radix = (self.n_channels + 1) ** np.arange(n_states)
        lookup = {int(key): i for i, key in enumerate(counts @ radix)}
        edges = [(s, s + 1) for s in range(n_states - 1)] + [
            (s + 1, s) for s in range(n_states - 1)
        ]
        basis = np.zeros((len(edges), len(counts), len(counts)))
        for r, (s, j) in enumerate(edges):
            for i, m in enumerate(counts):
                if m[s]:
                    target = lookup[int((m @ radix) - radix[s] + radix[j])]
                    basis[r, i, target] += m[s]
                    basis[r, i, i] -= m[s]
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "basis", basis)
        object.__setattr__(self, "level", counts[:, self.n_closed :].sum(axis=1))

    @staticmethod
    def n_states_for(n_channels, n_closed, n_open):
        """Number of aggregated states, ``comb(N + S - 1, S - 1)``."""
        n_states = n_closed + n_open
        return comb(n_channels + n_states - 1, n_states - 1)

    @property
    def open_states(self):
        """Boolean mask of the single-channel open states."""
        return np.arange(self.n_closed + self.n_open) >= self.n_closed

    def rate_matrix(self, rates):
        """Single-channel rate matrix ``Q`` (s^-1) from the edge rates."""
        n_states = self.n_closed + self.n_open
        Q = np.zeros((n_states, n_states))
        for rate, (s, j) in zip(rates, self.edges, strict=True):
            Q[s, j] = rate
        Q[np.diag_indices(n_states)] = -Q.sum(axis=1)
        return Q

    def generator(self, rates):
        """Aggregated generator ``sum_r rates[r] * B_r`` (s^-1)."""
        return np.tensordot(np.asarray(rates, dtype=np.float64), self.basis, axes=1)

    def transition(self, rates, dt):
        """Row-stochastic per-sample transition matrix ``expm(Q_agg * dt)``."""
        A = np.clip(expm(self.generator(rates) * dt), 0.0, None)
        return A / A.sum(axis=1, keepdims=True)

    def initial(self, rates):
        """Stationary distribution of the aggregated chain (multinomial over states)."""
        pi = stationary(self.rate_matrix(rates), floor=1e-300)
        coef = np.array(
            [factorial(self.n_channels) / np.prod([factorial(c) for c in m]) for m in self.counts]
        )
        p = coef * np.prod(pi[None, :] ** self.counts, axis=1)
        return p / p.sum()

    def fit_rates(self, xi, rates, dt):
        """M-step: the rates maximising ``sum xi * log A(rates)`` over the stored entries.

        Parameters
        ----------
        xi : ndarray of shape (n_agg, n_agg)
            Expected transition counts between aggregated states.
        rates : ndarray of shape (n_edges,)
            Starting rates (s^-1).
        dt : float
            Sampling interval (s).
        """
        weights = np.asarray(xi, dtype=np.float64)

        def objective(log_rates):
            Q = self.generator(np.exp(log_rates)) * dt
            A = np.clip(expm(Q), 1e-300, None)
            value = float(np.sum(weights * np.log(A)))
            grad_A = np.where(weights > 0, weights / A, 0.0)
            grad_Q = expm_frechet(Q.T, grad_A, compute_expm=False) * dt
            grad = np.tensordot(self.basis, grad_Q, axes=([1, 2], [0, 1])) * np.exp(log_rates)
            return -value, -grad

        start = np.log(np.clip(rates, 1e-6, None))
        bounds = [tuple(np.log(rate_bounds(dt)))] * len(start)
        result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds)
        return np.exp(result.x)

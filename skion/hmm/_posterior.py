"""AggregatedHMM's parameters and E-step: count posteriors of every recording."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._threads import map_threads
from ._aggregated_chain import AggregatedChain
from ._count_kernels import (
    chunked_forward_backward,
    count_emission_of,
)

#: The noise sd may not collapse below this fraction of the step (a degenerate fit).
_MIN_NOISE_RATIO = 1e-3
#: Largest over-relaxation of the EM step of the log-rates (and of a tracked
#: baseline's move, see ``_Decoding._stretched``).
_MAX_OMEGA = 256.0


@dataclass(frozen=True)
class _Params:
    """Everything the E-step needs, shared by all recordings."""

    chain: AggregatedChain
    rates: np.ndarray  # edge rates, s^-1
    step: float
    noise: float  # sd with every channel closed
    dt: float
    #: Open-channel noise: each open channel adds its square to the variance; ``None``
    #: where the noise is white (the same at every level, nothing fitted).
    excess: float | None = None

    @property
    def open_noise(self):
        """``excess`` as a number (0 for white noise)."""
        return 0.0 if self.excess is None else self.excess

    def sd(self, counts):
        """Noise sd at every count of ``counts``."""
        return np.sqrt(self.noise**2 + np.asarray(counts) * self.open_noise**2)


@dataclass(frozen=True)
class _Posterior:
    """What EM keeps of one recording's count posterior."""

    mean: np.ndarray  # E[count] of every row
    second: np.ndarray  # E[count ** 2] of every row
    occupancy: np.ndarray  # expected rows at every count
    #: sums of (x - baseline) and its square over the rows, per count (the noise's
    #: M-step under open-channel noise); None where not asked for
    moments: np.ndarray | None


def _e_step(xs, baselines, params, labels=None, n_jobs=None, outs=None, *, moments=False):
    """Count posteriors per recording (``_Posterior``, with the residual's per-count
    ``moments`` when asked), expected transitions and the log-likelihood.

    Emissions are made a chunk of rows at a time (``chunked_forward_backward``), so
    that no array of rows by counts exists beyond ``outs``: per recording, an array of
    shape (n_rows, n_counts) that receives the posterior or of shape (n_rows,) that
    receives its argmax. Recordings run on up to ``n_jobs`` threads; every recording's
    transitions are counted apart and summed in order, so the result does not depend on
    ``n_jobs``.
    """
    chain = params.chain
    A = chain.transition(params.rates, params.dt)
    initial = chain.initial(params.rates)
    n_counts = chain.n_channels + 1
    k = np.arange(n_counts, dtype=np.float64)

    def one(i):
        x = xs[i]
        given = None if labels is None else labels[i]
        out = None if outs is None else outs[i]
        baseline = np.broadcast_to(baselines[i], x.shape)
        posterior = _Posterior(
            np.empty(len(x)),
            np.empty(len(x)),
            np.zeros(n_counts),
            np.zeros((2, n_counts)) if moments else None,
        )
        emission_of = count_emission_of(
            x, baselines[i], params.step, params.noise, n_counts, given, params.open_noise
        )

        def consume(start, stop, gamma):
            posterior.mean[start:stop] = gamma @ k
            posterior.second[start:stop] = gamma @ (k * k)
            posterior.occupancy[:] += gamma.sum(axis=0)
            if moments:
                r = x[start:stop] - baseline[start:stop]
                posterior.moments[0] += r @ gamma
                posterior.moments[1] += (r * r) @ gamma
            if out is not None:
                out[start:stop] = gamma if out.ndim == 2 else gamma.argmax(axis=1)

        xi, loglik = chunked_forward_backward(emission_of, len(x), chain.level, A, initial, consume)
        return posterior, xi, loglik

    xi = np.zeros(A.shape)
    posteriors, loglik = [], 0.0
    for posterior, counted, part in map_threads(one, range(len(xs)), n_jobs):
        posteriors.append(posterior)
        xi += counted
        loglik += part
    return posteriors, xi, loglik

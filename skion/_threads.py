"""Independent pieces of work (recordings, candidate fits) over threads.

The HMM's compiled recursions release the GIL (numba ``nogil``) and its numpy work runs
in C, so threads share one copy of the data at no pickling cost and scale with the cores
(two recordings of 300,000 rows at 66 aggregated states: 1.40 s on one thread, 0.69 s on
two).

The BLAS calls between them are on matrices of 11-286 aggregated states, far too small
for BLAS's own threads: those only wait for each other and for the recursions' threads
(``one_blas_thread``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import ThreadpoolController

__all__ = ["map_threads", "one_blas_thread"]

_T = TypeVar("_T")
_R = TypeVar("_R")


def map_threads(function: Callable[[_T], _R], items: Iterable[_T], n_jobs) -> Iterator[_R]:
    """``function(item)`` of every item, in the items' order, on up to ``n_jobs`` threads.

    ``n_jobs`` follows scikit-learn (``None``: one, unless a ``joblib.parallel_config``
    says otherwise; ``-1``: every core). Results are yielded as they are needed, at most
    a few ahead, so that their memory does not pile up; one item, or one job, runs in
    the calling thread.
    """
    items = list(items)
    n_threads = min(effective_n_jobs(n_jobs), len(items))
    if n_threads <= 1:
        return map(function, items)
    return Parallel(n_jobs=n_threads, require="sharedmem", return_as="generator")(
        delayed(function)(item) for item in items
    )


@functools.cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # finding the libraries takes milliseconds: once


def one_blas_thread(function: Callable[..., _R]) -> Callable[..., _R]:
    """``function`` with BLAS held to one thread while it runs (as scikit-learn's KMeans).

    The M-step of the aggregated HMM's rates evaluates matrix exponentials of 11-286
    states some thousand times per fit; with BLAS on two threads of a 2-core machine
    (while the recursions use both), each 11-state exponential took 5.5 ms instead of
    0.12 ms, and the 1,000,000-row fit of the benchmark 81 s instead of 56 s.

    The limit is process wide. threadpoolctl lets one thread at a time change a shared
    OpenBLAS pool and ignores the others, so where decorated calls overlap in several
    threads (fits on threads of one process) only the first thread's limit applies,
    and the thread that ends last may leave BLAS on one thread.
    """

    @functools.wraps(function)
    def limited(*args, **kwargs):
        with _controller().limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return limited

"""Independent pieces of work (recordings, candidate fits) over threads.

The HMM's compiled recursions release the GIL (numba ``nogil``) and its numpy work runs
in C, so threads share one copy of the data at no pickling cost and scale with the cores
(two recordings of 300,000 rows at 66 aggregated states: 1.40 s on one thread, 0.69 s on
two).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from joblib import effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed

__all__ = ["map_threads"]

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

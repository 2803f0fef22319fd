"""What the benchmarks share: the machine line of their headers, and their timer.

Run as scripts (``python benchmarks/NAME.py``), they import it as ``_bench``.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

__all__ = ["machine", "timed"]


def machine() -> str:
    """``"x86_64 (processor), 2 cores, Python 3.11.7"``: where a table was measured."""
    processor = platform.processor()
    name = platform.machine() + (f" ({processor})" if processor else "")
    return f"{name}, {os.cpu_count()} cores, Python {platform.python_version()}"


def timed(function):
    """``(result, [wall seconds, CPU seconds of this process, all threads])``.

    CPU time is the robust measure of work on a shared machine, where other jobs stretch
    the wall clock; wall time is what a user waits.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, np.array([time.perf_counter() - wall, time.process_time() - cpu])

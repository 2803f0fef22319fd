"""What the benchmarks share: the machine line of their headers, their timer, and noise
that is not white.

Run as scripts (``python benchmarks/NAME.py``), they import it as ``_bench``.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

__all__ = ["machine", "pink", "timed"]


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


def pink(n, rng, sampling_rate):
    """Unit-variance noise with 1/f power above 1 Hz and flat power below (``n`` rows at
    ``sampling_rate`` Hz, drawn from ``rng``)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n, d=1 / sampling_rate), 1.0))
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return noise / noise.std()

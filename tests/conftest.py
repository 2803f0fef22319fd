"""Shared fixtures: small synthetic recordings and a tiny, fast U-Net configuration."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from skion.datasets import make_patch_clamp

#: A U-Net small enough that one fit on a few thousand samples takes about a second.
TINY = {
    "window_size": 250,
    "filters": 4,
    "depth": 1,
    "epochs": 1,
    "batch_size": 8,
    "run_eagerly": True,
    "random_state": 0,
}


@pytest.fixture
def tiny_params():
    return dict(TINY)


@pytest.fixture
def telegraph():
    """A two-level noisy random telegraph signal of 3000 samples."""
    from skion.datasets import make_telegraph

    return make_telegraph(3000, p_open=0.02, p_close=0.02, noise=0.2, random_state=0)


def bytes_per_row_beyond_output(run, X, sizes=(150_000, 600_000)):
    """Growth, per added row, of the peak memory that ``run(X[:n])`` allocates beyond
    what it returns (tracemalloc traces NumPy's buffers), between the two ``sizes``."""
    import tracemalloc

    run(X[:1000].copy())  # compiled code and caches loaded before measuring
    peaks = []
    for n in sizes:
        part = X[:n].copy()
        tracemalloc.start()
        out = run(part)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        peaks.append(peak - out.nbytes)
    return (peaks[1] - peaks[0]) / (sizes[1] - sizes[0])


def pink(n, seed):
    """Unit-sd noise of 1/f power above 1 Hz, at 10 kHz."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n, d=1e-4), 1.0))
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return noise / noise.std()


def pink_recording(seed, n_samples=40_000):
    """3 fast channels of 1.2 pA under 1/f noise of 0.3 step (white noise 0.01 step)."""
    X, y, _, _ = make_patch_clamp(
        n_samples, kinetics="fast", n_channels=3, unitary_current=1.2, noise=0.012,
        random_state=seed,
    )  # fmt: skip
    return X + 0.36 * pink(n_samples, seed)[:, None], y

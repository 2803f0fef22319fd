"""Shared fixtures: small synthetic recordings and a tiny, fast U-Net configuration."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

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

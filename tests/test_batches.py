"""window_batches: the tf.data training pipeline (shuffling, flips, reproducibility)."""

import numpy as np

from skion.neural._batches import window_batches


def _windows(n=7, length=5):
    x = np.arange(n * length, dtype=np.float32).reshape(n, length, 1)
    y = (np.arange(n * length, dtype=np.int32).reshape(n, length) % 3).astype(np.int32)
    w = np.arange(n * length, dtype=np.float32).reshape(n, length) / 100
    return x, y, w


def _collect(seed, *, epochs=3, flip_prob=0.5, batch_size=3):
    x, y, w = _windows()
    dataset, steps = window_batches(
        x,
        y,
        w,
        batch_size=batch_size,
        flip_prob=flip_prob,
        epochs=epochs,
        rng=np.random.default_rng(seed),
    )
    return [tuple(np.asarray(t) for t in batch) for batch in dataset], steps


def test_every_epoch_visits_every_window_once_with_consistent_flips():
    x, y, w = _windows()
    batches, steps = _collect(0)
    assert steps == 3 and len(batches) == 3 * steps
    assert [len(b[0]) for b in batches[:steps]] == [3, 3, 1]  # last batch smaller
    n_flipped = 0
    for epoch in range(3):
        xs = np.concatenate([b[0] for b in batches[epoch * steps : (epoch + 1) * steps]])
        ys = np.concatenate([b[1] for b in batches[epoch * steps : (epoch + 1) * steps]])
        ws = np.concatenate([b[2] for b in batches[epoch * steps : (epoch + 1) * steps]])
        starts = np.minimum(xs[:, 0, 0], xs[:, -1, 0]).astype(int) // 5
        assert sorted(starts) == list(range(7))  # each window once per epoch
        for xb, yb, wb, k in zip(xs, ys, ws, starts, strict=True):
            flipped = xb[0, 0] > xb[-1, 0]
            n_flipped += flipped
            step = slice(None, None, -1) if flipped else slice(None)
            np.testing.assert_array_equal(xb, x[k][step])
            np.testing.assert_array_equal(yb, y[k][step])
            np.testing.assert_array_equal(wb, w[k][step])
    assert 0 < n_flipped < 21
    first_orders = [
        np.concatenate([b[0] for b in batches[e * steps : (e + 1) * steps]])[:, 0, 0]
        for e in range(3)
    ]
    assert not all(np.array_equal(first_orders[0], o) for o in first_orders[1:])  # reshuffled


def test_same_seed_same_batches_and_no_flips_at_zero():
    a, _ = _collect(5)
    b, _ = _collect(5)
    c, _ = _collect(6)
    assert all(np.array_equal(p[0], q[0]) for p, q in zip(a, b, strict=True))
    assert not all(np.array_equal(p[0], q[0]) for p, q in zip(a, c, strict=True))
    unflipped, _ = _collect(5, flip_prob=0.0)
    assert all((b[0][:, 0, 0] < b[0][:, -1, 0]).all() for b in unflipped)

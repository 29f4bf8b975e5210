"""The training history stays within its point budget however long training runs, and what it
keeps draws the same curve: every stretch's smallest and largest values survive thinning."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.gui.training.history import Record, TrainingHistory, extreme_indices


def test_extreme_indices_keep_each_stretchs_min_and_max_in_order():
    rng = np.random.default_rng(1)
    v = rng.normal(size=1000)
    x = np.arange(1000.0)
    keep = extreme_indices(x, v, 10.0)
    assert np.all(np.diff(keep) > 0) and len(keep) <= 202 and keep[0] == 0 and keep[-1] == 999
    for b in range(100):
        part = v[10 * b:10 * b + 10]
        kept = v[keep[(keep >= 10 * b) & (keep < 10 * b + 10)]]
        assert part.min() in kept and part.max() in kept
    cols = np.stack([v, v[::-1], np.full(1000, np.nan)], axis=1)
    keep = extreme_indices(x, cols, 20.0)
    assert len(keep) <= 6 * 50 + 2 and np.all(np.diff(keep) > 0)  # <= 2 per column
    assert extreme_indices(x[:2], v[:2], 5.0).tolist() == [0, 1]


def records(start: int, n: int, depth: int, spikes: dict[int, float]) -> list[Record]:
    out = []
    for i in range(start, start + n):
        loss = spikes.get(i, 1.0 / (1 + i))
        out.append(Record(float(i), loss, None, np.full(depth, loss), None))
    return out


@pytest.mark.parametrize("chunk", [1, 97, 5000])
def test_a_long_run_stays_within_the_budget_and_keeps_its_shape(monkeypatch, chunk):
    monkeypatch.setattr(TrainingHistory, "MAX_POINTS", 2000)
    h = TrainingHistory()
    h.set_structure([], 2)
    spikes = {123: 50.0, 4567: 80.0, 15_000: -3.0}
    total = 20_000
    for start in range(0, total, chunk):
        h.extend(records(start, min(chunk, total - start), 2, spikes))
        assert h.n <= 2000 and h.g_n <= 2000
    assert np.all(np.diff(h.x) > 0) and h.x[0] == 0.0 and h.x[-1] == total - 1
    for i, v in spikes.items():  # the spikes are still drawn, where they were
        assert v in h.loss and h.x[list(h.loss).index(v)] == i
        assert v in h.grad[:, 0]
    assert h.loss.max() == 80.0 and h.loss.min() == -3.0
    # the latest stretch is at full resolution
    assert np.array_equal(h.x[-500:], np.arange(total - 500, total, dtype=float))


def test_extend_loss_of_more_than_the_budget_keeps_its_extremes(monkeypatch):
    monkeypatch.setattr(TrainingHistory, "MAX_POINTS", 1000)
    h = TrainingHistory()
    y = np.sin(np.arange(10_000) / 50.0)
    y[777] = 9.0
    h.extend_loss(np.arange(10_000.0), y)
    assert h.n <= 1000 and 9.0 in h.loss
    assert h.loss.min() == y.min() and np.all(np.diff(h.x) > 0)

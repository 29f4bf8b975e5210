"""The training history: the recorded points of a run (loss, validation loss, gradient means,
sampled parameter values) in preallocated, growing float64 arrays, in bounded memory however
long training runs. No Qt: the controller appends to it and the plot panes read its views;
nothing else writes it.

Bounded memory: once :data:`TrainingHistory.MAX_POINTS` loss points (or gradient rows) would
be exceeded, every kept point is thinned to one resolution along the epochs
(:func:`extreme_indices`): of each stretch only the points holding its smallest and largest
values stay (and the first and last point), so a curve drawn from what is kept has the same
envelope, spikes included, as the full one, at the same resolution from the first epoch to the
last. The run goes on at full resolution until the budget is reached again; a run of any
length keeps its whole shape in at most MAX_POINTS points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


def extreme_indices(x: np.ndarray, values: np.ndarray, width: float) -> np.ndarray:
    """The rows to keep, in order, of the points ``x`` (increasing) with ``values`` (n, or
    n x c): the first and the last, and in every stretch of ``width`` along x the rows where
    a column has its smallest or its largest value (NaN never wins). Vectorised."""
    n = len(x)
    if n <= 2 or not width > 0:
        return np.arange(n)
    v = values.reshape(n, -1)
    ids = np.floor((x - x[0]) / width).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    counts = np.diff(np.r_[starts, n])
    picks = [np.array([0, n - 1])]
    for col in v.T:
        for sign in (1.0, -1.0):
            w = np.where(np.isnan(col), np.inf, sign * col)
            best = np.minimum.reduceat(w, starts)
            hit = np.flatnonzero(w == np.repeat(best, counts))
            seg = ids[hit]
            picks.append(hit[np.r_[True, seg[1:] != seg[:-1]]])  # the first hit of a stretch
    return np.unique(np.concatenate(picks))


class TrainingHistory:
    """Per-epoch training history in preallocated, growing float64 arrays.

    * ``x`` (epoch, possibly fractional after single steps), ``loss``, ``val_loss`` (NaN when
      there is no validation split), ``penalty`` (the regularization penalty, 0 without one)
      — every recorded point until :data:`MAX_POINTS`, then the older ones thinned keeping
      each stretch's extremes (see the module docstring);
    * ``grad`` — mean |dL/dp| per depth level for each point (reset when the depth changes),
      thinned the same way;
    * parameter rows — every parameter's value, sampled: when the row budget is full every other
      row is dropped and the sampling stride doubles, so the whole run stays visible in bounded
      memory (``param_stride`` says how many epochs one row stands for).
    """

    PARAM_CELLS = 4_000_000
    MAX_POINTS = 200_000     # loss points, and gradient rows, kept (then thinned)

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.n = 0
        self._cap = 1024
        self._x = np.empty(self._cap)
        self._loss = np.empty(self._cap)
        self._val = np.empty(self._cap)
        self._pen = np.empty(self._cap)
        self.n_depth = 0
        self.g_n = 0
        self._g_cap = 1024
        self._gx = np.empty(self._g_cap)
        self._g = np.empty((self._g_cap, 0))
        self.param_ids: list[str] = []
        self._reset_params([])
        self.version = 0

    # ---- views (no copies)
    @property
    def x(self) -> np.ndarray:
        return self._x[:self.n]

    @property
    def loss(self) -> np.ndarray:
        return self._loss[:self.n]

    @property
    def val_loss(self) -> np.ndarray:
        return self._val[:self.n]

    @property
    def penalty(self) -> np.ndarray:
        return self._pen[:self.n]

    @property
    def grad_x(self) -> np.ndarray:
        return self._gx[:self.g_n]

    @property
    def grad(self) -> np.ndarray:
        return self._g[:self.g_n]

    @property
    def param_x(self) -> np.ndarray:
        return self._px[:self.p_n]

    @property
    def params(self) -> np.ndarray:
        return self._p[:self.p_n]

    @property
    def param_capacity(self) -> int:
        """Parameter rows kept before every other one is dropped (and the stride doubles)."""
        return self._p_cap

    @property
    def last_epoch(self) -> float:
        return float(self._x[self.n - 1]) if self.n else 0.0

    def has_validation(self) -> bool:
        return self.n > 0 and bool(np.isfinite(self.val_loss).any())

    def has_penalty(self) -> bool:
        return self.n > 0 and bool((self.penalty != 0).any())

    # ---- structure
    def _reset_params(self, param_ids: list[str]) -> None:
        self.param_ids = list(param_ids)
        k = max(1, len(self.param_ids))
        self._p_cap = int(min(4096, max(64, self.PARAM_CELLS // k)))
        self._p_cap -= self._p_cap % 2
        self._px = np.empty(self._p_cap)
        self._p = np.empty((self._p_cap, len(self.param_ids)))
        self.p_n = 0
        self.param_stride = 1
        self._p_count = 0

    def set_structure(self, param_ids: list[str], n_depth: int) -> None:
        """Gradient and parameter histories restart when the network's layout changes."""
        if list(param_ids) != self.param_ids:
            self._reset_params(param_ids)
        if n_depth != self.n_depth:
            self.n_depth = n_depth
            self.g_n = 0
            self._g = np.empty((self._g_cap, n_depth))
        self.version += 1

    def param_index(self, pid: str) -> int | None:
        try:
            return self.param_ids.index(pid)
        except ValueError:
            return None

    # ---- appending
    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = self._cap
        while cap < need:
            cap *= 2
        for name in ("_x", "_loss", "_val", "_pen"):
            old = getattr(self, name)
            new = np.empty(cap)
            new[:self.n] = old[:self.n]
            setattr(self, name, new)
        self._cap = cap

    def _grow_g(self, need: int) -> None:
        if need <= self._g_cap:
            return
        cap = self._g_cap
        while cap < need:
            cap *= 2
        gx = np.empty(cap)
        gx[:self.g_n] = self._gx[:self.g_n]
        g = np.empty((cap, self.n_depth))
        g[:self.g_n] = self._g[:self.g_n]
        self._gx, self._g, self._g_cap = gx, g, cap

    def _thin(self, need: int) -> None:
        """Make room for ``need`` loss points: thin every kept point to one stretch width, so
        the whole run has the same resolution (spikes kept: see :func:`extreme_indices`)."""
        while self.n >= 3 and self.n + need > self.MAX_POINTS:
            x = self._x[:self.n]
            key = self._loss[:self.n]
            if self.has_validation():
                key = np.stack([key, self._val[:self.n]], axis=1)
            width = (x[-1] - x[0]) / max(self.MAX_POINTS // 8, 1)  # <= 2 columns: half full
            keep = extreme_indices(x, key, width)
            if len(keep) > self.MAX_POINTS // 2:  # x bunched up (single steps): drop every
                keep = keep[::2]                   # other kept point as well
            for name in ("_x", "_loss", "_val", "_pen"):
                a = getattr(self, name)
                a[:len(keep)] = a[keep]
            self.n = len(keep)

    def _thin_g(self, need: int) -> None:
        """The same for the gradient rows (every depth's extremes kept)."""
        while self.g_n >= 3 and self.g_n + need > self.MAX_POINTS:
            x = self._gx[:self.g_n]
            width = (x[-1] - x[0]) / max(self.MAX_POINTS // (4 * max(self.n_depth, 1)), 1)
            keep = extreme_indices(x, self._g[:self.g_n], width)
            if len(keep) > self.MAX_POINTS // 2:
                keep = keep[::2]
            self._gx[:len(keep)] = self._gx[keep]
            self._g[:len(keep)] = self._g[keep]
            self.g_n = len(keep)

    def extend_loss(self, x: ArrayLike, loss: ArrayLike, val_loss: ArrayLike | None = None) -> None:
        """Append loss points only (vectorised; e.g. a history imported or generated)."""
        x = np.asarray(x, dtype=np.float64)
        k = len(x)
        if k > self.MAX_POINTS // 2:  # keep the shape of what does not fit
            width = (x[-1] - x[0]) / max(self.MAX_POINTS // 8, 1)
            keep = extreme_indices(x, np.asarray(loss, dtype=np.float64).reshape(k), width)
            x, loss = x[keep], np.asarray(loss)[keep]
            val_loss = None if val_loss is None else np.asarray(val_loss)[keep]
            k = len(x)
        self._thin(k)
        self._grow(self.n + k)
        self._x[self.n:self.n + k] = x
        self._loss[self.n:self.n + k] = loss
        self._val[self.n:self.n + k] = np.nan if val_loss is None else val_loss
        self._pen[self.n:self.n + k] = 0.0
        self.n += k
        self.version += 1

    def extend(self, records: list[Record]) -> None:
        if not records:
            return
        if len(records) > self.MAX_POINTS // 2:  # (never in practice: batches are small)
            for i in range(0, len(records), self.MAX_POINTS // 2):
                self.extend(records[i:i + self.MAX_POINTS // 2])
            return
        k = len(records)
        self._thin(k)
        self._grow(self.n + k)
        xs = np.fromiter((r.x for r in records), float, k)
        self._x[self.n:self.n + k] = xs
        self._loss[self.n:self.n + k] = [r.loss for r in records]
        self._val[self.n:self.n + k] = [np.nan if r.val_loss is None else r.val_loss
                                        for r in records]
        self._pen[self.n:self.n + k] = [r.penalty for r in records]
        self.n += k
        gs = [r for r in records if r.grad_means is not None and len(r.grad_means) == self.n_depth]
        if gs and self.n_depth:
            self._thin_g(len(gs))
            self._grow_g(self.g_n + len(gs))
            self._gx[self.g_n:self.g_n + len(gs)] = [r.x for r in gs]
            self._g[self.g_n:self.g_n + len(gs)] = np.stack([r.grad_means for r in gs])
            self.g_n += len(gs)
        npar = len(self.param_ids)
        for r in records:
            if r.params is None or r.params.shape[0] != npar:
                continue
            c = self._p_count
            self._p_count += 1
            if c % self.param_stride:
                continue
            if self.p_n == self._p_cap:
                half = self._p_cap // 2
                self._px[:half] = self._px[0:self._p_cap:2]
                self._p[:half] = self._p[0:self._p_cap:2]
                self.p_n = half
                self.param_stride *= 2
                if c % self.param_stride:
                    continue
            self._px[self.p_n] = r.x
            self._p[self.p_n] = r.params
            self.p_n += 1
        self.version += 1


@dataclass
class Record:
    x: float
    loss: float
    val_loss: float | None
    grad_means: np.ndarray | None
    params: np.ndarray | None
    penalty: float = 0.0      # the regularization penalty at ``params``

"""Every neuron's activation over the input plane, for two-input data: the pictures in the
neurons (TensorFlow Playground's thumbnails) and the Output pane's heat map.

Owns three things, each in one place:

* :func:`plane_bounds`: the part of the plane shown, the data's box with a margin;
* :func:`neuron_maps`: one vectorised forward pass over an ``n`` x ``n`` grid of that box for
  all neurons at once (:meth:`Engine.activations`), as a (neurons, n, n) array;
* :func:`threshold` and :func:`activation_levels`: a neuron's decision line and the value
  range its colours span: 0..1 around 0.5 for sigmoid-like outputs, -1..1 around 0 for tanh, else
  symmetric around the threshold over the values seen.

Layout of a map: ``maps[k, i, j]`` is neuron k's activation at (gx[j], gy[i]) with gy
*descending*, so row 0 is the top of a picture (image order, y up). Pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import Engine, EngineError

PAD = 0.12          # margin around the data, as a share of its width / height
THUMB_GRID = 40     # a neuron picture's side, in grid points


@dataclass(frozen=True)
class Bounds:
    """The plane shown: x from x0 to x1, y from y0 to y1."""

    x0: float
    x1: float
    y0: float
    y1: float


@dataclass(frozen=True)
class NeuronMaps:
    """Activations over the grid: ``values[k]`` is neuron ``ids[k]``'s picture (see the module
    docstring for the layout), over ``bounds``."""

    ids: tuple[str, ...]
    values: np.ndarray
    bounds: Bounds


def plane_bounds(X: np.ndarray) -> Bounds:
    """The box of the first two columns of ``X`` with a :data:`PAD` margin (never empty)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2 or X.shape[0] == 0:
        raise ValueError("the plane needs data with at least two input columns and one row")
    x0, y0 = float(X[:, 0].min()), float(X[:, 1].min())
    x1, y1 = float(X[:, 0].max()), float(X[:, 1].max())
    w, h = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    return Bounds(x0 - PAD * w, x1 + PAD * w, y0 - PAD * h, y1 + PAD * h)


def grid_points(bounds: Bounds, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gx ascending, gy descending, rows): the ``n * n`` grid points as a table of two
    columns, row-major over (gy, gx), so ``values.reshape(n, n)`` is a picture."""
    gx = np.linspace(bounds.x0, bounds.x1, n)
    gy = np.linspace(bounds.y1, bounds.y0, n)
    YY, XX = np.meshgrid(gy, gx, indexing="ij")
    return gx, gy, np.column_stack([XX.ravel(), YY.ravel()])


def neuron_maps(engine: Engine, bounds: Bounds, n: int = THUMB_GRID,
                ids: list[str] | None = None) -> NeuronMaps:
    """Each neuron's activation (softmax applied) over the grid, in one forward pass. ``ids``
    (default: every neuron) chooses which are returned. Raises EngineError unless the network
    reads exactly two data columns (two inputs, no images)."""
    if engine.n_input_columns != 2 or engine.image_columns:
        raise EngineError("neuron pictures need a network that reads two input columns; this "
                          f"one reads {engine.n_input_columns}")
    if n < 2:
        raise ValueError(f"the grid needs at least 2 points a side, not {n}")
    _, _, rows = grid_points(bounds, n)
    a = engine.activations(rows)[1]
    chosen = list(engine.neuron_ids) if ids is None else list(ids)
    cols = [engine.index[i] for i in chosen]
    values = a[:, cols].T.reshape(len(cols), n, n)
    return NeuronMaps(tuple(chosen), values, bounds)


def threshold(role: str, classes: bool) -> float:
    """Where a neuron's decision line is drawn: 0.5 for an output on class data (the
    probability of the class), 0 otherwise."""
    return 0.5 if classes and role == "output" else 0.0


def activation_levels(activation: str, threshold: float,
                      values: np.ndarray) -> tuple[float, float, float]:
    """(low, high, centre) of a neuron's colour scale: fixed for bounded activations (sigmoid,
    softmax and the step 0..1 around 0.5; tanh -1..1 around 0), else symmetric around
    ``threshold`` (0.5 for a class output, 0 otherwise) over the finite ``values``."""
    if activation in ("sigmoid", "softmax", "binary_step"):
        return 0.0, 1.0, 0.5
    if activation == "tanh":
        return -1.0, 1.0, 0.0
    finite = values[np.isfinite(values)]
    r = float(np.max(np.abs(finite - threshold))) if finite.size else 1.0
    r = max(r, 1e-9)
    return threshold - r, threshold + r, threshold


def shade_indices(maps: NeuronMaps, levels: list[tuple[float, float, float]],
                  n_colours: int) -> np.ndarray:
    """Per map pixel, an index into a diverging colour table of ``n_colours`` entries (low
    end = ``levels[k][0]``, the middle = the centre, high end = ``levels[k][1]``): one
    vectorised pass for all neurons; NaN and infinities get the nearest end or the middle."""
    lo = np.array([lv[0] for lv in levels], dtype=np.float64)[:, None, None]
    hi = np.array([lv[1] for lv in levels], dtype=np.float64)[:, None, None]
    mid = np.array([lv[2] for lv in levels], dtype=np.float64)[:, None, None]
    v = maps.values
    with np.errstate(invalid="ignore"):   # (NaN compares false; it is set to the middle)
        below = np.clip((v - lo) / np.maximum(mid - lo, 1e-12), 0.0, 1.0) * 0.5
        above = 0.5 + np.clip((v - mid) / np.maximum(hi - mid, 1e-12), 0.0, 1.0) * 0.5
        t = np.where(v < mid, below, above)
    t[np.isnan(v)] = 0.5
    return np.rint(t * (n_colours - 1)).astype(np.intp)

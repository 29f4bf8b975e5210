"""The backprop player's view of an image layer's step on the canvas, and its drill-down.

The walkthrough (:mod:`nnstudio.core.trace`) summarises an image layer per map: a
convolution's ``conv_map`` step writes out the dot product at position (0, 0), a pooling's
``pool_map`` / ``pool_grad`` step names every window's winner, ``filter_grad`` sums over the
positions for weight [0][0]. Each such step opens at any other position on demand
(``trace.position_step``). This module turns a step, or one of its positions, into what the
canvas highlights through the Overlay API:

- ``layers``: the step's layer card gets the halo;
- ``layer_cells``: per layer and grid (``("pixels", c)``, ``("map", m)``, ``("filter", f, c)``:
  the keys of :mod:`nnstudio.gui.canvas.image_items`) the cells to outline: the sliding
  window on the source and the cell it makes, the pooling winners, the filter's weights;
- ``layer_text``: a short badge over the card with the step's number ("map 0 [0][0] = 3");
- ``layer_values`` (:func:`forward_maps`): during the forward pass, a convolution's and a
  pooling's maps only once the walkthrough has computed them (before: blank; after the
  filter slid: its map before the activation; then after it), so the maps appear one by one.

It also says which clicked cell opens which position (:func:`position_for_click`) and the
range a position may take (:func:`position_limits`). Pure functions of the trace: it never
edits the document and holds no state (the player keeps the open position).
"""

from __future__ import annotations

from dataclasses import dataclass

from nnstudio.core import trace as tr_mod
from nnstudio.core.conv import Conv2D, Pool2D
from nnstudio.core.engine.layout import ImageBlock

Cells = dict[str, dict[tuple, list[tuple[int, int, int, int]]]]

#: step kinds that open at a position, and what a position there is
POSITION_KINDS = {
    "conv_map": "map cell",        # (row, col) of the feature map: its dot product
    "pool_map": "pooled cell",     # (row, col) of the pooled map: its window and winner
    "pool_grad": "pooled cell",    # (row, col) of the pooled map: where its gradient goes
    "filter_grad": "filter weight",  # (row, col) of the filter (and its channel): the sum
}


@dataclass(frozen=True)
class Position:
    """An open position of an image step: row and column (of the map, the pooled map or the
    filter, as the step's kind says) and, for a filter weight, the input channel."""

    row: int
    col: int
    channel: int = 0


@dataclass(frozen=True)
class Highlight:
    """What the canvas shows for one image step (the Overlay's image parts)."""

    layers: frozenset[str]
    cells: Cells
    text: dict[str, str]


def block_of(trace: tr_mod.Trace, lid: str | None) -> ImageBlock | None:
    for ib in trace.engine.image_blocks:
        if ib.id == lid:
            return ib
    return None


def has_positions(step: tr_mod.Step | None) -> bool:
    """Does the step open at other positions (per-map summaries with a drill-down)?"""
    return step is not None and step.layer is not None and step.map is not None \
        and step.kind in POSITION_KINDS


def position_limits(trace: tr_mod.Trace, step: tr_mod.Step) -> tuple[int, int, int]:
    """(rows, columns, channels) a position of ``step`` may take."""
    ib = block_of(trace, step.layer)
    if ib is None or not has_positions(step):
        return (0, 0, 0)
    shape = ib.shape
    if step.kind == "filter_grad" and isinstance(shape, Conv2D):
        return (shape.kernel, shape.kernel, shape.in_shape[0])
    _, h, w = ib.out_maps
    return (h, w, 1)


def position_for_click(trace: tr_mod.Trace, step: tr_mod.Step | None, lid: str,
                       cell: tuple[tuple, int, int]) -> Position | None:
    """The position a click on ``cell`` of layer ``lid`` opens for ``step``, or None: a cell
    of the step's own map (a convolution's or pooling's), or of the step's filter."""
    if not has_positions(step) or step is None or lid != step.layer:
        return None
    key, r, c = cell
    if step.kind == "filter_grad":
        if key[0] == "filter" and key[1] == step.map:
            return Position(r, c, key[2])
        return None
    if key == ("map", step.map):
        return Position(r, c)
    return None


def _source_keys(trace: tr_mod.Trace, ib: ImageBlock) -> tuple[str | None, list[tuple]]:
    """The source layer of ``ib`` and the canvas keys of its grids, one per channel."""
    if ib.source < 0:
        return None, []
    src = trace.engine.image_blocks[ib.source]
    kind = "pixels" if isinstance(src.shape, tuple) else "map"
    return src.id, [(kind, m) for m in range(src.out_maps[0])]


def _whole(ib: ImageBlock) -> tuple[int, int, int, int]:
    _, h, w = ib.out_maps
    return (0, 0, h, w)


def _one(r: int, c: int) -> tuple[int, int, int, int]:
    return (r, c, r + 1, c + 1)


def _filter_keys(ib: ImageBlock, f: int) -> list[tuple]:
    return [("filter", f, ch) for ch in range(ib.shape.in_shape[0])] \
        if isinstance(ib.shape, Conv2D) else []


def _weight_inputs(shape: Conv2D, i: int, j: int) -> list[tuple[int, int, int, int]]:
    """The input cells weight [i][j] lies on at some position (padding left out)."""
    pt, _, pl, _ = shape.pads
    h, w = shape.in_shape[1:]
    s = shape.stride
    rows = [r for r in (k * s + i - pt for k in range(shape.out_height)) if 0 <= r < h]
    cols = [c for c in (k * s + j - pl for k in range(shape.out_width)) if 0 <= c < w]
    if not rows or not cols:
        return []
    if s == 1:
        return [(rows[0], cols[0], rows[-1] + 1, cols[-1] + 1)]
    return [_one(r, c) for r in rows for c in cols]


def shown_step(trace: tr_mod.Trace, step: tr_mod.Step,
               position: Position | None) -> tr_mod.Step:
    """The step as shown: its drill-down at ``position`` (when one is open and the step has
    positions), else the step itself. Raises TraceError for a position outside the map."""
    if position is None or not has_positions(step):
        return step
    return tr_mod.position_step(trace, step, position.row, position.col, position.channel)


def highlight(trace: tr_mod.Trace, step: tr_mod.Step | None,
              position: Position | None = None) -> Highlight:
    """What the canvas highlights for ``step`` (at ``position``, when one is open)."""
    empty = Highlight(frozenset(), {}, {})
    if step is None or step.layer is None:
        return empty
    ib = block_of(trace, step.layer)
    if ib is None:
        return empty
    lid, f, shape = ib.id, step.map, ib.shape
    src, src_keys = _source_keys(trace, ib)
    cells: Cells = {}

    def mark(layer: str | None, keys: list[tuple], ranges: list[tuple[int, int, int, int]]
             ) -> None:
        if layer is None or not ranges:
            return
        grids = cells.setdefault(layer, {})
        for key in keys:
            grids.setdefault(key, []).extend(ranges)

    kind = step.kind
    at = position if position is not None and has_positions(step) else None
    try:
        shown = shown_step(trace, step, at)
    except tr_mod.TraceError:
        shown, at = step, None
    r, c, ch = (at.row, at.col, at.channel) if at is not None else (0, 0, 0)
    label = ""
    if kind == "conv_map" and isinstance(shape, Conv2D) and f is not None:
        mark(src, src_keys, [shape.receptive_field(r, c).clipped()])
        mark(lid, [("map", f)], [_one(r, c)])
        mark(lid, _filter_keys(ib, f), [(0, 0, shape.kernel, shape.kernel)])
        label = f"map {f} [{r}][{c}]"
    elif kind in ("pool_map", "pool_grad") and isinstance(shape, Pool2D) and f is not None:
        if at is not None:
            mark(src, src_keys[f:f + 1], [shape.window_at(r, c).clipped()])
            mark(lid, [("map", f)], [_one(r, c)])
            label = (f"pooled map {f} [{r}][{c}]" if kind == "pool_map" else
                     f"dL/da of pooled map {f} [{r}][{c}]")
        else:
            mark(lid, [("map", f)], [_whole(ib)])
        mark(src, src_keys[f:f + 1], [_one(wr, wc) for wr, wc in shown.cells])
    elif kind == "filter_grad" and isinstance(shape, Conv2D) and f is not None:
        if at is not None:
            mark(src, src_keys[ch:ch + 1], _weight_inputs(shape, r, c))
        else:
            mark(src, src_keys, [shape.receptive_field(0, 0).clipped()])
        mark(lid, [("filter", f, ch)], [_one(r, c)])
        mark(lid, [("map", f)], [_whole(ib)])
        label = (f"dL/dfilter {f} [{ch}][{r}][{c}]" if shape.in_shape[0] > 1 else
                 f"dL/dfilter {f} [{r}][{c}]")
    elif kind == "filter_update" and isinstance(shape, Conv2D) and f is not None:
        mark(lid, _filter_keys(ib, f), [(0, 0, shape.kernel, shape.kernel)])
    elif kind in ("map_activation", "map_activation_grad"):
        mark(lid, [("map", m) for m in range(ib.out_maps[0])], [_whole(ib)])
    elif kind in ("flatten_grad", "map_grad") and src is not None:
        mark(src, src_keys, [_whole(trace.engine.image_blocks[ib.source])])
    elif kind == "image":
        mark(lid, [("pixels", m) for m in range(ib.out_maps[0])], [_whole(ib)])
    text = {lid: f"{label} = {tr_mod.num(shown.value)}"} \
        if label and shown.value is not None else {}
    return Highlight(frozenset({lid}), cells, text)


def forward_maps(trace: tr_mod.Trace, state: tr_mod.TraceState) -> dict[str, dict[tuple, object]]:
    """During the forward pass: per convolution and pooling layer, per map, what the
    walkthrough knows of it so far (the first traced sample's grid, or None: not computed
    yet). Empty in the other phases: the cards show the forward values as they are."""
    step = state.step
    if step is None or step.phase != "forward":
        return {}
    out: dict[str, dict[tuple, object]] = {}
    for ib in trace.engine.image_blocks:
        if not isinstance(ib.shape, Conv2D | Pool2D):
            continue
        grids: dict[tuple, object] = {}
        for m in range(ib.out_maps[0]):
            known = state.map(ib.id, "map_a", m)
            if known is None:
                known = state.map(ib.id, "map_z", m)
            grids[("map", m)] = None if known is None else known[0]
        out[ib.id] = grids
    return out

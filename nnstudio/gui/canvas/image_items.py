"""Image layers on the canvas: one card item per layer, and one item for the links between them.

- :class:`LayerItem` draws one image layer as a card centred on the layer's (x, y): a title
  ("conv1 · 2 filters 3 × 3 · ReLU"), and its grids of cells: an image input the chosen
  sample's pixels (one grid per channel); a convolution each filter's weight grid (one per
  channel, up to three) beside the feature map it makes; a pooling layer its pooled maps; a
  flatten a frame around its column of feature neurons (the feature neurons themselves are
  neuron items). A layer not reached from an image input has no shape: its card says "not
  connected" and shows no maps. An input port on the left takes the link from the source
  layer; the output port on the right starts a link (as a neuron's port starts a connection).
- Values use the canvas's diverging map (``style.DIVERGING_LUT``: blue positive, white zero,
  orange negative, the same map and legend as the neuron fills): each grid is one ``QImage``
  with a pixel per cell, built vectorised from a NumPy array when its values change
  (:meth:`LayerItem.set_grid_values`), never inside ``paint``, which only scales the images.
- A cell can be *focused* (hovered or clicked): the item outlines it, and the scene outlines
  the cells it reads on the source layer (:meth:`LayerItem.set_marks`).
- :class:`LayerLinks` draws every layer's link from its source's output port to its input
  port, as one item.

Geometry changes only in :meth:`LayerItem.sync`. The items never edit the model: the view's
mouse modes do that through the document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnstudio.core import activations
from nnstudio.core.network import (
    Convolution,
    ImageInput,
    ImageLayer,
    ImageShape,
    Network,
    Pooling,
)
from nnstudio.core.network.image_layers import maps_of
from nnstudio.gui import style

from .host import ItemHost
from .items import PORT_RADIUS, PortHover, elide, label_font, value_font

TIMES = "\u00d7"
PAD = 8.0               # inside the card, around the grids
HEADER = 30.0           # the title and the subtitle above the grids
GAP = 6.0               # between grids in a row, and between rows
ARROW_W = 14.0          # the "→" between a filter and its map
MAX_ROWS = 4            # rows of maps per column; more filters make more columns
MAX_CHANNEL_GRIDS = 3   # filter grids drawn per filter (channels); "+n" says the rest
FLATTEN_WIDTH = 2 * 22.0 + 20.0
CORNER = 7.0

# cell sizes (scene units): a grid's longest side is drawn about TARGET long, within [lo, hi]
PIXEL_CELL = (84.0, 1.5, 12.0)
FILTER_CELL = (42.0, 5.0, 14.0)
MAP_CELL = (56.0, 1.5, 12.0)


def image_columns(net: Network) -> dict[str, slice]:
    """Where each image input's pixels are in a data row: the image inputs' columns come
    first, image after image in the network's order (as the engine reads them)."""
    out: dict[str, slice] = {}
    start = 0
    for lid, layer in net.image_layers.items():
        if isinstance(layer, ImageInput):
            out[lid] = slice(start, start + layer.size)
            start += layer.size
    return out


def cell_size(side: int, target: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, target / max(side, 1)))


def heat_images(values: np.ndarray) -> list[QImage]:
    """One RGB32 image (a pixel per cell) per map of ``values`` (maps, height, width), coloured
    on the canvas's diverging map; vectorised over every cell of every map."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2:
        values = values[None]
    rgb = style.DIVERGING_LUT[style.diverging_index(values)].astype(np.uint32)
    argb = (0xFF000000 | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]).astype(np.uint32)
    h, w = values.shape[1:]
    out = []
    for m in range(values.shape[0]):
        buf = np.ascontiguousarray(argb[m])
        out.append(QImage(buf.data, w, h, 4 * w, QImage.Format.Format_RGB32).copy())
    return out


@dataclass(frozen=True)
class Grid:
    """One grid of cells in a layer card: ``key`` names it (("pixels", channel),
    ("filter", filter, channel), ("map", map)); ``rect`` is in item coordinates."""

    key: tuple
    rect: QRectF
    rows: int
    cols: int

    @property
    def cell(self) -> float:
        return self.rect.width() / self.cols

    def cell_rect(self, r: int, c: int, r1: int | None = None, c1: int | None = None) -> QRectF:
        """The rectangle of cell (r, c), or of cells r..r1-1 × c..c1-1."""
        s = self.cell
        r1 = r + 1 if r1 is None else r1
        c1 = c + 1 if c1 is None else c1
        return QRectF(self.rect.left() + c * s, self.rect.top() + r * s, (c1 - c) * s,
                      (r1 - r) * s)

    def cell_at(self, p: QPointF) -> tuple[int, int] | None:
        if not self.rect.contains(p):
            return None
        s = self.cell
        r = min(self.rows - 1, int((p.y() - self.rect.top()) / s))
        c = min(self.cols - 1, int((p.x() - self.rect.left()) / s))
        return r, c


def layer_title(layer: ImageLayer, shape: ImageShape | None) -> tuple[str, str]:
    """The card's title (the label) and its subtitle (what the layer does, in short)."""
    if isinstance(layer, ImageInput):
        c, h, w = layer.shape
        sub = f"image {h} {TIMES} {w}" + (f" {TIMES} {c} channels" if c > 1 else "")
    elif isinstance(layer, Convolution):
        act = activations.ACTIVATIONS[layer.activation].title
        k = layer.kernel
        sub = (f"{layer.filters} filter{'s' if layer.filters != 1 else ''} {k} {TIMES} {k}"
               f" · {act}")
        if layer.stride != 1 or layer.padding != "valid":
            sub += f" · stride {layer.stride}, {layer.padding}"
    elif isinstance(layer, Pooling):
        w = layer.window
        sub = f"{'max' if layer.mode == 'max' else 'average'} pool {w} {TIMES} {w}"
        if layer.stride != w:
            sub += f", stride {layer.stride}"
    else:
        size = getattr(shape, "size", None)
        sub = f"{size} values" if size is not None else "flatten"
    if shape is None and not isinstance(layer, ImageInput):
        sub += " · not connected"
    return elide(layer.label, 28), sub


class LayerItem(PortHover, QGraphicsItem):
    """One image layer. ``nid`` is its layer id (the name the connection modes use for any
    item with a port); position = the layer's (x, y), the card's centre."""

    Type = QGraphicsItem.UserType + 2

    def __init__(self, scene: ItemHost, lid: str) -> None:
        super().__init__()
        self._scene = scene
        self.nid = lid
        self.kind = ""
        self.connected = False
        self.has_output = True
        self.title = lid
        self.subtitle = ""
        self.grids: list[Grid] = []
        self.grid_index: dict[tuple, Grid] = {}
        self.images: dict[tuple, QImage] = {}
        self.values: dict[tuple, np.ndarray] = {}     # what each grid shows, (rows, cols)
        self.marks: dict[tuple, list[tuple[int, int, int, int]]] = {}   # outlined cells
        self.focus: tuple[tuple, int, int] | None = None   # (grid key, row, col)
        self.target_state: str | None = None
        self.port_hovered = False
        self._card = QRectF()
        self._rect = QRectF()
        self._arrows: list[QPointF] = []    # where the "→" between a filter and its map goes
        self._arrow_path = QPainterPath()
        self._cell_lines: dict[tuple, list[QLineF]] = {}
        self._more: list[tuple[QPointF, str]] = []   # "+2 channels" notes
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setZValue(8)

    def type(self) -> int:
        return self.Type

    @property
    def role(self) -> str:
        """What a connection mode asks of an item with a port."""
        return self.kind

    # ------------------------------------------------------------------ model -> item
    def sync(self, layer: ImageLayer, shape: ImageShape | None,
             feature_span: tuple[float, float] | None = None) -> None:
        """Take kind, label, settings and position from the model layer; lay out the grids
        for its shape (``feature_span``: a flatten's feature neurons' top and bottom y)."""
        self.prepareGeometryChange()
        self.kind = layer.kind
        self.connected = shape is not None
        self.has_output = layer.kind != "flatten"
        self.title, self.subtitle = layer_title(layer, shape)
        grids: list[Grid] = []
        self._arrows, self._more = [], []
        if isinstance(layer, ImageInput):
            c, h, w = layer.shape
            s = cell_size(max(h, w), *PIXEL_CELL)
            y = 0.0
            for ch in range(c):
                grids.append(Grid(("pixels", ch), QRectF(0, y, w * s, h * s), h, w))
                y += h * s + GAP
        elif isinstance(layer, Convolution):
            grids = self._conv_grids(layer, shape)
        elif isinstance(layer, Pooling):
            maps = maps_of(shape) if shape is not None else None
            if maps is not None:
                grids = self._map_column(maps, 0.0)
        body = QRectF()
        for g in grids:
            body = body.united(g.rect)
        if layer.kind == "flatten":
            top, bottom = feature_span if feature_span is not None else (layer.y, layer.y)
            h = max(bottom - top + 2 * 22.0 + 8.0, 40.0)
            body = QRectF(-FLATTEN_WIDTH / 2, top - layer.y - h / 2 + (bottom - top) / 2,
                          FLATTEN_WIDTH, h)
        elif body.isNull():
            body = QRectF(0, 0, 120, 28)
        width = max(body.width(), 120.0 if layer.kind != "flatten" else FLATTEN_WIDTH)
        # centre the body on (0, 0) below the header; the card holds both
        shift = QPointF(-body.left() - body.width() / 2,
                        -body.top() - body.height() / 2 + HEADER / 2)
        if layer.kind == "flatten":
            shift = QPointF(0.0, 0.0)
        self.grids = [Grid(g.key, g.rect.translated(shift), g.rows, g.cols) for g in grids]
        self._arrows = [p + shift for p in self._arrows]
        self._more = [(p + shift, t) for p, t in self._more]
        body = body.translated(shift)
        card = QRectF(-width / 2 - PAD, body.top() - HEADER - PAD / 2, width + 2 * PAD,
                      body.height() + HEADER + 1.5 * PAD)
        self._card = card
        self._rect = card.adjusted(-10, -6, PORT_RADIUS + 14, 6)
        self.grid_index = {g.key: g for g in self.grids}
        self._cell_lines = {g.key: _cell_lines(g) for g in self.grids
                            if g.rows * g.cols <= 400}
        arrows = QPainterPath()
        for p in self._arrows:
            tip = QPointF(p.x() + ARROW_W / 2, p.y())
            arrows.moveTo(p.x() - ARROW_W / 2, p.y())
            arrows.lineTo(tip)
            arrows.moveTo(tip.x() - 4, tip.y() - 3)
            arrows.lineTo(tip)
            arrows.lineTo(tip.x() - 4, tip.y() + 3)
        self._arrow_path = arrows
        self.images = {k: v for k, v in self.images.items() if k in self.grid_index
                       and self.grid_index[k].rows == v.height()
                       and self.grid_index[k].cols == v.width()}
        self.values = {k: v for k, v in self.values.items() if k in self.images}
        if self.focus is not None and self.focus[0] not in self.grid_index:
            self.focus = None
        self.marks = {}
        if self.pos() != QPointF(layer.x, layer.y):
            self.setPos(layer.x, layer.y)
        self.update()

    def _conv_grids(self, layer: Convolution, shape: ImageShape | None) -> list[Grid]:
        k = layer.kernel
        fs = cell_size(k, *FILTER_CELL)
        shown = min(layer.channels, MAX_CHANNEL_GRIDS)
        filter_w = shown * k * fs + (shown - 1) * 3.0
        maps = maps_of(shape) if shape is not None else None
        ms = cell_size(max(maps[1:]), *MAP_CELL) if maps else 0.0
        map_h = maps[1] * ms if maps else 0.0
        map_w = maps[2] * ms if maps else 0.0
        row_h = max(k * fs, map_h)
        col_w = filter_w + (ARROW_W + 2 * GAP + map_w if maps else 0.0)
        grids = []
        for f in range(layer.filters):
            col, row = divmod(f, MAX_ROWS)
            x0 = col * (col_w + 3 * GAP)
            y0 = row * (row_h + GAP)
            fy = y0 + (row_h - k * fs) / 2
            for c in range(shown):
                grids.append(Grid(("filter", f, c),
                                  QRectF(x0 + c * (k * fs + 3.0), fy, k * fs, k * fs), k, k))
            if layer.channels > shown:
                self._more.append((QPointF(x0, fy + k * fs + 8.0),
                                   f"+{layer.channels - shown} channels"))
            if maps:
                mx = x0 + filter_w + ARROW_W + 2 * GAP
                self._arrows.append(QPointF(x0 + filter_w + GAP + ARROW_W / 2, y0 + row_h / 2))
                grids.append(Grid(("map", f), QRectF(mx, y0 + (row_h - map_h) / 2, map_w,
                                                     map_h), maps[1], maps[2]))
        return grids

    @staticmethod
    def _map_column(maps: tuple[int, int, int], x0: float) -> list[Grid]:
        n, h, w = maps
        s = cell_size(max(h, w), *MAP_CELL)
        row_h = h * s
        grids = []
        for m in range(n):
            col, row = divmod(m, MAX_ROWS)
            grids.append(Grid(("map", m), QRectF(x0 + col * (w * s + 3 * GAP),
                                                  row * (row_h + GAP), w * s, h * s), h, w))
        return grids

    def set_grid_values(self, kind: str, values: np.ndarray | None) -> None:
        """Show ``values`` (grids, rows, cols) in the grids of ``kind`` ("pixels", "map") in
        order, or clear them (None: neutral cells)."""
        keys = [g.key for g in self.grids if g.key[0] == kind]
        if values is None or not keys:
            changed = any(k in self.images for k in keys)
            for k in keys:
                self.images.pop(k, None)
                self.values.pop(k, None)
            if changed:
                self.update()
            return
        values = np.asarray(values, dtype=np.float64)
        for key, image, v in zip(keys, heat_images(values[:len(keys)]), values, strict=False):
            self.images[key] = image
            self.values[key] = v
        self.update()

    def set_filters(self, weights: np.ndarray) -> None:
        """Show a convolution's filter weights (filters, channels, k, k)."""
        keys = [g.key for g in self.grids if g.key[0] == "filter"]
        if not keys:
            return
        grids = np.stack([weights[f, c] for _, f, c in keys])
        for key, image, v in zip(keys, heat_images(grids), grids, strict=True):
            self.images[key] = image
            self.values[key] = v
        self.update()

    def set_marks(self, marks: dict[tuple, list[tuple[int, int, int, int]]]) -> None:
        """Outline cells: per grid key, (top, left, bottom, right) ranges (bottom and right
        exclusive), as ``Window.clipped()`` gives them."""
        if marks != self.marks:
            self.marks = {k: list(v) for k, v in marks.items() if k in self.grid_index}
            self.update()

    def set_focus(self, focus: tuple[tuple, int, int] | None) -> None:
        if focus != self.focus:
            self.focus = focus
            self.update()

    def set_target_state(self, state: str | None) -> None:
        if state != self.target_state:
            self.target_state = state
            self.update()

    # ------------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:
        return self._rect

    def card_rect(self) -> QRectF:
        return QRectF(self._card)

    def body_path(self, grow: float = 0.0) -> QPainterPath:
        p = QPainterPath()
        p.addRoundedRect(self._card.adjusted(-grow, -grow, grow, grow), CORNER + grow,
                         CORNER + grow)
        return p

    def shape(self) -> QPainterPath:
        p = self.body_path(1.0)
        if self.has_output:
            p.addEllipse(self.port_center(), PORT_RADIUS + 3, PORT_RADIUS + 3)
        return p

    def port_center(self) -> QPointF:
        return QPointF(self._card.right() + 1.0, self._card.center().y())

    def input_center(self) -> QPointF:
        return QPointF(self._card.left(), self._card.center().y())

    def port_contains(self, scene_pos: QPointF) -> bool:
        if not self.has_output:
            return False
        p = self.mapFromScene(scene_pos) - self.port_center()
        return math.hypot(p.x(), p.y()) <= PORT_RADIUS + 4.0

    def port_scene_pos(self) -> QPointF:
        return self.mapToScene(self.port_center())

    def input_scene_pos(self) -> QPointF:
        return self.mapToScene(self.input_center())

    def contains_scene(self, scene_pos: QPointF) -> bool:
        local = self.mapFromScene(scene_pos)
        return self._card.adjusted(-1, -1, 1, 1).contains(local) or self.port_contains(scene_pos)

    def cell_at(self, scene_pos: QPointF) -> tuple[tuple, int, int] | None:
        """(grid key, row, col) of the cell under ``scene_pos``, or None."""
        local = self.mapFromScene(scene_pos)
        for g in self.grids:
            rc = g.cell_at(local)
            if rc is not None:
                return g.key, rc[0], rc[1]
        return None

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        exporting = self._scene.exporting
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        card = self._card
        if self.isSelected() and not exporting:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(_SEL_GLOW_PEN)
            painter.drawRoundedRect(card.adjusted(-5, -5, 5, 5), CORNER + 5, CORNER + 5)
            painter.setPen(_SEL_PEN)
            painter.drawRoundedRect(card.adjusted(-3.5, -3.5, 3.5, 3.5), CORNER + 3, CORNER + 3)
        if self.target_state is not None:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(_OK_PEN if self.target_state == "ok" else _REFUSED_PEN)
            painter.drawRoundedRect(card.adjusted(-6, -6, 6, 6), CORNER + 6, CORNER + 6)
        painter.setPen(_CARD_PEN if self.connected or self.kind == "image_input"
                       else _DETACHED_PEN)
        painter.setBrush(_CARD_FILL if self.kind != "flatten" else _FLATTEN_FILL)
        painter.drawRoundedRect(card, CORNER, CORNER)
        if lod >= 0.3:
            painter.setFont(label_font())
            painter.setPen(style.TEXT)
            painter.drawText(QRectF(card.left() + 6, card.top() + 3, card.width() - 12, 14),
                             style.ALIGN_LEFT_VCENTER, self.title)
            painter.setFont(_SUB_FONT)
            painter.setPen(style.MUTED_TEXT)
            painter.drawText(QRectF(card.left() + 6, card.top() + 16, card.width() - 12, 12),
                             style.ALIGN_LEFT_VCENTER, self.subtitle)
        # the grids: an image each (or a neutral fill), then every cell line and every frame
        # in one call each (a paint while training redraws every map: few calls, no loops)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        lines: list[QLineF] = []
        for g in self.grids:
            image = self.images.get(g.key)
            if image is not None:
                painter.drawImage(g.rect, image)
            else:
                painter.fillRect(g.rect, style.NEUTRAL_FILL)
            if g.cell * lod >= 7 and g.rows * g.cols <= 400:
                lines += self._cell_lines[g.key]
        if lines:
            painter.setPen(_CELL_PEN)
            painter.drawLines(lines)
        painter.setPen(_GRID_PEN)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRects([g.rect for g in self.grids])
        if self._scene.show_values:
            for g in self.grids:
                if g.cell * lod >= 24 and g.key in self.values:
                    self._paint_numbers(painter, g)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if lod >= 0.3:
            if not self._arrow_path.isEmpty():
                painter.setPen(_ARROW_PEN)
                painter.drawPath(self._arrow_path)
            painter.setFont(_SUB_FONT)
            painter.setPen(style.MUTED_TEXT)
            for p, text in self._more:
                painter.drawText(p, text)
        self._paint_marks(painter)
        if self.kind != "image_input":   # the input port: where the source's link arrives
            painter.setPen(_PORT_PEN)
            painter.setBrush(style.PANEL)
            painter.drawEllipse(self.input_center(), PORT_RADIUS - 2.0, PORT_RADIUS - 2.0)
        if self.has_output and lod >= 0.3:
            if self.port_hovered and not exporting:
                painter.setPen(_PORT_HOVER_PEN)
                painter.setBrush(style.ACCENT)
                painter.drawEllipse(self.port_center(), PORT_RADIUS + 1.5, PORT_RADIUS + 1.5)
            else:
                painter.setPen(_PORT_PEN)
                painter.setBrush(style.PANEL)
                painter.drawEllipse(self.port_center(), PORT_RADIUS - 1.0, PORT_RADIUS - 1.0)

    def _paint_numbers(self, painter: QPainter, g: Grid) -> None:
        values = self.values[g.key]
        painter.setFont(value_font())
        for r in range(g.rows):
            for c in range(g.cols):
                v = float(values[r, c])
                fill = style.diverging_color(v)
                painter.setPen(style.text_color_on(fill))
                painter.drawText(g.cell_rect(r, c), style.ALIGN_CENTER, style.format_value(v, 2))

    def _paint_marks(self, painter: QPainter) -> None:
        if not self.marks and self.focus is None:
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for key, ranges in self.marks.items():
            g = self.grid_index[key]
            for top, left, bottom, right in ranges:
                rect = g.cell_rect(top, left, bottom, right)
                painter.setPen(_MARK_GLOW_PEN)
                painter.drawRect(rect)
                painter.setPen(_MARK_PEN)
                painter.drawRect(rect)
        if self.focus is not None:
            key, r, c = self.focus
            g = self.grid_index.get(key)
            if g is not None:
                painter.setPen(_FOCUS_PEN)
                painter.drawRect(g.cell_rect(r, c))


def _cell_lines(g: Grid) -> list[QLineF]:
    """The lines between a grid's cells."""
    r = g.rect
    return [QLineF(r.left(), r.top() + k * g.cell, r.right(), r.top() + k * g.cell)
            for k in range(1, g.rows)] + \
        [QLineF(r.left() + k * g.cell, r.top(), r.left() + k * g.cell, r.bottom())
         for k in range(1, g.cols)]


class LayerLinks(QGraphicsItem):
    """Every image layer's link from its source (output port) to it (input port), with an
    arrowhead: few lines, drawn by one item and rebuilt when layers move or change."""

    def __init__(self, scene: ItemHost) -> None:
        super().__init__()
        self._scene = scene
        self.setZValue(-5)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.lines: list[QLineF] = []
        self._heads: list[QPolygonF] = []
        self._rect = QRectF()

    def set_links(self, lines: list[QLineF]) -> None:
        self.prepareGeometryChange()
        self.lines = list(lines)
        self._heads = [_head(ln) for ln in self.lines]
        rect = QRectF()
        for ln in self.lines:
            rect = rect.united(QRectF(ln.p1(), ln.p2()).normalized().adjusted(-8, -8, 8, 8))
        self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if not self.lines:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(_LINK_PEN)
        painter.drawLines(self.lines)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.NEURON_BORDER)
        for head in self._heads:
            painter.drawPolygon(head)


def _head(line: QLineF) -> QPolygonF:
    """An arrowhead at the end of ``line``."""
    length = line.length()
    if length < 1e-6:
        return QPolygonF()
    ux, uy = line.dx() / length, line.dy() / length
    tip = line.p2()
    back = QPointF(tip.x() - ux * 9, tip.y() - uy * 9)
    return QPolygonF([tip, QPointF(back.x() - uy * 4.5, back.y() + ux * 4.5),
                      QPointF(back.x() + uy * 4.5, back.y() - ux * 4.5)])


_SUB_FONT = style.ui_font(7.0)
_CARD_PEN = QPen(style.NEURON_BORDER, 1.4)
_DETACHED_PEN = QPen(style.MUTED_TEXT, 1.2, Qt.PenStyle.DashLine)
_CARD_FILL = style.PANEL
_FLATTEN_FILL = QColor(244, 245, 247)
_CELL_PEN = QPen(QColor(250, 250, 247), 0)   # opaque: a translucent cosmetic pen is 30x slower
_GRID_PEN = QPen(style.NEURON_BORDER, 0)
_ARROW_PEN = QPen(style.MUTED_TEXT, 1.3)
_PORT_PEN = QPen(style.MUTED_TEXT, 1.2)
_PORT_HOVER_PEN = QPen(style.ACCENT.darker(130), 1.4)
_SEL_GLOW_PEN = QPen(
    QColor(style.POSITIVE.red(), style.POSITIVE.green(), style.POSITIVE.blue(), 55), 7.0)
_SEL_PEN = QPen(style.POSITIVE, 1.8)
_OK_PEN = QPen(style.ACCENT, 3.0)
_REFUSED_PEN = QPen(style.REFUSED, 3.0)
_MARK_GLOW_PEN = QPen(QColor(style.HIGHLIGHT.red(), style.HIGHLIGHT.green(),
                             style.HIGHLIGHT.blue(), 90), 5.0)
_MARK_PEN = QPen(style.HIGHLIGHT, 2.0)
_FOCUS_PEN = QPen(style.SELECTION, 2.0)
_LINK_PEN = QPen(style.NEURON_BORDER, 1.8)
for _pen in (_CELL_PEN, _GRID_PEN):
    _pen.setCosmetic(True)

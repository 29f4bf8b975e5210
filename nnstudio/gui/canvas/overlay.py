"""The overlay the backprop player (and anything that explains) draws on top of the canvas.

``scene.set_overlay(Overlay(...))`` shows:

- ``neurons`` / ``connections``: ids drawn with a highlight halo (Okabe–Ito reddish purple,
  distinct from both weight colours for colour-blind users);
- ``neuron_text`` / ``connection_text``: short text badges next to a neuron or at a
  connection's midpoint (e.g. "z = 0.24", "dL/dw = -1.2");
- ``arrows``: per neuron a signed magnitude (e.g. dL/dz). Each is drawn as arrows leaving the
  neuron backwards along its incoming connections (or to its left when it has none); their
  length and thickness grow with |magnitude| relative to the largest one shown, and the colour
  gives the sign (blue = positive, orange = negative: the same pair as weights). Arrows run
  beside their connection, clear of even the thickest line, with a white rim and a dark
  outline, so they never read as a connection;
- ``layers``: image layer ids whose cards get the halo; ``layer_cells``: per layer, per grid
  of its card (``("map", 0)``, ``("pixels", 0)``, ``("filter", 0, 0)``), cell ranges
  ``(top, left, bottom, right)`` (bottom and right exclusive) outlined, as the player shows a
  filter's window on its input and the cell it makes; ``layer_text``: a badge above a card;
  ``layer_values``: per layer, per grid, the values to draw over the card's own (the player's
  maps as far as the walkthrough has computed them; None: not computed yet, a neutral fill).

``scene.set_overlay(None)`` clears it. The overlay never changes the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnstudio.gui import style

from .connections import MAX_WIDTH
from .host import ItemHost
from .image_items import Grid, LayerItem, heat_images


@dataclass
class Overlay:
    neurons: set = field(default_factory=set)
    connections: set = field(default_factory=set)
    neuron_text: dict = field(default_factory=dict)
    connection_text: dict = field(default_factory=dict)
    arrows: dict = field(default_factory=dict)
    layers: set = field(default_factory=set)
    layer_cells: dict = field(default_factory=dict)
    layer_text: dict = field(default_factory=dict)
    layer_values: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.neurons = set(self.neurons or ())
        self.connections = set(self.connections or ())
        self.neuron_text = dict(self.neuron_text or {})
        self.connection_text = dict(self.connection_text or {})
        self.arrows = {k: float(v) for k, v in (self.arrows or {}).items()}
        self.layers = set(self.layers or ())
        self.layer_cells = {k: dict(v) for k, v in (self.layer_cells or {}).items()}
        self.layer_text = dict(self.layer_text or {})
        self.layer_values = {k: dict(v) for k, v in (self.layer_values or {}).items()}

    def is_empty(self) -> bool:
        return not (self.neurons or self.connections or self.neuron_text
                    or self.connection_text or self.arrows or self.layers or self.layer_cells
                    or self.layer_text or self.layer_values)


HALO_WIDTH = 9.0
BADGE_PAD = 4.0
ARROW_GAP = 3.0       # scene units between the thickest connection line and an arrow's head
ARROW_CASING = 4.0    # the white rim that sets an arrow apart from the lines under it


def head_half_width(width: float) -> float:
    """Half the width of the head of an arrow whose shaft is ``width`` thick."""
    return width / 2 + 2.5 + width * 0.35


def arrow_offset(width: float) -> float:
    """How far an arrow's centre line sits from its connection's centre line: even its head
    stays ARROW_GAP clear of the thickest connection line."""
    return MAX_WIDTH / 2 + ARROW_GAP + head_half_width(width)


class OverlayItem(QGraphicsItem):
    """Draws the current :class:`Overlay` above neurons and connections. Geometry (the bounding
    rectangle and all shapes) is computed in :meth:`rebuild`, never inside ``paint``."""

    def __init__(self, scene: ItemHost) -> None:
        super().__init__()
        self._scene = scene
        self.overlay: Overlay | None = None
        self.setZValue(50)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        self._rect = QRectF()
        self._halo_neurons: list[tuple[QPointF, str]] = []
        self._halo_lines: list[QLineF] = []
        self._badges: list[tuple[QRectF, str]] = []
        self._arrows: list[tuple[QPainterPath, QColor, float]] = []
        self._halo_cards: list[QRectF] = []
        self._cells: list[QRectF] = []
        self._grid_values: list[tuple[QRectF, QImage | None]] = []
        self._font = style.ui_font(8.0)
        self.setVisible(False)

    # ------------------------------------------------------------------ what is drawn
    @property
    def halo_neurons(self) -> tuple[tuple[QPointF, str], ...]:
        """(centre, role) of every haloed neuron."""
        return tuple(self._halo_neurons)

    @property
    def halo_lines(self) -> tuple[QLineF, ...]:
        return tuple(self._halo_lines)

    @property
    def badges(self) -> tuple[tuple[QRectF, str], ...]:
        """(rectangle, text) of every badge."""
        return tuple(self._badges)

    @property
    def arrows(self) -> tuple[tuple[QPainterPath, QColor, float], ...]:
        """(outline, colour, shaft width) of every arrow."""
        return tuple(self._arrows)

    @property
    def halo_cards(self) -> tuple[QRectF, ...]:
        """The scene rectangle of every haloed layer card."""
        return tuple(self._halo_cards)

    @property
    def cells(self) -> tuple[QRectF, ...]:
        """The scene rectangle of every outlined range of cells."""
        return tuple(self._cells)

    @property
    def grid_values(self) -> tuple[tuple[QRectF, QImage | None], ...]:
        """(scene rectangle, heat image or None for "not computed yet") of every grid drawn
        over a card."""
        return tuple(self._grid_values)

    # ------------------------------------------------------------------ building
    def set_overlay(self, overlay: Overlay | None) -> None:
        self.overlay = overlay if overlay is not None and not overlay.is_empty() else None
        self.rebuild()

    def rebuild(self) -> None:
        """Recompute every shape from the overlay and the current neuron positions."""
        self.prepareGeometryChange()
        self._halo_neurons, self._halo_lines, self._badges, self._arrows = [], [], [], []
        self._halo_cards, self._cells, self._grid_values = [], [], []
        ov = self.overlay
        self.setVisible(ov is not None)
        if ov is None:
            self._rect = QRectF()
            self.update()
            return
        sc = self._scene
        net = sc.document.network
        rect = QRectF()
        r = sc.NEURON_RADIUS
        for nid in ov.neurons:
            item = sc.neuron_item(nid)
            if item is not None:
                self._halo_neurons.append((item.pos(), item.role))
                rect = rect.united(QRectF(item.pos().x() - r - 12, item.pos().y() - r - 12,
                                          2 * r + 24, 2 * r + 24))
        for lid in ov.layers | set(ov.layer_text):
            item = sc.layer_item(lid)
            if item is not None and lid in ov.layers:
                card = item.mapToScene(item.card_rect()).boundingRect()
                self._halo_cards.append(card)
                rect = rect.united(card.adjusted(-12, -12, 12, 12))
        for item, grid, values in self._layer_grids(ov.layer_values):
            image = heat_images(values)[0] if values is not None and \
                values.shape == (grid.rows, grid.cols) else None
            where = item.mapToScene(grid.rect).boundingRect()
            self._grid_values.append((where, image))
            rect = rect.united(where)
        for item, grid, ranges in self._layer_grids(ov.layer_cells):
            for top, left, bottom, right in ranges:
                cells = item.mapToScene(grid.cell_rect(top, left, bottom, right))
                self._cells.append(cells.boundingRect())
                rect = rect.united(cells.boundingRect().adjusted(-6, -6, 6, 6))
        for cid in ov.connections:
            line = sc.connection_line(cid)
            if line is not None:
                self._halo_lines.append(line)
                rect = rect.united(QRectF(line.p1(), line.p2()).normalized().adjusted(-8, -8, 8, 8))
        fm = QFontMetricsF(self._font)
        placed: list[QRectF] = []
        # the neurons and their labels are obstacles too: a badge never hides one
        items = [sc.neuron_item(n) for n in net.neurons] if len(net.neurons) <= 400 else []
        bodies = [i.sceneBoundingRect().adjusted(6, 6, -6, -2) for i in items if i is not None]

        def place(br: QRectF, step: float) -> QRectF:
            """Move a badge by ``step`` until it overlaps no badge placed before it (nor,
            within a few steps, a neuron)."""
            for k in range(12):
                hit = any(br.intersects(o) for o in placed) or (
                    k < 4 and any(br.intersects(b) for b in bodies))
                if not hit:
                    break
                br.translate(0, step)
            placed.append(br)
            return br

        for nid, text in ov.neuron_text.items():
            item = sc.neuron_item(nid)
            if item is None or not text:
                continue
            br = self._badge_rect(fm, str(text))
            p = item.pos()
            br.moveCenter(QPointF(p.x(), p.y() - r - 8 - br.height() / 2))
            br = place(br, -(br.height() + 3))
            self._badges.append((br, str(text)))
            rect = rect.united(br)
        for lid, text in ov.layer_text.items():
            item = sc.layer_item(lid)
            if item is None or not text:
                continue
            br = self._badge_rect(fm, str(text))
            card = item.mapToScene(item.card_rect()).boundingRect()
            br.moveCenter(QPointF(card.center().x(), card.top() - 8 - br.height() / 2))
            br = place(br, -(br.height() + 3))
            self._badges.append((br, str(text)))
            rect = rect.united(br)
        for cid, text in ov.connection_text.items():
            line = sc.connection_line(cid)
            if line is None or not text:
                continue
            br = self._badge_rect(fm, str(text))
            br.moveCenter(line.center() + QPointF(0, -br.height() * 0.75))
            br = place(br, br.height() + 3)
            self._badges.append((br, str(text)))
            rect = rect.united(br)
        if ov.arrows:
            biggest = max((abs(v) for v in ov.arrows.values() if math.isfinite(v)), default=0.0)
            for nid, mag in ov.arrows.items():
                item = sc.neuron_item(nid)
                if item is None or not math.isfinite(mag) or biggest <= 0 or mag == 0:
                    continue
                frac = abs(mag) / biggest
                color = style.POSITIVE if mag > 0 else style.NEGATIVE
                width = 1.5 + 4.0 * frac
                origin = item.pos()
                sources = [net.neurons[c.source] for c in net.incoming(nid)] \
                    if nid in net.neurons else []
                dirs = []
                for s in sources:
                    dx, dy = s.x - origin.x(), s.y - origin.y()
                    d = math.hypot(dx, dy)
                    if d > 1e-6:
                        dirs.append((dx / d, dy / d, d))
                if not dirs:
                    dirs = [(-1.0, 0.0, 4 * r)]
                for ux, uy, d in dirs:
                    avail = max(d - 2 * r - 6, r)
                    length = (0.2 + 0.6 * frac) * avail
                    # beside the connection (to its left, seen along the arrow), never on it:
                    # clear of the thickest connection line by ARROW_GAP
                    side = arrow_offset(width)
                    ox, oy = -uy * side, ux * side
                    start = QPointF(origin.x() + ux * (r + 4) + ox, origin.y() + uy * (r + 4) + oy)
                    end = QPointF(start.x() + ux * length, start.y() + uy * length)
                    path = _arrow_path(start, end, width)
                    self._arrows.append((path, color, width))
                    rect = rect.united(path.boundingRect().adjusted(-4, -4, 4, 4))
        self._rect = rect
        self.update()

    def _layer_grids(self, per_layer: dict) -> Iterator[tuple[LayerItem, Grid, Any]]:
        """(card, grid, value) of every {layer: {grid key: value}} entry whose card and grid
        are on the canvas."""
        for lid, grids in per_layer.items():
            item = self._scene.layer_item(lid)
            if item is None:
                continue
            for key, value in grids.items():
                grid = item.grid_index.get(key)
                if grid is not None:
                    yield item, grid, value

    def _badge_rect(self, fm: QFontMetricsF, text: str) -> QRectF:
        br = fm.boundingRect(QRectF(0, 0, 400, 200), style.ALIGN_LEFT, text)
        return QRectF(0, 0, br.width() + 2 * BADGE_PAD, br.height() + 2 * BADGE_PAD - 1)

    # ------------------------------------------------------------------ painting
    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        if self.overlay is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        halo = QColor(style.HIGHLIGHT)
        halo.setAlpha(110)
        r = self._scene.NEURON_RADIUS
        if self._grid_values:   # (pixel-exact cells, as the cards draw them)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            for where, image in self._grid_values:
                if image is not None:
                    painter.drawImage(where, image)
                else:
                    painter.fillRect(where, style.NEUTRAL_FILL)
            painter.setPen(QPen(style.MUTED_TEXT, 1.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRects([where for where, _ in self._grid_values])
        if self._halo_lines:
            pen = QPen(halo, HALO_WIDTH, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            painter.drawLines(self._halo_lines)
            painter.setPen(QPen(style.HIGHLIGHT, 1.6, Qt.PenStyle.SolidLine,
                                Qt.PenCapStyle.FlatCap))
            painter.drawLines(self._halo_lines)
        for card in self._halo_cards:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(halo, HALO_WIDTH))
            painter.drawRoundedRect(card.adjusted(-7, -7, 7, 7), 12, 12)
            painter.setPen(QPen(style.HIGHLIGHT, 2.0))
            painter.drawRoundedRect(card.adjusted(-4, -4, 4, 4), 10, 10)
        if self._cells:
            fill = QColor(style.HIGHLIGHT)
            fill.setAlpha(45)
            painter.setBrush(fill)
            painter.setPen(QPen(style.HIGHLIGHT, 2.2))
            painter.drawRects(self._cells)
        for pos, _role in self._halo_neurons:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(halo, HALO_WIDTH))
            painter.drawEllipse(pos, r + 7, r + 7)
            painter.setPen(QPen(style.HIGHLIGHT, 2.0))
            painter.drawEllipse(pos, r + 4, r + 4)
        # arrows: a white casing, then the sign colour with a dark outline, so that they read
        # as marks floating above the (same-coloured) connection lines
        casing = QPen(QColor(255, 255, 255, 235), ARROW_CASING)
        casing.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        outline = QPen(style.TEXT, 1.3)
        outline.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        for path, color, _width in self._arrows:
            painter.setPen(casing)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setPen(outline)
            painter.setBrush(QBrush(color))
            painter.drawPath(path)
        painter.setFont(self._font)
        for br, text in self._badges:
            painter.setPen(QPen(style.HIGHLIGHT, 1.2))
            painter.setBrush(QBrush(QColor(255, 255, 255, 235)))
            painter.drawRoundedRect(br, 4, 4)
            painter.setPen(style.TEXT)
            painter.drawText(br.adjusted(BADGE_PAD, BADGE_PAD - 1, -BADGE_PAD, -BADGE_PAD),
                             style.ALIGN_LEFT_VCENTER, text)


def _arrow_path(start: QPointF, end: QPointF, width: float) -> QPainterPath:
    """A filled arrow (shaft + head) from start to end, shaft ``width`` thick."""
    dx, dy = end.x() - start.x(), end.y() - start.y()
    length = math.hypot(dx, dy)
    if length < 1e-6:
        return QPainterPath()
    ux, uy = dx / length, dy / length
    nx, ny = -uy, ux
    head_len = min(length * 0.6, 6.0 + 2.2 * width)
    head_w = head_half_width(width)
    hw = width / 2
    bx, by = end.x() - ux * head_len, end.y() - uy * head_len
    pts = [
        QPointF(start.x() + nx * hw, start.y() + ny * hw),
        QPointF(bx + nx * hw, by + ny * hw),
        QPointF(bx + nx * head_w, by + ny * head_w),
        end,
        QPointF(bx - nx * head_w, by - ny * head_w),
        QPointF(bx - nx * hw, by - ny * hw),
        QPointF(start.x() - nx * hw, start.y() - ny * hw),
    ]
    path = QPainterPath()
    path.addPolygon(QPolygonF(pts))
    path.closeSubpath()
    return path

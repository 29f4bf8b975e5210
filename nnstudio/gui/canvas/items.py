"""The neuron item: shape by role, fill by activation, a glyph of its activation function, its
label and an output port to start connections from.

- input: a rounded square (the value passes straight in); a derived input (x1², sin x1: a
  formula of the data) has a dashed border and an ƒ instead of the arrow;
- hidden: a circle;
- output: a circle with a thick double ring;
- feature (a value of a flatten layer's maps): a small square, in the flatten's column,
  without a label (its tooltip says which map cell it holds).

The fill is the neuron's activation for the chosen sample on the blue–white–orange map of
:mod:`nnstudio.gui.style`. Geometry (bounding rectangle, label size) changes only in
:meth:`NeuronItem.sync`, never inside ``paint``. The item never edits the model: the view's mouse
modes do that through the document.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)
from shiboken6 import wrapInstance

from nnstudio.core import activations
from nnstudio.core.network import FEATURE_ROLE, Neuron
from nnstudio.gui import style

from .host import ItemHost

RADIUS = 22.0
FEATURE_RADIUS = 11.0   # half the side of a feature neuron's square (at most)


FEATURE_BAR = 7.0       # half the width of a feature neuron at least (a bar when packed)


def feature_radius(spacing: float) -> float:
    """Half the side of a feature neuron's square when its flatten's column places them
    ``spacing`` apart: they never overlap (1,352 of them make a bar of colours)."""
    return max(0.5, min(FEATURE_RADIUS, spacing * 0.42))
PORT_RADIUS = 5.5
LABEL_GAP = 5.0
MAX_LABEL_CHARS = 18

_LABEL_FONT = None
_VALUE_FONT = None


def label_font() -> QFont:
    global _LABEL_FONT
    if _LABEL_FONT is None:
        _LABEL_FONT = style.ui_font(8.5)
    return _LABEL_FONT


_LABEL_METRICS = None


def _label_metrics() -> QFontMetricsF:
    global _LABEL_METRICS
    if _LABEL_METRICS is None:
        _LABEL_METRICS = QFontMetricsF(label_font())
    return _LABEL_METRICS


@cache
def _derived_font() -> QFont:
    """The ƒ a derived input shows in place of the input arrow."""
    f = style.ui_font(12.0, bold=True)
    f.setItalic(True)
    return f


def value_font() -> QFont:
    global _VALUE_FONT
    if _VALUE_FONT is None:
        _VALUE_FONT = style.ui_font(7.0, bold=True)
    return _VALUE_FONT


@cache
def glyph_path(name: str, width: float = 20.0, height: float = 12.0) -> QPainterPath:
    """A tiny curve of the activation function over z in [-3, 3], fitted into a
    width x height box centred on (0, 0). Shared and cached per activation."""
    z = np.linspace(-3.0, 3.0, 41)
    if name == "softmax":
        a = np.exp(z) / (1.0 + np.exp(z))  # one output's share against a rival at 0
    elif name == "binary_step":
        z = np.array([-3.0, 0.0, 0.0, 3.0])
        a = np.array([0.0, 0.0, 1.0, 1.0])
    else:
        act = activations.ACTIVATIONS.get(name, activations.ACTIVATIONS["identity"])
        slope = 0.15 if act.has_slope else activations.DEFAULT_LEAKY_SLOPE  # visible leak
        a = np.asarray(act.f(z, slope), dtype=np.float64)
    lo, hi = float(a.min()), float(a.max())
    span = hi - lo if hi > lo else 1.0
    xs = (z - z.min()) / (z.max() - z.min()) * width - width / 2
    ys = height / 2 - (a - lo) / span * height
    path = QPainterPath(QPointF(xs[0], ys[0]))
    for x, y in zip(xs[1:].tolist(), ys[1:].tolist(), strict=True):
        path.lineTo(x, y)
    return path


_PIXMAPS: dict = {}
GLYPH_BOX = (26.0, 18.0)


def _pixmap(key: tuple, w: float, h: float, scale: float,
            draw: Callable[[QPainter], None]) -> QPixmap:
    """A cached transparent pixmap of w x h scene units rendered at ``scale`` device pixels per
    unit; ``draw(painter)`` paints it with (0, 0) at the centre. Stroking tiny antialiased
    curves costs ~50-250 us each in Qt's raster engine; blitting a cached pixmap ~1 us."""
    pm = _PIXMAPS.get(key)
    if pm is None:
        if len(_PIXMAPS) > 4000:
            _PIXMAPS.clear()
        pm = QPixmap(max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale)))
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.scale(pm.width() / w, pm.height() / h)
        p.translate(w / 2, h / 2)
        draw(p)
        p.end()
        _PIXMAPS[key] = pm
    return pm


def _draw_glyph(p: QPainter, name: str, ink: QColor) -> None:
    faint = QColor(ink)
    faint.setAlpha(60)
    p.setPen(QPen(faint, 0.8))
    p.drawLine(QPointF(-11, 0), QPointF(11, 0))
    p.setPen(QPen(ink, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(glyph_path(name))


def _draw_input_arrow(p: QPainter, ink: QColor) -> None:
    p.setPen(QPen(ink, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(-9, 0), QPointF(8, 0))
    p.drawLine(QPointF(8, 0), QPointF(3, -4))
    p.drawLine(QPointF(8, 0), QPointF(3, 4))


def _draw_shadow(p: QPainter, role: str) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    for grow, dy, alpha in ((2.5, 3.0, 10), (1.2, 2.2, 16), (0.0, 1.4, 24)):
        p.setBrush(QColor(20, 30, 50, alpha))
        r = RADIUS + grow
        if role == "input":
            p.drawRoundedRect(QRectF(-r + 0.5, -r + dy, 2 * r, 2 * r), 8 + grow, 8 + grow)
        else:
            p.drawEllipse(QPointF(0.5, dy), r, r)


def elide(text: str, n: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


class PortHover:
    """Mixed into a QGraphicsItem with an output port (``port_contains``): the port lights up
    (``port_hovered``) and the pointer becomes a cross while it is over the port."""

    port_hovered = False

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        on = self.port_contains(event.scenePos())
        if on != self.port_hovered:
            self.port_hovered = on
            self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
            self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if self.port_hovered:
            self.port_hovered = False
            self.unsetCursor()
            self.update()


class NeuronItem(PortHover, QGraphicsItem):
    """One neuron. ``nid`` is its model id; position = the neuron's (x, y) centre."""

    Type = QGraphicsItem.UserType + 1

    def __init__(self, scene: ItemHost, nid: str) -> None:
        super().__init__()
        self._scene = scene
        self.nid = nid
        self.role = "hidden"
        self.label = nid
        self.activation = "identity"
        self.derive: str | None = None
        self.index = -1   # position in the scene's per-neuron arrays (values, colours)
        self.feature_size = FEATURE_RADIUS   # a feature neuron's half side (the scene sets it)
        self._geom_key: tuple | None = None  # (label, role, feature size) of the geometry
        self.target_state: str | None = None   # "ok" / "refused" while a connection is dragged
        self.port_hovered = False
        self._label_text = nid
        self._label_rect = QRectF()
        self._rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setZValue(10)

    def type(self) -> int:
        return self.Type

    # ------------------------------------------------------------------ model -> item
    def sync(self, neuron: Neuron) -> None:
        """Take role, label, activation and position from the model neuron."""
        key = (neuron.label, neuron.role, self.feature_size)
        changed_geom = key != self._geom_key
        self._geom_key = key
        self.role = neuron.role
        self.label = neuron.label
        self.activation = neuron.activation
        self.derive = neuron.derive
        if changed_geom:
            self.prepareGeometryChange()
            self._label_text = elide(self.label)
            fm = _label_metrics()
            w = fm.horizontalAdvance(self._label_text) + 6
            h = fm.height()
            self._label_rect = QRectF(-w / 2, RADIUS + LABEL_GAP, w, h)
            r = RADIUS + 9  # selection ring + shadow
            shape_rect = QRectF(-r, -r, 2 * r + PORT_RADIUS + 4, 2 * r)
            self._rect = shape_rect.united(self._label_rect.adjusted(-2, -2, 2, 2))
            if self.role == FEATURE_ROLE:
                r = self.feature_size + 7
                self._rect = QRectF(-r, -r, 2 * r + PORT_RADIUS + 4, 2 * r)
        if self.pos() != QPointF(neuron.x, neuron.y):
            self.setPos(neuron.x, neuron.y)
        self.update()

    @property
    def value(self) -> float | None:
        """The activation shown (chosen sample), read from the scene's value array."""
        vals = self._scene.neuron_values
        if not 0 <= self.index < len(vals):
            return None
        v = float(vals[self.index])
        return None if v != v else v

    @property
    def fill(self) -> QColor:
        """The fill colour: the activation on the diverging map, or neutral grey."""
        lut = self._scene.colour_indices
        k = int(lut[self.index]) if 0 <= self.index < len(lut) else -1
        return style.NEUTRAL_FILL if k < 0 else style.DIVERGING_QCOLORS[k]

    def set_target_state(self, state: str | None) -> None:
        if state != self.target_state:
            self.target_state = state
            self.update()

    # ------------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:
        return self._rect

    @property
    def radius(self) -> float:
        """Half the neuron's size: a feature neuron is smaller."""
        return self.feature_size if self.role == FEATURE_ROLE else RADIUS

    def body_path(self, grow: float = 0.0) -> QPainterPath:
        p = QPainterPath()
        if self.role == FEATURE_ROLE:
            r = self.feature_size + grow
            p.addRoundedRect(QRectF(-r, -r, 2 * r, 2 * r), 3 + grow * 0.5, 3 + grow * 0.5)
            return p
        r = RADIUS + grow
        if self.role == "input":
            p.addRoundedRect(QRectF(-r, -r, 2 * r, 2 * r), 8 + grow * 0.5, 8 + grow * 0.5)
        else:
            p.addEllipse(QPointF(0, 0), r, r)
        return p

    def shape(self) -> QPainterPath:
        p = self.body_path(1.0)
        p.addEllipse(self.port_center(), PORT_RADIUS + 3, PORT_RADIUS + 3)
        return p

    def port_center(self) -> QPointF:
        return QPointF(self.radius + 1.0, 0.0)

    def port_contains(self, scene_pos: QPointF) -> bool:
        p = self.mapFromScene(scene_pos) - self.port_center()
        return math.hypot(p.x(), p.y()) <= PORT_RADIUS + 4.0

    def port_scene_pos(self) -> QPointF:
        return self.mapToScene(self.port_center())

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        # (pens, rectangles and enum values come from module constants: looking up PySide
        # enums and building pens costs microseconds per call, and this runs per neuron)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        exporting = self._scene.exporting
        if lod < DOT_LOD and not exporting:   # far away: NeuronDots draws every neuron at once
            return
        role = self.role
        painter.setRenderHint(_AA, True)
        if role == FEATURE_ROLE:
            self._paint_feature(painter, lod, exporting)
            return
        # pixmaps (cached per device scale) for the static decorations on screen; vector
        # drawing in exports, so SVG stays crisp
        scale = lod * painter.device().devicePixelRatioF()
        cached = not exporting and scale <= 8.0
        qscale = round(scale, 2)
        if lod >= 0.5:  # soft shadow
            if cached:
                pm = _pixmap(("shadow", role == "input", qscale), _SHADOW_D, _SHADOW_D, qscale,
                             lambda p, role=role: _draw_shadow(p, role))
                painter.drawPixmap(_SHADOW_RECT, pm, QRectF(pm.rect()))
            else:
                _draw_shadow(painter, role)
        if self.isSelected() and not exporting:  # a soft blue glow and a crisp ring
            painter.setBrush(_NOBRUSH)
            painter.setPen(_SEL_GLOW_PEN)
            painter.drawPath(self.body_path(6.0))
            painter.setPen(_SEL_PEN)
            painter.drawPath(self.body_path(4.5))
        if self.target_state is not None:
            painter.setBrush(_NOBRUSH)
            painter.setPen(_OK_PEN if self.target_state == "ok" else _REFUSED_PEN)
            painter.drawPath(self.body_path(6.0))
        fill = self.fill
        picture = self._scene.picture(self.nid)
        if picture is None:
            self._paint_body(painter, fill)
        else:   # the boundary picture (shaped like the body) fills it; the border goes over
            painter.drawPixmap(_BODY_RECT, *picture)
            self._paint_body(painter, _NOBRUSH)
        if lod >= 0.45:
            ink = style.text_color_on(fill) if picture is None else style.TEXT
            if picture is not None:   # the glyph stays readable over the picture
                painter.setOpacity(0.6)
            value = self.value if self._scene.show_values else None
            show_value = value is not None
            gy = -5.5 if show_value else 0.0
            is_arrow = role == "input" and self.activation == "identity"
            if role == "input" and self.derive:
                painter.setFont(_derived_font())
                painter.setPen(ink)
                painter.drawText(_GLYPH_RECT_VALUE if show_value else _GLYPH_RECT,
                                 style.ALIGN_CENTER, "\u0192")
            elif cached:
                key = ("arrow" if is_arrow else self.activation, ink.rgb(), qscale)
                draw = (lambda p, ink=ink: _draw_input_arrow(p, ink)) if is_arrow else \
                    (lambda p, name=self.activation, ink=ink: _draw_glyph(p, name, ink))
                pm = _pixmap(key, GLYPH_BOX[0], GLYPH_BOX[1], qscale, draw)
                painter.drawPixmap(_GLYPH_RECT_VALUE if show_value else _GLYPH_RECT, pm,
                                   QRectF(pm.rect()))
            else:
                painter.save()
                painter.translate(0, gy)
                if is_arrow:
                    _draw_input_arrow(painter, ink)
                else:
                    _draw_glyph(painter, self.activation, ink)
                painter.restore()
            painter.setOpacity(1.0)
            if show_value:
                painter.setFont(value_font())
                painter.setPen(ink)
                painter.drawText(_VALUE_RECT, style.ALIGN_CENTER, style.format_value(value))
            # label under the neuron
            painter.setFont(label_font())
            painter.setPen(style.TEXT)
            painter.drawText(self._label_rect, style.ALIGN_HCENTER_TOP, self._label_text)
        if lod >= 0.4:  # output port
            if self.port_hovered and not exporting:
                painter.setPen(_PORT_HOVER_PEN)
                painter.setBrush(style.ACCENT)
                painter.drawEllipse(_PORT_CENTER, PORT_RADIUS + 1.5, PORT_RADIUS + 1.5)
            else:
                painter.setPen(_PORT_PEN)
                painter.setBrush(style.PANEL)
                painter.drawEllipse(_PORT_CENTER, PORT_RADIUS - 1.0, PORT_RADIUS - 1.0)


    def _paint_body(self, painter: QPainter, brush) -> None:
        """The body's outline by role (output: a double ring; input: a rounded square,
        dashed for a derived input; hidden: a circle), filled with ``brush``."""
        painter.setBrush(brush)
        if self.role == "output":
            painter.setPen(_OUTPUT_PEN)
            painter.drawEllipse(_ORIGIN, RADIUS, RADIUS)
            painter.setPen(_OUTPUT_INNER_PEN)
            painter.setBrush(_NOBRUSH)
            painter.drawEllipse(_ORIGIN, RADIUS - 5, RADIUS - 5)
        elif self.role == "input":
            painter.setPen(_DERIVED_PEN if self.derive else _BORDER_PEN)
            painter.drawRoundedRect(_BODY_RECT, 8, 8)
        else:
            painter.setPen(_BORDER_PEN)
            painter.drawEllipse(_ORIGIN, RADIUS, RADIUS)

    def _paint_feature(self, painter: QPainter, lod: float, exporting: bool) -> None:
        """A feature neuron: a small square filled with its value, and its port."""
        if self.isSelected() and not exporting:
            painter.setBrush(_NOBRUSH)
            painter.setPen(_SEL_PEN)
            painter.drawPath(self.body_path(3.5))
        if self.target_state is not None:
            painter.setBrush(_NOBRUSH)
            painter.setPen(_OK_PEN if self.target_state == "ok" else _REFUSED_PEN)
            painter.drawPath(self.body_path(4.0))
        fill = self.fill
        painter.setBrush(fill)
        painter.setPen(_BORDER_PEN)
        r = self.feature_size
        half_w = max(r, FEATURE_BAR)   # packed tight they stay a bar this wide
        rect = QRectF(-half_w, -r, 2 * half_w, 2 * r)
        if r * lod >= 3:
            painter.drawRoundedRect(rect, min(3.0, r / 2), min(3.0, r / 2))
        else:   # too small for a border: the fills make a bar of the flatten's values
            painter.fillRect(rect, fill)
        value = self.value if self._scene.show_values and lod * self.feature_size >= 9 \
            else None
        if value is not None:
            painter.setFont(value_font())
            painter.setPen(style.text_color_on(fill))
            painter.drawText(rect, style.ALIGN_CENTER, style.format_value(value, 2))
        if lod >= 0.4 and self.feature_size * lod >= 4:
            centre = self.port_center()
            if self.port_hovered and not exporting:
                painter.setPen(_PORT_HOVER_PEN)
                painter.setBrush(style.ACCENT)
                painter.drawEllipse(centre, PORT_RADIUS + 1.0, PORT_RADIUS + 1.0)
            else:
                painter.setPen(_PORT_PEN)
                painter.setBrush(style.PANEL)
                painter.drawEllipse(centre, PORT_RADIUS - 1.5, PORT_RADIUS - 1.5)


_AA = QPainter.RenderHint.Antialiasing
_NOBRUSH = Qt.BrushStyle.NoBrush
_ORIGIN = QPointF(0.0, 0.0)
_PORT_CENTER = QPointF(RADIUS + 1.0, 0.0)
_BODY_RECT = QRectF(-RADIUS, -RADIUS, 2 * RADIUS, 2 * RADIUS)
_SHADOW_D = 2 * RADIUS + 12
_SHADOW_RECT = QRectF(-_SHADOW_D / 2, -_SHADOW_D / 2, _SHADOW_D, _SHADOW_D)
_GLYPH_RECT = QRectF(-GLYPH_BOX[0] / 2, -GLYPH_BOX[1] / 2, GLYPH_BOX[0], GLYPH_BOX[1])
_GLYPH_RECT_VALUE = _GLYPH_RECT.translated(0, -5.5)
_VALUE_RECT = QRectF(-RADIUS, 1, 2 * RADIUS, 14)
_BORDER_PEN = QPen(style.NEURON_BORDER, 1.6)
_DERIVED_PEN = QPen(style.NEURON_BORDER, 1.6, Qt.PenStyle.DashLine)
_OUTPUT_PEN = QPen(style.ROLE_BORDER["output"], 3.2)
_OUTPUT_INNER_PEN = QPen(style.ROLE_BORDER["output"], 1.0)
_SEL_GLOW_PEN = QPen(
    QColor(style.POSITIVE.red(), style.POSITIVE.green(), style.POSITIVE.blue(), 55), 7.0)
_SEL_PEN = QPen(style.POSITIVE, 1.8)
_OK_PEN = QPen(style.ACCENT, 3.0)
_REFUSED_PEN = QPen(style.REFUSED, 3.0)
_PORT_PEN = QPen(style.MUTED_TEXT, 1.2)
_PORT_HOVER_PEN = QPen(style.ACCENT.darker(130), 1.4)


DOT_LOD = 0.3     # below this zoom neurons are drawn as dots by NeuronDots, in a few calls
DOT_SHADES = 24   # colour buckets for the dots


class NeuronDots(QGraphicsItem):
    """All neurons as coloured dots when zoomed far out (1,000 neurons in a few draw calls,
    instead of 1,000 item paints). Positions and colours come from the scene's arrays."""

    def __init__(self, scene: ItemHost) -> None:
        super().__init__()
        self._scene = scene
        self.setZValue(11)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._rect = QRectF()
        self._pens: dict = {}

    def set_positions(self, pos: np.ndarray) -> None:
        if len(pos):
            lo, hi = pos.min(axis=0) - RADIUS - 4, pos.max(axis=0) + RADIUS + 4
            rect = QRectF(QPointF(lo[0], lo[1]), QPointF(hi[0], hi[1]))
        else:
            rect = QRectF()
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        sc = self._scene
        pos = sc.positions
        if lod >= DOT_LOD or not len(pos) or sc.exporting:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        size = max(2.0, 2 * RADIUS * lod)
        shade = sc.dot_shades    # per neuron: 0..DOT_SHADES-1, or -1 for "no value"
        order = np.argsort(shade, kind="stable")
        pts = np.ascontiguousarray(pos[order])
        sh = shade[order]
        uniq, starts, counts = np.unique(sh, return_index=True, return_counts=True)
        border = QPen(style.NEURON_BORDER, size + 1.5)
        border.setCosmetic(True)
        border.setCapStyle(Qt.PenCapStyle.SquareCap)
        painter.setPen(border)
        painter.drawPoints(wrapInstance(pts.ctypes.data, QPointF), len(pts))
        for s, start, count in zip(uniq.tolist(), starts.tolist(), counts.tolist(), strict=True):
            pen = self._pens.get((s, size))
            if pen is None:
                if s < 0:
                    color = style.NEUTRAL_FILL
                else:
                    k = round(s / (DOT_SHADES - 1) * (len(style.DIVERGING_LUT) - 1))
                    color = QColor(*[int(v) for v in style.DIVERGING_LUT[k]])
                pen = QPen(color, size)
                pen.setCosmetic(True)
                pen.setCapStyle(Qt.PenCapStyle.SquareCap)
                if len(self._pens) > 500:
                    self._pens.clear()
                self._pens[(s, size)] = pen
            painter.setPen(pen)
            painter.drawPoints(wrapInstance(pts.ctypes.data + start * 16, QPointF), count)
        index = sc.neuron_index
        sel = [index[i] for i in sc.document.selection if i in index]
        if sel:
            ring = QPen(style.POSITIVE, 2.0)
            ring.setCosmetic(True)
            painter.setPen(ring)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            r = (size / 2 + 3) / max(lod, 1e-6)
            for i in sel[:2000]:
                painter.drawEllipse(QPointF(*pos[i]), r, r)

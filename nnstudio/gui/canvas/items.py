"""The neuron item: shape by role, fill by activation, a glyph of its activation function, its
label and an output port to start connections from.

- input: a rounded square (the value passes straight in);
- hidden: a circle;
- output: a circle with a thick double ring.

The fill is the neuron's activation for the chosen sample on the blue–white–orange map of
:mod:`nnstudio.gui.style`. Geometry (bounding rectangle, label size) changes only in
:meth:`NeuronItem.sync`, never inside ``paint``. The item never edits the model: the view's mouse
modes do that through the document.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from nnstudio.core import activations
from nnstudio.gui import style

RADIUS = 22.0
PORT_RADIUS = 5.5
LABEL_GAP = 5.0
MAX_LABEL_CHARS = 18

_LABEL_FONT = None
_VALUE_FONT = None


def label_font():
    global _LABEL_FONT
    if _LABEL_FONT is None:
        _LABEL_FONT = style.ui_font(8.5)
    return _LABEL_FONT


def value_font():
    global _VALUE_FONT
    if _VALUE_FONT is None:
        _VALUE_FONT = style.ui_font(7.0, bold=True)
    return _VALUE_FONT


@lru_cache(maxsize=None)
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
    for x, y in zip(xs[1:].tolist(), ys[1:].tolist()):
        path.lineTo(x, y)
    return path


def elide(text: str, n: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


class NeuronItem(QGraphicsItem):
    """One neuron. ``nid`` is its model id; position = the neuron's (x, y) centre."""

    Type = QGraphicsItem.UserType + 1

    def __init__(self, scene, nid: str):
        super().__init__()
        self._scene = scene
        self.nid = nid
        self.role = "hidden"
        self.label = nid
        self.activation = "identity"
        self.fill = QColor(style.NEUTRAL_FILL)
        self.value: float | None = None
        self.target_state: str | None = None   # "ok" / "refused" while a connection is dragged
        self.port_hovered = False
        self._label_text = nid
        self._label_rect = QRectF()
        self._rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setZValue(10)

    def type(self) -> int:  # noqa: A003 (Qt API)
        return self.Type

    # ------------------------------------------------------------------ model -> item
    def sync(self, neuron) -> None:
        """Take role, label, activation and position from the model neuron."""
        changed_geom = neuron.label != self.label or self._rect.isNull()
        self.role = neuron.role
        self.label = neuron.label
        self.activation = neuron.activation
        if changed_geom:
            self.prepareGeometryChange()
            self._label_text = elide(self.label)
            fm = QFontMetricsF(label_font())
            w = fm.horizontalAdvance(self._label_text) + 6
            h = fm.height()
            self._label_rect = QRectF(-w / 2, RADIUS + LABEL_GAP, w, h)
            r = RADIUS + 9  # selection ring + shadow
            shape_rect = QRectF(-r, -r, 2 * r + PORT_RADIUS + 4, 2 * r)
            self._rect = shape_rect.united(self._label_rect.adjusted(-2, -2, 2, 2))
        if self.pos() != QPointF(neuron.x, neuron.y):
            self.setPos(neuron.x, neuron.y)
        self.update()

    def set_value(self, value: float | None, fill: QColor) -> None:
        if value != self.value or fill != self.fill:
            self.value = value
            self.fill = fill
            self.update()

    def set_target_state(self, state: str | None) -> None:
        if state != self.target_state:
            self.target_state = state
            self.update()

    # ------------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:
        return self._rect

    def body_path(self, grow: float = 0.0) -> QPainterPath:
        r = RADIUS + grow
        p = QPainterPath()
        if self.role == "input":
            p.addRoundedRect(QRectF(-r, -r, 2 * r, 2 * r), 8 + grow * 0.5, 8 + grow * 0.5)
        else:
            p.addEllipse(QPointF(0, 0), r, r)
        return p

    def shape(self) -> QPainterPath:
        p = self.body_path(1.0)
        p.addEllipse(self.port_center(), PORT_RADIUS + 3, PORT_RADIUS + 3)
        return p

    @staticmethod
    def port_center() -> QPointF:
        return QPointF(RADIUS + 1.0, 0.0)

    def port_contains(self, scene_pos: QPointF) -> bool:
        p = self.mapFromScene(scene_pos) - self.port_center()
        return math.hypot(p.x(), p.y()) <= PORT_RADIUS + 4.0

    def port_scene_pos(self) -> QPointF:
        return self.mapToScene(self.port_center())

    # ------------------------------------------------------------------ hover (port highlight)
    def hoverMoveEvent(self, event) -> None:
        on = self.port_contains(event.scenePos())
        if on != self.port_hovered:
            self.port_hovered = on
            self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
            self.update()

    def hoverLeaveEvent(self, event) -> None:
        if self.port_hovered:
            self.port_hovered = False
            self.unsetCursor()
            self.update()

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        exporting = self._scene.exporting
        selected = self.isSelected() and not exporting
        if lod < 0.3:  # far away: a plain dot in its activation colour
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(QPen(style.SELECTION if selected else style.NEURON_BORDER, 0))
            painter.setBrush(self.fill)
            painter.drawEllipse(QPointF(0, 0), RADIUS, RADIUS)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        body = self.body_path()
        if lod >= 0.5:  # soft shadow: two offset translucent layers
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(20, 30, 50, 18))
            painter.drawPath(body.translated(0.5, 3.0))
            painter.setBrush(QColor(20, 30, 50, 26))
            painter.drawPath(body.translated(0.5, 1.5))
        if selected:  # a soft blue glow and a crisp ring, unlike any role border
            glow = QColor(style.POSITIVE)
            glow.setAlpha(55)
            painter.setPen(QPen(glow, 7.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self.body_path(6.0))
            painter.setPen(QPen(style.POSITIVE, 1.8))
            painter.drawPath(self.body_path(4.5))
        if self.target_state is not None:
            color = style.ACCENT if self.target_state == "ok" else style.REFUSED
            painter.setPen(QPen(color, 3.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self.body_path(6.0))
        border = style.ROLE_BORDER.get(self.role, style.NEURON_BORDER)
        painter.setBrush(QBrush(self.fill))
        if self.role == "output":
            painter.setPen(QPen(border, 3.2))
            painter.drawPath(body)
            painter.setPen(QPen(border, 1.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self.body_path(-5.0))
        else:
            painter.setPen(QPen(border, 1.6))
            painter.drawPath(body)
        ink = style.text_color_on(self.fill)
        if lod >= 0.45:
            show_value = self._scene.show_values and self.value is not None
            gy = -5.5 if show_value else 0.0
            if self.role != "input" or self.activation != "identity":
                faint = QColor(ink)
                faint.setAlpha(60)
                painter.setPen(QPen(faint, 0.8))
                painter.drawLine(QPointF(-11, gy), QPointF(11, gy))
                painter.setPen(QPen(ink, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                    Qt.PenJoinStyle.RoundJoin))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawPath(glyph_path(self.activation).translated(0, gy))
            else:  # input: an arrow "in"
                painter.setPen(QPen(ink, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                painter.drawLine(QPointF(-9, gy), QPointF(8, gy))
                painter.drawLine(QPointF(8, gy), QPointF(3, gy - 4))
                painter.drawLine(QPointF(8, gy), QPointF(3, gy + 4))
            if show_value:
                painter.setFont(value_font())
                painter.setPen(ink)
                painter.drawText(QRectF(-RADIUS, 1, 2 * RADIUS, 14),
                                 int(Qt.AlignmentFlag.AlignCenter), style.format_value(self.value))
            # label under the neuron
            painter.setFont(label_font())
            painter.setPen(style.TEXT)
            painter.drawText(self._label_rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                             self._label_text)
        if lod >= 0.4:  # output port
            c = self.port_center()
            if self.port_hovered and not exporting:
                painter.setPen(QPen(style.ACCENT.darker(130), 1.4))
                painter.setBrush(style.ACCENT)
                painter.drawEllipse(c, PORT_RADIUS + 1.5, PORT_RADIUS + 1.5)
            else:
                painter.setPen(QPen(style.MUTED_TEXT, 1.2))
                painter.setBrush(style.PANEL)
                painter.drawEllipse(c, PORT_RADIUS - 1.0, PORT_RADIUS - 1.0)

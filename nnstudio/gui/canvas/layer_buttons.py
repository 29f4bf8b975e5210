"""The + and − buttons above every hidden layer of the canvas (TensorFlow Playground's layer
editing): + adds a neuron to the layer, connected like its neighbours; − removes the layer's
bottom neuron. Each click is one document edit, one undo step.

One item draws every pair (:class:`LayerButtons`); it is laid out from the network's layers
(the depths whose neurons are all hidden, ``Network.hidden_layers``) when the scene flushes,
and the view asks :meth:`LayerButtons.hit` on a press before anything else. It never edits the
model itself, and it stays out of exports. The free DAG stays free: a layer is a depth level,
so these buttons act on whatever stands at that depth.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from nnstudio.gui import style

from .host import ItemHost
from .items import RADIUS, value_font

BUTTON_RADIUS = 8.0
GAP = 22.0          # from the layer's top neuron's edge to the buttons' centres
MIN_LOD = 0.45      # zoomed out further, the buttons are not drawn (nor hit)


class LayerButton(NamedTuple):
    depth: int
    op: str            # "+" or "-"
    centre: QPointF
    count: int         # neurons in the layer


class LayerButtons(QGraphicsItem):
    """Every hidden layer's + and − (see the module docstring)."""

    def __init__(self, scene: ItemHost) -> None:
        super().__init__()
        self._scene = scene
        self.buttons: list[LayerButton] = []
        self._rect = QRectF()
        self.hovered: LayerButton | None = None
        self.setZValue(12)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def rebuild(self) -> None:
        """Place the buttons above each hidden layer as the network stands now."""
        net = self._scene.document.network
        buttons: list[LayerButton] = []
        layers = net.layers()
        for depth in net.hidden_layers():
            ids = layers[depth]
            xs = [net.neurons[i].x for i in ids]
            top = min(net.neurons[i].y for i in ids) - RADIUS - GAP
            x = sum(xs) / len(xs)
            buttons.append(LayerButton(depth, "+", QPointF(x - 11.0, top), len(ids)))
            buttons.append(LayerButton(depth, "-", QPointF(x + 11.0, top), len(ids)))
        self.buttons = buttons
        rect = QRectF()
        r = BUTTON_RADIUS + 2
        for b in buttons:
            rect = rect.united(QRectF(b.centre.x() - r - 24, b.centre.y() - r - 14,
                                      2 * r + 48, 2 * r + 14))
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.hovered = None
        self.update()

    def hit(self, pos: QPointF, lod: float = 1.0) -> LayerButton | None:
        """The button under scene point ``pos`` (None when none, or zoomed too far out)."""
        if lod < MIN_LOD:
            return None
        for b in self.buttons:
            d = pos - b.centre
            if d.x() * d.x() + d.y() * d.y() <= (BUTTON_RADIUS + 2) ** 2:
                return b
        return None

    def set_hovered(self, button: LayerButton | None) -> None:
        if button != self.hovered:
            self.hovered = button
            self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod < MIN_LOD or self._scene.exporting or not self.buttons:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(value_font())
        border = QPen(QColor("#AEB5C0"), 1.0)
        ink = QPen(style.TEXT, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        for b in self.buttons:
            c = b.centre
            hot = self.hovered == b
            painter.setPen(border)
            painter.setBrush(style.ACCENT if hot else style.PANEL)
            painter.drawEllipse(c, BUTTON_RADIUS, BUTTON_RADIUS)
            pen = QPen(ink)
            if hot:
                pen.setColor(QColor("white"))
            painter.setPen(pen)
            h = BUTTON_RADIUS * 0.5
            painter.drawLine(QPointF(c.x() - h, c.y()), QPointF(c.x() + h, c.y()))
            if b.op == "+":
                painter.drawLine(QPointF(c.x(), c.y() - h), QPointF(c.x(), c.y() + h))
            else:
                painter.setPen(style.MUTED_TEXT)
                word = "neuron" if b.count == 1 else "neurons"
                painter.drawText(QRectF(c.x() - 11 - 40, c.y() - BUTTON_RADIUS - 15, 80, 12),
                                 style.ALIGN_CENTER, f"{b.count} {word}")

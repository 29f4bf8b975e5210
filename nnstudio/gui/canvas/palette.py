"""The palette: neuron types to drag onto the canvas.

Each tile starts a QDrag carrying ``application/x-nnstudio-neuron-role`` (the role as UTF-8) and,
for hidden and output neurons, ``application/x-nnstudio-neuron-activation`` (the activation chosen
in the tile's dropdown). The canvas view turns a drop into ``document.add_neuron``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QDrag, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core import activations
from nnstudio.gui import style

from .items import glyph_path

ROLE_MIME = "application/x-nnstudio-neuron-role"
ACTIVATION_MIME = "application/x-nnstudio-neuron-activation"

ROLE_INFO = {
    "input": ("Input", "Holds one feature of a sample (a column of the dataset). "
              "It passes its value on unchanged."),
    "hidden": ("Hidden", "Adds up its weighted inputs plus a bias, then applies its "
               "activation function."),
    "output": ("Output", "A prediction the loss compares with the target. Usually identity for "
               "regression, sigmoid or softmax for classification."),
}
DEFAULT_ACTIVATION = {"input": "identity", "hidden": "relu", "output": "identity"}


def neuron_icon(role: str, activation: str, size: int = 40, fill: QColor | None = None) -> QPixmap:
    """A small picture of a neuron of this role, as drawn on the canvas."""
    dpr = 2.0
    pm = QPixmap(int(size * dpr), int(size * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    r = size / 2 - 4
    c = QPointF(size / 2, size / 2)
    fill = fill or QColor("#DCEBF5")
    border = style.ROLE_BORDER[role]
    p.setBrush(QBrush(fill))
    if role == "input":
        p.setPen(QPen(border, 1.5))
        p.drawRoundedRect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), 6, 6)
    elif role == "output":
        p.setPen(QPen(border, 3.0))
        p.drawEllipse(c, r, r)
        p.setPen(QPen(border, 1.0))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(c, r - 4.5, r - 4.5)
    else:
        p.setPen(QPen(border, 1.5))
        p.drawEllipse(c, r, r)
    ink = style.TEXT
    p.setPen(QPen(ink, 1.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    p.setBrush(Qt.BrushStyle.NoBrush)
    if role == "input":
        p.drawLine(QPointF(c.x() - 8, c.y()), QPointF(c.x() + 7, c.y()))
        p.drawLine(QPointF(c.x() + 7, c.y()), QPointF(c.x() + 3, c.y() - 4))
        p.drawLine(QPointF(c.x() + 7, c.y()), QPointF(c.x() + 3, c.y() + 4))
    else:
        p.drawPath(glyph_path(activation, 16.0, 10.0).translated(c))
    p.end()
    return pm


class NeuronTile(QFrame):
    """One draggable neuron type."""

    def __init__(self, role: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        title, text = ROLE_INFO[role]
        self.setObjectName(f"paletteTile_{role}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip(f"<b>{title} neuron</b><br>{text}<br><i>Drag onto the canvas.</i>")
        self.setStyleSheet(
            "NeuronTile { background: white; border: 1px solid #D9DCE1; border-radius: 8px; }"
            f"NeuronTile:hover {{ border: 1px solid {style.POSITIVE_HEX}; background: #F4F9FC; }}")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(10)
        self.icon = QLabel()
        self.icon.setFixedSize(QSize(40, 40))
        lay.addWidget(self.icon)
        col = QVBoxLayout()
        col.setSpacing(2)
        name = QLabel(f"<b>{title}</b>")
        col.addWidget(name)
        self.combo: QComboBox | None = None
        if role != "input":
            self.combo = QComboBox()
            self.combo.setObjectName(f"paletteActivation_{role}")
            self.combo.setToolTip(f"The activation function new {role} neurons start with")
            for key, act in activations.ACTIVATIONS.items():
                if key == "softmax" and role != "output":
                    continue
                self.combo.addItem(act.title, key)
                self.combo.setItemData(self.combo.count() - 1, f"{act.formula}\n{act.note}",
                                       Qt.ItemDataRole.ToolTipRole)
            self.combo.setCurrentIndex(self.combo.findData(DEFAULT_ACTIVATION[role]))
            self.combo.currentIndexChanged.connect(self._refresh_icon)
            self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            col.addWidget(self.combo)
        else:
            hint = QLabel("a feature of the data")
            hint.setStyleSheet(f"color: {style.MUTED_TEXT_HEX};")
            col.addWidget(hint)
        lay.addLayout(col, 1)
        self._press: QPoint | None = None
        self._refresh_icon()

    def activation(self) -> str:
        return self.combo.currentData() if self.combo is not None else "identity"

    def _refresh_icon(self) -> None:
        self.icon.setPixmap(neuron_icon(self.role, self.activation()))

    def mime_data(self) -> QMimeData:
        mime = QMimeData()
        mime.setData(ROLE_MIME, QByteArray(self.role.encode("utf-8")))
        if self.role != "input":
            mime.setData(ACTIVATION_MIME, QByteArray(self.activation().encode("utf-8")))
        mime.setText(f"{self.role} neuron")
        return mime

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not (event.buttons() & Qt.MouseButton.LeftButton):
            return
        moved = (event.position().toPoint() - self._press).manhattanLength()
        if moved < QApplication.startDragDistance():
            return
        self._press = None
        drag = QDrag(self)
        drag.setMimeData(self.mime_data())
        pm = neuron_icon(self.role, self.activation(), 44)
        drag.setPixmap(pm)
        drag.setHotSpot(QPoint(22, 22))
        drag.exec(Qt.DropAction.CopyAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)


class Palette(QWidget):
    """``Palette(document)``: the dock content with the three neuron types."""

    def __init__(self, document: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("palette")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        self.tiles = {role: NeuronTile(role, self) for role in ("input", "hidden", "output")}
        for tile in self.tiles.values():
            lay.addWidget(tile)
        tip = QLabel("Drag a neuron onto the canvas. Drag from a neuron's right-hand port to "
                     "another neuron to connect them. Double-click a neuron to rename it.")
        tip.setWordWrap(True)
        tip.setStyleSheet(f"color: {style.MUTED_TEXT_HEX}; font-size: 8pt;")
        lay.addWidget(tip)
        lay.addStretch(1)

    def mime_data(self, role: str) -> QMimeData:
        """The drag payload for ``role`` (what a drag from that tile carries)."""
        return self.tiles[role].mime_data()

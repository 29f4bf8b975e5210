"""The palette: neuron types and image layers to drag onto the canvas.

Each neuron tile starts a QDrag carrying ``application/x-nnstudio-neuron-role`` (the role as
UTF-8) and, for hidden and output neurons, ``application/x-nnstudio-neuron-activation`` (the
activation chosen in the tile's dropdown); the canvas view turns its drop into
``document.add_neuron``. Each image-layer tile (Image input, Convolution, Pooling, Flatten)
carries ``application/x-nnstudio-image-layer`` (the layer kind); its drop becomes
``document.add_image_layer``.

The whole tile drags, wherever the press lands: its labels and icon let the mouse through
(``WA_TransparentForMouseEvents``; a bold title is a rich-text label, which would otherwise
take the press for text selection). Only the tile's own controls (the activation box, the
derived-input chips) keep their clicks. The Input tile shows the derived inputs (x1², sin x1,
...) as chips: each is the checkable action of :mod:`nnstudio.gui.derived_inputs`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, QPoint, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QAction, QBrush, QColor, QDrag, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core import activations
from nnstudio.gui import style

from .items import glyph_path

ROLE_MIME = "application/x-nnstudio-neuron-role"
ACTIVATION_MIME = "application/x-nnstudio-neuron-activation"
LAYER_MIME = "application/x-nnstudio-image-layer"

ROLE_INFO = {
    "input": ("Input", "Holds one feature of a sample (a column of the dataset). "
              "It passes its value on unchanged."),
    "hidden": ("Hidden", "Adds up its weighted inputs plus a bias, then applies its "
               "activation function."),
    "output": ("Output", "A prediction the loss compares with the target. Usually identity for "
               "regression, sigmoid or softmax for classification."),
}
DEFAULT_ACTIVATION = {"input": "identity", "hidden": "relu", "output": "identity"}

LAYER_INFO = {
    "image_input": ("Image input", "an image per sample",
                    "Takes one image per sample from the dataset (channels × height × width "
                    "pixels) and shows the chosen sample's pixels."),
    "convolution": ("Convolution", "filters slide over maps",
                    "Slides small shared filters (3 × 3 weights and a bias each) over its "
                    "input: each filter makes a feature map of dot products, then an "
                    "activation (ReLU turns negatives to 0)."),
    "pooling": ("Pooling", "keeps each window's max",
                "Max pooling keeps the largest value of each 2 × 2 window: smaller maps that "
                "tolerate small shifts."),
    "flatten": ("Flatten", "maps → a column of values",
                "Turns its input's maps into a column of feature neurons, which feed ordinary "
                "neurons (connect them as you would any neuron)."),
}


CHIP_STYLE = (
    "QToolButton { border: 1px solid #C9CED6; border-radius: 9px; padding: 1px 6px;"
    " background: #F7F8FA; color: #3A4250; font-size: 8pt; }"
    f"QToolButton:checked {{ background: {style.POSITIVE_HEX}; border-color: {style.POSITIVE_HEX};"
    " color: white; }"
    "QToolButton:disabled { color: #A8AEB8; }")


def pass_mouse_through(*widgets: QWidget) -> None:
    """Let presses on these (labels, icons) reach the tile under them: the tile drags."""
    for w in widgets:
        w.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)


def _blank_icon(size: int) -> tuple[QPixmap, QPainter]:
    """A transparent size × size icon at twice the pixels, and an antialiased painter on it
    (the caller ends the painter)."""
    dpr = 2.0
    pm = QPixmap(int(size * dpr), int(size * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    return pm, p


def neuron_icon(role: str, activation: str, size: int = 40, fill: QColor | None = None) -> QPixmap:
    """A small picture of a neuron of this role, as drawn on the canvas."""
    pm, p = _blank_icon(size)
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


class PaletteTile(QFrame):
    """A draggable tile: an icon, a title (``self.title``) and what is under it
    (``self.column``); a drag carries :meth:`mime_data` with :meth:`drag_pixmap` under the
    pointer. Presses on the icon and labels reach the tile, so they drag too."""

    def __init__(self, name: str, title: str, tip: str, parent: QWidget | None = None,
                 margins: int = 6) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip(tip)
        kind = type(self).__name__
        self.setStyleSheet(
            f"{kind} {{ background: white; border: 1px solid #D9DCE1; border-radius: 8px; }}"
            f"{kind}:hover {{ border: 1px solid {style.POSITIVE_HEX}; background: #F4F9FC; }}")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, margins, 8, margins)
        lay.setSpacing(10)
        self.icon = QLabel()
        self.icon.setFixedSize(QSize(40, 40))
        lay.addWidget(self.icon)
        self.column = QVBoxLayout()
        self.column.setSpacing(2)
        self.title = QLabel(f"<b>{title}</b>")
        self.column.addWidget(self.title)
        pass_mouse_through(self.icon, self.title)
        lay.addLayout(self.column, 1)
        self._press: QPoint | None = None

    def add_hint(self, text: str) -> QLabel:
        """A muted line under the title."""
        hint = QLabel(text)
        hint.setStyleSheet(f"color: {style.MUTED_TEXT_HEX};")
        pass_mouse_through(hint)
        self.column.addWidget(hint)
        return hint

    def mime_data(self) -> QMimeData:
        raise NotImplementedError

    def drag_pixmap(self) -> QPixmap:
        raise NotImplementedError

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
        drag.setPixmap(self.drag_pixmap())
        drag.setHotSpot(QPoint(22, 22))
        drag.exec(Qt.DropAction.CopyAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)


class NeuronTile(PaletteTile):
    """One draggable neuron type."""

    def __init__(self, role: str, parent: QWidget | None = None) -> None:
        title, text = ROLE_INFO[role]
        super().__init__(f"paletteTile_{role}", title,
                         f"<b>{title} neuron</b><br>{text}<br><i>Drag onto the canvas.</i>",
                         parent)
        self.role = role
        self.title.setObjectName(f"paletteTitle_{role}")
        self.chips: list[QToolButton] = []
        col = self.column
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
            self.add_hint("a feature of the data")
        self._refresh_icon()

    def set_chips(self, actions: list[QAction]) -> None:
        """Checkable chips for ``actions`` (the derived inputs), two rows under the hint."""
        rows = [QHBoxLayout(), QHBoxLayout()]
        for r in rows:
            r.setSpacing(3)
            r.setContentsMargins(0, 2, 0, 0)
        for k, a in enumerate(actions):
            b = QToolButton()
            b.setDefaultAction(a)
            b.setStyleSheet(CHIP_STYLE)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.setObjectName(f"paletteChip_{a.objectName().removeprefix('action_derived_')}")
            rows[0 if k < 3 else 1].addWidget(b)
            self.chips.append(b)
            b.setVisible(a.isVisible())   # (a hidden switch: image data has no x1, x2)
            a.changed.connect(lambda b=b, a=a: b.setVisible(a.isVisible()))
        for r in rows:
            r.addStretch(1)
            self.column.addLayout(r)

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

    def drag_pixmap(self) -> QPixmap:
        return neuron_icon(self.role, self.activation(), 44)


def layer_icon(kind: str, size: int = 40) -> QPixmap:
    """A small picture of an image layer of ``kind``: a grid of cells, as on the canvas."""
    pm, p = _blank_icon(size)
    p.setPen(QPen(style.NEURON_BORDER, 1.2))
    p.setBrush(QBrush(style.PANEL))
    p.drawRoundedRect(QRectF(2, 2, size - 4, size - 4), 5, 5)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    pos, neg = style.POSITIVE, QColor(style.NEGATIVE)

    def grid(x: float, y: float, n: int, cell: float, on: set, colour: QColor) -> None:
        for r in range(n):
            for c in range(n):
                p.fillRect(QRectF(x + c * cell, y + r * cell, cell, cell),
                           colour if (r, c) in on else QColor("#F1F2F4"))
        p.setPen(QPen(style.NEURON_BORDER, 0.6))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(x, y, n * cell, n * cell))

    ring = {(0, 2), (0, 3), (1, 1), (1, 4), (2, 0), (2, 5), (3, 0), (3, 5), (4, 1), (4, 4),
            (5, 2), (5, 3)}
    if kind == "image_input":
        grid(8, 8, 6, 4.0, ring, pos)
    elif kind == "convolution":
        grid(6, 13, 3, 4.0, {(0, 2), (1, 1), (2, 0)}, neg)
        p.setPen(QPen(style.MUTED_TEXT, 1.2))
        p.drawLine(QPointF(19, 19), QPointF(23, 19))
        grid(24, 13, 3, 4.0, {(0, 0), (1, 1), (0, 2)}, pos)
    elif kind == "pooling":
        grid(8, 8, 4, 6.0, {(0, 1), (1, 0), (3, 3), (2, 2)}, pos)
        p.setPen(QPen(style.HIGHLIGHT, 1.4))
        p.drawRect(QRectF(8, 8, 12, 12))
    else:
        for k in range(5):
            p.fillRect(QRectF(17, 7 + k * 5.5, 6, 4.5), pos if k % 2 == 0 else QColor("#F1F2F4"))
            p.setPen(QPen(style.NEURON_BORDER, 0.6))
            p.drawRect(QRectF(17, 7 + k * 5.5, 6, 4.5))
    p.end()
    return pm


class LayerTile(PaletteTile):
    """One draggable image layer kind."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        title, hint_text, text = LAYER_INFO[kind]
        super().__init__(f"paletteLayer_{kind}", title,
                         f"<b>{title}</b><br>{text}<br><i>Drag onto the canvas; drag from a "
                         f"layer's right-hand port to the next layer to connect them (dropped "
                         f"right of a selected layer, it is connected at once).</i>", parent,
                         margins=4)
        self.kind = kind
        self.icon.setPixmap(layer_icon(kind))
        self.add_hint(hint_text)

    def mime_data(self) -> QMimeData:
        mime = QMimeData()
        mime.setData(LAYER_MIME, QByteArray(self.kind.encode("utf-8")))
        mime.setText(LAYER_INFO[self.kind][0])
        return mime

    def drag_pixmap(self) -> QPixmap:
        return layer_icon(self.kind, 44)


class Palette(QWidget):
    """``Palette(document)``: the dock content with the three neuron types and the four image
    layer kinds."""

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
        head = QLabel("<b>Image layers</b>")
        head.setStyleSheet("margin-top: 6px;")
        lay.addWidget(head)
        self.layer_tiles = {kind: LayerTile(kind, self) for kind in LAYER_INFO}
        for layer_tile in self.layer_tiles.values():
            lay.addWidget(layer_tile)
        lay.addStretch(1)

    def set_derived_actions(self, actions: list[QAction]) -> None:
        """Show the derived inputs' switches as chips on the Input tile."""
        self.tiles["input"].set_chips(actions)

    def mime_data(self, role: str) -> QMimeData:
        """The drag payload for ``role`` (a neuron role or an image layer kind: what a drag
        from that tile carries)."""
        if role in self.layer_tiles:
            return self.layer_tiles[role].mime_data()
        return self.tiles[role].mime_data()

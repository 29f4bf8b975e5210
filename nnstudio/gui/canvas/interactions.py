"""Mouse modes of the canvas, each a small object with start / move / end / cancel.

The view picks a mode on mouse press (what is under the pointer, which button, which keys) and
forwards move and release events to it until it ends. A mode never edits the model directly: it
shows a preview in the scene and, on release, makes ONE document call (connect, move_items,
set_selection), so every gesture is at most one undo step. Esc cancels the running mode and
restores what it previewed.

A mode knows its view as a :class:`ModeHost` (the view implements it), so the view can build
the modes without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsLineItem,
    QGraphicsRectItem,
    QScrollBar,
    QWidget,
)

from nnstudio.core.network import NetworkError
from nnstudio.gui import style

from .image_items import LayerItem
from .items import NeuronItem
from .scene import CanvasScene

#: an item with an output port: a neuron, or an image layer (its ``nid`` is the layer id)
PortItem = NeuronItem | LayerItem


class ModeHost(Protocol):
    """What a mode uses of the canvas view."""

    document: Any          # the Document: every edit goes through it
    space_held: bool       # Space is down (Space + drag pans)

    def scene(self) -> CanvasScene: ...

    def viewport(self) -> QWidget: ...

    def horizontalScrollBar(self) -> QScrollBar: ...

    def verticalScrollBar(self) -> QScrollBar: ...


class Mode:
    """Base class: ``start`` on press, ``move`` on every pointer move, ``end`` on release,
    ``cancel`` on Esc (or when the view loses the gesture)."""

    cursor = None

    def __init__(self, view: ModeHost) -> None:
        self.view = view
        self.scene = view.scene()
        self.document = view.document

    def start(self, scene_pos: QPointF, view_pos: QPoint,
              modifiers: Qt.KeyboardModifier) -> None:
        pass

    def move(self, scene_pos: QPointF, view_pos: QPoint,
             modifiers: Qt.KeyboardModifier) -> None:
        pass

    def end(self, scene_pos: QPointF, view_pos: QPoint,
            modifiers: Qt.KeyboardModifier) -> None:
        pass

    def cancel(self) -> None:
        pass


def _status(document: Any, text: str, timeout: int = 6000) -> None:
    if hasattr(document, "message"):
        document.message(text, timeout)
    else:
        document.statusMessage.emit(text, timeout)


def _name(document: Any, item_id: str) -> str:
    """A neuron's or an image layer's label."""
    net = document.network
    layer = net.image_layers.get(item_id)
    return layer.label if layer is not None else net.neurons[item_id].label


class NewConnectionMode(Mode):
    """Drag from a neuron's or an image layer's output port: a live line follows the pointer;
    the neuron or layer under it is ringed green if the link is allowed and red (with the
    reason in the status bar) if not; releasing over an allowed one calls
    ``document.connect`` (into a layer, that makes the source the layer's input)."""

    def __init__(self, view: ModeHost, source: PortItem) -> None:
        super().__init__(view)
        self.source = source
        self.line_item: QGraphicsLineItem | None = None
        self.target: PortItem | None = None
        self._reason: str | None = None

    def start(self, scene_pos: QPointF, view_pos: QPoint,
              modifiers: Qt.KeyboardModifier) -> None:
        pen = QPen(style.SELECTION, 2.0, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        pen.setCosmetic(True)
        p0 = self.source.port_scene_pos()
        self.line_item = QGraphicsLineItem(QLineF(p0, scene_pos))
        self.line_item.setPen(pen)
        self.line_item.setZValue(40)
        self.scene.addItem(self.line_item)

    def _set_target(self, item: PortItem | None) -> None:
        if item is self.target:
            return
        if self.target is not None:
            self.target.set_target_state(None)
        self.target = item
        self._reason = None
        if item is not None:
            try:
                self.document.check_connect(self.source.nid, item.nid)
                item.set_target_state("ok")
            except NetworkError as e:
                self._reason = str(e)
                item.set_target_state("refused")
                _status(self.document, self._reason)

    def move(self, scene_pos: QPointF, view_pos: QPoint,
             modifiers: Qt.KeyboardModifier) -> None:
        item: PortItem | None = self.scene.neuron_at(scene_pos) \
            or self.scene.layer_at(scene_pos)
        if item is self.source:
            item = None
        self._set_target(item)
        end = scene_pos
        if item is not None and self._reason is None:
            end = item.input_scene_pos() if isinstance(item, LayerItem) else item.pos()
        if self.line_item is not None:
            color = style.REFUSED if self._reason else style.SELECTION
            pen = self.line_item.pen()
            pen.setColor(color)
            self.line_item.setPen(pen)
            self.line_item.setLine(QLineF(self.source.port_scene_pos(), end))

    def end(self, scene_pos: QPointF, view_pos: QPoint,
            modifiers: Qt.KeyboardModifier) -> None:
        self.move(scene_pos, view_pos, modifiers)
        target = self.target
        self._cleanup()
        if target is None:
            return
        try:
            made = self.document.connect(self.source.nid, target.nid)
        except (NetworkError, ValueError) as e:
            _status(self.document, str(e))
            return
        if made in self.document.network.connections:
            _status(self.document, f"Connected {_name(self.document, self.source.nid)} → "
                                   f"{_name(self.document, target.nid)} ({made})", 3000)

    def cancel(self) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        self._set_target(None)
        if self.line_item is not None:
            self.scene.removeItem(self.line_item)
            self.line_item = None


class MoveMode(Mode):
    """Press on a neuron or an image layer and drag: every selected neuron and layer follows
    (a preview; the model is not touched); on release ONE ``document.move_items`` call
    records the move as one undo step. A feature neuron moves with its flatten layer. A press
    that does not move past the drag threshold is a click."""

    def __init__(self, view: ModeHost, item: PortItem,
                 click_action: Callable[[], None] | None = None) -> None:
        super().__init__(view)
        self.item = item
        self.click_action = click_action   # run on release if the pointer did not move
        self.origin_scene = QPointF()
        self.origin_view = QPoint()
        self.moving = False
        self.nids: list[str] = []
        self.offset = QPointF()

    def start(self, scene_pos: QPointF, view_pos: QPoint,
              modifiers: Qt.KeyboardModifier) -> None:
        self.origin_scene = QPointF(scene_pos)
        self.origin_view = QPoint(view_pos)

    def _where(self, item_id: str) -> QPointF | None:
        net = self.document.network
        found = net.image_layers.get(item_id) or net.neurons.get(item_id)
        return None if found is None else QPointF(found.x, found.y)

    def _offset_for(self, scene_pos: QPointF) -> QPointF:
        d = scene_pos - self.origin_scene
        at = self._where(self.item.nid)
        if at is None:
            return d
        # snap the grabbed item's new centre; the others keep their relative placement
        target = self.scene.snap(at + d)
        return target - at

    def _movers(self, item_id: str) -> str:
        """What moves when ``item_id`` does: a feature neuron's flatten, else the item."""
        return self.document.network.flatten_of(item_id) or item_id

    def move(self, scene_pos: QPointF, view_pos: QPoint,
             modifiers: Qt.KeyboardModifier) -> None:
        if not self.moving:
            if (view_pos - self.origin_view).manhattanLength() < QApplication.startDragDistance():
                return
            self.moving = True
            net = self.document.network
            sel = [i for i in self.document.selection
                   if i in net.neurons or i in net.image_layers]
            ids = sel if self.item.nid in sel else [self.item.nid]
            self.nids = list(dict.fromkeys(self._movers(i) for i in ids))
            self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        self.offset = self._offset_for(scene_pos)
        self.scene.preview_move(dict.fromkeys(self.nids, self.offset))

    def end(self, scene_pos: QPointF, view_pos: QPoint,
            modifiers: Qt.KeyboardModifier) -> None:
        self.view.viewport().unsetCursor()
        if not self.moving:
            if self.click_action is not None:
                self.click_action()
            return
        self.offset = self._offset_for(scene_pos)
        positions = {}
        for nid in self.nids:
            at = self._where(nid)
            if at is not None:
                positions[nid] = (at.x() + self.offset.x(), at.y() + self.offset.y())
        try:
            self.document.move_items(positions)
        except (NetworkError, ValueError) as e:
            _status(self.document, str(e))
        # the model is now the truth (moved, or unchanged on refusal / zero move)
        self.scene.preview_move({nid: QPointF() for nid in self.nids})

    def cancel(self) -> None:
        self.view.viewport().unsetCursor()
        if self.moving:
            self.scene.preview_move({nid: QPointF() for nid in self.nids})
        self.moving = False


class RubberBandMode(Mode):
    """Press on empty canvas and drag a rectangle: neurons whose centre is inside and
    connections with both ends inside become the selection (added to it with Shift/Ctrl). A
    click without dragging clears the selection (unless Shift/Ctrl is held)."""

    def __init__(self, view: ModeHost, additive: bool) -> None:
        super().__init__(view)
        self.additive = additive
        self.base = tuple(self.document.selection) if additive else ()
        self.origin = QPointF()
        self.origin_view = QPoint()
        self.rect_item: QGraphicsRectItem | None = None

    def start(self, scene_pos: QPointF, view_pos: QPoint,
              modifiers: Qt.KeyboardModifier) -> None:
        self.origin = QPointF(scene_pos)
        self.origin_view = QPoint(view_pos)

    def _rect(self, scene_pos: QPointF) -> QRectF:
        return QRectF(self.origin, scene_pos).normalized()

    def move(self, scene_pos: QPointF, view_pos: QPoint,
             modifiers: Qt.KeyboardModifier) -> None:
        if self.rect_item is None:
            if (view_pos - self.origin_view).manhattanLength() < QApplication.startDragDistance():
                return
            fill = QColor(style.POSITIVE)
            fill.setAlpha(28)
            pen = QPen(style.POSITIVE, 1.0, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            self.rect_item = QGraphicsRectItem()
            self.rect_item.setPen(pen)
            self.rect_item.setBrush(fill)
            self.rect_item.setZValue(60)
            self.scene.addItem(self.rect_item)
        self.rect_item.setRect(self._rect(scene_pos))

    def end(self, scene_pos: QPointF, view_pos: QPoint,
            modifiers: Qt.KeyboardModifier) -> None:
        if self.rect_item is None:
            if not self.additive:
                self.document.set_selection(())
            return
        ids = self.scene.ids_in_rect(self._rect(scene_pos))
        self._cleanup()
        self.document.set_selection(list(self.base) + ids)

    def cancel(self) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self.rect_item is not None:
            self.scene.removeItem(self.rect_item)
            self.rect_item = None


class PanMode(Mode):
    """Middle-drag, or Space + left-drag: the canvas follows the pointer."""

    def __init__(self, view: ModeHost) -> None:
        super().__init__(view)
        self.last = QPoint()

    def start(self, scene_pos: QPointF, view_pos: QPoint,
              modifiers: Qt.KeyboardModifier) -> None:
        self.last = QPoint(view_pos)
        self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, scene_pos: QPointF, view_pos: QPoint,
             modifiers: Qt.KeyboardModifier) -> None:
        d = view_pos - self.last
        self.last = QPoint(view_pos)
        h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        h.setValue(h.value() - d.x())
        v.setValue(v.value() - d.y())

    def end(self, scene_pos: QPointF, view_pos: QPoint,
            modifiers: Qt.KeyboardModifier) -> None:
        self.cancel()

    def cancel(self) -> None:
        if self.view.space_held:
            self.view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.view.viewport().unsetCursor()

"""The canvas view: pointer and keyboard handling, zoom and pan, drops from the palette,
context menus, inline rename, the background grid and image export.

Gestures are mode objects from :mod:`.interactions` chosen on mouse press; everything that
changes the network goes through the document (one undo step per gesture).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QKeySequence,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QInputDialog, QLineEdit, QMenu, QWidget

from nnstudio.core import activations
from nnstudio.core.network import PASS_THROUGH_ROLES, NetworkError, activation_allowed
from nnstudio.gui import style

from . import interactions as modes
from .image_items import LayerItem
from .items import DOT_LOD, RADIUS, NeuronItem
from .layer_buttons import LayerButton
from .palette import ACTIVATION_MIME, LAYER_INFO, LAYER_MIME, ROLE_MIME
from .scene import CanvasScene, ConnectionRef

if TYPE_CHECKING:  # pragma: no cover  (the document never imports the canvas)
    from nnstudio.gui.document import Document

T = TypeVar("T")

MIN_SCALE = 0.02
MAX_SCALE = 6.0
FIT_MAX_SCALE = 1.6


LEGEND_SIZE = (212, 50)   # the colour key's box, drawn 10 px from the bottom-right corner

#: what the empty canvas says (File ▸ New starts here)
EMPTY_HINT = ("Drag an Input, a Hidden and an Output neuron from the palette to start.\n"
              "Then drag from a neuron's right-hand port to another neuron to connect them.")

class RenameEditor(QLineEdit):
    """Inline label editor placed over a neuron's label (or an image layer's title); Enter
    commits, Esc cancels."""

    def __init__(self, view: CanvasView, nid: str) -> None:
        super().__init__(view.viewport())
        self.view = view
        self.nid = nid
        self._done = False
        net = view.document.network
        layer = net.image_layers.get(nid)
        n = layer if layer is not None else net.neurons[nid]
        self.setText(n.label)
        self.selectAll()
        self.setFrame(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        what = "layer" if layer is not None else "neuron"
        self.setToolTip(f"New label for this {what}: Enter to apply, Esc to cancel")
        self.setStyleSheet(
            f"QLineEdit {{ background: white; border: 1.5px solid {style.POSITIVE_HEX};"
            " border-radius: 4px; padding: 1px 4px; }")
        item = view.scene().item_for_layer.get(nid) if layer is not None else None
        if item is not None:
            card = item.card_rect()
            center = view.mapFromScene(item.mapToScene(QPointF(card.center().x(),
                                                               card.top() + 10)))
        else:
            center = view.mapFromScene(QPointF(n.x, n.y + RADIUS + 14))
        w = 140
        self.setGeometry(QRect(center.x() - w // 2, center.y() - 12, w, 24))
        self.returnPressed.connect(self.commit)
        self.editingFinished.connect(self.commit)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.finish()
            return
        super().keyPressEvent(event)

    def commit(self) -> None:
        if self._done:
            return
        self._done = True
        text = self.text()
        try:
            if self.nid in self.view.document.network:
                self.view.document.set_label(self.nid, text)
        except (NetworkError, ValueError) as e:
            self.view.document.message(str(e), 6000)
        self.finish()

    def finish(self) -> None:
        self._done = True
        self.hide()
        self.deleteLater()
        if self.view.rename_editor is self:
            self.view.rename_editor = None
        self.view.setFocus()


class CanvasView(QGraphicsView):
    """``CanvasView(document)``: the central widget. ``view.scene()`` is its CanvasScene."""

    zoomChanged = Signal(float)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._scene = CanvasScene(document, self)
        self.setScene(self._scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setObjectName("canvasView")
        self.setToolTip("")
        self.mode: modes.Mode | None = None
        self.space_held = False
        self.rename_editor: RenameEditor | None = None
        self.show_legend = True
        self._legend_pixmap = None
        self._fitted_once = False
        # while the user has not zoomed or panned since the last fit, a resize of the view
        # (a dock growing, the window maximised) fits the network again
        self.auto_fit = True
        self._quiet_scroll = 0
        self._refit_pending = False
        document.projectReplaced.connect(self._on_project_replaced)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(self._scrolled)

    # ------------------------------------------------------------------ zoom / fit
    def scale_factor(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float, anchor: QPoint | None = None) -> None:
        """Multiply the zoom by ``factor`` (clamped), keeping ``anchor`` (view coords) fixed."""
        cur = self.scale_factor()
        new = min(MAX_SCALE, max(MIN_SCALE, cur * factor))
        f = new / cur
        if abs(f - 1.0) < 1e-9:
            return
        self.auto_fit = False
        if anchor is None:
            anchor = self.viewport().rect().center()
        old = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        before = self.mapToScene(anchor)
        self.scale(f, f)
        shift = self.mapFromScene(before) - anchor
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + shift.x())
        v.setValue(v.value() + shift.y())
        self.setTransformationAnchor(old)
        self.zoomChanged.emit(self.scale_factor())

    def zoom_in(self) -> None:
        self.set_zoom(1.25)

    def zoom_out(self) -> None:
        self.set_zoom(1 / 1.25)

    def zoom_reset(self) -> None:
        self.set_zoom(1.0 / self.scale_factor())

    def fit(self) -> None:
        """Show the whole network (never magnified beyond a comfortable size)."""
        self._quiet_scroll += 1
        try:
            self._fit()
        finally:
            self._quiet_scroll -= 1
        self.auto_fit = True

    def keep_in_view(self, rect: QRectF) -> None:
        """Fit again when ``rect`` (the overlay's badges) no longer fits the view, while the
        view still follows the network (``auto_fit``: the user has not panned or zoomed)."""
        if not self.auto_fit or rect.isNull() or self.mode is not None:
            return
        seen = self.mapToScene(self.viewport().rect()).boundingRect()
        if not seen.contains(rect):
            self.fit()

    def reveal(self, item_id: str) -> None:
        """Fit the view when the item ``item_id`` (just added) stands outside it."""
        item = self._scene.item_for(item_id)
        if item is None or isinstance(item, ConnectionRef):
            return
        seen = self.mapToScene(self.viewport().rect()).boundingRect()
        if not seen.contains(item.sceneBoundingRect()):
            self.fit()

    def _scrolled(self, _value: int) -> None:
        if not self._quiet_scroll:
            self.auto_fit = False   # the user panned: keep their view on resizes

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._quiet_scroll += 1
        try:
            super().resizeEvent(event)
        finally:
            self._quiet_scroll -= 1
        if self.auto_fit and self._fitted_once and not self._refit_pending:
            self._refit_pending = True
            QTimer.singleShot(0, self, self._refit)

    def _refit(self) -> None:
        self._refit_pending = False
        if self.auto_fit and self.mode is None:
            self.fit()

    def _fit(self) -> None:
        rect = self._scene.content_rect()
        if rect.isNull() or rect.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoomChanged.emit(self.scale_factor())
            return
        rect = rect.adjusted(-30, -30, 30, 30)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        s = self.scale_factor()
        if s > FIT_MAX_SCALE:
            self.scale(FIT_MAX_SCALE / s, FIT_MAX_SCALE / s)
            self.centerOn(rect.center())
        elif s < MIN_SCALE:
            self.scale(MIN_SCALE / s, MIN_SCALE / s)
            self.centerOn(rect.center())
        self._clear_legend(rect)
        self.zoomChanged.emit(self.scale_factor())

    def _clear_legend(self, rect: QRectF) -> None:
        """If the fitted network runs under the colour key (bottom right), fit it into the
        part of the view above the key instead: the key never hides a neuron or its label."""
        if not self.show_legend:
            return
        vp = self.viewport().rect()
        key = QRectF(vp.width() - LEGEND_SIZE[0] - 20, vp.height() - LEGEND_SIZE[1] - 20,
                     LEGEND_SIZE[0] + 20, LEGEND_SIZE[1] + 20)
        if not self.mapFromScene(rect).boundingRect().toRectF().intersects(key):
            return
        s = self.scale_factor()
        room = vp.height() - key.height()
        if room <= 40 or rect.height() <= 0:
            return
        want = min(vp.width() / rect.width(), room / rect.height(), s)
        if want < MIN_SCALE:
            return
        self.scale(want / s, want / s)
        c = rect.center()
        self.centerOn(QPointF(c.x(), c.y() + key.height() / 2 / want))

    def _on_project_replaced(self) -> None:
        self.cancel_mode()
        self.fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted_once:
            self._fitted_once = True
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        dy = event.angleDelta().y() or event.pixelDelta().y()
        if not dy:
            return
        self.set_zoom(1.0015 ** dy, event.position().toPoint())
        event.accept()

    # ------------------------------------------------------------------ modes
    def cancel_mode(self) -> None:
        if self.mode is not None:
            m, self.mode = self.mode, None
            m.cancel()

    def _start(self, mode: modes.Mode, event: QMouseEvent) -> None:
        self.cancel_mode()
        self.mode = mode
        mode.start(self.mapToScene(event.position().toPoint()), event.position().toPoint(),
                   event.modifiers())

    def _tolerance(self) -> float:
        return 5.0 / max(self.scale_factor(), 1e-6)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.rename_editor is not None:
            self.rename_editor.commit()
        pos = event.position().toPoint()
        sp = self.mapToScene(pos)
        button = event.button()
        mods = event.modifiers()
        additive = bool(mods & (Qt.KeyboardModifier.ShiftModifier
                                | Qt.KeyboardModifier.ControlModifier))
        if button == Qt.MouseButton.MiddleButton \
                or (button == Qt.MouseButton.LeftButton and self.space_held):
            self._start(modes.PanMode(self), event)
            event.accept()
            return
        if button == Qt.MouseButton.RightButton:
            self._select_under_for_menu(sp)
            event.accept()
            return
        if button != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.setFocus()
        doc = self.document
        button = self._scene.layer_buttons.hit(sp, self.scale_factor())
        if button is not None:
            self.press_layer_button(button)
            event.accept()
            return
        item = self._scene.neuron_at(sp)
        if item is not None:
            if item.port_contains(sp) and not additive:
                self._start(modes.NewConnectionMode(self, item), event)
                event.accept()
                return
            sel = list(doc.selection)
            click_action = None
            if additive:
                if item.nid in sel:
                    sel.remove(item.nid)
                    doc.set_selection(sel)
                    event.accept()
                    return
                doc.set_selection(sel + [item.nid])
            elif item.nid not in sel:
                doc.set_selection([item.nid])
            elif len(sel) > 1:
                click_action = lambda nid=item.nid: doc.set_selection([nid])  # noqa: E731
            self._start(modes.MoveMode(self, item, click_action), event)
            event.accept()
            return
        layer = self._scene.layer_at(sp)
        if layer is not None:
            if layer.port_contains(sp) and not additive:
                self._start(modes.NewConnectionMode(self, layer), event)
            else:
                self._press_layer(layer, sp, additive, event)
            event.accept()
            return
        cid = self._scene.connection_at(sp, self._tolerance())
        if cid is not None:
            sel = list(doc.selection)
            if additive:
                if cid in sel:
                    sel.remove(cid)
                else:
                    sel.append(cid)
                doc.set_selection(sel)
            else:
                doc.set_selection([cid])
            event.accept()
            return
        self._start(modes.RubberBandMode(self, additive), event)
        event.accept()

    def _press_layer(self, layer: LayerItem, sp: QPointF, additive: bool,
                     event: QMouseEvent) -> None:
        """A press on a layer's card: select it (Shift/Ctrl: add or remove it), pin the cell
        under the pointer, and start a move."""
        doc = self.document
        sel = list(doc.selection)
        if additive:
            if layer.nid in sel:
                sel.remove(layer.nid)
                doc.set_selection(sel)
                return
            doc.set_selection(sel + [layer.nid])
        elif layer.nid not in sel:
            doc.set_selection([layer.nid])
        self._scene.focus_cell(layer.nid, layer.cell_at(sp), pinned=True)
        click_action = None
        if not additive and len(doc.selection) > 1:
            click_action = lambda lid=layer.nid: doc.set_selection([lid])  # noqa: E731
        self._start(modes.MoveMode(self, layer, click_action), event)

    def press_layer_button(self, button: LayerButton) -> None:
        """A layer's + (a neuron connected like its neighbours) or − (its bottom neuron)."""
        doc = self.document
        if button.op == "+":
            nid = self._try(doc.add_neuron_to_layer, button.depth)
            if nid is not None:
                self.reveal(nid)
        else:
            self._try(doc.remove_neuron_from_layer, button.depth)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.mode is not None:
            pos = event.position().toPoint()
            self.mode.move(self.mapToScene(pos), pos, event.modifiers())
            event.accept()
            return
        super().mouseMoveEvent(event)   # hover events for neuron ports
        sp = self.mapToScene(event.position().toPoint())
        self._scene.layer_buttons.set_hovered(
            self._scene.layer_buttons.hit(sp, self.scale_factor()))
        if self._scene.neuron_at(sp) is None:
            layer = self._scene.layer_at(sp)
            self._scene.hover_cell(layer.nid if layer is not None else None,
                                   layer.cell_at(sp) if layer is not None else None)
            self._scene.connections.set_hover(
                None if layer is not None else self._scene.connection_at(sp, self._tolerance()))
        else:
            self._scene.hover_cell(None, None)
            self._scene.connections.set_hover(None)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.mode is not None:
            m, self.mode = self.mode, None
            pos = event.position().toPoint()
            sp = self.mapToScene(pos)
            m.end(sp, pos, event.modifiers())
            self._scene.end_port_hover(sp)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        sp = self.mapToScene(event.position().toPoint())
        item = self._scene.neuron_at(sp) or self._scene.layer_at(sp)
        if item is not None and not item.port_contains(sp):
            self.cancel_mode()
            if self.document.network.flatten_of(item.nid) is None:
                self.start_rename(item.nid)
            event.accept()
            return
        cid = self._scene.connection_at(sp, self._tolerance())
        if cid is not None:
            self.cancel_mode()
            self.ask_weight(cid)
            event.accept()

    def leaveEvent(self, event: QEvent) -> None:
        self._scene.connections.set_hover(None)
        self._scene.hover_cell(None, None)
        super().leaveEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.space_held = False
        super().focusOutEvent(event)

    # ------------------------------------------------------------------ keyboard
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_Escape:
            if self.mode is not None:
                self.cancel_mode()
            else:
                self.document.set_selection(())
            event.accept()
            return
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = True
            if self.mode is None:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.mode is None:
            self.delete_selection()
            event.accept()
            return
        if ctrl and key in (Qt.Key.Key_Equal, Qt.Key.Key_Plus):
            self.zoom_in()
            event.accept()
            return
        if ctrl and key == Qt.Key.Key_Minus:
            self.zoom_out()
            event.accept()
            return
        if ctrl and key == Qt.Key.Key_0:
            self.fit()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = False
            if not isinstance(self.mode, modes.PanMode):
                self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def delete_selection(self) -> None:
        ids = [i for i in self.document.selection if i in self.document.network]
        if not ids:
            return
        self._try(self.document.remove, ids)

    def _try(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return fn(*args, **kwargs)
        except (NetworkError, ValueError) as e:
            self.document.message(str(e), 6000)
            return None

    # ------------------------------------------------------------------ rename / weight dialogs
    def start_rename(self, nid: str) -> RenameEditor | None:
        net = self.document.network
        if nid not in net.neurons and nid not in net.image_layers:
            return None
        if self.rename_editor is not None:
            self.rename_editor.finish()
        self.rename_editor = RenameEditor(self, nid)
        self.rename_editor.show()
        self.rename_editor.setFocus()
        return self.rename_editor

    def ask_weight(self, cid: str) -> None:
        net = self.document.network
        c = net.connections.get(cid)
        if c is None:
            return
        title = f"{net.neurons[c.source].label} → {net.neurons[c.target].label}"
        value, ok = QInputDialog.getDouble(self, "Set Weight", f"Weight of {title}:", c.weight,
                                           -1e6, 1e6, 6)
        if ok:
            self._try(self.document.set_param, cid, value)

    # ------------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(ROLE_MIME) or event.mimeData().hasFormat(LAYER_MIME):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(ROLE_MIME) or event.mimeData().hasFormat(LAYER_MIME):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(LAYER_MIME):
            kind = bytes(mime.data(LAYER_MIME)).decode("utf-8", "replace").strip()
            p = self._scene.snap(self.mapToScene(event.position().toPoint()))
            if self.add_layer_at(kind, p) is not None:
                event.setDropAction(Qt.DropAction.CopyAction)
                event.accept()
            else:
                event.ignore()
            return
        if not mime.hasFormat(ROLE_MIME):
            event.ignore()
            return
        role = bytes(mime.data(ROLE_MIME)).decode("utf-8").strip()
        act = bytes(mime.data(ACTIVATION_MIME)).decode("utf-8").strip() \
            if mime.hasFormat(ACTIVATION_MIME) else ""
        p = self._scene.snap(self.mapToScene(event.position().toPoint()))
        nid = self.add_neuron_at(role, p, act or None)
        if nid is not None:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def add_neuron_at(self, role: str, p: QPointF, activation: str | None = None) -> str | None:
        nid = self._try(self.document.add_neuron, role, p.x(), p.y(), activation)
        if nid is not None:
            self.document.set_selection([nid])
            self.setFocus()
        return nid

    def add_layer_at(self, kind: str, p: QPointF) -> str | None:
        """Add an image layer of ``kind`` centred at ``p`` (then selected). Dropped to the
        right of the one selected layer, when that layer gives maps the new one fits, it takes
        that layer as its source (so a chain is built by dropping layer after layer)."""
        doc = self.document
        net = doc.network
        chosen = [i for i in doc.selection if i in net.image_layers]
        lid = None
        if kind != "image_input" and len(chosen) == 1 \
                and net.image_layers[chosen[0]].kind != "flatten" \
                and net.image_layers[chosen[0]].x < p.x():
            try:
                lid = doc.add_image_layer(kind, p.x(), p.y(), source=chosen[0])
                doc.message(f"Added {lid}, taking its input from "
                            f"{net.image_layers[chosen[0]].label}", 4000)
            except (NetworkError, ValueError):
                lid = None   # (it does not fit there: added on its own below)
        if lid is None:
            lid = self._try(doc.add_image_layer, kind, p.x(), p.y())
        if lid is not None:
            doc.set_selection([lid])
            self.setFocus()
        return lid

    # ------------------------------------------------------------------ context menus
    def _select_under_for_menu(self, sp: QPointF) -> None:
        doc = self.document
        item = self._scene.neuron_at(sp) or self._scene.layer_at(sp)
        if item is not None:
            if item.nid not in doc.selection:
                doc.set_selection([item.nid])
            return
        cid = self._scene.connection_at(sp, self._tolerance())
        if cid is not None and cid not in doc.selection:
            doc.set_selection([cid])

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.build_context_menu(self.mapToScene(event.pos()))
        menu.exec(event.globalPos())
        menu.deleteLater()
        event.accept()

    def build_context_menu(self, sp: QPointF) -> QMenu:
        """The menu for whatever is at scene position ``sp`` (exposed for tests)."""
        item = self._scene.neuron_at(sp)
        if item is not None:
            return self._neuron_menu(item.nid)
        layer = self._scene.layer_at(sp)
        if layer is not None:
            return self._layer_menu(layer.nid)
        cid = self._scene.connection_at(sp, self._tolerance())
        if cid is not None:
            return self._connection_menu(cid)
        return self._canvas_menu(sp)

    def _act(self, menu: QMenu, text: str, fn: Callable[[], object], tip: str = "",
             checkable: bool = False, checked: bool = False, enabled: bool = True) -> QAction:
        a = menu.addAction(text)
        a.setToolTip(tip or text)
        a.setStatusTip(tip or text)
        if checkable:
            a.setCheckable(True)
            a.setChecked(checked)
        a.setEnabled(enabled)
        a.triggered.connect(lambda _=False: fn())
        return a

    def _neuron_menu(self, nid: str) -> QMenu:
        doc, net = self.document, self.document.network
        n = net.neurons[nid]
        targets = [i for i in doc.selection if i in net.neurons] or [nid]
        if nid not in targets:
            targets = [nid]
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.setObjectName("neuronMenu")
        self._act(menu, "Rename…", lambda: self.start_rename(nid), "Edit this neuron's label")
        sub = menu.addMenu("Activation")
        sub.setObjectName("activationMenu")
        sub.setToolTipsVisible(True)
        group = QActionGroup(sub)
        for name, act in activations.ACTIVATIONS.items():
            ok = all(activation_allowed(net.neurons[t].role, name) for t in targets)
            a = self._act(sub, f"{act.title}    {act.formula}",
                          lambda name=name: self._try(doc.set_activation, targets, name),
                          act.note, checkable=True, checked=(n.activation == name), enabled=ok)
            a.setData(name)
            group.addAction(a)
        sub.setEnabled(n.role not in PASS_THROUGH_ROLES)
        roles = menu.addMenu("Role")
        roles.setObjectName("roleMenu")
        for role in ("input", "hidden", "output"):
            self._act(roles, role.capitalize(),
                      lambda role=role: self._try(doc.set_role, nid, role),
                      f"Make {n.label} an {role} neuron" if role != "hidden" else
                      f"Make {n.label} a hidden neuron", checkable=True, checked=(n.role == role))
        biased = [t for t in targets if net.neurons[t].role not in PASS_THROUGH_ROLES]
        locked = bool(biased) and all(not net.neurons[t].bias_trainable for t in biased)
        self._act(menu, "Lock Bias", lambda: self._try(doc.set_trainable, biased, locked),
                  "A locked bias keeps its value during training", checkable=True,
                  checked=locked, enabled=bool(biased))
        menu.addSeparator()
        self._act(menu, "Delete" if len(targets) == 1 else f"Delete {len(targets)} Neurons",
                  lambda: self._try(doc.remove, targets),
                  "Remove the neuron(s) together with their connections")
        return menu

    def _layer_menu(self, lid: str) -> QMenu:
        doc, net = self.document, self.document.network
        layer = net.image_layers[lid]
        targets = [i for i in doc.selection if i in net] or [lid]
        if lid not in targets:
            targets = [lid]
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.setObjectName("layerMenu")
        self._act(menu, "Rename…", lambda: self.start_rename(lid), "Edit this layer's label")
        if layer.source is not None:
            src = net.image_layers[layer.source]
            self._act(menu, f"Disconnect from {src.label}",
                      lambda: self._try(doc.set_layer_source, lid, None),
                      f"Stop taking input from {src.title}")
        menu.addSeparator()
        self._act(menu, "Delete" if len(targets) == 1 else f"Delete {len(targets)} Items",
                  lambda: self._try(doc.remove, targets),
                  "Remove the layer (a flatten with its feature neurons and their "
                  "connections); the layers it fed lose their input")
        return menu

    def _connection_menu(self, cid: str) -> QMenu:
        doc, net = self.document, self.document.network
        c = net.connections[cid]
        targets = [i for i in doc.selection if i in net.connections] or [cid]
        if cid not in targets:
            targets = [cid]
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.setObjectName("connectionMenu")
        self._act(menu, "Set Weight…", lambda: self.ask_weight(cid),
                  f"Type an exact weight (now {c.weight:.6g})")
        locked = all(not net.connections[t].trainable for t in targets)
        self._act(menu, "Lock Weight", lambda: self._try(doc.set_trainable, targets, locked),
                  "A locked weight keeps its value during training", checkable=True, checked=locked)
        menu.addSeparator()
        self._act(menu, "Delete" if len(targets) == 1 else f"Delete {len(targets)} Connections",
                  lambda: self._try(doc.remove, targets), "Remove the connection(s)")
        return menu

    def _canvas_menu(self, sp: QPointF) -> QMenu:
        doc = self.document
        p = self._scene.snap(sp)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        menu.setObjectName("canvasMenu")
        for role in ("input", "hidden", "output"):
            self._act(menu, f"Add {role.capitalize()} Neuron Here",
                      lambda role=role: self.add_neuron_at(role, p),
                      f"Add a new {role} neuron at this spot")
        layers = menu.addMenu("Add Image Layer Here")
        layers.setObjectName("addLayerMenu")
        layers.setToolTipsVisible(True)
        for kind, (title, _hint, text) in LAYER_INFO.items():
            self._act(layers, title, lambda kind=kind: self.add_layer_at(kind, p), text)
        menu.addSeparator()
        paste = self._find_window_action("paste")
        a = self._act(menu, "Paste", lambda: paste.trigger() if paste else None,
                      "Paste the copied neurons", enabled=bool(paste and paste.isEnabled()))
        a.setShortcut(QKeySequence(QKeySequence.StandardKey.Paste))
        menu.addSeparator()
        self._act(menu, "Auto-Layout", lambda: self._try(doc.auto_layout),
                  "Arrange neurons in columns by depth (one undo step)")
        self._act(menu, "Fit to View", self.fit, "Zoom so the whole network is visible")
        snap = self._act(menu, "Snap to Grid", self._toggle_snap,
                         "Drop and move neurons onto the grid", checkable=True,
                         checked=self._scene.snap_to_grid)
        snap.setObjectName("snapAction")
        return menu

    def _toggle_snap(self) -> None:
        self._scene.snap_to_grid = not self._scene.snap_to_grid

    def _find_window_action(self, word: str) -> QAction | None:
        win = self.window()
        if win is None or win is self:
            return None
        for a in win.findChildren(QAction):
            name = (a.objectName() or "").lower()
            text = a.text().replace("&", "").strip().lower()
            if word in name or text == word:
                return a
        return None

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        t = self.transform()
        lod = (abs(t.m11() * t.m22() - t.m12() * t.m21())) ** 0.5
        self._scene.set_dot_mode(lod < DOT_LOD)
        super().paintEvent(event)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, style.BACKGROUND)
        if not self._scene.show_grid:
            return
        s = self.scale_factor()
        g = self._scene.GRID
        while g * s < 9:
            g *= 5
        major = g * 5
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for step, color in ((g, style.GRID_MINOR), (major, style.GRID_MAJOR)):
            pen = QPen(color, 0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            x0 = int(rect.left() // step) * step
            y0 = int(rect.top() // step) * step
            lines = []
            x = x0
            while x <= rect.right():
                lines.append(QLineF(x, rect.top(), x, rect.bottom()))
                x += step
            y = y0
            while y <= rect.bottom():
                lines.append(QLineF(rect.left(), y, rect.right(), y))
                y += step
            if len(lines) < 4000:
                painter.drawLines(lines)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        vp = self.viewport().rect()
        layer = self._scene.connections
        if not self.document.network.neurons and not self.document.network.image_layers:
            painter.setFont(style.ui_font(11))
            painter.setPen(style.MUTED_TEXT)
            # (word-wrapped inside a margin: the canvas is narrow in a 1024-pixel window)
            painter.drawText(vp.adjusted(24, 0, -24, 0),
                             int(style.ALIGN_CENTER) | int(Qt.TextFlag.TextWordWrap),
                             EMPTY_HINT)
        elif layer.shown_fraction < 0.999 and layer.visible_count:
            shown = round(layer.shown_fraction * layer.visible_count)
            text = (f"Zoomed out: drawing the {shown:,} strongest of {layer.visible_count:,} "
                    "visible connections. Zoom in to see every one.")
            self._note(painter, vp, text)
        if self.show_legend and (self.document.network.neurons
                                 or self.document.network.image_layers):
            self._legend(painter, vp)
        painter.restore()

    def _note(self, painter: QPainter, vp: QRect, text: str) -> None:
        painter.setFont(style.ui_font(8.5))
        fm = painter.fontMetrics()
        w = fm.horizontalAdvance(text) + 16
        r = QRectF(10, vp.height() - 30, w, 22)
        bg = QColor(style.PANEL)
        bg.setAlpha(230)
        painter.setPen(QPen(style.GRID_MAJOR, 1))
        painter.setBrush(bg)
        painter.drawRoundedRect(r, 5, 5)
        painter.setPen(style.MUTED_TEXT)
        painter.drawText(r, style.ALIGN_CENTER, text)

    def _legend(self, painter: QPainter, vp: QRect) -> None:
        """The key to the colours, bottom right (a cached pixmap: drawn once, blitted after)."""
        w, h = LEGEND_SIZE
        dpr = painter.device().devicePixelRatioF()
        if self._legend_pixmap is None or self._legend_pixmap.devicePixelRatio() != dpr:
            pm = QPixmap(int(w * dpr), int(h * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            self._paint_legend(p, QRectF(0.5, 0.5, w - 1, h - 1))
            p.end()
            self._legend_pixmap = pm
        painter.drawPixmap(QPointF(vp.width() - w - 10, vp.height() - h - 10), self._legend_pixmap)

    def _paint_legend(self, painter: QPainter, r: QRectF) -> None:
        w = r.width()
        bg = QColor(style.PANEL)
        bg.setAlpha(235)
        painter.setPen(QPen(style.GRID_MAJOR, 1))
        painter.setBrush(bg)
        painter.drawRoundedRect(r, 6, 6)
        painter.setFont(style.ui_font(7.5))
        x, y = r.left() + 10, r.top() + 15
        for color, text in ((style.POSITIVE, "w > 0"), (style.NEGATIVE, "w < 0")):
            painter.setPen(QPen(color, 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawLine(QPointF(x, y), QPointF(x + 18, y))
            painter.setPen(style.TEXT)
            painter.drawText(QPointF(x + 23, y + 4), text)
            x += 62
        painter.setPen(style.MUTED_TEXT)
        painter.drawText(QPointF(x, y + 4), "width ∝ |w|")
        bar = QRectF(r.left() + 10, r.top() + 27, w - 20, 8)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        lut = style.DIVERGING_LUT
        for k in range(0, len(lut), 32):
            t = k / (len(lut) - 1)
            grad.setColorAt(t, QColor(*[int(v) for v in lut[k]]))
        grad.setColorAt(1.0, QColor(*[int(v) for v in lut[-1]]))
        painter.setPen(QPen(style.GRID_MAJOR, 1))
        painter.setBrush(grad)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setPen(style.MUTED_TEXT)
        painter.drawText(QRectF(bar.left(), bar.bottom() + 1, bar.width(), 12),
                         style.ALIGN_LEFT, "a < 0")
        painter.drawText(QRectF(bar.left(), bar.bottom() + 1, bar.width(), 12),
                         style.ALIGN_HCENTER, "activation a (sample)")
        painter.drawText(QRectF(bar.left(), bar.bottom() + 1, bar.width(), 12),
                         style.ALIGN_RIGHT, "a > 0")

    # ------------------------------------------------------------------ export
    def export_image(self, path: str | Path, scale: float = 2.0) -> Path:
        """Write the whole network as PNG (rendered at ``scale``x) or SVG, chosen by suffix.
        Raises ValueError for another suffix or a file that cannot be written."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            what = path.suffix or "a file without a suffix"
            raise ValueError(f"cannot export the canvas as {what}: use .png or .svg")
        scene = self._scene
        src = scene.content_rect()
        if src.isNull() or src.isEmpty():
            src = QRectF(-100, -60, 200, 120)
        src = src.adjusted(-24, -24, 24, 24)
        w, h = max(1, int(round(src.width()))), max(1, int(round(src.height())))
        scene.exporting = True
        dot_mode = scene.dot_mode
        scene.set_dot_mode(False)   # every neuron paints itself in full in an export
        hover = scene.connections.hover
        scene.connections.hover = None
        try:
            if suffix == ".svg":
                from PySide6.QtSvg import QSvgGenerator
                gen = QSvgGenerator()
                gen.setFileName(str(path))
                gen.setSize(QSize(w, h))
                gen.setViewBox(QRect(0, 0, w, h))
                gen.setTitle(self.document.name if hasattr(self.document, "name") else "NN Studio")
                gen.setDescription("Network exported from NN Studio")
                painter = QPainter()
                if not painter.begin(gen):
                    raise ValueError(f"cannot write {path}")
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                painter.fillRect(QRectF(0, 0, w, h), style.BACKGROUND)
                scene.render(painter, QRectF(0, 0, w, h), src)
                painter.end()
                if not path.exists():
                    raise ValueError(f"cannot write {path}")
            else:
                img = QImage(int(w * scale), int(h * scale),
                             QImage.Format.Format_ARGB32_Premultiplied)
                img.fill(style.BACKGROUND)
                painter = QPainter(img)
                painter.setRenderHints(QPainter.RenderHint.Antialiasing
                                       | QPainter.RenderHint.TextAntialiasing
                                       | QPainter.RenderHint.SmoothPixmapTransform)
                scene.render(painter, QRectF(0, 0, img.width(), img.height()), src)
                painter.end()
                if not img.save(str(path), "PNG"):
                    raise ValueError(f"cannot write {path}")
        finally:
            scene.exporting = False
            scene.set_dot_mode(dot_mode)
            scene.connections.hover = hover
        return path


__all__ = ["CanvasView", "NeuronItem"]

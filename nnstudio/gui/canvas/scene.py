"""The canvas scene: it watches the document and never edits the model itself.

Model first (as in orange-canvas-core): the scene subscribes to the document's
``networkChanged`` / ``projectReplaced`` / ``evaluationChanged`` / ``selectionChanged`` signals
and keeps ``item_for_node`` / ``node_for_item`` maps. User actions (the view's mouse modes,
context menus, drops) call Document methods, which push undo commands; the model's change
notices then come back here and the items follow.

Bulk edits arrive as many notices; structural ones are coalesced into one :meth:`flush` on the
next event-loop turn (or immediately when someone asks for an item), so adding a dense layer of
thousands of connections rebuilds the arrays once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLineF, QObject, QPointF, QRectF, QSignalBlocker, QTimer
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneHelpEvent, QToolTip

from nnstudio.core import activations
from nnstudio.core.network import NEURON_LOOKS, STRUCTURAL, Connection, NetworkEvent
from nnstudio.gui import style

from . import items as items_mod
from .connections import ConnectionLayer
from .items import DOT_SHADES, NeuronDots, NeuronItem
from .overlay import Overlay, OverlayItem

if TYPE_CHECKING:  # pragma: no cover  (the document never imports the canvas)
    from nnstudio.gui.document import Document

SCENE_MARGIN = 4000.0


class ConnectionRef:
    """What ``scene.item_for(connection_id)`` returns: connections are drawn by one shared
    item, so this is a light handle with the usual questions (line, selection, ends)."""

    def __init__(self, scene: CanvasScene, cid: str) -> None:
        self._scene = scene
        self.id = cid

    @property
    def connection(self) -> Connection:
        return self._scene.document.network.connections[self.id]

    @property
    def source(self) -> str:
        return self.connection.source

    @property
    def target(self) -> str:
        return self.connection.target

    def line(self) -> QLineF:
        return self._scene.connection_line(self.id) or QLineF()

    def midpoint(self) -> QPointF:
        return self.line().center()

    def isSelected(self) -> bool:
        layer = self._scene.connections
        i = layer.index.get(self.id)
        return bool(i is not None and layer.selected[i])

    def boundingRect(self) -> QRectF:
        ln = self.line()
        return QRectF(ln.p1(), ln.p2()).normalized()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnectionRef) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("conn", self.id))

    def __repr__(self) -> str:
        return f"ConnectionRef({self.id!r})"


class CanvasScene(QGraphicsScene):
    NEURON_RADIUS = items_mod.RADIUS
    GRID = 20.0

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.item_for_node: dict[str, NeuronItem] = {}
        self.node_for_item: dict[NeuronItem, str] = {}
        self._nids: list[str] = []
        self._nindex: dict[str, int] = {}
        self._pos = np.zeros((0, 2))
        self._radii = np.zeros(0)
        self._show_values = False
        self._show_grid = True
        self.snap_to_grid = False
        self.exporting = False
        self.overlay: Overlay | None = None
        self._pending_structure = False
        self._pending_geometry = False
        self._flush_scheduled = False
        self._values_scheduled = False
        self._value_index_key = None
        self._value_index = np.zeros(0, np.intp)
        self.connections = ConnectionLayer(self)
        self.addItem(self.connections)
        self._fill_shade = np.zeros(0, np.intp)
        self._values = np.zeros(0)
        self._lut_index = np.zeros(0, np.intp)
        self._structure_version = 0
        self._dot_mode = False
        self.dots = NeuronDots(self)
        self.addItem(self.dots)
        self.overlay_item = OverlayItem(self)
        self.addItem(self.overlay_item)
        self.setSceneRect(QRectF(-SCENE_MARGIN, -SCENE_MARGIN, 2 * SCENE_MARGIN, 2 * SCENE_MARGIN))
        document.networkChanged.connect(self._on_network)
        document.projectReplaced.connect(self.rebuild)
        document.evaluationChanged.connect(self.refresh_values)
        document.selectionChanged.connect(self._apply_selection)
        self.selectionChanged.connect(self._push_selection)
        self.rebuild()

    # ------------------------------------------------------------------ toggles
    @property
    def show_values(self) -> bool:
        return self._show_values

    @show_values.setter
    def show_values(self, on: bool) -> None:
        self._show_values = bool(on)
        self.connections.show_values = self._show_values
        self.update()

    @property
    def show_grid(self) -> bool:
        return self._show_grid

    @show_grid.setter
    def show_grid(self, on: bool) -> None:
        """Showing the grid also snaps drops and moves to it (the canvas menu's "Snap to
        Grid" toggles snapping on its own)."""
        self._show_grid = bool(on)
        self.snap_to_grid = self._show_grid
        for v in self.views():
            v.resetCachedContent()
            v.viewport().update()

    @property
    def dot_mode(self) -> bool:
        """Whether the neurons are drawn as dots (zoomed far out); see :meth:`set_dot_mode`."""
        return self._dot_mode

    def set_dot_mode(self, on: bool) -> None:
        """Far zoomed out, NeuronDots draws every neuron; the neuron items then declare no
        contents so Qt does not even call their paint(). Called by the view before painting."""
        on = bool(on)
        if on == self._dot_mode:
            return
        self._dot_mode = on
        for item in self.item_for_node.values():
            item.setFlag(NeuronItem.GraphicsItemFlag.ItemHasNoContents, on)

    def snap(self, p: QPointF) -> QPointF:
        if not self.snap_to_grid:
            return QPointF(p)
        g = self.GRID
        return QPointF(round(p.x() / g) * g, round(p.y() / g) * g)

    # ------------------------------------------------------------------ what the items read
    @property
    def positions(self) -> np.ndarray:
        """(n, 2) neuron centres, in the network's order (with a drag's preview applied)."""
        return self._pos

    @property
    def neuron_values(self) -> np.ndarray:
        """The activation shown per neuron (chosen sample); NaN where there is none."""
        return self._values

    @property
    def colour_indices(self) -> np.ndarray:
        """Per neuron, its fill's index into ``style.DIVERGING_QCOLORS``; -1 for neutral."""
        return self._lut_index

    @property
    def dot_shades(self) -> np.ndarray:
        """Per neuron, its shade bucket when drawn as a dot; -1 for none."""
        return self._fill_shade

    @property
    def neuron_index(self) -> dict[str, int]:
        """Neuron id -> its index into the per-neuron arrays."""
        return self._nindex

    # ------------------------------------------------------------------ model -> scene
    def rebuild(self) -> None:
        """Drop every neuron item and build them again from the document's network."""
        for item in list(self.item_for_node.values()):
            self.removeItem(item)
        self.item_for_node.clear()
        self.node_for_item.clear()
        self._pending_structure = True
        self._pending_geometry = True
        self.flush()   # (and recolours on the next event-loop turn)
        self._apply_selection(self.document.selection)

    def _on_network(self, event: NetworkEvent, ids: tuple[str, ...]) -> None:
        if event in STRUCTURAL:
            self._pending_structure = True
            self._schedule()
        elif event in NEURON_LOOKS:
            net = self.document.network
            targets = ids if ids else tuple(self.item_for_node)
            for nid in targets:
                item = self.item_for_node.get(nid)
                n = net.neurons.get(nid)
                if item is not None and n is not None:
                    item.sync(n)
            self._pending_geometry = True
            self._schedule()
        elif event is NetworkEvent.PARAMS_CHANGED:
            self.connections.update()   # buckets rebuild lazily from net.param_version

    def _schedule(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            QTimer.singleShot(0, self, self.flush)

    def flush(self) -> None:
        """Bring items and arrays up to date with the model now (idempotent)."""
        self._flush_scheduled = False
        structure, geometry = self._pending_structure, self._pending_geometry
        self._pending_structure = self._pending_geometry = False
        if not (structure or geometry):
            return
        net = self.document.network
        if structure:
            for nid in [n for n in self.item_for_node if n not in net.neurons]:
                item = self.item_for_node.pop(nid)
                self.node_for_item.pop(item, None)
                self.removeItem(item)
            for nid, n in net.neurons.items():
                item = self.item_for_node.get(nid)
                if item is None:
                    item = NeuronItem(self, nid)
                    if self._dot_mode:
                        item.setFlag(NeuronItem.GraphicsItemFlag.ItemHasNoContents, True)
                    self.item_for_node[nid] = item
                    self.node_for_item[item] = nid
                    self.addItem(item)
                item.sync(n)
            old_index = self._nindex
            self._nids = list(net.neurons)
            self._nindex = {nid: i for i, nid in enumerate(self._nids)}
            for i, nid in enumerate(self._nids):
                self.item_for_node[nid].index = i
            self._radii = np.full(len(self._nids), self.NEURON_RADIUS)
            self._structure_version += 1
            # neurons that stay keep their colours until the next refresh_values (no flicker)
            take = np.array([old_index.get(nid, -1) for nid in self._nids], np.intp)
            keep = (take >= 0) & (take < len(self._values))
            src = np.where(keep, take, 0)
            self._values = np.where(
                keep, self._values[src] if len(self._values) else np.nan, np.nan)
            self._lut_index = np.where(
                keep, self._lut_index[src] if len(self._lut_index) else -1, -1)
            self._fill_shade = np.where(
                keep, self._fill_shade[src] if len(self._fill_shade) else -1, -1)
        self._pos = np.array([(n.x, n.y) for n in net.neurons.values()],
                             dtype=np.float64).reshape(-1, 2)
        if structure:
            conns = list(net.connections.values())
            ix = self._nindex
            self.connections.set_structure(
                [c.id for c in conns],
                np.fromiter((ix[c.source] for c in conns), np.intp, len(conns)),
                np.fromiter((ix[c.target] for c in conns), np.intp, len(conns)),
                np.fromiter((c.slot for c in conns), np.intp, len(conns)),
                self._pos, self._radii)
            self._apply_selection(self.document.selection)
        else:
            self.connections.set_positions(self._pos, self._radii)
        self.dots.set_positions(self._pos)
        self._grow_scene_rect()
        self.overlay_item.rebuild()
        if structure:
            # new items get their colours on the next turn of the event loop: a big network
            # paints its structure first, then its values (the evaluation may take a while)
            self._values_soon()

    def _values_soon(self) -> None:
        if not self._values_scheduled:
            self._values_scheduled = True
            QTimer.singleShot(0, self, self.refresh_values)

    def _grow_scene_rect(self) -> None:
        if not len(self._pos):
            return
        lo, hi = self._pos.min(axis=0), self._pos.max(axis=0)
        want = QRectF(QPointF(lo[0], lo[1]), QPointF(hi[0], hi[1])).adjusted(
            -SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)
        if not self.sceneRect().contains(want):
            self.setSceneRect(self.sceneRect().united(want))

    def refresh_values(self) -> None:
        """Recolour every neuron from the document's evaluation for the chosen sample: three
        vectorised array updates (values, colour-map indices, dot shades) that the items read
        when they paint; no per-neuron Python work."""
        self._values_scheduled = False
        if self._pending_structure:
            self.flush()
        doc = self.document
        n = len(self._nids)
        ev = doc.evaluation()
        if ev is None or not n:
            self._values = np.full(n, np.nan)
            self._lut_index = np.full(n, -1, np.intp)
            self._fill_shade = np.full(n, -1, np.intp)
            self.update()
            return
        eng = doc.engine()
        key = (id(eng), eng.structure_version, self._structure_version)
        if key != self._value_index_key:
            self._value_index = np.array([eng.index.get(nid, -1) for nid in self._nids], np.intp)
            self._value_index_key = key
        s = min(max(doc.sample_index, 0), ev.a.shape[0] - 1)
        idx = self._value_index
        known = idx >= 0
        vals = np.where(known, ev.a[s][np.maximum(idx, 0)], np.nan)
        t = style.squash(vals)
        self._values = vals
        self._lut_index = np.where(known, style.diverging_index(vals), -1)
        shade = np.rint((t + 1) / 2 * (DOT_SHADES - 1)).astype(np.intp)
        self._fill_shade = np.where(known, shade, -1)
        self.update()

    # ------------------------------------------------------------------ live move preview
    def preview_move(self, offsets: dict[str, QPointF]) -> None:
        """Show neurons at model position + offset without touching the model (during a drag)."""
        net = self.document.network
        for nid, off in offsets.items():
            n = net.neurons.get(nid)
            item = self.item_for_node.get(nid)
            if n is None or item is None:
                continue
            p = QPointF(n.x, n.y) + off
            item.setPos(p)
            i = self._nindex.get(nid)
            if i is not None:
                self._pos[i] = (p.x(), p.y())
        self.connections.set_positions(self._pos, self._radii)
        self.dots.set_positions(self._pos)
        if self.overlay is not None:
            self.overlay_item.rebuild()

    # ------------------------------------------------------------------ selection mirror
    def _apply_selection(self, ids: Iterable[str] | None) -> None:
        """Document -> scene. The scene's signals are blocked while the items follow, so the
        selection does not echo back to the document (napari's rule for programmatic sets)."""
        if self._pending_structure:
            self.flush()
        wanted = set(ids or ())
        with QSignalBlocker(self):
            for nid, item in self.item_for_node.items():
                on = nid in wanted
                if item.isSelected() != on:
                    item.setSelected(on)
        self.connections.set_selected([i for i in wanted if i in self.connections.index])

    def _push_selection(self) -> None:
        """Scene -> document, for selection changes made on the items directly."""
        ids = [self.node_for_item[i] for i in self.selectedItems() if i in self.node_for_item]
        self.document.set_selection(ids + self.connections.selected_ids())

    def selected_ids(self) -> list[str]:
        return [i for i in self.document.selection if i in self.document.network]

    # ------------------------------------------------------------------ lookups
    def item_for(self, item_id: str) -> NeuronItem | ConnectionRef | None:
        """The NeuronItem for a neuron id, a :class:`ConnectionRef` for a connection id, or None."""
        if self._pending_structure:
            self.flush()
        item = self.item_for_node.get(item_id)
        if item is not None:
            return item
        if item_id in self.connections.index:
            return ConnectionRef(self, item_id)
        return None

    def neuron_item(self, nid: str) -> NeuronItem | None:
        if self._pending_structure:
            self.flush()
        return self.item_for_node.get(nid)

    def connection_line(self, cid: str) -> QLineF | None:
        if self._pending_structure:
            self.flush()
        return self.connections.line(cid)

    def neuron_at(self, pos: QPointF) -> NeuronItem | None:
        """The neuron whose body or output port is under ``pos`` (vectorised over centres;
        the nearest wins where two overlap)."""
        if self._pending_structure or self._pending_geometry:
            self.flush()
        if not len(self._pos):
            return None
        d = self._pos - (pos.x(), pos.y())
        r = self.NEURON_RADIUS
        body = np.maximum(np.abs(d[:, 0]), np.abs(d[:, 1])) <= r + 1  # square bound first
        port = np.hypot(d[:, 0] + (r + 1.0), d[:, 1]) <= items_mod.PORT_RADIUS + 4.0
        cand = np.flatnonzero(body | port)
        if not cand.size:
            return None
        for i in cand[np.argsort(np.hypot(d[cand, 0], d[cand, 1]))].tolist():
            item = self.item_for_node.get(self._nids[i])
            if item is not None and (item.body_path(1.0).contains(item.mapFromScene(pos))
                                     or item.port_contains(pos)):
                return item
        return None

    def connection_at(self, pos: QPointF, tolerance: float = 4.0) -> str | None:
        if self._pending_structure:
            self.flush()
        return self.connections.hit_test(pos, tolerance)

    def ids_in_rect(self, rect: QRectF) -> list[str]:
        """Neurons whose centre lies in ``rect`` and connections with both ends in it."""
        if self._pending_structure:
            self.flush()
        rect = rect.normalized()
        out = []
        if len(self._pos):
            P = self._pos
            inside = ((P[:, 0] >= rect.left()) & (P[:, 0] <= rect.right())
                      & (P[:, 1] >= rect.top()) & (P[:, 1] <= rect.bottom()))
            out = [self._nids[i] for i in np.flatnonzero(inside)]
        return out + self.connections.ids_in_rect(rect)

    def content_rect(self) -> QRectF:
        """The bounding rectangle of everything drawn (neurons, labels, connections, overlay)."""
        if self._pending_structure or self._pending_geometry:
            self.flush()
        rect = QRectF()
        for item in self.item_for_node.values():
            rect = rect.united(item.sceneBoundingRect())
        if self.connections.ids:
            rect = rect.united(self.connections.sceneBoundingRect())
        if self.overlay is not None:
            rect = rect.united(self.overlay_item.sceneBoundingRect())
        return rect

    # ------------------------------------------------------------------ overlay
    def set_overlay(self, overlay: Overlay | None) -> None:
        if self._pending_structure or self._pending_geometry:
            self.flush()
        self.overlay = overlay
        self.overlay_item.set_overlay(overlay)

    # ------------------------------------------------------------------ tooltips
    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:
        pos = event.scenePos()
        text = None
        item = self.neuron_at(pos)
        if item is not None:
            text = self.neuron_tooltip(item.nid)
        else:
            scale = 1.0
            w = event.widget()
            view = w.parent() if w is not None else None
            if view is not None and hasattr(view, "transform"):
                scale = max(view.transform().m11(), 1e-6)
            cid = self.connection_at(pos, 5.0 / scale)
            if cid is not None:
                text = self.connection_tooltip(cid)
        if text:
            QToolTip.showText(event.screenPos(), text, event.widget())
            event.accept()
        else:
            QToolTip.hideText()
            event.ignore()

    def neuron_tooltip(self, nid: str) -> str:
        doc = self.document
        net = doc.network
        n = net.neurons.get(nid)
        if n is None:
            return ""
        act = activations.ACTIVATIONS[n.activation]
        rows = [f"<b>{_esc(n.label)}</b> <span style='color:{style.MUTED_TEXT_HEX}'>"
                f"({_esc(n.id)}, {n.role})</span>"]
        formula = act.formula.replace("slope", f"{n.slope:g}") if act.has_slope else act.formula
        rows.append(f"{_esc(act.title)}: <tt>{_esc(formula)}</tt>")
        if n.role != "input":
            lock = " (locked)" if not n.bias_trainable else ""
            rows.append(f"bias b = <tt>{n.bias:.6g}</tt>{lock}")
        vals = doc.neuron_values(nid)
        if vals is not None:
            z, a, dz = vals
            rows.append(f"sample {doc.sample_index}: z = <tt>{z:.6g}</tt>, a = <tt>{a:.6g}</tt>, "
                        f"dL/dz = <tt>{dz:.6g}</tt>")
        else:
            err = doc.evaluation_error()
            if err:
                rows.append(f"<i>no values: {_esc(err)}</i>")
        ins, outs = len(net.incoming(nid)), len(net.outgoing(nid))
        rows.append(f"<span style='color:{style.MUTED_TEXT_HEX}'>{ins} in, {outs} out</span>")
        return "<br>".join(rows)

    def connection_tooltip(self, cid: str) -> str:
        doc = self.document
        net = doc.network
        c = net.connections.get(cid)
        if c is None:
            return ""
        src, tgt = net.neurons[c.source], net.neurons[c.target]
        rows = [f"<b>{_esc(src.label)} → {_esc(tgt.label)}</b> "
                f"<span style='color:{style.MUTED_TEXT_HEX}'>({_esc(cid)})</span>",
                f"weight w = <tt>{c.weight:.6g}</tt>" + ("" if c.trainable else " (locked)")]
        g = doc.param_gradient(cid) if hasattr(doc, "param_gradient") else None
        if g is not None:
            rows.append(f"dL/dw = <tt>{g:.6g}</tt> (whole dataset)")
        return "<br>".join(rows)


def _esc(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["CanvasScene", "ConnectionRef", "Overlay"]

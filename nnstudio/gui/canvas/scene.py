"""The canvas scene: it watches the document and never edits the model itself.

Model first (as in orange-canvas-core): the scene subscribes to the document's
``networkChanged`` / ``projectReplaced`` / ``evaluationChanged`` / ``selectionChanged`` signals
and keeps ``item_for_node`` / ``node_for_item`` maps. User actions (the view's mouse modes,
context menus, drops) call Document methods, which push undo commands; the model's change
notices then come back here and the items follow.

Bulk edits arrive as many notices; structural ones are coalesced into one :meth:`flush` on the
next event-loop turn (or immediately when someone asks for an item), so adding a dense layer of
thousands of connections rebuilds the arrays once.

Image layers have one :class:`~.image_items.LayerItem` each (``item_for_layer``) and their
links one :class:`~.image_items.LayerLinks`; a flatten's feature neurons are neuron items. The
layers' grids follow the chosen sample and the evaluation like the neuron fills
(:meth:`refresh_values`), and their filter grids follow every parameter change. A focused
map cell (hovered, or clicked and pinned) outlines the cells it reads, and the caption under
its card (:class:`~.cell_caption.CellCaption`) writes out what it holds with those numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLineF, QObject, QPointF, QRectF, QSignalBlocker, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneHelpEvent, QToolTip

from nnstudio.core import activations
from nnstudio.core.conv import Conv2D, DotProduct, Pool2D
from nnstudio.core.network import (
    LAYER_LOOKS,
    NEURON_LOOKS,
    PASS_THROUGH_ROLES,
    STRUCTURAL,
    Connection,
    Convolution,
    ImageInput,
    NetworkEvent,
)
from nnstudio.core.network.image_layers import KIND_TITLES
from nnstudio.gui import style

from . import items as items_mod
from .cell_caption import CellCaption
from .connections import ConnectionLayer
from .image_items import LayerItem, LayerLinks, image_columns
from .items import DOT_SHADES, NeuronDots, NeuronItem
from .layer_buttons import LayerButtons
from .overlay import Overlay, OverlayItem
from .pictures import NeuronPictures

if TYPE_CHECKING:  # pragma: no cover  (the document never imports the canvas)
    from nnstudio.core.engine.compiled import Evaluation, MapValues
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

    #: a cell of an image layer clicked: (layer id, (grid key, row, col)); the backprop
    #: player opens the position it names
    cellClicked = Signal(str, object)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.item_for_node: dict[str, NeuronItem] = {}
        self.node_for_item: dict[NeuronItem, str] = {}
        self.item_for_layer: dict[str, LayerItem] = {}
        self._filters_version = -1
        self._focus: tuple[str, tuple[tuple, int, int]] | None = None   # (layer, cell)
        self._focus_pinned = False
        self._eval_maps: dict[str, MapValues] = {}   # the last evaluation's image layers
        self._eval_sample = 0
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
        self.layer_links = LayerLinks(self)
        self.addItem(self.layer_links)
        self.cell_caption = CellCaption()
        self.addItem(self.cell_caption)
        self.layer_buttons = LayerButtons(self)
        self.addItem(self.layer_buttons)
        self.pictures = NeuronPictures(document, self)
        self.pictures.changed.connect(self.update)
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

    def picture(self, nid: str) -> tuple[QPixmap, QRectF] | None:
        """Neuron ``nid``'s boundary picture (two-input data) as (pixmap, source square), or
        None."""
        return self.pictures.picture(nid)

    # ------------------------------------------------------------------ model -> scene
    def rebuild(self) -> None:
        """Drop every neuron item and build them again from the document's network."""
        for item in [*self.item_for_node.values(), *self.item_for_layer.values()]:
            self.removeItem(item)
        self.item_for_node.clear()
        self.node_for_item.clear()
        self.item_for_layer.clear()
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
        elif event in LAYER_LOOKS:
            self._pending_geometry = True
            self._schedule()
        elif event is NetworkEvent.PARAMS_CHANGED:
            self.connections.update()   # buckets rebuild lazily from net.param_version
            self._refresh_filters()

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
            sizes = self._feature_sizes()
            for nid, n in net.neurons.items():
                item = self.item_for_node.get(nid)
                if item is None:
                    item = NeuronItem(self, nid)
                    if self._dot_mode:
                        item.setFlag(NeuronItem.GraphicsItemFlag.ItemHasNoContents, True)
                    self.item_for_node[nid] = item
                    self.node_for_item[item] = nid
                    self.addItem(item)
                if nid in sizes:
                    item.feature_size = sizes[nid]
                item.sync(n)
            old_index = self._nindex
            self._nids = list(net.neurons)
            self._nindex = {nid: i for i, nid in enumerate(self._nids)}
            for i, nid in enumerate(self._nids):
                self.item_for_node[nid].index = i
            self._radii = np.array([self.item_for_node[nid].radius for nid in self._nids],
                                   dtype=np.float64)
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
        self._sync_layers(structure)
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
        self.layer_buttons.rebuild()
        if structure:
            # new items get their colours on the next turn of the event loop: a big network
            # paints its structure first, then its values (the evaluation may take a while)
            self._values_soon()

    def _feature_sizes(self) -> dict[str, float]:
        """Each feature neuron's half side: as large as its flatten's column allows."""
        net = self.document.network
        out: dict[str, float] = {}
        for lid, layer in net.image_layers.items():
            if layer.kind != "flatten":
                continue
            ids = net.feature_neurons(lid)
            spacing = abs(net.neurons[ids[1]].y - net.neurons[ids[0]].y) if len(ids) > 1 \
                else 2 * items_mod.FEATURE_RADIUS
            out.update(dict.fromkeys(ids, items_mod.feature_radius(spacing)))
        return out

    def _sync_layers(self, structure: bool) -> None:
        """Layer items follow the model's image layers (made, removed, laid out), then the
        links between them."""
        net = self.document.network
        layers = net.image_layers
        if structure:
            for lid in [i for i in self.item_for_layer if i not in layers]:
                self.removeItem(self.item_for_layer.pop(lid))
        shapes = net.image_shapes() if layers else {}
        for lid, layer in layers.items():
            item = self.item_for_layer.get(lid)
            if item is None:
                item = LayerItem(self, lid)
                self.item_for_layer[lid] = item
                self.addItem(item)
            span = None
            if layer.kind == "flatten":
                ys = [net.neurons[f].y for f in net.feature_neurons(lid)]
                span = (min(ys), max(ys)) if ys else None
            item.sync(layer, shapes.get(lid), span)
        self._relink()
        focus, self._focus = self._focus, None
        if focus is not None:     # (the focused cell may have gone with a new shape)
            self._set_focus(*focus)
        if structure:
            self._filters_version = -1
        self._refresh_filters()

    def _relink(self) -> None:
        """The links between the layer items where the items stand now."""
        links = []
        for lid, layer in self.document.network.image_layers.items():
            src = self.item_for_layer.get(layer.source) if layer.source else None
            item = self.item_for_layer.get(lid)
            if src is not None and item is not None:
                links.append(QLineF(src.port_scene_pos() + QPointF(items_mod.PORT_RADIUS, 0),
                                    item.input_scene_pos()
                                    - QPointF(items_mod.PORT_RADIUS - 2.0, 0)))
        self.layer_links.set_links(links)

    def _refresh_filters(self) -> None:
        """The convolutions' filter grids show the weights in the store now (once per
        parameter version)."""
        net = self.document.network
        if self._filters_version == net.param_version or not self.item_for_layer:
            return
        self._filters_version = net.param_version
        for conv in net.convolutions():
            item = self.item_for_layer.get(conv.id)
            if item is not None:
                item.set_filters(net.filter_values(conv.id)[0])

    def _refresh_layer_values(self, ev: Evaluation | None) -> None:
        """The layers' grids for the chosen sample: an image input its pixels (the dataset's
        first columns, image after image), a convolution and a pooling layer their maps (the
        evaluation's a: after the activation)."""
        self._eval_maps = ev.maps if ev is not None else {}
        if not self.item_for_layer:
            return
        doc = self.document
        net = doc.network
        ds = doc.dataset
        X = np.asarray(ds.X) if ds is not None and len(ds) else None
        s = min(max(doc.sample_index, 0), len(X) - 1) if X is not None else 0
        self._eval_sample = s
        columns = image_columns(net)
        for lid, layer in net.image_layers.items():
            item = self.item_for_layer.get(lid)
            if isinstance(layer, ImageInput) and item is not None:
                cols = columns[lid]
                ok = X is not None and X.ndim == 2 and X.shape[1] >= cols.stop
                item.set_grid_values("pixels", X[s, cols].reshape(layer.shape)
                                     if ok and X is not None else None)
            elif item is not None and layer.kind in ("convolution", "pooling"):
                values = self._eval_maps.get(lid)
                item.set_grid_values("map", values.a[s] if values is not None else None)
        self._show_caption()

    def layer_input(self, lid: str) -> np.ndarray | None:
        """What layer ``lid`` reads for the chosen sample (maps, height, width): its source's
        grid values as the canvas shows them (the evaluation's numbers), or None."""
        net = self.document.network
        layer = net.image_layers.get(lid)
        src = self.item_for_layer.get(layer.source) if layer is not None and layer.source \
            else None
        if src is None:
            return None
        grids = [src.values.get(g.key) for g in src.grids if g.key[0] in ("pixels", "map")]
        if not grids or any(g is None for g in grids):
            return None
        return np.stack(grids)  # type: ignore[arg-type]

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
        self._refresh_layer_values(ev)
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
        """Show neurons and image layers at model position + offset without touching the
        model (during a drag); a flatten's feature neurons go with it."""
        net = self.document.network
        offsets = dict(offsets)
        for lid in [i for i in offsets if i in net.image_layers]:
            off = offsets.pop(lid)
            layer = net.image_layers[lid]
            item = self.item_for_layer.get(lid)
            if item is not None:
                item.setPos(QPointF(layer.x, layer.y) + off)
            if layer.kind == "flatten":
                offsets.update(dict.fromkeys(net.feature_neurons(lid), off))
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
        if self.item_for_layer:
            self._relink()
            self._show_caption()
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
            for nid, item in [*self.item_for_node.items(), *self.item_for_layer.items()]:
                on = nid in wanted
                if item.isSelected() != on:
                    item.setSelected(on)
        self.connections.set_selected([i for i in wanted if i in self.connections.index])

    def _push_selection(self) -> None:
        """Scene -> document, for selection changes made on the items directly."""
        ids = [self.node_for_item[i] if i in self.node_for_item else i.nid
               for i in self.selectedItems()
               if i in self.node_for_item or isinstance(i, LayerItem)]
        self.document.set_selection(ids + self.connections.selected_ids())

    def selected_ids(self) -> list[str]:
        return [i for i in self.document.selection if i in self.document.network]

    # ------------------------------------------------------------------ lookups
    def item_for(self, item_id: str) -> NeuronItem | LayerItem | ConnectionRef | None:
        """The NeuronItem for a neuron id, the LayerItem for an image layer id, a
        :class:`ConnectionRef` for a connection id, or None."""
        if self._pending_structure:
            self.flush()
        item = self.item_for_node.get(item_id) or self.item_for_layer.get(item_id)
        if item is not None:
            return item
        if item_id in self.connections.index:
            return ConnectionRef(self, item_id)
        return None

    def end_port_hover(self, pos: QPointF) -> None:
        """A drag has ended at ``pos``: no port stays highlighted unless the pointer is on it
        (hover events do not reach the items while a drag runs)."""
        for item in self.item_for_node.values():
            if item.port_hovered and not item.port_contains(pos):
                item.port_hovered = False
                item.unsetCursor()
                item.update()

    def neuron_item(self, nid: str) -> NeuronItem | None:
        if self._pending_structure:
            self.flush()
        return self.item_for_node.get(nid)

    def layer_item(self, lid: str) -> LayerItem | None:
        if self._pending_structure:
            self.flush()
        return self.item_for_layer.get(lid)

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

    def layer_at(self, pos: QPointF) -> LayerItem | None:
        """The image layer whose card or output port is under ``pos`` (the topmost)."""
        if self._pending_structure or self._pending_geometry:
            self.flush()
        hits = [item for item in self.item_for_layer.values() if item.contains_scene(pos)]
        return max(hits, key=lambda item: item.zValue()) if hits else None

    def connection_at(self, pos: QPointF, tolerance: float = 4.0) -> str | None:
        if self._pending_structure:
            self.flush()
        return self.connections.hit_test(pos, tolerance)

    def ids_in_rect(self, rect: QRectF) -> list[str]:
        """Image layers and neurons whose centre lies in ``rect`` and connections with both
        ends in it."""
        if self._pending_structure:
            self.flush()
        rect = rect.normalized()
        out = []
        if len(self._pos):
            P = self._pos
            inside = ((P[:, 0] >= rect.left()) & (P[:, 0] <= rect.right())
                      & (P[:, 1] >= rect.top()) & (P[:, 1] <= rect.bottom()))
            out = [self._nids[i] for i in np.flatnonzero(inside)]
        layers = [lid for lid, item in self.item_for_layer.items() if rect.contains(item.pos())]
        return layers + out + self.connections.ids_in_rect(rect)

    def content_rect(self) -> QRectF:
        """The bounding rectangle of everything drawn (layers, neurons, labels, connections,
        overlay)."""
        if self._pending_structure or self._pending_geometry:
            self.flush()
        rect = QRectF()
        for item in [*self.item_for_node.values(), *self.item_for_layer.values()]:
            rect = rect.united(item.sceneBoundingRect())
        if self.connections.ids:
            rect = rect.united(self.connections.sceneBoundingRect())
        if self.overlay is not None:
            rect = rect.united(self.overlay_item.sceneBoundingRect())
        if self.layer_buttons.buttons:
            rect = rect.united(self.layer_buttons.sceneBoundingRect())
        return rect

    # ------------------------------------------------------------------ focused cell
    @property
    def focus(self) -> tuple[str, tuple[tuple, int, int]] | None:
        """The focused cell (layer id, (grid key, row, col)): hovered, or clicked (pinned)."""
        return self._focus

    def hover_cell(self, lid: str | None, cell: tuple[tuple, int, int] | None) -> None:
        """The pointer is over ``cell`` of layer ``lid`` (None, None: over no cell); a
        clicked cell stays focused until another is clicked."""
        if not self._focus_pinned:
            self._set_focus(lid, cell)

    def focus_cell(self, lid: str | None, cell: tuple[tuple, int, int] | None,
                   pinned: bool = True) -> None:
        """Focus ``cell`` of layer ``lid`` (a click: it stays while the pointer moves on, and
        ``cellClicked`` says so)."""
        self._focus_pinned = bool(pinned and cell is not None)
        self._set_focus(lid, cell)
        if self._focus_pinned and self._focus is not None:
            self.cellClicked.emit(*self._focus)

    def _set_focus(self, lid: str | None, cell: tuple[tuple, int, int] | None) -> None:
        item = self.item_for_layer.get(lid) if lid is not None else None
        grid = item.grid_index.get(cell[0]) if item is not None and cell is not None else None
        ok = grid is not None and cell is not None and cell[1] < grid.rows \
            and cell[2] < grid.cols
        focus = (lid, cell) if ok and lid is not None and cell is not None else None
        if focus == self._focus:
            return
        self._focus = focus
        for item in self.item_for_layer.values():
            item.set_focus(None)
            item.set_marks({})
        self._show_caption()
        if focus is None:
            return
        lid, cell = focus
        self.item_for_layer[lid].set_focus(cell)
        for mlid, marks in self.cell_reads(lid, cell).items():
            item = self.item_for_layer.get(mlid)
            if item is not None:
                item.set_marks(marks)

    def _show_caption(self) -> None:
        """The caption under the focused cell's card says what the cell holds now (the
        evaluation's numbers); no focused cell hides it."""
        focus = self._focus
        item = self.item_for_layer.get(focus[0]) if focus is not None else None
        if focus is None or item is None:
            self.cell_caption.show_lines([], None)
            return
        self.cell_caption.show_lines(self.cell_lines(*focus),
                                     item.mapToScene(item.card_rect()).boundingRect())

    def cell_reads(self, lid: str, cell: tuple[tuple, int, int]
                   ) -> dict[str, dict[tuple, list[tuple[int, int, int, int]]]]:
        """The cells a map cell reads, per layer and grid: a convolution cell its receptive
        field in every map of its source (and its filter), a pooled cell its window in one
        map; (top, left, bottom, right) ranges, bottom and right exclusive."""
        net = self.document.network
        layer = net.image_layers.get(lid)
        key, r, c = cell
        shape = net.image_shapes().get(lid)
        if layer is None or shape is None or key[0] != "map" or layer.source is None:
            return {}
        src = self.item_for_layer.get(layer.source)
        if src is None:
            return {}
        src_keys = [g.key for g in src.grids if g.key[0] in ("pixels", "map")]
        out: dict[str, dict[tuple, list[tuple[int, int, int, int]]]] = {}
        if isinstance(shape, Conv2D):
            window = shape.receptive_field(r, c).clipped()
            out[layer.source] = {k: [window] for k in src_keys}
            own = self.item_for_layer[lid]
            k = shape.kernel
            out[lid] = {g.key: [(0, 0, k, k)] for g in own.grids
                        if g.key[0] == "filter" and g.key[1] == key[1]}
        elif isinstance(shape, Pool2D):
            window = shape.window_at(r, c).clipped()
            out[layer.source] = {k: [window] for k in src_keys if k[1] == key[1]}
        return out

    # ------------------------------------------------------------------ overlay
    def set_overlay(self, overlay: Overlay | None) -> None:
        if self._pending_structure or self._pending_geometry:
            self.flush()
        self.overlay = overlay
        self.overlay_item.set_overlay(overlay)
        for view in self.views():   # badges that grew past the view: fit (unless the user
            keep = getattr(view, "keep_in_view", None)   # zoomed or panned on purpose)
            if keep is not None:
                keep(self.overlay_item.sceneBoundingRect())

    # ------------------------------------------------------------------ tooltips
    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:
        pos = event.scenePos()
        text = None
        item = self.neuron_at(pos)
        layer = self.layer_at(pos) if item is None else None
        if item is not None:
            text = self.neuron_tooltip(item.nid)
        elif layer is not None:
            text = self.layer_tooltip(layer.nid, layer.cell_at(pos))
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
        if n.role not in PASS_THROUGH_ROLES:
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

    def layer_tooltip(self, lid: str, cell: tuple[tuple, int, int] | None = None) -> str:
        """What the layer is and, over a cell, what the cell holds."""
        net = self.document.network
        layer = net.image_layers.get(lid)
        item = self.item_for_layer.get(lid)
        if layer is None or item is None:
            return ""
        rows = [f"<b>{_esc(layer.label)}</b> <span style='color:{style.MUTED_TEXT_HEX}'>"
                f"({_esc(lid)}, {KIND_TITLES[layer.kind]})"
                f"</span>", _esc(item.subtitle)]
        if isinstance(layer, Convolution):
            n = layer.n_params
            rows.append(f"{layer.filters} filters × ({layer.fan_in} + 1) = {n} parameters")
        if cell is not None:
            rows += [_esc(line) for line in self.cell_lines(lid, cell)]
        return "<br>".join(rows)

    def cell_lines(self, lid: str, cell: tuple[tuple, int, int]) -> list[str]:
        """What a cell holds, in words and with the evaluation's numbers (plain text lines):
        a filter weight; a pixel; a convolution cell's dot product written out; a pooled
        cell's window and winner; and the cell's dL/dz."""
        net = self.document.network
        layer = net.image_layers[lid]
        item = self.item_for_layer[lid]
        key, r, c = cell
        values = item.values.get(key)
        if key[0] == "filter":
            return [f"filter {key[1]}, weight [{key[2]}][{r}][{c}]"
                    + (f" = {values[r, c]:.6g}" if values is not None else "")]
        if key[0] == "pixels":
            return [f"pixel [{r}][{c}]" + (f" of channel {key[1]}" if len(item.grids) > 1
                                            else "")
                    + (f" = {values[r, c]:.6g}" if values is not None else "")]
        shape = net.image_shapes().get(lid)
        mv = self._eval_maps.get(lid)
        if mv is None or shape is None:
            return [f"map {key[1]} [{r}][{c}]: no values yet"]
        s, m = self._eval_sample, key[1]
        lines = []
        x = self.layer_input(lid)
        if isinstance(shape, Conv2D) and isinstance(layer, Convolution) and x is not None:
            dp = shape.dot_product(x, net.store.values[layer.slots], m, r, c)
            lines.append(dot_product_text(dp, MAX_TIP_TERMS))
            act = activations.ACTIVATIONS[layer.activation]
            if layer.activation != "identity":
                lines.append(f"a = {act.title}(z) = {mv.a[s, m, r, c]:.6g}")
        elif isinstance(shape, Pool2D):
            top, left, bottom, right = shape.window_at(r, c).clipped()
            where = f"rows {top}–{bottom - 1}, columns {left}–{right - 1} of map {m}"
            if mv.winners is not None:
                wr, wc = int(mv.winners[0][s, m, r, c]), int(mv.winners[1][s, m, r, c])
                lines.append(f"max of {where} = {mv.a[s, m, r, c]:.6g}, won by row "
                             f"{wr}, column {wc}")
            else:
                lines.append(f"mean of {where} = {mv.a[s, m, r, c]:.6g}")
        lines.append(f"dL/dz = {mv.dl_dz[s, m, r, c]:.6g} (sample {s})")
        return lines

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


MAX_TIP_TERMS = 9   # terms of a dot product written out in a tooltip; the rest are "+ …"


def dot_product_text(dp: DotProduct, max_terms: int = MAX_TIP_TERMS) -> str:
    """One convolution cell written out, as seed 001 does: "map 0 [0][0] = 0×0 + 0×0 + 1×1 +
    … + b = 3 + 0 = 3" (input × weight in summation order, then the bias), numbers written as
    the walkthrough writes them."""
    # (imported here: the trace package is loaded when first needed, not at start-up)
    from nnstudio.core.trace.formatting import join_sum, num, term
    terms = [f"{num(x)}×{term(w)}" for x, w in dp.terms()]
    shown = join_sum(terms[:max_terms], len(terms) - max_terms if len(terms) > max_terms else 0)
    return (f"map {dp.filter} [{dp.row}][{dp.col}] = {shown} + b = {num(dp.total)} + "
            f"{term(dp.bias)} = {num(dp.value)}")


def _esc(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["CanvasScene", "ConnectionRef", "Overlay"]

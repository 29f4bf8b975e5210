"""The edits of a network's image layers (:mod:`.image_layers`), and the rules about them that
need the whole network: sources, shapes, the feature neurons a flatten derives, the filters.

Rules:

- every edit builds the complete set of image layers it would give and checks it at once
  (:meth:`ImageEdits._plan`): the layers' own fields, ids (one namespace with neurons and
  connections), sources, every shape (the kernels' own checks, so a kernel larger than its
  input or a stride that leaves rows unread is refused with their message), and the ids of
  the feature neurons each flatten would derive; only then does anything change
  (:meth:`ImageEdits._apply`). A refused edit raises :class:`~.parts.NetworkError`, changes
  nothing and sends no notice;
- feature neurons are derived: a flatten layer whose source chain reaches an image input has
  ``C·H·W`` of them (``"<flatten>.<k>"``, role ``"feature"``, identity, no bias), standing in
  a column on it; when its size changes the ones past the new size go (with their
  connections) and new ones come. They cannot be moved, removed, renamed, re-roled or given
  an activation on their own, and take no incoming connection: edit the flatten layer;
- connections go from feature neurons to neurons only: a neuron never feeds an image layer,
  and an image layer feeds neurons only through a flatten;
- a filter is locked or unlocked as a whole (``set_filter_trainable``; ``set_trainable`` on
  any of its parameters locks the whole filter);
- notices: ``LAYER_ADDED``, ``LAYER_REMOVED``, ``LAYER_CHANGED`` (settings or source),
  ``LAYER_MOVED``, ``LAYER_RENAMED`` name the layers; feature neurons come and go with
  ``NEURON_ADDED`` / ``NEURON_REMOVED`` (their connections with ``CONNECTION_REMOVED``) and
  follow a moved flatten with ``NEURON_MOVED``; filter values and locks are
  ``PARAMS_CHANGED`` naming the filter parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Self

import numpy as np

from nnstudio.core import activations

from . import image_layers as il
from .bulk import BulkEdits, gc_paused
from .events import NetworkEvent
from .image_layers import (
    TIMES,
    Convolution,
    Flatten,
    ImageInput,
    ImageLayer,
    Pooling,
)
from .parts import FEATURE_ROLE, NetworkError, NeuronFields, finite_number
from .shaping import INITS, Shaping

#: the id prefix of each kind's new layers
LAYER_ID_PREFIX = {"image_input": "image", "convolution": "conv", "pooling": "pool",
                   "flatten": "flat"}
FEATURE_SPACING = 60.0      # between feature neurons on the canvas, at most
FEATURE_COLUMN = 480.0      # the height of a flatten's column of feature neurons, at most
#: the settings ``update_image_layer`` changes, per kind
UPDATABLE = {
    "image_input": ("shape",),
    "convolution": ("channels", "filters", "kernel", "stride", "padding", "activation",
                    "slope"),
    "pooling": ("mode", "window", "stride"),
    "flatten": (),
}


class RemovedLayers(NamedTuple):
    """What :meth:`ImageEdits.remove_image_layers` took away, to put it back: the image
    layers as they were (every one of them, in order) and the connections that went with
    feature neurons, with the order of all connections before::

        net.set_image_layers(r.before)
        net.add_from_dicts((), r.connections, connection_order=r.connection_order)
    """

    before: list[dict[str, Any]]
    connections: list[dict[str, Any]]
    connection_order: list[str]


class _Plan(NamedTuple):
    """A checked set of image layers, ready to apply."""

    layers: dict[str, ImageLayer]            # in order; convolutions needing slots have none
    values: dict[str, tuple[np.ndarray, np.ndarray]]   # conv id -> (values, trainable) flat
    features: dict[str, list[str]]           # flatten id -> its feature ids
    shapes: dict[str, il.ImageShape]


def feature_positions(flatten: ImageLayer, count: int) -> tuple[list[float], list[float]]:
    """Where a flatten's ``count`` feature neurons stand: a column centred on it."""
    gap = min(FEATURE_SPACING, FEATURE_COLUMN / max(count, 1))
    ys = [flatten.y + (k - (count - 1) / 2) * gap for k in range(count)]
    return [flatten.x] * count, ys


class ImageEdits(Shaping, BulkEdits):
    """The image layers' edits and queries (see the module docstring)."""

    # ------------------------------------------------------------------ queries
    def image_layer_dicts(self) -> list[dict[str, Any]]:
        """Every image layer's dict (file form), in order."""
        return [self.image_layer_dict_of(lid) for lid in self.image_layers]

    def layer_param_ids(self, lid: str) -> list[str]:
        """The ids of a convolution's parameters (packed order); [] for other layers."""
        layer = self.image_layer(lid)
        return il.layer_param_ids(layer) if isinstance(layer, Convolution) else []

    def filter_param_ids(self, lid: str, f: int) -> list[str]:
        """The ids of filter ``f``'s weights, then its bias."""
        conv = self._convolution(lid)
        self._check_filter(conv, f)
        n = conv.fan_in + 1
        return self.layer_param_ids(lid)[f * n:(f + 1) * n]

    def image_summary(self) -> list[str]:
        """One phrase per image layer, in source order, as summaries write them: "image 1 ×
        6 × 6", "convolution 2 × 3 × 3 (20 parameters)", "max pooling 2 × 2", "flatten 8"
        (a layer no image input reaches: "… (not connected)")."""
        shapes = self.image_shapes()
        parts = []
        for lid in self.image_order():
            layer = self.image_layers[lid]
            if isinstance(layer, ImageInput):
                c, h, w = layer.shape
                text = f"image {c} {TIMES} {h} {TIMES} {w}"
            elif isinstance(layer, Convolution):
                k = layer.kernel
                text = (f"convolution {layer.filters} {TIMES} {k} {TIMES} {k} "
                        f"({layer.n_params} parameters)")
            elif isinstance(layer, Pooling):
                text = (f"{'max' if layer.mode == 'max' else 'average'} pooling "
                        f"{layer.window} {TIMES} {layer.window}"
                        + (f" stride {layer.stride}" if layer.stride != layer.window else ""))
            else:
                text = f"flatten {len(self.feature_neurons(lid))}"
            parts.append(text if lid in shapes else f"{text} (not connected)")
        return parts

    def layer_param_count(self, lid: str) -> int:
        layer = self.image_layer(lid)
        return layer.n_params if isinstance(layer, Convolution) else 0

    def filter_values(self, lid: str) -> tuple[np.ndarray, np.ndarray]:
        """A convolution's weights (filters, channels, k, k) and biases (filters,) (copies)."""
        conv = self._convolution(lid)
        vals = self.store.values[conv.slots]
        k = conv.kernel
        return vals[:, :-1].reshape(conv.filters, conv.channels, k, k), vals[:, -1].copy()

    def filter_trainable(self, lid: str) -> np.ndarray:
        """(filters,) booleans: is each filter trainable?"""
        conv = self._convolution(lid)
        return self.store.trainable[conv.slots[:, 0]].copy()

    def dense_equivalent(self, image_input: str, units: int) -> int:
        """The weights a dense layer of ``units`` neurons on the pixels of ``image_input``
        would need (36 pixels × 100 neurons = 3,600)."""
        layer = self.image_layer(image_input)
        if not isinstance(layer, ImageInput):
            raise NetworkError(f"{layer.title} is not an image input")
        return layer.size * int(units)

    def filter_param_name(self, pid: str) -> str | None:
        """How a learner reads a filter parameter ("weight [0][1][2] of filter 0 of
        convolution 'filters'"), or None if ``pid`` is not one."""
        where = il.parse_pid(pid)
        if where is None or where[0] not in self.image_layers:
            return None
        return il.filter_param_name(self.image_layers[where[0]], where[1], where[2])

    def _convolution(self, lid: str) -> Convolution:
        layer = self.image_layer(lid)
        if not isinstance(layer, Convolution):
            raise NetworkError(f"{layer.title} has no filters; only a convolution has")
        return layer

    @staticmethod
    def _check_filter(conv: Convolution, f: object) -> int:
        if isinstance(f, bool) or not isinstance(f, (int, np.integer)) \
                or not 0 <= f < conv.filters:
            raise NetworkError(f"{conv.title} has filters 0 to {conv.filters - 1}, not {f!r}")
        return int(f)

    # ------------------------------------------------------------------ checking and applying
    def _taken(self) -> set[str]:
        return set(self.neurons) | set(self.connections) | set(self.image_layers)

    def _plan(self, layers: dict[str, ImageLayer],
              values: dict[str, tuple[np.ndarray, np.ndarray]]) -> _Plan:
        """Check ``layers`` as the network's whole set of image layers; NetworkError names the
        first problem. ``values``: packed values and per-parameter locks of the convolutions
        that get new slots."""
        if len(layers) > il.MAX_IMAGE_LAYERS:
            raise NetworkError(f"{len(layers)} image layers is more than the limit of "
                               f"{il.MAX_IMAGE_LAYERS}")
        for layer in layers.values():
            if layer.source is not None and layer.source not in layers:
                what = "a neuron" if layer.source in self.neurons else "not an image layer"
                raise NetworkError(f"{layer.title} takes its input from {layer.source!r}, "
                                   f"which is {what}; a layer takes feature maps from an image "
                                   f"input, a convolution or a pooling layer")
        shapes = il.layer_shapes(layers)
        self._check_sizes(layers, shapes)
        features: dict[str, list[str]] = {}
        claimed: dict[str, str] = {}
        for lid, layer in layers.items():
            shape = shapes.get(lid)
            if not isinstance(layer, Flatten) or not isinstance(shape, il.FlattenShape):
                continue
            ids = [il.feature_id(lid, k) for k in range(shape.size)]
            mine = set(self._features.get(lid, ()))
            for nid in ids:
                if nid in mine:
                    continue
                clash = ("a neuron" if nid in self.neurons else "a connection"
                         if nid in self.connections else "an image layer"
                         if nid in layers or nid in self.image_layers else
                         f"a feature neuron of {layers[claimed[nid]].title}"
                         if nid in claimed else None)
                if clash is not None:
                    raise NetworkError(
                        f"{layer.title} needs the ids {ids[0]} \u2026 {ids[-1]} for its "
                        f"{len(ids)} feature neurons, but {nid} is {clash}; rename it first")
                claimed[nid] = lid
            features[lid] = ids
        return _Plan(layers, values, features, shapes)

    @staticmethod
    def _check_sizes(layers: Mapping[str, ImageLayer], shapes: Mapping[str, il.ImageShape]
                     ) -> None:
        """Refuse maps too big to compute per sample, and more flatten nodes than a network
        may have, before any node is made (a file from a stranger may ask for millions)."""
        volume, biggest, most = 0, "", 0
        for lid, shape in shapes.items():
            maps = il.maps_of(shape)
            if maps is not None:
                size = maps[0] * maps[1] * maps[2]
                volume += size
                if size > most:
                    biggest, most = lid, size
        if volume > il.MAX_MAP_VALUES:
            raise NetworkError(
                f"the image layers' maps would hold {volume:,} values per sample "
                f"({layers[biggest].title} alone {most:,}), more than the limit of "
                f"{il.MAX_MAP_VALUES:,}; use fewer filters, a stride, or pool earlier")
        nodes = 0
        for lid, shape in shapes.items():
            if isinstance(shape, il.FlattenShape):
                nodes += shape.size
                if nodes > il.MAX_FEATURES:
                    raise NetworkError(
                        f"{layers[lid].title} would make {shape.size:,} nodes (from "
                        f"{il.describe_maps(shape.in_shape)}), and a network's flatten "
                        f"layers make at most {il.MAX_FEATURES:,} in all; pool the maps or "
                        f"use fewer filters first")

    def _apply(self, plan: _Plan) -> list[dict[str, Any]]:
        """Make a checked plan the network's image layers; returns the connections that went
        with removed feature neurons."""
        old_layers = self.image_layers
        store = self.store
        # parameters: release what goes, allocate what comes
        released: list[int] = []
        layers: dict[str, ImageLayer] = {}
        for lid, layer in plan.layers.items():
            if isinstance(layer, Convolution) and lid in plan.values:
                vals, flags = plan.values[lid]
                slots = store.extend(vals, flags).reshape(layer.filters, layer.fan_in + 1)
                layer = dataclasses.replace(layer, slots=slots)
            layers[lid] = layer
        for lid, old in old_layers.items():
            now = layers.get(lid)
            if isinstance(old, Convolution) and not (
                    isinstance(now, Convolution) and now.slots is old.slots):
                released += old.slots.ravel().tolist()
        # feature neurons: which go, which come, which move
        gone: list[str] = []
        for fid, ids in self._features.items():
            keep = set(plan.features.get(fid, ()))
            gone += [nid for nid in ids if nid not in keep]
        gone_set = set(gone)
        dropped_ids = [cid for cid, c in self.connections.items() if c.source in gone_set] \
            if gone else []
        dropped = [self.connections[c].to_dict() for c in dropped_ids]
        added: list[str] = []
        moved: list[str] = []
        with gc_paused():
            if dropped_ids:
                self._remove_connections(dropped_ids, notify=False)
            for nid in gone:
                n = self.neurons.pop(nid)
                del self._in[nid], self._out[nid]
                released.append(n.slot)
            store.release_many(released)
            self.image_layers = layers
            shapes = plan.shapes
            for fid, ids in plan.features.items():
                flat = shapes[fid]
                assert isinstance(flat, il.FlattenShape)
                xs, ys = feature_positions(layers[fid], len(ids))
                for k, nid in enumerate(ids):
                    have = self.neurons.get(nid)
                    if have is None:
                        c, r, q = flat.position(k)
                        self._put_neuron(NeuronFields(
                            nid, FEATURE_ROLE, il.feature_label(c, r, q), "identity",
                            activations.DEFAULT_LEAKY_SLOPE, xs[k], ys[k], 0.0, False))
                        added.append(nid)
                    elif (have.x, have.y) != (xs[k], ys[k]):
                        have.x, have.y = xs[k], ys[k]
                        moved.append(nid)
            self._features = {fid: list(ids) for fid, ids in plan.features.items()}
        self._forget_ids(gone + [lid for lid in old_layers if lid not in layers])
        # notices, once the network is consistent
        if dropped_ids:
            self._emit(NetworkEvent.CONNECTION_REMOVED, dropped_ids)
        if gone:
            self._emit(NetworkEvent.NEURON_REMOVED, gone)
        self._emit_layer_changes(old_layers, layers)
        if added:
            self._emit(NetworkEvent.NEURON_ADDED, added)
        if moved:
            self._emit(NetworkEvent.NEURON_MOVED, moved)
        return dropped

    def _emit_layer_changes(self, old: Mapping[str, ImageLayer],
                            new: Mapping[str, ImageLayer]) -> None:
        removed = [lid for lid in old if lid not in new]
        added = [lid for lid in new if lid not in old]
        changed, moved, renamed = [], [], []
        for lid, layer in new.items():
            was = old.get(lid)
            if was is None or was is layer:
                continue
            if _settings(was) != _settings(layer):
                changed.append(lid)
            else:
                if (was.x, was.y) != (layer.x, layer.y):
                    moved.append(lid)
                if was.label != layer.label:
                    renamed.append(lid)
        if list(old) != list(new) and not (removed or added):
            changed.extend(lid for lid in new if lid not in changed)   # the order changed
        for event, ids in ((NetworkEvent.LAYER_REMOVED, removed),
                           (NetworkEvent.LAYER_ADDED, added),
                           (NetworkEvent.LAYER_CHANGED, changed),
                           (NetworkEvent.LAYER_MOVED, moved),
                           (NetworkEvent.LAYER_RENAMED, renamed)):
            if ids:
                self._emit(event, ids)

    def _parsed(self, dicts: Sequence[Any], taken: Iterable[str]
                ) -> tuple[list[ImageLayer], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Layers from their dicts, each checked on its own (ids not in ``taken`` nor used
        twice), with the filter values of the convolutions."""
        used = set(taken)
        layers: list[ImageLayer] = []
        values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for d in dicts:
            layer, vals, flags = il.layer_from_dict(d, used)
            used.add(layer.id)
            layers.append(layer)
            if isinstance(layer, Convolution):
                assert vals is not None and flags is not None
                values[layer.id] = (vals.ravel(), np.repeat(flags, layer.fan_in + 1))
        return layers, values

    # ------------------------------------------------------------------ adding and removing
    def image_layer_dict(self, kind: str, *, id: str | None = None, label: str | None = None,
                         x: Any = 0.0, y: Any = 0.0, source: str | None = None, seed: int = 0,
                         init: str = "xavier", **settings: Any) -> dict[str, Any]:
        """The dict (file form) of the layer ``add_image_layer`` would add with these
        arguments, or NetworkError; nothing changes. ``settings`` per kind: an image input's
        ``shape`` (channels, height, width; default 1 × 6 × 6); a convolution's ``filters``
        (2), ``kernel`` (3), ``stride`` (1), ``padding`` ('valid'), ``activation`` ('relu'),
        ``slope`` and ``channels`` (default: the maps its source gives, else 1), its filters
        drawn with ``seed`` and ``init``; a pooling layer's ``mode`` ('max'), ``window`` (2)
        and ``stride`` (the window)."""
        if kind not in il.KINDS:
            raise NetworkError(f"unknown image layer kind {kind!r} (known: "
                               f"{', '.join(il.KINDS)})")
        allowed = UPDATABLE[kind]
        for key in settings:
            if key not in allowed:
                raise NetworkError(f"{key!r} is not a setting of a {il.KIND_TITLES[kind]} "
                                   f"(its settings: {', '.join(allowed) or 'none'})")
        if id is None:
            id = self.new_id(LAYER_ID_PREFIX[kind])
        d: dict[str, Any] = {"id": id, "kind": kind, "label": id if label is None else label,
                             "x": x, "y": y}
        if source is not None:
            d["source"] = source
        if kind == "image_input":
            d["shape"] = list(settings.get("shape", (1, 6, 6)))
        elif kind == "pooling":
            d["mode"] = settings.get("mode", "max")
            d["window"] = settings.get("window", 2)
            d["stride"] = settings.get("stride", d["window"])
        elif kind == "convolution":
            channels = settings.get("channels")
            if channels is None:
                src_maps = self._maps_of(source)
                channels = src_maps[0] if src_maps else 1
            conv = Convolution(id, str(d["label"]), channels=channels,
                               filters=settings.get("filters", 2),
                               kernel=settings.get("kernel", 3))
            d.update(stride=settings.get("stride", 1), padding=settings.get("padding", "valid"),
                     activation=settings.get("activation", "relu"))
            if "slope" in settings:
                d["slope"] = settings["slope"]
            packed = _draw(conv, seed, init)
            d["filters"] = _filter_dicts(conv, packed, np.ones(conv.filters, dtype=bool))
        layers, values = self._parsed([d], self._taken())
        self._plan({**self.image_layers, layers[0].id: layers[0]}, values)
        return d

    def _maps_of(self, source: str | None) -> tuple[int, int, int] | None:
        """The maps a layer gives (None: not a connected layer with maps)."""
        if source is None:
            return None
        shape = self.image_shapes().get(source)
        return None if shape is None else il.maps_of(shape)

    def add_image_layer(self, kind: str, **kwargs: Any) -> ImageLayer:
        """Add an image layer (arguments as :meth:`image_layer_dict`); returns it."""
        d = self.image_layer_dict(kind, **kwargs)
        self.add_image_layer_dicts([d])
        return self.image_layers[d["id"]]

    def add_image_layer_dicts(self, dicts: Sequence[Mapping[str, Any]]) -> None:
        """Add image layers given as dicts (the file form, as ``image_layer_dicts`` gives
        them), after the present ones: all or nothing, one notice per kind of change."""
        layers, values = self._parsed(list(dicts), self._taken())
        new = dict(self.image_layers)
        new.update((lay.id, lay) for lay in layers)
        self._apply(self._plan(new, values))

    def set_image_layers(self, dicts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Make the image layers exactly these (dicts in the file form, in order; the undo of
        any image layer edit): all or nothing. A convolution whose settings are unchanged
        keeps its parameters (their values and locks are set from its dict, with one
        ``PARAMS_CHANGED``); feature neurons that stay keep their connections. Returns the
        connections dropped with feature neurons."""
        free = self._taken() - set(self.image_layers) - set(self._feature_ids())
        layers, values = self._parsed(list(dicts), free)
        new: dict[str, ImageLayer] = {}
        rewrite: list[tuple[Convolution, np.ndarray, np.ndarray]] = []
        for layer in layers:
            was = self.image_layers.get(layer.id)
            if was is not None and _settings(was) == _settings(layer):
                if isinstance(layer, Convolution) and isinstance(was, Convolution):
                    vals, flags = values.pop(layer.id)
                    layer = dataclasses.replace(layer, slots=was.slots)
                    rewrite.append((layer, vals, flags))
                elif (was.label, was.x, was.y) == (layer.label, layer.x, layer.y):
                    layer = was
            new[layer.id] = layer
        dropped = self._apply(self._plan(new, values))
        pids: list[str] = []
        store = self.store
        for conv, vals, flags in rewrite:
            slots = conv.slots.ravel()
            if not (np.array_equal(store.values[slots], vals)
                    and np.array_equal(store.trainable[slots], flags)):
                store.values[slots] = vals
                store.trainable[slots] = flags
                pids += il.layer_param_ids(conv)
        if pids:
            self._emit(NetworkEvent.PARAMS_CHANGED, pids)
        return dropped

    def _feature_ids(self) -> list[str]:
        return [nid for ids in self._features.values() for nid in ids]

    def remove_image_layers(self, ids: Iterable[str]) -> RemovedLayers:
        """Remove image layers: their feature neurons (and those neurons' connections) go with
        them, and the layers they fed lose their source. Returns what is needed to put it
        all back (:class:`RemovedLayers`)."""
        ids = list(ids)
        for lid in ids:
            self.image_layer(lid)
        before = self.image_layer_dicts()
        order = list(self.connections)
        gone = set(ids)
        new = {lid: (dataclasses.replace(lay, source=None) if lay.source in gone else lay)
               for lid, lay in self.image_layers.items() if lid not in gone}
        dropped = self._apply(self._plan(new, {}))
        return RemovedLayers(before, dropped, order)

    def remove_image_layer(self, lid: str) -> RemovedLayers:
        return self.remove_image_layers([lid])

    # ------------------------------------------------------------------ sources and settings
    def check_layer_source(self, lid: str, source: str | None) -> None:
        """Raise NetworkError if ``set_layer_source(lid, source)`` would be refused."""
        self._source_plan(lid, source, 0, "xavier")

    def set_layer_source(self, lid: str, source: str | None, *, seed: int = 0,
                         init: str = "xavier") -> str | None:
        """Make layer ``lid`` take its input from layer ``source`` (None: from nothing). A
        convolution whose filters have another depth than the maps of its new source gets new
        filters (drawn with ``seed`` and ``init``); the returned text says so (else None)."""
        plan, note = self._source_plan(lid, source, seed, init)
        self._apply(plan)
        return note

    def clear_layer_source(self, lid: str) -> None:
        self.set_layer_source(lid, None)

    def _source_plan(self, lid: str, source: str | None, seed: int,
                     init: str) -> tuple[_Plan, str | None]:
        layer = self.image_layer(lid)
        if source is None:
            return self._plan({**self.image_layers,
                               lid: dataclasses.replace(layer, source=None)}, {}), None
        if source in self.neurons:
            raise NetworkError(f"{layer.title} takes feature maps; {self.name(source)} is a "
                               f"neuron and gives one value")
        src = self.image_layer(source)
        il.check_link(layer, src)
        if layer.source is not None and layer.source != source:
            raise NetworkError(f"{layer.title} already takes its input from "
                               f"{self.image_layers[layer.source].title}; disconnect it first")
        new_layer: ImageLayer = dataclasses.replace(layer, source=source)
        values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        note = None
        maps = self._maps_of(source)
        if isinstance(new_layer, Convolution) and maps is not None \
                and maps[0] != new_layer.channels:
            new_layer = dataclasses.replace(new_layer, channels=maps[0])
            values[lid] = self._drawn(new_layer, seed, init)
            note = (f"{layer.title} got new filters, {maps[0]} channel"
                    f"{'s' if maps[0] != 1 else ''} deep, for the {il.describe_maps(maps)} of "
                    f"{src.title}")
        return self._plan({**self.image_layers, lid: new_layer}, values), note

    @staticmethod
    def _drawn(conv: Convolution, seed: int, init: str, keep: np.ndarray | None = None,
               keep_flags: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Packed values and locks (flat) for ``conv``'s slots: drawn with ``seed`` and
        ``init``, except the first rows, which are ``keep`` (with their locks)."""
        vals = _draw(conv, seed, init)
        flags = np.ones(vals.shape, dtype=bool)
        if keep is not None and keep_flags is not None:
            n = min(len(keep), len(vals))
            vals[:n] = keep[:n]
            flags[:n] = keep_flags[:n]
        return vals.ravel(), flags.ravel()

    def update_image_layer(self, lid: str, *, seed: int = 0, init: str = "xavier",
                           **changes: Any) -> None:
        """Change a layer's settings (see ``UPDATABLE``): every shape after it is checked
        first, and a change that would make any layer not fit is refused with that layer's
        message. New channels or a new kernel size draw the filters anew (``seed``,
        ``init``); a new number of filters keeps the first ones and draws the rest; any other
        change keeps the filters as they are."""
        layer = self.image_layer(lid)
        allowed = UPDATABLE[layer.kind]
        for key in changes:
            if key not in allowed:
                raise NetworkError(f"{key!r} is not a setting of {layer.title} (its settings: "
                                   f"{', '.join(allowed) or 'none'})")
        d = self.image_layer_dict_of(lid)
        for key, value in changes.items():
            if key not in ("channels", "filters", "kernel"):
                d[key] = list(value) if key == "shape" else value
        reshaped = False
        if isinstance(layer, Convolution):
            counts = {k: changes.get(k, getattr(layer, k)) for k in ("channels", "filters",
                                                                     "kernel")}
            reshaped = any(counts[k] != getattr(layer, k) for k in counts)
            if reshaped:
                conv = dataclasses.replace(layer, **counts)
                same_grid = counts["channels"] == layer.channels \
                    and counts["kernel"] == layer.kernel
                keep = self.store.values[layer.slots] if same_grid else None
                locks = self.store.trainable[layer.slots] if same_grid else None
                vals, flags = self._drawn(conv, seed, init, keep, locks)
                d["filters"] = _filter_dicts(conv, vals.reshape(conv.filters, -1),
                                             flags.reshape(conv.filters, -1)[:, 0])
        parsed, values = self._parsed([d], self._taken() - {lid})
        new_layer = parsed[0]
        if isinstance(layer, Convolution) and isinstance(new_layer, Convolution) \
                and not reshaped:
            new_layer = dataclasses.replace(new_layer, slots=layer.slots)
            values = {}
        try:
            plan = self._plan({**self.image_layers, lid: new_layer}, values)
        except NetworkError as e:
            what = ", ".join(f"{k} {_shown(v)}" for k, v in changes.items())
            raise NetworkError(f"changing {layer.title} to {what} is refused: {e}") from None
        self._apply(plan)

    # ------------------------------------------------------------------ looks
    def move_image_layers(self, positions: Mapping[str, tuple[Any, Any]]) -> None:
        """Move several image layers (all validated first), with one notice; feature neurons
        follow their flatten."""
        new = dict(self.image_layers)
        for lid, (x, y) in positions.items():
            layer = self.image_layer(lid)
            new[lid] = dataclasses.replace(
                layer, x=finite_number(x, f"x position of {lid!r}"),
                y=finite_number(y, f"y position of {lid!r}"))
        self._apply(_Plan(new, {}, self._features, self.image_shapes()))

    def move_image_layer(self, lid: str, x: Any, y: Any) -> None:
        self.move_image_layers({lid: (x, y)})

    def check_layer_label(self, lid: str, label: object) -> str:
        """The label ``set_layer_label`` would give (trimmed), or NetworkError."""
        layer = self.image_layer(lid)
        text = str(label).strip()
        if not text or len(text) > 64 or any(ord(ch) < 32 for ch in text):
            raise NetworkError(f"the label of {layer.title} must be one line of 1 to 64 "
                               f"characters")
        return text

    def set_layer_label(self, lid: str, label: object) -> None:
        text = self.check_layer_label(lid, label)
        new = {**self.image_layers,
               lid: dataclasses.replace(self.image_layers[lid], label=text)}
        self._apply(_Plan(new, {}, self._features, self.image_shapes()))

    # ------------------------------------------------------------------ filters
    def set_filter(self, lid: str, f: int, weights: Any, bias: Any = None) -> None:
        """Set filter ``f``'s weights (channels × k × k) and, if given, its bias, with one
        notice naming the filter's parameters."""
        conv = self._convolution(lid)
        f = self._check_filter(conv, f)
        try:
            w = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise NetworkError(f"the weights of filter {f} of {conv.title} must be numbers") \
                from None
        k = conv.kernel
        if w.shape != (conv.channels, k, k):
            raise NetworkError(f"filter {f} of {conv.title} is {conv.channels} {il.TIMES} {k} "
                               f"{il.TIMES} {k}; got weights of shape {w.shape}")
        if not np.isfinite(w).all():
            raise NetworkError(f"the weights of filter {f} of {conv.title} must be finite")
        row = conv.slots[f]
        b = None if bias is None else finite_number(bias, f"the bias of filter {f}")
        self.store.values[row[:-1]] = w.ravel()
        if b is not None:
            self.store.values[row[-1]] = b
        self._emit(NetworkEvent.PARAMS_CHANGED, self.filter_param_ids(lid, f))

    def set_filter_trainable(self, lid: str, f: int, trainable: bool) -> None:
        """Lock (False) or unlock a whole filter: its weights and its bias."""
        conv = self._convolution(lid)
        f = self._check_filter(conv, f)
        self.store.trainable[conv.slots[f]] = bool(trainable)
        self._emit(NetworkEvent.PARAMS_CHANGED, self.filter_param_ids(lid, f))

    def set_trainable(self, pid: str, trainable: bool) -> None:
        """Lock or unlock a parameter; a filter parameter locks or unlocks its whole filter."""
        where = il.parse_pid(pid)
        if where is not None and where[0] in self.image_layers:
            self.param_slot(pid)   # (refuses a parameter that does not exist)
            self.set_filter_trainable(where[0], where[1], trainable)
            return
        super().set_trainable(pid, trainable)

    # ------------------------------------------------------------------ feature neurons
    def _refuse_feature(self, nid: str, what: str) -> None:
        flat = self.flatten_of(nid)
        if flat is not None:
            raise NetworkError(f"{self.name(nid)} belongs to {self.image_layers[flat].title}; "
                               f"it cannot be {what} on its own: edit the flatten layer")

    def check_connect(self, source: str, target: str, check_cycle: bool = True) -> None:
        """As the model's, and: a neuron takes single values (from a flatten's feature
        neurons, never from an image layer itself); an image layer takes feature maps (from
        its source layer, never from a neuron); a feature neuron takes nothing."""
        layer = self.image_layers.get(source)
        if layer is not None:
            if layer.kind == "flatten":
                raise NetworkError(f"connect the feature neurons of {layer.title} (its column "
                                   f"of values) to neurons, not the layer itself")
            shape = self.image_shapes().get(source)
            maps = None if shape is None else il.maps_of(shape)
            raise NetworkError(f"connect {layer.title} to a Flatten first: a neuron takes "
                               f"single values, not "
                               f"{il.describe_maps(maps) if maps else 'feature maps'}")
        layer = self.image_layers.get(target)
        if layer is not None:
            raise NetworkError(f"{layer.title} takes feature maps from an image layer; "
                               f"{self.name(source)} gives one value")
        flat = self.flatten_of(target)
        if flat is not None and source in self.neurons:
            raise NetworkError(
                f"cannot connect {self.name(source)} \u2192 {self.name(target)}: "
                f"{self.name(target)} is a feature neuron of {self.image_layers[flat].title} "
                f"and takes its value from the feature maps")
        super().check_connect(source, target, check_cycle)

    def remove_neuron(self, nid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        self._refuse_feature(nid, "removed")
        return super().remove_neuron(nid)

    def move_neuron(self, nid: str, x: Any, y: Any) -> None:
        self._refuse_feature(nid, "moved")
        super().move_neuron(nid, x, y)

    def move_neurons(self, positions: Mapping[str, tuple[Any, Any]]) -> None:
        for nid in positions:
            self._refuse_feature(nid, "moved")
        super().move_neurons(positions)

    def check_label(self, nid: str, label: object) -> str:
        self._refuse_feature(nid, "renamed")
        return super().check_label(nid, label)

    def check_role(self, nid: str, role: str) -> None:
        self._refuse_feature(nid, "given a role")
        super().check_role(nid, role)

    def check_activation(self, nid: str, name: str) -> None:
        self._refuse_feature(nid, "given an activation")
        super().check_activation(nid, name)

    def set_activation(self, nid: str, name: str, slope: Any = None) -> None:
        self._refuse_feature(nid, "given an activation")
        super().set_activation(nid, name, slope)

    # ------------------------------------------------------------------ layout
    def image_layout_positions(self, dx: float = 180.0,
                               dy: float = 90.0) -> dict[str, tuple[float, float]]:
        """Where ``auto_layout`` puts every image layer: columns by depth, ``dx`` apart, the
        layers of one depth centred, ``4 · dy`` apart. Pure."""
        by_depth: dict[int, list[str]] = {}
        for lid, d in self.image_depths().items():
            by_depth.setdefault(d, []).append(lid)
        pos = {}
        for d, ids in by_depth.items():
            for i, lid in enumerate(ids):
                pos[lid] = (d * dx, (i - (len(ids) - 1) / 2) * dy * 4)
        return pos

    def auto_layout(self, dx: float = 180.0, dy: float = 90.0) -> dict[str, tuple[float, float]]:
        """Move the image layers to :meth:`image_layout_positions` and the neurons to
        :meth:`layout_positions`; returns the neurons' positions."""
        if self.image_layers:
            self.move_image_layers(self.image_layout_positions(dx, dy))
        return super().auto_layout(dx, dy)

    # ------------------------------------------------------------------ dict
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """Build a network from its dict: neurons, then image layers (which derive their
        feature neurons), then connections (which may start at feature neurons)."""
        layers = d.get("image_layers")
        if not layers:
            return super().from_dict(d)
        net = super().from_dict({"neurons": d.get("neurons", []), "connections": []})
        net.add_image_layer_dicts(layers)
        conns = d.get("connections", [])
        if conns:
            net.add_connection_dicts(conns)
        return net


def _draw(conv: Convolution, seed: int, init: str) -> np.ndarray:
    """New packed filters for ``conv`` (its counts checked first): see
    :func:`~.image_layers.initial_filters`."""
    title = conv.title
    il.whole(conv.channels, "number of channels", 1, il.MAX_CHANNELS, title)
    il.whole(conv.filters, "number of filters", 1, il.MAX_FILTERS, title)
    il.whole(conv.kernel, "kernel size", *il.KERNEL_SIZES, title)
    if init not in INITS:
        raise NetworkError(f"unknown initialisation {init!r} (known: {', '.join(INITS)})")
    return il.initial_filters(np.random.default_rng(seed), init, conv)


def _filter_dicts(conv: Convolution, packed: np.ndarray,
                  trainable: np.ndarray) -> list[dict[str, Any]]:
    """Filter dicts (the file form) of packed values and per-filter locks."""
    k, c = conv.kernel, conv.channels
    return [{"weights": row[:-1].reshape(c, k, k).tolist(), "bias": float(row[-1]),
             "trainable": bool(t)} for row, t in zip(packed, trainable, strict=True)]


def _settings(layer: ImageLayer) -> tuple[Any, ...]:
    """Everything about a layer that decides what it computes (not its place, label or
    parameter values)."""
    skip = {"id", "label", "x", "y", "slots"}
    return (type(layer),) + tuple(getattr(layer, f.name) for f in dataclasses.fields(layer)
                                  if f.name not in skip)


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f" {il.TIMES} ".join(map(str, value))
    return repr(value) if isinstance(value, str) else str(value)




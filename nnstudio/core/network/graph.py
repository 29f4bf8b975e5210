"""The network as a graph to read: its state, its change notices and every query (lookups,
parameters by id, depths and layers, paths, free ids).

:class:`NetworkGraph` holds the state of a network: the neurons and connections (in their
order, which is part of the model: the inputs' order is the dataset's column order), the
per-neuron connection lists, the (source, target) index, the image layers
(:mod:`.image_layers`, with the feature neurons each flatten derives), the
:class:`~.parts.ParamStore`, the listeners and the versions (``structure_version`` moves after
every event in :data:`~.events.RECOMPILES`, ``param_version`` after ``PARAMS_CHANGED``).
Nothing here changes the network except :meth:`NetworkGraph._emit` (the versions) and the id
hints; the edits are in :mod:`.model` (and :mod:`.image_edits`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .events import RECOMPILES, Listener, NetworkEvent
from .image_layers import (
    Convolution,
    ImageInput,
    ImageLayer,
    ImageShape,
    layer_dict,
    layer_param_ids,
    layer_shapes,
    parse_pid,
    source_order,
)
from .parts import (
    FEATURE_ROLE,
    ID_PREFIX,
    ID_RULE,
    PASS_THROUGH_ROLES,
    Connection,
    NetworkError,
    Neuron,
    ParamStore,
    check_role_name,
    is_valid_id,
    slope_neuron,
    slope_param_id,
)


class NetworkGraph:
    """The state of a network and its queries (see the module docstring)."""

    def __init__(self) -> None:
        self.store = ParamStore()
        self.neurons: dict[str, Neuron] = {}
        self.connections: dict[str, Connection] = {}
        self._in: dict[str, list[str]] = {}   # neuron id -> incoming connection ids
        self._out: dict[str, list[str]] = {}  # neuron id -> outgoing connection ids
        self._pair: dict[tuple[str, str], str] = {}
        self.image_layers: dict[str, ImageLayer] = {}   # in file order
        self._features: dict[str, list[str]] = {}       # flatten id -> its feature neuron ids
        self._listeners: list[Listener] = []
        self.structure_version = 0
        self.param_version = 0
        self._depth_cache: tuple[int, dict[str, int]] | None = None
        self._shape_cache: tuple[int, dict[str, ImageShape]] | None = None
        self._id_hint: dict[str, int] = {}

    # ------------------------------------------------------------------ notification
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: NetworkEvent, ids: Iterable[str] = ()) -> None:
        if event in RECOMPILES:
            self.structure_version += 1
            self._depth_cache = None
        elif event is NetworkEvent.PARAMS_CHANGED:
            self.param_version += 1
        ids = tuple(ids)
        for listener in list(self._listeners):
            listener(event, ids)

    # ------------------------------------------------------------------ queries
    def __contains__(self, item_id: object) -> bool:
        return item_id in self.neurons or item_id in self.connections \
            or item_id in self.image_layers

    def neuron(self, nid: str) -> Neuron:
        try:
            return self.neurons[nid]
        except KeyError:
            raise NetworkError(f"there is no neuron {nid!r}") from None

    def connection(self, cid: str) -> Connection:
        try:
            return self.connections[cid]
        except KeyError:
            raise NetworkError(f"there is no connection {cid!r}") from None

    def incoming(self, nid: str) -> list[Connection]:
        return [self.connections[c] for c in self._in.get(nid, ())]

    def outgoing(self, nid: str) -> list[Connection]:
        return [self.connections[c] for c in self._out.get(nid, ())]

    def connection_between(self, source: str, target: str) -> Connection | None:
        cid = self._pair.get((source, target))
        return self.connections[cid] if cid else None

    def by_role(self, role: str) -> list[Neuron]:
        return [n for n in self.neurons.values() if n.role == role]

    @property
    def inputs(self) -> list[Neuron]:
        return self.by_role("input")

    @property
    def data_inputs(self) -> list[Neuron]:
        """The input neurons that take a column of the data, in column order (the inputs
        that are not derived: :mod:`nnstudio.core.derived_inputs`)."""
        return [n for n in self.neurons.values() if n.role == "input" and n.derive is None]

    @property
    def derived_inputs(self) -> list[Neuron]:
        """The input neurons computed from the data (x1², sin x1, ...), in network order."""
        return [n for n in self.neurons.values() if n.role == "input" and n.derive is not None]

    def derived_input(self, name: str) -> Neuron | None:
        """The input neuron derived by ``name`` ("x1^2"), or None."""
        return next((n for n in self.neurons.values()
                     if n.role == "input" and n.derive == name), None)

    @property
    def outputs(self) -> list[Neuron]:
        return self.by_role("output")

    def name(self, nid: str) -> str:
        """How messages name a neuron: its label, with the id when they differ."""
        n = self.neurons.get(nid)
        if n is None:
            return repr(nid)
        return f"'{n.label}'" if n.label == n.id else f"'{n.label}' ({n.id})"

    def convolutions(self) -> list[Convolution]:
        """The convolution layers, in file order: the owners of the filter parameters."""
        return [lay for lay in self.image_layers.values() if isinstance(lay, Convolution)]

    def param_ids(self) -> list[str]:
        """Every parameter's id: connection ids (weights), then the ids of the neurons that
        have a bias (not inputs or feature neurons), then the filter parameters of every
        convolution (``"conv[0].w[0,1,2]"``, ``"conv[0].b"``: see :mod:`.image_layers`), then
        the trainable leaky slopes (``"h1:slope"``: :func:`~.parts.slope_param_id`)."""
        ids = list(self.connections)
        ids += [n.id for n in self.neurons.values() if n.role not in PASS_THROUGH_ROLES]
        for conv in self.convolutions():
            ids += layer_param_ids(conv)
        ids += [slope_param_id(n.id) for n in self.slope_neurons()]
        return ids

    def slope_neurons(self) -> list[Neuron]:
        """The neurons whose leaky slope is a parameter (trainable, leaky ReLU), in order."""
        return [n for n in self.neurons.values() if n.slope_param]

    def param_slots(self) -> np.ndarray:
        """The store slot of every parameter, in the order of :meth:`param_ids`."""
        conns = self.connections.values()
        biased = [n.slot for n in self.neurons.values() if n.role not in PASS_THROUGH_ROLES]
        slots = np.fromiter((c.slot for c in conns), np.intp, len(conns))
        filters = [conv.slots.ravel() for conv in self.convolutions()]
        slopes = [n.slope_slot for n in self.slope_neurons()]
        return np.concatenate([slots, np.array(biased, dtype=np.intp), *filters,
                               np.array(slopes, dtype=np.intp)])

    def param_slot(self, pid: str) -> int:
        if pid in self.connections:
            return self.connections[pid].slot
        if pid in self.neurons and self.neurons[pid].role not in PASS_THROUGH_ROLES:
            return self.neurons[pid].slot
        nid = slope_neuron(pid)
        if nid is not None and nid in self.neurons:
            n = self.neurons[nid]
            if n.slope_param and n.slope_slot is not None:
                return n.slope_slot
        where = parse_pid(pid)
        if where is not None:
            lid, f, cij = where
            conv = self.image_layers.get(lid)
            if isinstance(conv, Convolution) and f < conv.filters:
                if cij is None:
                    return int(conv.slots[f, -1])
                c, i, j = cij
                k = conv.kernel
                if c < conv.channels and i < k and j < k:
                    return int(conv.slots[f, (c * k + i) * k + j])
        raise NetworkError(
            f"there is no parameter {pid!r} (a connection id, the id of a neuron with a bias, "
            f"a filter parameter such as 'conv[0].w[0,1,2]' or 'conv[0].b', or a trainable "
            f"leaky slope such as 'h1:slope')")

    def get_param(self, pid: str) -> float:
        return float(self.store.values[self.param_slot(pid)])

    def param_count(self) -> int:
        biased = sum(1 for n in self.neurons.values() if n.role not in PASS_THROUGH_ROLES)
        return len(self.connections) + biased + sum(c.n_params for c in self.convolutions()) \
            + len(self.slope_neurons())

    def slope_param_name(self, pid: str) -> str | None:
        """How a learner reads a trainable leaky slope ("leaky slope of 'h1'"), or None if
        ``pid`` names none."""
        nid = slope_neuron(pid)
        if nid is None or nid not in self.neurons:
            return None
        return f"leaky slope of {self.neurons[nid].label}"

    def depths(self) -> dict[str, int]:
        """Depth of every neuron: 0 for neurons with no incoming connection, else 1 + the
        largest depth among its sources (the longest path)."""
        if self._depth_cache and self._depth_cache[0] == self.structure_version:
            return self._depth_cache[1]
        order = self.topological_order()
        depth: dict[str, int] = {}
        for nid in order:
            srcs = self._in.get(nid, ())
            depth[nid] = 1 + max(depth[self.connections[c].source] for c in srcs) if srcs else 0
        self._depth_cache = (self.structure_version, depth)
        return depth

    # ------------------------------------------------------------------ image layers
    def image_layer(self, lid: str) -> ImageLayer:
        try:
            return self.image_layers[lid]
        except KeyError:
            raise NetworkError(f"there is no image layer {lid!r}") from None

    def image_shapes(self) -> dict[str, ImageShape]:
        """The shape of every image layer reached from an image input (see
        :func:`~.image_layers.layer_shapes`); a layer without one is not connected."""
        if self._shape_cache and self._shape_cache[0] == self.structure_version:
            return self._shape_cache[1]
        shapes = layer_shapes(self.image_layers) if self.image_layers else {}
        self._shape_cache = (self.structure_version, shapes)
        return shapes

    def image_order(self) -> list[str]:
        """The image layer ids with every layer after its source."""
        return source_order(self.image_layers)

    def image_depths(self) -> dict[str, int]:
        """Depth of every image layer: 0 for an image input or a layer with no source, else 1 +
        its source's depth."""
        depth: dict[str, int] = {}
        for lid in self.image_order():
            src = self.image_layers[lid].source
            depth[lid] = 0 if src is None else depth[src] + 1
        return depth

    def feature_neurons(self, flatten: str) -> list[str]:
        """The ids of a flatten layer's feature neurons, in flattened order (none while the
        flatten is not connected)."""
        self.image_layer(flatten)
        return list(self._features.get(flatten, ()))

    def flatten_of(self, nid: str) -> str | None:
        """The flatten layer a feature neuron belongs to (None for any other neuron)."""
        n = self.neurons.get(nid)
        if n is None or n.role != FEATURE_ROLE:
            return None
        return nid.rsplit(".", 1)[0]

    def image_input_columns(self) -> int:
        """How many data columns the image inputs take (channels × height × width each)."""
        return sum(lay.size for lay in self.image_layers.values()
                   if isinstance(lay, ImageInput))

    def layers(self) -> list[list[str]]:
        """Neuron ids grouped by depth, each layer ordered top to bottom on the canvas."""
        depth = self.depths()
        out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for nid, d in depth.items():
            out[d].append(nid)
        for layer in out:
            layer.sort(key=lambda i: (self.neurons[i].y, self.neurons[i].x))
        return out

    def topological_order(self) -> list[str]:
        """Kahn's algorithm, stable in insertion order."""
        indeg = {nid: len(self._in.get(nid, ())) for nid in self.neurons}
        ready = [nid for nid, d in indeg.items() if d == 0]
        order: list[str] = []
        i = 0
        while i < len(ready):
            nid = ready[i]
            i += 1
            order.append(nid)
            for cid in self._out.get(nid, ()):
                t = self.connections[cid].target
                indeg[t] -= 1
                if indeg[t] == 0:
                    ready.append(t)
        if len(order) != len(self.neurons):  # cannot happen through the edit API
            raise NetworkError("the network has a cycle")
        return order

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A directed path start -> ... -> goal (neuron ids), or None."""
        conns, outs = self.connections, self._out
        prev: dict[str, str | None] = {start: None}
        stack = [start]
        while stack:
            nid = stack.pop()
            if nid == goal:
                path = [goal]
                while (p := prev[path[-1]]) is not None:
                    path.append(p)
                return path[::-1]
            for cid in outs.get(nid, ()):
                t = conns[cid].target
                if t not in prev:
                    prev[t] = nid
                    stack.append(t)
        return None

    def _reaches_any(self, starts: Iterable[str], goals: Iterable[str],
                     extra: Mapping[str, Sequence[str]] | None = None) -> bool:
        """True if a directed path (of length >= 0) leads from one of ``starts`` to one of
        ``goals`` (ids that are not neurons are ignored). ``extra``: more edges to follow
        (source id -> target ids) as if they were connections."""
        conns, outs = self.connections, self._out
        goal = set(goals)
        seen = {s for s in starts if s in self.neurons}
        stack = list(seen)
        while stack:
            nid = stack.pop()
            if nid in goal:
                return True
            nexts = [conns[cid].target for cid in outs.get(nid, ())]
            if extra:
                nexts.extend(extra.get(nid, ()))
            for t in nexts:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return False

    # ------------------------------------------------------------------ ids
    def new_id(self, prefix: str) -> str:
        """The smallest unused id ``prefix<i>`` (i >= 1). A per-prefix hint remembers that
        ``prefix1 .. prefix<hint-1>`` are taken, so building a network of n connections stays
        linear instead of quadratic; removing an id lowers the hint again."""
        i = self._id_hint.get(prefix, 1)
        while f"{prefix}{i}" in self:
            i += 1
        self._id_hint[prefix] = i
        return f"{prefix}{i}"

    def new_neuron_id(self, role: str) -> str:
        """The id ``add_neuron(role)`` would give a new neuron (x1, h1, y1, ...)."""
        check_role_name(role)
        return self.new_id(ID_PREFIX[role])

    def fresh_ids(self, prefix: str, n: int) -> list[str]:
        """The ids ``new_id(prefix)`` would give for ``n`` items added one after another
        (nothing is taken)."""
        i = self._id_hint.get(prefix, 1)
        out: list[str] = []
        while len(out) < n:
            if f"{prefix}{i}" not in self:
                out.append(f"{prefix}{i}")
            i += 1
        return out

    def _advance_hint(self, prefix: str, added: Sequence[str]) -> None:
        """After adding items with the ids :meth:`fresh_ids` gave (``added``, in order), the
        next new id is searched from the last of them on."""
        if added:
            self._id_hint[prefix] = int(added[-1][len(prefix):])

    def _forget_id(self, item_id: str) -> None:
        for prefix, hint in self._id_hint.items():
            rest = item_id[len(prefix):]
            if item_id.startswith(prefix) and rest.isdigit():
                self._id_hint[prefix] = min(hint, max(1, int(rest)))

    def _forget_ids(self, item_ids: Sequence[str]) -> None:
        """Lower the new_id hints below the numbers of removed ids ``<prefix><digits>``."""
        if not self._id_hint:
            return
        lowest: dict[str, int] = {}  # the part before the trailing digits -> smallest number
        for item_id in item_ids:
            head = item_id.rstrip("0123456789")
            if len(head) < len(item_id):
                n = int(item_id[len(head):])
                if n < lowest.get(head, n + 1):
                    lowest[head] = n
        for prefix, hint in self._id_hint.items():
            if prefix[-1:].isdigit():  # rare: the digits after such a prefix are not "trailing"
                k = len(prefix)
                low = min((int(i[k:]) for i in item_ids
                           if i.startswith(prefix) and i[k:].isdigit()), default=None)
            else:
                low = lowest.get(prefix)
            if low is not None:
                self._id_hint[prefix] = min(hint, max(1, low))

    def _check_new_id(self, item_id: object, taken: Iterable[str] = ()) -> str:
        if not is_valid_id(item_id):
            raise NetworkError(f"id {item_id!r} is not valid: {ID_RULE}")
        if item_id in self or item_id in taken:
            raise NetworkError(f"id {item_id!r} is already used")
        return item_id

    # ------------------------------------------------------------------ dict
    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The file form: the neurons (not the feature neurons: their flatten layers derive
        them), the image layers when there are any, and the connections."""
        conns = list(self.connections.values())
        slots = [c.slot for c in conns]
        weights = self.store.values[slots].tolist()   # Python floats, bit for bit
        flags = self.store.trainable[slots].tolist()
        d: dict[str, list[dict[str, Any]]] = {
            "neurons": [n.to_dict() for n in self.neurons.values() if n.role != FEATURE_ROLE]}
        if self.image_layers:
            d["image_layers"] = [self.image_layer_dict_of(lid) for lid in self.image_layers]
        d["connections"] = [
            {"id": c.id, "source": c.source, "target": c.target, "weight": w, "trainable": t}
            for c, w, t in zip(conns, weights, flags, strict=True)]
        return d

    def image_layer_dict_of(self, lid: str) -> dict[str, Any]:
        """The dict (file form) of image layer ``lid`` as it is now."""
        layer = self.image_layers[lid]
        if isinstance(layer, Convolution):
            s = layer.slots.ravel()
            return layer_dict(layer, self.store.values[s], self.store.trainable[s])
        return layer_dict(layer)

    def __repr__(self) -> str:
        return f"Network({len(self.neurons)} neurons, {len(self.connections)} connections)"

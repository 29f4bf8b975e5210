"""The network model: neurons and directed connections forming a feed-forward DAG of any shape.

Layers are a view derived from depth (the longest path from an input), not a constraint: skip
connections are allowed and any neuron may feed any later one.

Every parameter value lives in one :class:`ParamStore` (a float64 array and a trainable mask,
indexed by slot). A connection's weight and a neuron's bias are views into it, so the engine,
the canvas and training snapshots can read and write all parameters with one vectorised
operation while the edit API still speaks of single neurons and connections.

Edit operations validate their input first and only then change anything: a refused edit raises
:class:`NetworkError`, naming the neurons and the reason, and leaves the network untouched.
Listeners registered with :meth:`Network.subscribe` hear every change as ``(event, ids)``.
"""

from __future__ import annotations

import gc
import math
import operator
from contextlib import contextmanager
import re
from itertools import repeat
from typing import Callable, Iterable, Sequence

import numpy as np

from . import activations

ROLES = ("input", "hidden", "output")
EVENTS = (
    "neuron_added", "neuron_removed", "neuron_changed", "connection_added",
    "connection_removed", "params_changed", "structure_changed",
)
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


class NetworkError(ValueError):
    """A refused edit or an invalid network. The message names the neurons and the reason."""


def finite_number(value, what: str) -> float:
    """``value`` as a finite float, or NetworkError saying that ``what`` must be one. True and
    False are not numbers here; text is refused unless it spells a number (``"1.5"``)."""
    if isinstance(value, bool):
        raise NetworkError(f"{what} must be a number, not {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise NetworkError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(v):
        shown = repr(value) if isinstance(value, str) else v
        raise NetworkError(f"{what} must be a finite number, not {shown}")
    return v


class ParamStore:
    """All weights and biases of one network: ``values[slot]`` and ``trainable[slot]``."""

    def __init__(self, capacity: int = 16):
        self.values = np.zeros(capacity, dtype=np.float64)
        self.trainable = np.ones(capacity, dtype=bool)
        self._free: list[int] = []
        self._next = 0

    def allocate(self, value: float = 0.0, trainable: bool = True) -> int:
        if self._free:
            slot = self._free.pop()
        else:
            slot = self._next
            self._next += 1
            if slot >= self.values.size:
                n = max(16, self.values.size * 2)
                self.values = np.concatenate([self.values, np.zeros(n - self.values.size)])
                self.trainable = np.concatenate(
                    [self.trainable, np.ones(n - self.trainable.size, dtype=bool)]
                )
        self.values[slot] = value
        self.trainable[slot] = trainable
        return slot

    def extend(self, values: np.ndarray, trainable: np.ndarray | None = None) -> np.ndarray:
        """Allocate ``len(values)`` new slots at once (after the last used one; free slots are
        left for single allocations); returns them."""
        n = len(values)
        start = self._next
        need = start + n
        if need > self.values.size:
            size = max(16, self.values.size * 2, need)
            self.values = np.concatenate([self.values, np.zeros(size - self.values.size)])
            self.trainable = np.concatenate(
                [self.trainable, np.ones(size - self.trainable.size, dtype=bool)]
            )
        self.values[start:need] = values
        self.trainable[start:need] = True if trainable is None else trainable
        self._next = need
        return np.arange(start, need)

    def release(self, slot: int) -> None:
        self.values[slot] = 0.0
        self.trainable[slot] = True
        self._free.append(slot)

    def release_many(self, slots: list[int]) -> None:
        """``release`` each slot (the next allocations take them back in the same order)."""
        self.values[slots] = 0.0
        self.trainable[slots] = True
        self._free.extend(slots)


class Neuron:
    """A neuron: a = activation(sum of w * a_source + bias). Its bias lives in the store."""

    __slots__ = ("id", "role", "label", "activation", "slope", "x", "y", "_store", "slot")

    def __init__(self, store: ParamStore, id: str, role: str, label: str, activation: str,
                 slope: float, x: float, y: float, slot: int):
        self.id, self.role, self.label = id, role, label
        self.activation, self.slope, self.x, self.y = activation, slope, x, y
        self._store, self.slot = store, slot

    @property
    def bias(self) -> float:
        return float(self._store.values[self.slot])

    @property
    def bias_trainable(self) -> bool:
        return bool(self._store.trainable[self.slot])

    def to_dict(self) -> dict:
        d = {
            "id": self.id, "role": self.role, "label": self.label,
            "activation": self.activation, "bias": self.bias,
            "bias_trainable": self.bias_trainable, "x": self.x, "y": self.y,
        }
        if self.activation == "leaky_relu":
            d["slope"] = self.slope
        return d

    def __repr__(self) -> str:
        return f"Neuron({self.id!r}, {self.role}, {self.activation}, b={self.bias:g})"


class Connection:
    """A directed, weighted connection source -> target. Its weight lives in the store."""

    __slots__ = ("id", "source", "target", "_store", "slot")

    def __init__(self, store: ParamStore, id: str, source: str, target: str, slot: int):
        self.id, self.source, self.target = id, source, target
        self._store, self.slot = store, slot

    @property
    def weight(self) -> float:
        return float(self._store.values[self.slot])

    @property
    def trainable(self) -> bool:
        return bool(self._store.trainable[self.slot])

    def to_dict(self) -> dict:
        return {
            "id": self.id, "source": self.source, "target": self.target,
            "weight": self.weight, "trainable": self.trainable,
        }

    def __repr__(self) -> str:
        return f"Connection({self.id!r}, {self.source}->{self.target}, w={self.weight:g})"


Listener = Callable[[str, tuple], None]


def _acyclic(n: int, src: np.ndarray, tgt: np.ndarray) -> bool:
    """True if the edges ``src[i] -> tgt[i]`` among nodes ``0..n-1`` form no cycle: Kahn's
    algorithm a whole level at a time (numpy work per depth level, not per edge)."""
    if src.size == 0:
        return True
    order = np.argsort(src, kind="stable")
    tgt_by_src = tgt[order]
    start = np.searchsorted(src[order], np.arange(n + 1))
    indeg = np.bincount(tgt, minlength=n)
    frontier = np.flatnonzero(indeg == 0)
    done = frontier.size
    while frontier.size:
        lo = start[frontier]
        cnt = start[frontier + 1] - lo
        total = int(cnt.sum())
        if not total:
            break
        hit = tgt_by_src[np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)]
        np.subtract.at(indeg, hit, 1)
        frontier = np.unique(hit[indeg[hit] == 0])
        done += frontier.size
    return done == n


def find_cycle_ids(ids: Sequence[str], sources: Sequence[str],
                   targets: Sequence[str]) -> list[str] | None:
    """A directed cycle among the neurons ``ids`` with connections ``sources[i] ->
    targets[i]`` (every endpoint one of ``ids``), as ids with the first repeated at the end, or
    None. A vectorised pass proves the usual, acyclic case; only a graph with a cycle gets the
    depth-first search (in the given order of neurons and connections) that names one."""
    index = {nid: i for i, nid in enumerate(ids)}
    m = len(sources)
    src = np.fromiter(map(index.__getitem__, sources), dtype=np.intp, count=m)
    tgt = np.fromiter(map(index.__getitem__, targets), dtype=np.intp, count=m)
    if _acyclic(len(index), src, tgt):
        return None
    out: dict[str, list[str]] = {nid: [] for nid in ids}
    for s, t in zip(sources, targets):
        out[s].append(t)
    color: dict[str, int] = {}
    for root in ids:
        if root in color:
            continue
        color[root] = 1
        stack = [(root, iter(out[root]))]
        path = [root]
        while stack:
            nid, it = stack[-1]
            t = next(it, None)
            if t is None:
                color[nid] = 2
                stack.pop()
                path.pop()
            elif color.get(t) == 1:
                return path[path.index(t):] + [t]
            elif t not in color:
                color[t] = 1
                stack.append((t, iter(out[t])))
                path.append(t)
    return None  # pragma: no cover  (the vectorised pass found a cycle; the search finds it)


_ID_LINES_RE = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_.\-]{0,63}\n)*")


def connection_columns(conns, roles: dict[str, str]):
    """Connection dicts (as from to_dict) as columns ``(ids, sources, targets, weights,
    trainable, pairs)`` if they are all valid, checked with set-based and vectorised passes:
    each a dict with the keys id, source, target, weight and trainable (in all of them, or in
    none: then ``trainable`` is None) and no others, ids valid and unique and none a neuron
    id, endpoints among ``roles`` (neuron id -> role), no self-connection, none into an input
    or out of an output, no pair twice (``pairs``: (source, target) -> id), weights finite
    numbers (not true/false), trainable true or false.

    Returns None if anything is wrong or unusual; checking one connection at a time then gives
    the same result as ever, or the precise message for the first problem. Cycles are not
    checked here (see :func:`find_cycle_ids`)."""
    if type(conns) is not list or not conns or any(type(c) is not dict for c in conns):
        return None
    sizes = set(map(len, conns))
    if sizes != {4} and sizes != {5}:
        return None
    try:  # 4 keys, all of these: exactly these; 5 keys: these and trainable
        ids = list(map(operator.itemgetter("id"), conns))
        sources = list(map(operator.itemgetter("source"), conns))
        targets = list(map(operator.itemgetter("target"), conns))
        weights = list(map(operator.itemgetter("weight"), conns))
        flags = list(map(operator.itemgetter("trainable"), conns)) if sizes == {5} else None
    except KeyError:
        return None
    try:  # (not text: join raises TypeError; an endpoint that is no neuron id fails the subset)
        lines = "\n".join(ids) + "\n"
        if not (roles.keys() >= set(sources) and roles.keys() >= set(targets)):
            return None
    except TypeError:
        return None
    if lines.count("\n") != len(ids) or not _ID_LINES_RE.fullmatch(lines):
        return None
    if len(set(ids)) != len(ids) or not roles.keys().isdisjoint(ids):
        return None
    if any(map(operator.eq, sources, targets)):
        return None
    inputs = {nid for nid, role in roles.items() if role == "input"}
    outputs = {nid for nid, role in roles.items() if role == "output"}
    if not (inputs.isdisjoint(targets) and outputs.isdisjoint(sources)):
        return None
    pairs = dict(zip(zip(sources, targets), ids))
    if len(pairs) != len(ids):
        return None
    if not set(map(type, weights)) <= {float, int}:
        return None
    try:
        w = np.array(weights, dtype=np.float64)
    except (OverflowError, ValueError, TypeError):
        return None
    if not np.isfinite(w).all():
        return None
    trainable = None
    if flags is not None:
        if set(map(type, flags)) != {bool}:
            return None
        trainable = np.array(flags, dtype=bool)
    return ids, sources, targets, w, trainable, pairs


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while building many objects at once: they are all
    kept, and collections triggered every few hundred allocations would scan the whole heap
    again and again (about a third of the time of building 100,000 connections)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Network:
    """A feed-forward DAG of neurons. See the module docstring for the rules."""

    def __init__(self) -> None:
        self.store = ParamStore()
        self.neurons: dict[str, Neuron] = {}
        self.connections: dict[str, Connection] = {}
        self._in: dict[str, list[str]] = {}   # neuron id -> incoming connection ids
        self._out: dict[str, list[str]] = {}  # neuron id -> outgoing connection ids
        self._pair: dict[tuple[str, str], str] = {}
        self._listeners: list[Listener] = []
        self.structure_version = 0
        self.param_version = 0
        self._depth_cache: tuple[int, dict[str, int]] | None = None
        self._id_hint: dict[str, int] = {}

    # ------------------------------------------------------------------ notification
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: str, ids: Iterable[str] = ()) -> None:
        if event in ("neuron_added", "neuron_removed", "connection_added",
                     "connection_removed", "structure_changed"):
            self.structure_version += 1
            self._depth_cache = None
        if event == "params_changed":
            self.param_version += 1
        ids = tuple(ids)
        for listener in list(self._listeners):
            listener(event, ids)

    # ------------------------------------------------------------------ queries
    def __contains__(self, item_id: str) -> bool:
        return item_id in self.neurons or item_id in self.connections

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
    def outputs(self) -> list[Neuron]:
        return self.by_role("output")

    def name(self, nid: str) -> str:
        """How messages name a neuron: its label, with the id when they differ."""
        n = self.neurons.get(nid)
        if n is None:
            return repr(nid)
        return f"'{n.label}'" if n.label == n.id else f"'{n.label}' ({n.id})"

    def param_ids(self) -> list[str]:
        """Every parameter's id: connection ids (weights), then non-input neuron ids (biases)."""
        return list(self.connections) + [n.id for n in self.neurons.values() if n.role != "input"]

    def param_slot(self, pid: str) -> int:
        if pid in self.connections:
            return self.connections[pid].slot
        if pid in self.neurons and self.neurons[pid].role != "input":
            return self.neurons[pid].slot
        raise NetworkError(f"there is no parameter {pid!r} (a connection id or a non-input neuron id)")

    def get_param(self, pid: str) -> float:
        return float(self.store.values[self.param_slot(pid)])

    def param_count(self) -> int:
        return len(self.connections) + sum(1 for n in self.neurons.values() if n.role != "input")

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
        """A directed path start -> ... -> goal, or None."""
        prev: dict[str, str | None] = {start: None}
        stack = [start]
        while stack:
            nid = stack.pop()
            if nid == goal:
                path = [goal]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return path[::-1]
            for cid in self._out.get(nid, ()):
                t = self.connections[cid].target
                if t not in prev:
                    prev[t] = nid
                    stack.append(t)
        return None

    # ------------------------------------------------------------------ id helpers
    def new_id(self, prefix: str) -> str:
        """The smallest unused id ``prefix<i>`` (i >= 1). A per-prefix hint remembers that
        ``prefix1 .. prefix<hint-1>`` are taken, so building a network of n connections stays
        linear instead of quadratic; removing an id lowers the hint again."""
        i = self._id_hint.get(prefix, 1)
        while f"{prefix}{i}" in self:
            i += 1
        self._id_hint[prefix] = i
        return f"{prefix}{i}"

    def _fresh_ids(self, prefix: str, n: int) -> list[str]:
        """The ids ``new_id(prefix)`` would give for ``n`` items added one after another."""
        i = self._id_hint.get(prefix, 1)
        out: list[str] = []
        while len(out) < n:
            if f"{prefix}{i}" not in self:
                out.append(f"{prefix}{i}")
            i += 1
        if out:
            self._id_hint[prefix] = int(out[-1][len(prefix):])
        return out

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
                n = min((int(i[k:]) for i in item_ids if i.startswith(prefix) and i[k:].isdigit()),
                        default=None)
            else:
                n = lowest.get(prefix)
            if n is not None:
                self._id_hint[prefix] = min(hint, max(1, n))

    def _check_new_id(self, item_id: str) -> None:
        if not isinstance(item_id, str) or not _ID_RE.match(item_id):
            raise NetworkError(
                f"id {item_id!r} is not valid: use 1 to 64 letters, digits, '_', '.' or '-', "
                "starting with a letter or '_'"
            )
        if item_id in self:
            raise NetworkError(f"id {item_id!r} is already used")

    # ------------------------------------------------------------------ structural edits
    def add_neuron(self, role: str = "hidden", *, id: str | None = None, label: str | None = None,
                   activation: str | None = None, bias: float = 0.0, x: float = 0.0,
                   y: float = 0.0, slope: float = activations.DEFAULT_LEAKY_SLOPE,
                   bias_trainable: bool = True) -> Neuron:
        if role not in ROLES:
            raise NetworkError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if id is None:
            id = self.new_id({"input": "x", "hidden": "h", "output": "y"}[role])
        self._check_new_id(id)
        if activation is None:
            activation = "identity" if role != "hidden" else "relu"
        self._check_activation(id, role, activation)
        bias = finite_number(bias, f"bias of neuron {id!r}")
        slope = finite_number(slope, f"leaky slope of neuron {id!r}")
        x = finite_number(x, f"x position of neuron {id!r}")
        y = finite_number(y, f"y position of neuron {id!r}")
        if role == "input":
            bias, bias_trainable = 0.0, False
        label = id if label is None else str(label)
        slot = self.store.allocate(bias, bool(bias_trainable))
        n = Neuron(self.store, id, role, label, activation, slope, x, y, slot)
        self.neurons[id] = n
        self._in[id] = []
        self._out[id] = []
        self._emit("neuron_added", (id,))
        return n

    def _check_activation(self, nid: str, role: str, name: str) -> None:
        if name not in activations.ACTIVATIONS:
            raise NetworkError(
                f"unknown activation {name!r} for neuron {nid!r} "
                f"(known: {', '.join(activations.NAMES)})"
            )
        if role == "input" and name != "identity":
            raise NetworkError(f"input neuron {nid!r} passes its value through; it takes no activation")
        if name == "softmax" and role != "output":
            raise NetworkError(
                f"softmax works on the output neurons as a group; {nid!r} is a {role} neuron"
            )

    def check_connect(self, source: str, target: str, check_cycle: bool = True) -> None:
        """Raise NetworkError if source -> target may not be added; change nothing."""
        if source not in self.neurons:
            raise NetworkError(f"there is no neuron {source!r} to connect from")
        if target not in self.neurons:
            raise NetworkError(f"there is no neuron {target!r} to connect to")
        s, t = self.neurons[source], self.neurons[target]
        if source == target:
            raise NetworkError(f"a neuron cannot connect to itself ({self.name(source)})")
        if t.role == "input":
            raise NetworkError(
                f"cannot connect {self.name(source)} → {self.name(target)}: "
                f"{self.name(target)} is an input neuron and takes no incoming connections"
            )
        if s.role == "output":
            raise NetworkError(
                f"cannot connect {self.name(source)} → {self.name(target)}: "
                f"{self.name(source)} is an output neuron and feeds nothing"
            )
        if (source, target) in self._pair:
            raise NetworkError(
                f"{self.name(source)} → {self.name(target)} is already connected "
                f"(connection {self._pair[(source, target)]!r})"
            )
        path = self._path(target, source) if check_cycle else None
        if path is not None:
            cycle = " → ".join(self.neurons[p].label for p in [*path, target])
            raise NetworkError(
                f"cannot connect {self.name(source)} → {self.name(target)}: "
                f"it would close the cycle {cycle}"
            )

    def connect(self, source: str, target: str, weight: float = 0.0, *, id: str | None = None,
                trainable: bool = True, check_cycle: bool = True) -> Connection:
        self.check_connect(source, target, check_cycle)
        weight = finite_number(weight, f"weight of {source} → {target}")
        if id is None:
            id = self.new_id("c")
        self._check_new_id(id)
        slot = self.store.allocate(weight, bool(trainable))
        c = Connection(self.store, id, source, target, slot)
        self.connections[id] = c
        self._in[target].append(id)
        self._out[source].append(id)
        self._pair[(source, target)] = id
        self._emit("connection_added", (id,))
        return c

    def disconnect(self, cid: str) -> dict:
        """Remove a connection; returns its dict so that it can be restored."""
        c = self.connection(cid)
        d = c.to_dict()
        del self.connections[cid]
        self._in[c.target].remove(cid)
        self._out[c.source].remove(cid)
        del self._pair[(c.source, c.target)]
        self.store.release(c.slot)
        self._forget_id(cid)
        self._emit("connection_removed", (cid,))
        return d

    def remove_neuron(self, nid: str) -> tuple[dict, list[dict]]:
        """Remove a neuron and its connections; returns (neuron dict, connection dicts)."""
        n = self.neuron(nid)
        conns = [self.disconnect(cid) for cid in [*self._in[nid], *self._out[nid]]]
        d = n.to_dict()
        del self.neurons[nid]
        del self._in[nid], self._out[nid]
        self.store.release(n.slot)
        self._forget_id(nid)
        self._emit("neuron_removed", (nid,))
        return d, conns

    def add_from_dicts(self, neurons: list[dict], connections: list[dict]) -> None:
        """Add neurons and connections given as dicts (as made by to_dict); all or nothing."""
        trial = self.copy()
        for nd in neurons:
            trial._add_neuron_dict(nd)
        for cd in connections:
            trial._add_connection_dict(cd)
        for nd in neurons:
            self._add_neuron_dict(nd)
        for cd in connections:
            self._add_connection_dict(cd)

    def add_connection_dicts(self, connections: list[dict], check_cycle: bool = True) -> None:
        """Add connections given as dicts (as made by to_dict) with one notice: all or
        nothing, with the checks and messages of adding them one at a time (``check_cycle``
        False skips the cycle search, as in ``connect``). Checked in bulk: sets and one cycle
        search over the whole network instead of one per connection."""
        roles = {nid: n.role for nid, n in self.neurons.items()}
        with gc_paused():
            cols = connection_columns(connections, roles)
            ok = cols is not None and self.connections.keys().isdisjoint(cols[0]) \
                and self._pair.keys().isdisjoint(cols[5])
            if ok and check_cycle:
                old = self.connections.values()
                ok = find_cycle_ids(list(self.neurons), [c.source for c in old] + cols[1],
                                    [c.target for c in old] + cols[2]) is None
            if ok:
                self._insert_connections(*cols)
                return
        # a problem (or unusual input): on a copy first, for the first problem's message
        trial = self.copy()
        for cd in connections:
            trial._add_connection_dict(cd, check_cycle)
        for cd in connections:
            self._add_connection_dict(cd, check_cycle)

    def disconnect_many(self, cids: Iterable[str]) -> list[dict]:
        """Remove several connections with one notice; returns their dicts (in the given
        order) so that they can be restored. An unknown or repeated id is refused before
        anything changes."""
        cids = list(cids)
        seen: set[str] = set()
        for cid in cids:
            if cid in seen:
                raise NetworkError(f"the connection {cid!r} is named twice")
            self.connection(cid)
            seen.add(cid)
        conns = [self.connections[c] for c in cids]
        slots = [c.slot for c in conns]
        weights = self.store.values[slots].tolist()
        flags = self.store.trainable[slots].tolist()
        dicts = [{"id": c.id, "source": c.source, "target": c.target, "weight": w, "trainable": t}
                 for c, w, t in zip(conns, weights, flags)]
        self._remove_connections(cids)
        return dicts

    def _add_neuron_dict(self, d: dict) -> Neuron:
        return self.add_neuron(
            d.get("role", "hidden"), id=d["id"], label=d.get("label"),
            activation=d.get("activation"), bias=d.get("bias", 0.0), x=d.get("x", 0.0),
            y=d.get("y", 0.0), slope=d.get("slope", activations.DEFAULT_LEAKY_SLOPE),
            bias_trainable=d.get("bias_trainable", True),
        )

    def _add_connection_dict(self, d: dict, check_cycle: bool = True) -> Connection:
        return self.connect(d["source"], d["target"], d.get("weight", 0.0), id=d["id"],
                            trainable=d.get("trainable", True), check_cycle=check_cycle)

    def _insert_connections(self, ids: list[str], sources: list[str], targets: list[str],
                            weights, trainable=None, pairs=None) -> None:
        """Add connections known to be valid (checked by the caller), with one notice.
        ``pairs``: (source, target) -> id for them, if the caller has it already."""
        if not ids:
            return
        store = self.store
        slots = store.extend(np.asarray(weights, dtype=np.float64), trainable).tolist()
        made = map(Connection, repeat(store, len(ids)), ids, sources, targets, slots)
        self.connections.update(zip(ids, made))
        ins, outs = self._in, self._out
        for cid, s, t in zip(ids, sources, targets):
            outs[s].append(cid)
            ins[t].append(cid)
        if pairs is not None and not self._pair:
            self._pair = pairs
        else:
            self._pair.update(zip(zip(sources, targets), ids) if pairs is None else pairs)
        self._emit("connection_added", ids)

    def _remove_connections(self, cids: list[str]) -> None:
        """Remove existing connections, with one notice."""
        if not cids:
            return
        gone = set(cids)
        sources, targets, slots = set(), set(), []
        pair = self._pair
        for c in map(self.connections.pop, cids):
            sources.add(c.source)
            targets.add(c.target)
            del pair[(c.source, c.target)]
            slots.append(c.slot)
        self.store.release_many(slots)
        for nid in sources:
            self._out[nid] = [c for c in self._out[nid] if c not in gone]
        for nid in targets:
            self._in[nid] = [c for c in self._in[nid] if c not in gone]
        self._forget_ids(cids)
        self._emit("connection_removed", cids)

    # ------------------------------------------------------------------ parameter edits
    def set_param(self, pid: str, value: float) -> None:
        slot = self.param_slot(pid)
        v = finite_number(value, f"value of {pid!r}")
        self.store.values[slot] = v
        self._emit("params_changed", (pid,))

    set_weight = set_param
    set_bias = set_param

    def set_params(self, values: dict[str, float]) -> None:
        """Set several parameters at once (all validated first), with one notice."""
        slots = [self.param_slot(pid) for pid in values]
        vals = [finite_number(v, f"value of {pid!r}") for pid, v in values.items()]
        self.store.values[slots] = vals
        self._emit("params_changed", tuple(values))

    def set_trainable(self, pid: str, trainable: bool) -> None:
        slot = self.param_slot(pid)
        self.store.trainable[slot] = bool(trainable)
        self._emit("params_changed", (pid,))

    def set_param_vector(self, slots: np.ndarray, values: np.ndarray) -> None:
        """Bulk update from the engine or a training snapshot: values[i] -> slots[i]."""
        values = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise NetworkError("parameter values must be finite")
        self.store.values[slots] = values
        self._emit("params_changed", ())

    def set_activation(self, nid: str, name: str, slope: float | None = None) -> None:
        n = self.neuron(nid)
        self._check_activation(nid, n.role, name)
        if slope is not None:
            slope = finite_number(slope, f"leaky slope of neuron {nid!r}")
        n.activation = name
        if slope is not None:
            n.slope = slope
        # the compiled engine groups neurons by activation: it must recompile
        self.structure_version += 1
        self._emit("neuron_changed", (nid,))

    def check_label(self, nid: str, label: str) -> str:
        """The label ``set_label(nid, label)`` would give (trimmed), or NetworkError."""
        self.neuron(nid)
        label = str(label).strip()
        if not label:
            raise NetworkError(f"the label of neuron {nid!r} cannot be empty")
        if len(label) > 64:
            raise NetworkError(f"the label of neuron {nid!r} is longer than 64 characters")
        return label

    def set_label(self, nid: str, label: str) -> None:
        self.neurons[nid].label = self.check_label(nid, label)
        self._emit("neuron_changed", (nid,))

    def check_role(self, nid: str, role: str) -> None:
        """Raise NetworkError if ``set_role(nid, role)`` would be refused; change nothing."""
        self.neuron(nid)
        if role not in ROLES:
            raise NetworkError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if role == "input" and self._in[nid]:
            raise NetworkError(f"{self.name(nid)} has incoming connections; an input neuron cannot")
        if role == "output" and self._out[nid]:
            raise NetworkError(f"{self.name(nid)} has outgoing connections; an output neuron cannot")

    def set_role(self, nid: str, role: str) -> None:
        self.check_role(nid, role)
        n = self.neurons[nid]
        act = n.activation
        if role == "input":
            act = "identity"
        elif act == "softmax" and role != "output":
            act = "relu"
        n.role, n.activation = role, act
        if role == "input":
            self.store.values[n.slot] = 0.0
            self.store.trainable[n.slot] = False
        self._emit("structure_changed", (nid,))

    def move_neuron(self, nid: str, x: float, y: float) -> None:
        n = self.neuron(nid)
        n.x = finite_number(x, f"x position of {nid!r}")
        n.y = finite_number(y, f"y position of {nid!r}")
        self._emit("neuron_changed", (nid,))

    def move_neurons(self, positions: dict[str, tuple[float, float]]) -> None:
        for nid, (x, y) in positions.items():
            self.neuron(nid)
            finite_number(x, "x position"), finite_number(y, "y position")
        for nid, (x, y) in positions.items():
            self.neurons[nid].x, self.neurons[nid].y = float(x), float(y)
        self._emit("neuron_changed", tuple(positions))

    # ------------------------------------------------------------------ bigger edits
    def add_dense_layer(self, after_layer: int, count: int, activation: str = "relu", *,
                        seed: int = 0, spacing: float = 160.0) -> list[str]:
        """Insert a fully connected layer of ``count`` new hidden neurons after layer
        ``after_layer`` (a depth). The new neurons take input from every neuron of that layer
        and feed every neuron those neurons fed directly; those direct connections are
        replaced. Returns the new neuron ids."""
        layers = self.layers()
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 4096:
            raise NetworkError(f"a dense layer needs 1 to 4096 neurons, not {count!r}")
        if not isinstance(after_layer, int) or not 0 <= after_layer < len(layers):
            raise NetworkError(
                f"there is no layer {after_layer!r}; layers are numbered 0 to {len(layers) - 1}"
            )
        src = layers[after_layer]
        outs = [nid for nid in src if self.neurons[nid].role == "output"]
        if outs:
            raise NetworkError(
                f"layer {after_layer} holds output neuron(s) {', '.join(self.name(o) for o in outs)}, "
                "which feed nothing; add the layer after an earlier one"
            )
        self._check_activation("new", "hidden", activation)
        src_set = set(src)
        replaced = [c for c in self.connections.values() if c.source in src_set]
        targets = list(dict.fromkeys(c.target for c in replaced))
        rng = np.random.default_rng(seed)
        fan_in, fan_out = len(src), max(1, len(targets))
        lim_in = math.sqrt(6.0 / (fan_in + count))
        lim_out = math.sqrt(6.0 / (count + fan_out))
        x0 = max(self.neurons[s].x for s in src) + spacing
        for nid in self.neurons:  # make room to the right
            if self.neurons[nid].x >= x0 - 1e-9:
                self.neurons[nid].x += spacing
        with gc_paused():
            return self._insert_dense_layer(src, [c.id for c in replaced], targets, count,
                                            activation, x0, rng, lim_in, lim_out)

    def _insert_dense_layer(self, src, replaced, targets, count, activation, x0, rng, lim_in,
                            lim_out) -> list[str]:
        self._remove_connections(replaced)
        ys = [(i - (count - 1) / 2) * 80.0 for i in range(count)]
        new_ids = [self.add_neuron("hidden", activation=activation, x=x0, y=ys[i]).id
                   for i in range(count)]
        # Neuron by neuron: its inputs from src, then its outputs to the targets, with the
        # weights drawn in that order (as rng.uniform one at a time would give them). None of
        # these can close a cycle (a new neuron feeds only neurons deeper than after_layer,
        # none of which reaches back into it) or break another rule, so they are added at once.
        k = len(src) + len(targets)
        low = np.tile(np.r_[np.full(len(src), -lim_in), np.full(len(targets), -lim_out)], count)
        high = -low
        weights = low + (high - low) * rng.random(count * k)
        sources, tgts = [], []
        for nid in new_ids:
            sources += src
            sources += [nid] * len(targets)
            tgts += [nid] * len(src)
            tgts += targets
        self._insert_connections(self._fresh_ids("c", len(sources)), sources, tgts, weights)
        self._emit("neuron_changed", tuple(self.neurons))
        return new_ids

    def connect_fully(self, sources: Iterable[str], targets: Iterable[str], *, seed: int = 0) -> list[str]:
        """Connect every source to every target that is not yet connected and may be; returns
        the new connection ids. Pairs that would be refused are skipped."""
        rng = np.random.default_rng(seed)
        sources, targets = list(sources), list(targets)
        if self._reaches_any(targets, sources):
            # a new connection may close a cycle through an earlier new one: one at a time
            return self._connect_one_by_one(sources, targets, rng)
        # No target reaches a source, so no new connection can close a cycle (a cycle would
        # need a path from a target back to a source): only the cheap checks, pair by pair.
        neurons, pairs, added = self.neurons, self._pair, set()
        new_s, new_t = [], []
        ok_targets = [t for t in targets if t in neurons and neurons[t].role != "input"]
        for s in sources:
            ns = neurons.get(s)
            if ns is None or ns.role == "output":
                continue
            for t in ok_targets:
                if s == t or (s, t) in pairs or (s, t) in added:
                    continue
                added.add((s, t))
                new_s.append(s)
                new_t.append(t)
        weights = rng.uniform(-1.0, 1.0, len(new_s))
        made = self._fresh_ids("c", len(new_s))
        with gc_paused():
            self._insert_connections(made, new_s, new_t, weights)
        return made

    def _connect_one_by_one(self, sources: list[str], targets: list[str],
                            rng: np.random.Generator) -> list[str]:
        """connect_fully the plain way: every pair checked (cycle search included) and added
        in turn, each weight drawn from U(-1, 1) when its connection is made."""
        made = []
        for s in sources:
            for t in targets:
                try:
                    self.check_connect(s, t)
                except NetworkError:
                    continue
                made.append(self.connect(s, t, float(rng.uniform(-1.0, 1.0))).id)
        return made

    def _reaches_any(self, starts: list[str], goals: list[str]) -> bool:
        """True if a directed path (of length >= 0) leads from one of ``starts`` to one of
        ``goals`` (ids that are not neurons are ignored)."""
        goal = set(goals)
        seen = {s for s in starts if s in self.neurons}
        stack = list(seen)
        while stack:
            nid = stack.pop()
            if nid in goal:
                return True
            for cid in self._out[nid]:
                t = self.connections[cid].target
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return False

    def randomize(self, seed: int = 0, init: str = "xavier") -> None:
        """Re-initialise every trainable parameter. ``uniform``: weights and biases from
        U(-1, 1); ``xavier`` (Glorot): weights from U(-l, l) with l = sqrt(6 / (fan_in +
        fan_out)), biases 0; ``he``: weights from N(0, 2 / fan_in), biases 0."""
        if init not in INITS:
            raise NetworkError(f"unknown initialisation {init!r} (known: {', '.join(INITS)})")
        rng = np.random.default_rng(seed)
        vals = self.store.values
        train = self.store.trainable
        for c in self.connections.values():
            if not train[c.slot]:
                continue
            fan_in = max(1, len(self._in[c.target]))
            fan_out = max(1, len(self._out[c.source]))
            if init == "uniform":
                vals[c.slot] = rng.uniform(-1.0, 1.0)
            elif init == "xavier":
                lim = math.sqrt(6.0 / (fan_in + fan_out))
                vals[c.slot] = rng.uniform(-lim, lim)
            else:
                vals[c.slot] = rng.normal(0.0, math.sqrt(2.0 / fan_in))
        for n in self.neurons.values():
            if n.role != "input" and train[n.slot]:
                vals[n.slot] = rng.uniform(-1.0, 1.0) if init == "uniform" else 0.0
        self._emit("params_changed", ())

    def auto_layout(self, dx: float = 180.0, dy: float = 90.0) -> dict[str, tuple[float, float]]:
        """Place neurons in columns by depth, each column centred, keeping the vertical order.
        Returns the new positions (and applies them)."""
        pos = {}
        for d, layer in enumerate(self.layers()):
            for i, nid in enumerate(layer):
                pos[nid] = (d * dx, (i - (len(layer) - 1) / 2) * dy)
        self.move_neurons(pos)
        return pos

    # ------------------------------------------------------------------ copy / dict
    def to_dict(self) -> dict:
        conns = list(self.connections.values())
        slots = [c.slot for c in conns]
        weights = self.store.values[slots].tolist()   # Python floats, bit for bit
        flags = self.store.trainable[slots].tolist()
        return {
            "neurons": [n.to_dict() for n in self.neurons.values()],
            "connections": [
                {"id": c.id, "source": c.source, "target": c.target, "weight": w, "trainable": t}
                for c, w, t in zip(conns, weights, flags)
            ],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Network":
        """Build a network from its dict; raises NetworkError naming the first problem.

        Connections are checked pairwise as they are added and for cycles once at the end, so
        loading 100,000 connections stays linear."""
        net = cls()
        for nd in d.get("neurons", []):
            net._add_neuron_dict(nd)
        conns = d.get("connections", [])
        with gc_paused():
            roles = {nid: n.role for nid, n in net.neurons.items()}
            cols = connection_columns(conns, roles)
            if cols is None:  # unusual or faulty: one at a time, for the first problem's message
                for cd in conns:
                    net._add_connection_dict(cd, check_cycle=False)
                cycle = net.find_cycle()
            else:
                cycle = find_cycle_ids(list(net.neurons), cols[1], cols[2])
                if cycle:
                    cycle = [net.neurons[c].label for c in cycle]
                else:
                    net._insert_connections(*cols)
        if cycle:
            raise NetworkError("the connections form a cycle: " + " → ".join(cycle))
        return net

    @classmethod
    def from_columns(cls, neurons: list[dict], columns: tuple) -> "Network":
        """Build a network from neuron dicts and connection ``columns`` that
        :func:`connection_columns` returned for these neurons and :func:`find_cycle_ids` found
        acyclic (as a validated project file has them): the connections are not checked
        again."""
        net = cls()
        with gc_paused():
            for nd in neurons:
                net._add_neuron_dict(nd)
            ids, sources, targets, weights, trainable, pairs = columns
            # (a copy of pairs: the network must not share its index with the caller)
            net._insert_connections(ids, sources, targets, weights, trainable, dict(pairs))
        return net

    def find_cycle(self) -> list[str] | None:
        """A cycle as a list of neuron labels (first repeated at the end), or None."""
        conns = self.connections.values()
        cyc = find_cycle_ids(list(self.neurons), [c.source for c in conns],
                             [c.target for c in conns])
        return None if cyc is None else [self.neurons[c].label for c in cyc]

    def copy(self) -> "Network":
        net = Network.from_dict(self.to_dict())
        net._id_hint = dict(self._id_hint)   # the same ids are taken: the hints hold
        return net

    def __repr__(self) -> str:
        return f"Network({len(self.neurons)} neurons, {len(self.connections)} connections)"


INITS = ("uniform", "xavier", "he")


def dense(sizes: list[int], hidden: str = "relu", output: str = "identity", *,
          seed: int = 0, init: str = "xavier", dx: float = 180.0, dy: float = 70.0) -> Network:
    """Build a fully connected layered network, e.g. ``dense([2, 8, 8, 1])``."""
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise NetworkError("a dense network needs at least two layers of at least one neuron")
    net = Network()
    layers: list[list[str]] = []
    for li, size in enumerate(sizes):
        role = "input" if li == 0 else "output" if li == len(sizes) - 1 else "hidden"
        act = "identity" if role == "input" else output if role == "output" else hidden
        ids = []
        for i in range(size):
            n = net.add_neuron(role, activation=act, x=li * dx, y=(i - (size - 1) / 2) * dy)
            ids.append(n.id)
        layers.append(ids)
    for a, b in zip(layers, layers[1:]):
        for t in b:
            for s in a:
                net.connect(s, t)
    net.randomize(seed, init)
    return net

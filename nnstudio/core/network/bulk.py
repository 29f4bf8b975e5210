"""Many neurons and connections at once: the checks a loader or an undo runs over whole columns,
and the bulk edits built on them.

- :func:`connection_columns` checks a list of connection dicts with set-based and vectorised
  passes and returns them as columns; :func:`find_cycle_ids` proves a graph acyclic a whole
  depth level at a time (and names a cycle when there is one);
- :class:`BulkEdits` adds the bulk operations to the model: ``add_from_dicts`` (an ordered,
  all-or-nothing insert), ``add_connection_dicts``, ``disconnect_many``, ``from_dict``,
  ``from_columns`` and ``copy``.

Rules: a bulk edit is all or nothing and gives the same result, and for a refusal the same
message, as the edits one at a time would (the fast path proves the usual case; anything
unusual or wrong is redone one at a time, on a copy, for the precise message); it sends one
notice per kind of change. 100,000 connections load and undo in linear time.
"""

from __future__ import annotations

import gc
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

import numpy as np

from .events import NetworkEvent
from .model import NetworkModel
from .parts import ID_PATTERN, PASS_THROUGH_ROLES, NetworkError, NeuronFields

ConnectionColumns = tuple[list[str], list[str], list[str], np.ndarray, "np.ndarray | None",
                          dict[tuple[str, str], str]]
"""(ids, sources, targets, weights, trainable or None, (source, target) -> id)."""


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
    return bool(done == n)


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
    for source, target in zip(sources, targets, strict=True):
        out[source].append(target)
    color: dict[str, int] = {}
    for root in ids:
        if root in color:
            continue
        color[root] = 1
        stack = [(root, iter(out[root]))]
        path = [root]
        while stack:
            nid, it = stack[-1]
            t: str | None = next(it, None)
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


_ID_LINES_RE = re.compile(f"(?:{ID_PATTERN.pattern}\n)*")


def connection_columns(conns: Any, roles: Mapping[str, str]) -> ConnectionColumns | None:
    """Connection dicts (as from to_dict) as columns ``(ids, sources, targets, weights,
    trainable, pairs)`` if they are all valid, checked with set-based and vectorised passes:
    each a dict with the keys id, source, target, weight and trainable (in all of them, or in
    none: then ``trainable`` is None) and no others, ids valid and unique and none a neuron
    id, endpoints among ``roles`` (neuron id -> role), no self-connection, none into an input
    or a feature neuron or out of an output, no pair twice (``pairs``: (source, target) ->
    id), weights finite numbers (not true/false), trainable true or false.

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
    inputs = {nid for nid, role in roles.items() if role in PASS_THROUGH_ROLES}
    outputs = {nid for nid, role in roles.items() if role == "output"}
    if not (inputs.isdisjoint(targets) and outputs.isdisjoint(sources)):
        return None
    pairs = dict(zip(zip(sources, targets, strict=True), ids, strict=True))
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
def gc_paused() -> Iterator[None]:
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


class BulkEdits(NetworkModel):
    """The model's bulk operations (see the module docstring)."""

    def add_from_dicts(self, neurons: Sequence[Mapping[str, Any]],
                       connections: Sequence[Mapping[str, Any]], *, check_cycle: bool = True,
                       neuron_order: Sequence[str] = (),
                       connection_order: Sequence[str] = ()) -> None:
        """Add neurons and connections given as dicts (as made by ``to_dict``): all or nothing,
        with the checks and messages of adding them one at a time (``check_cycle`` False skips
        the cycle search, as in ``connect``, for items known to fit, such as the ones an undo
        puts back). ``neuron_order`` / ``connection_order``: where the new items go, as the
        order of all neurons (connections) afterwards (see ``reorder``); by default at the
        end. One notice for the neurons, one for the connections."""
        fields: list[NeuronFields] = []
        taken: set[str] = set()
        for nd in neurons:
            f = self._fields_of(nd, taken)
            taken.add(f.id)
            fields.append(f)
        cols = self._checked_columns(fields, connections, check_cycle) if connections else None
        with gc_paused():
            for f in fields:
                self._put_neuron(f)
            if cols is not None:
                self._insert_connections(*cols, notify=False)
            self._arrange(neuron_order, connection_order)
        if fields:
            self._emit(NetworkEvent.NEURON_ADDED, [f.id for f in fields])
        if cols is not None:
            self._emit(NetworkEvent.CONNECTION_ADDED, cols[0])

    def _checked_columns(self, fields: list[NeuronFields],
                         connections: Sequence[Mapping[str, Any]],
                         check_cycle: bool) -> ConnectionColumns:
        """The connections as columns once they are known to fit after the new neurons
        ``fields`` (checked in bulk, or one at a time on a copy: the first problem raises)."""
        roles = {nid: n.role for nid, n in self.neurons.items()}
        roles.update((f.id, f.role) for f in fields)
        with gc_paused():
            cols = connection_columns(connections, roles)
            ok = cols is not None and self.connections.keys().isdisjoint(cols[0]) \
                and self._pair.keys().isdisjoint(cols[5])
            if cols is not None and ok and check_cycle:
                old = self.connections.values()
                ok = find_cycle_ids(list(roles), [c.source for c in old] + cols[1],
                                    [c.target for c in old] + cols[2]) is None
            if cols is not None and ok:
                return cols
            # a problem (or unusual input): one at a time on a copy, for the first problem's
            # message; if there is none, the normalised dicts are the columns
            trial = self.copy()
            for f in fields:
                trial._put_neuron(f)
            made = [trial._add_connection_dict(cd, check_cycle) for cd in connections]
        ids = [c.id for c in made]
        sources = [c.source for c in made]
        targets = [c.target for c in made]
        weights = np.array([c.weight for c in made], dtype=np.float64)
        flags = np.array([c.trainable for c in made], dtype=bool)
        pairs = dict(zip(zip(sources, targets, strict=True), ids, strict=True))
        return ids, sources, targets, weights, flags, pairs

    def add_connection_dicts(self, connections: Sequence[Mapping[str, Any]],
                             check_cycle: bool = True) -> None:
        """Add connections given as dicts (as made by ``to_dict``) with one notice: all or
        nothing, with the checks and messages of adding them one at a time (``check_cycle``
        False skips the cycle search, as in ``connect``). Checked in bulk: sets and one cycle
        search over the whole network instead of one per connection."""
        self.add_from_dicts((), connections, check_cycle=check_cycle)

    def disconnect_many(self, cids: Iterable[str]) -> list[dict[str, Any]]:
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
                 for c, w, t in zip(conns, weights, flags, strict=True)]
        self._remove_connections(cids)
        return dicts

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
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
    def from_columns(cls, neurons: Sequence[Mapping[str, Any]],
                     columns: ConnectionColumns) -> Self:
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

    def copy(self) -> Self:
        net = self.from_dict(self.to_dict())
        net._id_hint = dict(self._id_hint)   # the same ids are taken: the hints hold
        return net

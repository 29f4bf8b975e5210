"""The network model: neurons and directed connections forming a feed-forward DAG of any shape,
and its validated edits, one neuron or connection at a time.

Layers are a view derived from depth (the longest path from an input), not a constraint: skip
connections are allowed and any neuron may feed any later one. The order of the neurons (and of
the connections) is part of the model: the inputs' order is the dataset's column order. The
model owns that order; :meth:`NetworkModel.reorder` is the one way to change it.

Rules:

- every edit validates its input first and only then changes anything: a refused edit raises
  :class:`~.parts.NetworkError`, naming the neurons and the reason, leaves the network's
  items, values and versions untouched and sends no notice;
- a change is announced to the listeners (``subscribe``) with the events of :mod:`.events`,
  after the network is consistent again;
- the ``check_*`` operations answer "would this edit be refused?" without changing anything.

The state and the queries are in :mod:`.graph`, the bulk paths (loading, many connections at
once) in :mod:`.bulk`, initialisation and layout in :mod:`.shaping`;
:class:`nnstudio.core.network.Network` puts them together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np

from nnstudio.core import activations
from nnstudio.core.derived_inputs import check_derived

from .events import NetworkEvent
from .graph import NetworkGraph
from .parts import (
    CONNECTION_ID_PREFIX,
    ID_PREFIX,
    Connection,
    NetworkError,
    Neuron,
    NeuronFields,
    check_activation,
    check_label_text,
    check_role_name,
    finite_number,
    position,
    slope_neuron,
)


class NetworkModel(NetworkGraph):
    """A feed-forward DAG of neurons with its validated edits (see the module docstring)."""

    # ------------------------------------------------------------------ structural edits
    def neuron_dict(self, role: str = "hidden", *, id: str | None = None,
                    label: str | None = None, activation: str | None = None, bias: Any = 0.0,
                    x: Any = 0.0, y: Any = 0.0, slope: Any = activations.DEFAULT_LEAKY_SLOPE,
                    bias_trainable: Any = True, derive: str | None = None,
                    slope_trainable: Any = False) -> dict[str, Any]:
        """The dict (as ``Neuron.to_dict`` gives it) of the neuron ``add_neuron`` would add
        with these arguments, or NetworkError; nothing changes."""
        return self._neuron_fields(role, id, label, activation, bias, x, y, slope,
                                   bias_trainable, derive=derive,
                                   slope_trainable=slope_trainable).to_dict()

    def _neuron_fields(self, role: str, id: str | None, label: str | None,
                       activation: str | None, bias: Any, x: Any, y: Any, slope: Any,
                       bias_trainable: Any, taken: Iterable[str] = (),
                       derive: Any = None, slope_trainable: Any = False) -> NeuronFields:
        """The checked fields of a new neuron (see :meth:`add_neuron`). ``taken``: more ids
        that are not free (of items about to be added with it)."""
        check_role_name(role)
        if id is None:
            id = self.new_id(ID_PREFIX[role])
        id = self._check_new_id(id, taken)
        if derive is not None:
            problem = check_derived(derive)
            if problem:
                raise NetworkError(f"neuron {id!r}: {problem}")
            if role != "input":
                raise NetworkError(f"neuron {id!r} is a {role} neuron; only an input neuron "
                                   "can be derived from the data")
        if activation is None:
            activation = "identity" if role != "hidden" else "relu"
        check_activation(id, role, activation)
        bias = finite_number(bias, f"bias of neuron {id!r}")
        slope = finite_number(slope, f"leaky slope of neuron {id!r}")
        x = position(x, f"x position of neuron {id!r}")
        y = position(y, f"y position of neuron {id!r}")
        if role == "input":
            bias, bias_trainable = 0.0, False
        label = id if label is None else check_label_text(label, f"the label of neuron {id!r}")
        if not isinstance(slope_trainable, bool):
            raise NetworkError(f"slope_trainable of neuron {id!r} must be true or false, "
                               f"not {slope_trainable!r}")
        if slope_trainable and activation != "leaky_relu":
            raise NetworkError(f"neuron {id!r}: only a leaky ReLU has a slope to train, "
                               f"not {activation}")
        return NeuronFields(id, role, label, activation, slope, x, y, bias, bool(bias_trainable),
                            derive, slope_trainable)

    def _fields_of(self, d: Mapping[str, Any], taken: Iterable[str] = ()) -> NeuronFields:
        """:meth:`_neuron_fields` for a neuron given as a dict (as from ``to_dict``)."""
        return self._neuron_fields(
            d.get("role", "hidden"), d["id"], d.get("label"), d.get("activation"),
            d.get("bias", 0.0), d.get("x", 0.0), d.get("y", 0.0),
            d.get("slope", activations.DEFAULT_LEAKY_SLOPE), d.get("bias_trainable", True),
            taken, d.get("derive"), d.get("slope_trainable", False))

    def add_neuron(self, role: str = "hidden", *, id: str | None = None, label: str | None = None,
                   activation: str | None = None, bias: Any = 0.0, x: Any = 0.0, y: Any = 0.0,
                   slope: Any = activations.DEFAULT_LEAKY_SLOPE,
                   bias_trainable: Any = True, derive: str | None = None,
                   slope_trainable: Any = False) -> Neuron:
        """Add a neuron (see :meth:`neuron_dict`); returns it. An input neuron passes its value
        through: identity activation, bias 0 and locked; with ``derive`` (a name of
        :data:`nnstudio.core.derived_inputs.DERIVED`) its value is computed from the data.
        ``slope_trainable`` (leaky ReLU only): training moves the slope (parametric ReLU)."""
        f = self._neuron_fields(role, id, label, activation, bias, x, y, slope, bias_trainable,
                                derive=derive, slope_trainable=slope_trainable)
        n = self._put_neuron(f)
        self._emit(NetworkEvent.NEURON_ADDED, (n.id,))
        return n

    def _add_neuron_dict(self, d: Mapping[str, Any]) -> Neuron:
        """``add_neuron`` for a neuron given as a dict (as from ``to_dict``)."""
        n = self._put_neuron(self._fields_of(d))
        self._emit(NetworkEvent.NEURON_ADDED, (n.id,))
        return n

    def _put_neuron(self, f: NeuronFields) -> Neuron:
        """Add a neuron from checked fields; no notice."""
        slot = self.store.allocate(f.bias, f.bias_trainable)
        slope_slot = self.store.allocate(f.slope) if f.slope_trainable else None
        n = Neuron(self.store, f.id, f.role, f.label, f.activation, f.slope, f.x, f.y, slot,
                   f.derive, slope_slot)
        self.neurons[f.id] = n
        self._in[f.id] = []
        self._out[f.id] = []
        return n

    def check_activation(self, nid: str, name: str) -> None:
        """Raise NetworkError if ``set_activation(nid, name)`` would be refused."""
        check_activation(nid, self.neuron(nid).role, name)

    def check_connect(self, source: str, target: str, check_cycle: bool = True) -> None:
        """Raise NetworkError if source -> target may not be added; change nothing."""
        if source not in self.neurons:
            raise NetworkError(f"there is no neuron {source!r} to connect from")
        if target not in self.neurons:
            raise NetworkError(f"there is no neuron {target!r} to connect to")
        s, t = self.neurons[source], self.neurons[target]
        pair = f"{self.name(source)} → {self.name(target)}"
        if source == target:
            raise NetworkError(f"a neuron cannot connect to itself ({self.name(source)})")
        if t.role == "input":
            raise NetworkError(
                f"cannot connect {pair}: "
                f"{self.name(target)} is an input neuron and takes no incoming connections"
            )
        if s.role == "output":
            raise NetworkError(
                f"cannot connect {pair}: {self.name(source)} is an output neuron and feeds nothing"
            )
        if (source, target) in self._pair:
            raise NetworkError(
                f"{pair} is already connected (connection {self._pair[(source, target)]!r})")
        path = self._path(target, source) if check_cycle else None
        if path is not None:
            cycle = " → ".join(self.neurons[p].label for p in [*path, target])
            raise NetworkError(f"cannot connect {pair}: it would close the cycle {cycle}")

    def connect(self, source: str, target: str, weight: Any = 0.0, *, id: str | None = None,
                trainable: bool = True, check_cycle: bool = True) -> Connection:
        self.check_connect(source, target, check_cycle)
        weight = finite_number(weight, f"weight of {source} → {target}")
        if id is None:
            id = self.new_id(CONNECTION_ID_PREFIX)
        id = self._check_new_id(id)
        slot = self.store.allocate(weight, bool(trainable))
        c = Connection(self.store, id, source, target, slot)
        self.connections[id] = c
        self._in[target].append(id)
        self._out[source].append(id)
        self._pair[(source, target)] = id
        self._emit(NetworkEvent.CONNECTION_ADDED, (id,))
        return c

    def disconnect(self, cid: str) -> dict[str, Any]:
        """Remove a connection; returns its dict so that it can be restored."""
        c = self.connection(cid)
        d = c.to_dict()
        del self.connections[cid]
        self._in[c.target].remove(cid)
        self._out[c.source].remove(cid)
        del self._pair[(c.source, c.target)]
        self.store.release(c.slot)
        self._forget_id(cid)
        self._emit(NetworkEvent.CONNECTION_REMOVED, (cid,))
        return d

    def remove_neuron(self, nid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Remove a neuron and its connections; returns (neuron dict, connection dicts)."""
        n = self.neuron(nid)
        conns = [self.disconnect(cid) for cid in [*self._in[nid], *self._out[nid]]]
        d = n.to_dict()
        del self.neurons[nid]
        del self._in[nid], self._out[nid]
        self.store.release(n.slot)
        if n.slope_slot is not None:
            self.store.release(n.slope_slot)
        self._forget_id(nid)
        self._emit(NetworkEvent.NEURON_REMOVED, (nid,))
        return d, conns

    def _add_connection_dict(self, d: Mapping[str, Any], check_cycle: bool = True) -> Connection:
        return self.connect(d["source"], d["target"], d.get("weight", 0.0), id=d["id"],
                            trainable=d.get("trainable", True), check_cycle=check_cycle)

    def _insert_connections(self, ids: list[str], sources: list[str], targets: list[str],
                            weights: Any, trainable: np.ndarray | None = None,
                            pairs: dict[tuple[str, str], str] | None = None, *,
                            notify: bool = True) -> None:
        """Add connections known to be valid (checked by the caller), with one notice (none
        without ``notify``: the caller sends it). ``pairs``: (source, target) -> id for them,
        if the caller has it already."""
        if not ids:
            return
        store = self.store
        slots = store.extend(np.asarray(weights, dtype=np.float64), trainable).tolist()
        made = map(Connection, repeat(store, len(ids)), ids, sources, targets, slots)
        self.connections.update(zip(ids, made, strict=True))
        ins, outs = self._in, self._out
        for cid, s, t in zip(ids, sources, targets, strict=True):
            outs[s].append(cid)
            ins[t].append(cid)
        if pairs is not None and not self._pair:
            self._pair = pairs
        else:
            self._pair.update(zip(zip(sources, targets, strict=True), ids, strict=True)
                              if pairs is None else pairs)
        if notify:
            self._emit(NetworkEvent.CONNECTION_ADDED, ids)

    def _remove_connections(self, cids: list[str], *, notify: bool = True) -> None:
        """Remove existing connections, with one notice (none without ``notify``: the caller
        sends it)."""
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
        if notify:
            self._emit(NetworkEvent.CONNECTION_REMOVED, cids)

    # ------------------------------------------------------------------ order
    def reorder(self, neuron_order: Sequence[str] = (),
                connection_order: Sequence[str] = ()) -> None:
        """Put the neurons and the connections in the given orders (ids that are not items are
        ignored; items not named follow in their present order). Sends ``ORDER_CHANGED`` if
        anything moved."""
        if self._arrange(neuron_order, connection_order):
            self._emit(NetworkEvent.ORDER_CHANGED)

    def _arrange(self, neuron_order: Sequence[str], connection_order: Sequence[str]) -> bool:
        """:meth:`reorder` without the notice; True if anything moved."""
        changed = False
        tables: tuple[tuple[dict[str, Any], Sequence[str]], ...] = (
            (self.neurons, neuron_order), (self.connections, connection_order))
        for table, order in tables:
            if not order:
                continue
            now = list(table)
            if len(order) == len(now) and list(order) == now:
                continue   # (the usual case, checked at C speed)
            rank = {k: i for i, k in enumerate(order)}
            want = sorted(now, key=lambda k: rank.get(k, len(rank)))
            if want != now:
                items = dict(table)
                table.clear()
                for k in want:
                    table[k] = items[k]
                changed = True
        if changed:
            crank = {k: i for i, k in enumerate(self.connections)}
            for nid in self.neurons:  # per-neuron connection lists follow the same order
                self._in[nid].sort(key=crank.__getitem__)
                self._out[nid].sort(key=crank.__getitem__)
        return changed

    # ------------------------------------------------------------------ parameter edits
    def set_param(self, pid: str, value: Any) -> None:
        slot = self.param_slot(pid)
        v = finite_number(value, f"value of {pid!r}")
        self.store.values[slot] = v
        self._emit(NetworkEvent.PARAMS_CHANGED, (pid,))

    set_weight = set_param
    set_bias = set_param

    def set_params(self, values: Mapping[str, Any]) -> None:
        """Set several parameters at once (all validated first), with one notice."""
        slots = [self.param_slot(pid) for pid in values]
        vals = [finite_number(v, f"value of {pid!r}") for pid, v in values.items()]
        self.store.values[slots] = vals
        self._emit(NetworkEvent.PARAMS_CHANGED, tuple(values))

    def set_trainable(self, pid: str, trainable: bool) -> None:
        nid = slope_neuron(pid)
        if nid is not None:
            raise NetworkError(f"the leaky slope of {self.name(nid)} trains or not with its "
                               "'train slope' switch (set_slope_trainable), not a lock")
        slot = self.param_slot(pid)
        self.store.trainable[slot] = bool(trainable)
        self._emit(NetworkEvent.PARAMS_CHANGED, (pid,))

    def set_param_vector(self, slots: np.ndarray, values: np.ndarray) -> None:
        """Bulk update from the engine or a training snapshot: values[i] -> slots[i]."""
        values = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise NetworkError("parameter values must be finite")
        self.store.values[slots] = values
        self._emit(NetworkEvent.PARAMS_CHANGED, ())

    # ------------------------------------------------------------------ neuron edits
    def set_activation(self, nid: str, name: str, slope: Any = None) -> None:
        n = self.neuron(nid)
        check_activation(nid, n.role, name)
        if slope is not None:
            slope = finite_number(slope, f"leaky slope of neuron {nid!r}")
        n.activation = name
        if slope is not None:
            n.slope = slope
        self._emit(NetworkEvent.ACTIVATION_CHANGED, (nid,))

    def set_slope_trainable(self, nid: str, trainable: bool) -> None:
        """Make neuron ``nid``'s leaky slope a trainable parameter (parametric ReLU: its id is
        ``slope_param_id(nid)``, its value stays) or a fixed number again. Only a leaky ReLU
        may have a trainable slope; turning it off is always allowed."""
        n = self.neuron(nid)
        if not isinstance(trainable, bool):
            raise NetworkError(f"'train slope' of {self.name(nid)} must be true or false, "
                               f"not {trainable!r}")
        if trainable == n.slope_trainable:
            return
        if trainable:
            if n.activation != "leaky_relu":
                raise NetworkError(f"{self.name(nid)} has no slope to train: only a leaky "
                                   f"ReLU has one, not {n.activation}")
            n.slope_slot = self.store.allocate(n.slope)
        else:
            assert n.slope_slot is not None
            value, slot = n.slope, n.slope_slot
            n.slope_slot = None
            n.slope = value
            self.store.release(slot)
        self._emit(NetworkEvent.ACTIVATION_CHANGED, (nid,))

    def check_label(self, nid: str, label: object) -> str:
        """The label ``set_label(nid, label)`` would give (trimmed), or NetworkError."""
        self.neuron(nid)
        return check_label_text(label, f"the label of neuron {nid!r}")

    def set_label(self, nid: str, label: object) -> None:
        self.neurons[nid].label = self.check_label(nid, label)
        self._emit(NetworkEvent.NEURON_RENAMED, (nid,))

    def check_role(self, nid: str, role: str) -> None:
        """Raise NetworkError if ``set_role(nid, role)`` would be refused; change nothing."""
        self.neuron(nid)
        check_role_name(role)
        if role == "input" and self._in[nid]:
            raise NetworkError(
                f"{self.name(nid)} has incoming connections; an input neuron cannot")
        if role == "output" and self._out[nid]:
            raise NetworkError(
                f"{self.name(nid)} has outgoing connections; an output neuron cannot")

    def set_role(self, nid: str, role: str) -> None:
        """Change a neuron's role. An input takes the identity activation and a locked bias
        of 0; softmax, which only outputs may have, becomes relu elsewhere; a derived input
        that becomes another role stops being derived."""
        self.check_role(nid, role)
        n = self.neurons[nid]
        act = n.activation
        if role == "input":
            act = "identity"
        elif act == "softmax" and role != "output":
            act = "relu"
        if role != n.role:
            n.derive = None
        n.role, n.activation = role, act
        if role == "input":
            self.store.values[n.slot] = 0.0
            self.store.trainable[n.slot] = False
        self._emit(NetworkEvent.ROLE_CHANGED, (nid,))

    def move_neuron(self, nid: str, x: Any, y: Any) -> None:
        n = self.neuron(nid)
        n.x = position(x, f"x position of {nid!r}")
        n.y = position(y, f"y position of {nid!r}")
        self._emit(NetworkEvent.NEURON_MOVED, (nid,))

    def move_neurons(self, positions: Mapping[str, tuple[Any, Any]]) -> None:
        """Move several neurons (all validated first), with one notice."""
        for nid, (x, y) in positions.items():
            self.neuron(nid)
            position(x, "x position"), position(y, "y position")
        for nid, (x, y) in positions.items():
            self.neurons[nid].x, self.neurons[nid].y = float(x), float(y)
        self._emit(NetworkEvent.NEURON_MOVED, tuple(positions))


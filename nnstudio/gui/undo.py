"""Undo commands. Each one changes the project only; the views follow the model's notices.

Commands are built by :class:`nnstudio.gui.document.Document`, which validates an edit before
pushing it, so ``redo()`` never meets a refusal in normal use. Ids (neuron, connection and
parameter ids) are what the commands remember, never slots or Python objects, so that a command
still applies after other commands have removed and restored the items it names.

Rules: a command edits the network only through its public operations (the model owns the
order of neurons and connections, and puts removed items back in place with
``add_from_dicts(..., neuron_order=..., connection_order=...)``), and the rest of the project
only through the setter the document hands it (:class:`SetProjectValueCommand`); it knows the
document only as an :class:`UndoTarget`. Compound structural edits (a dense layer) use
:class:`NetworkStateCommand`, which stores the network's state before and after and moves
between them with the network's own edit operations (so every notice still fires); the rest
are small, specific commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QUndoCommand

from nnstudio.core.network import Network

# ids for QUndoCommand.mergeWith: only commands with the same id (and both mergeable) merge.
ID_SET_PARAMS = 1001
ID_PROJECT_VALUE = 1002


class UndoTarget(Protocol):
    """What a command works on: the document's network, the notice that a structural edit is
    about to start (training pauses first), and the selection, which drops removed items."""

    structureAboutToChange: SignalInstance

    @property
    def network(self) -> Network: ...

    def prune_selection(self) -> None: ...


class _Command(QUndoCommand):
    structural = False

    def __init__(self, doc: UndoTarget, text: str) -> None:
        super().__init__(text)
        self.doc = doc

    @property
    def net(self) -> Network:
        return self.doc.network

    def _about(self) -> None:
        if self.structural:
            self.doc.structureAboutToChange.emit()


# ---------------------------------------------------------------------- structure
class AddItemsCommand(_Command):
    """Add neurons and connections (given as dicts with their ids); undo removes them. They
    were validated by the document when the command was first pushed, so the (slow, and
    here pointless) cycle search is skipped: undo stays fast at 100,000 connections."""

    structural = True

    def __init__(self, doc: UndoTarget, neurons: list[dict], connections: list[dict],
                 text: str) -> None:
        super().__init__(doc, text)
        self.neurons = [dict(n) for n in neurons]
        self.connections = [dict(c) for c in connections]

    def redo(self) -> None:
        self._about()
        self.net.add_from_dicts(self.neurons, self.connections, check_cycle=False)

    def undo(self) -> None:
        self._about()
        net = self.net
        net.disconnect_many([c["id"] for c in self.connections if c["id"] in net.connections])
        for n in self.neurons:
            if n["id"] in net.neurons:
                net.remove_neuron(n["id"])
        self.doc.prune_selection()


class RemoveCommand(_Command):
    """Remove neurons (with every connection they touch) and connections; undo puts all of
    them back in their places with the same ids and values."""

    structural = True

    def __init__(self, doc: UndoTarget, ids: Iterable[str], text: str) -> None:
        super().__init__(doc, text)
        self.ids = list(ids)
        self.neurons: list[dict] = []
        self.connections: list[dict] = []
        self.neuron_order: list[str] = []
        self.connection_order: list[str] = []

    def redo(self) -> None:
        self._about()
        net = self.net
        self.neuron_order = list(net.neurons)
        self.connection_order = list(net.connections)
        # every connection named or touching a removed neuron goes in one bulk removal
        cids = dict.fromkeys(i for i in self.ids if i in net.connections)
        for i in self.ids:
            if i in net.neurons:
                cids.update(dict.fromkeys(c.id for c in net.incoming(i)))
                cids.update(dict.fromkeys(c.id for c in net.outgoing(i)))
        conns = net.disconnect_many(list(cids)) if cids else []
        neurons = [net.remove_neuron(i)[0] for i in self.ids if i in net.neurons]
        self.neurons, self.connections = neurons, conns
        self.doc.prune_selection()

    def undo(self) -> None:
        self._about()
        self.net.add_from_dicts(self.neurons, self.connections, check_cycle=False,
                                neuron_order=self.neuron_order,
                                connection_order=self.connection_order)


class NetworkStateCommand(_Command):
    """Move the whole network between two states (dicts from ``Network.to_dict``)."""

    structural = True

    def __init__(self, doc: UndoTarget, before: dict, after: dict, text: str) -> None:
        super().__init__(doc, text)
        self.before, self.after = before, after

    def redo(self) -> None:
        self._about()
        apply_state(self.net, self.after)
        self.doc.prune_selection()

    def undo(self) -> None:
        self._about()
        apply_state(self.net, self.before)
        self.doc.prune_selection()


def apply_state(net: Network, state: dict) -> None:
    """Make ``net`` equal to ``state`` using the network's edit operations (so listeners hear
    every change), touching only what differs."""
    want_n = {d["id"]: d for d in state["neurons"]}
    want_c = {d["id"]: d for d in state["connections"]}
    gone = [cid for cid, c in net.connections.items()
            if (w := want_c.get(cid)) is None or w["source"] != c.source or w["target"] != c.target]
    if gone:
        net.disconnect_many(gone)
    for nid in [nid for nid in net.neurons if nid not in want_n]:
        net.remove_neuron(nid)
    # neurons that stay: role first (it may reset activation and bias), then the rest; the
    # connections that would forbid a role are already gone
    for nid, n in net.neurons.items():
        w = want_n[nid]
        if w["role"] != n.role:
            net.set_role(nid, w["role"])
    moves = {}
    params = {}
    for nid, n in net.neurons.items():
        w = want_n[nid]
        slope = w.get("slope")
        if w["activation"] != n.activation or (slope is not None and slope != n.slope):
            net.set_activation(nid, w["activation"], slope)
        if w.get("label", nid) != n.label:
            net.set_label(nid, w.get("label", nid))
        if (w.get("x", 0.0), w.get("y", 0.0)) != (n.x, n.y):
            moves[nid] = (w.get("x", 0.0), w.get("y", 0.0))
        if n.role != "input":
            if w.get("bias", 0.0) != n.bias:
                params[nid] = w.get("bias", 0.0)
            if bool(w.get("bias_trainable", True)) != n.bias_trainable:
                net.set_trainable(nid, bool(w.get("bias_trainable", True)))
    for cid, c in net.connections.items():
        w = want_c[cid]
        if w.get("weight", 0.0) != c.weight:
            params[cid] = w.get("weight", 0.0)
        if bool(w.get("trainable", True)) != c.trainable:
            net.set_trainable(cid, bool(w.get("trainable", True)))
    if moves:
        net.move_neurons(moves)
    if params:
        net.set_params(params)
    new_n = [d for i, d in want_n.items() if i not in net.neurons]
    new_c = [d for i, d in want_c.items() if i not in net.connections]
    if new_n or new_c:   # (in their places: the order of every item is restored with them)
        net.add_from_dicts(new_n, new_c, check_cycle=False, neuron_order=list(want_n),
                           connection_order=list(want_c))
    else:
        net.reorder(list(want_n), list(want_c))


class ConnectCommand(AddItemsCommand):
    def __init__(self, doc: UndoTarget, conn: dict, text: str) -> None:
        super().__init__(doc, [], [conn], text)


class MoveCommand(_Command):
    """Neuron positions before/after a drag (the canvas pushes it once, on release)."""

    def __init__(self, doc: UndoTarget, old: dict, new: dict, text: str = "Move") -> None:
        super().__init__(doc, text)
        self.old, self.new = dict(old), dict(new)

    def redo(self) -> None:
        self.net.move_neurons({k: v for k, v in self.new.items() if k in self.net.neurons})

    def undo(self) -> None:
        self.net.move_neurons({k: v for k, v in self.old.items() if k in self.net.neurons})


# ---------------------------------------------------------------------- parameters
class _OldNewCommand(_Command):
    """An edit from ``old`` to ``new``. With ``mergeable`` (False, or a key such as one slider
    drag), consecutive edits with the same key that ``_same_target`` accepts merge into one
    undo step keeping the first ``old`` and the last ``new``."""

    ID = -1

    def __init__(self, doc: UndoTarget, old: Any, new: Any, text: str,
                 mergeable: Any = False) -> None:
        super().__init__(doc, text)
        self.old, self.new, self.mergeable = old, new, mergeable

    def id(self) -> int:
        return self.ID

    def _same_target(self, other: Any) -> bool:
        return True

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not self.mergeable or getattr(other, "mergeable", False) != self.mergeable:
            return False
        if not self._same_target(other):
            return False
        self.new = other.new  # (the same class: the ids matched)
        return True


class SetParamsCommand(_OldNewCommand):
    """Set weights/biases; a slider drag or a spin-box scrub of the same parameters merges
    into one undo step."""

    ID = ID_SET_PARAMS

    def __init__(self, doc: UndoTarget, old: dict, new: dict, text: str,
                 mergeable: Any = False) -> None:
        super().__init__(doc, dict(old), dict(new), text, mergeable)

    def _same_target(self, other: Any) -> bool:
        return set(other.new) == set(self.new)

    def redo(self) -> None:
        self.net.set_params(self.new)

    def undo(self) -> None:
        self.net.set_params(self.old)


class ParamVectorCommand(_Command):
    """Many parameter values at once (randomize, a training run): before/after arrays over
    ``pids``. Slots are looked up at apply time."""

    def __init__(self, doc: UndoTarget, pids: list[str], before: Any, after: Any,
                 text: str) -> None:
        super().__init__(doc, text)
        self.pids = list(pids)
        self.before = np.array(before, dtype=np.float64, copy=True)
        self.after = np.array(after, dtype=np.float64, copy=True)

    def _apply(self, values: np.ndarray) -> None:
        net = self.net
        keep = [i for i, p in enumerate(self.pids) if p in net.connections
                or (p in net.neurons and net.neurons[p].role != "input")]
        slots = np.array([net.param_slot(self.pids[i]) for i in keep], dtype=np.intp)
        net.set_param_vector(slots, values[keep])

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


class SetTrainableCommand(_Command):
    def __init__(self, doc: UndoTarget, old: dict, flag: bool, text: str) -> None:
        super().__init__(doc, text)
        self.old, self.flag = dict(old), bool(flag)

    def redo(self) -> None:
        for pid in self.old:
            self.net.set_trainable(pid, self.flag)

    def undo(self) -> None:
        for pid, f in self.old.items():
            self.net.set_trainable(pid, f)


# ---------------------------------------------------------------------- neuron attributes
class SetActivationCommand(_Command):
    structural = True

    def __init__(self, doc: UndoTarget, old: dict, name: str, slope: float | None,
                 text: str) -> None:
        """``old``: nid -> (activation, slope)."""
        super().__init__(doc, text)
        self.old, self.name, self.slope = dict(old), name, slope

    def redo(self) -> None:
        self._about()
        for nid in self.old:
            self.net.set_activation(nid, self.name, self.slope)

    def undo(self) -> None:
        self._about()
        for nid, (act, slope) in self.old.items():
            self.net.set_activation(nid, act, slope)


class SetLabelCommand(_Command):
    def __init__(self, doc: UndoTarget, nid: str, old: str, new: str, text: str) -> None:
        super().__init__(doc, text)
        self.nid, self.old, self.new = nid, old, new

    def redo(self) -> None:
        self.net.set_label(self.nid, self.new)

    def undo(self) -> None:
        self.net.set_label(self.nid, self.old)


class SetRoleCommand(_Command):
    """A role change may reset the activation (input → identity) and the bias; undo restores
    the neuron's full previous state."""

    structural = True

    def __init__(self, doc: UndoTarget, old: dict, role: str, text: str) -> None:
        """``old``: nid -> the neuron's dict before."""
        super().__init__(doc, text)
        self.old, self.role = {k: dict(v) for k, v in old.items()}, role

    def redo(self) -> None:
        self._about()
        for nid, d in self.old.items():
            self.net.set_role(nid, self.role)
            if d["role"] == "input" and self.role != "input":
                self.net.set_trainable(nid, True)   # an input's bias was locked at 0

    def undo(self) -> None:
        self._about()
        net = self.net
        for nid, d in self.old.items():
            net.set_role(nid, d["role"])
            net.set_activation(nid, d["activation"], d.get("slope"))
            if d["role"] != "input":
                net.set_param(nid, d["bias"])
                net.set_trainable(nid, d["bias_trainable"])


# ---------------------------------------------------------------------- project-level
class SetProjectValueCommand(_OldNewCommand):
    """A value of the project beside the network (the training settings, the dataset, the
    lesson text): ``apply(value)`` is the document's setter for it, which puts the value in
    and sends the document's signal. With ``mergeable``, consecutive edits with the same text
    (the same settings changed again, as while typing) merge into one undo step."""

    ID = ID_PROJECT_VALUE

    def __init__(self, doc: UndoTarget, old: Any, new: Any, apply: Callable[[Any], None],
                 text: str, *, mergeable: Any = False, structural: bool = False) -> None:
        super().__init__(doc, old, new, text, mergeable)
        self.apply = apply
        self.structural = structural

    def _same_target(self, other: Any) -> bool:
        return other.apply == self.apply and other.text() == self.text()

    def redo(self) -> None:
        self._about()
        self.apply(self.new)

    def undo(self) -> None:
        self._about()
        self.apply(self.old)

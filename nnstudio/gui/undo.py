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

The document's stack is an :class:`UndoStack`: it says ``aboutToChange(kind)`` before every
push, undo, redo or jump made through it, so live training can record itself at that point
(the training controller splits its run there) and the stack always tells the truth.

Image layers (image input, convolution, pooling, flatten) are items too: adding, pasting and
removing them are :class:`AddItemsCommand` and :class:`RemoveCommand` like neurons; an edit of
their settings or their sources is an :class:`ImageLayersCommand` between two lists of layer
dicts (``Network.set_image_layers``). A flatten's feature neurons are never added, removed or
moved by a command: they come and go with their layer. A filter's values and its lock are
parameters (``"conv[0].w[0,1,2]"``), so :class:`SetParamsCommand` and
:class:`SetTrainableCommand` serve the filter grid unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtGui import QUndoCommand, QUndoStack

from nnstudio.core.network import FEATURE_ROLE, Network, NetworkError

# ids for QUndoCommand.mergeWith: only commands with the same id (and both mergeable) merge.
ID_SET_PARAMS = 1001
ID_PROJECT_VALUE = 1002


class UndoStack(QUndoStack):
    """The document's undo stack: ``aboutToChange(kind)`` ("push", "undo", "redo", "index")
    comes before each change made through these methods. Qt's own undo/redo actions and
    ``QUndoView`` call the C++ methods and bypass it: the window builds its Undo/Redo actions
    on :meth:`undo`/:meth:`redo` here, and the history view is read-only while training runs."""

    aboutToChange = Signal(str)

    def push(self, command: QUndoCommand) -> None:
        self.aboutToChange.emit("push")
        super().push(command)

    def beginMacro(self, text: str) -> None:
        self.aboutToChange.emit("push")
        super().beginMacro(text)

    def undo(self) -> None:
        if self.canUndo():
            self.aboutToChange.emit("undo")
        super().undo()

    def redo(self) -> None:
        if self.canRedo():
            self.aboutToChange.emit("redo")
        super().redo()

    def setIndex(self, index: int) -> None:
        if index != self.index():
            self.aboutToChange.emit("index")
        super().setIndex(index)


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
    """Add image layers, neurons and connections (given as dicts with their ids: the layers
    first, whose flattens derive the feature neurons the connections may start at); undo
    removes them. They were validated by the document when the command was first pushed, so
    the (slow, and here pointless) cycle search is skipped: undo stays fast at 100,000
    connections."""

    structural = True

    def __init__(self, doc: UndoTarget, neurons: list[dict], connections: list[dict],
                 text: str, layers: list[dict] | None = None) -> None:
        super().__init__(doc, text)
        self.neurons = [dict(n) for n in neurons]
        self.connections = [dict(c) for c in connections]
        self.layers = [dict(d) for d in layers or ()]

    def redo(self) -> None:
        self._about()
        if self.layers:
            self.net.add_image_layer_dicts(self.layers)
        self.net.add_from_dicts(self.neurons, self.connections, check_cycle=False)

    def undo(self) -> None:
        self._about()
        net = self.net
        net.disconnect_many([c["id"] for c in self.connections if c["id"] in net.connections])
        for n in self.neurons:
            if n["id"] in net.neurons:
                net.remove_neuron(n["id"])
        gone = [d["id"] for d in self.layers if d["id"] in net.image_layers]
        if gone:
            net.remove_image_layers(gone)
        self.doc.prune_selection()


class RemoveCommand(_Command):
    """Remove neurons (with every connection they touch), connections and image layers (with
    their feature neurons, whose connections go too; the layers they fed lose their source);
    undo puts all of them back in their places with the same ids and values. Feature neurons
    are never removed on their own: the document leaves them out of ``ids``."""

    structural = True

    def __init__(self, doc: UndoTarget, ids: Iterable[str], text: str) -> None:
        super().__init__(doc, text)
        self.ids = list(ids)
        self.neurons: list[dict] = []
        self.connections: list[dict] = []
        self.neuron_order: list[str] = []
        self.connection_order: list[str] = []
        self.layers_before: list[dict] | None = None   # every layer, if any was removed

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
        layers = [i for i in self.ids if i in net.image_layers]
        self.layers_before = None
        if layers:
            removed = net.remove_image_layers(layers)
            self.layers_before = removed.before
            conns = conns + removed.connections
        self.neurons, self.connections = neurons, conns
        self.doc.prune_selection()

    def undo(self) -> None:
        self._about()
        net = self.net
        if self.layers_before is not None:
            net.set_image_layers(self.layers_before)   # (their feature neurons come back)
        net.add_from_dicts(self.neurons, self.connections, check_cycle=False,
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
    every change), touching only what differs. The image layers are set first (their feature
    neurons, which no state lists, follow them), then the neurons and connections."""
    want_n = {d["id"]: d for d in state["neurons"]}
    want_c = {d["id"]: d for d in state["connections"]}
    gone = [cid for cid, c in net.connections.items()
            if (w := want_c.get(cid)) is None or w["source"] != c.source or w["target"] != c.target]
    if gone:
        net.disconnect_many(gone)
    want_layers = state.get("image_layers", [])
    if want_layers or net.image_layers:
        net.set_image_layers(want_layers)
    for nid in [nid for nid, n in net.neurons.items()
                if nid not in want_n and n.role != FEATURE_ROLE]:
        net.remove_neuron(nid)
    # neurons that stay: role first (it may reset activation and bias), then the rest; the
    # connections that would forbid a role are already gone
    kept = [(nid, n) for nid, n in net.neurons.items() if n.role != FEATURE_ROLE]
    for nid, n in kept:
        w = want_n[nid]
        if w["role"] != n.role:
            net.set_role(nid, w["role"])
    moves = {}
    params = {}
    for nid, n in kept:
        w = want_n[nid]
        slope = w.get("slope")
        if w["activation"] != n.activation or (slope is not None and slope != n.slope):
            net.set_activation(nid, w["activation"], slope)
        if bool(w.get("slope_trainable", False)) != n.slope_trainable:
            net.set_slope_trainable(nid, bool(w.get("slope_trainable", False)))
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


class ImageLayersCommand(_Command):
    """The image layers before/after an edit of their settings or sources (lists of layer
    dicts, ``Network.image_layer_dicts``), moved between with ``Network.set_image_layers``.
    The connections that went with feature neurons the edit removed (a flatten that lost its
    source or changed its size) come back on undo, in their places."""

    structural = True

    def __init__(self, doc: UndoTarget, before: list[dict], after: list[dict],
                 text: str) -> None:
        super().__init__(doc, text)
        self.before, self.after = before, after
        self.dropped: list[dict] = []
        self.connection_order: list[str] = []

    def redo(self) -> None:
        self._about()
        net = self.net
        self.connection_order = list(net.connections)
        self.dropped = net.set_image_layers(self.after)
        self.doc.prune_selection()

    def undo(self) -> None:
        self._about()
        net = self.net
        net.set_image_layers(self.before)
        if self.dropped:
            net.add_from_dicts((), self.dropped, check_cycle=False,
                               connection_order=self.connection_order)
        self.doc.prune_selection()


class MoveCommand(_Command):
    """Positions of neurons and image layers before/after a drag (the canvas pushes it once,
    on release); a flatten's feature neurons follow it."""

    def __init__(self, doc: UndoTarget, old: dict, new: dict, text: str = "Move") -> None:
        super().__init__(doc, text)
        self.old, self.new = dict(old), dict(new)

    def _move(self, positions: dict) -> None:
        net = self.net
        neurons = {k: v for k, v in positions.items() if k in net.neurons}
        layers = {k: v for k, v in positions.items() if k in net.image_layers}
        if neurons:
            net.move_neurons(neurons)
        if layers:
            net.move_image_layers(layers)

    def redo(self) -> None:
        self._move(self.new)

    def undo(self) -> None:
        self._move(self.old)


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
        """Set the parameters that still exist (weights, biases, filter parameters)."""
        net = self.net
        keep, slots = [], []
        for i, p in enumerate(self.pids):
            try:
                slots.append(net.param_slot(p))
            except NetworkError:
                continue
            keep.append(i)
        net.set_param_vector(np.array(slots, dtype=np.intp), values[keep])

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


class SetSlopeTrainableCommand(_Command):
    """Train the leaky slope of neurons or not (parametric ReLU): it adds or removes a
    parameter, so the engine recompiles."""

    structural = True

    def __init__(self, doc: UndoTarget, nids: list[str], trainable: bool, text: str) -> None:
        super().__init__(doc, text)
        self.nids, self.trainable = list(nids), trainable

    def redo(self) -> None:
        self._about()
        for nid in self.nids:
            self.net.set_slope_trainable(nid, self.trainable)

    def undo(self) -> None:
        self._about()
        for nid in self.nids:
            self.net.set_slope_trainable(nid, not self.trainable)


class SetLabelCommand(_Command):
    """A neuron's or an image layer's label."""

    def __init__(self, doc: UndoTarget, nid: str, old: str, new: str, text: str) -> None:
        super().__init__(doc, text)
        self.nid, self.old, self.new = nid, old, new

    def _set(self, label: str) -> None:
        if self.nid in self.net.image_layers:
            self.net.set_layer_label(self.nid, label)
        else:
            self.net.set_label(self.nid, label)

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


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
            net.set_slope_trainable(nid, bool(d.get("slope_trainable", False)))
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

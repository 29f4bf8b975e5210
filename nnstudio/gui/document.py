"""The document: one open project, its undo stack, the selection and the chosen sample.

It is the ONE edit API of the GUI. Panels call its edit methods; each validates the edit first
(a refusal raises ``NetworkError``/``ValueError`` with a message and changes nothing), then
pushes exactly one undo command (:mod:`nnstudio.gui.undo`), which changes the core model.
What an edit will do is computed by the network's pure operations (layout positions,
re-initialised values, planned connections) or on a copy, never by changing the network and
putting it back. Views follow the signals below; ``networkChanged(event, ids)`` relays the
network's own change notices (a :class:`~nnstudio.core.network.NetworkEvent` and the ids).
Nothing here keeps a second copy of a weight.

Image layers (image input, convolution, pooling, flatten) are edited like neurons: added,
moved, renamed, connected (a layer's ``source``), removed, copied and pasted, each one undo
step. A flatten's feature neurons belong to their layer: they are selected and inspected like
neurons but moved, deleted and copied only with it. A filter's weights and its lock are
parameters (``set_params`` / ``set_trainable`` with the filter's parameter ids).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand

from nnstudio.core.derived_inputs import DERIVED, check_derived
from nnstudio.core.engine import Engine
from nnstudio.core.messages import quote
from nnstudio.core.network import (
    CONNECTION_ID_PREFIX,
    ID_PREFIX,
    KINDS,
    LAYER_ID_PREFIX,
    ROLES,
    Network,
    NetworkError,
    NetworkEvent,
    finite_number,
    position,
)
from nnstudio.core.network.image_layers import KIND_TITLES
from nnstudio.gui import undo
from nnstudio.gui.widgets import count_phrase

if TYPE_CHECKING:  # pragma: no cover  (types only: the project module is imported when used)
    from types import ModuleType

    from nnstudio.core.datasets import Dataset
    from nnstudio.core.engine import Evaluation
    from nnstudio.core.lessons.goals import Challenges
    from nnstudio.core.project import Project
    from nnstudio.core.trainer import TrainSettings


def _project_module() -> ModuleType:
    from nnstudio.core import project
    return project


class Document(QObject):
    networkChanged = Signal(object, object)   # (NetworkEvent, tuple of ids)
    projectReplaced = Signal()
    selectionChanged = Signal(object)
    sampleChanged = Signal(int)
    settingsChanged = Signal()
    datasetChanged = Signal()
    descriptionChanged = Signal()
    challengesChanged = Signal()
    evaluationChanged = Signal()
    modifiedChanged = Signal(bool)
    pathChanged = Signal(object)
    statusMessage = Signal(str, int)
    structureAboutToChange = Signal()

    def __init__(self, project: Project | None = None, path: str | Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        if project is None:
            project = _project_module().new_project()
        self.undo_stack = undo.UndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.project = project
        self.path: Path | None = Path(path) if path is not None else None
        # the shipped lesson this untitled project was copied from (the title names it)
        self.source_sample: Path | None = None
        self.selection: tuple[str, ...] = ()
        self.sample_index = 0
        self.training_active = False
        self._engine: Engine | None = None
        self._param_pos: tuple | None = None
        self._evaluation = None
        self._evaluation_error: str | None = None
        self._eval_valid = False
        self._eval_pending = False
        self._extra_dirty = False   # changes outside the undo stack (training snapshots)
        self._subscribed: Network | None = None
        self._subscribe()

    # ------------------------------------------------------------------ properties
    @property
    def network(self) -> Network:
        return self.project.network

    @property
    def dataset(self) -> Dataset | None:
        return self.project.dataset

    @property
    def settings(self) -> TrainSettings:
        return self.project.settings

    @property
    def description(self) -> str:
        return self.project.description

    @property
    def challenges(self) -> Challenges | None:
        """The lesson's goals (the project's ``challenges`` section), or None."""
        return self.project.challenges

    @property
    def name(self) -> str:
        return self.path.name if self.path else (getattr(self.project, "name", "") or "Untitled")

    def _on_clean_changed(self, clean: bool) -> None:
        if not shiboken6.isValid(self):
            return
        self.modifiedChanged.emit(not clean or self._extra_dirty)

    def is_modified(self) -> bool:
        if not shiboken6.isValid(self.undo_stack):  # being destroyed (QUndoStack.clear emits)
            return False
        return self._extra_dirty or not self.undo_stack.isClean()

    # ------------------------------------------------------------------ notices
    def _subscribe(self) -> None:
        if self._subscribed is not None:
            self._subscribed.unsubscribe(self._on_network)
        self._subscribed = self.network
        self.network.subscribe(self._on_network)

    def _on_network(self, event: NetworkEvent, ids: tuple) -> None:
        if event is not NetworkEvent.NEURON_MOVED:   # positions change no value
            self._invalidate()
        self.networkChanged.emit(event, ids)

    def _invalidate(self) -> None:
        self._eval_valid = False
        if not self._eval_pending:
            self._eval_pending = True
            QTimer.singleShot(0, self, self._emit_evaluation)

    def _emit_evaluation(self) -> None:
        self._eval_pending = False
        self.evaluationChanged.emit()

    # ------------------------------------------------------------------ reading
    def engine(self) -> Engine:
        """The compiled engine for the current network (recompiled only on structure change);
        raises NetworkError/EngineError if the network cannot be compiled."""
        self._engine = Engine.for_network(self.network, self._engine)
        return self._engine

    def _data(self) -> tuple[np.ndarray, np.ndarray] | None:
        ds = self.dataset
        if ds is None or len(ds) == 0:
            return None
        return np.asarray(ds.X, dtype=np.float64), np.asarray(ds.Y, dtype=np.float64)

    def evaluation(self) -> Evaluation | None:
        """Evaluation over the whole dataset at the current parameters, or None (see
        :meth:`evaluation_error`)."""
        if self._eval_valid:
            return self._evaluation
        self._eval_valid = True
        self._evaluation, self._evaluation_error = None, None
        try:
            data = self._data()
            if data is None:
                self._evaluation_error = "the dataset is empty"
                return None
            net = self.network
            if not net.inputs and not net.image_input_columns():
                self._evaluation_error = "the network has no input neurons or image inputs"
                return None
            if not self.network.outputs:
                self._evaluation_error = "the network has no output neurons"
                return None
            st = self.settings
            with np.errstate(all="ignore"):   # an overflow shows as inf in the views, unwarned
                self._evaluation = self.engine().evaluate(data[0], data[1], st.loss,
                                                          st.penalty)
        except (ValueError, FloatingPointError) as e:
            self._evaluation_error = str(e)
            self._evaluation = None
        return self._evaluation

    def evaluation_error(self) -> str | None:
        self.evaluation()
        return self._evaluation_error

    def loss(self) -> float | None:
        ev = self.evaluation()
        return None if ev is None else float(ev.loss)

    def neuron_values(self, nid: str) -> tuple[float, float, float] | None:
        """(z, a, dL/dz) of neuron ``nid`` for the chosen sample, or None."""
        ev = self.evaluation()
        if ev is None or self._engine is None or nid not in self._engine.index:
            return None
        i = self._engine.index[nid]
        s = min(max(self.sample_index, 0), ev.z.shape[0] - 1)
        return float(ev.z[s, i]), float(ev.a[s, i]), float(ev.dl_dz[s, i])

    def param_positions(self) -> dict[str, int]:
        """pid -> index into the engine's parameter vector (and Evaluation.grad); cached per
        compiled engine, so looking up many parameters stays fast."""
        eng = self.engine()
        if self._param_pos is None or self._param_pos[0] is not eng:
            self._param_pos = (eng, {p: i for i, p in enumerate(eng.param_ids)})
        return self._param_pos[1]

    def param_gradient(self, pid: str) -> float | None:
        """dL/dp over the whole dataset for a weight or bias, or None."""
        ev = self.evaluation()
        if ev is None or self._engine is None:
            return None
        i = self.param_positions().get(pid)
        return None if i is None else float(ev.grad[i])

    def param_gradients(self, pids: list[str]) -> np.ndarray | None:
        """dL/dp for many parameters as an array (NaN where there is none), or None."""
        ev = self.evaluation()
        if ev is None or self._engine is None:
            return None
        pos = self.param_positions()
        idx = np.array([pos.get(p, -1) for p in pids], dtype=np.intp)
        out = np.full(len(pids), np.nan)
        ok = idx >= 0
        out[ok] = ev.grad[idx[ok]]
        return out

    # ------------------------------------------------------------------ selection / sample
    def set_selection(self, ids: Iterable[str]) -> None:
        net = self.network
        sel = tuple(dict.fromkeys(i for i in ids if i in net))
        if sel != self.selection:
            self.selection = sel
            self.selectionChanged.emit(sel)

    def prune_selection(self) -> None:
        """Drop the ids of items that no longer exist from the selection."""
        self.set_selection(self.selection)

    def selected_neurons(self) -> list[str]:
        return [i for i in self.selection if i in self.network.neurons]

    def selected_connections(self) -> list[str]:
        return [i for i in self.selection if i in self.network.connections]

    def selected_layers(self) -> list[str]:
        return [i for i in self.selection if i in self.network.image_layers]

    def set_sample(self, index: int) -> None:
        n = len(self.dataset) if self.dataset is not None else 0
        index = int(index)
        if n and not 0 <= index < n:
            raise ValueError(f"sample {index} does not exist; the dataset has samples 0 to {n - 1}")
        if index != self.sample_index:
            self.sample_index = index
            self.sampleChanged.emit(index)
            self._evaluation_changed_soon()

    def _evaluation_changed_soon(self) -> None:
        if not self._eval_pending:
            self._eval_pending = True
            QTimer.singleShot(0, self, self._emit_evaluation)

    def message(self, text: str, timeout: int = 5000) -> None:
        self.statusMessage.emit(text, timeout)

    # ------------------------------------------------------------------ edits: structure
    def _push(self, command: QUndoCommand) -> None:
        self.undo_stack.push(command)

    def add_neuron(self, role: str, x: float, y: float, activation: str | None = None) -> str:
        net = self.network
        nid = net.new_neuron_id(role)
        d = net.neuron_dict(role, id=nid, activation=activation, x=x, y=y)  # validates
        self._push(undo.AddItemsCommand(self, [d], [], f"Add {role} neuron {nid}"))
        return nid

    def remove(self, ids: Iterable[str]) -> None:
        """Delete neurons, connections and image layers as one undo step. Feature neurons go
        only with their flatten layer: among other items they are left out; alone, refused."""
        net = self.network
        ids = list(dict.fromkeys(ids))
        missing = [i for i in ids if i not in net]
        if missing:
            raise NetworkError(f"cannot delete {', '.join(map(repr, missing))}: no such item")
        features = [i for i in ids if net.flatten_of(i) is not None]
        if features:
            ids = [i for i in ids if i not in set(features)]
            if not ids:
                flat = net.image_layers[net.flatten_of(features[0]) or ""]
                raise NetworkError(f"{net.name(features[0])} is a feature neuron of "
                                   f"{flat.title}: delete the flatten layer to remove it")
        if not ids:
            return
        nn = sum(1 for i in ids if i in net.neurons)
        nl = sum(1 for i in ids if i in net.image_layers)
        self._push(undo.RemoveCommand(
            self, ids, "Delete " + count_phrase(nn, len(ids) - nn - nl, layers=nl)))

    def move_items(self, positions: dict, text: str | None = None) -> None:
        """Move neurons and image layers to ``positions`` (id -> (x, y)) as one undo step
        (named ``text``, or "Move ..." after the items). A flatten's feature neurons follow it
        and are not moved on their own (left out here)."""
        net = self.network
        new, old = {}, {}
        for item_id, (x, y) in positions.items():
            if net.flatten_of(item_id) is not None:
                continue
            was = net.image_layers.get(item_id) or net.neuron(item_id)
            # checked before the undo step is pushed: a refused move changes nothing
            x = position(x, f"x position of {self._name(item_id)}")
            y = position(y, f"y position of {self._name(item_id)}")
            if (was.x, was.y) != (x, y):
                old[item_id], new[item_id] = (was.x, was.y), (x, y)
        if not new:
            return
        if text is None:
            text = f"Move {self._label(next(iter(new)))}" if len(new) == 1 \
                else f"Move {len(new)} items"
        self._push(undo.MoveCommand(self, old, new, text))

    def _label(self, item_id: str) -> str:
        """A neuron's or an image layer's label."""
        layer = self.network.image_layers.get(item_id)
        return layer.label if layer is not None else self.network.neurons[item_id].label

    def _name(self, item_id: str) -> str:
        """How a message names a neuron or an image layer."""
        layer = self.network.image_layers.get(item_id)
        return layer.title if layer is not None else self.network.name(item_id)

    def check_connect(self, src: str, tgt: str) -> None:
        """Raise NetworkError if ``connect(src, tgt)`` would be refused: into an image layer,
        the model's rules for its source; otherwise the rules for a connection."""
        net = self.network
        if tgt in net.image_layers:
            net.check_layer_source(tgt, src)
        else:
            net.check_connect(src, tgt)

    def connect(self, src: str, tgt: str, weight: float | None = None) -> str:
        """Connect ``src`` to ``tgt`` as one undo step; returns the new connection's id. Into
        an image layer, ``src`` becomes the layer's source (:meth:`set_layer_source`) and the
        layer's id is returned."""
        net = self.network
        if tgt in net.image_layers:
            self.set_layer_source(tgt, src)
            return tgt
        net.check_connect(src, tgt)
        if weight is None:
            rng = np.random.default_rng()
            weight = float(rng.uniform(-1.0, 1.0))
        weight = float(weight)
        if not math.isfinite(weight):
            raise NetworkError(f"weight of {src} → {tgt} must be a finite number")
        cid = net.new_id(CONNECTION_ID_PREFIX)
        d = {"id": cid, "source": src, "target": tgt, "weight": weight, "trainable": True}
        self._push(undo.ConnectCommand(
            self, d, f"Connect {net.neurons[src].label} → {net.neurons[tgt].label}"))
        return cid

    def paste(self, neuron_dicts: list[dict], connection_dicts: list[dict],
              offset: tuple[float, float] = (40.0, 40.0),
              layer_dicts: list[dict] | None = None) -> list[str]:
        """Add copies of image layers and neurons (new ids) and the connections among them;
        returns the new ids (layers, neurons, then connections). Connections to items outside
        the set are dropped, and so is a layer's source outside it; a pasted flatten's feature
        neurons take its new id ("flat2.3" for "flat1.3")."""
        net = self.network
        trial = Network()   # the pasted items alone: connections stay inside the set
        counters: dict[str, int] = {}

        def fresh(prefix: str) -> str:
            """The smallest id prefix<i> neither the network nor the paste uses yet."""
            i = counters.get(prefix, 1)
            while f"{prefix}{i}" in net or f"{prefix}{i}" in trial or f"{prefix}{i}" in used:
                i += 1
            counters[prefix] = i + 1
            return f"{prefix}{i}"

        used: set[str] = set()
        id_map: dict[str, str] = {}
        new_layers = self._pasted_layers(layer_dicts or [], offset, fresh, id_map, used)
        if new_layers:
            trial.add_image_layer_dicts(new_layers)   # validates, with the network's messages
            self._check_feature_ids(trial)
        for old, new in list(id_map.items()):   # feature neurons: "flat1.3" -> "flat2.3"
            for k, fid in enumerate(trial.feature_neurons(new)):
                id_map[f"{old}.{k}"] = fid
        new_n, new_c = [], []
        for d in neuron_dicts:
            if not isinstance(d, dict) or not isinstance(d.get("id"), str):
                raise NetworkError("the clipboard holds a neuron without an id")
            role = d.get("role", "hidden")
            if not isinstance(role, str) or role not in ROLES:
                raise NetworkError(f"pasted neuron {quote(d['id'])} has an unknown role "
                                   f"{quote(role)}")
            nid = fresh(ID_PREFIX[role])
            nd = {k: d[k] for k in ("role", "activation", "bias", "bias_trainable", "slope",
                                    "slope_trainable") if k in d}
            nd["id"] = nid
            label = d.get("label", d["id"])
            label = label.strip() if isinstance(label, str) else ""
            # a neuron named after its old id takes its new id; a real name is kept
            nd["label"] = nid if label in ("", d["id"]) or len(label) > 64 else label
            nd["x"] = finite_number(d.get("x", 0.0),
                                     f"x position of pasted neuron {quote(d['id'])}") + offset[0]
            nd["y"] = finite_number(d.get("y", 0.0),
                                     f"y position of pasted neuron {quote(d['id'])}") + offset[1]
            trial.add_from_dicts([nd], [])   # validates, with the network's messages
            id_map[d["id"]] = nid
            new_n.append(nd)
        for d in connection_dicts:
            if not isinstance(d, dict):
                continue
            src, tgt = d.get("source"), d.get("target")
            if not (isinstance(src, str) and isinstance(tgt, str)) or src not in id_map \
                    or tgt not in id_map:
                continue  # (a source that is a list, say: not a connection among the set)
            cd = {k: d[k] for k in ("weight", "trainable") if k in d}
            cd.update(id=fresh(CONNECTION_ID_PREFIX), source=id_map[d["source"]],
                      target=id_map[d["target"]])
            new_c.append(cd)
        trial.add_connection_dicts(new_c)   # validates them all (the first problem raises)
        # as the network holds them (a number for the weight, a flag for the lock): the undo
        # step then adds them on the bulk path, with no copy of a large network to check them
        new_c = [trial.connections[cd["id"]].to_dict() for cd in new_c]
        if not new_n and not new_layers:
            return []
        text = "Paste " + count_phrase(len(new_n), 0, layers=len(new_layers))
        self._push(undo.AddItemsCommand(self, new_n, new_c, text, layers=new_layers))
        return [d["id"] for d in new_layers] + [d["id"] for d in new_n] \
            + [d["id"] for d in new_c]

    @staticmethod
    def _pasted_layers(layer_dicts: list[dict], offset: tuple[float, float],
                       fresh: Callable[[str], str], id_map: dict[str, str],
                       used: set[str]) -> list[dict]:
        """Copies of the layer dicts with new ids (recorded in ``id_map``), moved by
        ``offset``; a source outside the set is dropped."""
        out = []
        for d in layer_dicts:
            if not isinstance(d, dict) or not isinstance(d.get("id"), str) \
                    or d.get("kind") not in KINDS:
                raise NetworkError("the clipboard holds an image layer without an id or a kind")
            lid = fresh(LAYER_ID_PREFIX[d["kind"]])
            used.add(lid)
            id_map[d["id"]] = lid
            out.append(d)
        copies = []
        for d in out:
            nd = dict(d)
            nd["id"] = id_map[d["id"]]
            label = d.get("label", d["id"])
            # a layer named after its old id takes its new id; a real name is kept
            nd["label"] = nd["id"] if label == d["id"] else label
            for axis, shift in (("x", offset[0]), ("y", offset[1])):
                nd[axis] = finite_number(d.get(axis, 0.0),
                                         f"{axis} position of pasted layer {d['id']!r}") + shift
            src = d.get("source")
            if src in id_map:
                nd["source"] = id_map[src]
            else:
                nd.pop("source", None)
            copies.append(nd)
        return copies

    def _check_feature_ids(self, trial: Network) -> None:
        """Refuse a paste whose flattens would derive feature ids the network uses."""
        net = self.network
        for lid in trial.image_layers:
            if trial.image_layers[lid].kind != "flatten":
                continue
            for fid in trial.feature_neurons(lid):
                if fid in net:
                    raise NetworkError(f"the pasted flatten {lid!r} would need the id {fid} "
                                       f"for a feature neuron, but it is in use")

    def _state_edit(self, text: str, fn: Callable[[Network], list[str]]) -> list[str]:
        """Run ``fn(trial_network)`` on a copy; if it succeeds, push the state change."""
        net = self.network
        before = net.to_dict()
        trial = net.copy()
        result = fn(trial)
        after = trial.to_dict()
        if after == before:
            return result
        self._push(undo.NetworkStateCommand(self, before, after, text))
        return result

    def add_dense_layer(self, after_layer: int, count: int, activation: str = "relu",
                        seed: int | None = None) -> list[str]:
        seed = self.settings.seed if seed is None else seed
        return self._state_edit(
            f"Add dense layer of {count}",
            lambda t: t.add_dense_layer(after_layer, count, activation, seed=seed))

    def connect_fully(self, ids: Iterable[str] | None = None, seed: int | None = None) -> list[str]:
        """Connect the selected neurons column by column, like a dense network: neurons are
        grouped into columns by their x position (left to right, ``Network.columns_by_x``) and
        every neuron of a column feeds every neuron of the next column, with the weights of
        ``Network.plan_full_connections`` (Xavier for each pair of columns). Pairs that are
        already connected or would be refused (into an input, out of an output, a cycle) are
        skipped. One undo step."""
        net = self.network
        ids = [i for i in (self.selection if ids is None else ids) if i in net.neurons]
        if len(ids) < 2:
            raise NetworkError("select at least two neurons to connect fully")
        columns = net.columns_by_x(ids)
        if len(columns) < 2:
            raise NetworkError("the selected neurons stand in one column; connections run "
                               "left to right, so place the targets to the right of the sources")
        seed = self.settings.seed if seed is None else seed
        plan = net.plan_full_connections(zip(columns, columns[1:], strict=False), seed)
        if not plan.ids:
            raise NetworkError("no new connections are possible among the selected neurons")
        self._push(undo.AddItemsCommand(self, [], plan.dicts(),
                                        f"Connect {len(plan.ids)} pairs fully"))
        return plan.ids

    # ------------------------------------------------------------------ edits: Playground's
    def set_derived_input(self, name: str, on: bool) -> str | None:
        """Switch the derived input ``name`` ("x1^2": :mod:`nnstudio.core.derived_inputs`) on
        or off, as one undo step. On: a new input neuron below the other inputs, labelled with
        the data's column names (x1², dosage²) and connected like them (to every neuron they
        feed, Xavier weights from the seed); off: that neuron and its connections go. Returns
        the neuron's id (None when switched off)."""
        net = self.network
        have = net.derived_input(name)
        if not on:
            if have is not None:
                self._push(undo.RemoveCommand(self, [have.id],
                                              f"Switch off derived input {have.label}"))
            return None
        if have is not None:
            return have.id
        ds = self.dataset
        names = ds.input_names if ds is not None else ()
        problem = check_derived(name, len(net.data_inputs))
        if problem:
            raise NetworkError(problem)
        inputs = net.inputs
        nid = net.new_neuron_id("input")
        x, y = _below(net, [n.id for n in inputs])
        d = net.neuron_dict("input", id=nid, label=DERIVED[name].label(names), x=x, y=y,
                            derive=name)
        plan = net.plan_like(nid, "input", [n.id for n in inputs], self.settings.seed)
        self._push(undo.AddItemsCommand(self, [d], plan.dicts(),
                                        f"Switch on derived input {d['label']}"))
        return nid

    def add_neuron_to_layer(self, layer: int) -> str:
        """A new neuron at the bottom of layer ``layer`` (a depth, as ``Network.layers``),
        of the role and activation of the neurons there and connected like them (see
        ``Network.plan_like``), as one undo step. Layer 0 (the inputs) takes derived inputs
        or data columns, not a neuron: refused."""
        net = self.network
        layers = net.layers()
        if not 0 < layer < len(layers):
            raise NetworkError(f"there is no layer {layer} to add a neuron to"
                               if layer else "the inputs come from the data: switch on a "
                               "derived input (Network ▸ Derived Inputs) instead")
        ids = [i for i in layers[layer] if net.neurons[i].role != "input"]
        last = net.neurons[ids[-1]]
        role = last.role
        nid = net.new_neuron_id(role)
        x, y = _below(net, ids)
        d = net.neuron_dict(role, id=nid, activation=last.activation, x=x, y=y,
                            slope=last.slope)
        plan = net.plan_like(nid, role, ids, self.settings.seed)
        self._push(undo.AddItemsCommand(self, [d], plan.dicts(),
                                        f"Add a neuron to layer {layer}"))
        return nid

    def add_hidden_layer(self) -> list[str]:
        """Playground's "+ hidden layer": a new hidden layer after the deepest one (after the
        inputs when there is none) with as many neurons and the same activation as it (2 tanh
        neurons after the inputs), fully connected in place of the old direct connections,
        as one undo step."""
        net = self.network
        hidden = net.hidden_layers()
        if hidden:
            ids = net.layers()[hidden[-1]]
            after, count, act = hidden[-1], len(ids), net.neurons[ids[-1]].activation
        else:
            after, count, act = 0, 2, "tanh"
        seed = self.settings.seed
        return self._state_edit(
            f"Add hidden layer of {count}",
            lambda t: t.add_dense_layer(after, count, act, seed=seed))

    def remove_hidden_layer(self) -> list[str]:
        """Playground's "− hidden layer": the deepest hidden layer goes, what fed it now feeds
        what it fed (``Network.remove_hidden_layer``), as one undo step."""
        hidden = self.network.hidden_layers()
        if not hidden:
            raise NetworkError("the network has no hidden layer to remove")
        depth, seed = hidden[-1], self.settings.seed
        return self._state_edit(f"Remove hidden layer {depth}",
                                lambda t: t.remove_hidden_layer(depth, seed=seed))

    def remove_neuron_from_layer(self, layer: int) -> None:
        """Remove the bottom neuron of layer ``layer`` (with its connections), as one undo
        step; the last neuron of a layer, and the inputs, stay."""
        net = self.network
        layers = net.layers()
        if not 0 < layer < len(layers):
            raise NetworkError(f"there is no layer {layer} to remove a neuron from"
                               if layer else "the inputs come from the data; switch a derived "
                               "input off, or delete an input neuron on the canvas")
        ids = [i for i in layers[layer] if net.neurons[i].role != "input"]
        if len(ids) < 2:
            raise NetworkError(f"layer {layer} has one neuron left; delete the layer's neuron "
                               "on the canvas to remove the layer")
        last = net.neurons[ids[-1]]
        self._push(undo.RemoveCommand(self, [last.id],
                                      f"Remove {last.label} from layer {layer}"))

    def auto_layout(self) -> None:
        """Columns by depth (Network.image_layout_positions for the image layers,
        Network.layout_positions for the neurons), as one undo step."""
        net = self.network
        self.move_items({**net.image_layout_positions(), **net.layout_positions()},
                        text="Auto-layout")

    def randomize(self, seed: int | None = None, init: str | None = None) -> None:
        """New values for every trainable parameter (Network.initial_values), as one undo
        step."""
        net = self.network
        seed = self.settings.seed if seed is None else int(seed)
        init = self.settings.init if init is None else init
        after = net.initial_values(seed, init)
        before = net.store.values[net.param_slots()]
        self._push(undo.ParamVectorCommand(self, net.param_ids(), before, after,
                                           f"Randomize weights ({init}, seed {seed})"))

    # ------------------------------------------------------------------ edits: image layers
    def add_image_layer(self, kind: str, x: float, y: float, source: str | None = None,
                        **settings: object) -> str:
        """Add an image layer of ``kind`` at (x, y) as one undo step; returns its id. Its
        defaults are the network's (``Network.image_layer_dict``), except that a new image
        input takes the shape of the dataset's image it will read (else 1 × 6 × 6): 2 filters
        of 3 × 3 with ReLU, 2 × 2 max pooling; a convolution's filters are drawn with the
        project's seed and initialisation (the seed moved on by the convolutions already
        there)."""
        net = self.network
        if kind not in KINDS:
            raise NetworkError(f"unknown image layer kind {kind!r} (known: {', '.join(KINDS)})")
        if kind == "image_input" and "shape" not in settings and self.dataset is not None:
            k = sum(1 for lay in net.image_layers.values() if lay.kind == "image_input")
            if k < len(self.dataset.images):
                settings["shape"] = self.dataset.images[k].shape
        seed = self.settings.seed + len(net.convolutions())
        d = net.image_layer_dict(kind, x=x, y=y, source=source, seed=seed,
                                 init=self.settings.init, **settings)   # validates
        self._push(undo.AddItemsCommand(self, [], [], f"Add {KIND_TITLES[kind]} {d['id']}",
                                        layers=[d]))
        return str(d["id"])

    def _layer_edit(self, text: str, fn: Callable[[Network], object]) -> object:
        """Run ``fn(trial_network)`` on a copy; if it succeeds and the image layers differ,
        push the change of the image layers as one undo step. Returns what ``fn`` did."""
        net = self.network
        before = net.image_layer_dicts()
        trial = net.copy()
        result = fn(trial)
        after = trial.image_layer_dicts()
        if after != before:
            self._push(undo.ImageLayersCommand(self, before, after, text))
        return result

    def update_image_layer(self, lid: str, **changes: object) -> None:
        """Change a layer's settings (``Network.update_image_layer``: a convolution's
        filters, kernel, stride, padding, activation, slope; a pooling layer's mode, window
        and stride; an image input's shape) as one undo step; refused, nothing changes, if
        any layer after it would not fit. New filters are drawn with the project's seed."""
        net = self.network
        layer = net.image_layer(lid)
        what = ", ".join(k.replace("_", " ") for k in changes)
        self._layer_edit(f"Set {what} of {layer.label}", lambda t: t.update_image_layer(
            lid, seed=self.settings.seed, init=self.settings.init, **changes))

    def set_layer_source(self, lid: str, source: str | None) -> None:
        """Make image layer ``lid`` take its input from layer ``source`` (None: from
        nothing), one undo step. A convolution that gets maps of another depth gets new
        filters; the status bar says so."""
        net = self.network
        layer = net.image_layer(lid)
        if source is None:
            if layer.source is None:
                return
            text = f"Disconnect {layer.label}"
        else:
            text = f"Connect {self._label(source) if source in net else source} → {layer.label}"
        note = self._layer_edit(text, lambda t: t.set_layer_source(
            lid, source, seed=self.settings.seed, init=self.settings.init))
        if isinstance(note, str):
            self.message(note, 6000)

    # ------------------------------------------------------------------ edits: parameters
    def set_param(self, pid: str, value: float, merge: bool = False) -> None:
        self.set_params({pid: value}, merge=merge)

    def set_params(self, values: dict, text: str | None = None, merge: bool = False) -> None:
        net = self.network
        new, old = {}, {}
        for pid, v in values.items():
            slot_old = net.get_param(pid)   # raises for an unknown parameter
            v = finite_number(v, f"value of {_pname(net, pid)}")
            if v != slot_old:
                new[pid], old[pid] = v, slot_old
        if not new:
            return
        if text is None:
            if len(new) == 1:
                pid = next(iter(new))
                text = f"Set {_pname(net, pid)} = {new[pid]:.6g}"
            else:
                text = f"Set {len(new)} parameters"
        self._push(undo.SetParamsCommand(self, old, new, text, mergeable=merge))

    def set_trainable(self, pids: Iterable[str], flag: bool) -> None:
        net = self.network
        old = {}
        for pid in pids:
            slot = net.param_slot(pid)
            old[pid] = bool(net.store.trainable[slot])
        if not old:
            return
        what = _pname(net, next(iter(old))) if len(old) == 1 else f"{len(old)} parameters"
        self._push(undo.SetTrainableCommand(
            self, old, flag, f"{'Unlock' if flag else 'Lock'} {what}"))

    def apply_params_from_training(self, slots: np.ndarray, values: np.ndarray) -> None:
        """Apply a training snapshot: ``values[i]`` to the network's parameter slot
        ``slots[i]`` (``Snapshot.slots``, the trainer's own order); not an undo step by itself."""
        self.network.set_param_vector(slots, values)
        if not self._extra_dirty:
            self._extra_dirty = True
            self.modifiedChanged.emit(True)

    def push_training_result(self, before: np.ndarray | dict[str, float],
                             after: np.ndarray | dict[str, float], text: str = "Train") -> None:
        """Record a training run as one undo step. ``before``/``after``: parameter vectors in
        the engine's param_ids order (or dicts pid -> value)."""
        if isinstance(before, dict):
            pids = list(after)
            b = np.array([before[p] for p in pids])
            a = np.array([after[p] for p in pids])
        else:
            pids = list(self.engine().param_ids)
            b, a = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
        if b.shape != a.shape or b.size != len(pids):
            raise ValueError("training result does not match the network's parameters")
        self._push(undo.ParamVectorCommand(self, pids, b, a, text))
        self._extra_dirty = False

    # ------------------------------------------------------------------ edits: neurons
    def set_activation(self, nids: Iterable[str], name: str, slope: float | None = None) -> None:
        net = self.network
        nids = list(nids)
        old = {}
        for nid in nids:
            n = net.neuron(nid)
            net.check_activation(nid, name)
            old[nid] = (n.activation, n.slope)
        if slope is not None:
            slope = finite_number(slope, "leaky slope")
        if not old:
            return
        what = net.neurons[nids[0]].label if len(nids) == 1 else f"{len(nids)} neurons"
        text = f"Set activation of {what} to {name}"
        if slope is not None and all(a == name for a, _ in old.values()):
            text = f"Set leaky slope of {what} to {slope:g}"
        self._push(undo.SetActivationCommand(self, old, name, slope, text))

    def set_slope_trainable(self, nids: Iterable[str], trainable: bool) -> None:
        """Train the leaky slope of leaky ReLU neurons (parametric ReLU), or fix it again: one
        undo step; refused (nothing changes) if a neuron is not a leaky ReLU."""
        net = self.network
        trainable = bool(trainable)
        change = []
        for nid in nids:
            n = net.neuron(nid)
            if trainable and n.activation != "leaky_relu":
                raise NetworkError(f"{net.name(nid)} has no slope to train: only a leaky ReLU "
                                   f"has one, not {n.activation}")
            if n.slope_trainable != trainable:
                change.append(nid)
        if not change:
            return
        what = net.neurons[change[0]].label if len(change) == 1 else f"{len(change)} neurons"
        text = f"{'Train' if trainable else 'Fix'} the leaky slope of {what}"
        self._push(undo.SetSlopeTrainableCommand(self, change, trainable, text))

    def set_label(self, nid: str, text: str) -> None:
        """Rename a neuron or an image layer."""
        net = self.network
        layer = net.image_layers.get(nid)
        if layer is not None:
            old, label = layer.label, net.check_layer_label(nid, text)
        else:
            old, label = net.neuron(nid).label, net.check_label(nid, text)
        if label == old:
            return
        self._push(undo.SetLabelCommand(self, nid, old, label, f"Rename {old} to {label}"))

    def set_role(self, nid: str | Iterable[str], role: str) -> None:
        net = self.network
        nids = [nid] if isinstance(nid, str) else list(nid)
        old = {}
        for i in nids:
            n = net.neuron(i)
            net.check_role(i, role)
            if n.role != role:
                old[i] = n.to_dict()
        if not old:
            return
        what = net.neurons[nids[0]].label if len(nids) == 1 else f"{len(nids)} neurons"
        self._push(undo.SetRoleCommand(self, old, role, f"Make {what} {role}"))

    # ------------------------------------------------------------------ edits: project
    def set_settings(self, _merge: bool = False, **changes) -> None:
        old = self.settings
        new = old.with_(**changes)   # validates; raises SettingsError (a ValueError)
        if new == old:
            return
        names = ", ".join(k.replace("_", " ") for k in changes)
        self._push(undo.SetProjectValueCommand(self, old, new, self._set_settings_now,
                                               f"Set {names}", mergeable=_merge))

    def _set_settings_now(self, settings: TrainSettings) -> None:
        old = self.project.settings
        values_changed = (settings.loss, settings.penalty) != (old.loss, old.penalty)
        self.project.settings = settings
        self.settingsChanged.emit()
        if values_changed:   # the loss and the gradients the views show
            self._invalidate()

    def set_dataset(self, dataset: Dataset | None, text: str = "Edit dataset",
                    merge: object = False) -> None:
        """Replace the dataset (one undo step; with a ``merge`` key, as one slider drag,
        consecutive replacements with the same text merge into one)."""
        self._push(undo.SetProjectValueCommand(self, self.project.dataset, dataset,
                                               self._set_dataset_now, text, structural=True,
                                               mergeable=merge))

    def _set_dataset_now(self, dataset: Dataset | None) -> None:
        self.project.dataset = dataset
        n = len(dataset) if dataset is not None else 0
        if n and self.sample_index >= n:
            self.sample_index = n - 1
            self.sampleChanged.emit(self.sample_index)
        self.datasetChanged.emit()
        self._invalidate()

    def set_description(self, text: str) -> None:
        text = str(text)
        limit = _project_module().MAX_DESCRIPTION_LENGTH
        if len(text) > limit:
            raise ValueError(
                f"the lesson text is {len(text)} characters long; the limit is {limit}")
        if text == self.project.description:
            return
        self._push(undo.SetProjectValueCommand(self, self.project.description, text,
                                               self._set_description_now, "Edit lesson text"))

    def _set_description_now(self, text: str) -> None:
        self.project.description = text
        self.descriptionChanged.emit()

    def set_challenges(self, challenges: Challenges | None, text: str = "Edit challenges") -> None:
        """Replace the lesson's goals (already checked: ``validate_challenges``), one undo
        step; None removes them."""
        if challenges == self.project.challenges:
            return
        self._push(undo.SetProjectValueCommand(self, self.project.challenges, challenges,
                                               self._set_challenges_now, text))

    def _set_challenges_now(self, challenges: Challenges | None) -> None:
        self.project.challenges = challenges
        self.challengesChanged.emit()

    # ------------------------------------------------------------------ files
    def load(self, path: str | Path) -> None:
        """Replace the project with the file's; raises ProjectError (document untouched)."""
        proj = _project_module().load(path)
        self.replace_project(proj, Path(path))

    def new(self, template: str | None = None) -> None:
        """An empty project (File ▸ New), or a fresh copy of the template ``template`` (a key
        of ``project.TEMPLATES``: File ▸ New from Template)."""
        mod = _project_module()
        if template is None:
            self.replace_project(mod.empty_project(), None)
            return
        if template not in mod.TEMPLATES:
            raise ValueError(f"there is no template {template!r}")
        self.replace_project(mod.TEMPLATES[template].build(), None)

    @classmethod
    def open(cls, path: str | Path, parent: QObject | None = None) -> Document:
        proj = _project_module().load(path)
        return cls(proj, Path(path), parent)

    def replace_project(self, project: Project, path: Path | None, clean: bool = True,
                        source_sample: Path | None = None) -> None:
        """Views rebuild from ``project``; ``source_sample``: the shipped lesson an untitled
        copy came from."""
        self.structureAboutToChange.emit()
        self.project = project
        self.source_sample = Path(source_sample) if source_sample is not None and path is None \
            else None
        self._subscribe()
        self._engine = None
        self._eval_valid = False
        self.selection = ()
        self.sample_index = 0
        self.undo_stack.clear()
        self._extra_dirty = False
        if not clean:
            self._extra_dirty = True
        self.path = Path(path) if path is not None else None
        self.projectReplaced.emit()
        self.selectionChanged.emit(())
        self.sampleChanged.emit(0)
        self.settingsChanged.emit()
        self.datasetChanged.emit()
        self.descriptionChanged.emit()
        self.modifiedChanged.emit(self.is_modified())
        self.pathChanged.emit(self.path)
        self._invalidate()

    def save(self, path: str | Path | None = None) -> Path:
        """Save (atomically) to ``path`` or the current path; marks the document clean."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("the document has no file name yet; use Save As")
        if (getattr(self.project, "name", "") or "Untitled") == "Untitled":
            self.project.name = target.stem   # a new project takes its file's name
        _project_module().save(self.project, target)
        changed = target != self.path
        self.path = target
        self._extra_dirty = False
        was_clean = self.undo_stack.isClean()
        self.undo_stack.setClean()
        if was_clean:
            self.modifiedChanged.emit(False)
        if changed:
            self.pathChanged.emit(target)
        return target

    def dumps(self) -> str:
        return _project_module().dumps(self.project)


def _below(net: Network, ids: list[str]) -> tuple[float, float]:
    """Where a new neuron goes under the neurons ``ids`` (one of their spacings lower)."""
    ys = sorted(net.neurons[i].y for i in ids)
    gap = float(np.median(np.diff(ys))) if len(ys) > 1 else 0.0
    gap = gap if gap >= 40.0 else 100.0
    x = float(np.mean([net.neurons[i].x for i in ids])) if ids else 0.0
    return x, (ys[-1] + gap) if ys else 0.0


def _pname(net: Network, pid: str) -> str:
    if pid in net.connections:
        c = net.connections[pid]
        return f"weight {net.neurons[c.source].label} → {net.neurons[c.target].label}"
    if pid in net.neurons:
        return f"bias of {net.neurons[pid].label}"
    return net.slope_param_name(pid) or net.filter_param_name(pid) or repr(pid)

"""Initialisation and layout: the starting values of the parameters, where the neurons stand,
and the edits that give a network its shape (a dense network, a dense layer, fully connected
groups).

The computations are pure (they answer without changing the network), so the editor can turn
their answer into one undo step: :meth:`Shaping.initial_values` (what ``randomize`` would set),
:meth:`Shaping.layout_positions` (where ``auto_layout`` would put the neurons),
:meth:`Shaping.plan_full_connections` (what ``connect_fully`` would add),
:meth:`Shaping.plan_like` (the connections of a new neuron connected like its neighbours) and
:meth:`Shaping.columns_by_x` (the selection as columns, left to right).

Initialisation rules (``INITS``; every draw comes from ``numpy.random.default_rng(seed)``):

- ``uniform``: weights and biases from U(-1, 1);
- ``xavier`` (Glorot): weights from U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), fan_in the
  target's incoming and fan_out the source's outgoing connections; biases 0;
- ``he`` (Kaiming): weights from N(0, 2 / fan_in); biases 0;
- a new dense layer and fully connected groups draw Xavier weights for the groups they join:
  l = sqrt(6 / (n_sources + n_targets)), one draw per connection as it is made, target by
  target and, for each target, source by source;
- a convolution's filters are drawn after every connection and bias, layer by layer, with
  fan_in = channels·k·k and fan_out = filters·k·k (:func:`~.image_layers.initial_filters`);
- a trainable leaky slope keeps its value (it starts where the learner set it).

Layout: feature neurons are never placed on their own (they follow their flatten layer); with
image layers, the dense columns start at the flatten layers' column.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Self

import numpy as np

from .bulk import gc_paused
from .events import NetworkEvent
from .image_layers import redraw
from .model import NetworkModel
from .parts import CONNECTION_ID_PREFIX, FEATURE_ROLE, NetworkError, check_activation

INITS = ("uniform", "xavier", "he")
COLUMN_TOLERANCE = 40.0   # neurons closer than this in x stand in one column


class ConnectionPlan(NamedTuple):
    """New connections, not yet made: ids, sources, targets and weights, in the order they
    would be added."""

    ids: list[str]
    sources: list[str]
    targets: list[str]
    weights: np.ndarray

    def dicts(self) -> list[dict[str, Any]]:
        """The connections as dicts (as ``to_dict`` gives them; all trainable)."""
        return [{"id": c, "source": s, "target": t, "weight": w, "trainable": True}
                for c, s, t, w in zip(self.ids, self.sources, self.targets,
                                      self.weights.tolist(), strict=True)]


class Shaping(NetworkModel):
    """Initialisation, layout and the shape-giving edits (see the module docstring)."""

    # ------------------------------------------------------------------ initialisation
    def initial_values(self, seed: int = 0, init: str = "xavier") -> np.ndarray:
        """The value of every parameter (in ``param_ids`` order) after ``randomize(seed,
        init)``: new values for the trainable ones, the locked ones as they are. Pure."""
        if init not in INITS:
            raise NetworkError(f"unknown initialisation {init!r} (known: {', '.join(INITS)})")
        rng = np.random.default_rng(seed)
        slots = self.param_slots()
        values = self.store.values[slots]           # (a copy: fancy indexing)
        train = self.store.trainable[slots]
        conns = list(self.connections.values())
        m = len(conns)
        drawn = np.flatnonzero(train[:m])
        if init == "uniform":
            values[drawn] = rng.uniform(-1.0, 1.0, drawn.size)
        else:
            fan_in = np.maximum(1, np.fromiter(
                (len(self._in[conns[i].target]) for i in drawn.tolist()), np.intp, drawn.size))
            if init == "xavier":
                fan_out = np.maximum(1, np.fromiter(
                    (len(self._out[conns[i].source]) for i in drawn.tolist()), np.intp,
                    drawn.size))
                lim = np.sqrt(6.0 / (fan_in + fan_out))
                values[drawn] = rng.uniform(-lim, lim)
            else:
                values[drawn] = rng.normal(0.0, np.sqrt(2.0 / fan_in))
        convs = self.convolutions()
        nf = sum(c.n_params for c in convs)
        ns = len(self.slope_neurons())   # trainable leaky slopes (last) keep their values
        nb = len(slots) - m - nf - ns
        biases = m + np.flatnonzero(train[m:m + nb])
        values[biases] = rng.uniform(-1.0, 1.0, biases.size) if init == "uniform" else 0.0
        if nf:
            f = slice(m + nb, m + nb + nf)
            values[f] = redraw(rng, init, convs, values[f], train[f])
        return values

    def randomize(self, seed: int = 0, init: str = "xavier") -> None:
        """Re-initialise every trainable parameter (see ``INITS`` in the module docstring)."""
        values = self.initial_values(seed, init)
        self.store.values[self.param_slots()] = values
        self._emit(NetworkEvent.PARAMS_CHANGED, ())

    # ------------------------------------------------------------------ layout
    def layout_positions(self, dx: float = 180.0,
                         dy: float = 90.0) -> dict[str, tuple[float, float]]:
        """Where ``auto_layout`` puts every neuron: columns by depth, ``dx`` apart, each
        column centred and ``dy`` between neurons, keeping the vertical order; depth 0 stands
        in the column of the deepest flatten layer (0 without image layers). Feature neurons
        are left out: they follow their flatten layer. Pure."""
        depths = self.image_depths()
        first = max((depths[f] for f in self._features if self._features[f]), default=0)
        pos = {}
        for d, layer in enumerate(self.layers()):
            column = [nid for nid in layer if self.neurons[nid].role != FEATURE_ROLE]
            for i, nid in enumerate(column):
                pos[nid] = ((d + first) * dx, (i - (len(column) - 1) / 2) * dy)
        return pos

    def auto_layout(self, dx: float = 180.0, dy: float = 90.0) -> dict[str, tuple[float, float]]:
        """Move the neurons to :meth:`layout_positions`; returns them."""
        pos = self.layout_positions(dx, dy)
        self.move_neurons(pos)
        return pos

    def columns_by_x(self, ids: Iterable[str],
                     tolerance: float = COLUMN_TOLERANCE) -> list[list[str]]:
        """The neurons ``ids`` (other ids are ignored) as columns, left to right: a neuron
        within ``tolerance`` in x of the first (leftmost) neuron of a column stands in it."""
        columns: list[list[str]] = []
        neurons = self.neurons
        for nid in sorted((i for i in ids if i in neurons), key=lambda i: neurons[i].x):
            if columns and neurons[nid].x - neurons[columns[-1][0]].x <= tolerance:
                columns[-1].append(nid)
            else:
                columns.append([nid])
        return columns

    # ------------------------------------------------------------------ fully connected groups
    def plan_full_connections(self, groups: Iterable[tuple[Sequence[str], Sequence[str]]],
                              seed: int = 0) -> ConnectionPlan:
        """The connections that connecting each (sources, targets) group fully, one group
        after the other, would add: every source to every target that is not yet connected
        and may be (pairs that would be refused, a cycle included, are skipped), with Xavier
        weights for the group (see the module docstring). Pure: nothing is added."""
        rng = np.random.default_rng(seed)
        neurons, pairs = self.neurons, self._pair
        planned: dict[str, list[str]] = {}      # source -> new targets (for cycle searches)
        new_pairs: set[tuple[str, str]] = set()
        sources_out: list[str] = []
        targets_out: list[str] = []
        weights: list[np.ndarray] = []
        for group_sources, group_targets in groups:
            srcs = [s for s in group_sources if s in neurons]
            tgts = [t for t in group_targets if t in neurons]
            # unless a target reaches a source, no new connection can close a cycle (that
            # would need a path from its target back to its source): only the cheap checks
            risky = self._reaches_any(tgts, srcs, planned)
            feeders = [s for s in srcs if neurons[s].role != "output"]
            made = 0
            for t in tgts:
                if neurons[t].role == "input":
                    continue
                for s in feeders:
                    if s == t or (s, t) in pairs or (s, t) in new_pairs:
                        continue
                    if risky and self._reaches_any((t,), (s,), planned):
                        continue
                    new_pairs.add((s, t))
                    planned.setdefault(s, []).append(t)
                    sources_out.append(s)
                    targets_out.append(t)
                    made += 1
            if made:
                lim = math.sqrt(6.0 / (len(set(srcs)) + len(set(tgts))))
                weights.append(rng.uniform(-lim, lim, made))
        ids = self.fresh_ids(CONNECTION_ID_PREFIX, len(sources_out))
        w = np.concatenate(weights) if weights else np.zeros(0)
        return ConnectionPlan(ids, sources_out, targets_out, w)

    def plan_like(self, new_id: str, role: str, neighbours: Sequence[str],
                  seed: int = 0) -> ConnectionPlan:
        """The connections a new neuron ``new_id`` (of ``role``, not yet in the network) gets
        to be connected like its ``neighbours``: from every neuron that feeds one of them and
        to every neuron one of them feeds (an input takes none in, an output sends none out;
        a target that reaches back to one of those sources is skipped, so the DAG stays
        acyclic), with Xavier weights l = sqrt(6 / (n_sources + n_targets)) for each side,
        the incoming ones drawn first. Pure: nothing is added."""
        near = [n for n in neighbours if n in self.neurons]
        sources = [] if role == "input" else list(dict.fromkeys(
            c.source for n in near for c in self.incoming(n)))
        targets = [] if role == "output" else list(dict.fromkeys(
            c.target for n in near for c in self.outgoing(n)))
        if sources:
            targets = [t for t in targets if not self._reaches_any((t,), sources, {})]
        rng = np.random.default_rng(seed)
        group = max(1, len(near)) + 1
        w_in = rng.uniform(-1, 1, len(sources)) * math.sqrt(6.0 / (len(sources) + group)) \
            if sources else np.zeros(0)
        w_out = rng.uniform(-1, 1, len(targets)) * math.sqrt(6.0 / (group + len(targets))) \
            if targets else np.zeros(0)
        ids = self.fresh_ids(CONNECTION_ID_PREFIX, len(sources) + len(targets))
        return ConnectionPlan(ids, sources + [new_id] * len(targets),
                              [new_id] * len(sources) + targets, np.r_[w_in, w_out])

    def connect_fully(self, sources: Iterable[str], targets: Iterable[str], *,
                      seed: int = 0) -> list[str]:
        """Connect every source to every target that is not yet connected and may be (see
        :meth:`plan_full_connections`), with one notice; returns the new connection ids."""
        plan = self.plan_full_connections([(list(sources), list(targets))], seed)
        with gc_paused():
            self._insert_connections(*plan)
        self._advance_hint(CONNECTION_ID_PREFIX, plan.ids)
        return plan.ids

    # ------------------------------------------------------------------ dense layers
    def add_dense_layer(self, after_layer: int, count: int, activation: str = "relu", *,
                        seed: int = 0, spacing: float = 160.0) -> list[str]:
        """Insert a fully connected layer of ``count`` new hidden neurons after layer
        ``after_layer`` (a depth). The new neurons take input from every neuron of that layer
        and feed every neuron those neurons fed directly; those direct connections are
        replaced. Neurons to the right move ``spacing`` further right. Returns the new ids."""
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
                f"layer {after_layer} holds output neuron(s) "
                f"{', '.join(self.name(o) for o in outs)}, which feed nothing; add the layer "
                "after an earlier one"
            )
        check_activation("new", "hidden", activation)
        src_set = set(src)
        replaced = [c for c in self.connections.values() if c.source in src_set]
        targets = list(dict.fromkeys(c.target for c in replaced))
        x0 = max(self.neurons[s].x for s in src) + spacing
        moved = [n for n in self.neurons.values()
                 if n.x >= x0 - 1e-9 and n.role != FEATURE_ROLE]
        for n in moved:  # make room to the right
            n.x += spacing
        with gc_paused():
            new_ids = self._insert_dense_layer(src, [c.id for c in replaced], targets, count,
                                               activation, x0, np.random.default_rng(seed))
        if moved:
            self._emit(NetworkEvent.NEURON_MOVED, [n.id for n in moved])
        return new_ids

    def hidden_layers(self) -> list[int]:
        """The depths whose neurons are all hidden (the layers Playground's + and − act on)."""
        return [d for d, ids in enumerate(self.layers())
                if d > 0 and ids and all(self.neurons[i].role == "hidden" for i in ids)]

    def remove_hidden_layer(self, depth: int, *, seed: int = 0) -> list[str]:
        """Remove the hidden layer at ``depth`` and connect what fed it fully to what it fed
        (pairs already connected stay; Xavier weights, as ``connect_fully``), so the network
        keeps a path through; returns the removed neuron ids."""
        if depth not in self.hidden_layers():
            raise NetworkError(f"layer {depth!r} is not a layer of hidden neurons")
        ids = self.layers()[depth]
        gone = set(ids)
        sources = list(dict.fromkeys(c.source for n in ids for c in self.incoming(n)
                                     if c.source not in gone))
        targets = list(dict.fromkeys(c.target for n in ids for c in self.outgoing(n)
                                     if c.target not in gone))
        for nid in ids:
            self.remove_neuron(nid)
        if sources and targets:
            self.connect_fully(sources, targets, seed=seed)
        return ids

    def _insert_dense_layer(self, src: list[str], replaced: list[str], targets: list[str],
                            count: int, activation: str, x0: float,
                            rng: np.random.Generator) -> list[str]:
        self._remove_connections(replaced)
        ys = [(i - (count - 1) / 2) * 80.0 for i in range(count)]
        new_ids = [self.add_neuron("hidden", activation=activation, x=x0, y=ys[i]).id
                   for i in range(count)]
        # Neuron by neuron: its inputs from src, then its outputs to the targets, with the
        # weights drawn in that order (as rng.uniform one at a time would give them). None of
        # these can close a cycle (a new neuron feeds only neurons deeper than after_layer,
        # none of which reaches back into it) or break another rule, so they are added at once.
        lim_in = math.sqrt(6.0 / (len(src) + count))
        lim_out = math.sqrt(6.0 / (count + max(1, len(targets))))
        k = len(src) + len(targets)
        low = np.tile(np.r_[np.full(len(src), -lim_in), np.full(len(targets), -lim_out)], count)
        high = -low
        weights = low + (high - low) * rng.random(count * k)
        sources: list[str] = []
        tgts: list[str] = []
        for nid in new_ids:
            sources += src
            sources += [nid] * len(targets)
            tgts += [nid] * len(src)
            tgts += targets
        ids = self.fresh_ids(CONNECTION_ID_PREFIX, len(sources))
        self._insert_connections(ids, sources, tgts, weights)
        self._advance_hint(CONNECTION_ID_PREFIX, ids)
        return new_ids

    # ------------------------------------------------------------------ dense networks
    @classmethod
    def dense(cls, sizes: Sequence[int], hidden: str = "relu", output: str = "identity", *,
              seed: int = 0, init: str = "xavier", dx: float = 180.0, dy: float = 70.0) -> Self:
        """Build a fully connected layered network, e.g. ``dense([2, 8, 8, 1])``, initialised
        with ``randomize(seed, init)``."""
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise NetworkError("a dense network needs at least two layers of at least one neuron")
        net = cls()
        layers: list[list[str]] = []
        for li, size in enumerate(sizes):
            role = "input" if li == 0 else "output" if li == len(sizes) - 1 else "hidden"
            act = "identity" if role == "input" else output if role == "output" else hidden
            ids = []
            for i in range(size):
                n = net.add_neuron(role, activation=act, x=li * dx, y=(i - (size - 1) / 2) * dy)
                ids.append(n.id)
            layers.append(ids)
        for a, b in zip(layers, layers[1:], strict=False):
            for t in b:
                for s in a:
                    net.connect(s, t)
        net.randomize(seed, init)
        return net

"""The step model of the walkthrough: :class:`Step`, :class:`Trace` and :class:`TraceState`.

A :class:`Trace` holds the traced batch, the engine's evaluation of it, the parameters before
and after one gradient-descent step, and the ordered :class:`Step` list the builder wrote. Each
step *reveals* values (``Step.reveals``), so :meth:`Trace.state_at` knows exactly what has been
shown after step k, and a player can restore it when stepping back. :class:`TraceState` turns
such a state into what a canvas overlay shows (badges, connection labels, arrows).

Nothing here computes a gradient: every number was computed by the engine before the trace was
built; this module only stores and looks up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine import Engine, Evaluation
from ..network import Network, slope_param_id
from ..regularization import Penalty
from .formatting import DIGITS, SIGMA, num, param_name

Array = np.ndarray

#: A value a step reveals: one float per traced sample, or one float for a batch total.
Revealed = tuple[float, ...] | float

#: An image layer's map a step reveals: (layer id, key, map index, its values (samples, height,
#: width)); key is one of map_a (the layer's output), map_z (a convolution's map before its
#: activation), map_dl_da, map_dl_dz.
MapReveal = tuple[str, str, int, np.ndarray]

PHASES = ("forward", "loss", "backward", "update")
PHASE_TITLES = {"forward": "Forward pass", "loss": "Loss", "backward": "Backward pass",
                "update": "Update"}


class TraceError(ValueError):
    """The walkthrough cannot be built (bad sample index, network cannot be evaluated...)."""


@dataclass(frozen=True)
class Step:
    """One operation of the walkthrough.

    ``neurons``: the neurons the step is about (the focus neuron first); ``connections``: the
    connections it uses (e.g. the incoming connections of a weighted sum); ``params``: the
    parameters whose gradient or value it computes. ``reveals``: (id, key, value) triples that
    become known at this step; key is one of x, z, a, residual, dl_da, da_dz, dl_dz, grad, new;
    value is a tuple with one float per traced sample, or one float for a batch total.

    Image layer steps also name their ``layer`` (and ``map``: the filter or map number, None
    for a step about all of a layer's maps), ``cells``: the (row, column) cells of the layer's
    *source* the step highlights (a convolution's window at position (0, 0), a pooling's
    winners), and ``map_reveals`` (:data:`MapReveal`): the maps it makes known.
    """

    index: int
    phase: str
    kind: str
    title: str
    explanation: str
    formula: str
    neurons: tuple[str, ...] = ()
    connections: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    reveals: tuple[tuple[str, str, Revealed], ...] = ()
    value: float | None = None
    layer: str | None = None
    map: int | None = None
    cells: tuple[tuple[int, int], ...] = ()
    map_reveals: tuple[MapReveal, ...] = ()


@dataclass
class TraceState:
    """Everything known after a step: ``values[(id, key)]``, the image layers' maps
    ``maps[(layer, key, map)]``, plus the step itself."""

    step: Step | None
    values: dict[tuple[str, str], Revealed]
    trace: Trace
    maps: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict)

    def get(self, target: str, key: str) -> Revealed | None:
        return self.values.get((target, key))

    def map(self, layer: str, key: str, f: int) -> np.ndarray | None:
        """Map ``f`` of image layer ``layer`` (samples, height, width) under ``key`` (map_a,
        map_z, map_dl_da, map_dl_dz), or None before the step that reveals it."""
        return self.maps.get((layer, key, f))

    def total(self, target: str, key: str) -> float | None:
        """A revealed batch total (a gradient ``grad``, a new value ``new``: never per
        sample), or None before the step that reveals it."""
        v = self.values.get((target, key))
        assert not isinstance(v, tuple), f"{key} of {target} is per sample"
        return v

    # what a canvas overlay shows -------------------------------------------------
    def neuron_text(self) -> dict[str, str]:
        """Badge text per neuron: its revealed z, a and dL/dz (and new bias)."""
        tr = self.trace
        out: dict[str, str] = {}
        for nid in tr.engine.neuron_ids:
            lines = []
            is_input = tr.network.neurons[nid].role == "input"
            for key, label in (("x", "x"), ("z", "z"), ("a", "a"), ("dl_dz", "dL/dz")):
                if is_input and key == "a":
                    continue   # an input's activation is its value x
                v = self.values.get((nid, key))
                if v is not None:
                    lines.append(f"{label} = {tr.fmt_values(v, key)}")
            new = self.total(nid, "new")
            if new is not None:
                lines.append(f"b: {num(tr.params_before[nid])} \u2192 {num(new)}")
            pid = slope_param_id(nid)
            new_slope = self.total(pid, "new")
            if new_slope is not None:
                lines.append(f"slope: {num(tr.params_before[pid])} \u2192 {num(new_slope)}")
            if lines:
                out[nid] = "\n".join(lines)
        return out

    def connection_text(self) -> dict[str, str]:
        """Label text per connection: the weight in forward steps that use it, its gradient
        once computed, and old → new once updated."""
        tr = self.trace
        out: dict[str, str] = {}
        step = self.step
        for cid in tr.network.connections:
            new = self.total(cid, "new")
            g = self.total(cid, "grad")
            if new is not None:
                out[cid] = f"w: {num(tr.params_before[cid])} \u2192 {num(new)}"
            elif g is not None:
                out[cid] = f"dL/dw = {num(g)}"
            elif step is not None and cid in step.connections:
                out[cid] = f"w = {num(tr.params_before[cid])}"
        return out

    def arrows(self) -> dict[str, float]:
        """Per neuron whose dL/dz is known: the change it asks for (−dL/dz, summed over the
        batch). The sign says which way z should move, the size how strongly (seed 000's
        "proportional changes")."""
        out: dict[str, float] = {}
        for nid in self.trace.engine.neuron_ids:
            v = self.values.get((nid, "dl_dz"))
            if v is not None and self.trace.network.neurons[nid].role != "input":
                out[nid] = -float(np.sum(v))
        return out

    def updated_params(self) -> dict[str, float]:
        """The new value of every parameter whose update step has been reached."""
        return {t: float(v) for (t, k), v in self.values.items()
                if k == "new" and not isinstance(v, tuple)}


@dataclass
class Trace:
    network: Network
    engine: Engine
    evaluation: Evaluation     # the engine's evaluation of the traced batch
    X: Array
    Y: Array
    samples: list[int]         # dataset row of each traced sample
    sample: int | None         # the chosen sample, or None for the whole batch
    loss: str
    learning_rate: float
    optimizer: str
    input_names: list[str]
    target_names: list[str]
    params_before: dict[str, float]
    grads: dict[str, float]
    new_params: dict[str, float]      # trainable parameters after the gradient-descent step
    trainable: dict[str, bool]
    loss_after: float
    digits: int = DIGITS
    steps: list[Step] = field(default_factory=list)
    # regularization: the penalty trained with (None: none), its value before and after the
    # step, and its share of each weight's gradient (``grads`` holds loss + penalty)
    penalty: Penalty | None = None
    penalty_after: float = 0.0
    penalty_grads: dict[str, float] = field(default_factory=dict)

    # ------------------------------------------------------------------ queries
    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def batch(self) -> bool:
        return self.sample is None

    def phase_start(self, phase: str) -> int:
        for s in self.steps:
            if s.phase == phase:
                return s.index
        raise TraceError(f"the walkthrough has no {phase} step")

    def state_at(self, k: int) -> TraceState:
        """What is known after step ``k`` (``k = -1``: before the first step)."""
        if k >= len(self.steps):
            raise TraceError(f"step {k} does not exist (there are {len(self.steps)})")
        values: dict[tuple[str, str], Revealed] = {}
        maps: dict[tuple[str, str, int], np.ndarray] = {}
        for s in self.steps[:k + 1]:
            for t, key, v in s.reveals:
                values[(t, key)] = v
            for lid, key, f, arr in s.map_reveals:
                maps[(lid, key, f)] = arr
        return TraceState(self.steps[k] if k >= 0 else None, values, self, maps)

    def params_after(self, k: int) -> dict[str, float]:
        """Every parameter's value once the update steps up to ``k`` are done."""
        vals = dict(self.params_before)
        vals.update(self.state_at(k).updated_params())
        return vals

    def param_vector(self, values: dict[str, float]) -> Array:
        return np.array([values[p] for p in self.engine.param_ids])

    def fmt_values(self, v: Revealed, key: str = "") -> str:
        """Per-sample values for a badge: all of them for up to 3 samples, else the sum
        (gradients) or the mean (values)."""
        if isinstance(v, tuple):
            if len(v) == 1:
                return num(v[0], self.digits)
            if len(v) <= 3:
                return ", ".join(num(x, self.digits) for x in v)
            if key in ("dl_dz", "dl_da"):
                return f"{SIGMA} {num(sum(v), self.digits)}"
            return f"mean {num(float(np.mean(v)), self.digits)}"
        return num(v, self.digits)

    def label(self, nid: str) -> str:
        return self.network.neurons[nid].label

    def param_name(self, pid: str) -> str:
        return param_name(self.network, pid)

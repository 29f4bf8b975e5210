"""The challenge language: the goals a lesson sets, as the program holds them.

A lesson's challenges are a list of **goals**. Each goal is one line of the lesson's checklist
("Reach MSE below 0.01 with at most 2 hidden neurons") and holds one or more **requirements**,
all of which must hold. A requirement is one of a small closed set of kinds with parameters —
never an expression, never code:

========================  ==================================================================
``loss``                  the loss (a named one) over every row of the dataset, in bounds
``accuracy``              the fraction of rows classified right (classification data)
``parameter``             a weight or bias (by id): ``value`` ± ``tolerance``, or in bounds
``gradient``              \\|dL/dp\\| of a weight or bias under a named loss, in bounds
``count``                 neurons, hidden neurons, connections, parameters, trainable
                          parameters, hidden layers or dataset rows, in bounds
``activation``            the activation of some neurons (by id or role): one of, none of
``outputs``               the network's outputs for a table of inputs, each within a tolerance
``changed_only``          nothing differs from the lesson's original network but the listed
                          parameters (needs the challenges' ``original``)
========================  ==================================================================

Bounds are the keys ``below`` (<), ``at_most`` (≤), ``above`` (>) and ``at_least`` (≥): at
least one, and at most one upper and one lower.

The classes here are the language as the program holds it: immutable, each with ``to_dict``
for its JSON form and, per requirement kind, the JSON keys it takes (``REQUIRED`` and
``OPTIONAL``). Reading that JSON from a project file — every field checked, problems named by
JSON path and goal — is the project format's job
(:mod:`nnstudio.core.project.challenges_section`); checking a goal against a project is
:mod:`.checker`'s. Ids a goal names are soft references: a goal whose neuron the learner
deleted fails, it never makes the project invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import activations
from ..network import Network, slope_neuron, slope_param_id
from ..trace.formatting import LOSS_LABELS, num

MAX_GOALS = 100
MAX_REQUIREMENTS = 20       # per goal
MAX_TEXT = 200              # a goal's checklist text
MAX_TABLE_ROWS = 1024       # rows of an ``outputs`` table
MAX_TABLE_COLUMNS = 1024

#: What a ``count`` requirement can count.
COUNTS = ("neurons", "hidden_neurons", "connections", "parameters", "trainable_parameters",
          "hidden_layers", "rows")


# ---------------------------------------------------------------------- bounds
BOUND_KEYS = ("below", "at_most", "above", "at_least")


@dataclass(frozen=True)
class Bounds:
    """An interval given by up to one upper (``below`` <, ``at_most`` ≤) and one lower
    (``above`` >, ``at_least`` ≥) bound."""

    below: float | None = None
    at_most: float | None = None
    above: float | None = None
    at_least: float | None = None

    def holds(self, v: float) -> bool:
        return ((self.below is None or v < self.below)
                and (self.at_most is None or v <= self.at_most)
                and (self.above is None or v > self.above)
                and (self.at_least is None or v >= self.at_least))

    def items(self) -> list[tuple[str, float]]:
        """The bounds given, as (key, value), lower bound first."""
        keys = ("above", "at_least", "below", "at_most")
        return [(k, getattr(self, k)) for k in keys if getattr(self, k) is not None]

    def to_dict(self) -> dict:
        return dict(self.items())


# ---------------------------------------------------------------------- requirements
@dataclass(frozen=True)
class Loss:
    """The loss ``loss`` over every row of the project's dataset lies in ``bounds``."""

    KIND: ClassVar[str] = "loss"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind", "loss")
    OPTIONAL: ClassVar[tuple[str, ...]] = BOUND_KEYS
    loss: str
    bounds: Bounds

    def to_dict(self) -> dict:
        return {"kind": self.KIND, "loss": self.loss, **self.bounds.to_dict()}


@dataclass(frozen=True)
class Accuracy:
    """The fraction of dataset rows whose predicted class is right lies in ``bounds``."""

    KIND: ClassVar[str] = "accuracy"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind",)
    OPTIONAL: ClassVar[tuple[str, ...]] = BOUND_KEYS
    bounds: Bounds

    def to_dict(self) -> dict:
        return {"kind": self.KIND, **self.bounds.to_dict()}


@dataclass(frozen=True)
class Parameter:
    """The weight or bias ``id`` is ``value`` ± ``tolerance``, or lies in ``bounds``."""

    KIND: ClassVar[str] = "parameter"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind", "id")
    OPTIONAL: ClassVar[tuple[str, ...]] = ("value", "tolerance") + BOUND_KEYS
    id: str
    value: float | None = None
    tolerance: float = 0.0
    bounds: Bounds | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"kind": self.KIND, "id": self.id}
        if self.bounds is not None:
            return {**d, **self.bounds.to_dict()}
        return {**d, "value": self.value, "tolerance": self.tolerance}


@dataclass(frozen=True)
class Gradient:
    """\\|dL/dp\\| of the weight or bias ``id`` under loss ``loss`` (over every dataset row)
    lies in ``bounds``: "the bottom of the U", where the slope is almost flat."""

    KIND: ClassVar[str] = "gradient"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind", "id", "loss")
    OPTIONAL: ClassVar[tuple[str, ...]] = BOUND_KEYS
    id: str
    loss: str
    bounds: Bounds

    def to_dict(self) -> dict:
        return {"kind": self.KIND, "id": self.id, "loss": self.loss, **self.bounds.to_dict()}


@dataclass(frozen=True)
class Count:
    """How many of ``of`` (one of :data:`COUNTS`) the project has lies in ``bounds``."""

    KIND: ClassVar[str] = "count"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind", "of")
    OPTIONAL: ClassVar[tuple[str, ...]] = BOUND_KEYS
    of: str
    bounds: Bounds

    def to_dict(self) -> dict:
        return {"kind": self.KIND, "of": self.of, **self.bounds.to_dict()}


@dataclass(frozen=True)
class Activation:
    """Every neuron named in ``neurons`` (or every neuron of ``role``) has an activation in
    ``one_of`` (when given) and none in ``none_of`` (when given)."""

    KIND: ClassVar[str] = "activation"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind",)
    OPTIONAL: ClassVar[tuple[str, ...]] = ("neurons", "role", "one_of", "none_of")
    neurons: tuple[str, ...] = ()
    role: str | None = None
    one_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"kind": self.KIND}
        if self.role is not None:
            d["role"] = self.role
        else:
            d["neurons"] = list(self.neurons)
        if self.one_of:
            d["one_of"] = list(self.one_of)
        if self.none_of:
            d["none_of"] = list(self.none_of)
        return d


@dataclass(frozen=True)
class Outputs:
    """For each row of ``X`` the outputs are within ``tolerance`` of that row of ``Y``: a truth
    table the network must compute, which need not be the dataset's."""

    KIND: ClassVar[str] = "outputs"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind", "X", "Y", "tolerance")
    OPTIONAL: ClassVar[tuple[str, ...]] = ("names",)
    X: tuple[tuple[float, ...], ...]
    Y: tuple[tuple[float, ...], ...]
    tolerance: float
    names: tuple[str, ...] = ()   # what each row is ("the shifted X"); () : rows are shown

    def row_name(self, r: int) -> str | None:
        """What row ``r`` of X is called, or None when the rows have no names."""
        return self.names[r] if self.names else None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"kind": self.KIND, "X": [list(r) for r in self.X],
                             "Y": [list(r) for r in self.Y], "tolerance": self.tolerance}
        if self.names:
            d["names"] = list(self.names)
        return d


@dataclass(frozen=True)
class ChangedOnly:
    """Compared with the lesson's original network, nothing differs but the values of
    ``parameters``: the same neurons, roles, activations and connections, and every other
    weight and bias within ``tolerance`` (default 0: exactly) of its original value."""

    KIND: ClassVar[str] = "changed_only"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind", "parameters")
    OPTIONAL: ClassVar[tuple[str, ...]] = ("tolerance",)
    parameters: tuple[str, ...]
    tolerance: float = 0.0

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"kind": self.KIND, "parameters": list(self.parameters)}
        if self.tolerance:
            d["tolerance"] = self.tolerance
        return d


Requirement = Loss | Accuracy | Parameter | Gradient | Count | Activation | Outputs | ChangedOnly

#: kind name → requirement class: the closed set of the language.
KINDS: dict[str, type[Requirement]] = {
    c.KIND: c for c in (Loss, Accuracy, Parameter, Gradient, Count, Activation, Outputs,
                        ChangedOnly)
}


# ---------------------------------------------------------------------- the original network
@dataclass(frozen=True)
class NeuronShape:
    role: str
    activation: str
    slope: float | None = None   # only for activations that have one (leaky ReLU)


@dataclass(frozen=True)
class Original:
    """The lesson's starting network, as ``changed_only`` compares with it: each neuron's role
    and activation, each connection's ends, and every weight and bias value."""

    neurons: dict[str, NeuronShape]
    connections: dict[str, tuple[str, str]]
    parameters: dict[str, float]

    @classmethod
    def of(cls, net: Network) -> Original:
        """A snapshot of ``net`` (the lesson as its author saves it)."""
        neurons = {
            n.id: NeuronShape(n.role, n.activation,
                              n.slope if activations.ACTIVATIONS[n.activation].has_slope else None)
            for n in net.neurons.values()
        }
        conns = {c.id: (c.source, c.target) for c in net.connections.values()}
        # weights and biases; a trainable leaky slope is compared as the neuron's slope
        pids = [p for p in net.param_ids() if slope_neuron(p) is None]
        slots = [net.param_slot(p) for p in pids]
        values = net.store.values[slots].tolist()
        return cls(neurons, conns, dict(zip(pids, values, strict=True)))

    def to_dict(self) -> dict:
        def shape(s: NeuronShape) -> dict:
            d: dict[str, Any] = {"role": s.role, "activation": s.activation}
            if s.slope is not None:
                d["slope"] = s.slope
            return d
        return {
            "neurons": {nid: shape(s) for nid, s in self.neurons.items()},
            "connections": {cid: {"source": s, "target": t}
                            for cid, (s, t) in self.connections.items()},
            "parameters": dict(self.parameters),
        }

    def param_ids(self) -> set[str]:
        """The weights and biases (each has its value in ``parameters``)."""
        return set(self.connections) | {n for n, s in self.neurons.items() if s.role != "input"}

    def nameable_ids(self) -> set[str]:
        """The parameter ids a goal may name: the weights and biases, and the slope of every
        leaky ReLU (a parameter once the learner makes it trainable)."""
        return self.param_ids() | {slope_param_id(n) for n, s in self.neurons.items()
                                   if s.activation == "leaky_relu"}


# ---------------------------------------------------------------------- goals
@dataclass(frozen=True)
class Goal:
    """One checklist line: its id (for remembering progress), its text, and the requirements
    that must all hold."""

    id: str
    text: str
    require: tuple[Requirement, ...]

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "require": [r.to_dict() for r in self.require]}


@dataclass(frozen=True)
class Challenges:
    """A lesson's goals, and the original network that ``changed_only`` compares with."""

    goals: tuple[Goal, ...] = ()
    original: Original | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"goals": [g.to_dict() for g in self.goals]}
        if self.original is not None:
            d["original"] = self.original.to_dict()
        return d


# ---------------------------------------------------------------------- descriptions
COUNT_NAMES = {"neurons": "neurons", "hidden_neurons": "hidden neurons",
               "connections": "connections", "parameters": "parameters",
               "trainable_parameters": "trainable parameters", "hidden_layers": "hidden layers",
               "rows": "dataset rows"}


def bounds_text(b: Bounds, fmt: Callable[[float], str] | None = None) -> str:
    """'< 0.01', '≥ 100%' (with ``fmt``), '> −0.5 and ≤ 0'."""
    show = fmt or (lambda v: num(v, 6))
    signs = {"below": "<", "at_most": "≤", "above": ">", "at_least": "≥"}
    return " and ".join(f"{signs[k]} {show(v)}" for k, v in b.items())


def percent(v: float) -> str:
    """A fraction as a percentage: 0.75 → '75%', 0.9876 → '98.76%'."""
    return f"{num(100.0 * v, 6)}%"


def describe(req: Requirement) -> str:
    """What a requirement asks, in words: 'MSE < 0.01', 'hidden neurons ≤ 2'."""
    if isinstance(req, Loss):
        return f"{LOSS_LABELS[req.loss]} {bounds_text(req.bounds)}"
    if isinstance(req, Accuracy):
        return f"accuracy {bounds_text(req.bounds, percent)}"
    if isinstance(req, Parameter):
        if req.value is None:
            return f"{req.id} {bounds_text(req.bounds or Bounds())}"
        return f"{req.id} = {num(req.value, 6)} ± {num(req.tolerance, 6)}"
    if isinstance(req, Gradient):
        return f"|d{LOSS_LABELS[req.loss]}/d{req.id}| {bounds_text(req.bounds)}"
    if isinstance(req, Count):
        return f"{COUNT_NAMES[req.of]} {bounds_text(req.bounds)}"
    if isinstance(req, Activation):
        who = f"the {req.role} neurons" if req.role else ", ".join(req.neurons)
        parts = []
        if req.one_of:
            parts.append(" or ".join(req.one_of))
        if req.none_of:
            parts.append("not " + " or ".join(req.none_of))
        return f"{who}: {', '.join(parts)}"
    if isinstance(req, Outputs):
        return f"the outputs of a {len(req.X)}-row table within ± {num(req.tolerance, 6)}"
    if isinstance(req, ChangedOnly):
        return "only " + (", ".join(req.parameters) or "nothing") + " changed"
    raise TypeError(f"not a requirement: {req!r}")


def describe_all(reqs: Iterable[Requirement]) -> str:
    return "; ".join(describe(r) for r in reqs)


__all__ = [
    "Challenges", "Goal", "Requirement", "KINDS", "Bounds", "Original", "NeuronShape", "Loss",
    "Accuracy", "Parameter", "Gradient", "Count", "Activation", "Outputs", "ChangedOnly",
    "COUNTS", "BOUND_KEYS", "describe", "describe_all", "bounds_text", "percent", "MAX_GOALS",
    "MAX_REQUIREMENTS", "MAX_TEXT", "MAX_TABLE_ROWS", "MAX_TABLE_COLUMNS",
]

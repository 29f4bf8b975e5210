"""The challenge language: goals a lesson sets, as data for the project file, and their checks.

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

:meth:`Challenges.from_json` validates the JSON form (what the project file holds) and raises
:class:`ChallengeError` with one line naming the JSON path, the problem and the goal, in the
style of the project loader: ``$.challenges.goals[1].require[0].below: must be a number, got
the text 'low' (in goal 'small-xor')``. Ids a goal names are checked against the network only
when the challenges carry the lesson's ``original`` network: the learner's own network may lose
a neuron a goal names, and that makes the goal fail, never the file. :meth:`Challenges.to_dict`
gives the JSON form back. Checking a goal against a project is :mod:`.checker`'s job.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import activations, losses
from ..network import _ID_RE, ROLES, Network
from ..trace.formatting import LOSS_LABELS, num

MAX_GOALS = 100
MAX_REQUIREMENTS = 20       # per goal
MAX_TEXT = 200              # a goal's checklist text
MAX_TABLE_ROWS = 1024       # rows of an ``outputs`` table
MAX_TABLE_COLUMNS = 1024
MAX_ORIGINAL_NEURONS = 10_000        # the project format's limits on a network
MAX_ORIGINAL_CONNECTIONS = 500_000

#: What a ``count`` requirement can count.
COUNTS = ("neurons", "hidden_neurons", "connections", "parameters", "trainable_parameters",
          "hidden_layers", "rows")


class ChallengeError(ValueError):
    """Challenges that cannot be read: one line naming the JSON path and the problem."""


# ---------------------------------------------------------------------- JSON field checks
def _fail(path: str, msg: str) -> None:
    raise ChallengeError(f"{path}: {msg}")


def _describe(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f"the text {(v if len(v) <= 40 else v[:37] + '...')!r}"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "a list"
    return repr(v)


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _key(path: str, k: str) -> str:
    return f"{path}.{k}" if _PLAIN_KEY.match(k) else f"{path}[{json.dumps(k[:40])}]"


def _obj(v: Any, path: str, required: tuple[str, ...] = (),
         optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(v, dict):
        _fail(path, f"must be an object, got {_describe(v)}")
    dup = getattr(v, "duplicate", "")  # the project parser marks an object with a repeated key
    if dup:
        _fail(_key(path, dup), "the key appears more than once")
    for k in required:
        if k not in v:
            _fail(path, f"the key {k!r} is missing")
    allowed = set(required) | set(optional)
    for k in v:
        if k not in allowed:
            _fail(_key(path, k), f"unknown key (allowed here: {', '.join(sorted(allowed))})")
    return v


def _mapping(v: Any, path: str, limit: int, what: str) -> dict:
    """An object whose keys are ids (any keys allowed, each checked by the caller)."""
    _obj(v, path, (), tuple(v) if isinstance(v, dict) else ())
    if len(v) > limit:
        _fail(path, f"{len(v)} {what} is more than the limit of {limit}")
    return v


def _num(v: Any, path: str) -> float:
    if isinstance(v, bool) or v is None or isinstance(v, (str, list, dict)):
        _fail(path, f"must be a number, got {_describe(v)}")
    if not isinstance(v, (int, float)) or not math.isfinite(v):
        _fail(path, f"must be a finite number, got {v!r}")  # NaN, Infinity, 1e999
    return float(v)


def _list(v: Any, path: str, lo: int, hi: int, what: str) -> list:
    if not isinstance(v, list):
        _fail(path, f"must be a list, got {_describe(v)}")
    if len(v) < lo:
        _fail(path, f"needs at least {lo} {what}")
    if len(v) > hi:
        _fail(path, f"{len(v)} {what} is more than the limit of {hi}")
    return v


def _text(v: Any, path: str, limit: int) -> str:
    if not isinstance(v, str):
        _fail(path, f"must be text, got {_describe(v)}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in v):
        _fail(path, "must be one line of text, without control characters such as line breaks")
    if not v.strip():
        _fail(path, "must not be empty")
    if len(v) > limit:
        _fail(path, f"is {len(v)} characters long, more than the limit of {limit}")
    return v


def _id(v: Any, path: str) -> str:
    if not isinstance(v, str):
        _fail(path, f"must be an id (text), got {_describe(v)}")
    if not _ID_RE.match(v):
        _fail(path, f"{v[:70]!r} is not a valid id: use 1 to 64 letters, digits, '_', '.' or "
              "'-', starting with a letter or '_'")
    return v


def _ids(v: Any, path: str, lo: int, what: str) -> tuple[str, ...]:
    items = _list(v, path, lo, MAX_ORIGINAL_NEURONS + MAX_ORIGINAL_CONNECTIONS, what)
    out = tuple(_id(x, f"{path}[{i}]") for i, x in enumerate(items))
    seen: set[str] = set()
    for i, x in enumerate(out):
        if x in seen:
            _fail(f"{path}[{i}]", f"{x!r} is named twice")
        seen.add(x)
    return out


def _choice(v: Any, path: str, allowed: Iterable[str], what: str) -> str:
    allowed = tuple(allowed)
    if not isinstance(v, str) or v not in allowed:
        shown = repr(v) if isinstance(v, str) else _describe(v)
        _fail(path, f"unknown {what} {shown} (known: {', '.join(allowed)})")
    return v


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

    @classmethod
    def from_json(cls, d: dict, path: str, lo: float | None = None,
                  hi: float | None = None) -> Bounds:
        """The bound keys of requirement object ``d`` (values in [lo, hi] when given)."""
        got = {k: _num(d[k], f"{path}.{k}") for k in BOUND_KEYS if k in d}
        if not got:
            _fail(path, "needs a bound: 'below', 'at_most', 'above' or 'at_least'")
        if "below" in got and "at_most" in got:
            _fail(f"{path}.at_most", "give one upper bound: 'below' or 'at_most', not both")
        if "above" in got and "at_least" in got:
            _fail(f"{path}.at_least", "give one lower bound: 'above' or 'at_least', not both")
        for k, v in got.items():
            if lo is not None and v < lo:
                _fail(f"{path}.{k}", f"must be at least {lo:g}, got {v:g}")
            if hi is not None and v > hi:
                _fail(f"{path}.{k}", f"must be at most {hi:g}, got {v:g}")
        b = cls(**got)
        upper = min(x for x in (b.below, b.at_most, math.inf) if x is not None)
        lower = max(x for x in (b.above, b.at_least, -math.inf) if x is not None)
        if lower > upper or (lower == upper and (b.below is not None or b.above is not None)):
            _fail(path, "the bounds leave no value that could pass")
        return b


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

    @classmethod
    def from_json(cls, d: dict, path: str) -> Loss:
        _obj(d, path, cls.REQUIRED, cls.OPTIONAL)
        return cls(_choice(d["loss"], f"{path}.loss", losses.NAMES, "loss"),
                   Bounds.from_json(d, path, lo=0.0))


@dataclass(frozen=True)
class Accuracy:
    """The fraction of dataset rows whose predicted class is right lies in ``bounds``."""

    KIND: ClassVar[str] = "accuracy"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind",)
    OPTIONAL: ClassVar[tuple[str, ...]] = BOUND_KEYS
    bounds: Bounds

    def to_dict(self) -> dict:
        return {"kind": self.KIND, **self.bounds.to_dict()}

    @classmethod
    def from_json(cls, d: dict, path: str) -> Accuracy:
        _obj(d, path, cls.REQUIRED, cls.OPTIONAL)
        return cls(Bounds.from_json(d, path, lo=0.0, hi=1.0))


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

    @classmethod
    def from_json(cls, d: dict, path: str) -> Parameter:
        _obj(d, path, cls.REQUIRED, cls.OPTIONAL)
        pid = _id(d["id"], f"{path}.id")
        has_bounds = any(k in d for k in BOUND_KEYS)
        if "value" in d:
            if has_bounds:
                _fail(path, "give either 'value' with 'tolerance' or bounds, not both")
            if "tolerance" not in d:
                _fail(path, "the key 'tolerance' is missing (how far from 'value' still passes)")
            tol = _num(d["tolerance"], f"{path}.tolerance")
            if tol < 0:
                _fail(f"{path}.tolerance", f"must not be negative, got {tol:g}")
            return cls(pid, _num(d["value"], f"{path}.value"), tol)
        if "tolerance" in d:
            _fail(f"{path}.tolerance", "a tolerance goes with a 'value'")
        if not has_bounds:
            _fail(path, "needs a 'value' with a 'tolerance', or bounds ('below', 'at_most', "
                  "'above', 'at_least')")
        return cls(pid, bounds=Bounds.from_json(d, path))


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

    @classmethod
    def from_json(cls, d: dict, path: str) -> Gradient:
        _obj(d, path, cls.REQUIRED, cls.OPTIONAL)
        return cls(_id(d["id"], f"{path}.id"),
                   _choice(d["loss"], f"{path}.loss", losses.NAMES, "loss"),
                   Bounds.from_json(d, path, lo=0.0))


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

    @classmethod
    def from_json(cls, d: dict, path: str) -> Count:
        _obj(d, path, cls.REQUIRED, cls.OPTIONAL)
        return cls(_choice(d["of"], f"{path}.of", COUNTS, "thing to count"),
                   Bounds.from_json(d, path, lo=0.0))


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

    @classmethod
    def from_json(cls, d: dict, path: str) -> Activation:
        _obj(d, path, cls.REQUIRED, cls.OPTIONAL)
        if ("neurons" in d) == ("role" in d):
            _fail(path, "name the neurons: give 'neurons' (a list of ids) or 'role', one of them")
        neurons = _ids(d["neurons"], f"{path}.neurons", 1, "neuron ids") if "neurons" in d \
            else ()
        role = _choice(d["role"], f"{path}.role", ROLES[1:], "role") if "role" in d else None
        names: dict[str, tuple[str, ...]] = {}
        for key in ("one_of", "none_of"):
            if key in d:
                items = _list(d[key], f"{path}.{key}", 1, len(activations.NAMES), "activations")
                names[key] = tuple(_choice(a, f"{path}.{key}[{i}]", activations.NAMES,
                                           "activation") for i, a in enumerate(items))
        if not names:
            _fail(path, "needs 'one_of' or 'none_of' (a list of activation names)")
        return cls(neurons, role, names.get("one_of", ()), names.get("none_of", ()))


@dataclass(frozen=True)
class Outputs:
    """For each row of ``X`` the outputs are within ``tolerance`` of that row of ``Y``: a truth
    table the network must compute, which need not be the dataset's."""

    KIND: ClassVar[str] = "outputs"
    REQUIRED: ClassVar[tuple[str, ...]] = ("kind", "X", "Y", "tolerance")
    OPTIONAL: ClassVar[tuple[str, ...]] = ()
    X: tuple[tuple[float, ...], ...]
    Y: tuple[tuple[float, ...], ...]
    tolerance: float

    def to_dict(self) -> dict:
        return {"kind": self.KIND, "X": [list(r) for r in self.X], "Y": [list(r) for r in self.Y],
                "tolerance": self.tolerance}

    @classmethod
    def from_json(cls, d: dict, path: str) -> Outputs:
        _obj(d, path, cls.REQUIRED, cls.OPTIONAL)
        X = _table(d["X"], f"{path}.X", None)
        Y = _table(d["Y"], f"{path}.Y", len(X))
        tol = _num(d["tolerance"], f"{path}.tolerance")
        if tol < 0:
            _fail(f"{path}.tolerance", f"must not be negative, got {tol:g}")
        return cls(X, Y, tol)


def _table(v: Any, path: str, n_rows: int | None) -> tuple[tuple[float, ...], ...]:
    rows = _list(v, path, 1, MAX_TABLE_ROWS, "rows")
    if n_rows is not None and len(rows) != n_rows:
        _fail(path, f"has {len(rows)} rows but X has {n_rows}; each row of inputs needs its "
              "outputs")
    out: list[tuple[float, ...]] = []
    for r, row in enumerate(rows):
        cells = _list(row, f"{path}[{r}]", 1, MAX_TABLE_COLUMNS, "values")
        if out and len(cells) != len(out[0]):
            _fail(f"{path}[{r}]", f"has {len(cells)} value(s), expected {len(out[0])} like "
                  "the rows above")
        out.append(tuple(_num(c, f"{path}[{r}][{i}]") for i, c in enumerate(cells)))
    return tuple(out)


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

    @classmethod
    def from_json(cls, d: dict, path: str) -> ChangedOnly:
        _obj(d, path, cls.REQUIRED, cls.OPTIONAL)
        params = _ids(d["parameters"], f"{path}.parameters", 0, "parameter ids")
        tol = _num(d.get("tolerance", 0.0), f"{path}.tolerance")
        if tol < 0:
            _fail(f"{path}.tolerance", f"must not be negative, got {tol:g}")
        return cls(params, tol)


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
        pids = net.param_ids()
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
        return set(self.connections) | {n for n, s in self.neurons.items() if s.role != "input"}

    @classmethod
    def from_json(cls, v: Any, path: str) -> Original:
        _obj(v, path, ("neurons", "connections", "parameters"))
        nd = _mapping(v["neurons"], f"{path}.neurons", MAX_ORIGINAL_NEURONS, "neurons")
        neurons: dict[str, NeuronShape] = {}
        for nid, shape in nd.items():
            p = _key(f"{path}.neurons", nid)
            neurons[_id(nid, p)] = _shape(shape, p)
        cd = _mapping(v["connections"], f"{path}.connections", MAX_ORIGINAL_CONNECTIONS,
                      "connections")
        conns = _connections(cd, f"{path}.connections", neurons)
        pd = _mapping(v["parameters"], f"{path}.parameters",
                      MAX_ORIGINAL_NEURONS + MAX_ORIGINAL_CONNECTIONS, "parameters")
        expected = cls(neurons, conns, {}).param_ids()
        return cls(neurons, conns, _parameters(pd, f"{path}.parameters", expected))


def _shape(s: Any, p: str) -> NeuronShape:
    _obj(s, p, ("role", "activation"), ("slope",))
    role = _choice(s["role"], f"{p}.role", ROLES, "role")
    act = _choice(s["activation"], f"{p}.activation", activations.NAMES, "activation")
    has_slope = activations.ACTIVATIONS[act].has_slope
    if "slope" in s and not has_slope:
        _fail(f"{p}.slope", f"only an activation with a slope has one, not {act!r}")
    slope = _num(s.get("slope", activations.DEFAULT_LEAKY_SLOPE), f"{p}.slope") \
        if has_slope else None
    return NeuronShape(role, act, slope)


def _connections(cd: dict, path: str,
                 neurons: dict[str, NeuronShape]) -> dict[str, tuple[str, str]]:
    """The original connections: checked in bulk, else one by one to name the first problem."""
    if (all(type(k) is str for k in cd) and all(map(_ID_RE.match, cd))
            and neurons.keys().isdisjoint(cd)
            and all(type(c) is dict and len(c) == 2 and type(c.get("source")) is str
                    and type(c.get("target")) is str for c in cd.values())):
        conns = {cid: (c["source"], c["target"]) for cid, c in cd.items()}
        if {e for ends in conns.values() for e in ends} <= neurons.keys():
            return conns
    conns = {}
    for cid, c in cd.items():
        p = _key(path, cid)
        _id(cid, p)
        if cid in neurons:
            _fail(p, f"{cid!r} is also a neuron id; every id is unique")
        _obj(c, p, ("source", "target"))
        for end in ("source", "target"):
            if not isinstance(c[end], str) or c[end] not in neurons:
                _fail(f"{p}.{end}", f"there is no neuron {_describe(c[end])} among the "
                      "original neurons")
        conns[cid] = (c["source"], c["target"])
    return conns


def _parameters(pd: dict, path: str, expected: set[str]) -> dict[str, float]:
    """Every original parameter's value (in bulk when all is well, as for connections)."""
    values = list(pd.values())
    if pd.keys() == expected and all(type(x) is float or type(x) is int for x in values) \
            and bool(np.isfinite(np.array(values, dtype=np.float64)).all()):
        return {pid: float(x) for pid, x in pd.items()}
    params: dict[str, float] = {}
    for pid, value in pd.items():
        p = _key(path, pid)
        if pid not in expected:
            _fail(p, f"{str(pid)[:70]!r} is neither an original connection nor a non-input "
                  "neuron")
        params[pid] = _num(value, p)
    missing = sorted(expected - params.keys())
    if missing:
        _fail(path, f"the value of {missing[0]!r} is missing (every original weight and bias "
              "has one)")
    return params


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

    @classmethod
    def from_json(cls, v: Any, path: str = "$.challenges") -> Challenges:
        """Validate the JSON form; ChallengeError (one line) names the first problem."""
        _obj(v, path, ("goals",), ("original",))
        original = Original.from_json(v["original"], f"{path}.original") \
            if "original" in v else None
        items = _list(v["goals"], f"{path}.goals", 1, MAX_GOALS, "goals")
        goals: list[Goal] = []
        where: dict[str, str] = {}
        for i, g in enumerate(items):
            p = f"{path}.goals[{i}]"
            _obj(g, p, ("id", "require"), ("text",))
            gid = _id(g["id"], f"{p}.id")
            if gid in where:
                _fail(f"{p}.id", f"duplicate goal id {gid!r} (already used at {where[gid]})")
            where[gid] = f"{p}.id"
            try:
                goals.append(_goal(g, gid, p, original, path))
            except ChallengeError as e:
                raise ChallengeError(f"{e} (in goal {gid!r})") from None
        return cls(tuple(goals), original)


def _goal(g: dict, gid: str, p: str, original: Original | None, top: str) -> Goal:
    reqs = _list(g["require"], f"{p}.require", 1, MAX_REQUIREMENTS, "requirements")
    made: list[Requirement] = []
    for k, r in enumerate(reqs):
        q = f"{p}.require[{k}]"
        _obj(r, q, ("kind",), tuple(r) if isinstance(r, dict) else ())  # its class checks the rest
        kind = _choice(r["kind"], f"{q}.kind", KINDS, "requirement kind")
        req = KINDS[kind].from_json(r, q)
        _against_original(req, q, original, top)
        made.append(req)
    text = _text(g["text"], f"{p}.text", MAX_TEXT) if "text" in g \
        else describe_all(made)[:MAX_TEXT]
    return Goal(gid, text, tuple(made))


def _against_original(req: Requirement, q: str, original: Original | None, top: str) -> None:
    """The ids a requirement names exist in the original network (when there is one)."""
    if isinstance(req, ChangedOnly) and original is None:
        _fail(q, f"'changed_only' compares with the lesson's original network, but "
              f"{top}.original is missing")
    if original is None:
        return
    params = original.param_ids()
    if isinstance(req, (Parameter, Gradient)) and req.id not in params:
        _fail(f"{q}.id", f"the original network has no parameter {req.id!r}")
    if isinstance(req, ChangedOnly):
        for i, pid in enumerate(req.parameters):
            if pid not in params:
                _fail(f"{q}.parameters[{i}]", f"the original network has no parameter {pid!r}")
    if isinstance(req, Activation):
        for i, nid in enumerate(req.neurons):
            if nid not in original.neurons:
                _fail(f"{q}.neurons[{i}]", f"the original network has no neuron {nid!r}")
    if isinstance(req, Outputs):
        n_in = sum(s.role == "input" for s in original.neurons.values())
        n_out = sum(s.role == "output" for s in original.neurons.values())
        if len(req.X[0]) != n_in:
            _fail(f"{q}.X", f"rows have {len(req.X[0])} value(s) but the network has {n_in} "
                  "input neuron(s)")
        if len(req.Y[0]) != n_out:
            _fail(f"{q}.Y", f"rows have {len(req.Y[0])} value(s) but the network has {n_out} "
                  "output neuron(s)")


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
    "Challenges", "Goal", "Requirement", "KINDS", "Bounds", "Original", "NeuronShape",
    "ChallengeError", "Loss", "Accuracy", "Parameter", "Gradient", "Count", "Activation",
    "Outputs", "ChangedOnly", "COUNTS", "describe", "describe_all", "bounds_text", "percent",
    "MAX_GOALS", "MAX_REQUIREMENTS",
]

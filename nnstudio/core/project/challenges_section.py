"""The ``challenges`` section of a project file (format version 2): a lesson's goals, checked.

:func:`validate_challenges` reads the JSON form of :mod:`nnstudio.core.lessons.goals` — the
goals, each with its requirements of the closed set of kinds, and the ``original`` network that
``changed_only`` compares with — and returns the :class:`~nnstudio.core.lessons.goals.Challenges`
it describes. Every field is checked with the format's field checks; a problem raises
:class:`~.checks.ProjectError` with one line naming the JSON path, the problem and the goal:
``$.challenges.goals[1].require[0].below: must be a number, got the text 'low' (in goal
'small-xor')``.

Ids a goal names are checked against ``original`` when it is present (they help the author);
never against the project's own network, which the learner is free to change (a goal whose
neuron was deleted fails when checked; the file still loads). An ``original`` of a big network
is checked in bulk first and one entry at a time only to name a problem.

The section is one entry of :data:`~.sections.SECTIONS` (optional: absent means no challenges).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import activations, losses
from ..lessons.goals import (
    BOUND_KEYS,
    COUNTS,
    KINDS,
    MAX_GOALS,
    MAX_REQUIREMENTS,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_ROWS,
    MAX_TEXT,
    Accuracy,
    Activation,
    Bounds,
    Challenges,
    ChangedOnly,
    Count,
    Goal,
    Gradient,
    Loss,
    NeuronShape,
    Original,
    Outputs,
    Parameter,
    Requirement,
    describe_all,
)
from ..network import ROLES, is_valid_id, slope_neuron
from .checks import ProjectError, check_list, check_object, describe, fail, member_path, number
from .checks import text as check_text
from .network_section import MAX_CONNECTIONS, MAX_NEURONS, _check_id

MAX_ROW_NAME = 60   # characters of an outputs row's name ("the X shifted one pixel right")


# ---------------------------------------------------------------------- field checks
def _finite(v: Any, path: str) -> float:
    """A finite number (the parser marks NaN and Infinity; a value built in code may hold a
    float NaN, refused here too)."""
    f = number(v, path)
    if not math.isfinite(f):
        fail(path, f"must be a finite number, got {v!r}")
    return f


def _not_negative(v: Any, path: str) -> float:
    f = _finite(v, path)
    if f < 0:
        fail(path, f"must not be negative, got {f:g}")
    return f


def _items(v: Any, path: str, lo: int, hi: int, what: str) -> list[Any]:
    items = check_list(v, path, hi, what)
    if len(items) < lo:
        fail(path, f"needs at least {lo} {what}")
    return items


def _mapping(v: Any, path: str, limit: int, what: str) -> dict[str, Any]:
    """An object keyed by ids (each key checked by the caller)."""
    check_object(v, path, (), tuple(v) if isinstance(v, dict) else ())
    if len(v) > limit:
        fail(path, f"{len(v)} {what} is more than the limit of {limit}")
    return v


def _ids(v: Any, path: str, lo: int, what: str) -> tuple[str, ...]:
    items = _items(v, path, lo, MAX_NEURONS + MAX_CONNECTIONS, what)
    out = tuple(_check_id(x, f"{path}[{i}]") for i, x in enumerate(items))
    seen: set[str] = set()
    for i, x in enumerate(out):
        if x in seen:
            fail(f"{path}[{i}]", f"{x!r} is named twice")
        seen.add(x)
    return out


def _choice(v: Any, path: str, allowed: Iterable[str], what: str) -> str:
    allowed = tuple(allowed)
    if not isinstance(v, str) or v not in allowed:
        shown = repr(v) if isinstance(v, str) else describe(v)
        fail(path, f"unknown {what} {shown} (known: {', '.join(allowed)})")
    return v


def _bounds(d: dict[str, Any], path: str, lo: float | None = None,
            hi: float | None = None) -> Bounds:
    """The bound keys of requirement object ``d`` (values in [lo, hi] when given)."""
    got = {k: _finite(d[k], f"{path}.{k}") for k in BOUND_KEYS if k in d}
    if not got:
        fail(path, "needs a bound: 'below', 'at_most', 'above' or 'at_least'")
    if "below" in got and "at_most" in got:
        fail(f"{path}.at_most", "give one upper bound: 'below' or 'at_most', not both")
    if "above" in got and "at_least" in got:
        fail(f"{path}.at_least", "give one lower bound: 'above' or 'at_least', not both")
    for k, v in got.items():
        if lo is not None and v < lo:
            fail(f"{path}.{k}", f"must be at least {lo:g}, got {v:g}")
        if hi is not None and v > hi:
            fail(f"{path}.{k}", f"must be at most {hi:g}, got {v:g}")
    b = Bounds(**got)
    upper = min(x for x in (b.below, b.at_most, math.inf) if x is not None)
    lower = max(x for x in (b.above, b.at_least, -math.inf) if x is not None)
    if lower > upper or (lower == upper and (b.below is not None or b.above is not None)):
        fail(path, "the bounds leave no value that could pass")
    return b


# ---------------------------------------------------------------------- one reader per kind
def _loss(d: dict[str, Any], path: str) -> Loss:
    return Loss(_choice(d["loss"], f"{path}.loss", losses.NAMES, "loss"),
                _bounds(d, path, lo=0.0))


def _accuracy(d: dict[str, Any], path: str) -> Accuracy:
    return Accuracy(_bounds(d, path, lo=0.0, hi=1.0))


def _check_param_id(v: Any, path: str) -> str:
    """A parameter id: a connection's or neuron's id, or a neuron's id followed by ':slope'
    (its trainable leaky slope)."""
    nid = slope_neuron(v) if isinstance(v, str) else None
    if nid is not None:
        _check_id(nid, path)
        return str(v)
    return _check_id(v, path)


def _parameter(d: dict[str, Any], path: str) -> Parameter:
    pid = _check_param_id(d["id"], f"{path}.id")
    has_bounds = any(k in d for k in BOUND_KEYS)
    if "value" in d:
        if has_bounds:
            fail(path, "give either 'value' with 'tolerance' or bounds, not both")
        if "tolerance" not in d:
            fail(path, "the key 'tolerance' is missing (how far from 'value' still passes)")
        return Parameter(pid, _finite(d["value"], f"{path}.value"),
                         _not_negative(d["tolerance"], f"{path}.tolerance"))
    if "tolerance" in d:
        fail(f"{path}.tolerance", "a tolerance goes with a 'value'")
    if not has_bounds:
        fail(path, "needs a 'value' with a 'tolerance', or bounds ('below', 'at_most', "
             "'above', 'at_least')")
    return Parameter(pid, bounds=_bounds(d, path))


def _gradient(d: dict[str, Any], path: str) -> Gradient:
    return Gradient(_check_param_id(d["id"], f"{path}.id"),
                    _choice(d["loss"], f"{path}.loss", losses.NAMES, "loss"),
                    _bounds(d, path, lo=0.0))


def _count(d: dict[str, Any], path: str) -> Count:
    return Count(_choice(d["of"], f"{path}.of", COUNTS, "thing to count"),
                 _bounds(d, path, lo=0.0))


def _activation(d: dict[str, Any], path: str) -> Activation:
    if ("neurons" in d) == ("role" in d):
        fail(path, "name the neurons: give 'neurons' (a list of ids) or 'role', one of them")
    neurons = _ids(d["neurons"], f"{path}.neurons", 1, "neuron ids") if "neurons" in d else ()
    role = _choice(d["role"], f"{path}.role", ROLES[1:], "role") if "role" in d else None
    names: dict[str, tuple[str, ...]] = {}
    for key in ("one_of", "none_of"):
        if key in d:
            items = _items(d[key], f"{path}.{key}", 1, len(activations.NAMES), "activations")
            names[key] = tuple(_choice(a, f"{path}.{key}[{i}]", activations.NAMES, "activation")
                               for i, a in enumerate(items))
    if not names:
        fail(path, "needs 'one_of' or 'none_of' (a list of activation names)")
    return Activation(neurons, role, names.get("one_of", ()), names.get("none_of", ()))


def _table(v: Any, path: str, n_rows: int | None) -> tuple[tuple[float, ...], ...]:
    rows = _items(v, path, 1, MAX_TABLE_ROWS, "rows")
    if n_rows is not None and len(rows) != n_rows:
        fail(path, f"has {len(rows)} rows but X has {n_rows}; each row of inputs needs its "
             "outputs")
    out: list[tuple[float, ...]] = []
    for r, row in enumerate(rows):
        cells = _items(row, f"{path}[{r}]", 1, MAX_TABLE_COLUMNS, "values")
        if out and len(cells) != len(out[0]):
            fail(f"{path}[{r}]", f"has {len(cells)} value(s), expected {len(out[0])} like the "
                 "rows above")
        out.append(tuple(_finite(c, f"{path}[{r}][{i}]") for i, c in enumerate(cells)))
    return tuple(out)


def _outputs(d: dict[str, Any], path: str) -> Outputs:
    X = _table(d["X"], f"{path}.X", None)
    Y = _table(d["Y"], f"{path}.Y", len(X))
    names: tuple[str, ...] = ()
    if "names" in d:
        p = f"{path}.names"
        items = check_list(d["names"], p, MAX_TABLE_ROWS, "names")
        if len(items) != len(X):
            fail(p, f"has {len(items)} name(s) for the {len(X)} row(s) of X: give one per row")
        names = tuple(check_text(v, f"{p}[{i}]", MAX_ROW_NAME) for i, v in enumerate(items))
    return Outputs(X, Y, _not_negative(d["tolerance"], f"{path}.tolerance"), names)


def _changed_only(d: dict[str, Any], path: str) -> ChangedOnly:
    return ChangedOnly(_ids(d["parameters"], f"{path}.parameters", 0, "parameter ids"),
                       _not_negative(d.get("tolerance", 0.0), f"{path}.tolerance"))


#: requirement kind → the function that reads it (one per kind of the language)
READERS: dict[str, Callable[[dict[str, Any], str], Requirement]] = {
    "loss": _loss, "accuracy": _accuracy, "parameter": _parameter, "gradient": _gradient,
    "count": _count, "activation": _activation, "outputs": _outputs,
    "changed_only": _changed_only,
}


def _requirement(r: Any, path: str) -> Requirement:
    check_object(r, path, ("kind",), tuple(r) if isinstance(r, dict) else ())
    kind = _choice(r["kind"], f"{path}.kind", KINDS, "requirement kind")
    cls = KINDS[kind]
    check_object(r, path, cls.REQUIRED, cls.OPTIONAL)
    return READERS[kind](r, path)


# ---------------------------------------------------------------------- the original network
def _original(v: Any, path: str) -> Original:
    check_object(v, path, ("neurons", "connections", "parameters"))
    nd = _mapping(v["neurons"], f"{path}.neurons", MAX_NEURONS, "neurons")
    neurons: dict[str, NeuronShape] = {}
    for nid, shape in nd.items():
        p = member_path(f"{path}.neurons", nid)
        neurons[_check_id(nid, p)] = _shape(shape, p)
    cd = _mapping(v["connections"], f"{path}.connections", MAX_CONNECTIONS, "connections")
    conns = _connections(cd, f"{path}.connections", neurons)
    pd = _mapping(v["parameters"], f"{path}.parameters", MAX_NEURONS + MAX_CONNECTIONS,
                  "parameters")
    expected = Original(neurons, conns, {}).param_ids()
    return Original(neurons, conns, _parameters(pd, f"{path}.parameters", expected))


def _shape(s: Any, p: str) -> NeuronShape:
    check_object(s, p, ("role", "activation"), ("slope",))
    role = _choice(s["role"], f"{p}.role", ROLES, "role")
    act = _choice(s["activation"], f"{p}.activation", activations.NAMES, "activation")
    has_slope = activations.ACTIVATIONS[act].has_slope
    if "slope" in s and not has_slope:
        fail(f"{p}.slope", f"only an activation with a slope has one, not {act!r}")
    slope = _finite(s.get("slope", activations.DEFAULT_LEAKY_SLOPE), f"{p}.slope") \
        if has_slope else None
    return NeuronShape(role, act, slope)


def _connections(cd: dict[str, Any], path: str,
                 neurons: dict[str, NeuronShape]) -> dict[str, tuple[str, str]]:
    """The original connections: checked in bulk, else one by one to name the first problem."""
    if (all(type(k) is str for k in cd) and all(map(is_valid_id, cd))
            and neurons.keys().isdisjoint(cd)
            and all(type(c) is dict and len(c) == 2 and type(c.get("source")) is str
                    and type(c.get("target")) is str for c in cd.values())):
        conns = {cid: (c["source"], c["target"]) for cid, c in cd.items()}
        if {e for ends in conns.values() for e in ends} <= neurons.keys():
            return conns
    conns = {}
    for cid, c in cd.items():
        p = member_path(path, cid)
        _check_id(cid, p)
        if cid in neurons:
            fail(p, f"{cid!r} is also a neuron id; every id is unique")
        check_object(c, p, ("source", "target"))
        for end in ("source", "target"):
            if not isinstance(c[end], str) or c[end] not in neurons:
                fail(f"{p}.{end}", f"there is no neuron {describe(c[end])} among the original "
                     "neurons")
        conns[cid] = (c["source"], c["target"])
    return conns


def _parameters(pd: dict[str, Any], path: str, expected: set[str]) -> dict[str, float]:
    """Every original parameter's value (in bulk when all is well, as for connections)."""
    values = list(pd.values())
    if pd.keys() == expected and all(type(x) is float or type(x) is int for x in values) \
            and bool(np.isfinite(np.array(values, dtype=np.float64)).all()):
        return {pid: float(x) for pid, x in pd.items()}
    params: dict[str, float] = {}
    for pid, value in pd.items():
        p = member_path(path, pid)
        if pid not in expected:
            fail(p, f"{str(pid)[:70]!r} is neither an original connection nor a non-input "
                 "neuron")
        params[pid] = _finite(value, p)
    missing = sorted(expected - params.keys())
    if missing:
        fail(path, f"the value of {missing[0]!r} is missing (every original weight and bias "
             "has one)")
    return params


# ---------------------------------------------------------------------- the section
def validate_challenges(v: Any, path: str = "$.challenges") -> Challenges:
    """The section's JSON value → Challenges; ProjectError (one line) names the first problem."""
    check_object(v, path, ("goals",), ("original",))
    original = _original(v["original"], f"{path}.original") if "original" in v else None
    items = _items(v["goals"], f"{path}.goals", 1, MAX_GOALS, "goals")
    goals: list[Goal] = []
    where: dict[str, str] = {}
    for i, g in enumerate(items):
        p = f"{path}.goals[{i}]"
        check_object(g, p, ("id", "require"), ("text",))
        gid = _check_id(g["id"], f"{p}.id")
        if gid in where:
            fail(f"{p}.id", f"duplicate goal id {gid!r} (already used at {where[gid]})")
        where[gid] = f"{p}.id"
        try:
            goals.append(_goal(g, gid, p, original, path))
        except ProjectError as e:
            raise ProjectError(f"{e} (in goal {gid!r})") from None
    return Challenges(tuple(goals), original)


def _goal(g: dict[str, Any], gid: str, p: str, original: Original | None, top: str) -> Goal:
    reqs = _items(g["require"], f"{p}.require", 1, MAX_REQUIREMENTS, "requirements")
    made: list[Requirement] = []
    for k, r in enumerate(reqs):
        q = f"{p}.require[{k}]"
        req = _requirement(r, q)
        _against_original(req, q, original, top)
        made.append(req)
    text = check_text(g["text"], f"{p}.text", MAX_TEXT) if "text" in g \
        else describe_all(made)[:MAX_TEXT]
    return Goal(gid, text, tuple(made))


def _against_original(req: Requirement, q: str, original: Original | None, top: str) -> None:
    """The ids a requirement names exist in the original network (when there is one)."""
    if isinstance(req, ChangedOnly) and original is None:
        fail(q, f"'changed_only' compares with the lesson's original network, but "
             f"{top}.original is missing")
    if original is None:
        return
    params = original.param_ids()
    if isinstance(req, (Parameter, Gradient)) and req.id not in original.nameable_ids():
        fail(f"{q}.id", f"the original network has no parameter {req.id!r}")
    if isinstance(req, ChangedOnly):
        for i, pid in enumerate(req.parameters):
            if pid not in params:
                fail(f"{q}.parameters[{i}]", f"the original network has no parameter {pid!r}")
    if isinstance(req, Activation):
        for i, nid in enumerate(req.neurons):
            if nid not in original.neurons:
                fail(f"{q}.neurons[{i}]", f"the original network has no neuron {nid!r}")
    if isinstance(req, Outputs):
        n_in = sum(s.role == "input" for s in original.neurons.values())
        n_out = sum(s.role == "output" for s in original.neurons.values())
        if len(req.X[0]) != n_in:
            fail(f"{q}.X", f"rows have {len(req.X[0])} value(s) but the network has {n_in} "
                 "input neuron(s)")
        if len(req.Y[0]) != n_out:
            fail(f"{q}.Y", f"rows have {len(req.Y[0])} value(s) but the network has {n_out} "
                 "output neuron(s)")


__all__ = ["validate_challenges", "READERS"]

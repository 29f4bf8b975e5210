"""Checking a lesson's goals against a project: pass or fail, and a one-line reason each.

:class:`Checker` evaluates every requirement of every goal (see :mod:`.goals`) against the
project as it is now, with the engine's own forward and backward pass, and returns one
:class:`GoalResult` per goal: ``passed`` and a ``reason`` such as ``MSE 0.031 — needs < 0.01``
(a failed goal names what fails; a met one what holds). A goal that cannot be measured — the
parameter it names was deleted, the network has no output, the data has no classes — fails
with a reason saying so; checking never raises for a project the loader accepts.

It is built to re-check on every edit: the compiled engine is kept between checks and is only
recompiled when the network's structure changes, the loss, predictions and gradients are each
computed at most once per check and only if a goal needs them, and the comparison with the
original network is vectorised over the parameters (benchmarks/lesson_checks.py measures it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..engine import Engine, EngineError
from ..network import Network, NetworkError, slope_neuron
from ..trace.builder import ProjectLike
from ..trace.formatting import LOSS_LABELS, num
from .goals import (
    COUNT_NAMES,
    Accuracy,
    Activation,
    Bounds,
    Challenges,
    ChangedOnly,
    Count,
    Goal,
    Gradient,
    Loss,
    Original,
    Outputs,
    Parameter,
    Requirement,
    bounds_text,
    percent,
)
from .numbers import within

DASH = " \u2014 "


@dataclass(frozen=True)
class Outcome:
    """One requirement's result: met or not, and the sentence saying why."""

    requirement: Requirement
    passed: bool
    text: str


@dataclass(frozen=True)
class GoalResult:
    goal: Goal
    outcomes: tuple[Outcome, ...]

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)

    @property
    def reason(self) -> str:
        """What fails (every failing requirement), or, when the goal is met, what holds."""
        shown = [o for o in self.outcomes if not o.passed] or list(self.outcomes)
        return "; ".join(o.text for o in shown)

    def line(self) -> str:
        """The goal as one line of a report: 'pass  <text>: <reason>'."""
        return f"{'pass' if self.passed else 'FAIL'}  {self.goal.text}: {self.reason}"


class _Unmeasurable(Exception):
    """The project cannot give what a requirement measures; the message says why."""


class Checker:
    """Checks one set of challenges, again and again, against a project that changes."""

    def __init__(self, challenges: Challenges):
        self.challenges = challenges
        self._engine: Engine | None = None
        self._tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._compare_key: tuple[int, int] | None = None
        self._compare: _Comparison | None = None
        # losses some goal also needs a gradient of: computed with it, in one pass
        self.gradient_losses = {r.loss for g in challenges.goals for r in g.require
                                if isinstance(r, Gradient)}

    def check(self, project: ProjectLike, engine: Engine | None = None) -> list[GoalResult]:
        """Every goal against the project as it is now. ``engine``: one already compiled for
        this network (the window's own), used instead of compiling a second one when its
        structure is current."""
        m = _Measures(self, project, engine)
        return [GoalResult(g, tuple(_outcome(r, m) for r in g.require))
                for g in self.challenges.goals]

    # ------------------------------------------------------------------ cached per structure
    def engine_for(self, net: Network, offered: Engine | None = None) -> Engine:
        if offered is not None and offered.structure_version == net.structure_version:
            self._engine = Engine.for_network(net, offered)
        else:
            self._engine = Engine.for_network(net, self._engine)
        return self._engine

    def table(self, req: Outputs) -> tuple[np.ndarray, np.ndarray]:
        got = self._tables.get(id(req))
        if got is None:
            got = self._tables[id(req)] = (np.array(req.X, dtype=np.float64),
                                           np.array(req.Y, dtype=np.float64))
        return got

    def comparison(self, net: Network, original: Original) -> _Comparison:
        key = (id(net), net.structure_version)
        if self._compare is None or self._compare_key != key:
            self._compare = _Comparison(net, original)
            self._compare_key = key
        return self._compare


def check(project: ProjectLike, challenges: Challenges,
          engine: Engine | None = None) -> list[GoalResult]:
    """Check every goal once (a :class:`Checker` keeps its caches for repeated checks)."""
    return Checker(challenges).check(project, engine)


# ---------------------------------------------------------------------- measurements
class _Measures:
    """What one check measures, each computed once and only when a requirement asks."""

    def __init__(self, checker: Checker, project: ProjectLike, engine: Engine | None):
        self.checker = checker
        self.net, self.ds = project.network, project.dataset
        self._offered = engine
        self._engine: Engine | str | None = None
        self._losses: dict[str, float] = {}
        self._grads: dict[str, np.ndarray] = {}
        self._pred: np.ndarray | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            try:
                self._engine = self.checker.engine_for(self.net, self._offered)
            except (EngineError, NetworkError) as e:
                self._engine = f"the network cannot be evaluated: {e}"
        if isinstance(self._engine, str):
            raise _Unmeasurable(self._engine)
        return self._engine

    def _data(self) -> tuple[np.ndarray, np.ndarray]:
        if len(self.ds) == 0:
            raise _Unmeasurable("the dataset has no rows")
        eng = self.engine()
        if self.ds.n_inputs != eng.n_input_columns or self.ds.n_targets != len(eng.output_ids):
            raise _Unmeasurable(f"the dataset's {self.ds.n_inputs} input and "
                                f"{self.ds.n_targets} target column(s) do not match the "
                                f"network's {eng.n_input_columns} input and "
                                f"{len(eng.output_ids)} output neuron(s)")
        return self.ds.X, self.ds.Y

    def loss(self, name: str) -> float:
        if name not in self._losses:
            if name in self.checker.gradient_losses:
                self.gradient(name)   # the loss comes with it
            else:
                X, Y = self._data()
                try:
                    self._losses[name] = self.engine().loss(X, Y, name)
                except EngineError as e:   # a loss these outputs cannot have (bce of tanh)
                    raise _Unmeasurable(str(e)) from None
        return self._losses[name]

    def gradient(self, name: str) -> np.ndarray:
        if name not in self._grads:
            X, Y = self._data()
            try:
                value, grad = self.engine().gradient(X, Y, name)
            except EngineError as e:
                raise _Unmeasurable(str(e)) from None
            self._losses.setdefault(name, value)
            self._grads[name] = grad
        return self._grads[name]

    def predictions(self) -> np.ndarray:
        if self._pred is None:
            X, _ = self._data()
            self._pred = self.engine().predict(X)
        return self._pred


def _outcome(req: Requirement, m: _Measures) -> Outcome:
    try:
        passed, text = _EVALUATE[type(req)](req, m)
    except _Unmeasurable as e:
        passed, text = False, str(e)
    return Outcome(req, passed, text)


# ---------------------------------------------------------------------- wording
def _shown(v: float, ok: Callable[[float], bool], fmt: Callable[[float, int], str],
           digits: int = 3) -> str:
    """``v`` with as few significant digits (``digits`` or more) as keep it on its side of the
    goal: an MSE of 0.0099996 against '< 0.01' shows as 0.0099996, not 0.01."""
    if not math.isfinite(v):
        return fmt(v, digits)
    for d in range(digits, 16):
        if ok(float(f"{v:.{d}g}")) == ok(v):
            return fmt(v, d)
    return fmt(v, 17)


def _number(v: float, digits: int) -> str:
    return num(v, digits)


def _percent(v: float, digits: int) -> str:
    return f"{num(100.0 * v, digits)}%"


def _against(what: Callable[[str], str], v: float, bounds: Bounds,
             fmt: Callable[[float, int], str] = _number,
             bound_fmt: Callable[[float], str] | None = None,
             digits: int = 3) -> tuple[bool, str]:
    """(passed, text) for a value against bounds: 'MSE 0.0083 < 0.01' when met,
    'MSE 0.031 — needs < 0.01' when not. ``what`` puts the shown value into words; a measured
    value shows 3 significant digits, a parameter the learner set 6 (``digits``)."""
    passed = bounds.holds(v)
    need = bounds_text(bounds, bound_fmt)
    shown = what(_shown(v, bounds.holds, fmt, digits))
    if not passed:
        return False, f"{shown}{DASH}needs {need}"
    return True, f"{shown} {need}" if len(bounds.items()) == 1 else f"{shown} (needs {need})"


# ---------------------------------------------------------------------- one function per kind
def _loss(req: Loss, m: _Measures) -> tuple[bool, str]:
    name = LOSS_LABELS[req.loss]
    return _against(lambda s: f"{name} {s}", m.loss(req.loss), req.bounds)


def _accuracy(req: Accuracy, m: _Measures) -> tuple[bool, str]:
    if not m.ds.is_classification:
        raise _Unmeasurable("the dataset has no classes, so there is no accuracy")
    acc = m.ds.accuracy(m.predictions())
    return _against(lambda s: f"accuracy {s}", acc, req.bounds, _percent, percent)


def _missing(net: Network, pid: str) -> str:
    """Why the network has no parameter ``pid``, in words."""
    nid = slope_neuron(pid)
    if nid is not None and nid in net.neurons:
        if net.neurons[nid].activation != "leaky_relu":
            return f"{nid!r} is not a leaky ReLU, so it has no slope to train"
        return f"the leaky slope of {nid!r} is not trainable (turn on 'Train slope')"
    return f"there is no parameter {pid!r} in the network"


def _parameter(req: Parameter, m: _Measures) -> tuple[bool, str]:
    try:
        v = m.net.get_param(req.id)
    except NetworkError:
        raise _Unmeasurable(_missing(m.net, req.id)) from None
    if req.value is None:
        return _against(lambda s: f"{req.id} = {s}", v, req.bounds or Bounds(), digits=6)
    target, tol = req.value, req.tolerance

    def near(x: float) -> bool:
        return within(x, target, tol)

    passed = near(v)
    need = f"{num(target, 6)} ± {num(tol, 6)}"
    shown = f"{req.id} = {_shown(v, near, _number, 6)}"
    return passed, f"{shown} ({need})" if passed else f"{shown}{DASH}needs {need}"


def _gradient(req: Gradient, m: _Measures) -> tuple[bool, str]:
    grad = m.gradient(req.loss)
    try:
        i = m.engine().param_index(req.id)
    except EngineError:
        raise _Unmeasurable(_missing(m.net, req.id)) from None
    name = LOSS_LABELS[req.loss]
    return _against(lambda s: f"|d{name}/d{req.id}| = {s}", abs(float(grad[i])), req.bounds)


def _count(req: Count, m: _Measures) -> tuple[bool, str]:
    net = m.net
    if req.of == "neurons":
        n = len(net.neurons)
    elif req.of == "hidden_neurons":
        n = len(net.by_role("hidden"))
    elif req.of == "connections":
        n = len(net.connections)
    elif req.of == "parameters":
        n = net.param_count()
    elif req.of == "trainable_parameters":
        n = int(np.count_nonzero(m.engine().trainable))
    elif req.of == "hidden_layers":
        depths = net.depths()
        n = len({depths[h.id] for h in net.by_role("hidden")})
    else:  # "rows"
        n = len(m.ds)
    name = COUNT_NAMES[req.of]
    return _against(lambda s: f"{s} {name}", float(n), req.bounds)


def _activation(req: Activation, m: _Measures) -> tuple[bool, str]:
    net = m.net
    if req.role is not None:
        ids = [n.id for n in net.by_role(req.role)]
        if not ids:
            raise _Unmeasurable(f"the network has no {req.role} neurons")
    else:
        ids = list(req.neurons)
        missing = [i for i in ids if i not in net.neurons]
        if missing:
            raise _Unmeasurable(f"there is no neuron {missing[0]!r} in the network")
    acts = {i: net.neurons[i].activation for i in ids}
    bad = [i for i, a in acts.items()
           if (req.one_of and a not in req.one_of) or a in req.none_of]
    want = []
    if req.one_of:
        want.append(" or ".join(req.one_of))
    if req.none_of:
        want.append("not " + " or ".join(req.none_of))
    if bad:
        shown = ", ".join(f"{i} is {acts[i]}" for i in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        return False, f"{shown}{more}{DASH}needs {', '.join(want)}"
    who = f"the {req.role} neurons are" if req.role else \
        (f"{ids[0]} is" if len(ids) == 1 else f"{', '.join(ids)} are")
    return True, f"{who} {' and '.join(sorted(set(acts.values())))}"


#: an outputs row with more inputs than this (an image's pixels) is named, not listed
MAX_SHOWN_INPUTS = 6


def _row(values: np.ndarray) -> str:
    items = [num(float(v), 4) for v in values]
    return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"


def _outputs(req: Outputs, m: _Measures) -> tuple[bool, str]:
    X, Y = m.checker.table(req)
    eng = m.engine()
    if X.shape[1] != eng.n_input_columns:
        raise _Unmeasurable(f"the table has {X.shape[1]} input(s) per row but the network has "
                            f"{eng.n_input_columns} input neuron(s)")
    if Y.shape[1] != len(eng.output_ids):
        raise _Unmeasurable(f"the table has {Y.shape[1]} output(s) per row but the network has "
                            f"{len(eng.output_ids)} output neuron(s)")
    pred = eng.predict(X)
    tol = req.tolerance
    slack = 1e-9 * np.maximum(np.abs(Y), max(tol, 1e-300))
    ok = np.all(np.abs(pred - Y) <= tol + slack, axis=1)
    within_tol = f"± {num(tol, 6)}"
    if ok.all():
        return True, f"all {len(X)} rows of the table within {within_tol}"
    r = int(np.argmin(ok))
    wrong = int(np.count_nonzero(~ok))
    more = f" ({wrong} of {len(X)} rows are off)" if wrong > 1 else ""
    name = req.row_name(r)
    if name is None:
        name = _row(X[r]) if X.shape[1] <= MAX_SHOWN_INPUTS else f"row {r + 1} of the table"
    return False, (f"for {name} the output is {_row(pred[r])}{DASH}needs "
                   f"{_row(Y[r])} {within_tol}{more}")


def _changed_only(req: ChangedOnly, m: _Measures) -> tuple[bool, str]:
    original = m.checker.challenges.original
    if original is None:  # validation refuses this; a Challenges built in code may lack it
        raise _Unmeasurable("there is no original network to compare with")
    allowed = ", ".join(req.parameters) if req.parameters else ""
    rule = f"only {allowed} may change" if allowed else "nothing may change"
    comp = m.checker.comparison(m.net, original)
    if comp.structure:
        return False, f"{comp.structure}{DASH}{rule}"
    changed = comp.changed(m.net, req.parameters, req.tolerance)
    if changed:
        pid, old, new = changed[0]
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        return False, f"{pid} changed ({num(old, 6)} → {num(new, 6)}){more}{DASH}{rule}"
    return True, f"nothing but {allowed} changed" if allowed else "nothing changed"


_EVALUATE: dict[type, Callable[..., tuple[bool, str]]] = {
    Loss: _loss, Accuracy: _accuracy, Parameter: _parameter, Gradient: _gradient,
    Count: _count, Activation: _activation, Outputs: _outputs, ChangedOnly: _changed_only,
}


# ---------------------------------------------------------------------- the original network
class _Comparison:
    """A network against the original, for one structure version of it: the first structural
    difference (or ''), and the store slots of the original parameters, so comparing values
    is one vectorised operation per check."""

    def __init__(self, net: Network, original: Original):
        self.structure = _structure_difference(net, original)
        self.ids: list[str] = []
        self.slots = np.zeros(0, dtype=np.intp)
        self.values = np.zeros(0)
        if not self.structure:
            self.ids = list(original.parameters)
            self.slots = np.array([net.param_slot(p) for p in self.ids], dtype=np.intp)
            self.values = np.array([original.parameters[p] for p in self.ids], dtype=np.float64)
        self._masks: dict[tuple[str, ...], np.ndarray] = {}

    def changed(self, net: Network, allowed: tuple[str, ...],
                tolerance: float) -> list[tuple[str, float, float]]:
        """(id, original, now) of every parameter outside ``allowed`` that moved."""
        mask = self._masks.get(allowed)
        if mask is None:
            free = set(allowed)
            mask = self._masks[allowed] = np.array([p not in free for p in self.ids], dtype=bool)
        now = net.store.values[self.slots]
        moved = np.abs(now - self.values) > tolerance
        moved &= mask
        return [(self.ids[i], float(self.values[i]), float(now[i]))
                for i in np.flatnonzero(moved)]


def _structure_difference(net: Network, original: Original) -> str:
    """The first way the network's structure differs from the original, in words, or ''."""
    for nid in original.neurons:
        if nid not in net.neurons:
            return f"neuron {nid!r} was removed"
    for nid in net.neurons:
        if nid not in original.neurons:
            return f"neuron {nid!r} is new"
    for nid, shape in original.neurons.items():
        n = net.neurons[nid]
        if n.role != shape.role:
            return f"neuron {nid!r} is now a {n.role} neuron (it was {shape.role})"
        if n.activation != shape.activation:
            return f"the activation of {nid!r} changed ({shape.activation} → {n.activation})"
        if shape.slope is not None and n.slope != shape.slope:
            return (f"the leaky slope of {nid!r} changed ({num(shape.slope, 6)} → "
                    f"{num(n.slope, 6)})")
    for cid, ends in original.connections.items():
        c = net.connections.get(cid)
        if c is None:
            return f"the connection {cid!r} ({ends[0]} → {ends[1]}) was removed"
        if (c.source, c.target) != ends:
            return f"the connection {cid!r} now runs {c.source} → {c.target}"
    for cid, c in net.connections.items():
        if cid not in original.connections:
            return f"the connection {cid!r} ({c.source} → {c.target}) is new"
    return ""


__all__ = ["Checker", "GoalResult", "Outcome", "check", "ProjectLike"]

"""The step-through walkthrough of one training iteration: forward, loss, backward and update.

:func:`build` turns a network, a batch and the training settings into a :class:`Trace`: an
ordered list of :class:`Step` objects, each one operation a learner can follow by hand

* **forward**: the inputs, then for every neuron in order its weighted sum
  ("z = 3.34 × 0.5 + (−1.43) = 0.24") and its activation ("a = softplus(0.24) = 0.826");
* **loss**: the residual of every prediction and the loss formula with its numbers;
* **backward**: from the outputs back, per neuron dL/da, da/dz and dL/dz (the chain rule
  written out), then dL/dw = dL/dz × a(source) for every incoming weight and dL/db = dL/dz for
  the bias (summed over the samples of a batch);
* **update**: per trainable parameter, one plain gradient-descent step
  "w_new = w_old − lr × gradient".

Every number comes from the engine's own :class:`~nnstudio.core.engine.Evaluation` of the
batch (z, a, dL/da, dL/dz, the loss and the gradient); the trace only formats them and writes
the arithmetic out. The one exception is da/dz, which the evaluation does not store: it is the
activation's own derivative function (the one the engine multiplies by) at the evaluated z.

Each step also *reveals* values (``Step.reveals``), so a player can show exactly what is known
after step k (:meth:`Trace.state_at`) and restore it when stepping back.

:func:`gradient_check` compares every backprop gradient with a central finite-difference
estimate, and :func:`worksheet` renders the whole walkthrough as a teacher's hand-out in plain
text or Markdown (what ``nnstudio trace`` prints and the GUI's "Export Walkthrough..." writes).

Pure NumPy: no Qt.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from . import activations as acts
from . import losses as losses_mod
from . import optimizers
from .engine import Engine, EngineError
from .network import Network

Array = np.ndarray

PHASES = ("forward", "loss", "backward", "update")
PHASE_TITLES = {"forward": "Forward pass", "loss": "Loss", "backward": "Backward pass",
                "update": "Update"}
MINUS = "\u2212"
TIMES = "\u00d7"
SIGMA = "\u03a3"
DIGITS = 3
MAX_ROWS = 4          # sample lines written out per step; the rest are summarised
MAX_TERMS = 6         # terms written out in one sum; the rest become "+ …"
MAX_PARAMS = 5000     # larger networks are too big to step through by hand


class TraceError(ValueError):
    """The walkthrough cannot be built (bad sample index, network cannot be evaluated...)."""


# ---------------------------------------------------------------------- number formatting
def num(v: float, digits: int = DIGITS) -> str:
    """A number with ``digits`` significant digits, trailing zeros dropped, a true minus sign.

    >>> num(-15.655), num(0.24), num(3.0), num(1.2e-7)
    ('−15.7', '0.24', '3', '1.2e−7')
    """
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "\u221e" if v > 0 else MINUS + "\u221e"
    if v == 0:
        return "0"
    av = abs(v)
    if av < 1e-4 or av >= 1e9:
        mant, exp = f"{v:.{max(digits - 1, 0)}e}".split("e")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        s = f"{mant}e{int(exp)}"
    else:
        decimals = max(0, digits - 1 - math.floor(math.log10(av)))
        s = f"{v:.{decimals}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        if s in ("-0", "0"):
            s = "0"
    return s.replace("-", MINUS)


def term(v: float, digits: int = DIGITS) -> str:
    """A number as a term inside a formula: negative numbers in brackets, "(−1.43)"."""
    s = num(v, digits)
    return f"({s})" if s.startswith(MINUS) else s


def _join_sum(parts: list[str], more: int = 0) -> str:
    if not parts:
        return "0"
    s = " + ".join(parts)
    if more:
        s += f" + \u2026 ({more} more)"
    return s


def _nice(text: str) -> str:
    """ASCII formulas from the core tables with true minus signs and multiplication dots."""
    return (text.replace(" - ", f" {MINUS} ").replace("(-", f"({MINUS}").replace("-(", f"{MINUS}(")
            .replace("-y", f"{MINUS}y").replace(" * ", f" {TIMES} ").replace("delta_ij", "\u03b4_ij")
            .replace(" -", f" {MINUS}").replace("sum_j", f"{SIGMA}_j")
            .replace("^(-z)", f"^({MINUS}z)").replace("^2", "\u00b2")
            .replace("sum ", SIGMA + " "))


# ---------------------------------------------------------------------- data
@dataclass(frozen=True)
class Step:
    """One operation of the walkthrough.

    ``neurons``: the neurons the step is about (the focus neuron first); ``connections``: the
    connections it uses (e.g. the incoming connections of a weighted sum); ``params``: the
    parameters whose gradient or value it computes. ``reveals``: (id, key, value) triples that
    become known at this step; key is one of x, z, a, residual, dl_da, da_dz, dl_dz, grad, new;
    value is a tuple with one float per traced sample, or one float for a batch total.
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
    reveals: tuple[tuple[str, str, object], ...] = ()
    value: float | None = None


@dataclass
class TraceState:
    """Everything known after a step: ``values[(id, key)]`` plus the step itself."""

    step: Step | None
    values: dict[tuple[str, str], object]
    trace: "Trace"

    def get(self, target: str, key: str):
        return self.values.get((target, key))

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
            new = self.values.get((nid, "new"))
            if new is not None:
                lines.append(f"b: {num(tr.params_before[nid])} \u2192 {num(new)}")
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
            new = self.values.get((cid, "new"))
            g = self.values.get((cid, "grad"))
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
        out = {}
        for nid in self.trace.engine.neuron_ids:
            v = self.values.get((nid, "dl_dz"))
            if v is not None and self.trace.network.neurons[nid].role != "input":
                out[nid] = -float(np.sum(v))
        return out

    def updated_params(self) -> dict[str, float]:
        """The new value of every parameter whose update step has been reached."""
        return {t: float(v) for (t, k), v in self.values.items() if k == "new"}


@dataclass
class GradCheck:
    pid: str
    name: str                  # "weight Dosage → h1" / "bias of h1"
    backprop: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool
    note: str = ""             # e.g. "a kink lies within the finite-difference step"

    def to_dict(self) -> dict:
        return {"id": self.pid, "name": self.name, "backprop": self.backprop,
                "numeric": self.numeric, "abs_error": self.abs_error,
                "rel_error": self.rel_error, "ok": self.ok, "note": self.note}


@dataclass
class Trace:
    network: Network
    engine: Engine
    evaluation: object         # engine Evaluation of the traced batch
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
        values: dict[tuple[str, str], object] = {}
        for s in self.steps[:k + 1]:
            for t, key, v in s.reveals:
                values[(t, key)] = v
        return TraceState(self.steps[k] if k >= 0 else None, values, self)

    def params_after(self, k: int) -> dict[str, float]:
        """Every parameter's value once the update steps up to ``k`` are done."""
        vals = dict(self.params_before)
        vals.update(self.state_at(k).updated_params())
        return vals

    def param_vector(self, values: dict[str, float]) -> Array:
        return np.array([values[p] for p in self.engine.param_ids])

    def fmt_values(self, v, key: str = "") -> str:
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
        if pid in self.network.connections:
            c = self.network.connections[pid]
            return f"weight {self.label(c.source)} \u2192 {self.label(c.target)}"
        return f"bias of {self.label(pid)}"


# ---------------------------------------------------------------------- building
def from_project(project, sample: int | None = None, digits: int = DIGITS) -> Trace:
    """The walkthrough for a :class:`~nnstudio.core.project.Project`."""
    ds, st = project.dataset, project.settings
    return build(project.network, ds.X, ds.Y, loss=st.loss, learning_rate=st.learning_rate,
                 optimizer=st.optimizer, sample=sample, input_names=list(ds.input_names),
                 target_names=list(ds.target_names), digits=digits)


def check_sample(sample, n_rows: int) -> int | None:
    """Validate a sample choice: None (the whole batch) or a row index 0..n-1."""
    if sample is None:
        return None
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
        raise TraceError(f"the sample must be a row number, not {sample!r}")
    if n_rows == 0:
        raise TraceError("the dataset has no rows to trace")
    if not 0 <= int(sample) < n_rows:
        raise TraceError(f"sample {sample} does not exist: the dataset has {n_rows} row(s), "
                         f"numbered 0 to {n_rows - 1}")
    return int(sample)


def build(network: Network, X, Y, *, loss: str = "ssr", learning_rate: float = 0.1,
          optimizer: str = "gd", sample: int | None = None,
          input_names: list[str] | None = None, target_names: list[str] | None = None,
          digits: int = DIGITS) -> Trace:
    """Build the walkthrough of one iteration over row ``sample`` of (X, Y), or over all rows
    (the whole batch) when ``sample`` is None."""
    if loss not in losses_mod.LOSSES:
        raise TraceError(f"unknown loss {loss!r} (known: {', '.join(losses_mod.NAMES)})")
    if optimizer not in optimizers.INFO:
        raise TraceError(f"unknown optimizer {optimizer!r}")
    lr = float(learning_rate)
    if not math.isfinite(lr) or lr <= 0:
        raise TraceError(f"the learning rate must be a positive number, not {learning_rate!r}")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2:
        raise TraceError("the data must be tables (rows x columns)")
    sample = check_sample(sample, X.shape[0])
    if X.shape[0] == 0:
        raise TraceError("the dataset has no rows to trace")
    try:
        engine = Engine.compile(network)
    except (EngineError, ValueError) as e:
        raise TraceError(f"the network cannot be evaluated: {e}") from None
    if engine.n_params > MAX_PARAMS:
        raise TraceError(f"the network has {engine.n_params} parameters; the step-through "
                         f"walkthrough handles up to {MAX_PARAMS}")
    rows = [sample] if sample is not None else list(range(X.shape[0]))
    Xb, Yb = X[rows], Y[rows]
    try:
        ev = engine.evaluate(Xb, Yb, loss)
    except (EngineError, ValueError) as e:
        raise TraceError(f"the network cannot be evaluated on this data: {e}") from None
    pids = list(engine.param_ids)
    before = {p: float(v) for p, v in zip(pids, engine.params)}
    grads = {p: float(g) for p, g in zip(pids, ev.grad)}
    trainable = {p: bool(t) for p, t in zip(pids, engine.trainable)}
    # one plain gradient-descent step, exactly as optimizers.GradientDescent computes it
    new_vec = engine.params - lr * np.where(engine.trainable, ev.grad, 0.0)
    new_params = {p: float(v) for p, v, t in zip(pids, new_vec, engine.trainable) if t}
    after = Engine.compile(network)
    after.set_params(new_vec)
    loss_after = float(after.loss(Xb, Yb, loss))
    n_in = len(engine.input_ids)
    n_out = len(engine.output_ids)
    tr = Trace(
        network=network, engine=engine, evaluation=ev, X=Xb, Y=Yb, samples=rows, sample=sample,
        loss=loss, learning_rate=lr, optimizer=optimizer,
        input_names=list(input_names) if input_names else [network.neurons[i].label
                                                           for i in engine.input_ids][:n_in],
        target_names=list(target_names) if target_names else [network.neurons[o].label
                                                               for o in engine.output_ids][:n_out],
        params_before=before, grads=grads, new_params=new_params, trainable=trainable,
        loss_after=loss_after, digits=digits,
    )
    _Builder(tr).run()
    return tr


class _Builder:
    def __init__(self, tr: Trace):
        self.tr = tr
        self.net = tr.network
        self.eng = tr.engine
        self.ev = tr.evaluation
        self.d = tr.digits
        self.pidx = {p: i for i, p in enumerate(self.eng.param_ids)}
        self.col = self.eng.index
        self.out_pos = {o: k for k, o in enumerate(self.eng.output_ids)}
        self.steps: list[Step] = []
        lf = losses_mod.get(tr.loss)
        out_acts = [self.net.neurons[o].activation for o in self.eng.output_ids]
        self.fused = lf.fused_with if lf.fused_with and all(a == lf.fused_with for a in out_acts) \
            else None
        self.softmax_ids = [o for o in self.eng.output_ids
                            if self.net.neurons[o].activation == "softmax"]

    # helpers ---------------------------------------------------------------------
    def n(self, v) -> str:
        return num(v, self.d)

    def t(self, v) -> str:
        return term(v, self.d)

    def lbl(self, nid: str) -> str:
        return self.net.neurons[nid].label

    def col_of(self, arr: Array, nid: str) -> tuple[float, ...]:
        return tuple(float(x) for x in arr[:, self.col[nid]])

    def w(self, cid: str) -> float:
        return self.tr.params_before[cid]

    def sample_name(self, s: int) -> str:
        return f"sample {self.tr.samples[s]}"

    def per_sample(self, line) -> str:
        """One formula line per traced sample (the first MAX_ROWS), prefixed by the sample
        when there are several."""
        tr = self.tr
        if tr.n == 1:
            return line(0)
        lines = [f"{self.sample_name(s)}:  {line(s)}" for s in range(min(tr.n, MAX_ROWS))]
        if tr.n > MAX_ROWS:
            lines.append(f"\u2026 and {tr.n - MAX_ROWS} more samples")
        return "\n".join(lines)

    def add(self, phase, kind, title, explanation, formula, *, neurons=(), connections=(),
            params=(), reveals=(), value=None) -> None:
        self.steps.append(Step(len(self.steps), phase, kind, title, explanation, formula,
                               tuple(neurons), tuple(connections), tuple(params), tuple(reveals),
                               None if value is None else float(value)))

    def sum_terms(self, values: Iterable[str]) -> str:
        vals = list(values)
        more = max(0, len(vals) - MAX_TERMS)
        return _join_sum(vals[:MAX_TERMS], more)

    def sum_of(self, count: int, term_of) -> str:
        """A written-out sum of ``count`` terms; only the first MAX_TERMS are formatted."""
        parts = [term_of(i) for i in range(min(count, MAX_TERMS))]
        return _join_sum(parts, max(0, count - MAX_TERMS))

    # the walk --------------------------------------------------------------------
    def run(self) -> None:
        self.forward()
        self.loss()
        self.backward()
        self.update()
        self.tr.steps = self.steps

    # forward ---------------------------------------------------------------------
    def forward(self) -> None:
        tr, ev = self.tr, self.ev
        ins = self.eng.input_ids
        lines = []
        for k, nid in enumerate(ins):
            vals = self.col_of(ev.a, nid)
            name = tr.input_names[k] if k < len(tr.input_names) else self.lbl(nid)
            col = f" (column {name!r})" if name != self.lbl(nid) else ""
            lines.append(f"x({self.lbl(nid)}){col} = {tr.fmt_values(vals)}")
        where = (f"sample {tr.sample}" if tr.sample is not None
                 else f"all {tr.n} samples (the whole batch)")
        self.add("forward", "input", "Inputs",
                 f"The data enter the network: each input neuron holds one column of "
                 f"{where}. Input neurons do no arithmetic; they pass their value on.",
                 "\n".join(lines), neurons=ins,
                 reveals=[(nid, "x", self.col_of(ev.a, nid)) for nid in ins]
                 + [(nid, "a", self.col_of(ev.a, nid)) for nid in ins])
        non_inputs = [nid for nid in self.eng.neuron_ids if nid not in set(ins)]
        last_softmax = max((non_inputs.index(o) for o in self.softmax_ids), default=-1)
        for pos, nid in enumerate(non_inputs):
            self.weighted_sum(nid)
            if self.net.neurons[nid].activation == "softmax":
                if pos == last_softmax:
                    self.softmax_forward()
            else:
                self.activation(nid)

    def weighted_sum(self, nid: str) -> None:
        ev, net = self.ev, self.net
        inc = net.incoming(nid)
        b = self.tr.params_before[nid]
        z = self.col_of(ev.z, nid)
        if inc:
            sym = " + ".join(f"w({self.lbl(c.source)}\u2192{self.lbl(nid)}) {TIMES} "
                             f"a({self.lbl(c.source)})" for c in inc[:MAX_TERMS])
            if len(inc) > MAX_TERMS:
                sym += " + \u2026"
            sym = f"z = {sym} + b"

            def line(s):
                parts = [f"{self.t(self.w(c.id))} {TIMES} {self.t(ev.a[s, self.col[c.source]])}"
                         for c in inc]
                more = max(0, len(parts) - MAX_TERMS)
                return (f"z = {_join_sum(parts[:MAX_TERMS], more)} + {self.t(b)} = "
                        f"{self.n(z[s])}")
            expl = (f"{self.lbl(nid)} takes the activation of each neuron feeding it, multiplies "
                    f"it by that connection's weight, adds the products up and adds its bias "
                    f"(the weighted sum z).")
        else:
            sym = "z = b"

            def line(s):
                return f"z = b = {self.n(z[s])}"
            expl = f"{self.lbl(nid)} has no incoming connections, so its weighted sum is just its bias."
        self.add("forward", "weighted_sum", f"{self.lbl(nid)}: weighted sum", expl,
                 sym + "\n" + self.per_sample(line), neurons=[nid],
                 connections=[c.id for c in inc], reveals=[(nid, "z", z)],
                 value=z[0] if self.tr.n == 1 else None)

    def activation(self, nid: str) -> None:
        neuron = self.net.neurons[nid]
        act = acts.ACTIVATIONS[neuron.activation]
        z, a = self.col_of(self.ev.z, nid), self.col_of(self.ev.a, nid)
        fname = neuron.activation.replace("binary_step", "step")
        extra = f" (slope {self.n(neuron.slope)})" if act.has_slope else ""

        def line(s):
            if neuron.activation == "identity":
                return f"a = z = {self.n(a[s])}"
            return f"a = {fname}({self.n(z[s])}) = {self.n(a[s])}{extra}"
        self.add("forward", "activation", f"{self.lbl(nid)}: activation ({act.title})",
                 f"The activation function turns the weighted sum into the neuron's output "
                 f"(its activation a). {_nice(act.note)}",
                 _nice(act.formula) + "\n" + self.per_sample(line), neurons=[nid],
                 reveals=[(nid, "a", a)], value=a[0] if self.tr.n == 1 else None)

    def softmax_forward(self) -> None:
        ids = self.softmax_ids
        ev = self.ev

        def line(s):
            zs = [self.col_of(ev.z, o)[s] for o in ids]
            exps = " + ".join(f"e^{self.t(v)}" for v in zs[:MAX_TERMS])
            outs = ", ".join(f"a({self.lbl(o)}) = e^{self.t(zs[k])} / ({exps}) = "
                             f"{self.n(ev.a[s, self.col[o]])}" for k, o in enumerate(ids))
            return outs
        self.add("forward", "softmax", "Softmax over the outputs",
                 "Softmax takes the raw values z of all output neurons together and turns them "
                 "into probabilities that add up to 1: each output gets e^z divided by the sum of "
                 "e^z over all of them. A bigger z gets a bigger share, and every output depends "
                 "on every other one.",
                 _nice("a_i = e^(z_i) / sum_j e^(z_j)").replace("sum_j", SIGMA + "_j") + "\n"
                 + self.per_sample(line), neurons=ids,
                 reveals=[(o, "a", self.col_of(ev.a, o)) for o in ids])

    # loss --------------------------------------------------------------------------
    def loss(self) -> None:
        tr, ev = self.tr, self.ev
        lf = losses_mod.get(tr.loss)
        outs = self.eng.output_ids
        A, Y = ev.outputs, ev.targets
        # residuals
        res_lines = []
        for s in range(min(tr.n, MAX_ROWS)):
            parts = []
            for k, o in enumerate(outs):
                parts.append(f"{self.lbl(o)}: y {MINUS} a = {self.t(Y[s, k])} {MINUS} "
                             f"{self.t(A[s, k])} = {self.n(Y[s, k] - A[s, k])}")
            pre = f"{self.sample_name(s)}:  " if tr.n > 1 else ""
            res_lines.append(pre + ";  ".join(parts))
        if tr.n > MAX_ROWS:
            res_lines.append(f"\u2026 and {tr.n - MAX_ROWS} more samples")
        self.add("loss", "residual", "Residuals: target minus prediction",
                 "Compare each prediction a with what the data say it should be (the target y). "
                 "The residual y − a says how wrong the prediction is and in which direction.",
                 "\n".join(res_lines), neurons=outs,
                 reveals=[(o, "residual", tuple(float(x) for x in Y[:, k] - A[:, k]))
                          for k, o in enumerate(outs)])
        # the loss formula
        name = tr.loss
        pairs = [(s, k) for s in range(tr.n) for k in range(len(outs))]
        cnt = cnt_all = len(pairs)
        pairs = pairs[:MAX_TERMS]
        if name in ("ssr", "mse"):
            terms = [f"({self.t(Y[s, k])} {MINUS} {self.t(A[s, k])})\u00b2" for s, k in pairs]
        elif name == "mae":
            terms = [f"|{self.t(Y[s, k])} {MINUS} {self.t(A[s, k])}|" for s, k in pairs]
        elif name == "bce":
            terms = []
            for s, k in pairs:
                y, a = Y[s, k], A[s, k]
                if y == 1:
                    terms.append(f"ln {self.t(a)}")
                elif y == 0:
                    terms.append(f"ln(1 {MINUS} {self.t(a)})")
                else:
                    terms.append(f"({self.t(y)} ln {self.t(a)} + {self.t(1 - y)} "
                                 f"ln(1 {MINUS} {self.t(a)}))")
        else:  # cross_entropy
            terms = []
            cnt_all = tr.n
            for s in range(min(tr.n, MAX_TERMS)):
                ks = [k for k in range(len(outs)) if Y[s, k] != 0]
                if len(ks) == 1 and Y[s, ks[0]] == 1:
                    terms.append(f"ln {self.t(A[s, ks[0]])}")
                else:
                    terms.append("(" + " + ".join(
                        f"{self.t(Y[s, k])} ln {self.t(A[s, k])}" for k in ks) + ")")
            cnt = tr.n
        body = _join_sum(terms, max(0, cnt_all - len(terms)))
        label = {"ssr": "SSR", "mse": "MSE", "mae": "MAE", "bce": "BCE",
                 "cross_entropy": "CE"}[name]
        if name == "ssr":
            formula = f"{label} = {body} = {self.n(ev.loss)}"
        elif name in ("bce", "cross_entropy"):
            formula = f"{label} = {MINUS}({body}) / {cnt} = {self.n(ev.loss)}"
        else:
            formula = f"{label} = ({body}) / {cnt} = {self.n(ev.loss)}"
        expl = {
            "ssr": "Square every residual (so misses in either direction count, and big misses "
                   "count more) and add them up: the sum of squared residuals.",
            "mse": "Square every residual and take the average: the mean squared error.",
            "mae": "Take the size of every residual and average them: the mean absolute error.",
            "bce": "Binary cross-entropy: −ln of the probability the network gave to the right "
                   "answer, averaged. Confident wrong answers cost the most.",
            "cross_entropy": "Cross-entropy: −ln of the probability the network gave to the true "
                             "class, averaged over the samples.",
        }[name]
        self.add("loss", "loss", f"Loss: {lf.title}", expl + " This one number is what training "
                 "tries to make smaller.", _nice(lf.formula)
                 + "\n" + formula, neurons=outs, reveals=[("", "loss", float(ev.loss))],
                 value=ev.loss)

    # backward ----------------------------------------------------------------------
    def backward(self) -> None:
        ins = set(self.eng.input_ids)
        order = [nid for nid in reversed(self.eng.neuron_ids) if nid not in ins]
        for nid in order:
            self.dl_da(nid)
            self.da_dz(nid)
            self.dl_dz(nid)
            for c in self.net.incoming(nid):
                self.weight_grad(c)
            self.bias_grad(nid)

    def dl_da(self, nid: str) -> None:
        ev, tr = self.ev, self.tr
        neuron = self.net.neurons[nid]
        vals = self.col_of(ev.dl_da, nid)
        if neuron.role == "output":
            k = self.out_pos[nid]
            A, Y = ev.outputs, ev.targets
            name = tr.loss
            size = A.size
            nrows = A.shape[0]

            def line(s):
                y, a, g = Y[s, k], A[s, k], vals[s]
                if name == "ssr":
                    return f"dL/da = {MINUS}2 {TIMES} ({self.t(y)} {MINUS} {self.t(a)}) = {self.n(g)}"
                if name == "mse":
                    return (f"dL/da = {MINUS}2 {TIMES} ({self.t(y)} {MINUS} {self.t(a)}) / {size}"
                            f" = {self.n(g)}")
                if name == "mae":
                    return (f"dL/da = {MINUS}sign({self.t(y)} {MINUS} {self.t(a)}) / {size} = "
                            f"{self.n(g)}")
                if name == "bce":
                    return (f"dL/da = ({self.t(a)} {MINUS} {self.t(y)}) / ({self.t(a)} {TIMES} "
                            f"(1 {MINUS} {self.t(a)})) / {size} = {self.n(g)}")
                return f"dL/da = {MINUS}{self.t(y)} / {self.t(a)} / {nrows} = {self.n(g)}"
            sym = {"ssr": f"dL/da = {MINUS}2 (y {MINUS} a)",
                   "mse": f"dL/da = {MINUS}2 (y {MINUS} a) / n",
                   "mae": f"dL/da = {MINUS}sign(y {MINUS} a) / n",
                   "bce": f"dL/da = (a {MINUS} y) / (a (1 {MINUS} a)) / n",
                   "cross_entropy": f"dL/da = {MINUS}y / a / (number of samples)"}[name]
            expl = (f"Start at the output: how much would the loss change if {self.lbl(nid)}'s "
                    f"activation rose a little? That rate is dL/da, read off the loss formula. A "
                    f"positive value means the output should go down, a negative one that it "
                    f"should go up, and its size says how strongly.")
            self.add("backward", "dl_da", f"{self.lbl(nid)}: dL/da (from the loss)", expl,
                     sym + "\n" + self.per_sample(line), neurons=[nid],
                     reveals=[(nid, "dl_da", vals)], value=vals[0] if tr.n == 1 else None)
            return
        out = self.net.outgoing(nid)
        sym = " + ".join(f"w({self.lbl(nid)}\u2192{self.lbl(c.target)}) {TIMES} "
                         f"dL/dz({self.lbl(c.target)})" for c in out[:MAX_TERMS])
        if len(out) > MAX_TERMS:
            sym += " + \u2026"

        def line(s):
            parts = [f"{self.t(self.w(c.id))} {TIMES} {self.t(ev.dl_dz[s, self.col[c.target]])}"
                     for c in out]
            more = max(0, len(parts) - MAX_TERMS)
            return f"dL/da = {_join_sum(parts[:MAX_TERMS], more)} = {self.n(vals[s])}"
        if len(out) == 1:
            feeds = (f"{self.lbl(nid)} feeds 1 later neuron. It asks for a change in its weighted "
                     f"sum (its dL/dz); through the connection's weight that becomes a change "
                     f"asked of {self.lbl(nid)}'s activation: that is dL/da, the proportional "
                     f"change flowing backwards.")
        else:
            feeds = (f"{self.lbl(nid)} feeds {len(out)} later neurons. Each of them asks for a "
                     f"change in its weighted sum (its dL/dz); through the connection's weight "
                     f"that becomes a change asked of {self.lbl(nid)}'s activation. Add up what "
                     f"every later neuron asks: that is dL/da, the proportional change flowing "
                     f"backwards.")
        expl = feeds
        if not out:
            sym = "dL/da = 0"
            expl = f"{self.lbl(nid)} feeds nothing, so the loss does not depend on it."
        self.add("backward", "dl_da", f"{self.lbl(nid)}: dL/da (from the neurons it feeds)",
                 expl, (f"dL/da = {sym}" if out else sym) + "\n" + self.per_sample(line),
                 neurons=[nid] + [c.target for c in out], connections=[c.id for c in out],
                 reveals=[(nid, "dl_da", vals)], value=vals[0] if tr.n == 1 else None)

    def _da_dz_values(self, nid: str) -> tuple[float, ...]:
        neuron = self.net.neurons[nid]
        act = acts.ACTIVATIONS[neuron.activation]
        z = self.ev.z[:, self.col[nid]]
        a = self.ev.a[:, self.col[nid]]
        return tuple(float(x) for x in np.broadcast_to(act.df(z, a, neuron.slope), z.shape))

    def da_dz(self, nid: str) -> None:
        neuron = self.net.neurons[nid]
        act = acts.ACTIVATIONS[neuron.activation]
        z, a = self.col_of(self.ev.z, nid), self.col_of(self.ev.a, nid)
        d = self._da_dz_values(nid)
        name = neuron.activation

        def line(s):
            if name == "identity":
                return "da/dz = 1"
            if name == "sigmoid":
                return f"da/dz = {self.t(a[s])} {TIMES} (1 {MINUS} {self.t(a[s])}) = {self.n(d[s])}"
            if name == "tanh":
                return f"da/dz = 1 {MINUS} {self.t(a[s])}\u00b2 = {self.n(d[s])}"
            if name == "softplus":
                return f"da/dz = sigmoid({self.n(z[s])}) = {self.n(d[s])}"
            if name in ("relu", "leaky_relu", "binary_step"):
                return f"z = {self.n(z[s])}, so da/dz = {self.n(d[s])}"
            if name == "softmax":
                return f"da/dz (own) = {self.t(a[s])} {TIMES} (1 {MINUS} {self.t(a[s])}) = {self.n(d[s])}"
            return f"da/dz = {self.n(d[s])}"
        expl = (f"How fast does {self.lbl(nid)}'s activation change when its weighted sum z "
                f"changes? That is the slope of {act.title.lower()} at this z: da/dz.")
        if name == "softmax":
            expl += (" Softmax couples the outputs: raising one z raises its own probability by "
                     "a(1 − a) but lowers every other output's probability by a_i × a_j, because "
                     "they must still add up to 1. So softmax has a whole table of slopes (the "
                     "Jacobian da_i/dz_j = a_i(δ_ij − a_j)); the next step uses all of it.")
        elif name == "binary_step":
            expl += " The step function is flat everywhere (except the jump at 0), so nothing " \
                    "flows back through it: this is why a perceptron cannot learn by backprop."
        elif name in ("relu", "leaky_relu"):
            expl += " It is 1 where the neuron is active (z > 0) and " + (
                "the small slope otherwise." if name == "leaky_relu" else
                "0 where it is off: an off ReLU passes no gradient back.")
        self.add("backward", "da_dz", f"{self.lbl(nid)}: da/dz (slope of the activation)", expl,
                 _nice(act.derivative_formula) + "\n" + self.per_sample(line), neurons=[nid],
                 reveals=[(nid, "da_dz", d)], value=d[0] if self.tr.n == 1 else None)

    def dl_dz(self, nid: str) -> None:
        ev, tr = self.ev, self.tr
        neuron = self.net.neurons[nid]
        dz = self.col_of(ev.dl_dz, nid)
        da = self.col_of(ev.dl_da, nid)
        d = self._da_dz_values(nid)
        is_out = neuron.role == "output"
        if is_out and self.fused:
            k = self.out_pos[nid]
            A, Y = ev.outputs, ev.targets
            if self.fused == "sigmoid":
                size = A.size
                sym = f"dL/dz = (a {MINUS} y) / n   (sigmoid and cross-entropy together)"

                def line(s):
                    return (f"dL/dz = ({self.t(A[s, k])} {MINUS} {self.t(Y[s, k])}) / {size} = "
                            f"{self.n(dz[s])}")
            else:
                rows = A.shape[0]
                sym = f"dL/dz = (a {MINUS} y) / (number of samples)   (softmax and cross-entropy together)"

                def line(s):
                    return (f"dL/dz = ({self.t(A[s, k])} {MINUS} {self.t(Y[s, k])}) / {rows} = "
                            f"{self.n(dz[s])}")
            expl = (f"Chain rule: dL/dz = dL/da {TIMES} da/dz. With "
                    f"{'a sigmoid output and binary' if self.fused == 'sigmoid' else 'softmax outputs and categorical'}"
                    f" cross-entropy the product simplifies to prediction minus target: the "
                    f"change {self.lbl(nid)} asks of its weighted sum.")
            if self.fused == "softmax":
                expl += (" (The softmax Jacobian's coupling between outputs cancels against the "
                         "loss's 1/a terms, which is why this pair is used together.)")
        elif neuron.activation == "softmax":
            sm = self.softmax_ids
            sym = (f"dL/dz_i = {SIGMA}_j dL/da_j {TIMES} a_j (\u03b4_ij {MINUS} a_i) = "
                   f"a_i {TIMES} (dL/da_i {MINUS} {SIGMA}_j dL/da_j {TIMES} a_j)")

            def line(s):
                a_i = ev.a[s, self.col[nid]]
                parts = [f"{self.t(ev.dl_da[s, self.col[o]])} {TIMES} {self.t(ev.a[s, self.col[o]])}"
                         for o in sm]
                return (f"dL/dz = {self.t(a_i)} {TIMES} ({self.t(da[s])} {MINUS} "
                        f"({self.sum_terms(parts)})) = {self.n(dz[s])}")
            expl = (f"Chain rule through softmax: {self.lbl(nid)}'s z moves every output's "
                    f"probability, so dL/dz adds up, over all softmax outputs j, dL/da_j times "
                    f"the slope da_j/dz (the Jacobian). Written out, it is a_i times (own dL/da "
                    f"minus the probability-weighted average of all dL/da).")
        else:
            sym = f"dL/dz = dL/da {TIMES} da/dz"

            def line(s):
                return f"dL/dz = {self.t(da[s])} {TIMES} {self.t(d[s])} = {self.n(dz[s])}"
            expl = (f"The chain rule links the two: how much the loss changes per change in z "
                    f"equals (loss change per change in a) {TIMES} (change in a per change in z). "
                    f"dL/dz is the change {self.lbl(nid)} asks of its weighted sum; the arrow on "
                    f"the canvas shows it (its length and thickness: how strongly; its direction: "
                    f"up or down).")
        self.add("backward", "dl_dz", f"{self.lbl(nid)}: dL/dz (chain rule)", expl,
                 sym + "\n" + self.per_sample(line), neurons=[nid],
                 connections=[c.id for c in self.net.incoming(nid)],
                 reveals=[(nid, "dl_dz", dz)], value=dz[0] if tr.n == 1 else None)

    def weight_grad(self, c) -> None:
        ev, tr = self.ev, self.tr
        g = tr.grads[c.id]
        dz = ev.dl_dz[:, self.col[c.target]]
        a = ev.a[:, self.col[c.source]]
        src, tgt = self.lbl(c.source), self.lbl(c.target)
        locked = "" if tr.trainable[c.id] else " This weight is locked, so it will not change."
        if tr.n == 1:
            formula = (f"dL/dw = dL/dz({tgt}) {TIMES} a({src})\n"
                       f"dL/dw = {self.t(dz[0])} {TIMES} {self.t(a[0])} = {self.n(g)}")
            expl = (f"How much does the loss change per change in the weight {src} \u2192 {tgt}? "
                    f"The weight multiplies a({src}), so nudging it moves z({tgt}) by a({src}) "
                    f"per unit: dL/dw = dL/dz {TIMES} a(source). A busy source (large a) gives "
                    f"its weight a large gradient; a silent one (a = 0) gives none.{locked}")
        else:
            body = self.sum_of(tr.n, lambda s: f"{self.t(dz[s])} {TIMES} {self.t(a[s])}")
            formula = (f"dL/dw = {SIGMA} over samples dL/dz({tgt}) {TIMES} a({src})\n"
                       f"dL/dw = {body} = {self.n(g)}")
            expl = (f"For the whole batch, the weight {src} \u2192 {tgt} gets the sum of what "
                    f"every sample asks: dL/dz({tgt}) {TIMES} a({src}) per sample, added up."
                    f"{locked}")
        self.add("backward", "weight_grad", f"Weight {src} \u2192 {tgt}: dL/dw", expl, formula,
                 neurons=[c.target, c.source], connections=[c.id], params=[c.id],
                 reveals=[(c.id, "grad", g)], value=g)

    def bias_grad(self, nid: str) -> None:
        ev, tr = self.ev, self.tr
        g = tr.grads[nid]
        dz = ev.dl_dz[:, self.col[nid]]
        locked = "" if tr.trainable[nid] else " This bias is locked, so it will not change."
        if tr.n == 1:
            formula = f"dL/db = dL/dz {TIMES} 1 = {self.n(g)}"
            expl = (f"The bias is added straight into z, so a change in the bias moves z one for "
                    f"one: dL/db = dL/dz.{locked}")
        else:
            formula = (f"dL/db = {SIGMA} over samples dL/dz({self.lbl(nid)})\n"
                       f"dL/db = {self.sum_of(len(dz), lambda i: self.t(dz[i]))} = {self.n(g)}")
            expl = (f"The bias is added straight into z, so each sample asks of it exactly its "
                    f"dL/dz; for the batch, add them up. This is the slope of the loss curve "
                    f"with respect to this bias.{locked}")
        self.add("backward", "bias_grad", f"Bias of {self.lbl(nid)}: dL/db", expl, formula,
                 neurons=[nid], params=[nid], reveals=[(nid, "grad", g)], value=g)

    # update ------------------------------------------------------------------------
    def update(self) -> None:
        tr = self.tr
        lr = tr.learning_rate
        info = optimizers.INFO[tr.optimizer]
        if tr.optimizer == "gd":
            opt_note = ""
        elif tr.optimizer == "sgd":
            opt_note = (f" (The project trains with {info.title}: the same step, but each one "
                        f"uses a shuffled mini-batch.)")
        else:
            opt_note = (f" (Note: this project trains with {info.title}, which scales each step "
                        f"using running averages of past gradients; the walkthrough shows the "
                        f"plain gradient-descent step so every number can be checked by hand.)")
        first = True
        locked = [p for p in self.eng.param_ids if not tr.trainable[p]]
        if locked:
            lines = [f"{tr.param_name(p)} = {self.n(tr.params_before[p])} (locked)"
                     for p in locked[:MAX_TERMS * 2]]
            if len(locked) > MAX_TERMS * 2:
                lines.append(f"\u2026 and {len(locked) - MAX_TERMS * 2} more")
            conns = [p for p in locked if p in self.net.connections]
            self.add("update", "locked", f"Locked parameters ({len(locked)})",
                     "Locked (not trainable) parameters keep their values, whatever their "
                     "gradient: the update below leaves them as they are. Lock parameters to "
                     "study one at a time, as seed 001 does with b3.", "\n".join(lines),
                     neurons=[p for p in locked if p in self.net.neurons], connections=conns,
                     params=locked)
        for pid in self.eng.param_ids:
            old = tr.params_before[pid]
            g = tr.grads[pid]
            is_w = pid in self.net.connections
            sym = "w" if is_w else "b"
            name = tr.param_name(pid)
            ids = ([self.net.connections[pid].target, self.net.connections[pid].source]
                   if is_w else [pid])
            conns = [pid] if is_w else []
            if not tr.trainable[pid]:
                continue
            new = tr.new_params[pid]
            step = lr * g
            expl = (f"Gradient descent: step against the slope. The step size is the learning "
                    f"rate times the gradient; subtracting it moves {name} downhill on the loss "
                    f"curve (a negative slope makes it grow, a positive one shrink).")
            if first:
                expl += (f" The learning rate ({self.n(lr)}) keeps steps small enough not to "
                         f"overshoot the bottom." + opt_note)
                first = False
            formula = (f"{sym}_new = {sym}_old {MINUS} lr {TIMES} gradient\n"
                       f"step size = lr {TIMES} gradient = {self.t(lr)} {TIMES} {self.t(g)} = "
                       f"{self.n(step)}\n"
                       f"{sym}_new = {self.t(old)} {MINUS} {self.t(step)} = {self.n(new)}")
            self.add("update", "update", f"Update {name}", expl, formula, neurons=ids,
                     connections=conns, params=[pid], reveals=[(pid, "new", new)], value=new)
        label = {"ssr": "SSR", "mse": "MSE", "mae": "MAE", "bce": "BCE",
                 "cross_entropy": "CE"}[tr.loss]
        better = ("smaller: the step went downhill" if tr.loss_after < tr.evaluation.loss else
                  "not smaller: the learning rate may be too large for this step, or the "
                  "gradient is zero")
        self.add("update", "summary", "Iteration complete",
                 f"Every trainable parameter took one step. With the new values the loss on the "
                 f"same data is {better}. Next iteration: run the forward pass again with the "
                 f"new parameters.", f"{label} before = {self.n(tr.evaluation.loss)}\n"
                 f"{label} after  = {self.n(tr.loss_after)}",
                 neurons=list(self.eng.output_ids), reveals=[("", "loss_after", tr.loss_after)],
                 value=tr.loss_after)


# ---------------------------------------------------------------------- gradient check
def gradient_check(network: Network, X, Y, loss: str, *, h: float = 1e-5,
                   tolerance: float = 1e-5) -> list[GradCheck]:
    """Each parameter's backprop gradient against a central finite difference
    (L(p + h) − L(p − h)) / 2h, with ``h`` scaled by max(1, |p|). A row is flagged (``ok``
    False) when the relative error exceeds ``tolerance``, unless a kink (ReLU/step at 0, or MAE
    at a zero residual) lies within the step, where finite differences are meaningless; those
    rows say so in ``note`` and are not counted as mismatches."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    try:
        eng = Engine.compile(network)
        ev = eng.evaluate(X, Y, loss)
    except (EngineError, ValueError) as e:
        raise TraceError(f"the network cannot be evaluated: {e}") from None
    base = eng.params.copy()
    kinked = [eng.index[nid] for nid in eng.neuron_ids
              if acts.ACTIVATIONS[network.neurons[nid].activation].kinks
              and network.neurons[nid].role != "input"]
    kink_loss = losses_mod.get(loss).kinks

    def pattern(e):
        sig = [np.sign(e.z[:, kinked])] if kinked else []
        if kink_loss:
            sig.append(np.sign(e.targets - e.outputs))
        return sig

    ref = pattern(ev)
    rows = []
    for i, pid in enumerate(eng.param_ids):
        step = h * max(1.0, abs(base[i]))
        vals = []
        crossed = False
        for sgn in (1.0, -1.0):
            p = base.copy()
            p[i] += sgn * step
            eng.set_params(p)
            if kinked or kink_loss:
                e = eng.evaluate(X, Y, loss)
                vals.append(e.loss)
                crossed |= any(not np.array_equal(a, b) for a, b in zip(pattern(e), ref))
            else:
                vals.append(eng.loss(X, Y, loss))
        eng.set_params(base)
        fd = (vals[0] - vals[1]) / (2 * step)
        g = float(ev.grad[i])
        abs_err = abs(g - fd)
        scale = max(abs(g), abs(fd))
        rel = abs_err / scale if scale > 1e-8 else 0.0
        ok = rel <= tolerance or abs_err <= 1e-8
        note = ""
        if not ok and crossed:
            ok, note = True, "a kink lies within the finite-difference step; not comparable"
        elif not ok:
            note = "MISMATCH"
        if pid in network.connections:
            c = network.connections[pid]
            name = f"weight {network.neurons[c.source].label} \u2192 {network.neurons[c.target].label}"
        else:
            name = f"bias of {network.neurons[pid].label}"
        rows.append(GradCheck(pid, name, g, float(fd), float(abs_err), float(rel), ok, note))
    return rows


def gradient_check_trace(tr: Trace, **kw) -> list[GradCheck]:
    """The gradient check on the same batch as a trace."""
    return gradient_check(tr.network, tr.X, tr.Y, tr.loss, **kw)


# ---------------------------------------------------------------------- worksheet
def worksheet(project, sample: int | None = None, fmt: str = "markdown") -> str:
    """The walkthrough as a teacher's hand-out: title, network summary, the data row(s), the
    forward table, the loss, the backward chain rule, the update and the gradient check."""
    if fmt not in ("text", "markdown"):
        raise TraceError(f"unknown format {fmt!r} (use text or markdown)")
    tr = from_project(project, sample)
    return render(tr, fmt, title=getattr(project, "name", "") or "Untitled")


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def _table(headers: list[str], rows: list[list[str]], md: bool) -> list[str]:
    if md:
        out = ["| " + " | ".join(_md_escape(h) for h in headers) + " |",
               "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
        return out
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return out


def render(tr: Trace, fmt: str = "markdown", title: str = "Untitled") -> str:
    md = fmt == "markdown"
    net, eng = tr.network, tr.engine
    out: list[str] = []

    def h1(text):
        out.extend([f"# {text}", ""] if md else [text, "=" * len(text), ""])

    def h2(text):
        out.extend([f"## {text}", ""] if md else [text, "-" * len(text), ""])

    h1(f"Backpropagation worksheet: {title}")
    n_hidden = sum(1 for n in net.neurons.values() if n.role == "hidden")
    n_train = sum(tr.trainable.values())
    which = (f"sample {tr.sample} (one row of the data)" if tr.sample is not None
             else f"the whole batch ({tr.n} samples)")
    lf = losses_mod.get(tr.loss)
    intro = (f"One training iteration worked through by hand, on {which}. Every number below "
             f"is rounded to {tr.digits} significant digits; the computer keeps full precision.")
    out += [
        *( [intro] if md else textwrap.wrap(intro, 94)), "",
        f"- Network: {len(eng.input_ids)} input, {n_hidden} hidden and {len(eng.output_ids)} "
        f"output neuron(s); {len(net.connections)} connection(s); {eng.n_params} parameters "
        f"({n_train} trainable).",
        f"- Loss: {lf.title} ({_nice(lf.formula)}).",
        f"- Learning rate: {num(tr.learning_rate)}; optimizer for training: "
        f"{optimizers.INFO[tr.optimizer].title} (the update below is one plain "
        f"gradient-descent step).", "",
    ]
    h2("The network")
    rows = []
    for nid in eng.neuron_ids:
        n = net.neurons[nid]
        inc = ", ".join(f"{net.neurons[c.source].label} {TIMES} {num(tr.params_before[c.id])}"
                        for c in net.incoming(nid)) or "\u2014"
        rows.append([n.label, n.role, acts.ACTIVATIONS[n.activation].title if n.role != "input"
                     else "\u2014", num(tr.params_before[nid]) if n.role != "input" else "\u2014",
                     inc])
    out += _table(["Neuron", "Role", "Activation", "Bias", "Incoming (source × weight)"], rows, md)
    out.append("")
    h2("The data")
    heads = ["Sample"] + list(tr.input_names) + [f"target {t}" for t in tr.target_names]
    shown = list(range(min(tr.n, 20)))
    rows = [[str(tr.samples[s])] + [num(v) for v in tr.X[s]] + [num(v) for v in tr.Y[s]]
            for s in shown]
    out += _table(heads, rows, md)
    if tr.n > len(shown):
        out += ["", f"({tr.n - len(shown)} more rows not shown.)"]
    out.append("")
    # forward table
    h2("1. Forward pass")
    heads = ["Neuron"] + [f"z (sample {tr.samples[s]})" for s in range(min(tr.n, MAX_ROWS))] \
        + [f"a (sample {tr.samples[s]})" for s in range(min(tr.n, MAX_ROWS))]
    rows = []
    for nid in eng.neuron_ids:
        j = eng.index[nid]
        is_in = net.neurons[nid].role == "input"
        rows.append([net.neurons[nid].label]
                    + [("\u2014" if is_in else num(tr.evaluation.z[s, j]))
                       for s in range(min(tr.n, MAX_ROWS))]
                    + [num(tr.evaluation.a[s, j]) for s in range(min(tr.n, MAX_ROWS))])
    out += _table(heads, rows, md)
    out.append("")
    counter = 0
    for phase in PHASES:
        if phase != "forward":
            h2({"loss": "2. Loss", "backward": "3. Backward pass: the chain rule",
                "update": "4. Update: one gradient-descent step"}[phase])
        for s in tr.steps:
            if s.phase != phase:
                continue
            counter += 1
            if md:
                out += [f"**Step {counter}. {s.title}.** {s.explanation}", "", "```",
                        s.formula, "```", ""]
            else:
                out += [f"Step {counter}. {s.title}"]
                out += textwrap.wrap(s.explanation, 92, initial_indent="  ",
                                     subsequent_indent="  ")
                out += [f"    {line}" for line in s.formula.split("\n")]
                out.append("")
    # summary of gradients and updates
    h2("Summary: gradients and new values")
    rows = []
    for pid in eng.param_ids:
        new = tr.new_params.get(pid)
        rows.append([tr.param_name(pid), num(tr.params_before[pid]), num(tr.grads[pid]),
                     num(tr.learning_rate * tr.grads[pid]) if new is not None else "locked",
                     num(new) if new is not None else num(tr.params_before[pid])])
    out += _table(["Parameter", "Old value", "Gradient dL/dp", "Step (lr × gradient)",
                   "New value"], rows, md)
    out.append("")
    h2("Gradient check")
    out += ["Each backprop gradient next to a finite-difference estimate "
            "(L(p + h) − L(p − h)) / 2h. They should agree to many digits.", ""]
    rows = []
    checks = gradient_check_trace(tr)
    for c in checks:
        rows.append([c.name, f"{c.backprop:.6g}".replace("-", MINUS),
                     f"{c.numeric:.6g}".replace("-", MINUS), f"{c.rel_error:.1e}".replace("-", MINUS),
                     "ok" if c.ok and not c.note else (c.note or "ok")])
    out += _table(["Parameter", "Backprop", "Finite difference", "Relative error", "Check"],
                  rows, md)
    bad = sum(1 for c in checks if not c.ok)
    out += ["", "All gradients agree." if not bad else f"{bad} gradient(s) disagree!"]
    return "\n".join(out) + "\n"


__all__ = ["Step", "Trace", "TraceState", "TraceError", "GradCheck", "build", "from_project",
           "gradient_check", "gradient_check_trace", "worksheet", "render", "num", "term",
           "check_sample", "PHASES", "PHASE_TITLES"]

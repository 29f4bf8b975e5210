"""Building the walkthrough: from a network, a batch and the settings to a :class:`Trace`.

:func:`build` evaluates the batch with the engine (z, a, dL/da, dL/dz, the loss, every
gradient), takes one plain gradient-descent step, and then walks the iteration in the order a
learner follows it:

* **forward**: the inputs, then every neuron in engine order (:mod:`.dense`);
* **loss**: the residual of every prediction, then the loss formula with its numbers (and,
  with regularization, the penalty on the weights and the objective, loss plus penalty);
* **backward**: every neuron from the outputs back (:mod:`.dense`);
* **update**: per trainable parameter, "w_new = w_old − lr × gradient", then the loss after.

A network with image layers adds their steps (:mod:`.image`) before the dense forward pass
(the image, every feature map, pooling, flattening), after the dense backward pass (back
through the flatten, the pooling and the activation to every filter's gradient) and in the
update (one step per filter).

Every number comes from the engine's own :class:`~nnstudio.core.engine.Evaluation`; the one
exception is da/dz, which is the activation's own derivative at the evaluated z.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from .. import losses as losses_mod
from .. import optimizers
from ..datasets import Dataset, image_column_names
from ..derived_inputs import DERIVED
from ..engine import Engine, EngineError
from ..network import Network, slope_neuron
from ..regularization import KINDS as PENALTIES
from ..regularization import Penalty
from ..trainer import TrainSettings
from .dense import DenseSteps
from .formatting import DIGITS, LOSS_LABELS, MAX_ROWS, MAX_TERMS, MINUS, TIMES, join_sum, nice
from .image import ImageSteps, is_feature
from .steps import Step, Trace, TraceError
from .writer import StepWriter


class ProjectLike(Protocol):
    """What a walkthrough reads of a :class:`~nnstudio.core.project.Project`. Typed by its
    shape, so that the trace does not depend on the project format (which depends on the
    lessons, which write their numbers with this package's formatting)."""

    network: Network
    dataset: Dataset
    settings: TrainSettings


MAX_PARAMS = 5000     # larger networks are too big to step through by hand


def from_project(project: ProjectLike, sample: int | None = None, digits: int = DIGITS) -> Trace:
    """The walkthrough for a :class:`~nnstudio.core.project.Project`."""
    ds, st = project.dataset, project.settings
    return build(project.network, ds.X, ds.Y, loss=st.loss, learning_rate=st.learning_rate,
                 optimizer=st.optimizer, sample=sample, input_names=list(ds.input_names),
                 target_names=list(ds.target_names), digits=digits, penalty=st.penalty)


def check_sample(sample: object, n_rows: int) -> int | None:
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


def build(network: Network, X: ArrayLike, Y: ArrayLike, *, loss: str = "ssr",
          learning_rate: float = 0.1, optimizer: str = "gd", sample: int | None = None,
          input_names: list[str] | None = None, target_names: list[str] | None = None,
          digits: int = DIGITS, penalty: Penalty | None = None) -> Trace:
    """Build the walkthrough of one iteration over row ``sample`` of (X, Y), or over all rows
    (the whole batch) when ``sample`` is None; with a regularization ``penalty``, the loss step
    adds it and every weight's gradient includes its share."""
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
    with np.errstate(all="ignore"):   # an overflow is refused below, by name, never warned
        try:
            ev = engine.evaluate(Xb, Yb, loss, penalty)
        except (EngineError, ValueError) as e:
            raise TraceError(f"the network cannot be evaluated on this data: {e}") from None
        # one plain gradient-descent step, exactly as optimizers.GradientDescent computes it
        new_vec = engine.params - lr * np.where(engine.trainable, ev.grad, 0.0)
        after = Engine.compile(network)
        after.set_params(new_vec)
        loss_after = float(after.loss(Xb, Yb, loss))
    _check_finite(network, engine, loss, ev.loss, ev.grad, new_vec, loss_after)
    pids = list(engine.param_ids)
    before = {p: float(v) for p, v in zip(pids, engine.params, strict=True)}
    grads = {p: float(g) for p, g in zip(pids, ev.grad, strict=True)}
    trainable = {p: bool(t) for p, t in zip(pids, engine.trainable, strict=True)}
    new_params = {p: float(v) for p, v, t in zip(pids, new_vec, engine.trainable, strict=True) if t}
    penalty_grads: dict[str, float] = {}
    if penalty is not None:
        share = penalty.gradients(engine.params, engine.weight_mask)
        penalty_grads = {p: float(g) for p, g, w in zip(pids, share, engine.weight_mask,
                                                          strict=True) if w}
    n_out = len(engine.output_ids)
    tr = Trace(
        network=network, engine=engine, evaluation=ev, X=Xb, Y=Yb, samples=rows, sample=sample,
        loss=loss, learning_rate=lr, optimizer=optimizer,
        input_names=list(input_names) if input_names else _column_names(engine, network),
        target_names=list(target_names) if target_names else [network.neurons[o].label
                                                               for o in engine.output_ids][:n_out],
        params_before=before, grads=grads, new_params=new_params, trainable=trainable,
        loss_after=loss_after, digits=digits, penalty=penalty,
        penalty_after=after.penalty(penalty), penalty_grads=penalty_grads,
    )
    _walk(tr)
    return tr


def _column_names(engine: Engine, network: Network) -> list[str]:
    """The data columns' names when none are given: every image input's pixels, then the
    data inputs' labels."""
    names = [name for ib in engine.image_blocks if isinstance(ib.shape, tuple)
             for name in image_column_names(network.image_layers[ib.id].label, ib.shape)]
    return names + [n.label for n in network.data_inputs]


def _check_finite(network: Network, engine: Engine, loss: str, value: float, grad: np.ndarray,
                  new_vec: np.ndarray, loss_after: float) -> None:
    """Refuse, once and plainly, an iteration whose numbers overflow (a walkthrough of inf and
    nan teaches nothing, and no file or window can hold them)."""
    if not math.isfinite(value):
        raise TraceError(f"the {loss} loss overflows at these parameter values; make the "
                         "parameters or the inputs smaller")
    for what, vec in (("gradient", grad), ("update", new_vec)):
        bad = ~np.isfinite(vec)
        if bad.any():
            name = engine.describe_param(network, int(np.argmax(bad)))
            hint = ("make the parameters or the inputs smaller" if what == "gradient"
                    else "try a smaller learning rate")
            raise TraceError(f"the {what} of {name} overflows at these values; {hint}")
    if not math.isfinite(loss_after):
        raise TraceError(f"the {loss} loss after the update overflows; try a smaller "
                         "learning rate")


def _walk(tr: Trace) -> None:
    """Write every step of the iteration into ``tr.steps``, in the order a learner follows."""
    steps: list[Step] = []
    whole = IterationSteps(tr, steps)
    dense = DenseSteps(tr, steps)
    image = ImageSteps(tr, steps)
    ins = set(tr.engine.input_ids)
    # a flatten's feature neurons are the image steps' (flatten, flatten_grad)
    non_inputs = [nid for nid in tr.engine.neuron_ids
                  if nid not in ins and not is_feature(tr, nid)]
    last_softmax = max((non_inputs.index(o) for o in whole.softmax_ids), default=-1)
    if ins or not tr.engine.image_blocks:
        whole.inputs()
    image.forward()
    for pos, nid in enumerate(non_inputs):
        dense.forward(nid, last_softmax=pos == last_softmax)
    whole.loss()
    for nid in reversed(non_inputs):
        dense.backward(nid)
    image.backward()
    whole.update()
    image.update()
    whole.summary()
    tr.steps = steps


class IterationSteps(StepWriter):
    """The steps about the whole iteration rather than one unit: the inputs, the loss and the
    update of every parameter."""

    def inputs(self) -> None:
        tr, ev = self.tr, self.ev
        ins = self.eng.input_ids
        lines = []
        data_names = list(tr.input_names)
        column = self.eng.image_columns   # the image inputs' pixel columns come first
        for nid in ins:
            vals = self.col_of(ev.a, nid)
            derive = self.net.neurons[nid].derive
            if derive is not None:
                formula = DERIVED[derive].label(data_names or ("x1", "x2"))
                lines.append(f"x({self.lbl(nid)}) = {formula} = {tr.fmt_values(vals)}")
                continue
            name = data_names[column] if column < len(data_names) else self.lbl(nid)
            column += 1
            col = f" (column {name!r})" if name != self.lbl(nid) else ""
            lines.append(f"x({self.lbl(nid)}){col} = {tr.fmt_values(vals)}")
        where = (f"sample {tr.sample}" if tr.sample is not None
                 else f"all {tr.n} samples (the whole batch)")
        derived = (" A derived input holds a formula of the data's columns instead (such as "
                   "x1²), computed before anything else."
                   if any(self.net.neurons[i].derive for i in ins) else "")
        self.add("forward", "input", "Inputs",
                 f"The data enter the network: each input neuron holds one column of "
                 f"{where}. Input neurons do no arithmetic; they pass their value on.{derived}",
                 "\n".join(lines), neurons=ins,
                 reveals=[(nid, "x", self.col_of(ev.a, nid)) for nid in ins]
                 + [(nid, "a", self.col_of(ev.a, nid)) for nid in ins])

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
        body = join_sum(terms, max(0, cnt_all - len(terms)))
        label = LOSS_LABELS[name]
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
                 "tries to make smaller.", nice(lf.formula)
                 + "\n" + formula, neurons=outs, reveals=[("", "loss", float(ev.loss))],
                 value=ev.loss)
        if tr.penalty is not None:
            self.penalty()

    def penalty(self) -> None:
        """The regularization penalty on the weights, and the objective: loss + penalty."""
        tr, ev = self.tr, self.ev
        pen = tr.penalty
        assert pen is not None  # called only with a penalty
        weights = [p for p in self.eng.param_ids if p in self.net.connections]
        lam = self.t(pen.rate)
        if pen.kind == "l2":
            terms = [f"{self.t(tr.params_before[p])}\u00b2" for p in weights[:MAX_TERMS]]
            sym = f"penalty = \u03bb {TIMES} \u03a3 w\u00b2"
            what = ("L2 regularization adds the squares of all the weights, times the rate "
                    "\u03bb: big weights cost the most, so training keeps every weight as small "
                    "as the data allow.")
        else:
            terms = [f"|{self.t(tr.params_before[p])}|" for p in weights[:MAX_TERMS]]
            sym = f"penalty = \u03bb {TIMES} \u03a3 |w|"
            what = ("L1 regularization adds the sizes of all the weights, times the rate "
                    "\u03bb: every weight pays the same price per unit, so weights that do not "
                    "earn their place are pushed to exactly 0.")
        body = join_sum(terms, max(0, len(weights) - len(terms)))
        label = LOSS_LABELS[tr.loss]
        formula = (f"{sym}  (over the {len(weights)} weights; biases are not penalised)\n"
                   f"penalty = {lam} {TIMES} ({body}) = {self.n(ev.penalty)}\n"
                   f"objective = {label} + penalty = {self.t(ev.loss)} + {self.t(ev.penalty)} = "
                   f"{self.n(ev.objective)}")
        self.add("loss", "penalty", f"Penalty: {PENALTIES[pen.kind].title} regularization",
                 f"{what} Training minimises the objective, the loss plus this penalty, so from "
                 f"here on every weight's gradient also carries the penalty's slope.", formula,
                 connections=weights, reveals=[("", "penalty", float(ev.penalty))],
                 value=ev.penalty)

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
            if self.net.filter_param_name(pid) is not None:
                continue   # a filter's parameters: one image step per filter (image.py)
            old = tr.params_before[pid]
            g = tr.grads[pid]
            is_w = pid in self.net.connections
            slope_of = slope_neuron(pid)
            sym = "w" if is_w else "b" if slope_of is None else "slope"
            name = tr.param_name(pid)
            ids = ([self.net.connections[pid].target, self.net.connections[pid].source]
                   if is_w else [pid] if slope_of is None else [slope_of])
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

    def summary(self) -> None:
        """The loss (and objective) after the step: the iteration's last step."""
        tr = self.tr
        label = LOSS_LABELS[tr.loss]
        ev = tr.evaluation
        before, after = ev.objective, tr.loss_after + tr.penalty_after
        what = "the loss" if tr.penalty is None else "the objective (loss + penalty)"
        better = ("smaller: the step went downhill" if after < before else
                  "not smaller: the learning rate may be too large for this step, or the "
                  "gradient is zero")
        formula = (f"{label} before = {self.n(ev.loss)}\n"
                   f"{label} after  = {self.n(tr.loss_after)}")
        if tr.penalty is not None:
            formula += (f"\nobjective before = {self.n(before)}\n"
                        f"objective after  = {self.n(after)}")
        self.add("update", "summary", "Iteration complete",
                 f"Every trainable parameter took one step. With the new values {what} on the "
                 f"same data is {better}. Next iteration: run the forward pass again with the "
                 f"new parameters.", formula,
                 neurons=list(self.eng.output_ids), reveals=[("", "loss_after", tr.loss_after)],
                 value=tr.loss_after)


"""The steps of a dense neuron: its weighted sum and activation forward, its chain rule back.

Forward, per neuron in engine order: the weighted sum z = Σ w·a + b, then the activation
a = f(z) (softmax outputs once, as a group, after the last of them). Backward, per neuron from
the outputs back: dL/da (from the loss, or from the neurons it feeds), da/dz, dL/dz, then
dL/dw for every incoming weight, dL/db for the bias, and dL/dslope for a trainable leaky slope
(parametric ReLU).

A new kind of layer (convolution, pooling) adds a module like this one: a :class:`StepWriter`
with a ``forward`` and a ``backward`` for its units, which the walk in :mod:`.builder` calls.
"""

from __future__ import annotations

import numpy as np

from .. import activations as acts
from ..network import Connection, slope_param_id
from .formatting import MAX_TERMS, MINUS, SIGMA, TIMES, join_sum, nice, prose
from .writer import StepWriter


class DenseSteps(StepWriter):
    """The forward and backward steps of fully or sparsely connected neurons."""

    def forward(self, nid: str, last_softmax: bool) -> None:
        """The weighted sum, then the activation (softmax: once, after the last output)."""
        self.weighted_sum(nid)
        if self.net.neurons[nid].activation == "softmax":
            if last_softmax:
                self.softmax_forward()
        else:
            self.activation(nid)

    def backward(self, nid: str) -> None:
        """The chain rule at ``nid``, then the gradients of its weights and bias."""
        self.dl_da(nid)
        self.da_dz(nid)
        self.dl_dz(nid)
        for c in self.net.incoming(nid):
            self.weight_grad(c)
        self.bias_grad(nid)
        if self.net.neurons[nid].slope_param:
            self.slope_grad(nid)

    # forward -----------------------------------------------------------------------
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

            def line(s: int) -> str:
                parts = [f"{self.t(self.w(c.id))} {TIMES} {self.t(ev.a[s, self.col[c.source]])}"
                         for c in inc]
                more = max(0, len(parts) - MAX_TERMS)
                return (f"z = {join_sum(parts[:MAX_TERMS], more)} + {self.t(b)} = "
                        f"{self.n(z[s])}")
            expl = (f"{self.lbl(nid)} takes the activation of each neuron feeding it, multiplies "
                    f"it by that connection's weight, adds the products up and adds its bias "
                    f"(the weighted sum z).")
        else:
            sym = "z = b"

            def line(s: int) -> str:
                return f"z = b = {self.n(z[s])}"
            expl = (f"{self.lbl(nid)} has no incoming connections, so its weighted sum is just "
                    f"its bias.")
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

        def line(s: int) -> str:
            if neuron.activation == "identity":
                return f"a = z = {self.n(a[s])}"
            return f"a = {fname}({self.n(z[s])}) = {self.n(a[s])}{extra}"
        self.add("forward", "activation", f"{self.lbl(nid)}: activation ({act.title})",
                 f"The activation function turns the weighted sum into the neuron's output "
                 f"(its activation a). {prose(act.note)}",
                 nice(act.formula) + "\n" + self.per_sample(line), neurons=[nid],
                 reveals=[(nid, "a", a)], value=a[0] if self.tr.n == 1 else None)

    def softmax_forward(self) -> None:
        ids = self.softmax_ids
        ev = self.ev

        def line(s: int) -> str:
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
                 nice("a_i = e^(z_i) / sum_j e^(z_j)").replace("sum_j", SIGMA + "_j") + "\n"
                 + self.per_sample(line), neurons=ids,
                 reveals=[(o, "a", self.col_of(ev.a, o)) for o in ids])

    # backward ----------------------------------------------------------------------
    def dl_da(self, nid: str) -> None:
        """dL/da: read off the loss formula at an output, else gathered from the neurons
        ``nid`` feeds."""
        if self.net.neurons[nid].role == "output":
            self._dl_da_from_loss(nid)
        else:
            self._dl_da_from_outgoing(nid)

    def _dl_da_from_loss(self, nid: str) -> None:
        ev, tr = self.ev, self.tr
        vals = self.col_of(ev.dl_da, nid)
        k = self.out_pos[nid]
        A, Y = ev.outputs, ev.targets
        name = tr.loss
        size = A.size
        nrows = A.shape[0]

        def line(s: int) -> str:
            y, a, g = Y[s, k], A[s, k], vals[s]
            if name == "ssr":
                return (f"dL/da = {MINUS}2 {TIMES} ({self.t(y)} {MINUS} {self.t(a)}) = "
                        f"{self.n(g)}")
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

    def _dl_da_from_outgoing(self, nid: str) -> None:
        ev, tr = self.ev, self.tr
        vals = self.col_of(ev.dl_da, nid)
        out = self.net.outgoing(nid)
        sym = " + ".join(f"w({self.lbl(nid)}\u2192{self.lbl(c.target)}) {TIMES} "
                         f"dL/dz({self.lbl(c.target)})" for c in out[:MAX_TERMS])
        if len(out) > MAX_TERMS:
            sym += " + \u2026"

        def line(s: int) -> str:
            parts = [f"{self.t(self.w(c.id))} {TIMES} {self.t(ev.dl_dz[s, self.col[c.target]])}"
                     for c in out]
            more = max(0, len(parts) - MAX_TERMS)
            return f"dL/da = {join_sum(parts[:MAX_TERMS], more)} = {self.n(vals[s])}"
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

        def line(s: int) -> str:
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
                return (f"da/dz (own) = {self.t(a[s])} {TIMES} (1 {MINUS} {self.t(a[s])}) = "
                        f"{self.n(d[s])}")
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
                 nice(act.derivative_formula) + "\n" + self.per_sample(line), neurons=[nid],
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

                def line(s: int) -> str:
                    return (f"dL/dz = ({self.t(A[s, k])} {MINUS} {self.t(Y[s, k])}) / {size} = "
                            f"{self.n(dz[s])}")
            else:
                rows = A.shape[0]
                sym = (f"dL/dz = (a {MINUS} y) / (number of samples)   (softmax and "
                       f"cross-entropy together)")

                def line(s: int) -> str:
                    return (f"dL/dz = ({self.t(A[s, k])} {MINUS} {self.t(Y[s, k])}) / {rows} = "
                            f"{self.n(dz[s])}")
            pair = ("a sigmoid output and binary" if self.fused == "sigmoid"
                    else "softmax outputs and categorical")
            expl = (f"Chain rule: dL/dz = dL/da {TIMES} da/dz. With {pair}"
                    f" cross-entropy the product simplifies to prediction minus target: the "
                    f"change {self.lbl(nid)} asks of its weighted sum.")
            if self.fused == "softmax":
                expl += (" (The softmax Jacobian's coupling between outputs cancels against the "
                         "loss's 1/a terms, which is why this pair is used together.)")
        elif neuron.activation == "softmax":
            sm = self.softmax_ids
            sym = (f"dL/dz_i = {SIGMA}_j dL/da_j {TIMES} a_j (\u03b4_ij {MINUS} a_i) = "
                   f"a_i {TIMES} (dL/da_i {MINUS} {SIGMA}_j dL/da_j {TIMES} a_j)")

            def line(s: int) -> str:
                a_i = ev.a[s, self.col[nid]]
                parts = [f"{self.t(ev.dl_da[s, self.col[o]])} {TIMES} "
                         f"{self.t(ev.a[s, self.col[o]])}" for o in sm]
                return (f"dL/dz = {self.t(a_i)} {TIMES} ({self.t(da[s])} {MINUS} "
                        f"({self.sum_terms(parts)})) = {self.n(dz[s])}")
            expl = (f"Chain rule through softmax: {self.lbl(nid)}'s z moves every output's "
                    f"probability, so dL/dz adds up, over all softmax outputs j, dL/da_j times "
                    f"the slope da_j/dz (the Jacobian). Written out, it is a_i times (own dL/da "
                    f"minus the probability-weighted average of all dL/da).")
        else:
            sym = f"dL/dz = dL/da {TIMES} da/dz"

            def line(s: int) -> str:
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

    def weight_grad(self, c: Connection) -> None:
        ev, tr = self.ev, self.tr
        g = tr.grads[c.id]
        dz = ev.dl_dz[:, self.col[c.target]]
        a = ev.a[:, self.col[c.source]]
        src, tgt = self.lbl(c.source), self.lbl(c.target)
        locked = "" if tr.trainable[c.id] else " This weight is locked, so it will not change."
        pen = tr.penalty
        extra, share, plus = "", 0.0, ""
        if pen is not None:   # the penalty's slope joins the loss's (builder: penalty step)
            share = tr.penalty_grads[c.id]
            extra = (f" + 2\u03bb {TIMES} w" if pen.kind == "l2" else
                     f" + \u03bb {TIMES} sign(w)")
            w = self.t(self.w(c.id))
            lam = self.t(pen.rate)
            plus = (f"\npenalty's share = 2 {TIMES} {lam} {TIMES} {w} = {self.n(share)}"
                    if pen.kind == "l2" else
                    f"\npenalty's share = {lam} {TIMES} sign({w}) = {self.n(share)}")
            plus += f"\ndL/dw = {self.t(g - share)} + {self.t(share)} = {self.n(g)}"
            locked += (" The regularization penalty adds its own slope to the loss's: it "
                       "always points towards a smaller weight.")
        if tr.n == 1:
            formula = (f"dL/dw = dL/dz({tgt}) {TIMES} a({src}){extra}\n"
                       f"dL/dz {TIMES} a = {self.t(dz[0])} {TIMES} {self.t(a[0])} = "
                       f"{self.n(g - share)}{plus}" if pen is not None else
                       f"dL/dw = dL/dz({tgt}) {TIMES} a({src})\n"
                       f"dL/dw = {self.t(dz[0])} {TIMES} {self.t(a[0])} = {self.n(g)}")
            expl = (f"How much does the loss change per change in the weight {src} \u2192 {tgt}? "
                    f"The weight multiplies a({src}), so nudging it moves z({tgt}) by a({src}) "
                    f"per unit: dL/dw = dL/dz {TIMES} a(source). A busy source (large a) gives "
                    f"its weight a large gradient; a silent one (a = 0) gives none.{locked}")
        else:
            body = self.sum_of(tr.n, lambda s: f"{self.t(dz[s])} {TIMES} {self.t(a[s])}")
            formula = (f"dL/dw = {SIGMA} over samples dL/dz({tgt}) {TIMES} a({src}){extra}\n"
                       + (f"{SIGMA} dL/dz {TIMES} a = {body} = {self.n(g - share)}{plus}"
                          if pen is not None else f"dL/dw = {body} = {self.n(g)}"))
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

    def slope_grad(self, nid: str) -> None:
        """dL/dslope of a trainable leaky slope (parametric ReLU): a = slope × z where z <= 0,
        so each sample asks dL/da × min(z, 0) of it."""
        ev, tr = self.ev, self.tr
        pid = slope_param_id(nid)
        g = tr.grads[pid]
        da = self.col_of(ev.dl_da, nid)
        z = self.col_of(ev.z, nid)
        lbl = self.lbl(nid)
        terms = [f"{self.t(da[s])} {TIMES} {self.t(min(z[s], 0.0))}" for s in range(tr.n)]
        if tr.n == 1:
            formula = (f"dL/dslope = dL/da {TIMES} min(z, 0)\n"
                       f"dL/dslope = {terms[0]} = {self.n(g)}")
        else:
            formula = (f"dL/dslope = {SIGMA} over samples dL/da({lbl}) {TIMES} min(z, 0)\n"
                       f"dL/dslope = {self.sum_of(tr.n, lambda s: terms[s])} = {self.n(g)}")
        expl = (f"{lbl}'s leaky slope is trainable (parametric ReLU). Where z \u2264 0 its "
                f"activation is slope {TIMES} z, so nudging the slope moves a by z there, and "
                f"not at all where z > 0: dL/dslope = dL/da {TIMES} min(z, 0). Only samples "
                f"with a negative z teach the slope anything.")
        self.add("backward", "slope_grad", f"Leaky slope of {lbl}: dL/dslope", expl, formula,
                 neurons=[nid], params=[pid], reveals=[(pid, "grad", g)], value=g)

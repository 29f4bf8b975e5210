"""The gradient check: every backprop gradient next to a central finite-difference estimate.

(L(p + h) − L(p − h)) / 2h with ``h`` scaled by max(1, |p|), in float64. A kink (ReLU or a step
at 0, in a neuron or a feature map, a max-pooling window changing its winner, MAE at a zero
residual, an L1 penalty at a weight of 0) inside the step makes the estimate
meaningless: such rows say so and are not counted as mismatches. With a regularization penalty,
L is the objective (loss + penalty), whose gradient is the one training follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .. import activations as acts
from .. import losses as losses_mod
from ..engine import Engine, EngineError, Evaluation
from ..network import Network
from ..regularization import Penalty
from .formatting import param_name
from .steps import Trace, TraceError


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


def gradient_check(network: Network, X: ArrayLike, Y: ArrayLike, loss: str, *, h: float = 1e-5,
                   tolerance: float = 1e-5, penalty: Penalty | None = None) -> list[GradCheck]:
    """Each parameter's backprop gradient against a central finite difference
    (L(p + h) − L(p − h)) / 2h, with ``h`` scaled by max(1, |p|). A row is flagged (``ok``
    False) when the relative error exceeds ``tolerance``, unless a kink (ReLU/step at 0, or MAE
    at a zero residual) lies within the step, where finite differences are meaningless; those
    rows say so in ``note`` and are not counted as mismatches. With ``penalty``, L is the loss
    plus the regularization penalty."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    try:
        eng = Engine.compile(network)
        ev = eng.evaluate(X, Y, loss, penalty)
    except (EngineError, ValueError) as e:
        raise TraceError(f"the network cannot be evaluated: {e}") from None
    base = eng.params.copy()
    kinked = [eng.index[nid] for nid in eng.neuron_ids
              if acts.ACTIVATIONS[network.neurons[nid].activation].kinks
              and network.neurons[nid].role != "input"]
    kink_loss = losses_mod.get(loss).kinks

    # convolutions whose activation kinks, and max pooling (a tie moves its winner)
    kinked_maps = [ib.id for ib in eng.image_blocks
                   if (ib.kind == "convolution" and acts.ACTIVATIONS[
                       getattr(network.image_layers[ib.id], "activation", "identity")].kinks)
                   or ib.kind == "pooling"]

    def pattern(e: Evaluation) -> list[np.ndarray]:
        sig = [np.sign(e.z[:, kinked])] if kinked else []
        for lid in kinked_maps:
            mv = e.maps[lid]
            sig += list(mv.winners) if mv.winners is not None else [np.sign(mv.z)]
        if kink_loss:
            sig.append(np.sign(e.targets - e.outputs))
        return sig

    ref = pattern(ev)
    l1 = penalty is not None and penalty.kind == "l1"
    rows: list[GradCheck] = []
    for i, pid in enumerate(eng.param_ids):
        step = h * max(1.0, abs(base[i]))
        vals = []
        # the L1 penalty's kink: this weight at or across 0 within the step
        crossed = bool(l1 and eng.weight_mask[i] and abs(base[i]) <= step)
        for sgn in (1.0, -1.0):
            p = base.copy()
            p[i] += sgn * step
            eng.set_params(p)
            if kinked or kink_loss or kinked_maps:
                moved = eng.evaluate(X, Y, loss)
                vals.append(moved.loss + eng.penalty(penalty))
                crossed |= any(not np.array_equal(a, b)
                               for a, b in zip(pattern(moved), ref, strict=True))
            else:
                vals.append(eng.loss(X, Y, loss) + eng.penalty(penalty))
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
        rows.append(GradCheck(pid, param_name(network, pid), g, float(fd), float(abs_err),
                              float(rel), ok, note))
    return rows


def gradient_check_trace(tr: Trace, *, h: float = 1e-5,
                         tolerance: float = 1e-5) -> list[GradCheck]:
    """The gradient check on the same batch as a trace."""
    return gradient_check(tr.network, tr.X, tr.Y, tr.loss, h=h, tolerance=tolerance,
                          penalty=tr.penalty)


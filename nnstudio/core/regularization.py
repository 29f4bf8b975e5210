"""Regularization: a penalty on the size of the weights, added to the loss that training
minimises. One table of kinds, like the losses and the activations.

The exact definition (λ is the rate, a number from 0 to :data:`MAX_RATE`):

* ``none``: no penalty;
* ``l1``:   penalty = λ · Σ |w|,  its gradient λ · sign(w) (0 at w = 0);
* ``l2``:   penalty = λ · Σ w²,   its gradient 2 λ · w.

The sum runs over every connection weight of the network, locked ones included (the penalty
is a property of the network as it stands); biases are never penalised. The penalty is added
once to the loss of every step, whatever the loss function and the batch size, so that
training minimises ``objective = loss + penalty``. The gradient of the penalty is added to the
loss gradient of every weight (a locked weight gets it too, and the optimizer leaves it alone).
The loss shown as "loss" everywhere stays the loss function's own value; the penalty is shown
beside it.

Where the weights are in the engine's parameter vector is the engine's business: every
function here takes ``mask``, an array of the parameter vector's length that is 1.0 at a weight
and 0.0 at a bias (:attr:`nnstudio.core.engine.Engine.weight_mask`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .messages import quote

Array = np.ndarray

MAX_RATE = 100.0


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    formula: str              # the penalty, ASCII (trace.formatting.nice typesets it)
    gradient_formula: str     # its derivative with respect to one weight
    note: str


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("none", "None", "penalty = 0", "0", "No penalty: only the loss is minimised."),
        Kind("l1", "L1", "penalty = lambda * sum |w|", "lambda * sign(w)",
             "L1 (lasso): every weight is pulled towards 0 by the same amount, so weights that "
             "do not earn their place become exactly 0."),
        Kind("l2", "L2", "penalty = lambda * sum w^2", "2 * lambda * w",
             "L2 (weight decay): big weights cost the most, so every weight shrinks in "
             "proportion to its size; none becomes exactly 0."),
    )
}
NAMES: tuple[str, ...] = tuple(KINDS)


def check_regularization(kind: object, rate: object) -> str | None:
    """What is wrong with a regularization setting, or None when it is valid."""
    if not isinstance(kind, str) or kind not in KINDS:
        return f"unknown regularization {quote(kind)} (known: {', '.join(NAMES)})"
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) \
            or not 0 <= rate <= MAX_RATE:
        return f"regularization rate must be a number from 0 to {MAX_RATE:g}, not {quote(rate)}"
    return None


@dataclass(frozen=True)
class Penalty:
    """A regularization setting that penalises something: ``kind`` "l1" or "l2" with a rate
    above 0. Make one with :func:`make_penalty` (which gives None for no penalty)."""

    kind: str
    rate: float

    @property
    def info(self) -> Kind:
        return KINDS[self.kind]

    def value(self, params: Array, mask: Array) -> float:
        """The penalty of the weights in ``params`` (``mask``: 1.0 at a weight)."""
        if self.kind == "l2":
            w = params * mask
            return self.rate * float(np.dot(w, w))
        return self.rate * float(np.dot(np.abs(params), mask))

    def gradients(self, params: Array, mask: Array) -> Array:
        """dPenalty/dp for every parameter (0 for the biases)."""
        if self.kind == "l2":
            return (2.0 * self.rate) * params * mask
        return self.rate * np.sign(params) * mask

    def add_gradient(self, params: Array, mask: Array, grad: Array,
                     scratch: Array | None = None) -> None:
        """grad += dPenalty/dp, in place (through ``scratch``, an array like ``params``, when
        given: nothing is allocated in the training hot path)."""
        s = np.empty_like(params) if scratch is None else scratch
        if self.kind == "l2":
            np.multiply(params, mask, out=s)
            s *= 2.0 * self.rate
        else:
            np.sign(params, out=s)
            s *= mask
            s *= self.rate
        grad += s


def make_penalty(kind: str, rate: float) -> Penalty | None:
    """The :class:`Penalty` of a (valid) setting, or None when it penalises nothing (kind
    "none", or a rate of 0)."""
    problem = check_regularization(kind, rate)
    if problem:
        raise ValueError(problem)
    if kind == "none" or rate == 0:
        return None
    return Penalty(kind, float(rate))


__all__ = ["Kind", "KINDS", "NAMES", "MAX_RATE", "Penalty", "make_penalty",
           "check_regularization"]

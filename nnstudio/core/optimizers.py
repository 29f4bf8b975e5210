"""Optimizers: small classes with ``step(params, grads, mask)`` updating ``params`` in place.

``mask`` is the trainable flag of each parameter: locked parameters never move. Every update is
a handful of whole-vector NumPy operations, whatever the network's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class OptimizerInfo:
    name: str
    title: str
    formula: str
    full_batch: bool
    note: str


INFO: dict[str, OptimizerInfo] = {
    i.name: i
    for i in (
        OptimizerInfo("gd", "Gradient descent", "p ← p − lr · dL/dp", True,
                      "Every step uses the whole dataset: smooth, exact and slow on big data."),
        OptimizerInfo("sgd", "Stochastic gradient descent", "p ← p − lr · dL/dp (on a mini-batch)",
                      False, "Each step uses a shuffled mini-batch: faster, noisier steps."),
        OptimizerInfo("momentum", "SGD with momentum", "v ← β·v + dL/dp;  p ← p − lr · v", False,
                      "Keeps a running velocity, so steps build up speed along consistent slopes."),
        OptimizerInfo("rmsprop", "RMSprop", "s ← ρ·s + (1−ρ)·g²;  p ← p − lr · g / (√s + ε)",
                      False, "Divides each step by the recent size of that parameter's gradient."),
        OptimizerInfo("adam", "Adam", "m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  "
                      "p ← p − lr · m̂ / (√v̂ + ε)", False,
                      "Momentum and RMSprop together, with bias correction."),
    )
}
NAMES = tuple(INFO)


class Optimizer:
    name = "gd"

    def __init__(self, lr: float):
        self.lr = float(lr)

    def reset(self) -> None:
        """Forget any running state (velocities, averages)."""

    def step(self, params: Array, grads: Array, mask: Array | None = None) -> None:
        g = grads if mask is None else np.where(mask, grads, 0.0)
        params -= self.lr * g


class GradientDescent(Optimizer):
    name = "gd"


class SGD(Optimizer):
    name = "sgd"


class Momentum(Optimizer):
    name = "momentum"

    def __init__(self, lr: float, beta: float = 0.9):
        super().__init__(lr)
        self.beta = beta
        self.v: Array | None = None

    def reset(self) -> None:
        self.v = None

    def step(self, params, grads, mask=None):
        if self.v is None or self.v.shape != params.shape:
            self.v = np.zeros_like(params)
        self.v *= self.beta
        self.v += grads
        if mask is not None:
            self.v[~mask] = 0.0
        params -= self.lr * self.v


class RMSprop(Optimizer):
    name = "rmsprop"

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = rho, eps
        self.s: Array | None = None

    def reset(self) -> None:
        self.s = None

    def step(self, params, grads, mask=None):
        if self.s is None or self.s.shape != params.shape:
            self.s = np.zeros_like(params)
        self.s *= self.rho
        self.s += (1.0 - self.rho) * grads * grads
        upd = self.lr * grads / (np.sqrt(self.s) + self.eps)
        if mask is not None:
            upd[~mask] = 0.0
        params -= upd


class Adam(Optimizer):
    name = "adam"

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.reset()

    def reset(self) -> None:
        self.m: Array | None = None
        self.v: Array | None = None
        self.t = 0

    def step(self, params, grads, mask=None):
        if self.m is None or self.m.shape != params.shape:
            self.m = np.zeros_like(params)
            self.v = np.zeros_like(params)
            self.t = 0
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        self.m *= b1
        self.m += (1.0 - b1) * grads
        self.v *= b2
        self.v += (1.0 - b2) * (grads * grads)
        lr_t = self.lr * np.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t)
        upd = self.m / (np.sqrt(self.v) + self.eps * np.sqrt(1.0 - b2 ** self.t))
        upd *= lr_t
        if mask is not None:
            upd[~mask] = 0.0
        params -= upd


_CLASSES = {c.name: c for c in (GradientDescent, SGD, Momentum, RMSprop, Adam)}


def make(name: str, lr: float) -> Optimizer:
    try:
        return _CLASSES[name](lr)
    except KeyError:
        raise KeyError(f"unknown optimizer {name!r} (known: {', '.join(NAMES)})") from None

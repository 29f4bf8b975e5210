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
    short: str = ""      # the name on a narrow control ("GD"); the title when empty

    @property
    def label(self) -> str:
        return self.short or self.title


INFO: dict[str, OptimizerInfo] = {
    i.name: i
    for i in (
        OptimizerInfo("gd", "Gradient descent", "p ← p − lr · dL/dp", True,
                      "Every step uses the whole dataset: smooth, exact and slow on big data.",
                      "GD"),
        OptimizerInfo("sgd", "Stochastic gradient descent", "p ← p − lr · dL/dp (on a mini-batch)",
                      False, "Each step uses a shuffled mini-batch: faster, noisier steps.", "SGD"),
        OptimizerInfo("momentum", "SGD with momentum", "v ← β·v + dL/dp;  p ← p − lr · v", False,
                      "Keeps a running velocity, so steps build up speed along consistent slopes.",
                      "Momentum"),
        OptimizerInfo("rmsprop", "RMSprop", "s ← ρ·s + (1−ρ)·g²;  p ← p − lr · g / (√s + ε)",
                      False, "Divides each step by the recent size of that parameter's gradient."),
        OptimizerInfo("adam", "Adam", "m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  "
                      "p ← p − lr · m̂ / (√v̂ + ε)", False,
                      "Momentum and RMSprop together, with bias correction."),
    )
}
NAMES = tuple(INFO)


def _locked(mask: Array | None) -> Array | None:
    """The locked positions of a trainable mask, or None when every parameter may move."""
    if mask is None or mask.all():
        return None
    return ~mask


class Optimizer:
    """Plain gradient descent. Subclasses keep their running state in arrays of the
    parameters' shape and update everything in place, allocating nothing per step."""

    name = "gd"

    def __init__(self, lr: float):
        self.lr = float(lr)
        self._tmp: Array | None = None

    def reset(self) -> None:
        """Forget any running state (velocities, averages)."""

    def _scratch(self, params: Array) -> Array:
        if self._tmp is None or self._tmp.shape != params.shape:
            self._tmp = np.empty_like(params)
        return self._tmp

    def step(self, params: Array, grads: Array, mask: Array | None = None) -> None:
        upd = np.multiply(grads, self.lr, out=self._scratch(params))
        locked = _locked(mask)
        if locked is not None:
            upd[locked] = 0.0
        params -= upd


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

    def step(self, params: Array, grads: Array, mask: Array | None = None) -> None:
        if self.v is None or self.v.shape != params.shape:
            self.v = np.zeros_like(params)
        self.v *= self.beta
        self.v += grads
        locked = _locked(mask)
        if locked is not None:
            self.v[locked] = 0.0
        upd = np.multiply(self.v, self.lr, out=self._scratch(params))
        params -= upd


class RMSprop(Optimizer):
    name = "rmsprop"

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(lr)
        self.rho, self.eps = rho, eps
        self.s: Array | None = None

    def reset(self) -> None:
        self.s = None

    def step(self, params: Array, grads: Array, mask: Array | None = None) -> None:
        if self.s is None or self.s.shape != params.shape:
            self.s = np.zeros_like(params)
            self._tmp2 = np.empty_like(params)
        tmp, tmp2 = self._scratch(params), self._tmp2
        self.s *= self.rho
        np.multiply(grads, 1.0 - self.rho, out=tmp)
        tmp *= grads
        self.s += tmp
        np.sqrt(self.s, out=tmp2)
        tmp2 += self.eps
        np.multiply(grads, self.lr, out=tmp)
        tmp /= tmp2
        locked = _locked(mask)
        if locked is not None:
            tmp[locked] = 0.0
        params -= tmp


class Adam(Optimizer):
    name = "adam"
    CHUNK = 32768  # elements per slice of the update (a few hundred KiB per vector)

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.reset()

    def reset(self) -> None:
        self.m: Array | None = None
        self.v: Array | None = None
        self.t = 0

    def step(self, params: Array, grads: Array, mask: Array | None = None) -> None:
        if self.m is None or self.v is None or self.m.shape != params.shape:
            self.m = np.zeros_like(params)
            self.v = np.zeros_like(params)
            self.t = 0
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # the bias corrections folded into the step size and epsilon (as PyTorch does)
        lr_t = self.lr * np.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t)
        eps_t = self.eps * np.sqrt(1.0 - b2 ** self.t)
        tmp = self._scratch(params)
        n, c = params.size, self.CHUNK
        # eleven passes over the vectors: done slice by slice, they stay in the cache
        for lo in range(0, n, c) if n > c else (0,):
            sl = slice(lo, lo + c) if n > c else slice(None)
            m, v, g, t = self.m[sl], self.v[sl], grads[sl], tmp[sl]
            m *= b1
            np.multiply(g, 1.0 - b1, out=t)
            m += t
            v *= b2
            np.multiply(g, g, out=t)
            t *= 1.0 - b2
            v += t
            np.sqrt(v, out=t)
            t += eps_t
            np.divide(m, t, out=t)
            t *= lr_t
        locked = _locked(mask)
        if locked is not None:
            tmp[locked] = 0.0
        params -= tmp


_CLASSES = {c.name: c for c in (GradientDescent, SGD, Momentum, RMSprop, Adam)}


def make(name: str, lr: float, **options: float) -> Optimizer:
    """The optimizer ``name`` with learning rate ``lr`` (and, say, ``beta=0.5`` for momentum:
    the keyword arguments of its class)."""
    try:
        return _CLASSES[name](lr, **options)
    except KeyError:
        raise KeyError(f"unknown optimizer {name!r} (known: {', '.join(NAMES)})") from None

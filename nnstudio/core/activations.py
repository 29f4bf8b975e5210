"""Activation functions: one table of name -> (function, derivative, display formula).

Every function works elementwise on float64 arrays and is numerically stable: sigmoid and
softplus return finite, correct values at +-1000. ``slope`` is the leaky-ReLU parameter; the other
functions ignore it. Softmax is special: it acts on the output neurons as a group, so it has no
elementwise form here and the engine applies it (see :func:`softmax`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


def sigmoid(z: Array) -> Array:
    """Logistic function, stable for large |z| (exp only ever sees -|z|, so it never overflows)
    and accurate to the last bit in both tails: sigmoid(-40) is 4.25e-18, not 0."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def softplus(z: Array) -> Array:
    """log(1 + e^z) computed as max(z, 0) + log1p(e^-|z|): finite and exact at +-1000."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def softmax(z: Array, axis: int = -1) -> Array:
    """Softmax along ``axis`` with the max subtracted first, so large raw values never overflow."""
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z: Array, axis: int = -1) -> Array:
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@dataclass(frozen=True)
class Activation:
    name: str
    title: str
    formula: str
    derivative_formula: str
    # f(z, slope) -> a
    f: Callable[[Array, Array | float], Array]
    # df(z, a, slope) -> da/dz, given z and the already computed a = f(z)
    df: Callable[[Array, Array, Array | float], Array]
    # points where the derivative is undefined (kinks); gradient checks stay away from them
    kinks: tuple[float, ...] = ()
    # softmax couples neurons, so it is not elementwise
    elementwise: bool = True
    has_slope: bool = False
    note: str = ""


def _identity(z: Array, s: Array | float) -> Array:
    return z.copy() if isinstance(z, np.ndarray) else np.float64(z)


def _step(z: Array, s: Array | float) -> Array:
    return (np.asarray(z) > 0).astype(np.float64)


def _relu(z: Array, s: Array | float) -> Array:
    return np.maximum(z, 0.0)


def _leaky(z: Array, s: Array | float) -> Array:
    return np.where(z > 0, z, z * s)


def _leaky_d(z: Array, a: Array, s: Array | float) -> Array:
    return np.where(z > 0, 1.0, 1.0 * s * np.ones_like(z))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "identity", "Identity (linear)", "a = z", "da/dz = 1",
            _identity, lambda z, a, s: np.ones_like(z),
            note="Passes the weighted sum through unchanged: a straight line.",
        ),
        Activation(
            "binary_step", "Binary step", "a = 1 if z > 0 else 0", "da/dz = 0 (undefined at 0)",
            _step, lambda z, a, s: np.zeros_like(z), kinks=(0.0,),
            note="The perceptron's all-or-nothing output. Its gradient is zero, so gradient "
            "descent cannot train through it.",
        ),
        Activation(
            "sigmoid", "Sigmoid", "a = 1 / (1 + e^(-z))", "da/dz = a (1 - a)",
            lambda z, s: sigmoid(z), lambda z, a, s: a * (1.0 - a),
            note="Squashes z into (0, 1). Its gradient is at most 0.25 and vanishes for large |z|.",
        ),
        Activation(
            "tanh", "Tanh", "a = tanh(z)", "da/dz = 1 - a^2",
            lambda z, s: np.tanh(z), lambda z, a, s: 1.0 - a * a,
            note="Squashes z into (-1, 1), centred at 0.",
        ),
        Activation(
            "relu", "ReLU", "a = max(0, z)", "da/dz = 1 if z > 0 else 0",
            _relu, lambda z, a, s: (z > 0).astype(np.float64), kinks=(0.0,),
            note="The modern default. A neuron whose z is negative on every sample is 'dead': "
            "its gradient is 0 and it stops learning.",
        ),
        Activation(
            "leaky_relu", "Leaky ReLU", "a = z if z > 0 else slope * z",
            "da/dz = 1 if z > 0 else slope", _leaky, _leaky_d, kinks=(0.0,), has_slope=True,
            note="Like ReLU, but a small slope for negative z keeps the gradient alive.",
        ),
        Activation(
            "softplus", "Softplus", "a = log(1 + e^z)", "da/dz = sigmoid(z)",
            lambda z, s: softplus(z), lambda z, a, s: sigmoid(z),
            note="A smooth ReLU; its gradient is the sigmoid, so it never abruptly hits zero.",
        ),
        Activation(
            "softmax", "Softmax (output group)", "a_i = e^(z_i) / sum_j e^(z_j)",
            "da_i/dz_j = a_i (delta_ij - a_j)",
            lambda z, s: softmax(z), lambda z, a, s: a * (1.0 - a), elementwise=False,
            note="Turns the raw outputs of all softmax output neurons into probabilities that "
            "sum to 1.",
        ),
    )
}

NAMES: tuple[str, ...] = tuple(ACTIVATIONS)
DEFAULT_LEAKY_SLOPE = 0.01


def get(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise KeyError(
            f"unknown activation {name!r} (known: {', '.join(NAMES)})"
        ) from None


def apply(name: str, z: Array, slope: float | Array = DEFAULT_LEAKY_SLOPE) -> Array:
    """Apply an activation elementwise; softmax is taken over the last axis."""
    return get(name).f(np.asarray(z, dtype=np.float64), slope)


def derivative(name: str, z: Array, slope: float | Array = DEFAULT_LEAKY_SLOPE) -> Array:
    """da/dz elementwise (for softmax: the diagonal of the Jacobian)."""
    act = get(name)
    z = np.asarray(z, dtype=np.float64)
    return act.df(z, act.f(z, slope), slope)

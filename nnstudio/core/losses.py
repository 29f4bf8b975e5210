"""Loss functions: one table of name -> (value, gradient with respect to the outputs, formula).

``pred`` and ``target`` are float64 arrays of shape (samples, outputs). ``grad`` returns dL/da for
each output neuron and sample. Binary cross-entropy after sigmoid outputs and categorical
cross-entropy after softmax outputs are also computed from the raw sums z (``*_from_logits``),
which is how the engine evaluates them: stable for any z, with the simple gradient a - y.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .activations import log_softmax, sigmoid, softmax, softplus

Array = np.ndarray
EPS = 1e-12


def _ssr(p: Array, y: Array) -> float:
    r = y - p
    return float(np.sum(r * r))


def _mse(p: Array, y: Array) -> float:
    r = y - p
    return float(np.mean(r * r))


def _mae(p: Array, y: Array) -> float:
    return float(np.mean(np.abs(y - p)))


def _bce(p: Array, y: Array) -> float:
    q = np.clip(p, EPS, 1.0 - EPS)
    return float(np.mean(-(y * np.log(q) + (1.0 - y) * np.log1p(-q))))


def _bce_grad(p: Array, y: Array) -> Array:
    q = np.clip(p, EPS, 1.0 - EPS)
    g = (q - y) / (q * (1.0 - q))
    return g / p.size


def _cce(p: Array, y: Array) -> float:
    q = np.clip(p, EPS, None)
    return float(np.sum(-y * np.log(q)) / p.shape[0])


def _cce_grad(p: Array, y: Array) -> Array:
    q = np.clip(p, EPS, None)
    return -y / q / p.shape[0]


@dataclass(frozen=True)
class Loss:
    name: str
    title: str
    formula: str
    value: Callable[[Array, Array], float]
    grad: Callable[[Array, Array], Array]
    # the output activation this loss pairs with for its stable, fused form (or None)
    fused_with: str | None = None
    kinks: bool = False
    note: str = ""
    # True: the value is a mean over samples (so batches combine weighted by their rows);
    # False: a plain sum over samples (SSR)
    mean: bool = True


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "ssr", "Sum of squared residuals", "SSR = sum (y - a)^2", _ssr,
            lambda p, y: -2.0 * (y - p),
            note="The least-squares error: every squared residual added up.", mean=False,
        ),
        Loss(
            "mse", "Mean squared error", "MSE = mean (y - a)^2", _mse,
            lambda p, y: -2.0 * (y - p) / p.size,
            note="SSR divided by the number of values: smooth, but sensitive to outliers.",
        ),
        Loss(
            "mae", "Mean absolute error", "MAE = mean |y - a|", _mae,
            lambda p, y: -np.sign(y - p) / p.size, kinks=True,
            note="Less sensitive to outliers; its gradient has a constant size.",
        ),
        Loss(
            "bce", "Binary cross-entropy",
            "BCE = mean -(y log a + (1 - y) log(1 - a))", _bce, _bce_grad,
            fused_with="sigmoid",
            note="For yes/no outputs in (0, 1), usually after a sigmoid.",
        ),
        Loss(
            "cross_entropy", "Categorical cross-entropy", "CE = mean over samples of -sum y log a",
            _cce, _cce_grad, fused_with="softmax",
            note="For class probabilities, usually after softmax.",
        ),
    )
}

NAMES: tuple[str, ...] = tuple(LOSSES)


def get(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise KeyError(f"unknown loss {name!r} (known: {', '.join(NAMES)})") from None


def fused_form(loss: str, output_activations: Sequence[str]) -> str | None:
    """The output activation that ``loss`` is computed together with, from the raw sums z
    (``"sigmoid"`` for binary, ``"softmax"`` for categorical cross-entropy), when every output
    neuron has it; else None. The one rule the engine, the walkthrough and the exports share."""
    partner = get(loss).fused_with
    if partner and output_activations and all(a == partner for a in output_activations):
        return partner
    return None


def bce_from_logits(z: Array, y: Array) -> tuple[float, Array, Array]:
    """BCE after sigmoid outputs, from the raw sums: (loss, a, dL/dz)."""
    a = sigmoid(z)
    value = float(np.mean(softplus(z) - y * z))
    return value, a, (a - y) / z.size


def cross_entropy_from_logits(z: Array, y: Array) -> tuple[float, Array, Array]:
    """Categorical CE after a softmax group, from the raw sums: (loss, a, dL/dz)."""
    a = softmax(z)
    n = z.shape[0]
    value = float(np.sum(-y * log_softmax(z)) / n)
    dz = (a * np.sum(y, axis=1, keepdims=True) - y) / n
    return value, a, dz

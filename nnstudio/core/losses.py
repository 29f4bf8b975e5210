"""Loss functions: one table of name -> (value, gradient with respect to the outputs, formula).

``pred`` and ``target`` are float64 arrays of shape (samples, outputs). ``grad`` returns dL/da for
each output neuron and sample.

Binary and categorical cross-entropy take logarithms of probabilities, and a probability near 0
or 1 is where a float runs out of digits: log(1 - a) of a = sigmoid(40) is log(0). So the
engine never computes them from the probabilities a, but from the raw sums z of the output
neurons (:func:`cross_entropy`): log a and log(1 - a) are log-sigmoid / log-softmax of z,
computed without ever forming a, so the loss and its gradient dL/dz are exact at any
saturation. That needs outputs whose activation has such a form (:attr:`Loss.exact_for`):
sigmoid (each output alone) or softmax (the softmax outputs as one group), in any mix, and for
categorical cross-entropy also softplus (log softplus(z), exact down to z = -1e308). For any
other output activation these losses are refused (:func:`probability_problem`), never
clipped.
The table's own ``value`` and ``grad`` of these two losses work on probabilities given as
such (no clipping: a probability of exactly 0 where the target needs it gives infinity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .activations import log_softmax, sigmoid, softmax, softplus

Array = np.ndarray



def _ssr(p: Array, y: Array) -> float:
    r = y - p
    return float(np.sum(r * r))


def _mse(p: Array, y: Array) -> float:
    r = y - p
    return float(np.mean(r * r))


def _mae(p: Array, y: Array) -> float:
    return float(np.mean(np.abs(y - p)))


def _ylog(y: Array, log_p: Array) -> Array:
    """y * log p, with 0 * log 0 = 0 (a target of 0 asks nothing of that probability)."""
    with np.errstate(invalid="ignore"):
        return np.where(y != 0, y * log_p, 0.0)


def _bce(p: Array, y: Array) -> float:
    with np.errstate(divide="ignore"):
        return float(-np.mean(_ylog(y, np.log(p)) + _ylog(1.0 - y, np.log1p(-p))))


def _bce_grad(p: Array, y: Array) -> Array:
    num = p - y
    # (a saturated p overflows the quotient: inf, which the caller reports; never a warning)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = np.divide(num, p * (1.0 - p), out=np.zeros_like(num), where=num != 0)
    return g / p.size


def _cce(p: Array, y: Array) -> float:
    with np.errstate(divide="ignore"):
        return float(-np.sum(_ylog(y, np.log(p))) / p.shape[0])


def _cce_grad(p: Array, y: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = np.divide(-y, p, out=np.zeros_like(y), where=y != 0)
    return g / p.shape[0]


@dataclass(frozen=True)
class Loss:
    name: str
    title: str
    formula: str
    value: Callable[[Array, Array], float]
    grad: Callable[[Array, Array], Array]
    # the output activation this loss pairs with for its simplest form (or None)
    fused_with: str | None = None
    # a cross-entropy: the output activations it is computed for, exactly from the raw sums
    # (any other is refused); empty: any output activation
    exact_for: tuple[str, ...] = ()
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
            fused_with="sigmoid", exact_for=("sigmoid", "softmax"),
            note="For yes/no outputs in (0, 1), after sigmoid (or softmax) outputs.",
        ),
        Loss(
            "cross_entropy", "Categorical cross-entropy", "CE = mean over samples of -sum y log a",
            _cce, _cce_grad, fused_with="softmax", exact_for=("sigmoid", "softmax", "softplus"),
            note="For class probabilities, after softmax (or sigmoid) outputs.",
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


def probability_problem(loss: str, output_activations: Sequence[str],
                        output_names: Sequence[str] = ()) -> str | None:
    """Why ``loss`` cannot be computed exactly for outputs with these activations (a
    cross-entropy over an output that is not sigmoid or softmax), or None."""
    lf = get(loss)
    if not lf.exact_for:
        return None
    for k, act in enumerate(output_activations):
        if act not in lf.exact_for:
            name = output_names[k] if k < len(output_names) else f"number {k + 1}"
            allowed = " or ".join(lf.exact_for)
            return (f"{lf.title.lower()} is computed exactly from the raw sums of {allowed} "
                    f"outputs only; output {name} is {act}: make it {allowed}, or choose "
                    "another loss")
    return None


def log_softplus(z: Array) -> Array:
    """log(softplus(z)), exact where softplus(z) itself underflows: for z < 0, softplus(z) =
    log1p(u) with u = e^z, so log softplus(z) = z + log(log1p(u) / u) (and z alone once u is
    0)."""
    u = np.exp(np.minimum(z, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(u > 0, np.log1p(u) / np.where(u > 0, u, 1.0), 1.0)
        return np.where(z > 0, np.log(softplus(z)), z + np.log(ratio))


def _log_probabilities(z: Array, softmax_cols: Array,
                       softplus_cols: Array) -> tuple[Array, Array]:
    """(log a, log(1 - a)) of every output from the raw sums z, exactly: log-sigmoid for the
    sigmoid outputs, log-softmax over the softmax outputs (log(1 - a_k) as the log-sum-exp of
    the others minus that of all), log-softplus for softplus outputs (no log(1 - a) there)."""
    log_a = -softplus(-z)
    log_1ma = -softplus(z)
    if softplus_cols.size:
        log_a[:, softplus_cols] = log_softplus(z[:, softplus_cols])
    k = softmax_cols.size
    if k:
        zs = z[:, softmax_cols]
        log_a[:, softmax_cols] = log_softmax(zs)
        if k == 1:
            log_1ma[:, softmax_cols] = -np.inf  # a softmax of one is always exactly 1
        else:
            top = np.max(zs, axis=1, keepdims=True)
            total = top[:, 0] + np.log(np.sum(np.exp(zs - top), axis=1))
            others = np.empty_like(zs)
            for j in range(k):
                rest = np.delete(zs, j, axis=1)
                m = np.max(rest, axis=1, keepdims=True)
                others[:, j] = m[:, 0] + np.log(np.sum(np.exp(rest - m), axis=1))
            log_1ma[:, softmax_cols] = others - total[:, None]
    return log_a, log_1ma


def cross_entropy(loss: str, z: Array, y: Array,
                  output_activations: Sequence[str]) -> tuple[float, Array]:
    """Binary (``"bce"``) or categorical (``"cross_entropy"``) cross-entropy of outputs with
    raw sums ``z`` (samples x outputs), these activations (the softmax ones are one group;
    check with :func:`probability_problem` first) and targets ``y``, exactly: (loss, dL/dz).
    BCE is the mean over every sample and output, CE the sum over the outputs averaged over
    the samples."""
    n_all, n_rows = z.size, z.shape[0]
    sm = np.array([k for k, a in enumerate(output_activations) if a == "softmax"], dtype=int)
    sp = np.array([k for k, a in enumerate(output_activations) if a == "softplus"], dtype=int)
    if loss == "bce" and sm.size == 0 and sp.size == 0:  # all sigmoid: the short form
        # y softplus(-z) + (1 - y) softplus(z): two positive terms, so a tiny loss keeps its
        # digits (softplus(z) - y z would cancel them away for y = 1 and a large z)
        value = float(np.mean(y * softplus(-z) + (1.0 - y) * softplus(z)))
        return value, (sigmoid(z) - y) / n_all
    if loss == "cross_entropy" and sm.size == z.shape[1]:  # all softmax: the short form
        a = softmax(z)
        value = float(np.sum(_ylog(y, log_softmax(z))) * -1.0 / n_rows)
        return value, (a * np.sum(y, axis=1, keepdims=True) - y) / n_rows
    log_a, log_1ma = _log_probabilities(z, sm, sp)
    sig = np.setdiff1d(np.arange(z.shape[1]), np.concatenate([sm, sp]))
    dz = np.empty_like(z)
    if loss == "bce":
        value = float(-np.mean(_ylog(y, log_a) + _ylog(1.0 - y, log_1ma)))
        dz[:, sig] = sigmoid(z[:, sig]) - y[:, sig]
        if sm.size:
            ys, la, lm = y[:, sm], log_a[:, sm], log_1ma[:, sm]
            # dL/dz_j = -(y_j + sum_{k != j} (1 - y_k) a_j / (1 - a_k) - K a_j), with
            # a_j / (1 - a_k) = exp(log a_j - log(1 - a_k)) <= 1: never an overflow
            acc = ys - sm.size * np.exp(la)
            for k in range(sm.size):
                with np.errstate(over="ignore"):
                    ratio = np.exp(la - lm[:, k:k + 1])
                ratio[:, k] = 0.0
                acc += (1.0 - ys[:, k:k + 1]) * ratio
            dz[:, sm] = -acc
        return value, dz / n_all
    if loss != "cross_entropy":
        raise KeyError(f"{loss!r} is not a cross-entropy")
    value = float(-np.sum(_ylog(y, log_a)) / n_rows)
    dz[:, sig] = -y[:, sig] * sigmoid(-z[:, sig])
    if sp.size:  # d log softplus(z) / dz = sigmoid(z) / softplus(z), as a ratio of logs
        dz[:, sp] = -y[:, sp] * np.exp(-softplus(-z[:, sp]) - log_a[:, sp])
    if sm.size:
        ys = y[:, sm]
        dz[:, sm] = np.exp(log_a[:, sm]) * np.sum(ys, axis=1, keepdims=True) - ys
    return value, dz / n_rows

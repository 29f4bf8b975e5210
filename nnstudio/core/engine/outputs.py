"""The output stage: from the output neurons' z and a to the loss, its gradient, and the
figures the views show.

:func:`output_stage` gathers the output neurons (in output order, which is the dataset's
target column order) and applies softmax across them; :func:`loss_value` and
:func:`output_grads` evaluate the loss and dL/da, dL/dz of the outputs. Binary and categorical
cross-entropy are always computed from the raw sums z (:func:`nnstudio.core.losses.
cross_entropy`: exact at any saturation) of the output activations they have such a form for;
for any other they raise :class:`~.layout.EngineError` saying which output and why.
:func:`layer_grad_means` summarises a gradient per block for the Gradients pane.
"""

from __future__ import annotations

import numpy as np

from .. import activations as acts
from .. import losses
from .layout import EngineError, Layout, output_slopes
from .passes import Cache, slope_grads

Array = np.ndarray


def _gather(layout: Layout, arrs: list[Array]) -> Array:
    if layout.out_direct is not None:
        return arrs[layout.out_direct]
    return np.stack([arrs[b][:, i] for b, i in layout.out_loc], axis=1)


def output_stage(layout: Layout, cache: Cache) -> tuple[Array, Array]:
    """(z_out, a_out) of the output neurons in output order, with softmax applied."""
    z_out = _gather(layout, cache.zs)
    sm = layout.softmax_out
    if sm.size == 0:
        return z_out, _gather(layout, cache.as_)
    a_out = _gather(layout, cache.as_)
    if a_out is z_out or layout.out_direct is not None:
        a_out = a_out.copy()
    a_out[:, sm] = acts.softmax(z_out[:, sm])
    # write the softmax activations back into the per-block arrays
    if layout.out_direct is not None:
        cache.as_[layout.out_direct] = a_out
    else:
        for k in sm:
            b, i = layout.out_loc[k]
            if cache.as_[b] is cache.zs[b]:
                cache.as_[b] = cache.as_[b].copy()
            cache.as_[b][:, i] = a_out[:, k]
    return z_out, a_out


def fused(layout: Layout, loss: str) -> str | None:
    """The output activation the loss is computed together with (:func:`losses.fused_form`)."""
    return losses.fused_form(loss, layout.out_acts)


def check_loss(layout: Layout, loss: str) -> None:
    """Raise EngineError if ``loss`` cannot be computed exactly for these outputs."""
    problem = losses.probability_problem(loss, layout.out_acts, layout.output_ids)
    if problem:
        raise EngineError(problem)


def loss_value(layout: Layout, loss: str, z_out: Array, a_out: Array, Y: Array) -> float:
    lf = losses.get(loss)
    if lf.exact_for:
        check_loss(layout, loss)
        return losses.cross_entropy(loss, z_out, Y, layout.out_acts)[0]
    return lf.value(a_out, Y)


def output_grads(layout: Layout, loss: str, z_out: Array, a_out: Array,
                 Y: Array, params: Array) -> tuple[float, Array, Array]:
    """(loss, dL/da_out, dL/dz_out) in output order. For a cross-entropy dL/dz is exact (from
    the raw sums) while dL/da, shown for explanation only, can be infinite where a
    probability is 0 or 1 to float precision. ``params``: the parameter vector (the outputs'
    trainable leaky slopes are read from it)."""
    lf = losses.get(loss)
    dl_da = lf.grad(a_out, Y)
    if lf.exact_for:
        check_loss(layout, loss)
        value, dz = losses.cross_entropy(loss, z_out, Y, layout.out_acts)
        return value, dl_da, dz
    value = lf.value(a_out, Y)
    dz = np.empty_like(dl_da)
    el = layout.out_elementwise
    out_acts = layout.out_acts
    if el.size:
        slopes = output_slopes(layout, params)
        if el.size == len(out_acts) and len(set(out_acts)) == 1:
            act = acts.ACTIVATIONS[out_acts[0]]
            slope = slopes if act.has_slope else 0.0
            dz = dl_da * act.df(z_out, a_out, slope)
        else:
            for k in el:
                act = acts.ACTIVATIONS[out_acts[k]]
                dz[:, k] = dl_da[:, k] * act.df(z_out[:, k], a_out[:, k], slopes[k])
    sm = layout.softmax_out
    if sm.size:
        g, a = dl_da[:, sm], a_out[:, sm]
        dz[:, sm] = a * (g - np.sum(g * a, axis=1, keepdims=True))
    return value, dl_da, dz


def output_slope_grads(layout: Layout, z_out: Array, dl_da_out: Array, grad: Array) -> None:
    """Write dL/dslope of the outputs' trainable leaky slopes into ``grad``."""
    at = layout.out_slope_at
    if at.size:
        grad[layout.out_slope_pos] = slope_grads(z_out[:, at], dl_da_out[:, at])


def layer_grad_means(layout: Layout, grad: Array) -> Array:
    """Mean |dL/dp| of each parameter layer (``layout.param_layers``: one entry per
    convolution, then one per dense block with parameters, each depth >= 1)."""
    if grad.size == 0:
        return np.zeros(0)
    layers = layout.param_layers
    starts = [pl.offset for pl in layers]
    counts = np.array([pl.count for pl in layers], dtype=np.float64)
    end = layers[-1].offset + layers[-1].count if layers else 0   # the slopes come after
    sums = np.add.reduceat(np.abs(grad[:end]), starts) if starts else np.zeros(0)
    return sums / np.maximum(counts, 1)

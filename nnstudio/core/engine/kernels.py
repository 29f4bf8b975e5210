"""Elementwise kernels of a block's activation and its derivative, in place.

:func:`activate` computes a = f(z) and :func:`apply_df` multiplies dL/da by da/dz for a block
whose columns share one activation, into arrays the caller reuses from step to step. The common
activations are written out as in-place NumPy calls (bit for bit the values of the activation
table's own functions, :mod:`nnstudio.core.activations`); any other falls back to the table.
No Python loop over neurons or samples.
"""

from __future__ import annotations

import numpy as np

from .. import activations as acts
from .layout import Group

Array = np.ndarray


def activate(g: Group, z: Array, out: Array | None, tmp: Array | None = None) -> Array:
    """The activation of a single-group block; into ``out`` when given (bit for bit the same
    values as the activation table's own function)."""
    name = g.activation
    if name in ("identity", "softmax"):  # softmax is applied across blocks in the output stage
        return z
    if out is None:
        out = np.empty_like(z)
    if name == "relu":
        return np.maximum(z, 0.0, out=out)
    if name == "tanh":
        return np.tanh(z, out=out)
    if name == "sigmoid":  # where(z >= 0, 1, e) / (1 + e), e = exp(-|z|), as activations.sigmoid
        if tmp is None:
            tmp = np.empty_like(z)
        np.abs(z, out=tmp)
        np.negative(tmp, out=tmp)
        np.exp(tmp, out=tmp)
        np.copyto(out, tmp)
        np.copyto(out, 1.0, where=z >= 0)
        tmp += 1.0
        out /= tmp
        return out
    if name == "leaky_relu":
        np.multiply(z, g.slope, out=out)
        np.copyto(out, z, where=z > 0)
        return out
    out[...] = acts.ACTIVATIONS[name].f(z, g.slope)
    return out


def apply_df(g: Group, z: Array, a: Array, d: Array, tmp: Array | None) -> None:
    """d *= da/dz, in place, for a single-group block (``tmp``: scratch of d's shape)."""
    name = g.activation
    if name == "identity":
        return
    if name == "relu":
        np.multiply(d, z > 0, out=d)
        return
    if name == "leaky_relu":
        np.multiply(d, g.slope, out=d, where=z <= 0)
        return
    if tmp is None:
        tmp = np.empty_like(d)
    if name == "sigmoid":
        np.subtract(1.0, a, out=tmp)
        tmp *= a
    elif name == "tanh":
        np.multiply(a, a, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
    else:
        tmp[...] = acts.ACTIVATIONS[name].df(z, a, g.slope)
    d *= tmp

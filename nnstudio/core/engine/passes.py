"""The forward and backward passes over a compiled network's blocks, for a batch of rows.

:func:`forward` computes z and a of every block in order; :func:`backward` goes from the last
block back, turning each block's dL/da into dL/dz, summing the parameter gradients into one
flat vector (the engine's parameter order) and propagating dL/da to the sources. Both work a
whole block at a time with matrix products and the in-place kernels of :mod:`.kernels`: there
is never a Python loop over neurons or samples.

In the training hot path the passes write into a :class:`Work` of reused arrays (one per batch
size), so nothing big is allocated per step. A new block kind (convolution, pooling) adds its
own vectorised forward and backward beside the dense ones here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import activations as acts
from .kernels import activate, apply_df
from .layout import DenseBlock, Layout

Array = np.ndarray


@dataclass
class Cache:
    """Per block: z, a, and the sources' activations side by side (None for block 0)."""

    zs: list[Array] = field(default_factory=list)
    as_: list[Array] = field(default_factory=list)
    srcs: list[Array | None] = field(default_factory=list)


class Work:
    """Reusable arrays of one batch size for the training hot path."""

    def __init__(self, layout: Layout, n: int):
        nb = len(layout.blocks)
        self.cache = Cache()
        self.z: list[Array] = [np.empty(0)] * nb
        self.a: list[Array | None] = [None] * nb
        self.d: list[Array] = [np.empty(0)] * nb
        self.tmp: list[Array] = [np.empty(0)] * nb
        self.src: list[Array] = [np.empty(0)] * nb
        self.dsrc: list[Array] = [np.empty(0)] * nb
        self.params = np.empty(layout.weight_mask.size)  # scratch for a regularization term
        self.d[0] = np.empty((n, layout.blocks[0].n))
        for b in range(1, nb):
            blk = layout.blocks[b]
            shape = (n, blk.n)
            self.z[b] = np.empty(shape)
            single = len(blk.groups) == 1
            if not (single and blk.groups[0].activation in ("identity", "softmax")):
                self.a[b] = np.empty(shape)
            self.d[b] = np.empty(shape)
            self.tmp[b] = np.empty(shape)
            if blk.sources and blk.direct is None:
                self.src[b] = np.empty((n, blk.n_src))
            if blk.sources:
                self.dsrc[b] = np.empty((n, blk.n_src))


def bind_weights(layout: Layout, params: Array) -> list[Array]:
    """Weight matrices: views of ``params`` for dense blocks, scatter targets otherwise."""
    W = [np.zeros((0, 0))]
    for blk in layout.blocks[1:]:
        if blk.rows is None:
            W.append(params[blk.w_off:blk.w_off + blk.nnz].reshape(blk.n_src, blk.n))
        else:
            W.append(np.zeros((blk.n_src, blk.n)))
    return W


def _weights(blk: DenseBlock, W: Array, params: Array) -> Array:
    """The block's weight matrix with the current parameters (a scatter when sparse)."""
    if blk.rows is not None:
        W[blk.rows, blk.cols] = params[blk.w_off:blk.w_off + blk.nnz]
    return W


def forward(layout: Layout, params: Array, W: list[Array], X: Array, cache: Cache,
            work: Work | None = None) -> None:
    """z and a of every block. With ``work``, results go into its reused arrays."""
    n = X.shape[0]
    blocks = layout.blocks
    zs, as_ = [X], [X]
    srcs: list[Array | None] = [None]
    for b in range(1, len(blocks)):
        blk = blocks[b]
        src: Array | None
        if blk.direct is not None:
            src = as_[blk.direct]
        elif blk.sources:
            if work is None:
                src = np.concatenate([as_[sb][:, sel] for sb, sel in blk.sources], axis=1)
            else:
                src = work.src[b]
                pos = 0
                for sb, sel in blk.sources:
                    width = (sel.stop - sel.start) if isinstance(sel, slice) else len(sel)
                    src[:, pos:pos + width] = as_[sb][:, sel]
                    pos += width
        else:
            src = None
        bias = params[blk.b_off:blk.b_off + blk.n]
        z = work.z[b] if work is not None else np.empty((n, blk.n))
        if src is not None:
            np.matmul(src, _weights(blk, W[b], params), out=z)
            z += bias
        else:
            z[...] = bias
        if len(blk.groups) == 1:
            g = blk.groups[0]
            a = activate(g, z, None if work is None else work.a[b],
                         None if work is None else work.tmp[b])
        else:
            a = np.empty_like(z)
            for g in blk.groups:
                if g.activation == "softmax":
                    a[:, g.cols] = z[:, g.cols]
                else:
                    a[:, g.cols] = acts.ACTIVATIONS[g.activation].f(z[:, g.cols], g.slope)
        zs.append(z)
        as_.append(a)
        srcs.append(src)
    cache.zs, cache.as_, cache.srcs = zs, as_, srcs


def backward(layout: Layout, W: list[Array], cache: Cache, dz_out: Array, grad: Array,
             full: bool = False, work: Work | None = None
             ) -> tuple[list[Array | None], list[Array | None]] | None:
    """Fill ``grad`` with dL/dparams. Returns per-block (dL/da, dL/dz) when ``full``.

    Without ``full``, each block's dL/da array is turned into its dL/dz in place, and with
    ``work`` those arrays are reused from call to call."""
    blocks = layout.blocks
    nb = len(blocks)
    zs, as_, srcs = cache.zs, cache.as_, cache.srcs
    dA: list[Array | None] = [None] * nb
    dZ: list[Array | None] = [None] * nb
    if full:
        dA = [np.zeros_like(z) for z in zs]

    def fresh(sb: int) -> Array:
        """A zeroed dL/da array for block sb."""
        if work is None:
            return np.zeros_like(zs[sb])
        d = work.d[sb]
        d.fill(0.0)
        return d

    out_dz = layout.out_dz
    out_direct = layout.out_direct
    for b in range(nb - 1, 0, -1):
        blk = blocks[b]
        if out_direct == b:
            dz = dz_out
        else:
            da = dA[b]
            if da is None:  # nothing downstream reads this block
                da = fresh(b)
            dz = da.copy() if full else da
            if len(blk.groups) == 1 and not blk.groups[0].output:
                apply_df(blk.groups[0], zs[b], as_[b], dz, None if work is None else work.tmp[b])
            else:
                for g in blk.groups:
                    if g.output:
                        continue
                    act = acts.ACTIVATIONS[g.activation]
                    dz[:, g.cols] = da[:, g.cols] * act.df(zs[b][:, g.cols], as_[b][:, g.cols],
                                                           g.slope)
                for i, k in out_dz.get(b, ()):
                    dz[:, i] = dz_out[:, k]
        dZ[b] = dz
        # parameter gradients
        np.sum(dz, axis=0, out=grad[blk.b_off:blk.b_off + blk.n])
        src = srcs[b]
        if src is None:
            continue
        if blk.rows is None:
            np.matmul(src.T, dz,
                      out=grad[blk.w_off:blk.w_off + blk.nnz].reshape(blk.n_src, blk.n))
        else:
            gW = src.T @ dz
            grad[blk.w_off:blk.w_off + blk.nnz] = gW[blk.rows, blk.cols]
        # propagate to the sources
        if not (blk.need_input_grad or full):
            continue
        Wb = W[b]
        if blk.direct is not None and dA[blk.direct] is None:
            # the whole previous block feeds this one: write its dL/da directly
            sb = blk.direct
            dA[sb] = np.matmul(dz, Wb.T, out=None if work is None else work.d[sb])
            continue
        dsrc = np.matmul(dz, Wb.T, out=None if work is None else work.dsrc[b])
        pos = 0
        for sb, sel in blk.sources:
            width = (sel.stop - sel.start) if isinstance(sel, slice) else len(sel)
            if sb == 0 and not full:
                pos += width
                continue
            part = dsrc[:, pos:pos + width]
            target = dA[sb]
            if target is None:
                target = dA[sb] = fresh(sb)
            if isinstance(sel, slice):
                target += part
            else:
                target[:, sel] += part
            pos += width
    if full:
        return dA, dZ
    return None

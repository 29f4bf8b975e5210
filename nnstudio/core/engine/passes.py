"""The forward and backward passes over a compiled network's blocks, for a batch of rows.

:func:`forward` first runs the image blocks in source order (each image input is a view of its
data columns; a convolution or pooling layer is its :mod:`nnstudio.core.conv` kernel, a
convolution's activation one in-place kernel; a flatten's output is a view, the values of its
feature block), then computes z and a of every dense block in order. :func:`backward` goes
from the last dense block back, turning each block's dL/da into dL/dz, summing the parameter
gradients into one flat vector (the engine's parameter order) and propagating dL/da to the
sources (feature blocks included); then the image blocks in reverse: a flatten's dL/da back
into maps, pooling routes each window's gradient, a convolution's dL/dz gives its filters'
gradient (written straight into the flat vector: the sum over every position and sample) and,
unless its source is an image input, dL/da of its source. A layer read by several layers gets
the sum of what they send back. Everything works a whole block at a time: there is never a
Python loop over neurons, positions, filters or samples.

In the training hot path the passes write into a :class:`Work` of reused arrays (one per batch
size, with one kernel state per image block), so nothing big is allocated per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import activations as acts
from ..conv import Conv2D, ConvState, Pool2D, PoolState
from ..derived_inputs import columns as derived_columns
from .kernels import activate, apply_df
from .layout import DenseBlock, ImageBlock, Layout, bound

Array = np.ndarray
State = ConvState | PoolState | None


@dataclass
class Cache:
    """Per dense block: z, a, and the sources' activations side by side (None for block 0
    and feature blocks). Per image block: z, a (N, C, H, W; a flatten's a is (N, C·H·W)), the
    kernel's state and, after a full backward pass, dL/da and dL/dz."""

    zs: list[Array] = field(default_factory=list)
    as_: list[Array] = field(default_factory=list)
    srcs: list[Array | None] = field(default_factory=list)
    image_z: list[Array] = field(default_factory=list)
    image_a: list[Array] = field(default_factory=list)
    image_states: list[State] = field(default_factory=list)
    image_dl_da: list[Array | None] = field(default_factory=list)
    image_dl_dz: list[Array | None] = field(default_factory=list)


class Work:
    """Reusable arrays of one batch size for the training hot path."""

    def __init__(self, layout: Layout, n: int):
        nb = len(layout.blocks)
        self.cache = Cache()
        self.states: list[State] = []
        self.image_a: list[Array | None] = []
        self.image_tmp: list[Array | None] = []
        for ib in layout.image_blocks:
            kernel = ib.shape
            if isinstance(kernel, Conv2D):
                self.states.append(kernel.state(n))
                g = ib.group
                assert g is not None
                own = g.activation not in ("identity", "softmax")
                self.image_a.append(np.empty((n, *kernel.out_shape)) if own else None)
                self.image_tmp.append(np.empty((n, *kernel.out_shape)) if own else None)
            else:
                self.states.append(kernel.state(n) if isinstance(kernel, Pool2D) else None)
                self.image_a.append(None)
                self.image_tmp.append(None)
        self.z: list[Array] = [np.empty(0)] * nb
        self.a: list[Array | None] = [None] * nb
        self.d: list[Array] = [np.empty(0)] * nb
        self.tmp: list[Array] = [np.empty(0)] * nb
        self.src: list[Array] = [np.empty(0)] * nb
        self.dsrc: list[Array] = [np.empty(0)] * nb
        self.params = np.empty(layout.weight_mask.size)  # scratch for a regularization term
        self.d[0] = np.empty((n, layout.blocks[0].n))
        # the input neurons' values, when some are derived from the data (else the data)
        self.inputs = np.empty((n, layout.blocks[0].n)) if layout.derived else None
        for b in range(1, nb):
            blk = layout.blocks[b]
            shape = (n, blk.n)
            if blk.feature is not None:   # values from the image blocks; only dL/da here
                self.d[b] = np.empty(shape)
                continue
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


def filters_of(ib: ImageBlock, params: Array) -> Array:
    """A convolution's packed filters: a view of the flat parameter vector."""
    assert isinstance(ib.shape, Conv2D)
    return params[ib.p_off:ib.p_off + ib.n_params].reshape(ib.shape.param_shape)


def forward_images(layout: Layout, params: Array, X: Array, cache: Cache,
                   work: Work | None = None) -> None:
    """z, a and the kernel state of every image block (see the module docstring)."""
    n = X.shape[0]
    zs: list[Array] = []
    as_: list[Array] = []
    states: list[State] = []
    for i, ib in enumerate(layout.image_blocks):
        shape = ib.shape
        state: State = None
        z: Array
        a: Array
        if isinstance(shape, tuple):
            c, h, w = shape
            z = a = X[:, ib.column:ib.column + c * h * w].reshape(n, c, h, w)
        elif isinstance(shape, Conv2D):
            conv_state = work.states[i] if work is not None else None
            assert conv_state is None or isinstance(conv_state, ConvState)
            z, state = shape.forward(as_[ib.source], filters_of(ib, params), conv_state)
            assert ib.group is not None
            a = activate(ib.group, z, None if work is None else work.image_a[i],
                         None if work is None else work.image_tmp[i])
        elif isinstance(shape, Pool2D):
            pool_state = work.states[i] if work is not None else None
            assert pool_state is None or isinstance(pool_state, PoolState)
            a, state = shape.forward(as_[ib.source], pool_state)
            z = a
        else:
            z = a = as_[ib.source].reshape(n, shape.size)
        zs.append(z)
        as_.append(a)
        states.append(state)
    cache.image_z, cache.image_a, cache.image_states = zs, as_, states


def input_values(layout: Layout, data: Array, out: Array | None = None) -> Array:
    """The input neurons' values (block 0): the data's input columns where the data inputs
    sit, and the derived inputs computed from them (into ``out`` when given)."""
    if out is None:
        out = np.empty((data.shape[0], layout.blocks[0].n))
    out[:, layout.data_input_pos] = data
    pos = [k for k, _ in layout.derived]
    out[:, pos] = derived_columns([name for _, name in layout.derived], data)
    return out


def forward(layout: Layout, params: Array, W: list[Array], X: Array, cache: Cache,
            work: Work | None = None) -> None:
    """z and a of every block (the image blocks first). With ``work``, results go into its
    reused arrays."""
    n = X.shape[0]
    blocks = layout.blocks
    if layout.image_blocks:
        forward_images(layout, params, X, cache, work)
    X0 = X[:, layout.image_columns:] if layout.image_columns else X
    if layout.derived:
        X0 = input_values(layout, X0, None if work is None else work.inputs)
    zs, as_ = [X0], [X0]
    srcs: list[Array | None] = [None]
    image_a = cache.image_a
    for b in range(1, len(blocks)):
        blk = blocks[b]
        if blk.feature is not None:
            values = image_a[blk.feature]
            zs.append(values)
            as_.append(values)
            srcs.append(None)
            continue
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
            g = bound(blk.groups[0], params)
            a = activate(g, z, None if work is None else work.a[b],
                         None if work is None else work.tmp[b])
        else:
            a = np.empty_like(z)
            for g in blk.groups:
                if g.activation == "softmax":
                    a[:, g.cols] = z[:, g.cols]
                else:
                    a[:, g.cols] = acts.ACTIVATIONS[g.activation].f(z[:, g.cols],
                                                                    bound(g, params).slope)
        zs.append(z)
        as_.append(a)
        srcs.append(src)
    cache.zs, cache.as_, cache.srcs = zs, as_, srcs


def slope_grads(z: Array, dl_da: Array) -> Array:
    """dL/dslope of leaky ReLU neurons (one per column) over a batch: a = slope × z where
    z <= 0, so da/dslope = min(z, 0) and dL/dslope = Σ_samples dL/da · min(z, 0)."""
    return np.einsum("ij,ij->j", dl_da, np.minimum(z, 0.0))


def backward(layout: Layout, W: list[Array], cache: Cache, dz_out: Array, grad: Array,
             full: bool = False, work: Work | None = None, params: Array | None = None
             ) -> tuple[list[Array | None], list[Array | None]] | None:
    """Fill ``grad`` with dL/dparams (the output neurons' trainable slopes excepted: their
    dL/da comes from the loss stage, see :func:`slope_grads`). Returns per dense block
    (dL/da, dL/dz) when ``full`` (and leaves the image blocks' in ``cache.image_dl_da`` /
    ``image_dl_dz``). ``params``: the parameter vector (needed when there are image blocks
    or trainable slopes).

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
        if blk.feature is not None:   # its dL/da goes on to its flatten (backward_images)
            if full:
                dZ[b] = dA[b]   # feature neurons pass their value through: dL/dz = dL/da
            continue
        if out_direct == b:
            dz = dz_out
        else:
            da = dA[b]
            if da is None:  # nothing downstream reads this block
                da = fresh(b)
            dz = da.copy() if full else da
            groups = blk.groups
            if params is not None:
                groups = [bound(g, params) for g in groups]
            for g in groups:   # before da turns into dz in place
                if g.slope_cols is not None and not g.output:
                    assert g.slope_pos is not None
                    grad[g.slope_pos] = slope_grads(zs[b][:, g.slope_cols], da[:, g.slope_cols])
            if len(groups) == 1 and not groups[0].output:
                apply_df(groups[0], zs[b], as_[b], dz, None if work is None else work.tmp[b])
            else:
                for g in groups:
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
    if layout.image_blocks:
        assert params is not None, "backward through image blocks needs the parameters"
        backward_images(layout, params, cache, dA, grad, full, work)
    if full:
        return dA, dZ
    return None


def backward_images(layout: Layout, params: Array, cache: Cache, dA: list[Array | None],
                    grad: Array, full: bool = False, work: Work | None = None) -> None:
    """The image blocks' part of :func:`backward`, from the feature blocks' dL/da (``dA``)
    back to the first convolution (see the module docstring)."""
    image = layout.image_blocks
    n = cache.image_a[0].shape[0] if image else 0
    d_out: list[Array | None] = [None] * len(image)   # dL/da of each block's output

    def send(src: int, d: Array) -> None:
        """Add ``d`` to what block ``src`` gets back."""
        have = d_out[src]
        if have is None:
            d_out[src] = d
        else:
            d_out[src] = have + d

    dl_dz: list[Array | None] = [None] * len(image)
    for i in range(len(image) - 1, -1, -1):
        ib = image[i]
        shape = ib.shape
        if ib.kind == "flatten":
            d = dA[ib.feature_block]
            if d is not None:
                d_out[i] = d
                send(ib.source, d.reshape(n, *ib.out_maps))
            continue
        d = d_out[i]
        if isinstance(shape, Conv2D):
            g = grad[ib.p_off:ib.p_off + ib.n_params].reshape(shape.param_shape)
            if d is None:   # nothing after it reaches the loss
                g.fill(0.0)
                continue
            assert ib.group is not None
            dz = d.copy() if full else d
            apply_df(ib.group, cache.image_z[i], cache.image_a[i], dz,
                     None if work is None else work.image_tmp[i])
            dl_dz[i] = dz
            state = cache.image_states[i]
            assert isinstance(state, ConvState)
            dx, _ = shape.backward(dz, filters_of(ib, params), state, grad=g,
                                   input_grad=ib.need_input_grad or full)
            if dx is not None:
                send(ib.source, dx)
        elif isinstance(shape, Pool2D) and d is not None:
            state = cache.image_states[i]
            assert isinstance(state, PoolState)
            send(ib.source, shape.backward(d, state))
    if full:
        cache.image_dl_da = d_out
        cache.image_dl_dz = [dl_dz[i] if ib.kind == "convolution" else d_out[i]
                             for i, ib in enumerate(image)]

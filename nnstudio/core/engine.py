"""The engine: a Network compiled into per-depth arrays, with forward and backward over a batch.

Compilation happens once per structural change (:meth:`Engine.for_network` caches on the
network's ``structure_version``); parameter edits only reload the flat parameter vector.

Layout
------
Neurons are grouped into *blocks*: block 0 holds the input neurons (in the network's input
order, which is the dataset's input column order), then one block per depth level (depth-0
neurons that are not inputs, such as a bias-only neuron, form their own block first). A block's
sources are always in earlier blocks. For each block the weights form a matrix
``W (n_sources, n_block)``; in a dense layered network the sources are exactly the previous block,
so forward and backward are one matrix product each and no array is copied.

All parameters live in one flat float64 vector ``params``: block by block, the present weights
in row-major order, then the block's biases. For a fully connected block the weight matrix is a
*view* of that vector, so the optimizer's in-place update is seen by the next forward pass
without any copy. ``param_ids[i]`` and ``slots[i]`` name parameter ``i`` in the network (a
connection id or a neuron id) and its slot in the network's ParamStore.

There is never a Python loop over neurons or samples in forward, backward or the update.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from . import activations as acts
from . import losses
from .network import Network, NetworkError

Array = np.ndarray


class EngineError(ValueError):
    """The network cannot be evaluated as it is (no inputs, no outputs, data shape mismatch)."""


@dataclass
class _Group:
    """Columns of one block that share an activation."""

    activation: str
    cols: slice | Array
    slope: Array | float
    output: bool  # output neurons: their dL/dz comes from the loss stage


@dataclass
class _Block:
    ids: list[str]
    start: int                 # global index of the block's first neuron
    sources: list[tuple[int, slice | Array]]  # (block index, columns in that block)
    direct: int | None         # block index when the sources are that whole block
    n_src: int
    w_off: int
    nnz: int
    rows: Array | None         # None when the block is fully connected (W is a view)
    cols: Array | None
    b_off: int
    groups: list[_Group]
    need_input_grad: bool      # do any sources need dL/da (i.e. are not all inputs)?

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class Evaluation:
    """Everything the visualizer shows for one batch, in engine neuron order
    (``engine.neuron_ids``): z and a per sample and neuron, dL/da and dL/dz, the loss and dL/dp
    for every parameter (in ``engine.param_ids`` order; locked parameters included)."""

    z: Array
    a: Array
    dl_da: Array
    dl_dz: Array
    loss: float
    grad: Array
    outputs: Array
    targets: Array


@dataclass
class _Cache:
    zs: list = field(default_factory=list)
    as_: list = field(default_factory=list)
    srcs: list = field(default_factory=list)


class Engine:
    """A compiled network. Build with :meth:`compile` (or the cached :meth:`for_network`)."""

    def __init__(self) -> None:
        self.structure_version = -1
        self.blocks: list[_Block] = []
        self.neuron_ids: list[str] = []
        self.index: dict[str, int] = {}
        self.input_ids: list[str] = []
        self.output_ids: list[str] = []
        self.param_ids: list[str] = []
        self.slots: Array = np.zeros(0, dtype=np.intp)
        self.params: Array = np.zeros(0)
        self.trainable: Array = np.zeros(0, dtype=bool)
        self.param_version = -1
        self.block_of_param: Array = np.zeros(0, dtype=np.intp)
        self.depth_of_block: list[int] = []
        self._out_loc: list[tuple[int, int]] = []
        self._out_direct: int | None = None
        self._softmax_out: Array = np.zeros(0, dtype=np.intp)  # positions among outputs
        self._out_acts: list[str] = []
        self._W: list[Array] = []
        self._works: dict = {}
        self._param_pos: dict[str, int] = {}
        self._out_dz: dict[int, list[tuple[int, int]]] = {}

    # ------------------------------------------------------------------ compile
    @classmethod
    def compile(cls, net: Network) -> "Engine":
        eng = cls()
        eng._compile(net)
        return eng

    @staticmethod
    def for_network(net: Network, previous: "Engine | None" = None) -> "Engine":
        """The previous engine if the structure has not changed (with parameters reloaded
        if they were edited), else a fresh compile."""
        if previous is not None and previous.structure_version == net.structure_version \
                and previous._net_id == id(net):
            previous.load_params(net)
            return previous
        return Engine.compile(net)

    def _compile(self, net: Network) -> None:
        inputs = [n.id for n in net.inputs]
        outputs = [n.id for n in net.outputs]
        if not inputs:
            raise EngineError("the network has no input neuron")
        if not outputs:
            raise EngineError("the network has no output neuron")
        layers = net.layers()
        block_ids: list[list[str]] = [inputs]
        depth_of_block = [0]
        extra0 = [nid for nid in layers[0] if net.neurons[nid].role != "input"] if layers else []
        if extra0:
            block_ids.append(extra0)
            depth_of_block.append(0)
        for d in range(1, len(layers)):
            block_ids.append(layers[d])
            depth_of_block.append(d)
        where: dict[str, tuple[int, int]] = {}
        start = 0
        for b, ids in enumerate(block_ids):
            for i, nid in enumerate(ids):
                where[nid] = (b, i)
        self.neuron_ids = [nid for ids in block_ids for nid in ids]
        self.index = {nid: i for i, nid in enumerate(self.neuron_ids)}
        self.input_ids, self.output_ids = inputs, outputs
        self.depth_of_block = depth_of_block

        blocks: list[_Block] = []
        param_ids: list[str] = []
        slots: list[int] = []
        block_of_param: list[int] = []
        off = 0
        start = len(inputs)
        # block 0 (inputs) has no parameters; represent it for uniform indexing
        blocks.append(_Block(inputs, 0, [], None, 0, 0, 0, None, None, 0, [], False))
        for b in range(1, len(block_ids)):
            ids = block_ids[b]
            # sources: every neuron feeding this block, grouped by block, in block order
            src_set: dict[int, set[int]] = {}
            for nid in ids:
                for c in net.incoming(nid):
                    sb, si = where[c.source]
                    src_set.setdefault(sb, set()).add(si)
            sources: list[tuple[int, slice | Array]] = []
            src_pos: dict[str, int] = {}
            pos = 0
            for sb in sorted(src_set):
                cols = sorted(src_set[sb])
                if len(cols) == len(block_ids[sb]):
                    sel: slice | Array = slice(0, len(cols))
                else:
                    sel = np.array(cols, dtype=np.intp)
                sources.append((sb, sel))
                for ci in cols:
                    src_pos[block_ids[sb][ci]] = pos
                    pos += 1
            n_src = pos
            direct = sources[0][0] if len(sources) == 1 and isinstance(sources[0][1], slice) else None
            # weights in row-major (source row, target column) order
            entries = []
            for j, nid in enumerate(ids):
                for c in net.incoming(nid):
                    entries.append((src_pos[c.source], j, c.id, c.slot))
            entries.sort()
            nnz = len(entries)
            dense_block = nnz == n_src * len(ids)
            rows = cols_ = None
            if not dense_block:
                rows = np.array([e[0] for e in entries], dtype=np.intp)
                cols_ = np.array([e[1] for e in entries], dtype=np.intp)
            w_off = off
            for e in entries:
                param_ids.append(e[2])
                slots.append(e[3])
                block_of_param.append(b)
            off += nnz
            b_off = off
            for nid in ids:
                param_ids.append(nid)
                slots.append(net.neurons[nid].slot)
                block_of_param.append(b)
            off += len(ids)
            # activation groups
            by_act: dict[tuple[str, bool], list[int]] = {}
            for j, nid in enumerate(ids):
                n = net.neurons[nid]
                by_act.setdefault((n.activation, n.role == "output"), []).append(j)
            groups = []
            for (act, is_out), js in by_act.items():
                sel = slice(0, len(ids)) if len(js) == len(ids) else np.array(js, dtype=np.intp)
                slope = np.array([net.neurons[ids[j]].slope for j in js])
                if np.all(slope == slope[0]):
                    slope = float(slope[0]) if slope.size else acts.DEFAULT_LEAKY_SLOPE
                groups.append(_Group(act, sel, slope, is_out))
            need_in = any(sb != 0 for sb, _ in sources)
            blocks.append(_Block(ids, start, sources, direct, n_src, w_off, nnz, rows, cols_,
                                 b_off, groups, need_in))
            start += len(ids)
        self.blocks = blocks
        self.param_ids = param_ids
        self._param_pos = {p: i for i, p in enumerate(param_ids)}
        self.slots = np.array(slots, dtype=np.intp)
        self.block_of_param = np.array(block_of_param, dtype=np.intp)
        self.params = np.zeros(len(param_ids))
        self.trainable = np.ones(len(param_ids), dtype=bool)
        self._net_id = id(net)
        self.structure_version = net.structure_version
        # outputs
        self._out_loc = [where[o] for o in outputs]
        last = self._out_loc[0][0]
        self._out_direct = None
        if all(b == last for b, _ in self._out_loc) and \
                [i for _, i in self._out_loc] == list(range(len(block_ids[last]))):
            self._out_direct = last
        self._out_acts = [net.neurons[o].activation for o in outputs]
        self._softmax_out = np.array(
            [k for k, a in enumerate(self._out_acts) if a == "softmax"], dtype=np.intp
        )
        self._out_elementwise = np.array(
            [k for k, a in enumerate(self._out_acts) if a != "softmax"], dtype=np.intp
        )
        self._out_slopes = np.array([net.neurons[o].slope for o in outputs])
        # where each output's dL/dz goes in the backward pass: block -> [(column, output k)]
        self._out_dz = {}
        for k, (b, i) in enumerate(self._out_loc):
            self._out_dz.setdefault(b, []).append((i, k))
        self._works = {}
        self.load_params(net)

    # ------------------------------------------------------------------ parameters
    def load_params(self, net: Network) -> None:
        """Read every parameter value and trainable flag from the network (no recompile)."""
        self.params[:] = net.store.values[self.slots]
        self.trainable[:] = net.store.trainable[self.slots]
        self.param_version = net.param_version
        self._bind_weights()

    def _bind_weights(self) -> None:
        """Weight matrices: views of ``params`` for dense blocks, scatter targets otherwise."""
        self._W = [np.zeros((0, 0))]
        for blk in self.blocks[1:]:
            if blk.rows is None:
                self._W.append(self.params[blk.w_off:blk.w_off + blk.nnz].reshape(blk.n_src, blk.n))
            else:
                self._W.append(np.zeros((blk.n_src, blk.n)))

    def set_params(self, values: Array) -> None:
        """Replace the parameter vector's contents (keeps the views bound)."""
        self.params[:] = values

    def store_params(self, net: Network, values: Array | None = None) -> None:
        """Write parameters (default: the engine's own) back into the network."""
        net.set_param_vector(self.slots, self.params if values is None else values)
        self.param_version = net.param_version

    def param_index(self, pid: str) -> int:
        """Position of a parameter (connection or neuron id) in ``params`` (a dict look-up)."""
        if len(self._param_pos) != len(self.param_ids):
            self._param_pos = {p: i for i, p in enumerate(self.param_ids)}
        try:
            return self._param_pos[pid]
        except KeyError:
            raise EngineError(f"there is no parameter {pid!r}") from None

    @property
    def n_params(self) -> int:
        return self.params.size

    def _weights(self, b: int) -> Array:
        blk = self.blocks[b]
        W = self._W[b]
        if blk.rows is not None:
            W[blk.rows, blk.cols] = self.params[blk.w_off:blk.w_off + blk.nnz]
        return W

    # ------------------------------------------------------------------ data checks
    def check_data(self, X: Array, Y: Array | None = None) -> tuple[Array, Array | None]:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.input_ids):
            raise EngineError(
                f"the data has {X.shape[-1] if X.ndim == 2 else '?'} input column(s) but the "
                f"network has {len(self.input_ids)} input neuron(s)"
            )
        if Y is not None:
            Y = np.asarray(Y, dtype=np.float64)
            if Y.ndim != 2 or Y.shape[1] != len(self.output_ids) or Y.shape[0] != X.shape[0]:
                raise EngineError(
                    f"the data has {Y.shape[-1] if Y.ndim == 2 else '?'} target column(s) but "
                    f"the network has {len(self.output_ids)} output neuron(s)"
                )
        return X, Y

    # ------------------------------------------------------------------ forward
    def _work(self, n: int) -> "_Work":
        """Reusable arrays of the training hot path for batches of ``n`` rows (per thread;
        a few batch sizes are kept: the mini-batch and the epoch's last, shorter one)."""
        key = (threading.get_ident(), n)
        w = self._works.get(key)
        if w is None:
            if len(self._works) >= 4:  # forget the oldest batch size
                try:
                    self._works.pop(next(iter(self._works)), None)
                except (StopIteration, RuntimeError):  # another thread changed it meanwhile
                    pass
            w = self._works[key] = _Work(self, n)
        return w

    def _forward(self, X: Array, cache: _Cache, work: "_Work | None" = None) -> None:
        """z and a of every block. With ``work``, results go into its reused arrays."""
        n = X.shape[0]
        zs, as_, srcs = [X], [X], [None]
        for b in range(1, len(self.blocks)):
            blk = self.blocks[b]
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
            bias = self.params[blk.b_off:blk.b_off + blk.n]
            z = work.z[b] if work is not None else np.empty((n, blk.n))
            if src is not None:
                np.matmul(src, self._weights(b), out=z)
                z += bias
            else:
                z[...] = bias
            if len(blk.groups) == 1:
                g = blk.groups[0]
                a = _activate(g, z, None if work is None else work.a[b],
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

    def _gather_outputs(self, arrs: list) -> Array:
        if self._out_direct is not None:
            return arrs[self._out_direct]
        return np.stack([arrs[b][:, i] for b, i in self._out_loc], axis=1)

    def _output_stage(self, cache: _Cache) -> tuple[Array, Array]:
        """(z_out, a_out) of the output neurons in output order, with softmax applied."""
        z_out = self._gather_outputs(cache.zs)
        if self._softmax_out.size == 0:
            return z_out, self._gather_outputs(cache.as_)
        a_out = self._gather_outputs(cache.as_)
        if a_out is z_out or self._out_direct is not None:
            a_out = a_out.copy()
        sm = self._softmax_out
        a_out[:, sm] = acts.softmax(z_out[:, sm])
        # write the softmax activations back into the per-block arrays
        if self._out_direct is not None:
            cache.as_[self._out_direct] = a_out
        else:
            for k in sm:
                b, i = self._out_loc[k]
                if cache.as_[b] is cache.zs[b]:
                    cache.as_[b] = cache.as_[b].copy()
                cache.as_[b][:, i] = a_out[:, k]
        return z_out, a_out

    def predict(self, X: Array) -> Array:
        """The output neurons' activations for each row of X."""
        X, _ = self.check_data(X)
        cache = _Cache()
        self._forward(X, cache)
        return self._output_stage(cache)[1].copy()

    def activations(self, X: Array) -> tuple[Array, Array]:
        """(z, a) of every neuron for each row of X, samples x neurons in engine order
        (``engine.neuron_ids``), softmax applied: a forward pass only, no targets needed."""
        X, _ = self.check_data(X)
        cache = _Cache()
        self._forward(X, cache)
        self._output_stage(cache)
        return np.concatenate(cache.zs, axis=1), np.concatenate(cache.as_, axis=1)

    LOSS_CHUNK = 1024

    def loss(self, X: Array, Y: Array, loss: str) -> float:
        """The loss over a batch at the current parameters (forward only).

        A big batch (such as a whole dataset, once per epoch) is evaluated in chunks of
        ``LOSS_CHUNK`` rows through reused arrays that stay in the processor's cache; every loss
        is a sum over samples (divided by their number for the mean losses), so the chunks'
        values combine exactly, up to rounding."""
        X, Y = self.check_data(X, Y)
        n, c = X.shape[0], self.LOSS_CHUNK
        if n <= c:
            cache = _Cache()
            self._forward(X, cache)
            z_out, a_out = self._output_stage(cache)
            return self._loss_value(loss, z_out, a_out, Y)
        mean = losses.get(loss).mean
        total = 0.0
        for lo in range(0, n, c):
            hi = min(n, lo + c)
            work = self._work(c) if hi - lo == c else None
            cache = work.cache if work is not None else _Cache()
            self._forward(X[lo:hi], cache, work)
            z_out, a_out = self._output_stage(cache)
            v = self._loss_value(loss, z_out, a_out, Y[lo:hi])
            total += v * (hi - lo) / n if mean else v
        return total

    def _fused(self, loss: str) -> str | None:
        lf = losses.get(loss)
        if lf.fused_with and all(a == lf.fused_with for a in self._out_acts):
            return lf.fused_with
        return None

    def _loss_value(self, loss: str, z_out: Array, a_out: Array, Y: Array) -> float:
        fused = self._fused(loss)
        if fused == "sigmoid":
            return losses.bce_from_logits(z_out, Y)[0]
        if fused == "softmax":
            return losses.cross_entropy_from_logits(z_out, Y)[0]
        return losses.get(loss).value(a_out, Y)

    # ------------------------------------------------------------------ backward
    def _output_grads(self, loss: str, z_out: Array, a_out: Array, Y: Array):
        """(loss, dL/da_out, dL/dz_out) in output order."""
        lf = losses.get(loss)
        fused = self._fused(loss)
        dl_da = lf.grad(a_out, Y)
        if fused == "sigmoid":
            value, _, dz = losses.bce_from_logits(z_out, Y)
            return value, dl_da, dz
        if fused == "softmax":
            value, _, dz = losses.cross_entropy_from_logits(z_out, Y)
            return value, dl_da, dz
        value = lf.value(a_out, Y)
        dz = np.empty_like(dl_da)
        el = self._out_elementwise
        if el.size:
            if el.size == len(self._out_acts) and len(set(self._out_acts)) == 1:
                act = acts.ACTIVATIONS[self._out_acts[0]]
                slope = self._out_slopes if act.has_slope else 0.0
                dz = dl_da * act.df(z_out, a_out, slope)
            else:
                for k in el:
                    act = acts.ACTIVATIONS[self._out_acts[k]]
                    dz[:, k] = dl_da[:, k] * act.df(z_out[:, k], a_out[:, k], self._out_slopes[k])
        sm = self._softmax_out
        if sm.size:
            g, a = dl_da[:, sm], a_out[:, sm]
            dz[:, sm] = a * (g - np.sum(g * a, axis=1, keepdims=True))
        return value, dl_da, dz

    def _backward(self, cache: _Cache, dz_out: Array, grad: Array, full: bool = False,
                  work: "_Work | None" = None):
        """Fill ``grad`` with dL/dparams. Returns per-block (dL/da, dL/dz) when ``full``.

        Without ``full``, each block's dL/da array is turned into its dL/dz in place, and with
        ``work`` those arrays are reused from call to call."""
        nb = len(self.blocks)
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

        out_dz = self._out_dz
        for b in range(nb - 1, 0, -1):
            blk = self.blocks[b]
            if self._out_direct == b:
                dz = dz_out
            else:
                da = dA[b]
                if da is None:  # nothing downstream reads this block
                    da = fresh(b)
                dz = da.copy() if full else da
                if len(blk.groups) == 1 and not blk.groups[0].output:
                    _apply_df(blk.groups[0], zs[b], as_[b], dz,
                              None if work is None else work.tmp[b])
                else:
                    for g in blk.groups:
                        if g.output:
                            continue
                        act = acts.ACTIVATIONS[g.activation]
                        dz[:, g.cols] = da[:, g.cols] * act.df(zs[b][:, g.cols], as_[b][:, g.cols], g.slope)
                    for i, k in out_dz.get(b, ()):
                        dz[:, i] = dz_out[:, k]
            dZ[b] = dz
            # parameter gradients
            np.sum(dz, axis=0, out=grad[blk.b_off:blk.b_off + blk.n])
            src = srcs[b]
            if src is None:
                continue
            if blk.rows is None:
                np.matmul(src.T, dz, out=grad[blk.w_off:blk.w_off + blk.nnz].reshape(blk.n_src, blk.n))
            else:
                gW = src.T @ dz
                grad[blk.w_off:blk.w_off + blk.nnz] = gW[blk.rows, blk.cols]
            # propagate to the sources
            if not (blk.need_input_grad or full):
                continue
            W = self._W[b]
            if blk.direct is not None and dA[blk.direct] is None:
                # the whole previous block feeds this one: write its dL/da directly
                sb = blk.direct
                dA[sb] = np.matmul(dz, W.T, out=None if work is None else work.d[sb])
                continue
            dsrc = np.matmul(dz, W.T, out=None if work is None else work.dsrc[b])
            pos = 0
            for sb, sel in blk.sources:
                width = (sel.stop - sel.start) if isinstance(sel, slice) else len(sel)
                if sb == 0 and not full:
                    pos += width
                    continue
                part = dsrc[:, pos:pos + width]
                if dA[sb] is None:
                    dA[sb] = fresh(sb)
                if isinstance(sel, slice):
                    dA[sb] += part
                else:
                    dA[sb][:, sel] += part
                pos += width
        if full:
            return dA, dZ
        return None

    def gradient(self, X: Array, Y: Array, loss: str, grad: Array | None = None) -> tuple[float, Array]:
        """(loss, dL/dparams) over a batch: the training hot path. It reuses its working
        arrays from call to call (keyed by batch size), so nothing big is allocated per step;
        pass ``grad`` to have the gradient written into that array."""
        work = self._work(X.shape[0])
        cache = work.cache
        self._forward(X, cache, work)
        z_out, a_out = self._output_stage(cache)
        value, _, dz_out = self._output_grads(loss, z_out, a_out, Y)
        if grad is None:
            grad = np.empty_like(self.params)
        self._backward(cache, dz_out, grad, work=work)
        return value, grad

    def evaluate(self, X: Array, Y: Array, loss: str) -> Evaluation:
        """Everything about one batch, for display: z, a, dL/da, dL/dz per neuron and sample
        (engine neuron order), the loss, and every parameter's gradient."""
        X, Y = self.check_data(X, Y)
        cache = _Cache()
        self._forward(X, cache)
        z_out, a_out = self._output_stage(cache)
        value, dl_da_out, dz_out = self._output_grads(loss, z_out, a_out, Y)
        grad = np.empty_like(self.params)
        dA, dZ = self._backward(cache, dz_out, grad, full=True)
        # outputs: dL/da from the loss, dL/dz from the output stage
        for k, (b, i) in enumerate(self._out_loc):
            dA[b][:, i] = dl_da_out[:, k]
            if dZ[b] is None:
                dZ[b] = np.zeros_like(cache.zs[b])
            dZ[b][:, i] = dz_out[:, k]
        dZ[0] = dA[0].copy()  # inputs pass their value through: dL/dz = dL/da
        cat = lambda arrs: np.concatenate(arrs, axis=1)
        return Evaluation(
            z=cat(cache.zs), a=cat(cache.as_), dl_da=cat(dA), dl_dz=cat(dZ), loss=value,
            grad=grad, outputs=a_out.copy(), targets=Y,
        )

    # ------------------------------------------------------------------ helpers for views
    def layer_grad_means(self, grad: Array) -> Array:
        """Mean |dL/dp| of each parameter block (one entry per depth >= 1)."""
        if grad.size == 0:
            return np.zeros(0)
        starts = [blk.w_off for blk in self.blocks[1:]]
        counts = np.array([blk.nnz + blk.n for blk in self.blocks[1:]], dtype=np.float64)
        sums = np.add.reduceat(np.abs(grad), starts) if starts else np.zeros(0)
        return sums / np.maximum(counts, 1)

    def block_depths(self) -> list[int]:
        return self.depth_of_block[1:]

    def describe_param(self, net: Network, i: int) -> str:
        pid = self.param_ids[i]
        if pid in net.connections:
            c = net.connections[pid]
            return f"weight {pid!r} ({net.neurons[c.source].label} → {net.neurons[c.target].label})"
        return f"bias of {net.name(pid)}"


def _activate(g: _Group, z: Array, out: Array | None, tmp: Array | None = None) -> Array:
    """The activation of a single-group block; into ``out`` when given (bit for bit the same
    values as the activation table's own function)."""
    name = g.activation
    if name in ("identity", "softmax"):  # softmax is applied across blocks in _output_stage
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


def _apply_df(g: _Group, z: Array, a: Array, d: Array, tmp: Array | None) -> None:
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


class _Work:
    """Reusable arrays of one batch size for :meth:`Engine.gradient`."""

    def __init__(self, eng: Engine, n: int):
        nb = len(eng.blocks)
        self.cache = _Cache()
        self.z: list = [None] * nb
        self.a: list = [None] * nb
        self.d: list = [None] * nb
        self.tmp: list = [None] * nb
        self.src: list = [None] * nb
        self.dsrc: list = [None] * nb
        self.d[0] = np.empty((n, eng.blocks[0].n))
        for b in range(1, nb):
            blk = eng.blocks[b]
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


def check_network(net: Network) -> None:
    """Raise NetworkError/EngineError if the network cannot be trained or evaluated."""
    Engine.compile(net)


__all__ = ["Engine", "EngineError", "Evaluation", "check_network", "NetworkError"]

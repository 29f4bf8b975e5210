"""Compiling a network into blocks: which neurons are evaluated together, and where every
parameter sits in the engine's flat parameter vector.

Block 0 holds the input neurons (in the network's input order, which is the dataset's input
column order), then one block per depth level (depth-0 neurons that are not inputs, such as a
bias-only neuron, form their own block first). A block's sources are always in earlier blocks.
For each block the weights form a matrix ``W (n_sources, n_block)``; in a dense layered network
the sources are exactly the previous block, so forward and backward are one matrix product each
and no array is copied.

All parameters live in one flat float64 vector: block by block, the present weights in
row-major (source, target) order, then the block's biases. ``param_ids[i]`` and ``slots[i]``
name parameter ``i`` in the network (a connection id or a neuron id) and its slot in the
network's ParamStore; ``weight_mask[i]`` is 1.0 when it is a weight and 0.0 when it is a bias
(a new block kind marks its own weights there).

Every block is a :class:`DenseBlock` today: a weighted sum of its sources and an elementwise
activation per :class:`Group` of columns. Convolution and pooling blocks will be compiled here
too, as further block kinds beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import activations as acts
from ..network import Network

Array = np.ndarray
#: the columns of a block a selection covers: all of them (a slice) or some (an index array)
Columns = slice | Array


class EngineError(ValueError):
    """The network cannot be evaluated as it is (no inputs, no outputs, data shape mismatch)."""


@dataclass
class Group:
    """Columns of one block that share an activation."""

    activation: str
    cols: Columns
    slope: Array | float
    output: bool  # output neurons: their dL/dz comes from the loss stage


@dataclass
class DenseBlock:
    """Neurons of one depth level: z = (their sources' activations) @ W + b, a = f(z)."""

    ids: list[str]
    start: int                 # global index of the block's first neuron
    sources: list[tuple[int, Columns]]  # (block index, columns in that block)
    direct: int | None         # block index when the sources are that whole block
    n_src: int
    w_off: int
    nnz: int
    rows: Array | None         # None when the block is fully connected (W is a view)
    cols: Array | None
    b_off: int
    groups: list[Group]
    need_input_grad: bool      # do any sources need dL/da (i.e. are not all inputs)?

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class Layout:
    """A network compiled into blocks: everything about its structure the engine needs."""

    blocks: list[DenseBlock]
    neuron_ids: list[str]              # every neuron, block by block (the engine's order)
    index: dict[str, int]              # neuron id -> position in neuron_ids
    input_ids: list[str]
    output_ids: list[str]
    param_ids: list[str]
    slots: Array                       # ParamStore slot of each parameter
    block_of_param: Array
    depth_of_block: list[int]
    out_loc: list[tuple[int, int]]     # (block, column) of each output neuron
    out_direct: int | None             # the block that is exactly the outputs, in order
    out_acts: list[str]                # each output neuron's activation
    softmax_out: Array                 # positions among the outputs of the softmax ones
    out_elementwise: Array             # ... and of the others
    out_slopes: Array
    out_dz: dict[int, list[tuple[int, int]]]  # block -> [(column, output k)] for backward
    weight_mask: Array                 # 1.0 at each weight of the parameter vector, 0.0 at
                                       # each bias (what regularization penalises)


def compile_layout(net: Network) -> Layout:
    """The blocks, parameter order and output map of ``net``; raises EngineError if it has
    no input or no output neuron."""
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
    for b, ids in enumerate(block_ids):
        for i, nid in enumerate(ids):
            where[nid] = (b, i)
    neuron_ids = [nid for ids in block_ids for nid in ids]

    blocks: list[DenseBlock] = []
    param_ids: list[str] = []
    slots: list[int] = []
    block_of_param: list[int] = []
    off = 0
    start = len(inputs)
    # block 0 (inputs) has no parameters; represent it for uniform indexing
    blocks.append(DenseBlock(inputs, 0, [], None, 0, 0, 0, None, None, 0, [], False))
    for b in range(1, len(block_ids)):
        ids = block_ids[b]
        # sources: every neuron feeding this block, grouped by block, in block order
        src_set: dict[int, set[int]] = {}
        for nid in ids:
            for c in net.incoming(nid):
                sb, si = where[c.source]
                src_set.setdefault(sb, set()).add(si)
        sources: list[tuple[int, Columns]] = []
        src_pos: dict[str, int] = {}
        pos = 0
        for sb in sorted(src_set):
            cols = sorted(src_set[sb])
            sel: Columns
            if len(cols) == len(block_ids[sb]):
                sel = slice(0, len(cols))
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
        blocks.append(DenseBlock(ids, start, sources, direct, n_src, w_off, nnz, rows, cols_,
                                 b_off, _groups(net, ids), any(sb != 0 for sb, _ in sources)))
        start += len(ids)
    # outputs
    out_loc = [where[o] for o in outputs]
    last = out_loc[0][0]
    out_direct = None
    if all(b == last for b, _ in out_loc) and \
            [i for _, i in out_loc] == list(range(len(block_ids[last]))):
        out_direct = last
    out_acts = [net.neurons[o].activation for o in outputs]
    out_dz: dict[int, list[tuple[int, int]]] = {}
    for k, (b, i) in enumerate(out_loc):
        out_dz.setdefault(b, []).append((i, k))
    return Layout(
        blocks=blocks, neuron_ids=neuron_ids,
        index={nid: i for i, nid in enumerate(neuron_ids)},
        input_ids=inputs, output_ids=outputs, param_ids=param_ids,
        slots=np.array(slots, dtype=np.intp),
        block_of_param=np.array(block_of_param, dtype=np.intp),
        depth_of_block=depth_of_block, out_loc=out_loc, out_direct=out_direct, out_acts=out_acts,
        softmax_out=np.array([k for k, a in enumerate(out_acts) if a == "softmax"],
                             dtype=np.intp),
        out_elementwise=np.array([k for k, a in enumerate(out_acts) if a != "softmax"],
                                 dtype=np.intp),
        out_slopes=np.array([net.neurons[o].slope for o in outputs]),
        out_dz=out_dz,
        weight_mask=_weight_mask(off, blocks),
    )


def _weight_mask(n_params: int, blocks: list[DenseBlock]) -> Array:
    """1.0 at the weights of ``n_params`` parameters laid out by ``blocks``, else 0.0."""
    mask = np.zeros(n_params)
    for blk in blocks:
        mask[blk.w_off:blk.w_off + blk.nnz] = 1.0
    return mask


def _groups(net: Network, ids: list[str]) -> list[Group]:
    """The block's columns grouped by (activation, is an output)."""
    by_act: dict[tuple[str, bool], list[int]] = {}
    for j, nid in enumerate(ids):
        n = net.neurons[nid]
        by_act.setdefault((n.activation, n.role == "output"), []).append(j)
    groups = []
    for (act, is_out), js in by_act.items():
        sel: Columns = slice(0, len(ids)) if len(js) == len(ids) else np.array(js, dtype=np.intp)
        slopes = np.array([net.neurons[ids[j]].slope for j in js])
        slope: Array | float = slopes
        if np.all(slopes == slopes[0]):
            slope = float(slopes[0]) if slopes.size else acts.DEFAULT_LEAKY_SLOPE
        groups.append(Group(act, sel, slope, is_out))
    return groups

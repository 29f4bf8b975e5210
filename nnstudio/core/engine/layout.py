"""Compiling a network into blocks: which neurons are evaluated together, and where every
parameter sits in the engine's flat parameter vector.

The image layers come first, as :class:`ImageBlock` objects in source order (only the layers
reached from an image input): an image input reads its columns of the data (the first data
columns, image after image, in the network's image-layer order), a convolution or pooling
layer runs the :mod:`nnstudio.core.conv` kernel of its shape on its source's output, and a
flatten hands its source's maps to the dense part as the values of its feature neurons.

Then the dense part. Block 0 holds the input neurons (in the network's input order, which is
the order of the data columns after the images), then one *feature block* per flatten (its
feature neurons, whose values are the flatten's output: no sum, no parameters), then one block
per depth level (depth-0 neurons that are not inputs, such as a bias-only neuron, form their
own block first). A block's sources are always in earlier blocks. For each block the weights
form a matrix ``W (n_sources, n_block)``; in a dense layered network the sources are exactly
the previous block, so forward and backward are one matrix product each and no array is copied.

All parameters live in one flat float64 vector: first every convolution's packed filters
``(filters, channels·k·k + 1)`` (so a filter's values are a view of the vector), then block by
block the present weights in row-major (source, target) order and the block's biases.
Last come the trainable leaky slopes (parametric ReLU, ``"h1:slope"``), block by block: a
group of leaky neurons with such slopes reads them from the vector on every pass
(:func:`bound`), and the backward pass writes dL/dslope = Σ dL/da · min(z, 0) there.
``param_ids[i]`` and ``slots[i]`` name parameter ``i`` in the network (a connection id, a
neuron id, a filter parameter id or a slope's id) and its slot in the network's ParamStore;
``weight_mask[i]`` is 1.0 when it is a weight (of a connection or a filter) and 0.0 when it is
a bias or a slope; ``param_layers`` groups them by layer for the views (one entry per
convolution, then per dense block with parameters; the slopes are in none).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .. import activations as acts
from ..conv import Conv2D, Pool2D
from ..conv import Flatten as FlattenShape
from ..derived_inputs import check_derived
from ..network import (
    PASS_THROUGH_ROLES,
    Convolution,
    ImageInput,
    ImageShape,
    Network,
    slope_param_id,
)

Array = np.ndarray
#: the columns of a block a selection covers: all of them (a slice) or some (an index array)
Columns = slice | Array


class EngineError(ValueError):
    """The network cannot be evaluated as it is (no inputs, no outputs, data shape mismatch)."""


@dataclass
class Group:
    """Columns of one block that share an activation. With trainable leaky slopes,
    ``slope`` is one per column and the ones at ``slope_at`` (positions among the group's
    columns) are read from the parameter vector at ``slope_pos``; ``slope_cols`` are those
    neurons' columns in the block."""

    activation: str
    cols: Columns
    slope: Array | float
    output: bool  # output neurons: their dL/dz comes from the loss stage
    slope_at: Array | None = None
    slope_pos: Array | None = None
    slope_cols: Array | None = None


def bound(g: Group, params: Array) -> Group:
    """``g`` with its trainable slopes' current values from ``params`` (``g`` itself when it
    has none)."""
    if g.slope_pos is None:
        return g
    assert g.slope_at is not None
    slope = np.array(g.slope, dtype=np.float64)
    slope[g.slope_at] = params[g.slope_pos]
    return replace(g, slope=slope)


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
    feature: int | None = None  # a feature block: the index of its flatten's image block

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass
class ImageBlock:
    """One image layer, computed a whole batch at a time by the kernels of its shape."""

    id: str
    kind: str                  # "image_input" | "convolution" | "pooling" | "flatten"
    shape: ImageShape          # (C, H, W) for an image input, else the core.conv object
    source: int                # the image block it reads (-1: an image input reads the data)
    column: int = 0            # an image input: its first data column
    p_off: int = 0             # a convolution: where its packed parameters start ...
    n_params: int = 0          # ... and how many there are
    group: Group | None = None  # a convolution's activation
    feature_block: int = -1    # a flatten: the dense block holding its feature neurons
    need_input_grad: bool = False  # does its source need dL/da (it is not an image input)?

    @property
    def out_maps(self) -> tuple[int, int, int]:
        """(maps, height, width) of its output (a flatten: the maps it flattens)."""
        shape = self.shape
        if isinstance(shape, tuple):
            return shape
        if isinstance(shape, FlattenShape):
            return shape.in_shape
        return shape.out_shape


@dataclass
class ParamLayer:
    """Parameters that belong together in the views: a convolution's filters, or a dense
    block's weights and biases (``offset .. offset + count - 1`` of the flat vector)."""

    kind: str                  # "convolution" | "dense"
    name: str                  # a convolution's id; "" for a dense block
    ids: list[str]             # a dense block's neurons; [] for a convolution
    depth: int
    offset: int
    count: int


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
    out_slopes: Array                  # each output's leaky slope (fixed ones)
    out_slope_at: Array                # outputs whose slope is trainable ...
    out_slope_pos: Array               # ... and where it sits in the parameter vector
    out_dz: dict[int, list[tuple[int, int]]]  # block -> [(column, output k)] for backward
    weight_mask: Array                 # 1.0 at each weight of the parameter vector, 0.0 at
                                       # each bias (what regularization penalises)
    image_blocks: list[ImageBlock]     # the image layers, sources first
    image_columns: int                 # the data columns the image inputs read (the first ones)
    image_inputs: list[tuple[str, tuple[int, int, int]]]  # every image input's id and shape
    param_layers: list[ParamLayer]     # the parameters by layer, in vector order
    # block 0 (the input neurons): where the data inputs sit (the i-th takes data input
    # column i), and each derived input's place and formula (nnstudio.core.derived_inputs)
    data_input_pos: Array
    derived: list[tuple[int, str]]


def _image_blocks(net: Network, param_ids: list[str], slots: list[int],
                  block_of_param: list[int]) -> tuple[list[ImageBlock],
                                                      list[tuple[str, tuple[int, int, int]]],
                                                      int]:
    """The image blocks of ``net`` (appending the convolutions' parameters), every image
    input, and the data columns they take."""
    columns: dict[str, int] = {}
    inputs: list[tuple[str, tuple[int, int, int]]] = []
    col = 0
    for lid, layer in net.image_layers.items():   # the data's order: the layers' order
        if isinstance(layer, ImageInput):
            columns[lid] = col
            inputs.append((lid, layer.shape))
            col += layer.size
    shapes = net.image_shapes()
    blocks: list[ImageBlock] = []
    index: dict[str, int] = {}
    for lid in net.image_order():
        if lid not in shapes:
            continue   # not reached from an image input: nothing to compute
        layer, shape = net.image_layers[lid], shapes[lid]
        src = -1 if layer.source is None else index[layer.source]
        feeds_grad = src >= 0 and blocks[src].kind != "image_input"
        index[lid] = len(blocks)
        if isinstance(layer, Convolution):
            assert isinstance(shape, Conv2D)
            off = len(param_ids)
            param_ids += net.layer_param_ids(lid)
            slots += layer.slots.ravel().tolist()
            block_of_param += [-1] * layer.n_params
            group = Group(layer.activation, slice(None), layer.slope, False)
            blocks.append(ImageBlock(lid, layer.kind, shape, src, p_off=off,
                                     n_params=layer.n_params, group=group,
                                     need_input_grad=feeds_grad))
        elif isinstance(layer, ImageInput):
            blocks.append(ImageBlock(lid, layer.kind, shape, -1, column=columns[lid]))
        else:
            assert isinstance(shape, (Pool2D, FlattenShape))
            blocks.append(ImageBlock(lid, layer.kind, shape, src, need_input_grad=feeds_grad))
    return blocks, inputs, col


def compile_layout(net: Network) -> Layout:
    """The blocks, parameter order and output map of ``net``; raises EngineError if it has
    no input neuron or image input, or no output neuron."""
    inputs = [n.id for n in net.inputs]
    outputs = [n.id for n in net.outputs]
    derived = [(k, n.derive) for k, n in enumerate(net.inputs) if n.derive is not None]
    n_data = len(inputs) - len(derived)
    for k, name in derived:
        problem = check_derived(name, n_data)
        if problem:
            raise EngineError(f"{net.name(inputs[k])}: {problem}")
    data_pos = np.array([k for k, n in enumerate(net.inputs) if n.derive is None],
                        dtype=np.intp)
    param_ids: list[str] = []
    slots: list[int] = []
    block_of_param: list[int] = []
    image_blocks, image_inputs, image_columns = _image_blocks(net, param_ids, slots,
                                                              block_of_param)
    if not inputs and not image_inputs:
        raise EngineError("the network has no input neuron")
    if not outputs:
        raise EngineError("the network has no output neuron")
    layers = net.layers()
    block_ids: list[list[str]] = [inputs]
    depth_of_block = [0]
    features: dict[int, int] = {}   # dense block -> its flatten's image block
    for i, ib in enumerate(image_blocks):
        if ib.kind == "flatten":
            ib.feature_block = len(block_ids)
            features[len(block_ids)] = i
            block_ids.append(net.feature_neurons(ib.id))
            depth_of_block.append(0)
    extra0 = [nid for nid in layers[0]
              if net.neurons[nid].role not in PASS_THROUGH_ROLES] if layers else []
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

    param_layers = [ParamLayer("convolution", ib.id, [], net.image_depths()[ib.id], ib.p_off,
                               ib.n_params) for ib in image_blocks if ib.kind == "convolution"]
    blocks: list[DenseBlock] = []
    off = len(param_ids)
    start = len(inputs)
    # block 0 (inputs) and the feature blocks have no parameters; they are blocks for uniform
    # indexing
    blocks.append(DenseBlock(inputs, 0, [], None, 0, 0, 0, None, None, 0, [], False))
    for b in range(1, len(block_ids)):
        ids = block_ids[b]
        if b in features:
            blocks.append(DenseBlock(ids, start, [], None, 0, off, 0, None, None, off, [],
                                     False, feature=features[b]))
            start += len(ids)
            continue
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
        param_layers.append(ParamLayer("dense", "", ids, depth_of_block[b], w_off, off - w_off))
        start += len(ids)
    # the trainable leaky slopes, block by block
    slope_pos: dict[str, int] = {}
    for b, blk in enumerate(blocks):
        for nid in blk.ids:
            n = net.neurons[nid]
            if n.slope_param:
                assert n.slope_slot is not None
                slope_pos[nid] = off
                param_ids.append(slope_param_id(nid))
                slots.append(n.slope_slot)
                block_of_param.append(b)
                off += 1
    if slope_pos:
        for blk in blocks:
            blk.groups = [_with_slopes(g, blk.ids, slope_pos) for g in blk.groups]
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
        out_slope_at=np.array([k for k, o in enumerate(outputs) if o in slope_pos],
                              dtype=np.intp),
        out_slope_pos=np.array([slope_pos[o] for o in outputs if o in slope_pos],
                               dtype=np.intp),
        out_dz=out_dz, weight_mask=_weight_mask(off, blocks, image_blocks),
        image_blocks=image_blocks, image_columns=image_columns, image_inputs=image_inputs,
        param_layers=param_layers, data_input_pos=data_pos, derived=derived,
    )


def _weight_mask(n_params: int, blocks: list[DenseBlock],
                 image_blocks: list[ImageBlock]) -> Array:
    """1.0 at the weights of ``n_params`` parameters laid out by ``blocks`` and the filters
    of ``image_blocks`` (a filter's weights, not its bias), else 0.0."""
    mask = np.zeros(n_params)
    for blk in blocks:
        mask[blk.w_off:blk.w_off + blk.nnz] = 1.0
    for ib in image_blocks:
        if isinstance(ib.shape, Conv2D):
            packed = mask[ib.p_off:ib.p_off + ib.n_params].reshape(ib.shape.param_shape)
            packed[:, :-1] = 1.0
    return mask


def output_slopes(layout: Layout, params: Array) -> Array:
    """Each output's leaky slope, the trainable ones read from ``params``."""
    if layout.out_slope_pos.size == 0:
        return layout.out_slopes
    slopes = layout.out_slopes.copy()
    slopes[layout.out_slope_at] = params[layout.out_slope_pos]
    return slopes


def _with_slopes(g: Group, ids: list[str], slope_pos: dict[str, int]) -> Group:
    """``g`` knowing where its trainable slopes are (``slope_pos``: neuron id -> position in
    the parameter vector)."""
    cols = np.arange(len(ids))[g.cols]
    at = [k for k, c in enumerate(cols) if ids[c] in slope_pos]
    if not at:
        return g
    slope = np.broadcast_to(np.asarray(g.slope, dtype=np.float64), cols.shape).copy()
    return replace(g, slope=slope, slope_at=np.array(at, dtype=np.intp),
                   slope_pos=np.array([slope_pos[ids[cols[k]]] for k in at], dtype=np.intp),
                   slope_cols=cols[at])


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

"""The export plan: a network seen as a sequence of layers that every exporter writes out.

An :class:`ExportPlan` is built from the network's public API only (neurons, connections,
depths); it is the one description the PyTorch, NumPy and ONNX writers share, so they cannot
disagree about what the network computes.

Rules
-----
* Layer 0 is the input neurons, in the network's input order (the dataset's column order
  after any image's pixels).
* Then the image layers reached from an image input, each after its source (an image input,
  a convolution, a pooling and a flatten layer: :class:`ImageInputLayer`, :class:`ConvLayer`,
  :class:`PoolLayer`, :class:`FlattenLayer`). An image input reads its pixels from the data's
  first columns (image after image); a flatten's columns are its feature neurons, which the
  dense layers read like any other layer's.
* Every other layer is a set of neurons at one depth that share an activation (and, for leaky
  ReLU, a slope): a depth whose neurons differ in activation becomes several layers. Within a
  layer the neurons keep the canvas order (top to bottom).
* A layer's input is the concatenation of its *sources*: earlier layers, whole or a subset of
  their columns, in layer order. Its weight matrix is ``(inputs, neurons)``; where a source
  neuron has no connection to a neuron, the weight is 0 and ``present`` is False, so every
  exporter holds it at 0 (a layered, fully connected network has no such gap).
* Softmax neurons are outputs and act as one group: a softmax layer's values are its raw sums;
  the output stage applies one softmax across every softmax output, as the engine does.
* ``fused`` names the stable loss form the engine uses when every output pairs with the loss:
  ``"sigmoid"`` (binary cross-entropy from the raw sums) or ``"softmax"`` (categorical
  cross-entropy from the raw sums); None otherwise.

Adding a layer kind (convolution, pooling) means: a new layer class here built by
:func:`build`, and one renderer for it in each writer's table (``pytorch.LAYER_WRITERS``,
``numpy_script.LAYER_WRITERS``, ``onnx_export.LAYER_WRITERS``). A writer meeting a kind it has
no renderer for refuses with a message naming the layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from .. import activations, losses
from ..conv import Conv2D, Pool2D
from ..network import PASS_THROUGH_ROLES, Convolution, Flatten, ImageInput, Network, Pooling

Array = np.ndarray
T = TypeVar("T")


class ExportError(ValueError):
    """The project cannot be exported as it is (or a needed package is missing); one line."""


@dataclass(frozen=True)
class Source:
    """Columns of an earlier layer feeding a layer: ``columns`` None means all of them."""

    layer: int
    columns: tuple[int, ...] | None

    def width(self, plan: ExportPlan) -> int:
        return plan.layers[self.layer].size if self.columns is None else len(self.columns)


@dataclass
class InputLayer:
    """The input neurons, in the network's order. The data inputs take the data's columns in
    their order; a derived input (``derive[j]`` not None: x1², x1·x2, sin x1, ...) takes none,
    its value is that formula of the data's first two columns (:mod:`nnstudio.core.
    derived_inputs`), which every writer computes first."""

    index: int
    neuron_ids: list[str]
    labels: list[str]
    derive: list[str | None] = field(default_factory=list)
    first_column: int = 0    # the data column of the first data input (after any pixels)
    kind: str = "input"

    @property
    def size(self) -> int:
        return len(self.neuron_ids)

    @property
    def n_data(self) -> int:
        """The data columns the network reads (its model input's width)."""
        return sum(d is None for d in self.derive) if self.derive else self.size

    @property
    def derived(self) -> bool:
        return any(d is not None for d in self.derive)

    @property
    def data_labels(self) -> list[str]:
        if not self.derive:
            return list(self.labels)
        return [lab for lab, d in zip(self.labels, self.derive, strict=True) if d is None]

    def pieces(self) -> list[list[int] | str]:
        """How the input neurons' values are made from the data, in order: a list of data
        columns for a run of data inputs, a derived input's name for each derived one."""
        out: list[list[int] | str] = []
        col = self.first_column
        for d in self.derive or [None] * self.size:
            if d is not None:
                out.append(d)
                continue
            last = out[-1] if out else None
            if isinstance(last, list):
                last.append(col)
            else:
                out.append([col])
            col += 1
        return out


@dataclass
class DenseLayer:
    """Neurons of one depth and one activation: ``a = f(concat(sources) @ weight + bias)``."""

    index: int
    depth: int
    neuron_ids: list[str]
    labels: list[str]
    activation: str
    slope: float                      # leaky ReLU's slope (the default for other activations)
    sources: list[Source]
    weight: Array                     # (inputs, neurons); 0 where no connection is present
    present: Array                    # (inputs, neurons) bool: is there a connection?
    weight_trainable: Array           # (inputs, neurons) bool; False where none is present
    connection_ids: list[list[str | None]]  # [input][neuron], None where none is present
    bias: Array                       # (neurons,)
    bias_trainable: Array             # (neurons,) bool
    kind: str = "dense"

    @property
    def size(self) -> int:
        return len(self.neuron_ids)

    @property
    def n_inputs(self) -> int:
        return self.weight.shape[0]

    @property
    def fully_connected(self) -> bool:
        return bool(self.present.all())

    @property
    def locked_weights(self) -> Array:
        """(inputs, neurons) bool: connections that are present and locked."""
        return self.present & ~self.weight_trainable


@dataclass
class ImageInputLayer:
    """An image input: its ``shape`` (C, H, W) of pixels from data columns ``column`` on."""

    index: int
    id: str
    label: str
    shape: tuple[int, int, int]
    column: int
    kind: str = "image_input"

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return self.shape

    @property
    def size(self) -> int:
        c, h, w = self.shape
        return c * h * w


class _MapsLayer:
    """What a layer whose ``shape`` is a :mod:`nnstudio.core.conv` shape gives: its output
    maps' shape and their number of values."""

    shape: Conv2D | Pool2D

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return self.shape.out_shape

    @property
    def size(self) -> int:
        return int(np.prod(self.out_shape))


@dataclass
class ConvLayer(_MapsLayer):
    """A convolution: ``z = conv(source, weight, stride, pads) + bias``, then its activation.
    ``weight`` (F, C, k, k) and ``bias`` (F,) are NN Studio's; ``trainable`` (F,) says which
    filters training moves (a filter is locked whole); ``param_ids`` are the network's ids of
    the packed parameters (filter after filter: its weights, then its bias)."""

    index: int
    id: str
    label: str
    source: int
    shape: Conv2D
    weight: Array
    bias: Array
    trainable: Array
    activation: str
    slope: float
    param_ids: list[str]
    kind: str = "convolution"


@dataclass
class PoolLayer(_MapsLayer):
    """Max or average pooling of ``shape.window`` windows at ``shape.stride`` (no padding)."""

    index: int
    id: str
    label: str
    source: int
    shape: Pool2D
    kind: str = "pooling"


@dataclass
class FlattenLayer:
    """Its source's maps as one row per sample, channel by channel, each row by row: the
    values of its feature neurons ``neuron_ids``, which dense layers read."""

    index: int
    id: str
    label: str
    source: int
    neuron_ids: list[str]
    labels: list[str]
    kind: str = "flatten"

    @property
    def size(self) -> int:
        return len(self.neuron_ids)


ImageLayer = ImageInputLayer | ConvLayer | PoolLayer | FlattenLayer
ColumnLayer = InputLayer | FlattenLayer | DenseLayer   # a layer of neurons: dense layers read it
Layer = InputLayer | ImageLayer | DenseLayer


@dataclass
class ExportPlan:
    layers: list[Layer]
    outputs: list[tuple[int, int]]    # (layer, column) of each output neuron, in target order
    output_ids: list[str]
    output_labels: list[str]
    softmax: list[int]                # positions among the outputs of the softmax group
    output_activations: list[str]
    fused: str | None = None          # the loss's stable form from raw sums (see the docstring)
    loss: str = "mse"
    where: dict[str, tuple[int, int]] = field(default_factory=dict)  # neuron -> (layer, col)

    @property
    def input_layer(self) -> InputLayer:
        layer = self.layers[0]
        assert isinstance(layer, InputLayer)
        return layer

    @property
    def n_inputs(self) -> int:
        """The data columns the model reads (its input's width: every image's pixels, then
        one per data input; derived inputs take none)."""
        return self.image_columns + self.input_layer.n_data

    @property
    def image_columns(self) -> int:
        return self.input_layer.first_column

    def image_layers(self) -> list[ImageLayer]:
        return [layer for layer in self.layers
                if isinstance(layer, (ImageInputLayer, ConvLayer, PoolLayer, FlattenLayer))]

    def convolutions(self) -> list[ConvLayer]:
        return [layer for layer in self.layers if isinstance(layer, ConvLayer)]

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    def column_layer(self, index: int) -> ColumnLayer:
        """Layer ``index``, a layer of neurons (what a dense layer's source always is)."""
        layer = self.layers[index]
        assert isinstance(layer, (InputLayer, FlattenLayer, DenseLayer))
        return layer

    def dense_layers(self) -> list[DenseLayer]:
        return [layer for layer in self.layers if isinstance(layer, DenseLayer)]

    def is_sequential(self) -> bool:
        """True for a layered chain: every layer fed by the whole layer before it, the last
        layer holding exactly the outputs in order (a plain ``nn.Sequential`` shape)."""
        for layer in self.layers[1:]:
            if not (isinstance(layer, DenseLayer) and len(layer.sources) == 1
                    and layer.sources[0] == Source(layer.index - 1, None)):
                return False
        last = len(self.layers) - 1
        return last > 0 and self.outputs == [(last, j) for j in range(self.layers[last].size)]

    def parameter_ids(self) -> list[str]:
        """Every parameter the plan holds: filter parameter ids, connection ids and non-input
        neuron ids."""
        ids: list[str] = [pid for conv in self.convolutions() for pid in conv.param_ids]
        for layer in self.dense_layers():
            ids += [cid for row in layer.connection_ids for cid in row if cid is not None]
            ids += layer.neuron_ids
        return ids


@dataclass
class LayerStep:
    """One layer's line(s) in a forward pass: what it reads and which names it binds."""

    layer: DenseLayer
    inputs: list[tuple[str, list[int]]]  # runs of (tensor, columns) concatenated as its input
    z: str | None                        # the name of its raw sums, when they are read by name
    a: str | None                        # the name of its activations (== z for identity)


@dataclass
class ImageStep:
    """One image layer in a forward pass: it reads the tensor ``source`` (an image input: the
    model's input, the data) and binds ``out``: maps (rows, C, H, W), or for a flatten the
    rows of its feature neurons' values (rows, features)."""

    layer: ImageLayer
    source: str
    out: str


@dataclass
class Forward:
    """A forward pass in steps, the same for every writer. ``shared`` is the activation (and
    slope) that every output has, when they share one: ``outputs`` then reads raw sums and the
    writer applies ``shared`` last (a model's ``logits``, which the fused losses need).
    Otherwise ``outputs`` reads activations and, for softmax outputs, the columns of ``p``:
    the one softmax over the raw sums ``softmax_group`` of every softmax output."""

    steps: list[LayerStep]
    outputs: list[tuple[str, list[int]]]
    softmax_group: list[tuple[str, list[int]]]
    shared: tuple[str, float] | None
    width: dict[str, int]                # columns of every named tensor
    derived: bool = False                # x is made from the data first (derived inputs)
    images: list[ImageStep] = field(default_factory=list)  # first, when there are images
    image_columns: int = 0               # the data's pixel columns (before the input neurons)
    uses_inputs: bool = True             # does any step read x?

    INPUT = "x"       # every input neuron's value, in the network's order
    DATA = "data"     # the model's input (when x is made from it: images, derived inputs)
    SOFTMAX = "p"

    @property
    def param(self) -> str:
        """The name of the model's input in the forward pass."""
        return self.DATA if self.derived or self.images or self.image_columns else self.INPUT


def forward(plan: ExportPlan, logits: bool = False) -> Forward:
    """The steps of ``plan``'s forward pass: only the layers an output depends on, each binding
    ``z<i>`` and/or ``a<i>`` as later steps and the outputs need them. With ``logits`` the
    outputs are every output neuron's raw sum z, before its activation (what the exact
    cross-entropies read)."""
    layers = plan.layers
    kinds = {(layer.activation, layer.slope) for layer in
             (layers[li] for li, _ in plan.outputs) if isinstance(layer, DenseLayer)}
    shared = kinds.pop() if len(kinds) == 1 else None
    if shared is not None and shared[0] == "identity":
        shared = None  # the outputs are their raw sums: nothing to apply last
    need_a: set[int] = set()
    need_z: set[int] = set()
    for k, (li, _) in enumerate(plan.outputs):
        if logits or shared is not None or k in plan.softmax:
            need_z.add(li)
        else:
            need_a.add(li)
    for layer in reversed(plan.dense_layers()):
        if layer.index in need_a or layer.index in need_z:
            need_a.update(s.layer for s in layer.sources)
    for image in reversed(plan.image_layers()):  # the maps the read flattens need
        if image.index in need_a and not isinstance(image, ImageInputLayer):
            need_a.add(image.source)
    width = {Forward.INPUT: plan.layers[0].size, Forward.SOFTMAX: len(plan.softmax)}

    def a_name(li: int) -> str:
        if li == 0:
            return Forward.INPUT
        layer = layers[li]
        if isinstance(layer, FlattenLayer):
            return f"a{li}"
        if not isinstance(layer, DenseLayer):
            return f"m{li}"
        return f"z{li}" if layer.activation == "identity" and li in need_z else f"a{li}"

    images = []
    param = Forward.DATA if plan.image_columns or plan.input_layer.derived else Forward.INPUT
    for image in plan.image_layers():
        if image.index in need_a:
            src = param if isinstance(image, ImageInputLayer) else a_name(image.source)
            images.append(ImageStep(image, src, a_name(image.index)))
            if isinstance(image, FlattenLayer):
                width[a_name(image.index)] = image.size

    steps = []
    for layer in plan.dense_layers():
        li = layer.index
        if li not in need_a and li not in need_z:
            continue
        z = f"z{li}" if li in need_z else None
        a = a_name(li) if li in need_a else None
        for name in (z, a):
            if name is not None:
                width[name] = layer.size
        inputs = [(a_name(s.layer), list(s.columns) if s.columns is not None
                   else list(range(layers[s.layer].size))) for s in layer.sources]
        steps.append(LayerStep(layer, inputs, z, a))
    group = [(f"z{plan.outputs[k][0]}", plan.outputs[k][1]) for k in plan.softmax]
    derived, pixels = plan.input_layer.derived, plan.image_columns
    uses = any(name == Forward.INPUT for st in steps for name, _ in st.inputs)
    if logits:
        return Forward(steps, runs([(f"z{li}", col) for li, col in plan.outputs]), [], None,
                       width, derived, images, pixels, uses)
    picks: list[tuple[str, int]] = []
    for k, (li, col) in enumerate(plan.outputs):
        if shared is not None:
            picks.append((f"z{li}", col))
        elif k in plan.softmax:
            picks.append((Forward.SOFTMAX, plan.softmax.index(k)))
        else:
            picks.append((a_name(li), col))
    return Forward(steps, runs(picks), runs(group) if shared is None else [], shared, width,
                   derived, images, pixels, uses)


def runs(columns_of: Sequence[tuple[str, int]]) -> list[tuple[str, list[int]]]:
    """Group consecutive ``(tensor, column)`` pairs taken from one tensor with consecutive
    columns: ``[("a2", [0, 1]), ("p", [0])]``."""
    out: list[tuple[str, list[int]]] = []
    for name, col in columns_of:
        if out and out[-1][0] == name and out[-1][1][-1] + 1 == col:
            out[-1][1].append(col)
        else:
            out.append((name, [col]))
    return out


def lookup(table: dict[str, T], key: str, writer: str, what: str) -> T:
    """``table[key]``, or ExportError saying that the ``writer`` export cannot write ``what``
    yet (a layer kind or an activation added to NN Studio before its writers know it)."""
    try:
        return table[key]
    except KeyError:
        raise ExportError(f"the {writer} export cannot write {what} yet") from None


def layer_writer(table: dict[str, T], layer: Layer, writer: str) -> T:
    """A writer's entry for ``layer``'s kind (see :func:`lookup`)."""
    return lookup(table, layer.kind, writer, f"layer{layer.index}, a {layer.kind} layer,")


def build(net: Network, loss: str = "mse") -> ExportPlan:
    """The export plan of ``net``; ``loss`` (a loss name) decides the fused loss form.
    Raises ExportError if the network has no input or no output neuron."""
    if loss not in losses.LOSSES:
        raise ExportError(f"unknown loss {loss!r} (known: {', '.join(losses.NAMES)})")
    inputs = [n.id for n in net.inputs]
    outputs = [n.id for n in net.outputs]
    pixels = sum(lay.size for lay in net.image_layers.values() if isinstance(lay, ImageInput))
    if not inputs and not pixels:
        raise ExportError("the network has no input neuron")
    if not outputs:
        raise ExportError("the network has no output neuron")
    neurons = net.neurons
    layers: list[Layer] = [InputLayer(0, inputs, [neurons[i].label for i in inputs],
                                      [neurons[i].derive for i in inputs], pixels)]
    where: dict[str, tuple[int, int]] = {nid: (0, j) for j, nid in enumerate(inputs)}
    _image_layers(net, layers, where)
    for depth, ids in enumerate(net.layers()):
        groups: dict[tuple[str, float], list[str]] = {}
        for nid in ids:
            n = neurons[nid]
            if n.role in PASS_THROUGH_ROLES:  # inputs, and a flatten's feature neurons
                continue
            slope = n.slope if n.activation == "leaky_relu" else activations.DEFAULT_LEAKY_SLOPE
            groups.setdefault((n.activation, slope), []).append(nid)
        for (act, slope), members in groups.items():
            layer = _dense_layer(net, len(layers), depth, members, act, slope, layers, where)
            for j, nid in enumerate(members):
                where[nid] = (layer.index, j)
            layers.append(layer)
    out_acts = [neurons[o].activation for o in outputs]
    return ExportPlan(
        layers=layers, outputs=[where[o] for o in outputs], output_ids=outputs,
        output_labels=[neurons[o].label for o in outputs],
        softmax=[k for k, a in enumerate(out_acts) if a == "softmax"],
        output_activations=out_acts, fused=losses.fused_form(loss, out_acts), loss=loss,
        where=where,
    )


def _image_layers(net: Network, layers: list[Layer],
                  where: dict[str, tuple[int, int]]) -> None:
    """Append the image layers reached from an image input, each after its source (and map
    each flatten's feature neurons to its columns in ``where``)."""
    column: dict[str, int] = {}
    col = 0
    for lid, lay in net.image_layers.items():   # the data's order: the layers' order
        if isinstance(lay, ImageInput):
            column[lid] = col
            col += lay.size
    shapes = net.image_shapes()
    index: dict[str, int] = {}
    for lid in net.image_order():
        if lid not in shapes:
            continue  # not reached from an image input: it computes nothing
        lay, shape, i = net.image_layers[lid], shapes[lid], len(layers)
        src = -1 if lay.source is None else index[lay.source]
        image: ImageLayer
        if isinstance(lay, ImageInput):
            image = ImageInputLayer(i, lid, lay.label, lay.shape, column[lid])
        elif isinstance(lay, Convolution):
            assert isinstance(shape, Conv2D)
            weight, bias = net.filter_values(lid)
            slope = lay.slope if lay.activation == "leaky_relu" else \
                activations.DEFAULT_LEAKY_SLOPE
            image = ConvLayer(i, lid, lay.label, src, shape, weight, bias,
                              net.filter_trainable(lid), lay.activation, float(slope),
                              net.layer_param_ids(lid))
        elif isinstance(lay, Pooling):
            assert isinstance(shape, Pool2D)
            image = PoolLayer(i, lid, lay.label, src, shape)
        else:
            assert isinstance(lay, Flatten)
            feats = net.feature_neurons(lid)
            image = FlattenLayer(i, lid, lay.label, src, feats,
                                 [net.neurons[f].label for f in feats])
            for j, nid in enumerate(feats):
                where[nid] = (i, j)
        index[lid] = i
        layers.append(image)


def _dense_layer(net: Network, index: int, depth: int, ids: list[str], activation: str,
                 slope: float, layers: list[Layer],
                 where: dict[str, tuple[int, int]]) -> DenseLayer:
    incoming = [net.incoming(nid) for nid in ids]
    by_layer: dict[int, set[int]] = {}
    for conns in incoming:
        for c in conns:
            src_layer, col = where[c.source]
            by_layer.setdefault(src_layer, set()).add(col)
    sources: list[Source] = []
    row_of: dict[str, int] = {}
    for src_layer in sorted(by_layer):
        cols = sorted(by_layer[src_layer])
        src = layers[src_layer]
        assert isinstance(src, (InputLayer, FlattenLayer, DenseLayer))  # (layers of neurons)
        whole = len(cols) == src.size
        sources.append(Source(src_layer, None if whole else tuple(cols)))
        for col in cols:
            row_of[src.neuron_ids[col]] = len(row_of)
    n_in, n = len(row_of), len(ids)
    weight = np.zeros((n_in, n))
    present = np.zeros((n_in, n), dtype=bool)
    trainable = np.zeros((n_in, n), dtype=bool)
    conn_ids: list[list[str | None]] = [[None] * n for _ in range(n_in)]
    rows, cols_, slots = [], [], []
    for j, conns in enumerate(incoming):
        for c in conns:
            i = row_of[c.source]
            rows.append(i)
            cols_.append(j)
            slots.append(c.slot)
            conn_ids[i][j] = c.id
    # the values straight from the parameter store, one vectorised read per layer
    weight[rows, cols_] = net.store.values[slots]
    trainable[rows, cols_] = net.store.trainable[slots]
    present[rows, cols_] = True
    neurons = net.neurons
    return DenseLayer(
        index=index, depth=depth, neuron_ids=list(ids), labels=[neurons[i].label for i in ids],
        activation=activation, slope=float(slope), sources=sources, weight=weight,
        present=present, weight_trainable=trainable, connection_ids=conn_ids,
        bias=np.array([neurons[i].bias for i in ids], dtype=np.float64),
        bias_trainable=np.array([neurons[i].bias_trainable for i in ids], dtype=bool),
    )


__all__ = ["ExportPlan", "ExportError", "DenseLayer", "InputLayer", "ImageInputLayer",
           "ConvLayer", "PoolLayer", "FlattenLayer", "ImageLayer", "ImageStep", "Source",
           "Forward", "LayerStep", "build", "forward", "layer_writer", "lookup", "runs"]

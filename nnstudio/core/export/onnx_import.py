"""Open an ONNX model as an ordinary NN Studio network (through the optional ``onnx`` package).

A feed-forward model built from the operations NN Studio can represent becomes a
:class:`~nnstudio.core.network.Network` (or a whole untitled :class:`Project`): ``Gemm``, or
``MatMul`` + ``Add``, gives the weights and biases of new neurons; ``Relu``, ``LeakyRelu``,
``Sigmoid``, ``Tanh``, ``Softplus`` and ``Softmax`` their activation (``PRelu`` with constant
slopes is leaky ReLU too, and ``Relu(Sign(z))`` the binary step); ``Identity``, ``Cast``
between float types, ``Flatten`` of rows and the routing NN Studio's own export writes
(``Concat`` and ``Gather`` of columns) pass values through; ``Mul`` by a constant scales, and
``Mul`` and ``Sin`` of the model input's first two columns are NN Studio's derived inputs (x1²,
x2², x1·x2, sin x1, sin x2). A convolutional front (an image input, ``Conv``, ``MaxPool``,
``AveragePool``, ``Flatten`` or ``Reshape``) becomes image layers, read by
:mod:`.onnx_images`. A layer with no activation between
two matrix products becomes identity neurons. Every weight of a matrix becomes a connection (0
included), so the network computes what the model computes.

Anything else is refused with :class:`OnnxImportError`, one line naming the node and the
operation (``node 'lstm1' (LSTM): NN Studio cannot represent this operation …``), or the
problem with the file; nothing is built then. The file is untrusted:

* it is read with a size limit and parsed as protobuf; nothing in it is executed;
* tensors stored in external files are refused (no other file is ever opened), and so are
  sparse initializers, functions and operators of other domains;
* sizes are bounded before anything is decoded: the number of nodes, every tensor's values,
  and the neurons and connections a project may hold;
* the input must be rows x inputs with a fixed number of inputs, or rows x channels x
  height x width images of a fixed size (the rows may be dynamic); any other dynamic shape is
  refused.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import files
from ..datasets import Dataset, ImageColumns, image_column_names
from ..derived_inputs import DERIVED
from ..network import Network, NetworkError
from ..project import MAX_CONNECTIONS, MAX_NEURONS, Project
from ..project.network_section import MAX_LABEL_LENGTH
from ..trainer import TrainSettings
from .onnx_images import ImageImportError, ImageLayers, Maps, reshape_target
from .source import comment_text

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NODES = 20_000
MAX_TENSOR_VALUES = 4 * MAX_CONNECTIONS   # values in one tensor, and in all of them together
FLOAT_TYPES = {1: "float32", 11: "float64"}  # TensorProto.FLOAT, DOUBLE
INT_TYPES = {6: "int32", 7: "int64"}
EXTERNAL = 1                                 # TensorProto.EXTERNAL
SUPPORTED = ("Gemm", "MatMul", "Add", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus",
             "Softmax", "PRelu", "Sign", "Identity", "Cast", "Flatten", "Concat", "Gather",
             "Constant", "Mul", "Sin", "Conv", "MaxPool", "AveragePool", "Reshape")
#: what the refusal of another operation lists
SHOWN = ("Gemm", "MatMul", "Add", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Softmax",
         "Conv", "MaxPool", "AveragePool", "Flatten")
#: operations that pass feature maps through unchanged
MAP_PASSES = ("Identity", "Cast")
# the derived inputs (nnstudio.core.derived_inputs) as operations on the model input's first
# two columns: (operator, the data columns it reads, in order) -> name
DERIVED_OPS = {("Mul", (0, 0)): "x1^2", ("Mul", (1, 1)): "x2^2", ("Mul", (0, 1)): "x1*x2",
               ("Mul", (1, 0)): "x1*x2", ("Sin", (0,)): "sin(x1)", ("Sin", (1,)): "sin(x2)"}
IMAGE_DX = 240.0   # the canvas distance between image layers
ACTIVATION_OPS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Sigmoid": "sigmoid",
                  "Tanh": "tanh", "Softplus": "softplus"}


class OnnxImportError(ValueError):
    """An ONNX file NN Studio cannot open; one line naming the node and operation or the
    problem with the file."""


# ---------------------------------------------------------------------- values, by column
@dataclass(frozen=True, eq=False)
class _Neuron:
    """The activation of a neuron (an input, or one made by this import)."""

    id: str


@dataclass(eq=False)
class _Sum:
    """A weighted sum of neurons plus a bias, not yet passed through an activation."""

    weights: dict[str, float]
    bias: float


@dataclass(frozen=True, eq=False)
class _Sign:
    sum: _Sum
    node: str


@dataclass(frozen=True, eq=False)
class _SoftmaxOut:
    sum: _Sum
    node: str       # the Softmax node (one group: all its columns)
    size: int


_Column = _Neuron | _Sum | _Sign | _SoftmaxOut


@dataclass
class _Spec:
    id: str
    activation: str
    slope: float
    bias: float
    weights: dict[str, float]
    order: int


@dataclass
class _Builder:
    inputs: list[str]
    specs: dict[str, _Spec] = field(default_factory=dict)
    connections: int = 0
    made: dict[int, str] = field(default_factory=dict)   # id(_Sum) -> its identity neuron
    derived: dict[str, str] = field(default_factory=dict)  # derive name -> its input neuron
    images: ImageLayers = field(default_factory=ImageLayers)
    maps: dict[str, Maps] = field(default_factory=dict)    # tensor name -> its feature maps
    readers: dict[str, int] = field(default_factory=dict)  # tensor name -> nodes reading it
    pixels: list[str] = field(default_factory=list)        # the input columns images take

    def count(self) -> int:
        """The neurons made so far (feature neurons included)."""
        return len(self.inputs) + len(self.derived) + len(self.specs) + \
            len(self.images.features)

    def derived_input(self, name: str, where: str) -> _Neuron:
        """The input neuron derived by ``name`` from the data (one per name)."""
        if name not in self.derived:
            if self.count() >= MAX_NEURONS:
                raise OnnxImportError(f"{where}: the model needs more than {MAX_NEURONS} "
                                      "neurons, the most a project holds")
            self.derived[name] = f"d{len(self.derived) + 1}"
        return _Neuron(self.derived[name])

    def neuron(self, activation: str, s: _Sum, slope: float, where: str) -> _Neuron:
        if self.count() >= MAX_NEURONS:
            raise OnnxImportError(f"{where}: the model needs more than {MAX_NEURONS} neurons, "
                                  "the most a project holds")
        self.connections += len(s.weights)
        if self.connections > MAX_CONNECTIONS:
            raise OnnxImportError(f"{where}: the model needs more than {MAX_CONNECTIONS} "
                                  "connections, the most a project holds")
        nid = f"h{len(self.specs) + 1}"
        self.specs[nid] = _Spec(nid, activation, slope, s.bias, s.weights, len(self.specs))
        return _Neuron(nid)


def _as_sum(col: _Column, where: str, op: str) -> _Sum:
    if isinstance(col, _Sum):
        return col
    if isinstance(col, _Neuron):
        return _Sum({col.id: 1.0}, 0.0)
    raise _not_here(col, where, op)


def _not_here(col: _Column, where: str, op: str) -> OnnxImportError:
    if isinstance(col, _SoftmaxOut):
        return OnnxImportError(f"{where} ({op}) reads the output of {col.node} (Softmax); "
                               "NN Studio applies softmax only to the output neurons")
    assert isinstance(col, _Sign)
    return OnnxImportError(f"{where} ({op}) reads the output of {col.node} (Sign); NN Studio "
                           "represents Sign only under a Relu (its binary step)")


def _neurons(b: _Builder, cols: list[_Column], where: str, op: str) -> list[str]:
    """The neuron of each column, making identity neurons for sums (once per sum)."""
    out = []
    for col in cols:
        if isinstance(col, _Neuron):
            out.append(col.id)
        elif isinstance(col, _Sum):
            nid = b.made.get(id(col))
            if nid is None:
                nid = b.made[id(col)] = b.neuron("identity", col, 0.01, where).id
            out.append(nid)
        else:
            raise _not_here(col, where, op)
    return out


def _affine(b: _Builder, cols: list[_Column], weight: np.ndarray, bias: np.ndarray,
            where: str, op: str) -> list[_Column]:
    """The columns ``cols @ weight + bias`` as weighted sums of neurons."""
    src = _neurons(b, cols, where, op)
    if len(set(src)) == len(src):
        return [_Sum(dict(zip(src, weight[:, j].tolist(), strict=True)), float(bias[j]))
                for j in range(weight.shape[1])]
    out: list[_Column] = []
    for j in range(weight.shape[1]):
        w: dict[str, float] = {}
        for nid, v in zip(src, weight[:, j].tolist(), strict=True):
            w[nid] = w.get(nid, 0.0) + v
        out.append(_Sum(w, float(bias[j])))
    return out


# ---------------------------------------------------------------------- reading the file
def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise OnnxImportError("opening an ONNX model needs the optional onnx package: pip "
                              "install 'nnstudio[onnx]' (or pip install onnx)") from None
    return onnx


def _shown(name: str) -> str:
    return repr(comment_text(name, 60))


def _node_name(node: Any, k: int) -> str:
    return f"node {_shown(node.name)}" if node.name else f"node #{k + 1}"


class _Reader:
    def __init__(self, onnx: Any, model: Any):
        self.onnx = onnx
        self.model = model
        self.total_values = 0

    def tensor(self, t: Any, what: str) -> np.ndarray:
        """A TensorProto's values, checked before decoding (bounded, inline, numeric)."""
        if t.data_location == EXTERNAL or len(t.external_data):
            raise OnnxImportError(f"{what} keeps its values in an external file; NN Studio "
                                  "opens only self-contained models")
        if t.data_type not in FLOAT_TYPES and t.data_type not in INT_TYPES:
            raise OnnxImportError(f"{what} has values of type {_type_name(self.onnx, t.data_type)};"
                                  " NN Studio reads float32, float64 and integer constants")
        dims = list(t.dims)
        if any(d < 0 for d in dims) or len(dims) > 4:
            raise OnnxImportError(f"{what} has an invalid shape {dims}")
        n = math.prod(dims)
        self.total_values += n
        if n > MAX_TENSOR_VALUES or self.total_values > MAX_TENSOR_VALUES:
            raise OnnxImportError(f"{what} is too large: more than {MAX_TENSOR_VALUES} values")
        try:
            arr = np.array(self.onnx.numpy_helper.to_array(t))
        except Exception as e:  # a malformed tensor (raw data of the wrong length, ...)
            raise OnnxImportError(f"{what} is malformed: {' '.join(str(e).split())[:200]}") \
                from None
        if arr.size != n:
            raise OnnxImportError(f"{what} is malformed: {arr.size} values for shape {dims}")
        if t.data_type in FLOAT_TYPES:
            arr = arr.astype(np.float64)
            if not np.isfinite(arr).all():
                raise OnnxImportError(f"{what} holds NaN or infinite values")
        return arr


def _type_name(onnx: Any, code: int) -> str:
    try:
        return str(onnx.TensorProto.DataType.Name(code)).lower()
    except ValueError:
        return f"#{code}"


def _parse(onnx: Any, data: bytes) -> Any:
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf's DecodeError, or a message too deep or too large
        raise OnnxImportError("the file is not an ONNX model (it does not parse as one)") \
            from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        raise OnnxImportError("the file is not an ONNX model (it has no graph, IR version or "
                              "opset)")
    return model


def _opset(model: Any) -> int:
    for op in model.opset_import:
        if op.domain in ("", "ai.onnx"):
            return int(op.version)
    raise OnnxImportError("the model imports no version of the standard ONNX operators")


def _input_shape(vi: Any) -> int | tuple[int, ...]:
    """The number of inputs of the graph input ``vi`` (rows x inputs), or its images' shape
    (C, H, W) (rows x channels x height x width); the rows may be dynamic."""
    name = _shown(vi.name)
    tt = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
    if tt is None:
        raise OnnxImportError(f"the input {name} is not a tensor")
    if tt.elem_type not in FLOAT_TYPES:
        raise OnnxImportError(f"the input {name} has elements of type #{tt.elem_type}; NN "
                              "Studio reads float32 or float64 inputs")
    if not tt.HasField("shape"):
        raise OnnxImportError(f"the input {name} has a dynamic shape (none is given); NN "
                              "Studio needs rows x a fixed number of inputs")
    dims = ["?" if not d.HasField("dim_value") else d.dim_value for d in tt.shape.dim]
    shown = "[" + ", ".join(str(d) for d in dims) + "]"
    if len(dims) == 4:
        if not all(isinstance(d, int) and d > 0 for d in dims[1:]):
            raise OnnxImportError(f"the input {name} has a dynamic shape {shown}; NN Studio "
                                  "needs images of a fixed size")
        return tuple(int(d) for d in dims[1:])
    if len(dims) != 2:
        raise OnnxImportError(f"the input {name} has shape {shown}; NN Studio networks take "
                              "rows of numbers (rows x inputs) or of images (rows x channels x "
                              "height x width)")
    if not isinstance(dims[1], int) or dims[1] <= 0:
        raise OnnxImportError(f"the input {name} has a dynamic shape {shown}; NN Studio "
                              "needs a fixed number of inputs")
    if dims[1] > MAX_NEURONS:
        raise OnnxImportError(f"the input {name} has {dims[1]} columns, more than the "
                              f"{MAX_NEURONS} neurons a project holds")
    return int(dims[1])


def _attrs(onnx: Any, node: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH or a.type == onnx.AttributeProto.GRAPHS:
            out[a.name] = None  # (subgraphs belong to control flow, refused by op type)
        elif a.type == onnx.AttributeProto.TENSOR:
            out[a.name] = a.t
        else:
            out[a.name] = onnx.helper.get_attribute_value(a)
    return out


def _labels(model: Any, key: str, n: int, default: list[str]) -> list[str]:
    """Labels NN Studio's export stored in the model's properties, when they are usable."""
    for prop in model.metadata_props:
        if prop.key == key and len(prop.value) <= 100_000:
            try:
                labels = json.loads(prop.value)
            except ValueError:
                return default
            if isinstance(labels, list) and len(labels) == n and all(
                    isinstance(s, str) and s.isprintable()
                    and 0 < len(s.strip()) <= MAX_LABEL_LENGTH for s in labels):
                return [s.strip() for s in labels]
            return default
    return default


def parse(data: bytes) -> Network:
    """The network of an ONNX model's bytes. Raises OnnxImportError (one line)."""
    return _convert(_require_onnx(), data)[0]


def _convert(onnx: Any, data: bytes) -> tuple[Network, Any]:
    model = _parse(onnx, data)
    opset = _opset(model)
    g = model.graph
    if len(model.functions):
        raise OnnxImportError("the model defines its own functions; NN Studio opens models of "
                              "standard operators only")
    if len(g.sparse_initializer):
        raise OnnxImportError("the model has sparse initializers; NN Studio opens dense "
                              "tensors only")
    if len(g.node) > MAX_NODES:
        raise OnnxImportError(f"the model has {len(g.node)} nodes, more than the limit of "
                              f"{MAX_NODES}")
    reader = _Reader(onnx, model)
    consts: dict[str, np.ndarray] = {}
    for t in g.initializer:
        consts[t.name] = reader.tensor(t, f"the initializer {_shown(t.name)}")
    data_inputs = [vi for vi in g.input if vi.name not in consts]
    if len(data_inputs) != 1:
        raise OnnxImportError(f"the model has {len(data_inputs)} inputs; NN Studio opens "
                              "models with exactly one (rows x inputs)")
    if len(g.output) != 1:
        raise OnnxImportError(f"the model has {len(g.output)} outputs; NN Studio opens models "
                              "with exactly one (rows x outputs)")
    shape = _input_shape(data_inputs[0])
    values: dict[str, list[_Column]] = {}
    if isinstance(shape, int):
        b = _Builder([f"x{i + 1}" for i in range(shape)])
        values[data_inputs[0].name] = [_Neuron(i) for i in b.inputs]
    else:
        b = _Builder([])
        try:
            b.maps[data_inputs[0].name] = b.images.image_input(shape, "image")
        except ImageImportError as e:
            raise OnnxImportError(f"the input {_shown(data_inputs[0].name)}: {e}") from None
    for node in g.node:
        for name in node.input:
            b.readers[name] = b.readers.get(name, 0) + 1
    out_name = g.output[0].name
    b.readers[out_name] = b.readers.get(out_name, 0) + 1   # (the graph's output reads it too)
    for k, node in enumerate(g.node):
        _step(onnx, reader, b, node, k, opset, values, consts)
    if out_name in b.maps:
        raise OnnxImportError(f"the output {_shown(out_name)} is feature maps; NN Studio's "
                              "outputs are neurons (a Flatten and a Gemm make them)")
    if out_name not in values:
        raise OnnxImportError(f"the output {_shown(out_name)} is not computed from the input")
    net = _network(b, values[out_name], model)
    return net, model


def _step(onnx: Any, reader: _Reader, b: _Builder, node: Any, k: int, opset: int,
          values: dict[str, list[_Column]], consts: dict[str, np.ndarray]) -> None:
    where, op = _node_name(node, k), node.op_type
    if node.domain not in ("", "ai.onnx") or op not in SUPPORTED:
        dom = f" of domain {_shown(node.domain)}" if node.domain not in ("", "ai.onnx") else ""
        raise OnnxImportError(f"{where} ({comment_text(op, 40)}{dom}): NN Studio cannot "
                              "represent this operation (it opens "
                              f"{', '.join(SHOWN)} and routing between them)")
    if len(node.output) != 1:
        raise OnnxImportError(f"{where} ({op}) has {len(node.output)} outputs; expected one")
    attrs = _attrs(onnx, node)
    out = node.output[0]
    if op == "Constant":
        consts[out] = _constant(reader, attrs, where)
        return
    ins = list(node.input)
    for name in ins:
        if name and name not in values and name not in consts and name not in b.maps:
            raise OnnxImportError(f"{where} ({op}) reads {_shown(name)}, which no earlier node, "
                                  "input or initializer provides")
    if op == "Cast" and ins and ins[0] in consts:     # a constant in another float type
        if attrs.get("to") not in FLOAT_TYPES:
            raise OnnxImportError(f"{where} (Cast): only casts between float32 and float64 "
                                  "are supported")
        consts[out] = consts[ins[0]]
        return
    if op in ("Conv", "MaxPool", "AveragePool", "Reshape") or any(n in b.maps for n in ins):
        try:
            _image_step(b, op, attrs, ins, out, consts, values, where)
        except ImageImportError as e:
            raise OnnxImportError(f"{where} ({op}): {e}") from None
        return

    def value(i: int) -> list[_Column]:
        if i >= len(ins) or ins[i] not in values:
            raise OnnxImportError(f"{where} ({op}): input {i + 1} must be computed from the "
                                  "model's input, not a constant")
        return values[ins[i]]

    def const(i: int) -> np.ndarray:
        if i >= len(ins) or ins[i] not in consts:
            raise OnnxImportError(f"{where} ({op}): input {i + 1} must be a constant (an "
                                  "initializer), so that it can become weights")
        return consts[ins[i]]

    if op in ("Identity", "Flatten"):
        if op == "Flatten" and attrs.get("axis", 1) not in (1, -1):
            raise OnnxImportError(f"{where} (Flatten): only axis 1 of rows x inputs is "
                                  "supported")
        values[out] = value(0)
    elif op == "Cast":
        if attrs.get("to") not in FLOAT_TYPES:
            raise OnnxImportError(f"{where} (Cast): only casts between float32 and float64 "
                                  "are supported")
        values[out] = value(0)
    elif op in ("Gemm", "MatMul"):
        values[out] = _matmul(b, op, attrs, value(0), const(1),
                              const(2) if op == "Gemm" and len(ins) > 2 and ins[2] else None,
                              where)
    elif op == "Add":
        values[out] = _add(ins, values, consts, where)
    elif op == "Mul":
        values[out] = _mul(b, ins, values, consts, where)
    elif op == "Sin":
        values[out] = [_derived(b, "Sin", [col], where) for col in value(0)]
    elif op in ACTIVATION_OPS or op == "PRelu":
        cols_in = value(0)
        if op == "PRelu":
            slopes = _broadcast(const(1), len(cols_in), where, op).tolist()
        elif op == "LeakyRelu":
            # an attribute holds a float32: take the shortest decimal that rounds to it
            # (0.2, not 0.20000000298), the slope the model's author wrote
            slopes = [float(str(np.float32(attrs.get("alpha", 0.01))))] * len(cols_in)
        else:
            slopes = [0.01] * len(cols_in)
        if not all(math.isfinite(v) for v in slopes):
            raise OnnxImportError(f"{where} ({op}): the slope must be a finite number")
        act = "leaky_relu" if op == "PRelu" else ACTIVATION_OPS[op]
        cols: list[_Column] = []
        for col, slope in zip(cols_in, slopes, strict=True):
            if isinstance(col, _Sign) and op == "Relu":
                cols.append(b.neuron("binary_step", col.sum, 0.01, where))
            else:
                cols.append(b.neuron(act, _as_sum(col, where, op), slope, where))
        values[out] = cols
    elif op == "Sign":
        values[out] = [_Sign(_as_sum(c, where, op), where) for c in value(0)]
    elif op == "Softmax":
        axis = attrs.get("axis", 1 if opset < 13 else -1)
        if axis not in (1, -1):
            raise OnnxImportError(f"{where} (Softmax): only a softmax along each row (axis 1) "
                                  "is supported")
        cols_in = value(0)
        values[out] = [_SoftmaxOut(_as_sum(c, where, op), where, len(cols_in)) for c in cols_in]
    elif op == "Concat":
        if attrs.get("axis") not in (1, -1):
            raise OnnxImportError(f"{where} (Concat): only a concatenation of columns (axis 1) "
                                  "is supported")
        values[out] = [c for i in range(len(ins)) for c in value(i)]
    elif op == "Gather":
        cols_in, idx = value(0), const(1)
        if attrs.get("axis", 0) not in (1, -1) or idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise OnnxImportError(f"{where} (Gather): only picking columns (axis 1, a list of "
                                  "column numbers) is supported")
        n = len(cols_in)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise OnnxImportError(f"{where} (Gather): a column number is outside 0 to {n - 1}")
        values[out] = [cols_in[int(i)] for i in idx.tolist()]


def _image_step(b: _Builder, op: str, attrs: dict[str, Any], ins: list[str], out: str,
                consts: dict[str, np.ndarray], values: dict[str, list[_Column]],
                where: str) -> None:
    """A node of the convolutional front: its feature maps (``b.maps``) or, for a flatten,
    its columns of feature neurons (``values``); an ImageImportError when it does not fit."""
    src = ins[0] if ins else ""
    maps = b.maps.get(src)
    if op == "Reshape":
        if len(ins) != 2 or ins[1] not in consts:
            raise ImageImportError("the new shape must be a constant")
        if maps is None:
            if src not in values:
                raise ImageImportError("it reshapes a constant; NN Studio reshapes only values "
                                       "computed from the model's input")
            cols = values[src]
            target = reshape_target(consts[ins[1]], len(cols))
            if len(target) == 1:
                values[out] = cols
            else:
                pixels = _pixel_columns(b, cols)
                b.maps[out] = b.images.image_input(target, "image")
                b.pixels += pixels
            return
        c, h, w = maps.shape
        target = reshape_target(consts[ins[1]], c * h * w)
        if target == maps.shape:
            b.maps[out] = maps
        elif len(target) == 1:
            values[out] = _flatten(b, maps)
        else:
            raise ImageImportError(f"NN Studio reshapes {c} \u00d7 {h} \u00d7 {w} maps only "
                                   f"into a row (a flatten), not into {list(target)}")
        return
    if op not in (*MAP_PASSES, "Conv", "MaxPool", "AveragePool", "Flatten", "PRelu",
                  *ACTIVATION_OPS):
        raise ImageImportError("NN Studio reads feature maps only in Conv, MaxPool, "
                               "AveragePool, Flatten, Reshape and an activation right after "
                               "a Conv")
    if maps is None:
        raise ImageImportError("it works on feature maps (rows x channels x height x width), "
                               "not on columns")
    if op in MAP_PASSES:
        if op == "Cast" and attrs.get("to") not in FLOAT_TYPES:
            raise ImageImportError("only casts between float32 and float64 are supported")
        shared = maps.raw and b.readers.get(src, 0) != 1
        b.maps[out] = Maps(maps.layer, maps.shape, maps.raw, maps.shared or shared)
    elif op == "Conv":
        if len(ins) < 2 or ins[1] not in consts or (len(ins) > 2 and ins[2] and
                                                    ins[2] not in consts):
            raise ImageImportError("its filters and bias must be constants (initializers)")
        bias = consts[ins[2]] if len(ins) > 2 and ins[2] else None
        b.maps[out] = b.images.convolution(maps, consts[ins[1]], bias, attrs, "")
    elif op in ("MaxPool", "AveragePool"):
        # (count_include_pad means nothing without padding, which pooling refuses)
        b.maps[out] = b.images.pooling(maps, "max" if op == "MaxPool" else "average", attrs, "")
    elif op == "Flatten":
        if attrs.get("axis", 1) != 1:
            raise ImageImportError("only a flatten of each row (axis 1) is supported")
        values[out] = _flatten(b, maps)
    elif op in ACTIVATION_OPS or op == "PRelu":
        if op == "PRelu":
            slope_values = consts.get(ins[1]) if len(ins) > 1 else None
            if slope_values is None or slope_values.size != 1:
                raise ImageImportError("NN Studio's convolutions take one leaky slope (a PRelu "
                                       "of one constant slope)")
            slope = float(slope_values.reshape(-1)[0])
        else:
            slope = float(str(np.float32(attrs.get("alpha", 0.01))))
        if not math.isfinite(slope):
            raise ImageImportError("the slope must be a finite number")
        alone = b.readers.get(src, 0) == 1 and not maps.shared
        b.maps[out] = b.images.activation(maps, "leaky_relu" if op == "PRelu"
                                          else ACTIVATION_OPS[op], slope, alone)


def _flatten(b: _Builder, maps: Maps) -> list[_Column]:
    if b.count() + math.prod(maps.shape) > MAX_NEURONS:
        raise ImageImportError(f"the model needs more than {MAX_NEURONS} neurons (feature "
                               "neurons included), the most a project holds")
    return [_Neuron(fid) for fid in b.images.flatten(maps, "")]


def _pixel_columns(b: _Builder, cols: list[_Column]) -> list[str]:
    """The input columns a new image input reads: the model input's next columns, in order
    (NN Studio's images come first in the data, one after the other)."""
    start = len(b.pixels)
    want = b.inputs[start:start + len(cols)]
    got = [c.id if isinstance(c, _Neuron) else None for c in cols]
    if got != want or len(want) != len(cols):
        raise ImageImportError(f"the image must read the model input's columns "
                               f"{start + 1} to {start + len(cols)} in order (NN Studio's "
                               "images take the first columns of the data)")
    return want


def _constant(reader: _Reader, attrs: dict[str, Any], where: str) -> np.ndarray:
    if attrs.get("value") is not None:
        return reader.tensor(attrs["value"], f"{where} (Constant)")
    for key in ("value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            arr = np.array(attrs[key], dtype=np.float64 if "float" in key else np.int64)
            if arr.size > MAX_TENSOR_VALUES or not np.isfinite(arr).all():
                raise OnnxImportError(f"{where} (Constant): too large, NaN or infinite")
            return arr
    raise OnnxImportError(f"{where} (Constant): only numeric constants are supported")


def _matmul(b: _Builder, op: str, attrs: dict[str, Any], cols: list[_Column], w: np.ndarray,
            c: np.ndarray | None, where: str) -> list[_Column]:
    if w.ndim != 2 or w.dtype.kind != "f":
        raise OnnxImportError(f"{where} ({op}): its weights must be a matrix of floats, not of "
                              f"shape {list(w.shape)}")
    if op == "Gemm":
        if attrs.get("transA", 0):
            raise OnnxImportError(f"{where} (Gemm): transA is not supported (rows x inputs is "
                                  "the only layout)")
        if attrs.get("transB", 0):
            w = w.T
        w = w * float(attrs.get("alpha", 1.0))
    if w.shape[0] != len(cols):
        raise OnnxImportError(f"{where} ({op}): {len(cols)} input column(s) but weights of "
                              f"shape {list(w.shape)}")
    bias = np.zeros(w.shape[1])
    if c is not None:
        bias = _broadcast(c, w.shape[1], where, op) * float(attrs.get("beta", 1.0))
    if not (np.isfinite(w).all() and np.isfinite(bias).all()):
        raise OnnxImportError(f"{where} ({op}): alpha or beta makes a weight infinite")
    return _affine(b, cols, w, bias, where, op)


def _broadcast(c: np.ndarray, width: int, where: str, op: str) -> np.ndarray:
    """A bias constant as one value per column (shape (), (1,), (width,), (1, width))."""
    if c.dtype.kind != "f" or c.size not in (1, width) or (c.ndim == 2 and c.shape[0] != 1) \
            or c.ndim > 2:
        raise OnnxImportError(f"{where} ({op}): a bias of shape {list(c.shape)} does not fit "
                              f"{width} column(s)")
    return np.broadcast_to(c.reshape(-1), (width,)).astype(np.float64)


def _add(ins: list[str], values: dict[str, list[_Column]], consts: dict[str, np.ndarray],
         where: str) -> list[_Column]:
    if len(ins) != 2:
        raise OnnxImportError(f"{where} (Add): expected two inputs")
    a, c = ins
    if a in values and c in values:
        x, y = values[a], values[c]
        if len(x) != len(y):
            raise OnnxImportError(f"{where} (Add): {len(x)} and {len(y)} columns do not match")
        out: list[_Column] = []
        for p, q in zip(x, y, strict=True):
            sp, sq = _as_sum(p, where, "Add"), _as_sum(q, where, "Add")
            w = dict(sp.weights)
            for nid, v in sq.weights.items():
                w[nid] = w.get(nid, 0.0) + v
            out.append(_Sum(w, sp.bias + sq.bias))
        return out
    if a in consts and c in consts:
        raise OnnxImportError(f"{where} (Add): adds two constants; nothing to compute")
    cols, k = (values[a], consts[c]) if a in values else (values[c], consts[a])
    bias = _broadcast(k, len(cols), where, "Add")
    return [_Sum(s.weights, s.bias + float(v)) for s, v in
            zip((_as_sum(col, where, "Add") for col in cols), bias.tolist(),
                strict=True)]


def _derived(b: _Builder, op: str, cols: list[_Column], where: str) -> _Column:
    """The derived input that ``op`` of these columns of the model input is, or the refusal:
    NN Studio computes x1², x2², x1·x2, sin x1 and sin x2 of the first two data columns."""
    data = [b.inputs.index(c.id) - len(b.pixels)
            if isinstance(c, _Neuron) and c.id in b.inputs and c.id not in b.pixels else -1
            for c in cols]
    name = DERIVED_OPS.get((op, tuple(data)))
    if name is None:
        raise OnnxImportError(
            f"{where} ({op}): NN Studio represents {op} only as a derived input of the model "
            "input's first two columns (x1², x2², x1·x2, sin x1, sin x2), or, for Mul, as a "
            "product with constants")
    return b.derived_input(name, where)


def _mul(b: _Builder, ins: list[str], values: dict[str, list[_Column]],
         consts: dict[str, np.ndarray], where: str) -> list[_Column]:
    """Mul: of two columns of the model input, a derived input (x1², x1·x2, ...); of values
    and a constant (one value, or one per column), the weighted sums scaled."""
    if len(ins) != 2:
        raise OnnxImportError(f"{where} (Mul): expected two inputs")
    a, c = ins
    if a in values and c in values:
        x, y = values[a], values[c]
        if len(x) != len(y):
            raise OnnxImportError(f"{where} (Mul): {len(x)} and {len(y)} columns do not match")
        return [_derived(b, "Mul", [p, q], where) for p, q in zip(x, y, strict=True)]
    if a in consts and c in consts:
        raise OnnxImportError(f"{where} (Mul): multiplies two constants; nothing to compute")
    cols, k = (values[a], consts[c]) if a in values else (values[c], consts[a])
    scale = _broadcast(k, len(cols), where, "Mul")
    return [_Sum({nid: w * float(v) for nid, w in s.weights.items()}, s.bias * float(v))
            for s, v in zip((_as_sum(col, where, "Mul") for col in cols), scale.tolist(),
                            strict=True)]


# ---------------------------------------------------------------------- building the network
def _network(b: _Builder, outputs: list[_Column], model: Any) -> Network:
    if not outputs:
        raise OnnxImportError("the model's output has no columns")
    used_as_source = {src for s in b.specs.values() for src in s.weights}
    once: dict[str, int] = {}
    for col in outputs:
        if isinstance(col, _Neuron):
            once[col.id] = once.get(col.id, 0) + 1
    groups = {col.node: col.size for col in outputs if isinstance(col, _SoftmaxOut)}
    if len(groups) > 1:
        raise OnnxImportError("the output holds the results of several Softmax nodes "
                              f"({', '.join(groups)}); NN Studio applies one softmax across "
                              "all its softmax outputs")
    if groups:
        node, size = next(iter(groups.items()))
        seen = [col for col in outputs if isinstance(col, _SoftmaxOut)]
        if len(seen) != size or len({id(c) for c in seen}) != size:
            raise OnnxImportError(f"the output holds only part of the columns of {node} "
                                  "(Softmax); NN Studio's softmax spans every softmax output")
    out_ids: list[str] = []
    for col in outputs:
        if isinstance(col, _Neuron) and col.id in b.specs and col.id not in used_as_source \
                and once[col.id] == 1:
            out_ids.append(col.id)      # a neuron the output shows as it is
        elif isinstance(col, _SoftmaxOut):
            out_ids.append(b.neuron("softmax", col.sum, 0.01, "the output").id)
        elif isinstance(col, _Sign):
            raise _not_here(col, "the output", "Sign")
        else:
            out_ids.append(b.neuron("identity", _as_sum(col, "the output", "output"), 0.01,
                                    "the output").id)
    keep = _needed(b, out_ids)
    pixels = set(b.pixels)
    read_pixels = sorted({src for i in keep for src in b.specs[i].weights} & pixels)
    if read_pixels:
        raise OnnxImportError(f"the model's input column {b.inputs.index(read_pixels[0]) + 1} "
                              "is an image's pixel and also read as an input neuron; NN "
                              "Studio's pixels are read by the image input only")
    all_labels = _labels(model, "nnstudio.input_labels", len(b.inputs), b.inputs)
    data_inputs = [nid for nid in b.inputs if nid not in pixels]
    rename = {nid: f"x{k + 1}" for k, nid in enumerate(data_inputs)}
    in_labels = [lab if lab != nid else rename[nid]
                 for nid, lab in zip(b.inputs, all_labels, strict=True) if nid not in pixels]
    rename.update({nid: f"y{k + 1}" for k, nid in enumerate(out_ids)})
    hidden = [s for s in b.specs.values() if s.id in keep and s.id not in rename]
    rename.update({s.id: f"h{k + 1}" for k, s in enumerate(hidden)})
    out_labels = _labels(model, "nnstudio.output_labels", len(out_ids),
                         [rename[o] for o in out_ids])
    neurons: list[dict[str, Any]] = [
        {"id": rename[nid], "role": "input", "label": lab, "activation": "identity"}
        for nid, lab in zip(data_inputs, in_labels, strict=True)]
    used = {src for i in keep for src in b.specs[i].weights}
    derived = [(name, nid) for name, nid in b.derived.items() if nid in used]
    neurons += [{"id": nid, "role": "input", "activation": "identity", "derive": name,
                 "label": DERIVED[name].label(in_labels)} for name, nid in derived]
    inputs = data_inputs + [nid for _, nid in derived]
    conns: list[dict[str, Any]] = []
    outs_last = {o: k for k, o in enumerate(out_ids)}  # outputs in the model's column order
    depth = dict.fromkeys(inputs + sorted(b.images.features), 0)
    ordered = sorted((b.specs[i] for i in keep),
                     key=lambda s: (s.id in outs_last, outs_last.get(s.id, s.order)))
    for s in ordered:
        nid = rename[s.id]
        depth[s.id] = 1 + max((depth[src] for src in s.weights), default=-1)
        d = {"id": nid, "role": "hidden", "label": nid, "activation": s.activation,
             "bias": s.bias}
        if s.id in out_ids:
            d["role"], d["label"] = "output", out_labels[out_ids.index(s.id)]
        if s.activation == "leaky_relu":
            d["slope"] = s.slope
        neurons.append(d)
        for src, w in s.weights.items():
            conns.append({"id": f"c{len(conns) + 1}", "source": rename.get(src, src),
                          "target": nid, "weight": w, "trainable": True})
    layers = b.images.dicts
    for k, d in enumerate(layers):        # the image layers in a row, left of the neurons
        d["x"], d["y"] = k * IMAGE_DX, 0.0
    _place(neurons, [depth[i] for i in inputs] + [depth[s.id] for s in ordered],
           x0=len(layers) * IMAGE_DX)
    try:
        net = Network.from_dict({"neurons": neurons, "image_layers": layers,
                                 "connections": conns})
    except NetworkError as e:  # (cannot happen for a graph read in order; said plainly if so)
        raise OnnxImportError(f"the model does not form a feed-forward network: {e}") from None
    return net


def _place(neurons: list[dict[str, Any]], depths: list[int], dx: float = 180.0,
           dy: float = 90.0, x0: float = 0.0) -> None:
    """Columns by depth, each centred, in the model's order (as ``Network.auto_layout``
    places them, without a second pass over the built network)."""
    count: dict[int, int] = {}
    for d in depths:
        count[d] = count.get(d, 0) + 1
    seen: dict[int, int] = {}
    for nd, d in zip(neurons, depths, strict=True):
        i = seen.get(d, 0)
        seen[d] = i + 1
        nd["x"], nd["y"] = x0 + d * dx, (i - (count[d] - 1) / 2) * dy


def _needed(b: _Builder, out_ids: list[str]) -> set[str]:
    """The neurons the outputs depend on (others the model computes are left out)."""
    keep: set[str] = set()
    stack = list(out_ids)
    while stack:
        nid = stack.pop()
        if nid in keep or nid not in b.specs:
            continue
        keep.add(nid)
        stack.extend(b.specs[nid].weights)
    return keep


# ---------------------------------------------------------------------- files and projects
def read(path: str | os.PathLike[str]) -> Network:
    """The network of the ONNX file ``path``. Raises OnnxImportError (one line)."""
    onnx = _require_onnx()
    data = files.read_limited(path, MAX_FILE_BYTES, OnnxImportError, "an ONNX file")
    return _convert(onnx, data)[0]


def default_settings(net: Network) -> TrainSettings:
    """Training settings that suit the outputs: cross-entropy after softmax, binary
    cross-entropy after sigmoid, mean squared error otherwise."""
    acts = {n.activation for n in net.outputs}
    loss = "cross_entropy" if acts == {"softmax"} else "bce" if acts == {"sigmoid"} else "mse"
    return TrainSettings(loss=loss)


def load_project(path: str | os.PathLike[str], dataset: Dataset | None = None) -> Project:
    """An untitled project around the network of the ONNX file ``path``, with ``dataset`` (or
    an empty one named after the input and output neurons). Raises OnnxImportError."""
    net = read(path)
    data = net.data_inputs  # (a derived input takes no column)
    n_in, n_out = len(data), len(net.outputs)
    if dataset is None:
        dataset = _empty_dataset(net)
    elif dataset.n_inputs - dataset.image_columns != n_in or dataset.n_targets != n_out or \
            [img.shape for img in dataset.images] != [lay.shape for lay in _image_inputs(net)]:
        images = dataset.images or _image_inputs(net)
        given = f"{_count(len(dataset.images), 'image')} and " if images else ""
        wanted = f"{_count(len(_image_inputs(net)), 'image input')}, " if images else ""
        raise OnnxImportError(f"the dataset has {given}"
                              f"{dataset.n_inputs - dataset.image_columns} input and "
                              f"{dataset.n_targets} target column(s) but the model has "
                              f"{wanted}{n_in} input(s) and {n_out} output(s)")
    name = os.path.basename(os.fspath(path))
    return Project(net, dataset, default_settings(net), _description(net, name, len(dataset)),
                   "Untitled")


def _image_inputs(net: Network) -> list[Any]:
    return [net.image_layers[lid] for lid in net.image_order()
            if net.image_layers[lid].kind == "image_input"]


def _empty_dataset(net: Network) -> Dataset:
    """No rows; a column per pixel of every image input (named after it), then one per data
    input and per output (named after their labels, or their ids if labels repeat)."""
    images: list[ImageColumns] = []
    pixel_names: list[str] = []
    for lay in _image_inputs(net):
        images.append(ImageColumns(lay.id, lay.shape, len(pixel_names)))
        pixel_names += image_column_names(lay.id, lay.shape)
    data = net.data_inputs
    names = [n.label for n in data] + [n.label for n in net.outputs]
    if len(set(names) | set(pixel_names)) != len(names) + len(pixel_names):
        names = [n.id for n in data] + [n.id for n in net.outputs]
    n_in, n_out = len(pixel_names) + len(data), len(net.outputs)
    return Dataset(pixel_names + names[:len(data)], names[len(data):], np.zeros((0, n_in)),
                   np.zeros((0, n_out)), images=images)


def _description(net: Network, file_name: str, rows: int) -> str:
    """The lesson text of an opened model: where it came from, its shape, what to do next."""
    hidden = len(net.by_role("hidden"))
    derived = len(net.derived_inputs)
    also = f" (and {_count(derived, 'derived input')})" if derived else ""
    outs = sorted({n.activation for n in net.outputs})
    shown = "`" + comment_text(file_name, 120).replace("`", "'") + "`"
    parts = []
    if net.image_layers:   # "image 1 × 6 × 6 → convolution 2 × 3 × 3 (20 parameters) → ..."
        parts.append(" → ".join(net.image_summary()))
    if net.data_inputs or not net.image_layers:
        parts.append(f"{_count(len(net.data_inputs), 'input')}{also}")
    parts.append(_count(hidden, "hidden neuron"))
    parts.append(f"{_count(len(net.outputs), 'output')} ({', '.join(outs)})")
    text = (f"# An ONNX model\n\nThis network was opened from the ONNX model {shown}: "
            f"{', '.join(parts[:-1])} and {parts[-1]}, "
            f"{_count(len(net.connections), 'connection')}, every weight and bias as the "
            "model holds it.\n\n")
    if rows == 0:
        text += ("Its dataset is empty: add rows or import a CSV file in the Dataset panel to "
                 "see its outputs, step through backpropagation and train it. ")
    return text + "File ▸ Save As keeps it as a project."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


__all__ = ["OnnxImportError", "parse", "read", "load_project", "default_settings",
           "MAX_FILE_BYTES", "SUPPORTED"]

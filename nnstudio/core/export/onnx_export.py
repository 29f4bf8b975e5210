"""Export a project's network as an ONNX model (through the optional ``onnx`` package).

The graph is the :mod:`~nnstudio.core.export.plan` written as standard operators of the
default domain (opset :data:`OPSET`): per layer a ``Gemm`` (its input gathered and
concatenated from earlier layers when it has skip connections: ``Gather`` along axis 1 and
``Concat``), then its activation (``Relu``, ``LeakyRelu``, ``Sigmoid``, ``Tanh``,
``Softplus``; the binary step as ``Relu(Sign(z))``, which is 1 for z > 0 and 0 otherwise); the
softmax outputs as one ``Softmax``; the outputs concatenated in the dataset's target order.
In a float64 model leaky ReLU is ``PRelu`` with its slope as a float64 tensor (``LeakyRelu``'s
slope is a float32 attribute). Image layers come first: an image's pixels are gathered from
the input and reshaped to (rows, C, H, W), then ``Conv`` (NN Studio's padding as explicit
``pads``), ``MaxPool`` / ``AveragePool`` and ``Flatten``.
Its input ``input`` is rows x data columns (any number of rows; derived inputs such as x1² or
sin x2 are computed from its first two columns with ``Mul`` and ``Sin`` first), its output
``output`` rows x outputs.
An absent connection has weight 0 in its layer's matrix; a neuron without incoming connections
reads the inputs with weights 0.

``dtype`` is ``"float64"`` (NN Studio's own numbers, every weight exact) or ``"float32"`` (what
most deployment tools expect). onnxruntime has no float64 ``Softplus``, ``Conv`` or
``AveragePool``: in a float64 model those operations are computed in float32 (``Cast`` to
float32 and back, the filters stored in float32), so a network with them matches NN Studio's
outputs to about 1e-7 instead of 1e-15. The model is checked by ``onnx.checker`` before it is
written. ``onnx`` is imported only when a model is built.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..project import Project
from . import plan as plans
from .output import write_files
from .plan import (
    ConvLayer,
    ExportError,
    ExportPlan,
    Forward,
    ImageInputLayer,
    ImageStep,
    InputLayer,
    LayerStep,
    PoolLayer,
    layer_writer,
    lookup,
)

OPSET = 17
IR_VERSION = 8          # the IR version of opset 17: readable by older runtimes too
INPUT, OUTPUT = "input", "output"
DTYPES = ("float64", "float32")
# activation name -> ONNX operator (None: nothing to apply)
ONNX_ACTIVATIONS: dict[str, str | None] = {
    "identity": None, "relu": "Relu", "leaky_relu": "LeakyRelu", "sigmoid": "Sigmoid",
    "tanh": "Tanh", "softplus": "Softplus", "binary_step": "Sign", "softmax": "Softmax",
}
FLOAT32_ONLY = {"Softplus", "Conv", "AveragePool"}  # onnxruntime computes these in float32
# derived input name -> (operator, the data columns it reads): nnstudio.core.derived_inputs
ONNX_DERIVED: dict[str, tuple[str, tuple[int, ...]]] = {
    "x1^2": ("Mul", (0, 0)), "x2^2": ("Mul", (1, 1)), "x1*x2": ("Mul", (0, 1)),
    "sin(x1)": ("Sin", (0,)), "sin(x2)": ("Sin", (1,)),
}
NEURONS = "input_neurons"    # every input neuron's value, when some are derived from the data


def require_onnx() -> Any:
    """The ``onnx`` package, or ExportError saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX needs the optional onnx package: pip install "
                          "'nnstudio[onnx]' (or pip install onnx)") from None
    return onnx


class _Graph:
    """Nodes and initializers being written, with unique names."""

    def __init__(self, onnx: Any, dtype: str):
        self.onnx = onnx
        self.np_dtype = np.float64 if dtype == "float64" else np.float32
        self.elem = onnx.TensorProto.DOUBLE if dtype == "float64" else onnx.TensorProto.FLOAT
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.x = INPUT      # the tensor of every input neuron's value (Forward.INPUT)

    def constant(self, name: str, value: np.ndarray, integer: bool = False) -> str:
        arr = np.asarray(value, dtype=np.int64 if integer else self.np_dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def in_float32(self, op: str, inputs: list[str], out: str, where: str,
                   **attrs: Any) -> str:
        """``op`` of ``inputs`` for an operator onnxruntime computes in float32 only: in a
        float64 model every input (the filters too, which the file keeps in float64) is cast to
        float32 and the result back."""
        if self.np_dtype != np.float64:
            return self.node(op, inputs, out, f"{where}/{op}", **attrs)
        to32 = [self.node("Cast", [name], f"{where}.{k}.float32", f"{where}/{k}/CastToFloat32",
                          to=self.onnx.TensorProto.FLOAT) for k, name in enumerate(inputs)]
        y = self.node(op, to32, f"{where}.{op.lower()}32", f"{where}/{op}", **attrs)
        return self.node("Cast", [y], out, f"{where}/CastToFloat64",
                         to=self.onnx.TensorProto.DOUBLE)

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> str:
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def columns(self, tensor: str, cols: list[int], total: int, where: str) -> str:
        """``tensor``'s columns ``cols`` (a Gather along axis 1 unless they are all of them)."""
        if cols == list(range(total)):
            return tensor
        idx = self.constant(f"{where}.columns", np.array(cols), integer=True)
        return self.node("Gather", [tensor, idx], f"{where}.gathered", f"{where}/Gather", axis=1)

    def read(self, fwd: Forward, runs: list[tuple[str, list[int]]], where: str) -> str:
        """The concatenation of the column runs (one tensor when there is one run)."""
        parts = [self.columns(self.tensor(name), cols, fwd.width[name], f"{where}.{k}")
                 for k, (name, cols) in enumerate(runs)]
        if len(parts) == 1:
            return parts[0]
        return self.node("Concat", parts, f"{where}.concat", f"{where}/Concat", axis=1)

    def activate(self, activation: str, slope: float, z: str, out: str, where: str) -> str:
        op = lookup(ONNX_ACTIVATIONS, activation, "ONNX", f"the activation {activation!r}")
        if op is None:
            return z
        if op == "Sign":  # the binary step: 1 for z > 0, 0 for z <= 0
            s = self.node("Sign", [z], f"{where}.sign", f"{where}/Sign")
            return self.node("Relu", [s], out, f"{where}/Relu")
        attrs: dict[str, Any] = {}
        if op == "LeakyRelu" and self.np_dtype == np.float64:
            # LeakyRelu's alpha is a float32 attribute; PRelu takes the slope as a tensor
            s = self.constant(f"{where}.slope", np.array([slope]))
            return self.node("PRelu", [z, s], out, f"{where}/PRelu")
        if op == "LeakyRelu":
            attrs["alpha"] = float(slope)
        if op == "Softmax":
            attrs["axis"] = 1
        if op in FLOAT32_ONLY:
            return self.in_float32(op, [z], out, where, **attrs)
        return self.node(op, [z], out, f"{where}/{op}", **attrs)

    def tensor(self, name: str) -> str:
        """The graph's tensor for a forward-pass name (``x``: the input neurons' values, the
        graph input itself unless some are derived)."""
        return self.x if name == Forward.INPUT else name

    def input_neurons(self, layer: InputLayer) -> str:
        """Every input neuron's value from the graph input (the data): its columns, and the
        derived inputs computed from its first two (``Mul``, ``Sin``)."""
        data_column: dict[int, str] = {}

        total = layer.first_column + layer.n_data

        def column(k: int) -> str:  # x1, x2: the first two data columns after any pixels
            if k not in data_column:
                data_column[k] = self.columns(INPUT, [layer.first_column + k], total,
                                              f"data.{k}")
            return data_column[k]

        parts = []
        for k, what in enumerate(layer.pieces()):
            if isinstance(what, list):
                parts.append(self.columns(INPUT, what, total, f"inputs.{k}"))
                continue
            op, uses = lookup(ONNX_DERIVED, what, "ONNX", f"the derived input {what!r}")
            parts.append(self.node(op, [column(u) for u in uses], f"inputs.{k}.{op.lower()}",
                                   f"inputs/{k}/{op}"))
        if len(parts) == 1:
            return self.node("Identity", parts, NEURONS, "inputs/Identity")
        return self.node("Concat", parts, NEURONS, "inputs/Concat", axis=1)


# ---------------------------------------------------------------------- layer writers
def _dense(g: _Graph, plan: ExportPlan, fwd: Forward, step: LayerStep) -> None:
    layer = step.layer
    where = f"layer{layer.index}"
    if step.inputs:
        src, weight = g.read(fwd, step.inputs, where), layer.weight
    else:  # no incoming connections: the inputs with weights 0, so z is the bias on every row
        src, weight = INPUT, np.zeros((plan.n_inputs, layer.size))
    w = g.constant(f"{where}.weight", weight)
    b = g.constant(f"{where}.bias", layer.bias)
    plain = ONNX_ACTIVATIONS.get(layer.activation, "") is None  # identity: a is z
    z = g.node("Gemm", [src, w, b], step.z or (step.a if plain else None) or f"{where}.z",
               f"{where}/Gemm")
    if step.a is not None and step.a != step.z:
        g.activate(layer.activation, layer.slope, z, step.a, where)


def _image_input(g: _Graph, plan: ExportPlan, fwd: Forward, step: ImageStep) -> None:
    layer = step.layer
    assert isinstance(layer, ImageInputLayer)
    where = f"layer{layer.index}"
    pixels = g.columns(INPUT, list(range(layer.column, layer.column + layer.size)),
                       plan.n_inputs, where)
    shape = g.constant(f"{where}.shape", np.array([-1, *layer.shape]), integer=True)
    g.node("Reshape", [pixels, shape], step.out, f"{where}/Reshape")


def _convolution(g: _Graph, plan: ExportPlan, fwd: Forward, step: ImageStep) -> None:
    layer = step.layer
    assert isinstance(layer, ConvLayer)
    where, sh = f"layer{layer.index}", layer.shape
    w = g.constant(f"{where}.weight", layer.weight)  # (float64 Conv: see FLOAT32_ONLY)
    b = g.constant(f"{where}.bias", layer.bias)
    top, bottom, left, right = sh.pads
    plain = ONNX_ACTIVATIONS.get(layer.activation, "") is None
    z = g.in_float32("Conv", [step.source, w, b], step.out if plain else f"{where}.z", where,
                     kernel_shape=[sh.kernel] * 2, strides=[sh.stride] * 2,
                     pads=[top, left, bottom, right])
    if not plain:
        g.activate(layer.activation, layer.slope, z, step.out, f"{where}.activation")


def _pooling(g: _Graph, plan: ExportPlan, fwd: Forward, step: ImageStep) -> None:
    layer = step.layer
    assert isinstance(layer, PoolLayer)
    where, sh = f"layer{layer.index}", layer.shape
    attrs = {"kernel_shape": [sh.window] * 2, "strides": [sh.step] * 2}
    if sh.mode == "max":
        g.node("MaxPool", [step.source], step.out, f"{where}/MaxPool", **attrs)
    else:
        g.in_float32("AveragePool", [step.source], step.out, where, **attrs)


def _flatten(g: _Graph, plan: ExportPlan, fwd: Forward, step: ImageStep) -> None:
    g.node("Flatten", [step.source], step.out, f"layer{step.layer.index}/Flatten", axis=1)


LAYER_WRITERS: dict[str, Callable[[_Graph, ExportPlan, Forward, Any], None]] = {
    "dense": _dense,
    "image_input": _image_input,
    "convolution": _convolution,
    "pooling": _pooling,
    "flatten": _flatten,
}


def model(project: Project, dtype: str = "float64") -> Any:
    """The ONNX ``ModelProto`` of ``project``'s network, checked by ``onnx.checker``.
    Raises ExportError if it cannot be built (or onnx is not installed)."""
    if dtype not in DTYPES:
        raise ExportError(f"the ONNX number type must be one of {', '.join(DTYPES)}, "
                          f"not {dtype!r}")
    onnx = require_onnx()
    net = project.network
    plan = plans.build(net, project.settings.loss)
    fwd = plans.forward(plan)
    g = _Graph(onnx, dtype)
    for image in fwd.images:
        layer_writer(LAYER_WRITERS, image.layer, "ONNX")(g, plan, fwd, image)
    layer0 = plan.input_layer
    if layer0.derived:
        g.x = g.input_neurons(layer0)
    elif fwd.uses_inputs and layer0.first_column:  # the input neurons' columns, after pixels
        cols = list(range(layer0.first_column, layer0.first_column + layer0.n_data))
        g.x = g.columns(INPUT, cols, plan.n_inputs, "inputs")
    for step in fwd.steps:
        layer_writer(LAYER_WRITERS, step.layer, "ONNX")(g, plan, fwd, step)
    if fwd.shared is not None:
        act, slope = fwd.shared
        z = g.read(fwd, fwd.outputs, "outputs")
        final = g.activate(act, slope, z, "outputs.activated", "outputs")
    else:
        if fwd.softmax_group:
            zs = g.read(fwd, fwd.softmax_group, "softmax")
            g.activate("softmax", 0.0, zs, Forward.SOFTMAX, "softmax")
        final = g.read(fwd, fwd.outputs, "outputs")
    _rename(g, final, OUTPUT)
    return _finish(onnx, g, plan, project)


def _rename(g: _Graph, old: str, new: str) -> None:
    """Give the final tensor the graph output's name."""
    for node in g.nodes:
        for seq in (node.input, node.output):
            for i, name in enumerate(seq):
                if name == old:
                    seq[i] = new


def _finish(onnx: Any, g: _Graph, plan: ExportPlan, project: Project) -> Any:
    helper = onnx.helper
    ds = project.dataset
    inputs = ds.input_names if ds.n_inputs == plan.n_inputs else plan.input_layer.data_labels
    graph = helper.make_graph(
        g.nodes, "nnstudio",
        [helper.make_tensor_value_info(INPUT, g.elem, ["rows", plan.n_inputs])],
        [helper.make_tensor_value_info(OUTPUT, g.elem, ["rows", plan.n_outputs])],
        g.initializers,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="NN Studio", ir_version=IR_VERSION,
                          doc_string=f"The network of the NN Studio project {project.name!r}")
    helper.set_model_props(m, {
        "nnstudio.project": project.name,
        "nnstudio.input_labels": json.dumps(list(inputs)),
        "nnstudio.output_labels": json.dumps(list(plan.output_labels)),
    })
    try:
        onnx.checker.check_model(m, full_check=True)
    except Exception as e:  # (onnx's checker raises its own ValidationError and others)
        raise ExportError(f"the ONNX model failed onnx.checker: {' '.join(str(e).split())}") \
            from None
    return m


def write(project: Project, path: str | os.PathLike[str], dtype: str = "float64") -> None:
    """Write the ONNX model to ``path`` atomically. Raises ExportError, with nothing written,
    if it cannot be built (OutputError if the file cannot be written)."""
    write_files([(path, model(project, dtype).SerializeToString())])


__all__ = ["model", "write", "require_onnx", "ONNX_ACTIVATIONS", "LAYER_WRITERS", "OPSET",
           "DTYPES", "INPUT", "OUTPUT"]

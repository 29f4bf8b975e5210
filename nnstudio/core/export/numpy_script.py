"""Export a project's network as a NumPy-only script with a ``predict(X)`` function.

The script is the forward pass of the :mod:`~nnstudio.core.export.plan` with the weights
written in full, in float64, with NN Studio's own formulas (the stable sigmoid and softplus,
the max-shifted softmax; convolutions as one ``tensordot`` over strided windows of the padded
maps, pooling as their max or mean), so ``predict(X)`` gives the engine's outputs to the last
digits.
Run as ``python OUT.py IN.csv`` it prints the outputs for each row of a CSV file.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..project import Project
from . import plan as plans
from .output import write_files
from .plan import (
    ConvLayer,
    DenseLayer,
    ExportPlan,
    FlattenLayer,
    ImageInputLayer,
    ImageLayer,
    ImageStep,
    Layer,
    LayerStep,
    PoolLayer,
    layer_writer,
)
from .source import (
    activation_expr,
    array_literal,
    comment_lines,
    comment_text,
    count,
    docstring,
    forward_body,
    image_summary,
    input_neurons_function,
    names_list,
    number,
)

# activation name -> an expression of ``z`` (NumPy): NN Studio's function, written out
NUMPY_ACTIVATIONS: dict[str, str] = {
    "identity": "{z}",
    "relu": "np.maximum({z}, 0.0)",
    "leaky_relu": "leaky_relu({z}, {slope})",
    "sigmoid": "sigmoid({z})",
    "tanh": "np.tanh({z})",
    "softplus": "softplus({z})",
    "binary_step": "({z} > 0).astype(np.float64)",
    "softmax": "softmax({z})",
}

# derived input name -> an expression of the data's first two columns {0}, {1} (NumPy): the
# engine's own formulas (nnstudio.core.derived_inputs)
NUMPY_DERIVED: dict[str, str] = {
    "x1^2": "{0} * {0}", "x2^2": "{1} * {1}", "x1*x2": "{0} * {1}",
    "sin(x1)": "np.sin({0})", "sin(x2)": "np.sin({1})",
}

IMAGE_HELPERS = {
    "convolution": '''
def conv2d(x, weight, bias, stride, pads):
    """z of a convolution: x (rows, C, H, W), weight (F, C, k, k), bias (F,); pads (top,
    bottom, left, right) rows and columns of zeros around x first. A cross-correlation, as
    NN Studio and every deep-learning library compute it."""
    top, bottom, left, right = pads
    if any(pads):
        x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    k = weight.shape[-1]
    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    z = np.tensordot(windows, weight, axes=([1, 4, 5], [1, 2, 3]))  # (rows, oh, ow, F)
    return z.transpose(0, 3, 1, 2) + bias[None, :, None, None]
''',
    "max": '''
def max_pool(x, window, stride):
    """The largest value of each window x window window at stride, map by map."""
    return sliding_window_view(x, (window, window), axis=(2, 3))[:, :, ::stride,
                                                                ::stride].max(axis=(4, 5))
''',
    "average": '''
def average_pool(x, window, stride):
    """The mean of each window x window window at stride, map by map."""
    return sliding_window_view(x, (window, window), axis=(2, 3))[:, :, ::stride,
                                                                ::stride].mean(axis=(4, 5))
''',
}

HELPERS = {
    "sigmoid": '''
def sigmoid(z):
    """1 / (1 + e^-z), stable for any z: exp only ever sees -|z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)
''',
    "softplus": '''
def softplus(z):
    """log(1 + e^z) as max(z, 0) + log1p(e^-|z|): finite and exact for large |z|."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
''',
    "leaky_relu": '''
def leaky_relu(z, slope):
    """z where z > 0, else slope * z."""
    return np.where(z > 0, z, z * slope)
''',
    "softmax": '''
def softmax(z):
    """e^z / sum e^z along each row, with the row's maximum subtracted first."""
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
''',
}


def _act(activation: str, z: str, slope: float) -> str:
    return activation_expr(NUMPY_ACTIVATIONS, "NumPy", activation, z, slope)


def _cat(pieces: list[str]) -> str:
    return pieces[0] if len(pieces) == 1 else f"np.concatenate([{', '.join(pieces)}], axis=1)"


# ---------------------------------------------------------------------- layer writers
# kind -> (the raw sums from the input expression, the module-level constants)
def _dense_sums(layer: DenseLayer, inputs: str | None, model_input: str) -> str:
    if inputs is None:
        return f"np.zeros((len({model_input}), {layer.size})) + B{layer.index}"
    return f"{inputs} @ W{layer.index} + B{layer.index}"


def _dense_constants(plan: ExportPlan, layer: DenseLayer) -> list[str]:
    act = layer.activation if layer.activation != "leaky_relu" else \
        f"leaky_relu, slope {number(layer.slope)}"
    srcs = ", ".join("x" if s.layer == 0 else f"layer{s.layer}" for s in layer.sources)
    lines = comment_lines(
        f"layer{layer.index} (depth {layer.depth}): {count(layer.size, 'neuron')} "
        f"{names_list(layer.labels)}, {act}, from {srcs or 'nothing (biases only)'}")
    if layer.n_inputs:
        lines.append(f"W{layer.index} = np.array({array_literal(layer.weight)})")
    lines.append(f"B{layer.index} = np.array({array_literal(layer.bias)})")
    return lines


def _image_input(layer: ImageInputLayer, step: ImageStep) -> str:
    c, h, w = layer.shape
    return (f"{step.source}[:, {layer.column}:{layer.column + layer.size}]"
            f".reshape(-1, {c}, {h}, {w})")


def _convolution(layer: ConvLayer, step: ImageStep) -> str:
    sh = layer.shape
    z = f"conv2d({step.source}, W{layer.index}, B{layer.index}, {sh.stride}, {sh.pads})"
    return _act(layer.activation, z, layer.slope)


def _pooling(layer: PoolLayer, step: ImageStep) -> str:
    name = "max_pool" if layer.shape.mode == "max" else "average_pool"
    return f"{name}({step.source}, {layer.shape.window}, {layer.shape.step})"


def _flatten(layer: FlattenLayer, step: ImageStep) -> str:
    return f"{step.source}.reshape(len({step.source}), -1)"


def _image_comment(plan: ExportPlan, layer: ImageLayer) -> list[str]:
    return comment_lines(f"layer{layer.index}: {image_summary(plan, layer)}")


def _conv_constants(plan: ExportPlan, layer: ConvLayer) -> list[str]:
    f, c, k, _ = layer.weight.shape
    return [*_image_comment(plan, layer),
            f"W{layer.index} = np.array({array_literal(layer.weight.reshape(f, -1))})"
            f".reshape({f}, {c}, {k}, {k})",
            f"B{layer.index} = np.array({array_literal(layer.bias)})"]


# kind -> (the expression of a dense layer's raw sums / an image layer's output, the
# module-level constants)
LAYER_WRITERS: dict[str, tuple[Callable, Callable]] = {
    "dense": (_dense_sums, _dense_constants),
    "image_input": (_image_input, _image_comment),
    "convolution": (_convolution, _conv_constants),
    "pooling": (_pooling, _image_comment),
    "flatten": (_flatten, _image_comment),
}


def _writer(layer: Layer) -> tuple[Callable, Callable]:
    return layer_writer(LAYER_WRITERS, layer, "NumPy")


def script(project: Project) -> str:
    """The NumPy script of ``project``'s network as text. Raises ExportError if it cannot be
    written."""
    net = project.network
    plan = plans.build(net, project.settings.loss)
    fwd = plans.forward(plan)

    def linear(step: LayerStep, inputs: str | None) -> str:
        return str(_writer(step.layer)[0](step.layer, inputs, fwd.param))

    def image(step: ImageStep) -> str:
        return str(_writer(step.layer)[0](step.layer, step))

    if fwd.shared is not None:
        shared, slope = fwd.shared
        body = forward_body(fwd, linear, _act, _cat, lambda e: _act(shared, e, slope), image)
    else:
        body = forward_body(fwd, linear, _act, _cat, image=image)
    used = {s.layer.activation for s in fwd.steps} | set(plan.output_activations) | \
        {st.layer.activation for st in fwd.images if isinstance(st.layer, ConvLayer)}
    ds = project.dataset  # its column names, when they fit, else the neurons' labels
    inputs = ds.input_names if ds.n_inputs == plan.n_inputs else plan.input_layer.data_labels
    outputs = ds.target_names if ds.n_targets == plan.n_outputs else plan.output_labels
    out = [
        '"""A neural network exported from NN Studio as a NumPy script: predict(X) is its '
        'forward pass.',
        "",
        "    python THIS_FILE IN.csv",
        "        prints the outputs for each row of IN.csv (a header row, then the inputs;",
        "        columns named like INPUTS are taken by name, otherwise the first ones)",
        "    from THIS_MODULE import predict",
        "",
        "The weights and biases are NN Studio's, every digit; the formulas are NN Studio's own,",
        "in float64, so predict(X) gives NN Studio's outputs up to rounding in the last digit.",
        '"""',
        "",
        "import csv",
        "import sys",
        "",
        "import numpy as np",
        *(["from numpy.lib.stride_tricks import sliding_window_view"] if fwd.images else []),
        "",
        f"PROJECT = {project.name!r}",
        f"INPUTS = {list(inputs)!r}  # the data's input columns, in the order of X's columns",
        f"OUTPUTS = {list(outputs)!r}  # the output neurons, in predict's columns",
    ]
    for name in ("sigmoid", "softplus", "leaky_relu", "softmax"):
        if name in used:
            out += ["", HELPERS[name].rstrip()]
    kinds = {"convolution" if isinstance(st.layer, ConvLayer) else st.layer.shape.mode
             for st in fwd.images if isinstance(st.layer, (ConvLayer, PoolLayer))}
    for name in ("convolution", "max", "average"):
        if name in kinds:
            out += ["", IMAGE_HELPERS[name].rstrip()]
    if plan.input_layer.derived:
        out += ["", "", *input_neurons_function(plan.input_layer, NUMPY_DERIVED, "NumPy", _cat)]
    out += [
        "",
        "",
        "def predict(X):",
        *docstring(f"The outputs (rows x {plan.n_outputs}: {names_list(outputs)}) "
                   f"for each row of X (rows x {plan.n_inputs}: {names_list(inputs)}) of "
                   f"the network of '{comment_text(project.name)}'.", "    "),
        f"    {fwd.param} = np.asarray(X, dtype=np.float64)",
        f"    if {fwd.param}.ndim != 2 or {fwd.param}.shape[1] != len(INPUTS):",
        '        raise ValueError(f"X must be a table of {len(INPUTS)} column(s) "',
        '                         f"({\', \'.join(INPUTS)}), not of shape {X.shape}")',
        *("    " + line for line in body),
        "",
        "",
        _MAIN.strip("\n"),
        "",
        "",
        "# ------------------------------------------------------------------ NN Studio's values",
        "# a weight matrix is inputs x neurons (x @ W); an absent connection's weight is 0",
    ]
    computed = {step.layer.index for step in fwd.steps} | {st.layer.index for st in fwd.images}
    for layer in plan.layers[1:]:
        if layer.index in computed:  # (a neuron no output depends on is left out)
            out += _writer(layer)[1](plan, layer)
    out += ["", "", 'if __name__ == "__main__":', "    main(sys.argv[1:])", ""]
    return "\n".join(out)


_MAIN = '''
def read_inputs(path):
    """The input columns of a CSV file (a header row, then numbers) as a float64 table."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    if not rows:
        raise SystemExit(f"{path}: the file is empty; expected a header row")
    header = [cell.strip() for cell in rows[0]]
    if set(INPUTS) <= set(header):
        cols = [header.index(name) for name in INPUTS]
    elif len(header) >= len(INPUTS):
        cols = list(range(len(INPUTS)))
    else:
        raise SystemExit(f"{path}: {len(header)} column(s), but the network has "
                         f"{len(INPUTS)} input(s): {', '.join(INPUTS)}")
    try:
        return np.array([[float(row[c]) for c in cols] for row in rows[1:]],
                        dtype=np.float64).reshape(len(rows) - 1, len(cols))
    except (ValueError, IndexError) as e:
        raise SystemExit(f"{path}: {e}") from None


def main(argv):
    if len(argv) != 1:
        raise SystemExit("usage: python THIS_FILE IN.csv")
    writer = csv.writer(sys.stdout, lineterminator="\\n")
    writer.writerow(OUTPUTS)
    for row in predict(read_inputs(argv[0])).tolist():
        writer.writerow([repr(v) for v in row])
'''


def write(project: Project, path: str | os.PathLike[str]) -> None:
    """Write the NumPy script to ``path`` atomically. Raises ExportError, with nothing
    written, if the project cannot be exported (OutputError if the file cannot be written)."""
    write_files([(path, script(project).encode("utf-8"))])


__all__ = ["script", "write", "NUMPY_ACTIVATIONS", "NUMPY_DERIVED", "LAYER_WRITERS"]

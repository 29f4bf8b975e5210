"""Export a project as a readable, standalone PyTorch script (``torch.nn.Module``).

The script holds the network as a ``Net`` class with one ``nn.Linear`` per layer of the
:mod:`~nnstudio.core.export.plan` (a layered dense network is a chain of them), the weights
written in full, a data loader reading the dataset CSV written beside it, and a training loop
with the project's loss, optimizer, learning rate, batch size, seed and epochs under
``if __name__ == "__main__":``. It reproduces NN Studio exactly, in float64:

* the forward pass: per-neuron activations (one layer per activation within a depth), skip
  connections (a layer's input concatenates earlier layers), absent connections (a masked
  linear layer keeps them at 0), softmax outputs as one group, derived inputs computed from
  the data, and the image layers: ``nn.Conv2d`` (NN Studio's 'same' padding, which puts the
  odd row or column at the bottom and right, as an explicit ``F.pad``), ``max_pool2d`` /
  ``avg_pool2d`` and ``flatten`` in NN Studio's (channel, row, column) order;
* the loss with NN Studio's reduction; the cross-entropies from the raw sums in the exact
  forms of :func:`nnstudio.core.losses.cross_entropy`, never from clipped probabilities;
* the regularization penalty on every weight (filters included, never a bias) and the
  minimum step that stops training early;
* the optimizer with NN Studio's constants (``torch.optim`` implements the same formulas);
* the batches: NumPy's ``default_rng(seed)``, one permutation per epoch, as the trainer draws
  them; the same seeded validation split;
* locked parameters (and locked filters): never moved (``requires_grad`` off, or a gradient
  mask per entry).

This module only writes text; torch is never imported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import datasets, losses, optimizers, regularization
from ..project import Project
from ..trainer import TrainSettings
from . import plan as plans
from .output import write_files
from .plan import (
    ConvLayer,
    DenseLayer,
    ExportError,
    ExportPlan,
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
    flag,
    forward_body,
    image_summary,
    input_neurons_function,
    names_list,
    number,
)

# activation name -> an expression of ``z`` (PyTorch), exactly NN Studio's function
TORCH_ACTIVATIONS: dict[str, str] = {
    "identity": "{z}",
    "relu": "torch.relu({z})",
    "leaky_relu": "F.leaky_relu({z}, {slope})",
    "sigmoid": "torch.sigmoid({z})",
    "tanh": "torch.tanh({z})",
    "softplus": "softplus({z})",
    "binary_step": "binary_step({z})",
    "softmax": "torch.softmax({z}, dim=1)",
}

# derived input name -> an expression of the data's first two columns {0}, {1} (PyTorch)
TORCH_DERIVED: dict[str, str] = {
    "x1^2": "{0} * {0}", "x2^2": "{1} * {1}", "x1*x2": "{0} * {1}",
    "sin(x1)": "torch.sin({0})", "sin(x2)": "torch.sin({1})",
}

HELPERS = {
    "binary_step": '''
def binary_step(z):
    """1 where z > 0, else 0. Its gradient is 0 everywhere, as in NN Studio (gradient descent
    cannot train through it); the ``0.0 * z`` keeps z in the graph so that backward() runs."""
    return (z > 0).to(z.dtype) + 0.0 * z
''',
    "softplus": '''
def softplus(z):
    """log(1 + e^z). PyTorch's own switches to z above z = 20, a step float64 shows (NN
    Studio's softplus(20) is 20 + 2.1e-9); this one only above 40, past float64's last digit."""
    return F.softplus(z, threshold=40.0)
''',
    "masked": '''
class MaskedLinear(nn.Linear):
    """nn.Linear for a layer whose neurons are not connected to every input: ``connected``
    (neurons x inputs, 1 or 0) multiplies the weights, so an absent connection stays 0."""

    def __init__(self, connected, dtype=DTYPE):
        mask = torch.tensor(connected, dtype=dtype)
        super().__init__(mask.shape[1], mask.shape[0], dtype=dtype)
        self.register_buffer("connected", mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.connected, self.bias)
''',
    "bias_only": '''
class BiasOnly(nn.Module):
    """Neurons without incoming connections: their raw sum is their bias, on every row."""

    def __init__(self, n, dtype=DTYPE):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(n, dtype=dtype))

    def forward(self, x):
        return self.bias.expand(len(x), -1)
''',
    "locked": '''
def keep_fixed(parameter, locked):
    """Zero the gradient of the entries where ``locked`` is 1, so that no optimizer moves them
    (their running averages stay 0, and an update of 0 leaves them where they are)."""
    free = 1.0 - torch.tensor(locked, dtype=parameter.dtype).reshape(parameter.shape)
    parameter.register_hook(lambda grad: grad * free)
''',
}

# NN Studio loss name -> (docstring, body lines computing ``loss`` from model, x, y), for the
# losses computed from the outputs' activations
_LOSS_CODE: dict[str, tuple[str, str]] = {
    "ssr": ("the sum over every\n    row and output of (y - a)^2.",
            "return F.mse_loss(model(x), y, reduction=\"sum\")"),
    "mse": ("the mean over every\n    row and output of (y - a)^2.",
            "return F.mse_loss(model(x), y)"),
    "mae": ("the mean over every\n    row and output of |y - a|.",
            "return F.l1_loss(model(x), y)"),
}

# the cross-entropies, computed from the raw sums z as NN Studio computes them
# (nnstudio.core.losses.cross_entropy): exact at any saturation, never from clipped a
_YLOG = '''
def ylog(y, log_p):
    """y log p, with 0 log 0 = 0 (a target of 0 asks nothing of that probability)."""
    return torch.where(y != 0, y * torch.where(y != 0, log_p, 0.0), 0.0)
'''
_LOG_SOFTPLUS = '''
def log_softplus(z):
    """log(softplus(z)), exact where softplus(z) itself underflows: for z <= 0, softplus(z) =
    log1p(u) with u = e^z, so log softplus(z) = z + log(log1p(u) / u) (z alone once u is 0).
    Each branch is computed on values where it is finite, so that no NaN reaches a gradient."""
    positive = z > 0
    zp = torch.where(positive, z, 1.0)
    zn = torch.where(positive, -1.0, z)
    u = torch.exp(zn)
    safe = torch.where(u > 0, u, 1.0)
    ratio = torch.where(u > 0, torch.log1p(safe) / safe, 1.0)
    return torch.where(positive, torch.log(softplus(zp)), zn + torch.log(ratio))
'''


def _columns_by_kind(acts: list[str]) -> dict[str, list[int]]:
    by: dict[str, list[int]] = {}
    for k, a in enumerate(acts):
        by.setdefault(a, []).append(k)
    return by


def _log_probability_code(loss: str, acts: list[str]) -> list[str]:
    """``log_probabilities(z)``: (log a, log(1 - a)) of every output (only log a for
    categorical cross-entropy) from the raw sums, in NN Studio's forms: log-sigmoid for a
    sigmoid output, log-softmax over the softmax outputs (log(1 - a_k) as the log-sum-exp of
    the others minus that of all), log-softplus for a softplus output."""
    by = _columns_by_kind(acts)
    kinds = [k for k in ("sigmoid", "softmax", "softplus") if k in by]
    order = [c for k in kinds for c in by[k]]
    back = [order.index(c) for c in range(len(acts))]
    both = loss == "bce"
    lines = ["def log_probabilities(z):",
             *docstring("The log of each output's activation" +
                        (" and of one minus it" if both else "") +
                        ", from the raw sums z (rows x outputs) without ever forming the "
                        "activation, as NN Studio computes them: exact at any saturation.",
                        "    ")]
    for k in kinds:
        lines.append(f"    z_{k} = z[:, {by[k]!r}]  # the {k} outputs")
    log_a: list[str] = []
    log_1ma: list[str] = []
    if "sigmoid" in by:
        log_a.append("-softplus(-z_sigmoid)")
        log_1ma.append("-softplus(z_sigmoid)")
    if "softmax" in by:
        log_a.append("torch.log_softmax(z_softmax, dim=1)")
        if both and len(by["softmax"]) == 1:
            lines.append("    one = torch.full_like(z_softmax, -torch.inf)  # a softmax of one "
                         "output is 1")
            log_1ma.append("one")
        elif both:
            lines += [
                "    others = torch.zeros((z_softmax.shape[1],) * 2, dtype=z.dtype)",
                "    others.fill_diagonal_(-torch.inf)  # row k: every softmax output but k",
                "    total = torch.logsumexp(z_softmax, dim=1, keepdim=True)",
                "    rest = torch.logsumexp(z_softmax.unsqueeze(1) + others, dim=2)",
            ]
            log_1ma.append("rest - total")
    if "softplus" in by:
        log_a.append("log_softplus(z_softplus)")
    back_expr = "" if back == list(range(len(acts))) else f"[:, {back!r}]"

    def joined(parts: list[str]) -> str:
        return parts[0] if len(parts) == 1 else f"torch.cat([{', '.join(parts)}], dim=1)"

    lines.append(f"    log_a = {joined(log_a)}")
    if both:
        lines.append(f"    log_1ma = {joined(log_1ma)}")
    if back_expr:
        lines.append("    # back in the outputs' order")
    if both:
        lines.append(f"    return log_a{back_expr}, log_1ma{back_expr}")
    else:
        lines.append(f"    return log_a{back_expr}")
    return lines


def _cross_entropy_code(loss: str, acts: list[str]) -> tuple[str, list[str], list[str]]:
    """(docstring, body lines, helper blocks) of ``loss_fn`` for a cross-entropy."""
    kinds = set(acts)
    if loss == "bce" and kinds == {"sigmoid"}:
        return ("from the raw sums z, the mean over every row and output of y softplus(-z) + "
                "(1 - y) softplus(z) (two positive terms: a tiny loss keeps its digits).",
                ["z = model.logits(x)",
                 "return torch.mean(y * softplus(-z) + (1.0 - y) * softplus(z))"], [])
    if loss == "cross_entropy" and kinds == {"softmax"}:
        return ("-sum y log softmax(z) over the outputs, averaged over the rows, from the raw "
                "sums z.",
                ["return -torch.sum(ylog(y, torch.log_softmax(model.logits(x), dim=1))) / "
                 "len(x)"], [_YLOG])
    helpers = [_YLOG] + ([_LOG_SOFTPLUS] if "softplus" in kinds else [])
    helpers.append("\n" + "\n".join(_log_probability_code(loss, acts)) + "\n")
    if loss == "bce":
        return ("the mean over every row and output of -(y log a + (1 - y) log(1 - a)), with "
                "log a and log(1 - a) from the raw sums (log_probabilities).",
                ["log_a, log_1ma = log_probabilities(model.logits(x))",
                 "return -torch.mean(ylog(y, log_a) + ylog(1.0 - y, log_1ma))"], helpers)
    return ("-sum y log a over the outputs, averaged over the rows, with log a from the raw "
            "sums (log_probabilities).",
            ["return -torch.sum(ylog(y, log_probabilities(model.logits(x)))) / len(x)"],
            helpers)


def _optimizer_code(name: str, lr: float) -> tuple[str, str]:
    """(description, expression) of ``torch.optim`` doing NN Studio's optimizer ``name``."""
    opt = optimizers.make(name, lr)
    if isinstance(opt, optimizers.Adam):
        return (f"Adam with NN Studio's constants: betas {opt.beta1!r} and {opt.beta2!r}, "
                f"eps {opt.eps!r}",
                f"torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, "
                f"betas=({opt.beta1!r}, {opt.beta2!r}), eps={opt.eps!r})")
    if isinstance(opt, optimizers.RMSprop):
        return (f"RMSprop with NN Studio's constants: rho (PyTorch's alpha) {opt.rho!r}, "
                f"eps {opt.eps!r}",
                f"torch.optim.RMSprop(model.parameters(), lr=LEARNING_RATE, "
                f"alpha={opt.rho!r}, eps={opt.eps!r})")
    if isinstance(opt, optimizers.Momentum):
        return (f"SGD with momentum {opt.beta!r}: v = {opt.beta!r} v + g, p -= lr v",
                f"torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum={opt.beta!r})")
    title = optimizers.INFO[name].title
    return (f"{title}: p -= lr g",
            "torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)")


def parameter_names(plan: ExportPlan) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Where each NN Studio parameter lives in the exported model: parameter id ->
    (``state_dict`` name, index), e.g. ``"c3" -> ("layer1.weight", (0, 2))``."""
    out: dict[str, tuple[str, tuple[int, ...]]] = {}
    for layer in plan.dense_layers():
        name = f"layer{layer.index}"
        for i, row in enumerate(layer.connection_ids):
            for j, cid in enumerate(row):
                if cid is not None:
                    out[cid] = (f"{name}.weight", (j, i))
        for j, nid in enumerate(layer.neuron_ids):
            out[nid] = (f"{name}.bias", (j,))
    for conv in plan.convolutions():
        f, c, k, _ = conv.weight.shape
        name, per = f"layer{conv.index}", c * k * k + 1   # packed: weights, then the bias
        for n, pid in enumerate(conv.param_ids):
            row, col = divmod(n, per)
            out[pid] = (f"{name}.bias", (row,)) if col == per - 1 else \
                (f"{name}.weight", (row, *np.unravel_index(col, (c, k, k))))
    return out


def _act(activation: str, z: str, slope: float) -> str:
    return activation_expr(TORCH_ACTIVATIONS, "PyTorch", activation, z, slope)


def _cat(pieces: list[str]) -> str:
    return pieces[0] if len(pieces) == 1 else f"torch.cat([{', '.join(pieces)}], dim=1)"


def _describe_sources(plan: ExportPlan, layer: DenseLayer) -> str:
    parts = []
    for s in layer.sources:
        src = plan.column_layer(s.layer)
        what = "x" if s.layer == 0 else f"layer{s.layer}"
        cols = src.labels if s.columns is None else [src.labels[c] for c in s.columns]
        parts.append(f"{what} ({names_list(cols)})")
    return ", ".join(parts) if parts else "nothing (biases only)"


# ---------------------------------------------------------------------- layer writers
# kind -> (the line(s) in __init__, the expression computing the raw sums from the input)
def _dense_init(plan: ExportPlan, layer: DenseLayer, needs: set[str]) -> list[str]:
    name = f"self.layer{layer.index}"
    act = layer.activation if layer.activation != "leaky_relu" else \
        f"leaky_relu, slope {number(layer.slope)}"
    lines = comment_lines(
        f"layer{layer.index} (depth {layer.depth}): {count(layer.size, 'neuron')} "
        f"{names_list(layer.labels)}, {act}, from {_describe_sources(plan, layer)}", "        ")
    if layer.n_inputs == 0:
        needs.add("bias_only")
        lines.append(f"{name} = BiasOnly({layer.size})")
    elif layer.fully_connected:
        lines.append(f"{name} = nn.Linear({layer.n_inputs}, {layer.size}, dtype=DTYPE)")
    else:
        needs.add("masked")
        lines.append(f"{name} = MaskedLinear(CONNECTED[\"layer{layer.index}\"])")
    return lines


def _dense_forward(layer: DenseLayer, inputs: str | None, model_input: str) -> str:
    # (a BiasOnly layer reads only the number of rows of the model's input)
    return f"self.layer{layer.index}({model_input if inputs is None else inputs})"


def _image_init(plan: ExportPlan, layer: ImageLayer, needs: set[str]) -> list[str]:
    lines = comment_lines(f"layer{layer.index}: {image_summary(plan, layer)}", "        ")
    if isinstance(layer, ConvLayer):
        sh = layer.shape
        lines.append(f"self.layer{layer.index} = nn.Conv2d({sh.in_shape[0]}, {sh.filters}, "
                     f"{sh.kernel}, stride={sh.stride}, dtype=DTYPE)")
    return lines


def _image_forward(layer: ImageLayer, step: ImageStep) -> str:
    src = step.source
    if isinstance(layer, ImageInputLayer):
        c, h, w = layer.shape
        return f"{src}[:, {layer.column}:{layer.column + layer.size}].reshape(-1, {c}, {h}, {w})"
    if isinstance(layer, ConvLayer):
        top, bottom, left, right = layer.shape.pads
        if any(layer.shape.pads):  # (NN Studio's 'same' padding: more at the bottom and right)
            src = f"F.pad({src}, ({left}, {right}, {top}, {bottom}))"
        return _act(layer.activation, f"self.layer{layer.index}({src})", layer.slope)
    if isinstance(layer, PoolLayer):
        pool = "max_pool2d" if layer.shape.mode == "max" else "avg_pool2d"
        return f"F.{pool}({src}, {layer.shape.window}, {layer.shape.step})"
    return f"{src}.flatten(1)"


# kind -> (the line(s) in __init__, the forward expression)
LAYER_WRITERS: dict[str, tuple[Callable, Callable]] = {
    "dense": (_dense_init, _dense_forward),
    "image_input": (_image_init, _image_forward),
    "convolution": (_image_init, _image_forward),
    "pooling": (_image_init, _image_forward),
    "flatten": (_image_init, _image_forward),
}


def _writer(layer: Layer) -> tuple[Callable, Callable]:
    return layer_writer(LAYER_WRITERS, layer, "PyTorch")


# ---------------------------------------------------------------------- the script
def script(project: Project, data_file: str = "data.csv") -> str:
    """The PyTorch script of ``project`` as text; it reads its dataset from ``data_file``
    (a name resolved beside the script). Raises ExportError if it cannot be written."""
    net, ds, st = project.network, project.dataset, project.settings
    trained_slopes = net.slope_neurons()
    if trained_slopes:   # the script would train every other parameter but not these
        raise ExportError(
            f"the PyTorch script cannot train a leaky slope yet (parametric ReLU): "
            f"{net.name(trained_slopes[0].id)} has 'Train slope' on; turn it off to export "
            f"(the NumPy and ONNX exports keep the slope's current value)")
    plan = plans.build(net, st.loss)
    _check_dataset(plan, ds)
    problem = losses.probability_problem(st.loss, plan.output_activations, plan.output_labels)
    if problem:  # (the trainer refuses it too)
        raise ExportError(problem)
    fwd = plans.forward(plan)
    needs: set[str] = set()

    init: list[str] = []
    computed = {st_.layer.index for st_ in fwd.images}
    for layer in plan.layers[1:]:
        if isinstance(layer, (DenseLayer, ConvLayer)) or layer.index in computed:
            init += _writer(layer)[0](plan, layer, needs)  # (every parameter is declared)
    locks = _lock_lines(plan)
    if any(line.startswith("keep_fixed") for line in locks):
        needs.add("locked")

    def linear(step: LayerStep, inputs: str | None) -> str:
        return str(_writer(step.layer)[1](step.layer, inputs, fwd.param))

    def image(step: ImageStep) -> str:
        return str(_writer(step.layer)[1](step.layer, step))

    body = forward_body(fwd, linear, _act, _cat, image=image)
    conv_acts = {st_.layer.activation for st_ in fwd.images if isinstance(st_.layer, ConvLayer)}
    for act in {s.layer.activation for s in fwd.steps} | set(plan.output_activations) | \
            conv_acts:
        if act in HELPERS:
            needs.add(act)

    x = fwd.param
    doc = (f'        """The outputs {names_list(plan.output_labels)} for each row of {x} '
           f'(rows x {plan.n_inputs})."""')
    if fwd.shared is not None:
        shared_act, slope = fwd.shared
        methods = [
            f"    def logits(self, {x}):",
            f'        """The output neurons\' raw sums z (rows x {plan.n_outputs}), before '
            f'their {shared_act}."""',
            *("        " + line for line in body),
            "",
            f"    def forward(self, {x}):",
            doc,
            f"        return {_act(shared_act, f'self.logits({x})', slope)}",
        ]
    else:
        methods = [f"    def forward(self, {x}):", doc, *("        " + line for line in body)]
        if losses.get(st.loss).exact_for:  # the cross-entropies read every output's raw sum
            raw = forward_body(plans.forward(plan, logits=True), linear, _act, _cat,
                               image=image)
            methods = [
                f"    def logits(self, {x}):",
                f'        """The output neurons\' raw sums z (rows x {plan.n_outputs}), before '
                'their activations."""',
                *("        " + line for line in raw),
                "",
                *methods,
            ]

    loss_helpers: list[str] = []
    if losses.get(st.loss).exact_for:
        loss_doc, loss_lines, loss_helpers = _cross_entropy_code(st.loss,
                                                                 plan.output_activations)
        needs.add("softplus")
    else:
        doc_text, code = _LOSS_CODE[st.loss]
        loss_doc, loss_lines = " ".join(doc_text.split()), [code]
    opt_doc, opt_expr = _optimizer_code(st.optimizer, st.learning_rate)
    title = losses.get(st.loss).title

    out: list[str] = [
        '"""A neural network exported from NN Studio as a standalone PyTorch script.',
        "",
        "    python THIS_FILE [--epochs N] [--save FILE]",
        "        trains it as NN Studio does and prints the loss after every epoch",
        "    import it as a module",
        "        gives Net, load_data, split, data_loader, loss_fn, penalty, objective,",
        "        make_optimizer and train;",
        "        nothing runs",
        "",
        f"The network: {_summary(plan)} (see Net). Its weights and biases",
        "are NN Studio's, every digit, in PARAMETERS at the end of this file; the dataset is read",
        "from DATA_FILE beside it. Everything computes in float64 as NN Studio does, and the",
        "batches come in NN Studio's order, so the loss per epoch is NN Studio's own (`nnstudio",
        "train --json`), up to rounding in the last digits.",
        '"""',
        "",
        "import argparse",
        "import csv",
        "from pathlib import Path",
        "",
        "import numpy as np",
        "import torch",
        "import torch.nn.functional as F",
        "from torch import nn",
        "",
        f"PROJECT = {project.name!r}",
        f"DATA_FILE = Path(__file__).with_name({data_file!r})",
        f"INPUTS = {list(ds.input_names)!r}  # the dataset's input columns, in order",
        f"TARGETS = {list(ds.target_names)!r}  # its target columns, one per output neuron",
        f"LOSS = {st.loss!r}  # {title}",
        f"OPTIMIZER = {st.optimizer!r}  # {optimizers.INFO[st.optimizer].title}",
        f"LEARNING_RATE = {number(st.learning_rate)}",
        f"BATCH_SIZE = {st.batch_size!r}  # rows per step; 0: the whole dataset",
        f"EPOCHS = {st.epochs!r}",
        f"SEED = {st.seed!r}  # decides the shuffling order and the validation split",
        f"VALIDATION_SPLIT = {number(st.validation_split)}",
        f"REGULARIZATION = {st.regularization!r}  # {_regularization_title(st)}",
        f"REGULARIZATION_RATE = {number(st.regularization_rate)}",
        f"MIN_STEP = {number(st.min_step)}  # stop once no update moves a parameter this much; "
        "0: off",
        "DTYPE = torch.float64",
    ]
    for key in ("binary_step", "softplus", "bias_only", "masked", "locked"):
        if key in needs:
            out += ["", HELPERS[key].rstrip()]
    if plan.input_layer.derived:
        out += ["", "", *input_neurons_function(plan.input_layer, TORCH_DERIVED, "PyTorch",
                                                  _cat)]
    out += [
        "",
        "",
        "class Net(nn.Module):",
        *docstring(f"The network of the NN Studio project '{comment_text(project.name)}': "
                   f"inputs {names_list(_input_names(plan))}; outputs "
                   f"{names_list(plan.output_labels)}. __init__ describes each layer.", "    "),
        "",
        "    def __init__(self):",
        "        super().__init__()",
        *("        " + line for line in init),
        "        load_parameters(self, PARAMETERS)",
        *("        " + line for line in locks),
        "",
        *methods,
        "",
        "",
        "def load_parameters(model, parameters):",
        '    """Copy values (state_dict name -> nested lists) into the model\'s parameters."""',
        "    with torch.no_grad():",
        "        for name, value in parameters.items():",
        "            parameter = model.get_parameter(name)",
        "            parameter.copy_(torch.tensor(value, dtype=DTYPE).reshape(parameter.shape))",
    ]
    for block in loss_helpers:
        out += ["", block.rstrip()]
    out += [
        "",
        "",
        "def loss_fn(model, x, y):",
        *docstring(f"NN Studio's loss, {title.lower()} ({st.loss}): {loss_doc}", "    "),
        *("    " + line for line in loss_lines),
        "",
        "",
        *_penalty_code(st),
        "",
        "",
        "def objective(model, x, y):",
        '    """What training minimises: the loss plus the regularization penalty."""',
        "    return loss_fn(model, x, y) + penalty(model)",
        "",
        "",
        "def make_optimizer(model):",
        f'    """{opt_doc}."""',
        f"    return {opt_expr}",
        "",
        "",
        _DATA_AND_TRAINING.strip("\n"),
        "",
        "",
        "# ------------------------------------------------------------------ NN Studio's values",
        "# state_dict name -> value; a weight matrix is neurons x inputs, as nn.Linear holds it",
        "PARAMETERS = {",
    ]
    for conv in plan.convolutions():  # a filter as one row: its weights in (channel, row,
        name = f"layer{conv.index}"     # column) order
        weights = conv.weight.reshape(len(conv.weight), -1)
        out.append(f'    "{name}.weight": {array_literal(weights, "    ")},')
        out.append(f'    "{name}.bias": {array_literal(conv.bias, "    ")},')
    for layer in plan.dense_layers():
        name = f"layer{layer.index}"
        if layer.n_inputs:
            out.append(f'    "{name}.weight": {array_literal(layer.weight.T, "    ")},')
        out.append(f'    "{name}.bias": {array_literal(layer.bias, "    ")},')
    out.append("}")
    masked = [layer for layer in plan.dense_layers()
              if layer.n_inputs and not layer.fully_connected]
    if masked:
        out += ["# 1 where NN Studio has a connection, 0 where it has none (held at 0)",
                "CONNECTED = {"]
        for layer in masked:
            lit = array_literal(layer.present.T, "    ", fmt=flag)
            out.append(f'    "layer{layer.index}": {lit},')
        out.append("}")
    lock_tables = _lock_tables(plan)
    if lock_tables:
        out += ["# 1 where the parameter is locked in NN Studio (training never moves it)",
                "LOCKED = {"]
        for key, mask in lock_tables:
            out.append(f'    "{key}": {array_literal(mask, "    ", fmt=flag)},')
        out.append("}")
    out += [
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
        "",
    ]
    return "\n".join(out)


def _input_names(plan: ExportPlan) -> list[str]:
    """The images (with their shape) and the input neurons, as a docstring lists them."""
    images = [f"{comment_text(layer.label, 24)} ({' x '.join(map(str, layer.shape))})"
              for layer in plan.image_layers() if isinstance(layer, ImageInputLayer)]
    return images + plan.input_layer.labels


def _summary(plan: ExportPlan) -> str:
    """``2 inputs -> 16 tanh -> 1 sigmoid`` for a chain; a count of layers otherwise."""
    if plan.is_sequential():
        parts = [count(plan.n_inputs, "input")]
        parts += [f"{layer.size} {layer.activation}" for layer in plan.dense_layers()]
        return " → ".join(parts)
    n = len(plan.dense_layers())
    images = [layer for layer in plan.image_layers() if isinstance(layer, ImageInputLayer)]
    if images:
        maps = [layer.kind for layer in plan.image_layers()
                if isinstance(layer, (ConvLayer, PoolLayer))]
        front = ", ".join(f"{count(maps.count(k), k.replace('ing', 'ing layer'))}"
                          for k in ("convolution", "pooling") if k in maps)
        return (f"{count(len(images), 'image')} through {front or 'no layer'}, then "
                f"{count(n, 'dense layer')}, {count(plan.n_outputs, 'output')}")
    return f"{plan.n_inputs} inputs, {n} layers (with skip connections), {plan.n_outputs} outputs"


def _conv_locks(conv: ConvLayer) -> list[tuple[str, np.ndarray]]:
    """(state_dict name, locked mask) of a convolution's weight (one row per filter) and
    bias: a filter is locked whole."""
    locked = ~conv.trainable
    per = conv.weight[0].size
    return [(f"layer{conv.index}.weight", np.repeat(locked[:, None], per, axis=1)),
            (f"layer{conv.index}.bias", locked)]


def _lock_tables(plan: ExportPlan) -> list[tuple[str, np.ndarray]]:
    """(state_dict name, locked mask) for every parameter with some but not all entries locked."""
    out = [(key, mask) for conv in plan.convolutions() for key, mask in _conv_locks(conv)
           if mask.any() and not mask.all()]
    for layer in plan.dense_layers():
        name = f"layer{layer.index}"
        if layer.n_inputs:
            locked = layer.locked_weights.T
            if locked.any() and not (locked | ~layer.present.T).all():
                out.append((f"{name}.weight", locked))
        bias_locked = ~layer.bias_trainable
        if bias_locked.any() and not bias_locked.all():
            out.append((f"{name}.bias", bias_locked))
    return out


def _lock_lines(plan: ExportPlan) -> list[str]:
    """__init__ lines keeping locked parameters fixed: ``requires_grad_(False)`` for a wholly
    locked tensor (absent connections count as locked), a gradient mask otherwise."""
    lines: list[str] = []
    partial = {key for key, _ in _lock_tables(plan)}
    for conv in plan.convolutions():
        for key, mask in _conv_locks(conv):
            if key in partial:
                lines.append(f'keep_fixed(self.{key}, LOCKED["{key}"])')
            elif mask.all():
                lines.append(f"self.{key}.requires_grad_(False)")
    for layer in plan.dense_layers():
        name = f"layer{layer.index}"
        tensors = [("bias", ~layer.bias_trainable)]
        if layer.n_inputs:
            tensors.insert(0, ("weight", layer.locked_weights.T | ~layer.present.T))
        for what, locked in tensors:
            key = f"{name}.{what}"
            if key in partial:
                lines.append(f'keep_fixed(self.{key}, LOCKED["{key}"])')
            elif locked.size and locked.all() and (what == "bias" or layer.locked_weights.any()):
                lines.append(f"self.{key}.requires_grad_(False)")
    if lines:
        lines.insert(0, "# parameters locked in NN Studio: training never moves them")
    return lines


_DATA_AND_TRAINING = '''
def load_data(path=DATA_FILE):
    """The dataset as float64 tensors: X (rows x inputs) and Y (rows x targets)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    header = [cell.strip() for cell in rows[0]] if rows else []
    if header != INPUTS + TARGETS:
        raise SystemExit(f"{path}: expected the columns {INPUTS + TARGETS}, found {header}")
    data = torch.tensor([[float(cell) for cell in row] for row in rows[1:]], dtype=DTYPE)
    data = data.reshape(len(rows) - 1, len(header))
    return data[:, :len(INPUTS)], data[:, len(INPUTS):]


def split(X, Y, fraction=VALIDATION_SPLIT, seed=SEED):
    """NN Studio's seeded split: (X_train, Y_train, X_val, Y_val). A permutation drawn with the
    seed puts round(rows x fraction) rows first; they are the validation rows."""
    n = len(X)
    n_val = int(round(n * fraction))
    if fraction <= 0 or n_val == 0 or n_val >= n:
        return X, Y, X[:0], Y[:0]
    order = torch.from_numpy(np.random.default_rng(seed).permutation(n))
    val, train = order[:n_val], order[n_val:]
    return X[train], Y[train], X[val], Y[val]


class ShuffledBatches(torch.utils.data.Sampler):
    """NN Studio's batches. With gradient descent, or a batch size of 0 or of at least the
    number of rows, every step takes all rows in their order. Otherwise every epoch draws one
    permutation of the rows from a generator seeded once with SEED and cuts it into batches of
    BATCH_SIZE rows (the last one may be shorter)."""

    def __init__(self, n, batch_size=BATCH_SIZE, seed=SEED, optimizer=OPTIMIZER):
        self.n = n
        full = optimizer == "gd" or batch_size <= 0 or batch_size >= n
        self.batch_size = n if full else batch_size
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return -(-self.n // self.batch_size)

    def __iter__(self):
        if self.batch_size >= self.n:
            yield torch.arange(self.n)
            return
        order = torch.from_numpy(self.rng.permutation(self.n))
        for lo in range(0, self.n, self.batch_size):
            yield order[lo:lo + self.batch_size]


def data_loader(X, Y):
    """A DataLoader giving (x, y) batches in NN Studio's order (see ShuffledBatches)."""
    data = torch.utils.data.TensorDataset(X, Y)
    return torch.utils.data.DataLoader(data, sampler=ShuffledBatches(len(X)), batch_size=None)


def evaluate(model, X, Y):
    """The loss over all of X, Y (NN Studio's loss per epoch), without gradients."""
    with torch.no_grad():
        return loss_fn(model, X, Y).item()


def train(model, epochs=EPOCHS, path=DATA_FILE):
    """Train as NN Studio does, printing the loss before training and after every epoch (and
    the penalty, when the project regularizes its weights). Every step follows the gradient of
    objective(): the loss of the batch plus the penalty. With MIN_STEP, training stops early
    after the first update that moves no parameter by MIN_STEP or more, as NN Studio does."""
    X, Y = load_data(path)
    if len(X) == 0:
        raise SystemExit(f"{path}: the dataset has no rows to train on")
    X, Y, X_val, Y_val = split(X, Y)
    loader = data_loader(X, Y)
    optimizer = make_optimizer(model)

    def report(epoch):
        line = f"epoch {epoch}  loss {evaluate(model, X, Y):.12g}"
        if len(X_val):
            line += f"  validation loss {evaluate(model, X_val, Y_val):.12g}"
        if REGULARIZATION != "none":
            with torch.no_grad():
                line += f"  penalty {float(penalty(model)):.12g}"
        print(line, flush=True)

    report(0)
    updates = 0
    for epoch in range(1, epochs + 1):
        for batch, (x, y) in enumerate(loader):
            before = [p.detach().clone() for p in model.parameters()] if MIN_STEP > 0 else []
            optimizer.zero_grad()
            value = objective(model, x, y)
            if not torch.isfinite(value):
                raise SystemExit(f"training diverged: the loss became {value.item()} in epoch "
                                 f"{epoch}")
            if value.requires_grad:   # (False when every parameter is locked)
                value.backward()
                optimizer.step()
            updates += 1
            if MIN_STEP > 0:
                step = max(float((p.detach() - b).abs().max()) for p, b in
                           zip(model.parameters(), before))
                if step < MIN_STEP:
                    report(epoch)
                    done = epoch if batch == len(loader) - 1 else epoch - 1
                    print(f"stopped early: the largest step, {step:.3g}, fell below the minimum "
                          f"step {MIN_STEP:g} at update {updates} (epoch {done})", flush=True)
                    return model
        report(epoch)
    return model


def main():
    parser = argparse.ArgumentParser(description=f"Train {PROJECT!r} as NN Studio does.")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"default {EPOCHS}")
    parser.add_argument("--save", metavar="FILE", help="write the trained state_dict to FILE")
    args = parser.parse_args()
    model = train(Net(), args.epochs)
    if args.save:
        torch.save(model.state_dict(), args.save)
'''


def _regularization_title(st: TrainSettings) -> str:
    info = regularization.KINDS[st.regularization]
    return "no penalty" if st.penalty is None else f"{info.title}: {info.formula}"


def _penalty_code(st: TrainSettings) -> list[str]:
    """``def penalty(model)``: NN Studio's regularization penalty on every connection weight
    (never a bias), added once to every step's loss (:mod:`~nnstudio.core.regularization`)."""
    pen = st.penalty
    if pen is None:
        return ["def penalty(model):",
                '    """NN Studio\'s regularization penalty: none in this project."""',
                "    return 0.0"]
    term = "torch.sum(w * w)" if pen.kind == "l2" else "torch.sum(torch.abs(w))"
    what = "squared" if pen.kind == "l2" else "absolute value"
    return [
        "def penalty(model):",
        *docstring(f"NN Studio's {pen.info.title} regularization: REGULARIZATION_RATE times "
                   f"the sum of every connection weight's {what} (locked ones included; "
                   "biases never; a weight matrix holds 0 where there is no connection), "
                   "added once to the loss of every step.", "    "),
        "    weights = [p for name, p in model.named_parameters() if name.endswith(\".weight\")]",
        f"    return REGULARIZATION_RATE * sum({term} for w in weights)",
    ]


def _check_dataset(plan: ExportPlan, ds: datasets.Dataset) -> None:
    if ds.n_inputs != plan.n_inputs or ds.n_targets != plan.n_outputs:
        raise ExportError(
            f"the dataset has {ds.n_inputs} input and {ds.n_targets} target column(s) but the "
            f"network has {plan.n_inputs} input and {plan.n_outputs} output neuron(s)")


def data_path(path: str | os.PathLike[str]) -> Path:
    """Where the script at ``path`` finds its dataset: the same name with ``.csv``."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        raise ExportError(f"{os.fspath(path)!r}: the script needs a name other than .csv "
                          "(its dataset is written beside it as a .csv file)")
    return p.with_suffix(".csv")


def write(project: Project, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write the script to ``path`` and its dataset CSV beside it (each atomically); returns
    both paths. Raises ExportError, with nothing written, if the project cannot be exported
    (OutputError if a file cannot be written)."""
    csv_path = data_path(path)
    text = script(project, csv_path.name)
    data = datasets.format_csv(project.dataset, labels=False)
    write_files([(csv_path, data.encode("utf-8")), (path, text.encode("utf-8"))])
    return Path(path), csv_path


__all__ = ["script", "write", "data_path", "parameter_names", "TORCH_ACTIVATIONS", "TORCH_DERIVED",
           "LAYER_WRITERS"]

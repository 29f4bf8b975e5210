"""Writing Python source safely: literals, comments and wrapped lines for the script writers.

Nothing from a project reaches generated code except through these helpers: text (labels,
names, column names) becomes a ``repr`` literal or a comment with every non-printable
character replaced, so no label can end a comment line and inject code. Numbers are written
with ``repr`` of Python floats, which reads back bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .plan import (
    ConvLayer,
    ExportPlan,
    FlattenLayer,
    Forward,
    ImageInputLayer,
    ImageLayer,
    ImageStep,
    InputLayer,
    LayerStep,
    PoolLayer,
    lookup,
)

WIDTH = 100  # the generated scripts' line length


def comment_text(text: str, limit: int = 60) -> str:
    """``text`` for a ``#`` comment or a docstring: one line, printable, no quotes run or
    backslash that could end a docstring, at most ``limit`` characters."""
    s = "".join(ch if ch.isprintable() and ch not in "\\\"'" else "?" for ch in str(text))
    return s if len(s) <= limit else s[:limit - 1] + "…"


def names_list(labels: Sequence[str], limit: int = 4) -> str:
    """A short, comment-safe list of names: ``h1, h2, …, h16`` when there are many."""
    safe = [comment_text(lab, 24) for lab in labels]
    if len(safe) > limit:
        safe = [*safe[:limit - 1], "…", safe[-1]]
    return ", ".join(safe)


def count(n: int, noun: str) -> str:
    """``1 neuron``, ``16 neurons``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def wrap(text: str, indent: str = "", width: int = WIDTH, prefix: str = "",
         hang: str = "") -> list[str]:
    """``text`` (already safe for where it goes) in lines of at most ``width`` characters
    counting ``indent`` (returned without it), each starting with ``prefix``, the continuation
    lines with ``prefix + hang``."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        lead = prefix + (hang if lines else "")
        if line and len(indent) + len(lead) + len(line) + 1 + len(word) > width:
            lines.append(lead + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(prefix + (hang if lines else "") + line)
    return lines


def docstring(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    """``text`` (already docstring-safe) as a docstring's lines, each starting with
    ``indent``, the first opening and the last closing the triple quotes."""
    lines = wrap('"""' + text + '"""', indent, width)
    return [indent + line for line in lines]


def comment_lines(text: str, indent: str = "", width: int = WIDTH) -> list[str]:
    """``text`` (already comment-safe) as ``# `` lines wrapped to ``width``."""
    return wrap(text, indent, width, "# ", "  ")


def inline_return(body: list[str], expr: str) -> list[str]:
    """``body`` ending in ``return expr``; when its last line only binds ``expr``
    (``z3 = self.layer3(a2)``), that line becomes the return."""
    if body:
        name, sep, value = body[-1].partition(" = ")
        if sep and name == expr:
            return [*body[:-1], f"return {value}"]
    return [*body, f"return {expr}"]


def number(v: float) -> str:
    """A float literal that reads back exactly (``repr``); never NaN or infinity."""
    f = float(v)
    if not np.isfinite(f):
        raise ValueError(f"cannot write the non-finite number {f!r}")
    return repr(f)


def _wrapped(items: list[str], indent: str, width: int) -> list[str]:
    """``items`` joined by ", " into lines of at most ``width`` characters."""
    lines: list[str] = []
    line = ""
    for item in items:
        piece = item if not line else " " + item
        if line and len(indent) + len(line) + len(piece) + 1 > width:
            lines.append(indent + line + ",")
            line = item
        else:
            line = line + ("," if line else "") + piece
    if line:
        lines.append(indent + line)
    return lines


def array_literal(a: np.ndarray, indent: str = "", width: int = WIDTH,
                  fmt: Callable[[Any], str] = number) -> str:
    """A nested-list literal of a 1-D or 2-D array, one row per line (wrapped when long),
    indented by ``indent`` after the first line."""
    a = np.asarray(a)
    if a.ndim == 1:
        items = [fmt(v) for v in a.tolist()]
        one = "[" + ", ".join(items) + "]"
        if len(indent) + len(one) <= width:
            return one
        return "[\n" + "\n".join(_wrapped(items, indent + "    ", width)) + ",\n" + indent + "]"
    if a.ndim != 2:
        raise ValueError("only 1-D and 2-D arrays are written as literals")
    if a.shape[0] == 0:
        return "[]"
    rows = []
    for row in a:
        items = [fmt(v) for v in row.tolist()]
        one = "[" + ", ".join(items) + "]"
        if len(indent) + 4 + len(one) + 1 <= width:
            rows.append(indent + "    " + one + ",")
        else:
            body = _wrapped(items, indent + "     ", width)
            body[0] = indent + "    [" + body[0].lstrip()
            rows.append("\n".join(body) + "],")
    return "[\n" + "\n".join(rows) + "\n" + indent + "]"


def flag(v: bool) -> str:
    """A 0/1 literal for masks (short, readable in a row of a matrix)."""
    return "1" if v else "0"


def columns(name: str, cols: Sequence[int], total: int) -> str:
    """An expression selecting ``cols`` of the 2-D tensor or array ``name`` (of ``total``
    columns): the name itself, a slice for a contiguous run, else an index list."""
    cols = list(cols)
    if cols == list(range(total)):
        return name
    if cols and cols == list(range(cols[0], cols[-1] + 1)):
        return f"{name}[:, {cols[0]}:{cols[-1] + 1}]"
    return f"{name}[:, {cols!r}]"


def activation_expr(table: dict[str, str], writer: str, activation: str, z: str,
                    slope: float) -> str:
    """The expression applying ``activation`` to ``z``, from a writer's table of templates
    (``{z}`` and ``{slope}``); ExportError for an activation the table lacks."""
    template = lookup(table, activation, writer, f"the activation {activation!r}")
    return template.format(z=z, slope=number(slope))


def _dims(shape: tuple[int, ...]) -> str:
    return " \u00d7 ".join(map(str, shape))


def image_summary(plan: ExportPlan, layer: ImageLayer) -> str:
    """A comment-safe description of an image layer: what it computes, from what, and the
    shape of its input and output maps."""
    name = comment_text(layer.label, 40)
    if isinstance(layer, ImageInputLayer):
        return (f"image input '{name}': {_dims(layer.shape)} pixels, data columns "
                f"{layer.column} to {layer.column + layer.size - 1}")
    src = plan.layers[layer.source]
    assert isinstance(src, (ImageInputLayer, ConvLayer, PoolLayer))
    if isinstance(layer, FlattenLayer):
        return (f"flatten '{name}': the maps of layer{src.index} ({_dims(src.out_shape)}) as "
                f"{count(layer.size, 'feature neuron')}, channel by channel, row by row")
    change = f"{_dims(src.out_shape)} \u2192 {_dims(layer.out_shape)}"
    if isinstance(layer, ConvLayer):
        sh = layer.shape
        act = layer.activation if layer.activation != "leaky_relu" else \
            f"leaky_relu, slope {number(layer.slope)}"
        return (f"convolution '{name}': {count(sh.filters, 'filter')} {sh.kernel} \u00d7 "
                f"{sh.kernel} at stride {sh.stride}, '{sh.padding}' padding {sh.pads} (top, "
                f"bottom, left, right), {act}, from layer{src.index} ({change})")
    mode = "max" if layer.shape.mode == "max" else "average"
    w = layer.shape.window
    return (f"{mode} pooling '{name}': {w} \u00d7 {w} windows at stride {layer.shape.step}, "
            f"from layer{src.index} ({change})")


def input_neurons_function(layer: InputLayer, table: dict[str, str], writer: str,
                           cat: Callable[[list[str]], str]) -> list[str]:
    """``def input_neurons(data)``: every input neuron's value (rows x neurons, the network's
    order) from the data's columns, the derived inputs computed from its first two columns
    with a writer's table of templates (``{0}`` and ``{1}`` stand for those columns);
    ExportError for a derived input the table lacks."""
    first = layer.first_column
    column = [f"data[:, {k}:{k + 1}]" for k in (first, first + 1)]
    pieces = []
    for what in layer.pieces():
        if isinstance(what, list):
            pieces.append(columns("data", what, first + layer.n_data))
        else:
            template = lookup(table, what, writer, f"the derived input {what!r}")
            pieces.append(template.format(column[0], column[1]))
    derived = [lab for lab, d in zip(layer.labels, layer.derive, strict=True) if d is not None]
    return [
        "def input_neurons(data):",
        *docstring(f"The input neurons' values (rows x {layer.size}) from the data (rows x "
                   f"{layer.n_data}): the data's columns, and the derived inputs "
                   f"{names_list(derived)} computed from its first two columns as NN Studio "
                   "computes them.", "    "),
        f"    return {cat(pieces)}",
    ]


def forward_body(fwd: Forward, linear: Callable[[LayerStep, str | None], str],
                 act: Callable[[str, str, float], str], cat: Callable[[list[str]], str],
                 result: Callable[[str], str] = lambda e: e,
                 image: Callable[[ImageStep], str] | None = None) -> list[str]:
    """The lines of a forward pass in Python, ending in ``return``: ``linear(step, input)``
    writes a layer's raw sums from its input expression (None: it has no sources),
    ``act(activation, z, slope)`` an activation, ``cat(pieces)`` a column concatenation,
    ``result(outputs)`` what is returned of the outputs' expression and ``image(step)`` an
    image layer's output. The model's input is ``fwd.param``: the image layers read it first,
    then the input neurons' values ``x`` are taken from it (the data's columns after the
    pixels, and the derived inputs made by ``input_neurons``)."""

    def read(runs_: list[tuple[str, list[int]]]) -> str:
        return cat([columns(name, cols, fwd.width[name]) for name, cols in runs_])

    lines: list[str] = []
    for st in fwd.images:
        assert image is not None, "a writer of image layers passes image()"
        lines.append(f"{st.out} = {image(st)}")
    if fwd.uses_inputs and fwd.param != fwd.INPUT:
        if fwd.derived:
            lines.append(f"{fwd.INPUT} = input_neurons({fwd.param})")
        else:
            lines.append(f"{fwd.INPUT} = {fwd.param}[:, {fwd.image_columns}:]  # after the "
                         "pixels: the input neurons")
    for step in fwd.steps:
        layer = step.layer
        z = linear(step, read(step.inputs) if step.inputs else None)
        if step.z is not None:
            lines.append(f"{step.z} = {z}")
            z = step.z
        if step.a is not None and step.a != step.z:
            lines.append(f"{step.a} = {act(layer.activation, z, layer.slope)}")
    if fwd.softmax_group:
        lines.append(f"{fwd.SOFTMAX} = {act('softmax', read(fwd.softmax_group), 0.0)}"
                     "  # the softmax outputs, one group")
    return inline_return(lines, result(read(fwd.outputs)))


__all__ = ["activation_expr", "forward_body", "comment_text", "comment_lines", "docstring",
           "wrap", "count", "inline_return", "names_list", "number", "array_literal", "flag",
           "columns", "input_neurons_function", "image_summary", "WIDTH"]

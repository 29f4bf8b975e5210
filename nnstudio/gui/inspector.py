"""The inspector: editors for whatever is selected, built from tables of fields.

``NEURON_FIELDS``, ``CONNECTION_FIELDS`` and ``LAYER_FIELDS`` say, for each field, how to read
it from one item, how to apply an edit to all selected items (always through the document, so
every edit is one undo step), when it applies, and which editor shows it (``EDITORS``: kind →
widget factory). With several items selected, a field appears when it applies to all of them and
shows either their shared value or "mixed". An image layer shows its settings, what it takes and
gives, its parameter count and, for a convolution, the filter grid editor
(:mod:`nnstudio.gui.filter_grid`). With nothing selected the inspector shows a network summary
(with the parameters by kind, and for an image input the weights a dense layer on its pixels
would need) and the training settings.

Values are set into widgets with signals blocked, so following the model never writes back.
A refused edit's reason shows in a banner pinned above the scrolling fields, so it stays in
view however tall the inspector's content and wherever it is scrolled.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core import activations, losses, optimizers, regularization
from nnstudio.core.conv import KERNEL_SIZES, POOL_STRIDES, POOL_WINDOWS, STRIDES
from nnstudio.core.network import (
    FEATURE_ROLE,
    INITS,
    PASS_THROUGH_ROLES,
    ROLES,
    Connection,
    Convolution,
    ImageInput,
    ImageLayer,
    NetworkEvent,
    Neuron,
    activation_allowed,
    slope_param_id,
)
from nnstudio.core.network.image_layers import KIND_TITLES, describe_maps, maps_of
from nnstudio.core.trace.sensitivity import SensitivityError, sensitivities
from nnstudio.gui.filter_grid import FilterGridEditor
from nnstudio.gui.widgets import (
    ALL_ROWS,
    MIXED,
    ChoiceBox,
    FloatEdit,
    IntSpin,
    NumberSlider,
    PercentSpin,
    ValueLabel,
    count_phrase,
    format_number,
)

if TYPE_CHECKING:  # pragma: no cover  (the document never imports the inspector)
    from nnstudio.gui.document import Document

OnEdit = Callable[[Any, Any], None]   # an editor's callback: (value, merge key or False)

PARAM_LIMIT = 1e6   # typed weights and biases: larger values only overflow the activations
ROLE_TEXT = {"input": "Input", "hidden": "Hidden", "output": "Output", FEATURE_ROLE: "Feature"}
TIMES = "×"
DENSE_UNITS = 100   # the dense layer the summary compares a convolution with (seed 001's)
INIT_TEXT = {"uniform": "Uniform U(−1, 1)", "xavier": "Xavier / Glorot", "he": "He (Kaiming)"}


# ---------------------------------------------------------------------- field tables
@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str                                  # a key of EDITORS
    get: Callable[[Any, str], Any]             # (document, item id) -> value
    apply: Callable[[Any, list, Any, Any], None] | None = None   # (doc, ids, value, merge)
    applies: Callable[[Any, str], bool] = lambda doc, i: True
    tip: str = ""
    choices: Callable[[Any, list], list] | None = None
    single_only: bool = False
    options: dict = field(default_factory=dict)
    # optional vectorised read for many items: (doc, ids, group) -> value or MIXED
    get_many: Callable[[Any, list, Any], Any] | None = None


def _n(doc: Document, nid: str) -> Neuron:
    return doc.network.neurons[nid]


def _c(doc: Document, cid: str) -> Connection:
    return doc.network.connections[cid]


def _not_input(doc: Document, nid: str) -> bool:
    """Has a bias and an activation to edit (not an input, not a flatten's feature neuron)."""
    return _n(doc, nid).role not in PASS_THROUGH_ROLES


def _not_feature(doc: Document, nid: str) -> bool:
    return _n(doc, nid).role != FEATURE_ROLE


def _activation_choices(doc: Document, ids: list[str]) -> list[tuple[str, str, str]]:
    roles = {_n(doc, i).role for i in ids}
    # (the formula shows below and as a tip)
    return [(name, act.title, act.formula) for name, act in activations.ACTIVATIONS.items()
            if all(activation_allowed(role, name) for role in roles)]


def _values(doc: Document, nid: str, k: int) -> float | None:
    v = doc.neuron_values(nid)
    return None if v is None else v[k]


MAX_SENSITIVITIES = 6     # rows of the sensitivity readout


def _sensitivity_text(doc: Document, nid: str) -> str | None:
    """The chain rule for the chosen sample: for an output, d(output)/d(each input and neuron
    before it); for another neuron, d(each output)/d(this neuron)."""
    net = doc.network
    if doc.neuron_values(nid) is None:
        return None
    z: dict[str, float] = {}
    for n in net.neurons:
        v = doc.neuron_values(n)
        if v is None:
            return None
        z[n] = v[0]
    n = net.neurons[nid]
    outputs = [nid] if n.role == "output" else [o.id for o in net.outputs]
    lines: list[str] = []
    for out in outputs:
        try:
            sens = sensitivities(net, z, out)
        except SensitivityError as e:
            lines.append(str(e))
            continue
        chosen = [k for k in sens if k != out] if n.role == "output" else \
            ([nid] if nid in sens else [])
        lines += [sens[k].text(net) for k in chosen]
    if not lines:
        return None
    more = len(lines) - MAX_SENSITIVITIES
    shown = [html.escape(t) for t in lines[:MAX_SENSITIVITIES]]
    if more > 0:
        shown.append(f"… and {more} more")
    return "<br>".join(shown)


def _set_label(doc: Document, ids: list[str], text: str, merge: Any) -> None:
    doc.set_label(ids[0], text)


def _set_params(doc: Document, ids: list[str], value: float, merge: Any) -> None:
    doc.set_params(dict.fromkeys(ids, value), merge=merge)


def _set_slope(doc: Document, ids: list[str], value: float, merge: Any) -> None:
    doc.set_activation(ids, "leaky_relu", value)


def _set_locked(doc: Document, ids: list[str], locked: bool, merge: Any) -> None:
    doc.set_trainable(ids, not locked)


def _shared(values: Any) -> Any:
    """The one value all items share, or MIXED."""
    values = np.asarray(values)
    if values.size == 0:
        return None
    first = values[0]
    if values.dtype.kind == "f" and np.isnan(first):
        return None if np.all(np.isnan(values)) else MIXED
    return first.item() if np.all(values == first) else MIXED


def _many_params(doc: Document, ids: list[str], group: FieldGroup) -> Any:
    return _shared(doc.network.store.values[group.slots()])


def _many_locked(doc: Document, ids: list[str], group: FieldGroup) -> Any:
    return _shared(~doc.network.store.trainable[group.slots()])


def _many_grads(doc: Document, ids: list[str], group: FieldGroup) -> Any:
    g = doc.param_gradients(list(ids))
    return None if g is None else _shared(g)


NEURON_FIELDS: list[Field] = [
    Field("id", "Id", "value", lambda d, i: i, single_only=True,
          tip="The neuron's id in the project file (fixed)"),
    Field("label", "Label", "text", lambda d, i: _n(d, i).label, _set_label, single_only=True,
          applies=_not_feature,
          tip="The neuron's name on the canvas (Enter to apply; double-click a neuron to "
              "rename it there)"),
    Field("role", "Role", "choice", lambda d, i: _n(d, i).role,
          lambda d, ids, v, m: d.set_role(ids, v), applies=_not_feature,
          choices=lambda d, ids: [(r, ROLE_TEXT[r]) for r in ROLES],
          tip="Input neurons take a data column; output neurons are compared with a target column"),
    Field("feature", "Holds", "value", lambda d, i: _feature_text(d, i),
          applies=lambda d, i: not _not_feature(d, i),
          tip="A feature neuron holds one value of its flatten layer's maps; it moves, goes and "
              "comes with the flatten"),
    Field("activation", "Activation", "choice", lambda d, i: _n(d, i).activation,
          lambda d, ids, v, m: d.set_activation(ids, v), applies=_not_input,
          choices=_activation_choices,
          tip="The function applied to the weighted sum z: a = f(z)"),
    Field("formula", "", "note", lambda d, i: _formula_text(_n(d, i).activation),
          applies=_not_input),
    Field("slope", "Leaky slope", "float", lambda d, i: _n(d, i).slope, _set_slope,
          applies=lambda d, i: _n(d, i).activation == "leaky_relu",
          options={"lo": -10.0, "hi": 10.0, "what": "leaky slope"},
          tip="The slope of leaky ReLU for negative z (a = slope × z when z ≤ 0)"),
    Field("slope_trainable", "Train slope", "bool", lambda d, i: _n(d, i).slope_trainable,
          lambda d, ids, v, m: d.set_slope_trainable(ids, v),
          applies=lambda d, i: _n(d, i).activation == "leaky_relu",
          options={"text": "trained (parametric ReLU)"},
          tip="Parametric ReLU: training moves the leaky slope like a bias, from "
              "dL/dslope = Σ dL/da × min(z, 0)"),
    Field("slope_grad", "dL/dslope", "value",
          lambda d, i: d.param_gradient(slope_param_id(i)),
          applies=lambda d, i: _n(d, i).slope_param,
          tip="The gradient of the loss over the whole dataset with respect to the "
              "trainable leaky slope"),
    Field("bias", "Bias b", "param", lambda d, i: _n(d, i).bias, _set_params, applies=_not_input,
          options={"what": "bias", "lo": -PARAM_LIMIT, "hi": PARAM_LIMIT},
          tip="Added to the weighted sum: z = Σ w·a + b (a number from −1e6 to 1e6)",
          get_many=_many_params),
    Field("bias_locked", "Lock bias", "bool", lambda d, i: not _n(d, i).bias_trainable,
          _set_locked, applies=_not_input,
          tip="A locked bias keeps its value while training", get_many=_many_locked),
    Field("bias_grad", "dL/db", "value", lambda d, i: d.param_gradient(i), applies=_not_input,
          tip="The gradient of the loss over the whole dataset with respect to this bias",
          get_many=_many_grads),
    Field("sample", "Sample", "sample", lambda d, i: d.sample_index,
          tip="The data row whose values (z, a, dL/dz) are shown here and on the canvas"),
    Field("z", "z", "value", lambda d, i: _values(d, i, 0),
          tip="The weighted sum Σ w·a + b for the chosen sample"),
    Field("a", "a", "value", lambda d, i: _values(d, i, 1),
          tip="The activation a = f(z) for the chosen sample"),
    Field("dl_dz", "dL/dz", "value", lambda d, i: _values(d, i, 2),
          tip="How much the loss changes per unit change of z, for the chosen sample"),
    Field("sensitivity", "Sensitivity", "note", _sensitivity_text, single_only=True,
          applies=_not_feature,
          tip="The chain rule for the chosen sample: how much an output changes per unit "
              "change of an input or a neuron's activation, the product of the link slopes "
              "w × f'(z) along the way (summed when several paths lead there)"),
]

CONNECTION_FIELDS: list[Field] = [
    Field("ends", "Connection", "value",
          lambda d, i: f"{_n(d, _c(d, i).source).label} → {_n(d, _c(d, i).target).label}",
          tip="Source neuron → target neuron",
          get_many=lambda d, ids, g: MIXED),
    Field("weight", "Weight w", "param", lambda d, i: _c(d, i).weight, _set_params,
          options={"what": "weight", "lo": -PARAM_LIMIT, "hi": PARAM_LIMIT},
          tip="Multiplies the source's activation (a number from −1e6 to 1e6)",
          get_many=_many_params),
    Field("locked", "Lock weight", "bool", lambda d, i: not _c(d, i).trainable, _set_locked,
          tip="A locked weight keeps its value while training", get_many=_many_locked),
    Field("grad", "dL/dw", "value", lambda d, i: d.param_gradient(i),
          tip="The gradient of the loss over the whole dataset with respect to this weight",
          get_many=_many_grads),
    Field("sample", "Sample", "sample", lambda d, i: d.sample_index, single_only=True,
          tip="The data row whose values are shown here and on the canvas"),
    Field("share", "w · a(source)", "value", lambda d, i: _share(d, i), single_only=True,
          tip="This connection's part of the target's weighted sum z for the chosen sample"),
]


def _feature_text(doc: Document, nid: str) -> str:
    net = doc.network
    flat = net.flatten_of(nid)
    layer = net.image_layers.get(flat or "")
    return f"{net.neurons[nid].label} of {layer.title}" if layer is not None else ""


# ---------------------------------------------------------------------- image layers
def _l(doc: Document, lid: str) -> ImageLayer:
    return doc.network.image_layers[lid]


def _kind_is(*kinds: str) -> Callable[[Any, str], bool]:
    return lambda d, i: _l(d, i).kind in kinds


def _setting(key: str) -> Callable[[Any, str], Any]:
    """Read a layer setting (``key`` of the layer's kind)."""
    return lambda d, i: getattr(_l(d, i), key)


def _update(key: str) -> Callable[[Any, list, Any, Any], None]:
    """Apply a layer setting (to the one layer shown)."""
    return lambda d, ids, v, m: d.update_image_layer(ids[0], **{key: v})


def _shape_text(shape: tuple[int, ...]) -> str:
    return f" {TIMES} ".join(map(str, shape))


def _parse_shape(text: str) -> list[int]:
    """An image shape typed as "1 × 6 × 6", "6x6" or "3, 28, 28" (channels × height × width;
    two numbers: one channel)."""
    cleaned = str(text).lower().replace(TIMES, " ").replace("x", " ").replace(",", " ")
    parts = cleaned.split()
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text.strip()!r} is not an image shape: write channels × height × "
                         f"width, e.g. 1 × 6 × 6 (or height × width for one channel)")
    nums = [int(p) for p in parts]
    return [1, *nums] if len(nums) == 2 else nums


def _set_shape(doc: Document, ids: list[str], text: str, merge: Any) -> None:
    doc.update_image_layer(ids[0], shape=_parse_shape(text))


def _source_text(doc: Document, lid: str) -> str:
    net = doc.network
    layer = _l(doc, lid)
    if layer.kind == "image_input":
        return "the dataset's pixels"
    if layer.source is None:
        return "not connected: drag from a layer's port to this one"
    src = net.image_layers[layer.source]
    shape = net.image_shapes().get(layer.source)
    maps = maps_of(shape) if shape is not None else None
    return f"{src.label} ({describe_maps(maps)})" if maps else f"{src.label} (not connected)"


def _output_text(doc: Document, lid: str) -> str:
    net = doc.network
    shape = net.image_shapes().get(lid)
    if shape is None:
        return "— (not connected)"
    if _l(doc, lid).kind == "flatten":
        n = len(net.feature_neurons(lid))
        return f"{n} feature neuron{'s' if n != 1 else ''} (connect them to neurons)"
    maps = maps_of(shape)
    return describe_maps(maps) if maps else "—"


def _param_text(doc: Document, lid: str) -> str:
    layer = _l(doc, lid)
    if isinstance(layer, Convolution):
        return (f"{layer.filters} filter{'s' if layer.filters != 1 else ''} × "
                f"({layer.fan_in} + 1) = {layer.n_params:,} parameters")
    if isinstance(layer, ImageInput):
        n = layer.size
        dense = doc.network.dense_equivalent(lid, DENSE_UNITS)
        return (f"none; {n:,} pixels: a dense layer of {DENSE_UNITS} neurons on them would "
                f"need {n:,} × {DENSE_UNITS} = {dense:,} weights")
    return "none"


def _conv_activations(doc: Document, ids: list[str]) -> list[tuple[str, str, str]]:
    return [(name, act.title, act.formula) for name, act in activations.ACTIVATIONS.items()
            if name != "softmax"]


def _sizes(lo: int, hi: int, square: bool) -> Callable[[Any, list], list]:
    return lambda d, ids: [(k, f"{k} {TIMES} {k}" if square else str(k))
                           for k in range(lo, hi + 1)]


LAYER_FIELDS: list[Field] = [
    Field("id", "Id", "value", lambda d, i: i, single_only=True,
          tip="The layer's id in the project file (fixed)"),
    Field("label", "Label", "text", lambda d, i: _l(d, i).label, _set_label, single_only=True,
          tip="The layer's name on the canvas (Enter to apply; double-click its card to rename "
              "it there)"),
    Field("kind", "Layer", "value", lambda d, i: KIND_TITLES[_l(d, i).kind].capitalize(),
          single_only=True),
    Field("shape", "Image", "text", lambda d, i: _shape_text(_setting("shape")(d, i)),
          _set_shape, applies=_kind_is("image_input"), single_only=True,
          tip="Channels × height × width of each sample's image, e.g. 1 × 6 × 6 (1 to 4 "
              "channels, sides 1 to 128); it must match the dataset's images"),
    Field("source", "Input", "value", _source_text, single_only=True,
          tip="The layer this one takes its maps from"),
    Field("filters", "Filters", "int", _setting("filters"),
          _update("filters"), applies=_kind_is("convolution"), single_only=True,
          options={"lo": 1, "hi": 64},
          tip="How many filters (and so feature maps); more keep the first ones and draw the "
              "new ones with the project's seed"),
    Field("kernel", "Kernel", "choice", _setting("kernel"),
          _update("kernel"), applies=_kind_is("convolution"), single_only=True,
          choices=_sizes(*KERNEL_SIZES, square=True),
          tip="The side of each filter's grid of weights (a new size draws new filters)"),
    Field("stride", "Stride", "choice", _setting("stride"),
          _update("stride"), applies=_kind_is("convolution"), single_only=True,
          choices=_sizes(*STRIDES, square=False),
          tip="How many pixels the filter moves between dot products"),
    Field("padding", "Padding", "choice",
          _setting("padding"),
          _update("padding"), applies=_kind_is("convolution"), single_only=True,
          choices=lambda d, ids: [("valid", "valid (no padding)", "The filter stays inside the "
                                   "image: a map of (side − kernel) / stride + 1"),
                                  ("same", "same (pad with zeros)", "Zeros around the image so "
                                   "the map keeps the input's size (at stride 1)")],
          tip="Whether the filter may reach past the image's edge (zeros there)"),
    Field("conv_activation", "Activation", "choice",
          _setting("activation"),
          _update("activation"), applies=_kind_is("convolution"), single_only=True,
          choices=_conv_activations,
          tip="Applied to every value of every map: ReLU turns the negatives into 0"),
    Field("conv_slope", "Leaky slope", "float",
          _setting("slope"),
          _update("slope"), single_only=True,
          applies=lambda d, i: getattr(_l(d, i), "activation", "") == "leaky_relu",
          options={"lo": -10.0, "hi": 10.0, "what": "leaky slope"},
          tip="The slope of leaky ReLU for negative values"),
    Field("mode", "Pooling", "choice", _setting("mode"),
          _update("mode"), applies=_kind_is("pooling"), single_only=True,
          choices=lambda d, ids: [("max", "max", "Keep the largest value of each window"),
                                  ("average", "average", "Keep the mean of each window")],
          tip="What each window of the maps becomes"),
    Field("window", "Window", "choice", _setting("window"),
          _update("window"), applies=_kind_is("pooling"), single_only=True,
          choices=_sizes(*POOL_WINDOWS, square=True),
          tip="The side of each pooling window"),
    Field("pool_stride", "Stride", "choice",
          _setting("stride"),
          _update("stride"), applies=_kind_is("pooling"), single_only=True,
          choices=_sizes(*POOL_STRIDES, square=False),
          tip="How far the window moves (the window's side: windows side by side)"),
    Field("output", "Output", "value", _output_text, single_only=True,
          tip="What the layer gives the next one"),
    Field("layer_params", "Parameters", "note", _param_text, single_only=True,
          tip="The layer's weights and biases: a filter's weights are shared by every position "
              "it slides over"),
]


def _share(doc: Document, cid: str) -> float | None:
    c = doc.network.connections[cid]
    v = doc.neuron_values(c.source)
    return None if v is None else c.weight * v[1]


def _formula_text(name: str) -> str:
    act = activations.ACTIVATIONS[name]
    # the formula and its derivative each on a line of their own, never broken mid-formula
    nowrap = "<code style='white-space:pre'>{}</code>"
    return f"{nowrap.format(html.escape(act.formula))}<br>" \
           f"{nowrap.format(html.escape(act.derivative_formula))}<br>" \
           f"<span style='color:#555'>{html.escape(act.note)}</span>"


# ---------------------------------------------------------------------- editors
class _Editor:
    """Adapter: widget + set_value + a callback for user edits ``on_edit(value, merge)``."""

    def __init__(self, widget: QWidget, set_value: Callable[[Any], None],
                 wire: Callable[[OnEdit], object]) -> None:
        self.widget, self.set_value, self._wire = widget, set_value, wire

    def connect(self, on_edit: OnEdit) -> None:
        self._wire(on_edit)


def _text_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = QLineEdit(parent)
    w.setToolTip(f.tip)

    def set_value(v: Any) -> None:
        with QSignalBlocker(w):
            if v is MIXED:
                w.setText("")
                w.setPlaceholderText("— mixed —")
            elif not (w.hasFocus() and w.isModified()):
                w.setText(str(v))

    def wire(cb: OnEdit) -> None:
        def commit() -> None:
            if w.isModified():
                w.setModified(False)
                cb(w.text(), False)
        w.editingFinished.connect(commit)
    return _Editor(w, set_value, wire)


def _choice_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = ChoiceBox(parent, tip=f.tip)
    return _Editor(w, w.set_value, lambda cb: w.chosen.connect(lambda v: cb(v, False)))


def _float_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = FloatEdit(parent, tip=f.tip, **f.options)
    w.setAccessibleName(f.label)
    return _Editor(w, w.set_value, lambda cb: w.valueCommitted.connect(lambda v: cb(v, False)))


def _int_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = IntSpin(parent, f.options.get("lo", 0), f.options.get("hi", 2**31 - 1), tip=f.tip)
    return _Editor(w, w.set_value, lambda cb: w.valueCommitted.connect(lambda v: cb(v, False)))


def _param_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = NumberSlider(parent, tip=f.tip, **f.options)
    w.edit.setAccessibleName(f.label)
    return _Editor(w, w.set_value, lambda cb: w.edited.connect(cb))


def _bool_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = QCheckBox(parent)
    w.setToolTip(f.tip)
    w.setText(f.options.get("text", "locked (not trained)"))

    def set_value(v: Any) -> None:
        with QSignalBlocker(w):
            if v is MIXED:
                w.setTristate(True)
                w.setCheckState(Qt.CheckState.PartiallyChecked)
            else:
                w.setTristate(False)
                w.setChecked(bool(v))

    return _Editor(w, set_value, lambda cb: w.clicked.connect(lambda on: cb(bool(on), False)))


def _value_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = ValueLabel(parent, tip=f.tip)
    return _Editor(w, w.set_value, lambda cb: None)


def _note_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = QLabel(parent)
    w.setWordWrap(True)
    w.setTextFormat(Qt.TextFormat.RichText)

    def set_value(v: Any) -> None:
        w.setText("" if v is MIXED or v is None else str(v))
    return _Editor(w, set_value, lambda cb: None)


def _sample_editor(f: Field, parent: FieldGroup) -> _Editor:
    w = IntSpin(parent, 0, 0, tip=f.tip)

    def set_value(v: Any) -> None:
        doc = parent.doc
        n = len(doc.dataset) if doc.dataset is not None else 0
        with QSignalBlocker(w):
            w.setRange(0, max(0, n - 1))
            w.setSuffix(f"   (rows 0–{n - 1})" if n else "")
        w.set_value(v)
    return _Editor(w, set_value, lambda cb: w.valueCommitted.connect(lambda v: cb(v, False)))


EDITORS: dict[str, Callable] = {
    "text": _text_editor, "choice": _choice_editor, "float": _float_editor, "int": _int_editor,
    "param": _param_editor, "bool": _bool_editor, "value": _value_editor,
    "note": _note_editor, "sample": _sample_editor,
}


# ---------------------------------------------------------------------- pages
class FieldGroup(QGroupBox):
    """A group of fields (neurons or connections) for the current selection of that kind."""

    def __init__(self, inspector: Inspector, fields: list[Field], title: str) -> None:
        super().__init__(title, inspector)
        self.inspector = inspector
        self.doc = inspector.doc
        self.fields = fields
        self.ids: list[str] = []
        self._slots = None
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form.setHorizontalSpacing(10)
        self.editors: dict[str, _Editor] = {}
        for f in fields:
            ed = EDITORS[f.kind](f, self)
            ed.widget.setObjectName(f"inspector_{f.key}")
            ed.connect(lambda v, m, f=f: self._edited(f, v, m))
            lab = QLabel(f.label, self)
            lab.setToolTip(f.tip)
            self.form.addRow(lab, ed.widget)
            self.editors[f.key] = ed

    def _edited(self, f: Field, value: Any, merge: Any) -> None:
        if f.key == "sample":
            self.inspector.apply(lambda: self.doc.set_sample(value))
            return
        if f.apply is None or not self.ids:
            return
        ids = [i for i in self.ids if f.applies(self.doc, i)]
        self.inspector.apply(lambda: f.apply(self.doc, ids, value, merge))

    def show_ids(self, ids: list[str]) -> None:
        if list(ids) != self.ids:
            self.ids = list(ids)
            self._slots = None
        self.refresh()

    def slots(self) -> np.ndarray:
        """Parameter slots of the shown items (cached until the structure changes)."""
        net = self.doc.network
        key = (id(net), net.structure_version)
        if self._slots is None or self._slots[0] != key:
            ids = [i for i in self.ids if i in net.connections or
                   (i in net.neurons and net.neurons[i].role not in PASS_THROUGH_ROLES)]
            self._slots = (key, np.array([net.param_slot(i) for i in ids], dtype=np.intp))
        return self._slots[1]

    def refresh(self) -> None:
        doc, ids = self.doc, self.ids
        applies_cache = {}
        for row, f in enumerate(self.fields):
            ed = self.editors[f.key]
            if f.applies not in applies_cache:
                applies_cache[f.applies] = bool(ids) and all(f.applies(doc, i) for i in ids)
            visible = applies_cache[f.applies] and not (f.single_only and len(ids) > 1)
            self.form.setRowVisible(row, visible)
            if not visible:
                continue
            if f.choices is not None:
                want = f.choices(doc, ids)
                box = ed.widget
                have = [(box.itemData(k), box.itemText(k)) for k in range(box.count())
                        if box.itemData(k) is not MIXED]
                if have != want:
                    box.set_choices(want)
            if len(ids) > 1 and f.get_many is not None:
                ed.set_value(f.get_many(doc, ids, self))
                continue
            vals = [f.get(doc, i) for i in ids]
            first = vals[0]
            ed.set_value(first if all(v == first for v in vals[1:]) else MIXED)


class Inspector(QScrollArea):
    """The inspector dock's widget."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.setObjectName("inspector")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(self)
        self.body = body
        lay = QVBoxLayout(body)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(8)
        self.title = QLabel(body)
        self.title.setObjectName("inspector_title")
        self.title.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        # (a child of the scroll area, not of the body: it stays put when the fields scroll)
        self.error = QLabel(self)
        self.error.setObjectName("inspector_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(
            "color: #B33F00; background: #FFF1EA; padding: 4px 8px; "
            "border-bottom: 1px solid #F0C3A8;")
        self.error.hide()
        self.neurons = FieldGroup(self, NEURON_FIELDS, "Neuron")
        self.connections = FieldGroup(self, CONNECTION_FIELDS, "Connection")
        self.layers = FieldGroup(self, LAYER_FIELDS, "Image layer")
        self.filters_box = QGroupBox("Filters", body)
        self.filters_box.setObjectName("inspector_filters")
        self.filter_grid = FilterGridEditor(document, self.apply, self.filters_box,
                                            refused=self.show_refused)
        QVBoxLayout(self.filters_box).addWidget(self.filter_grid)
        lay.addWidget(self.layers)
        lay.addWidget(self.filters_box)
        lay.addWidget(self.neurons)
        lay.addWidget(self.connections)
        self.summary = SummaryGroup(self)
        self.settings_box = SettingsGroup(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.settings_box)
        lay.addStretch(1)
        self.setWidget(body)
        self.setMinimumWidth(280)
        # typed text that is not a valid number: say so above the fields (the field itself
        # is outlined), and in the status bar; nothing is applied
        for edit in body.findChildren(FloatEdit):
            edit.refused.connect(lambda msg, e=edit: self.show_refused(e, msg))

        self._pending = False
        d = document
        d.selectionChanged.connect(lambda _: self.rebuild())
        d.projectReplaced.connect(self.rebuild)
        d.networkChanged.connect(self._on_network)
        d.evaluationChanged.connect(self.schedule)
        d.sampleChanged.connect(lambda _: self.schedule())
        d.settingsChanged.connect(self.schedule)
        d.datasetChanged.connect(self.schedule)
        self.rebuild()

    # edits ----------------------------------------------------------------------------
    def apply(self, fn: Callable[[], object]) -> bool:
        """Run an edit; on refusal show the message (and the status bar) and restore the
        widgets from the model."""
        try:
            fn()
        except ValueError as e:
            msg = str(e)
            self.show_error(f"Not applied: {msg}")
            self.doc.message(f"Not applied: {msg}", 6000)
            self.refresh()
            return False
        self.show_error(None)
        return True

    def show_refused(self, edit: FloatEdit, msg: str) -> None:
        where = edit.accessibleName() or edit.what
        where = where[:1].upper() + where[1:]
        self.show_error(f"Not applied: {where}: {msg}")
        self.doc.message(f"Not applied: {where}: {msg}", 6000)

    def show_error(self, text: str | None) -> None:
        """The refusal banner over the fields (None: hidden)."""
        if text:
            self.error.setText(text)
            self.error.show()
        else:
            self.error.hide()
        self._place_error()

    def _place_error(self) -> None:
        """Reserve the banner's height above the scrolling viewport and put it there."""
        if self.error.isHidden():
            self.setViewportMargins(0, 0, 0, 0)
            return
        f = self.frameWidth()
        w = self.width() - 2 * f
        h = self.error.heightForWidth(w)
        self.setViewportMargins(0, h, 0, 0)
        self.error.setGeometry(f, f, w, h)
        self.error.raise_()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_error()

    # following the model -------------------------------------------------------------
    def _on_network(self, event: NetworkEvent, ids: tuple[str, ...]) -> None:
        if event in (NetworkEvent.NEURON_REMOVED, NetworkEvent.CONNECTION_REMOVED):
            return  # the selection prunes itself and rebuilds
        self.schedule()

    def schedule(self) -> None:
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self, self._flush)

    def _flush(self) -> None:
        self._pending = False
        self.refresh()

    def rebuild(self) -> None:
        self.show_error(None)
        self.refresh()

    def refresh(self) -> None:
        doc = self.doc
        net = doc.network
        nids = [i for i in doc.selection if i in net.neurons]
        cids = [i for i in doc.selection if i in net.connections]
        lids = [i for i in doc.selection if i in net.image_layers]
        self.neurons.setVisible(bool(nids))
        self.connections.setVisible(bool(cids))
        one_layer = len(lids) == 1
        self.layers.setVisible(one_layer)
        conv = one_layer and isinstance(net.image_layers[lids[0]], Convolution)
        self.filters_box.setVisible(conv)
        none = not nids and not cids and not lids
        self.summary.setVisible(none)
        self.settings_box.setVisible(none)
        if one_layer:
            layer = net.image_layers[lids[0]]
            self.layers.setTitle(KIND_TITLES[layer.kind].capitalize())
            self.layers.show_ids(lids)
            if conv:
                self.filter_grid.show_layer(lids[0])
        if nids:
            self.neurons.setTitle("Neuron" if len(nids) == 1
                                  else f"{len(nids)} neurons (edited together)")
            self.neurons.show_ids(nids)
        if cids:
            self.connections.setTitle("Connection" if len(cids) == 1
                                      else f"{len(cids)} connections (edited together)")
            self.connections.show_ids(cids)
        if none:
            self.title.setText("Network")
            self.summary.refresh()
            self.settings_box.refresh()
        elif len(nids) == 1 and not cids and not lids:
            n = net.neurons[nids[0]]
            self.title.setText(f"{html.escape(n.label)}  <span style='color:#666;font-size:10pt'>"
                               f"{ROLE_TEXT[n.role].lower()} neuron</span>")
        elif len(cids) == 1 and not nids and not lids:
            self.title.setText("Connection")
        elif one_layer and not nids and not cids:
            layer = net.image_layers[lids[0]]
            self.title.setText(f"{html.escape(layer.label)}  <span style='color:#666;"
                               f"font-size:10pt'>{KIND_TITLES[layer.kind]}</span>")
        else:
            self.title.setText(count_phrase(len(nids), len(cids), layers=len(lids))
                               + " selected")


class SummaryGroup(QGroupBox):
    def __init__(self, inspector: Inspector) -> None:
        super().__init__("Summary", inspector)
        self.doc = inspector.doc
        form = QFormLayout(self)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.labels = {}
        for key, text, tip in (
            ("neurons", "Neurons", "Input / hidden / output neurons (and the feature neurons "
                                   "of flatten layers)"),
            ("connections", "Connections", "Weighted connections"),
            ("image_layers", "Image layers", "The convolutional front: image input, "
                                             "convolutions, pooling and flatten layers"),
            ("parameters", "Parameters", "Weights and biases (how many are trainable)"),
            ("by_kind", "", "The parameters by kind: a filter's weights are shared by every "
                            "position it slides over"),
            ("dense", "Dense instead", "The weights a dense layer of 100 neurons on the "
                                       "image's pixels would need, against the filters"),
            ("layers", "Layers", "Depth levels (the longest path from an input)"),
            ("samples", "Samples", "Rows in the dataset"),
            ("loss", "Loss", "The loss over the whole dataset at the current parameters"),
        ):
            lab = ValueLabel(self, tip)
            lab.setObjectName(f"summary_{key}")
            lab.setWordWrap(True)
            head = QLabel(text, self)
            head.setToolTip(tip)
            form.addRow(head, lab)
            self.labels[key] = lab

    def refresh(self) -> None:
        doc = self.doc
        net = doc.network
        roles = {r: len(net.by_role(r)) for r in (*ROLES, FEATURE_ROLE)}
        L = self.labels
        features = f" · {roles[FEATURE_ROLE]} feature" if roles[FEATURE_ROLE] else ""
        L["neurons"].set_value(f"{len(net.neurons)}  ({roles['input']} in · {roles['hidden']} "
                               f"hidden · {roles['output']} out{features})")
        L["connections"].set_value(len(net.connections))
        self._show_image_rows(net)
        n_par = net.param_count()
        try:
            n_train = int(doc.engine().trainable.sum())  # vectorised, cached per structure
        except ValueError:
            n_train = sum(1 for p in net.param_ids() if net.store.trainable[net.param_slot(p)])
        L["parameters"].set_value(f"{n_par}  ({n_train} trainable)")
        try:
            L["layers"].set_value(len(net.layers()))
        except ValueError:
            L["layers"].set_value(None)
        L["samples"].set_value(len(doc.dataset) if doc.dataset is not None else 0)
        loss = doc.loss()
        if loss is None:
            L["loss"].set_value(f"— ({doc.evaluation_error()})")
        else:
            title = losses.LOSSES[doc.settings.loss].title
            L["loss"].set_value(f"{format_number(loss, 8)}  ({title})")


    def _show_image_rows(self, net: Any) -> None:
        """The image layers in a line, the parameters by kind, and the dense comparison
        (hidden for a network without image layers)."""
        L = self.labels
        form = self.layout()
        has = bool(net.image_layers)
        for key in ("image_layers", "by_kind", "dense"):
            form.setRowVisible(L[key], has)
        if not has:
            return
        shapes = net.image_shapes()
        parts = []
        for lid in net.image_order():
            layer = net.image_layers[lid]
            if isinstance(layer, ImageInput):
                parts.append(f"image {_shape_text(layer.shape)}")
            elif isinstance(layer, Convolution):
                parts.append(f"conv {layer.filters} × {layer.kernel}×{layer.kernel}")
            elif layer.kind == "pooling":
                parts.append(f"{layer.mode} pool {layer.window}×{layer.window}")
            else:
                parts.append(f"flatten {len(net.feature_neurons(lid))}")
            if lid not in shapes:
                parts[-1] += " (not connected)"
        L["image_layers"].set_value(" → ".join(parts))
        filters = sum(c.n_params for c in net.convolutions())
        biases = sum(1 for n in net.neurons.values() if n.role not in PASS_THROUGH_ROLES)
        L["by_kind"].set_value(f"filters {filters:,} · weights {len(net.connections):,} · "
                               f"biases {biases:,}")
        images = [lay for lay in net.image_layers.values() if isinstance(lay, ImageInput)]
        if images:
            n = images[0].size
            dense = net.dense_equivalent(images[0].id, DENSE_UNITS)
            L["dense"].set_value(f"{n:,} pixels × {DENSE_UNITS} neurons = {dense:,} weights, "
                                 f"against the filters' {filters:,} parameters")
        else:
            L["dense"].set_value("—")


class SettingsGroup(QGroupBox):
    """Training settings; every edit is one undo step (doc.set_settings)."""

    def __init__(self, inspector: Inspector) -> None:
        super().__init__("Training settings", inspector)
        self.inspector = inspector
        self.doc = inspector.doc
        form = QFormLayout(self)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.loss = ChoiceBox(self, [(k, v.title, v.formula) for k, v in losses.LOSSES.items()],
                              "The loss: how far the outputs are from the targets")
        self.loss_formula = QLabel(self)
        self.loss_formula.setObjectName("settings_loss_formula")
        self.loss_formula.setWordWrap(True)
        self.loss_formula.setStyleSheet("color: #555;")
        self.loss_formula.setToolTip("The loss formula: a = the output, y = the target")
        self.optimizer = ChoiceBox(self, [(k, v.title) for k, v in optimizers.INFO.items()],
                                   "How each step changes the parameters")
        self.lr = FloatEdit(self, lo=0.0, hi=1000.0, lo_open=True, what="learning rate",
                            tip="The step size: p ← p − lr · dL/dp (greater than 0, at most 1000)")
        self.batch = IntSpin(self, 0, 10_000_000, f"Rows per optimizer step ({ALL_ROWS} = the "
                             "whole dataset in every step)", special=ALL_ROWS)
        self.epochs = IntSpin(self, 0, 100_000_000,
                              "How many passes over the data a training run makes")
        self.seed = IntSpin(self, 0, 2**31 - 1, "Random seed for initialisation and shuffling")
        self.init = ChoiceBox(self, [(k, INIT_TEXT.get(k, k)) for k in INITS],
                              "How Randomize Weights and Reset initialise parameters")
        self.split = PercentSpin(self, tip="Percentage of rows held out (seeded) to measure "
                                 "the validation loss")
        self.regularization = ChoiceBox(
            self, [(k, v.title, v.note) for k, v in regularization.KINDS.items()],
            "A penalty on the size of the weights, added to the loss (biases are not "
            "penalised)")
        self.rate = FloatEdit(self, lo=0.0, hi=regularization.MAX_RATE,
                              what="regularization rate",
                              tip="λ: L1 adds λ × Σ |w| to the loss, L2 adds λ × Σ w²")
        self.min_step = FloatEdit(self, lo=0.0, hi=1000.0, what="minimum step",
                                  tip="Training stops by itself once an update changes no "
                                      "weight or bias by this much (0 = off)")
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        rows = (("Loss", self.loss), ("", self.loss_formula), ("Optimizer", self.optimizer),
                ("Learning rate", self.lr),
                ("Batch size", self.batch), ("Epochs", self.epochs), ("Seed", self.seed),
                ("Initialisation", self.init), ("Validation", self.split),
                ("Regularization", self.regularization), ("Rate λ", self.rate),
                ("Min step", self.min_step), ("", self.note))
        for text, w in rows:
            head = QLabel(text, self)
            head.setToolTip(w.toolTip())
            form.addRow(head, w)
        for name, w in (("loss", self.loss), ("optimizer", self.optimizer), ("init", self.init),
                        ("regularization", self.regularization)):
            w.setObjectName(f"settings_{name}")
            w.chosen.connect(lambda v, n=name: self._set(n, v))
        for name, w in (("learning_rate", self.lr), ("regularization_rate", self.rate),
                        ("min_step", self.min_step)):
            w.setObjectName(f"settings_{name}")
            w.valueCommitted.connect(lambda v, n=name: self._set(n, v))
        # a spin box's clicks on one setting merge into one undo step
        self.split.setObjectName("settings_validation_split")
        self.split.fractionCommitted.connect(
            lambda v: self._set("validation_split", v, merge=True))
        for name, w in (("batch_size", self.batch), ("epochs", self.epochs), ("seed", self.seed)):
            w.setObjectName(f"settings_{name}")
            w.valueCommitted.connect(lambda v, n=name: self._set(n, int(v), merge=True))

    def _set(self, name: str, value: Any, merge: bool = False) -> None:
        key = ("spin", name) if merge else False
        self.inspector.apply(lambda: self.doc.set_settings(_merge=key, **{name: value}))

    def refresh(self) -> None:
        s = self.doc.settings
        self.loss.set_value(s.loss)
        self.loss_formula.setText(losses.LOSSES[s.loss].formula)
        self.optimizer.set_value(s.optimizer)
        self.lr.set_value(s.learning_rate)
        self.batch.set_value(s.batch_size)
        self.epochs.set_value(s.epochs)
        self.seed.set_value(s.seed)
        self.init.set_value(s.init)
        self.split.set_fraction(s.validation_split)
        self.regularization.set_value(s.regularization)
        self.rate.set_value(s.regularization_rate)
        self.rate.setEnabled(s.regularization != "none")
        self.min_step.set_value(s.min_step)
        info = optimizers.INFO[s.optimizer]
        self.note.setText(f"{info.formula}\n{info.note}")

"""Image layers, the parts of a network's convolutional front: an image input, convolutions,
pooling and flatten, and the rules each obeys without the rest of the network.

- :class:`ImageInput` takes one image of ``(channels, height, width)`` pixels per sample from
  the dataset; :class:`Convolution` slides ``filters`` shared ``kernel × kernel`` filters over
  its source's maps (one bias per filter, then an activation); :class:`Pooling` keeps the
  maximum (or the mean) of each window; :class:`Flatten` turns its source's maps into a column
  of *feature neurons*, ordinary :class:`~.parts.Neuron` objects of role ``"feature"`` (ids
  ``"<flatten>.<k>"``), through which the image layers feed the dense part of the network.
- A layer takes its input from one ``source`` layer (None: not connected). Its shape is the
  :mod:`nnstudio.core.conv` object built from its source's output (:func:`layer_shapes`): every
  rule about what fits (kernel against input, stride, windows) is that object's constructor,
  never re-implemented here, and its :class:`~nnstudio.core.conv.LayerShapeError` message
  becomes the refusal's text.
- A filter is one row of a convolution's ``slots`` (``(filters, channels·k·k + 1)``: its
  weights in (channel, row, column) order, then its bias), the same packed order as
  :class:`~nnstudio.core.conv.Conv2D`. The values live only in the network's ParamStore. A
  filter parameter's id is ``"<layer>[<f>].w[<c>,<i>,<j>]"`` or ``"<layer>[<f>].b"``
  (:func:`filter_pid`); ``[``, ``]`` and ``,`` never occur in item ids, so these cannot collide.
- The layer objects are frozen: an edit replaces a layer with a changed copy (the network's
  :mod:`.image_edits` does, after checking the whole set of layers it would give).

:func:`layer_from_dict` checks one layer in its file form (the same checks for a file, a paste
and an edit) and :func:`layer_dict` writes it back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np

from nnstudio.core import activations
from nnstudio.core.conv import (
    KERNEL_SIZES,
    PADDINGS,
    POOL_MODES,
    POOL_STRIDES,
    POOL_WINDOWS,
    STRIDES,
    Conv2D,
    LayerShapeError,
    Padding,
    Pool2D,
    PoolMode,
)
from nnstudio.core.conv import Flatten as FlattenShape

from .parts import ID_RULE, NetworkError, is_valid_id

KINDS = ("image_input", "convolution", "pooling", "flatten")
KIND_TITLES = {"image_input": "image input", "convolution": "convolution",
               "pooling": "pooling", "flatten": "flatten"}
MAX_IMAGE_LAYERS = 64
MAX_FILTERS = 64
MAX_INPUT_CHANNELS = 4       # an image input's channels (grey, RGB, RGBA)
MAX_CHANNELS = 64            # maps into a convolution after the first
MAX_SIDE = 128               # an image's height or width
MAX_FEATURES = 10_000        # a network's flatten nodes in all (the format's neuron limit)
MAX_MAP_VALUES = 1_000_000   # values of every image layer's maps together, per sample
TIMES = "\u00d7"

#: the shape of a layer: an image input's (channels, height, width), or the core.conv object
ImageShape = tuple[int, int, int] | Conv2D | Pool2D | FlattenShape

_PID = re.compile(r"(?P<layer>[^\[\]]+)\[(?P<f>\d+)\]\.(?:w\[(?P<c>\d+),(?P<i>\d+),(?P<j>\d+)\]|b)")


class LayerError(NetworkError):
    """A refused image layer. ``field``: where in the layer's dict the problem is (``""``,
    ``".filters[1].weights"``), so a file check can name the JSON path."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------- the layers
@dataclass(frozen=True, eq=False)
class ImageLayer:
    """What every image layer has: an id (shared namespace with neurons and connections), a
    label, a canvas position and the layer it takes its input from."""

    kind: ClassVar[str] = ""
    id: str
    label: str
    x: float = 0.0
    y: float = 0.0
    source: str | None = None

    @property
    def title(self) -> str:
        """How messages name the layer: "convolution 'filters'"."""
        return f"{KIND_TITLES[self.kind]} {self.label!r}"


@dataclass(frozen=True, eq=False)
class ImageInput(ImageLayer):
    kind: ClassVar[str] = "image_input"
    shape: tuple[int, int, int] = (1, 6, 6)

    @property
    def size(self) -> int:
        c, h, w = self.shape
        return c * h * w


@dataclass(frozen=True, eq=False)
class Convolution(ImageLayer):
    """``filters`` filters of ``channels × kernel × kernel`` weights and a bias each; its
    parameters are the store slots ``slots`` (filters, channels·kernel·kernel + 1)."""

    kind: ClassVar[str] = "convolution"
    channels: int = 1
    filters: int = 2
    kernel: int = 3
    stride: int = 1
    padding: Padding = "valid"
    activation: str = "relu"
    slope: float = activations.DEFAULT_LEAKY_SLOPE
    slots: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.intp))

    @property
    def fan_in(self) -> int:
        return self.channels * self.kernel * self.kernel

    @property
    def n_params(self) -> int:
        return self.filters * (self.fan_in + 1)


@dataclass(frozen=True, eq=False)
class Pooling(ImageLayer):
    kind: ClassVar[str] = "pooling"
    mode: PoolMode = "max"
    window: int = 2
    stride: int = 2

    @property
    def title(self) -> str:
        return f"{'max' if self.mode == 'max' else 'average'} pooling {self.label!r}"


@dataclass(frozen=True, eq=False)
class Flatten(ImageLayer):
    kind: ClassVar[str] = "flatten"


LAYER_CLASSES: dict[str, type[ImageLayer]] = {
    c.kind: c for c in (ImageInput, Convolution, Pooling, Flatten)}

#: the keys of a layer's dict, per kind, besides id, kind, label, x, y and source
SETTINGS: dict[str, tuple[str, ...]] = {
    "image_input": ("shape",),
    "convolution": ("filters", "stride", "padding", "activation", "slope"),
    "pooling": ("mode", "window", "stride"),
    "flatten": (),
}
COMMON_KEYS = ("id", "kind", "label", "x", "y", "source")
FILTER_KEYS = ("weights", "bias", "trainable")


# ---------------------------------------------------------------------- ids
def filter_pid(layer: str, f: int, c: int | None = None, i: int = 0, j: int = 0) -> str:
    """The id of a filter parameter: weight [c, i, j] of filter f, or (``c`` None) its bias."""
    return f"{layer}[{f}].b" if c is None else f"{layer}[{f}].w[{c},{i},{j}]"


def parse_pid(pid: str) -> tuple[str, int, tuple[int, int, int] | None] | None:
    """(layer, filter, (c, i, j) or None for the bias) of a filter parameter id, or None."""
    m = _PID.fullmatch(pid)
    if m is None:
        return None
    f = int(m["f"])
    if m["c"] is None:
        return m["layer"], f, None
    return m["layer"], f, (int(m["c"]), int(m["i"]), int(m["j"]))


def layer_param_ids(layer: Convolution) -> list[str]:
    """The ids of a convolution's parameters in packed order (filter by filter: weights in
    (channel, row, column) order, then the bias)."""
    k, lid = layer.kernel, layer.id
    one = [f"w[{c},{i},{j}]" for c in range(layer.channels) for i in range(k)
           for j in range(k)] + ["b"]
    return [f"{lid}[{f}].{p}" for f in range(layer.filters) for p in one]


def filter_param_name(layer: ImageLayer, f: int, cij: tuple[int, int, int] | None) -> str:
    """A filter parameter as a learner reads it: "weight [0][1][2] of filter 0 of
    convolution 'filters'", "bias of filter 0 of convolution 'filters'"."""
    if cij is None:
        return f"bias of filter {f} of {layer.title}"
    c, i, j = cij
    return f"weight [{c}][{i}][{j}] of filter {f} of {layer.title}"


def feature_id(flatten: str, k: int) -> str:
    return f"{flatten}.{k}"


def feature_label(c: int, r: int, q: int) -> str:
    """A feature neuron's label: where its value comes from ("map 0 [1][2]")."""
    return f"map {c} [{r}][{q}]"


# ---------------------------------------------------------------------- shapes
def maps_of(shape: ImageShape) -> tuple[int, int, int] | None:
    """The (maps, height, width) a layer of this shape gives (None for a flatten: values)."""
    if isinstance(shape, tuple):
        return shape
    if isinstance(shape, FlattenShape):
        return None
    return shape.out_shape


def describe_maps(maps: tuple[int, int, int]) -> str:
    c, h, w = maps
    return f"{c} map{'s' if c != 1 else ''} of {h} {TIMES} {w}"


def check_link(layer: ImageLayer, source: ImageLayer) -> None:
    """Raise NetworkError if ``source`` may not feed ``layer`` (whatever their shapes)."""
    if layer.kind == "image_input":
        raise NetworkError(f"{layer.title} takes its pixels from the dataset; it has no "
                           f"source layer")
    if source.kind == "flatten":
        raise NetworkError(f"{layer.title} takes feature maps; {source.title} gives a column "
                           f"of values (connect its feature neurons to neurons instead)")
    if source.id == layer.id:
        raise NetworkError(f"{layer.title} cannot take its input from itself")


def source_order(layers: Mapping[str, ImageLayer]) -> list[str]:
    """The layer ids with every layer after its source (stable in the given order); raises
    NetworkError for a missing source or a cycle of sources."""
    placed: dict[str, None] = {}
    for lid in layers:
        chain: list[str] = []
        cur: str | None = lid
        while cur is not None and cur not in placed:
            if cur in chain:
                names = " \u2192 ".join(layers[c].label for c in [*chain[chain.index(cur):], cur])
                raise NetworkError(f"the image layers' sources form a cycle: {names}")
            chain.append(cur)
            src = layers[cur].source
            if src is not None and src not in layers:
                raise NetworkError(f"{layers[cur].title} takes its input from {src!r}, which "
                                   f"is not an image layer")
            cur = src
        for c in reversed(chain):
            placed[c] = None
    return list(placed)


def layer_shapes(layers: Mapping[str, ImageLayer]) -> dict[str, ImageShape]:
    """The shape of every layer reached from an image input (a layer that is not has none),
    or NetworkError naming the first layer that does not fit (the kernel's own message)."""
    shapes: dict[str, ImageShape] = {}
    for lid in source_order(layers):
        layer = layers[lid]
        if isinstance(layer, ImageInput):
            shapes[lid] = layer.shape
            continue
        if layer.source is None or layer.source not in shapes:
            continue
        src = layers[layer.source]
        check_link(layer, src)
        maps = maps_of(shapes[layer.source])
        assert maps is not None  # (a flatten never feeds a layer: check_link)
        try:
            shapes[lid] = _shape(layer, maps, src)
        except LayerShapeError as e:
            raise NetworkError(str(e)) from None
    return shapes


def _shape(layer: ImageLayer, maps: tuple[int, int, int], src: ImageLayer) -> ImageShape:
    if isinstance(layer, Convolution):
        if layer.channels != maps[0]:
            deep = f"{layer.channels} channel{'s' if layer.channels != 1 else ''} deep"
            raise NetworkError(
                f"{layer.title} has filters {deep}, but {src.title} gives "
                f"{describe_maps(maps)}; each filter needs one channel per map")
        if layer.channels > MAX_CHANNELS:
            raise NetworkError(f"{layer.title}: {layer.channels} channels is more than the "
                               f"limit of {MAX_CHANNELS}")
        return Conv2D(maps, layer.filters, layer.kernel, layer.stride, layer.padding,
                      name=layer.label)
    if isinstance(layer, Pooling):
        return Pool2D(maps, layer.window, layer.stride, layer.mode, name=layer.label)
    return FlattenShape(maps, name=layer.label)


# ---------------------------------------------------------------------- filters
def initial_filters(rng: np.random.Generator, init: str, layer: Convolution) -> np.ndarray:
    """New packed filter values for ``layer`` (filters, fan_in + 1), drawn from ``rng``:
    'uniform' U(-1, 1) for weights and biases; 'xavier' U(-l, l) with
    l = sqrt(6 / (fan_in + fan_out)), fan_in = channels·k·k and fan_out = filters·k·k; 'he'
    N(0, 2 / fan_in); biases 0 except for 'uniform'."""
    f, n = layer.filters, layer.fan_in
    out = np.zeros((f, n + 1))
    if init == "uniform":
        out[:] = rng.uniform(-1.0, 1.0, out.shape)
    elif init == "xavier":
        lim = math.sqrt(6.0 / (n + f * layer.kernel * layer.kernel))
        out[:, :-1] = rng.uniform(-lim, lim, (f, n))
    else:
        out[:, :-1] = rng.normal(0.0, math.sqrt(2.0 / n), (f, n))
    return out


def redraw(rng: np.random.Generator, init: str, layers: Sequence[Convolution],
           values: np.ndarray, trainable: np.ndarray) -> np.ndarray:
    """``values`` (every convolution's packed parameters, layer after layer) with the
    trainable filters drawn anew (:func:`initial_filters`, one layer after the other)."""
    out = values.copy()
    off = 0
    for layer in layers:
        n = layer.n_params
        fresh = initial_filters(rng, init, layer).ravel()
        part = slice(off, off + n)
        out[part] = np.where(trainable[part], fresh, values[part])
        off += n
    return out


# ---------------------------------------------------------------------- dict form
def whole(value: Any, what: str, lo: int, hi: int, title: str, where: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise LayerError(f"{title}: the {what} must be a whole number, not {value!r}", where)
    if not lo <= int(value) <= hi:
        raise LayerError(f"{title}: the {what} must be from {lo} to {hi}, not {value}", where)
    return int(value)


def number(value: Any, what: str, where: str) -> float:
    """A finite number given as a number (a file's form: never text, never true/false)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LayerError(f"{what} must be a number, not {value!r}", where)
    if not math.isfinite(value):
        raise LayerError(f"{what} must be a finite number, not {value!r}", where)
    return float(value)


def _choice(value: Any, what: str, options: Sequence[str], title: str, where: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise LayerError(f"{title}: the {what} must be {' or '.join(map(repr, options))}, not "
                         f"{value!r}", where)
    return value


def check_activation(title: str, name: Any, where: str = ".activation") -> str:
    """A convolution's activation: any of the table's but softmax."""
    if not isinstance(name, str) or name not in activations.ACTIVATIONS:
        raise LayerError(f"{title}: unknown activation {name!r} (known: "
                         f"{', '.join(activations.NAMES)})", where)
    if name == "softmax":
        raise LayerError(f"{title}: softmax works on the output neurons as a group; a "
                         f"convolution takes an activation per value", where)
    return name


def _filters(value: Any, title: str) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A convolution's filters from their dicts: (packed values (F, C·k·k + 1), trainable per
    filter (F,), channels, kernel), or LayerError naming the filter."""
    if not isinstance(value, list) or not value:
        raise LayerError(f"{title}: 'filters' must be a list of 1 to {MAX_FILTERS} filters",
                         ".filters")
    if len(value) > MAX_FILTERS:
        raise LayerError(f"{title}: {len(value)} filters is more than the limit of "
                         f"{MAX_FILTERS}", ".filters")
    rows: list[np.ndarray] = []
    flags: list[bool] = []
    shape: tuple[int, int, int] | None = None
    for f, fd in enumerate(value):
        where = f".filters[{f}]"
        if not isinstance(fd, dict):
            raise LayerError(f"{title}: filter {f} must be an object with weights, bias and "
                             f"trainable", where)
        unknown = [k for k in fd if k not in FILTER_KEYS]
        if unknown:
            raise LayerError(f"{title}: filter {f} has the unknown key {unknown[0]!r} "
                             f"(allowed: {', '.join(FILTER_KEYS)})", f"{where}.{unknown[0]}")
        if "weights" not in fd:
            raise LayerError(f"{title}: filter {f} has no 'weights'", where)
        w = _grid(fd["weights"], title, f, f"{where}.weights")
        if shape is None:
            shape = (w.shape[0], w.shape[1], w.shape[2])
        elif w.shape != shape:
            raise LayerError(f"{title}: filter {f} is {_dims(w.shape)} but filter 0 is "
                             f"{_dims(shape)}; every filter of a layer has the same shape",
                             f"{where}.weights")
        bias = number(fd.get("bias", 0.0), f"{title}: the bias of filter {f}", f"{where}.bias")
        tr = fd.get("trainable", True)
        if not isinstance(tr, bool):
            raise LayerError(f"{title}: 'trainable' of filter {f} must be true or false, not "
                             f"{tr!r}", f"{where}.trainable")
        rows.append(np.append(w.ravel(), bias))
        flags.append(tr)
    assert shape is not None
    return np.array(rows), np.array(flags, dtype=bool), shape[0], shape[1]


def _dims(shape: tuple[int, ...]) -> str:
    return f" {TIMES} ".join(map(str, shape))


def _grid(value: Any, title: str, f: int, where: str) -> np.ndarray:
    """One filter's weights: channels × k × k nested lists of finite numbers, k 1 to 7."""
    bad = LayerError(f"{title}: the weights of filter {f} must be a channels {TIMES} k "
                     f"{TIMES} k grid of numbers (lists of rows of numbers, one per channel), "
                     f"k from {KERNEL_SIZES[0]} to {KERNEL_SIZES[1]}", where)
    if not isinstance(value, list) or not value or len(value) > MAX_CHANNELS:
        raise bad
    k = len(value[0]) if isinstance(value[0], list) else 0
    if not KERNEL_SIZES[0] <= k <= KERNEL_SIZES[1]:
        raise bad
    for ch in value:
        if not isinstance(ch, list) or len(ch) != k or any(
                not isinstance(row, list) or len(row) != k for row in ch):
            raise LayerError(f"{title}: the weights of filter {f} are ragged; every channel "
                             f"must be {k} rows of {k} numbers", where)
        for row in ch:
            for v in row:
                if isinstance(v, bool) or not isinstance(v, (int, float)) \
                        or not math.isfinite(v):
                    raise LayerError(f"{title}: the weights of filter {f} hold {v!r}; every "
                                     f"weight must be a finite number", where)
    return np.array(value, dtype=np.float64)


def layer_from_dict(d: Any, taken: Any = ()
                    ) -> tuple[ImageLayer, np.ndarray | None, np.ndarray | None]:
    """One layer from its dict (the file form): (the layer, without slots; for a convolution
    its packed filter values (F, C·k·k + 1) and trainable flags per filter, else None, None).
    Raises :class:`LayerError` naming the layer and the problem. ``taken``: ids in use."""
    if not isinstance(d, dict):
        raise LayerError(f"an image layer must be an object, not {d!r}")
    kind = d.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise LayerError(f"an image layer's kind must be one of {', '.join(KINDS)}, not "
                         f"{kind!r}", ".kind")
    lid = d.get("id")
    if not is_valid_id(lid):
        raise LayerError(f"image layer id {lid!r} is not valid: {ID_RULE}", ".id")
    if lid in taken:
        raise LayerError(f"id {lid!r} is already used", ".id")
    label = d.get("label", lid)
    if not isinstance(label, str) or not label.strip() or len(label.strip()) > 64 \
            or any(ord(ch) < 32 or ord(ch) == 127 for ch in label):
        raise LayerError(f"the label of image layer {lid!r} must be one line of 1 to 64 "
                         f"characters", ".label")
    label = label.strip()
    title = f"{KIND_TITLES[kind]} {label!r}"
    allowed = COMMON_KEYS + SETTINGS[kind]
    for k in d:
        if k not in allowed:
            other = [c for c, keys in SETTINGS.items() if k in keys and c != kind]
            hint = (f"'{k}' is a setting of a {KIND_TITLES[other[0]]}" if other
                    else f"unknown key {k!r}")
            raise LayerError(f"{title}: {hint}; a {KIND_TITLES[kind]} takes "
                             f"{', '.join(allowed)}", f".{k}")
    x = number(d.get("x", 0.0), f"{title}: the x position", ".x")
    y = number(d.get("y", 0.0), f"{title}: the y position", ".y")
    source = d.get("source")
    if source is not None and not isinstance(source, str):
        raise LayerError(f"{title}: 'source' must be a layer id or null, not {source!r}",
                         ".source")
    if kind == "image_input":
        if source is not None:
            raise LayerError(f"{title} takes its pixels from the dataset; it has no source",
                             ".source")
        shape = d.get("shape")
        if not isinstance(shape, list) or len(shape) != 3:
            raise LayerError(f"{title}: 'shape' must be [channels, height, width], not "
                             f"{shape!r}", ".shape")
        c = whole(shape[0], "number of channels", 1, MAX_INPUT_CHANNELS, title, ".shape")
        h = whole(shape[1], "height", 1, MAX_SIDE, title, ".shape")
        w = whole(shape[2], "width", 1, MAX_SIDE, title, ".shape")
        return ImageInput(lid, label, x, y, None, (c, h, w)), None, None
    if kind == "convolution":
        if "filters" not in d:
            raise LayerError(f"{title}: 'filters' is missing", "")
        values, flags, channels, kernel = _filters(d["filters"], title)
        stride = whole(d.get("stride", 1), "stride", *STRIDES, title, ".stride")
        padding = cast(Padding, _choice(d.get("padding", "valid"), "padding", PADDINGS, title,
                                        ".padding"))
        act = check_activation(title, d.get("activation", "relu"))
        slope = number(d.get("slope", activations.DEFAULT_LEAKY_SLOPE),
                       f"{title}: the leaky slope", ".slope")
        conv = Convolution(lid, label, x, y, source, channels, len(values), kernel, stride,
                           padding, act, slope)
        return conv, values, flags
    if kind == "pooling":
        mode = cast(PoolMode, _choice(d.get("mode", "max"), "mode", POOL_MODES, title, ".mode"))
        window = whole(d.get("window", 2), "window size", *POOL_WINDOWS, title, ".window")
        stride = whole(d.get("stride", window), "stride", *POOL_STRIDES, title, ".stride")
        return Pooling(lid, label, x, y, source, mode, window, stride), None, None
    return Flatten(lid, label, x, y, source), None, None


def layer_dict(layer: ImageLayer, values: np.ndarray | None = None,
               trainable: np.ndarray | None = None) -> dict[str, Any]:
    """A layer's dict (the file form). A convolution needs its packed filter ``values`` and
    ``trainable`` flags (one per parameter, as in the store; a filter is trainable if its
    first weight is)."""
    d: dict[str, Any] = {"id": layer.id, "kind": layer.kind, "label": layer.label}
    if layer.source is not None:
        d["source"] = layer.source
    if isinstance(layer, ImageInput):
        d["shape"] = list(layer.shape)
    elif isinstance(layer, Convolution):
        assert values is not None and trainable is not None
        k, c = layer.kernel, layer.channels
        vals = values.reshape(layer.filters, layer.fan_in + 1)
        flags = trainable.reshape(vals.shape)[:, 0].tolist()
        d["stride"] = layer.stride
        d["padding"] = layer.padding
        d["activation"] = layer.activation
        if layer.activation == "leaky_relu":
            d["slope"] = layer.slope
        d["filters"] = [
            {"weights": row[:-1].reshape(c, k, k).tolist(), "bias": float(row[-1]),
             "trainable": bool(flag)}
            for row, flag in zip(vals, flags, strict=True)]
    elif isinstance(layer, Pooling):
        d["mode"] = layer.mode
        d["window"] = layer.window
        d["stride"] = layer.stride
    d["x"] = layer.x
    d["y"] = layer.y
    return d

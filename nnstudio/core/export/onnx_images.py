"""Opening the convolutional front of an ONNX model: image inputs, ``Conv``, ``MaxPool`` /
``AveragePool`` and ``Flatten`` become NN Studio's image layers.

:mod:`.onnx_import` reads the graph node by node; when a node works on feature maps it calls
:class:`ImageLayers`, which builds the image layers' dicts (the project file's form, which
:meth:`Network.from_dict <nnstudio.core.network.Network.from_dict>` checks again) and hands
back :class:`Maps`, the value of a node's output: which layer's maps, of which (C, H, W)
shape. A refusal is an :class:`ImageImportError` saying what does not fit; the importer puts
the node's name and operation in front of it.

What NN Studio represents, and so what opens:

* an image input: the model's input as (rows, C, H, W), or the first columns of a rows x
  columns input reshaped to (rows, C, H, W) (as NN Studio's own export writes it);
* ``Conv``: square kernels of 1 to 7, equal strides of 1 to 3, no dilation, one group, and
  'valid' padding (none) or NN Studio's 'same' padding (the output ``ceil(H / stride)`` rows,
  the odd row or column of padding at the bottom and right: ONNX's ``SAME_UPPER``); an
  activation right after it (``Relu``, ``LeakyRelu``, ``PRelu`` with one slope, ``Sigmoid``,
  ``Tanh``, ``Softplus``) becomes the layer's activation when nothing else reads the raw sums;
* ``MaxPool`` / ``AveragePool``: square windows, equal strides, no padding, dilation or
  ceiling;
* ``Flatten`` (axis 1), or ``Reshape`` to (rows, −1): a flatten layer, whose feature neurons
  are the columns the dense part reads.

Every size is checked by :mod:`nnstudio.core.conv`'s shapes (a kernel or window that does not
fit its input is refused with their message) before anything is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..conv import Conv2D, LayerShapeError, Padding, Pool2D, PoolMode
from ..network.image_layers import MAX_IMAGE_LAYERS, MAX_INPUT_CHANNELS, MAX_SIDE, feature_id


class ImageImportError(ValueError):
    """An image operation NN Studio cannot represent; one line, without the node's name."""


@dataclass(frozen=True, eq=False)
class Maps:
    """A node's output that is feature maps: image layer ``layer``'s, of ``shape`` (C, H, W).
    ``raw`` marks a convolution's sums before any activation (an activation may still become
    the layer's own); ``shared``, raw sums that some other node reads too (so no activation
    can become the layer's)."""

    layer: str
    shape: tuple[int, int, int]
    raw: bool = False
    shared: bool = False


def _dims(shape: tuple[int, ...] | list[int]) -> str:
    return " \u00d7 ".join(map(str, shape))


def _auto_pad(attrs: dict[str, Any]) -> str:
    auto = attrs.get("auto_pad", "NOTSET")
    return auto.decode() if isinstance(auto, bytes) else str(auto)


def _square(values: Any, what: str, default: int | None = None) -> int:
    """The one value of a 2-D attribute whose two values must be equal (kernel, strides)."""
    vals = list(values) if values is not None else ([default] * 2 if default is not None
                                                    else [])
    if len(vals) != 2 or vals[0] != vals[1]:
        raise ImageImportError(f"NN Studio takes square {what} (two equal values), not {vals}")
    return int(vals[0])


class ImageLayers:
    """The image layers one import makes, in order, as project-file dicts."""

    def __init__(self) -> None:
        self.dicts: list[dict[str, Any]] = []
        self.pixels = 0                  # the data columns the image inputs take
        self.features: set[str] = set()  # the feature neurons of every flatten made
        self._count: dict[str, int] = {}

    def _id(self, kind: str) -> str:
        if len(self.dicts) >= MAX_IMAGE_LAYERS:
            raise ImageImportError(f"the model needs more than {MAX_IMAGE_LAYERS} image "
                                   "layers, the most a network holds")
        k = self._count[kind] = self._count.get(kind, 0) + 1
        return f"{kind}{k}"

    def _add(self, d: dict[str, Any]) -> dict[str, Any]:
        self.dicts.append(d)
        return d

    def _layer(self, maps: Maps) -> dict[str, Any]:
        return next(d for d in self.dicts if d["id"] == maps.layer)

    # ------------------------------------------------------------------ the layers
    def image_input(self, shape: tuple[int, ...], label: str) -> Maps:
        """An image input of ``shape`` (C, H, W) reading the next data columns."""
        if len(shape) != 3 or any(not isinstance(d, int) or d <= 0 for d in shape):
            raise ImageImportError(f"an image is channels x height x width, not {list(shape)}")
        c, h, w = shape
        if c > MAX_INPUT_CHANNELS or h > MAX_SIDE or w > MAX_SIDE:
            raise ImageImportError(f"a {_dims(shape)} image is larger than NN Studio's limit "
                                   f"of {MAX_INPUT_CHANNELS} channels of {MAX_SIDE} \u00d7 "
                                   f"{MAX_SIDE} pixels")
        lid = self._id("image")
        self._add({"id": lid, "kind": "image_input", "label": label or lid,
                   "shape": [c, h, w]})
        self.pixels += c * h * w
        return Maps(lid, (c, h, w))

    def convolution(self, maps: Maps, weight: np.ndarray, bias: np.ndarray | None,
                    attrs: dict[str, Any], label: str) -> Maps:
        """A convolution of ``maps`` with ``weight`` (F, C, k, k) and ``bias`` (F,)."""
        if weight.ndim != 4 or weight.dtype.kind != "f":
            raise ImageImportError(f"its filters must be a (filters, channels, k, k) array of "
                                   f"floats, not of shape {list(weight.shape)}")
        f, c, kh, kw = weight.shape
        if c != maps.shape[0]:
            raise ImageImportError(f"its filters are {c} channel(s) deep but its input has "
                                   f"{maps.shape[0]} map(s)")
        if kh != kw:
            raise ImageImportError(f"NN Studio takes square kernels, not {kh} \u00d7 {kw}")
        if int(attrs.get("group", 1)) != 1:
            raise ImageImportError("grouped convolutions are not supported (group must be 1)")
        if any(int(d) != 1 for d in attrs.get("dilations", [1, 1])):
            raise ImageImportError("dilated convolutions are not supported")
        if "kernel_shape" in attrs and list(attrs["kernel_shape"]) != [kh, kw]:
            raise ImageImportError(f"kernel_shape {list(attrs['kernel_shape'])} does not match "
                                   f"its {kh} \u00d7 {kw} filters")
        stride = _square(attrs.get("strides"), "strides", 1)
        if bias is None:
            bias = np.zeros(f)
        if bias.shape != (f,) or bias.dtype.kind != "f":
            raise ImageImportError(f"its bias must be {f} floats, one per filter, not of shape "
                                   f"{list(bias.shape)}")
        padding = self._padding(maps.shape, f, kh, stride, attrs)
        try:
            out = Conv2D(maps.shape, f, kh, stride, padding, name=label).out_shape
        except LayerShapeError as e:
            raise ImageImportError(str(e)) from None
        lid = self._id("conv")
        self._add({"id": lid, "kind": "convolution", "label": label or lid,
                   "source": maps.layer, "stride": stride, "padding": padding,
                   "activation": "identity",
                   "filters": [{"weights": weight[i].tolist(), "bias": float(bias[i]),
                                "trainable": True} for i in range(f)]})
        return Maps(lid, out, raw=True)

    @staticmethod
    def _padding(shape: tuple[int, int, int], f: int, k: int, stride: int,
                 attrs: dict[str, Any]) -> Padding:
        """'valid' or 'same' for the padding the attributes ask for, or the refusal."""
        auto = _auto_pad(attrs)
        if auto == "VALID":
            return "valid"
        if auto == "SAME_UPPER":
            return "same"
        if auto != "NOTSET":
            raise ImageImportError(f"auto_pad {auto} is not NN Studio's padding: 'same' puts "
                                   "the odd row or column at the bottom and right (SAME_UPPER)")
        pads = [int(p) for p in attrs.get("pads", [0, 0, 0, 0])]
        if len(pads) != 4:
            raise ImageImportError(f"pads must be four numbers (top, left, bottom, right), not "
                                   f"{pads}")
        if not any(pads):
            return "valid"
        try:
            same = Conv2D(shape, f, k, stride, "same").pads   # (top, bottom, left, right)
        except LayerShapeError as e:
            raise ImageImportError(str(e)) from None
        top, bottom, left, right = same
        if pads == [top, left, bottom, right]:
            return "same"
        raise ImageImportError(f"pads {pads} (top, left, bottom, right) are neither 'valid' "
                               f"(none) nor NN Studio's 'same' {[top, left, bottom, right]}")

    def activation(self, maps: Maps, activation: str, slope: float, alone: bool) -> Maps:
        """An activation of a convolution's raw sums: the convolution's own (``alone``:
        nothing else reads the raw sums)."""
        if not maps.raw:
            raise ImageImportError("NN Studio applies an activation to feature maps only as "
                                   "part of a convolution, right after it")
        if not alone:
            raise ImageImportError("the convolution's sums before this activation are read "
                                   "elsewhere too; NN Studio applies the activation inside the "
                                   "convolution")
        d = self._layer(maps)
        d["activation"] = activation
        if activation == "leaky_relu":
            d["slope"] = slope
        return Maps(maps.layer, maps.shape)

    def pooling(self, maps: Maps, mode: PoolMode, attrs: dict[str, Any], label: str) -> Maps:
        """Max (``mode="max"``) or average pooling of ``maps``."""
        window = _square(attrs.get("kernel_shape"), "windows")
        stride = _square(attrs.get("strides"), "strides", 1)
        if any(int(p) for p in attrs.get("pads", [])):
            raise ImageImportError("NN Studio pools without padding")
        if _auto_pad(attrs) not in ("NOTSET", "VALID"):
            raise ImageImportError("NN Studio pools without padding (auto_pad)")
        if int(attrs.get("ceil_mode", 0)) or any(int(d) != 1 for d in attrs.get("dilations",
                                                                               [1, 1])):
            raise ImageImportError("ceil_mode and dilations are not supported")
        try:
            out = Pool2D(maps.shape, window, stride, mode, name=label).out_shape
        except LayerShapeError as e:
            raise ImageImportError(str(e)) from None
        lid = self._id("pool")
        self._add({"id": lid, "kind": "pooling", "label": label or lid, "source": maps.layer,
                   "mode": mode, "window": window, "stride": stride})
        return Maps(lid, out)

    def flatten(self, maps: Maps, label: str) -> list[str]:
        """A flatten of ``maps``: the ids of its feature neurons, in flattened order."""
        lid = self._id("flat")
        self._add({"id": lid, "kind": "flatten", "label": label or lid, "source": maps.layer})
        c, h, w = maps.shape
        ids = [feature_id(lid, k) for k in range(c * h * w)]
        self.features.update(ids)
        return ids


def reshape_target(shape: np.ndarray, n_values: int) -> tuple[int, ...]:
    """What a ``Reshape`` to ``shape`` (int64, its first entry the rows: −1 or 0) makes of
    rows of ``n_values`` values: (C, H, W) maps, or (n,) a row of columns; the refusal for
    anything else."""
    dims = [int(d) for d in np.asarray(shape).reshape(-1)]
    if not dims or dims[0] not in (-1, 0) or any(d == 0 for d in dims[1:]):
        raise ImageImportError(f"only a reshape of each row is supported (the rows first, "
                               f"as -1 or 0), not to {dims}")
    rest = dims[1:]
    if rest.count(-1) > 1 or any(d < -1 for d in rest):
        raise ImageImportError(f"cannot reshape to {dims}")
    known = int(np.prod([d for d in rest if d != -1])) if rest else 1
    if -1 in rest:
        if known == 0 or n_values % known:
            raise ImageImportError(f"{n_values} values per row do not reshape to {dims}")
        rest[rest.index(-1)] = n_values // known
    if int(np.prod(rest)) != n_values:
        raise ImageImportError(f"{n_values} values per row do not reshape to {dims}")
    if len(rest) not in (1, 3):
        raise ImageImportError(f"NN Studio reshapes rows into columns or into channels x "
                               f"height x width maps, not into {dims}")
    return tuple(rest)


__all__ = ["ImageImportError", "ImageLayers", "Maps", "reshape_target"]

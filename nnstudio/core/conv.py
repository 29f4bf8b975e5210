"""Convolution, pooling and flatten over a batch of images: the numerical kernels (float64).

These are the vectorised operations the engine runs for image layers, and the look-ups the
step-through player and the canvas need to explain them with the same numbers. They know
nothing of the network model: a layer here is a validated *shape* (:class:`Conv2D`,
:class:`Pool2D`, :class:`Flatten`) plus forward and backward functions over arrays.

Layout and conventions
----------------------
* A batch of images or feature maps is an array ``(N, C, H, W)``: sample, channel (or map),
  row, column, rows counted from the top. Flattening orders the values channel by channel, each
  channel row by row (``index = (c * H + r) * W + q``), as PyTorch's ``flatten`` does.
* A convolution's parameters are one packed matrix ``(F, C·k·k + 1)``: row ``f`` is filter
  ``f``'s weights in (channel, row, column) order followed by its bias. One filter is one row,
  so it is edited in one place, and the engine can make the matrix a view of its flat parameter
  vector. :meth:`Conv2D.pack`, :meth:`Conv2D.weights` and :meth:`Conv2D.biases` convert.
* ``z[n, f, r, q] = Σ_c,i,j W[f, c, i, j] · x[n, c, r·s + i − pad_top, q·s + j − pad_left] + b[f]``
  (a cross-correlation, as in every deep-learning library), where a pixel outside the image is
  0. ``dL/dW[f, c, i, j]`` is the sum over every sample and position of dL/dz times the input
  under that weight; ``dL/db[f]`` the sum of dL/dz over every sample and position.
* Padding ``"valid"`` uses no padding; ``"same"`` gives ``ceil(H / stride)`` output rows and
  pads ``(out − 1)·stride + k − H`` rows in total, half on top and the rest (one more, when it
  is odd) at the bottom, and the same for columns (TensorFlow's rule; PyTorch's for stride 1).
* A kernel, stride or pooling window must *fit*: no kernel or window larger than its input,
  and the windows must reach the last row and column exactly (with 'valid' padding ``H − k``
  a multiple of the stride), so no trailing row or column is silently left unread. Anything
  else raises :class:`LayerShapeError` naming the layer and the mismatch.
* Max pooling sends the whole gradient of a window to its *winner*, the largest value; among
  equal largest values the winner is the first in reading order (top row first, each row left
  to right), as PyTorch's CPU ``max_pool2d`` chooses. Every other position of the window gets
  0. Average pooling shares a window's gradient equally among its positions.

Speed
-----
No Python loop runs over positions, filters or samples. A convolution copies every receptive
field once into a column matrix (``sliding_window_view`` and one strided copy, "im2col"; the
bias rides along as a row of ones) and does one batched matrix product; the backward pass is
two more matrix products and, for dL/dx, a scatter of the columns back onto the image with one
whole-batch addition per kernel offset (at most 7 × 7). Pooling copies each window offset into
a block of its own (one copy) and reduces across the blocks; its backward pass writes one
whole-batch array per window offset. The reusable arrays of one batch size live in a state
object (:class:`ConvState`, :class:`PoolState`), so the kernels allocate nothing per step.
``benchmarks/conv_kernels.py`` compares this with the alternatives.

Pure NumPy: no Qt, no network model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Array = np.ndarray
Padding = Literal["valid", "same"]
PoolMode = Literal["max", "average"]

PADDINGS: tuple[str, ...] = ("valid", "same")
POOL_MODES: tuple[str, ...] = ("max", "average")
KERNEL_SIZES = (1, 7)        # smallest and largest kernel side
STRIDES = (1, 3)             # smallest and largest convolution stride
POOL_WINDOWS = (1, 7)        # smallest and largest pooling window side
POOL_STRIDES = (1, 7)
MAX_CHANNELS = 256           # input channels of a layer, and filters of a convolution
MAX_SIDE = 1024              # image height or width
TIMES = "\u00d7"


class LayerShapeError(ValueError):
    """An image layer whose shape or arguments do not fit; the message names the layer."""


# ---------------------------------------------------------------------- shape checks
def _whole(value: object, what: str, lo: int, hi: int, layer: str) -> int:
    """``value`` as an int in [lo, hi], or LayerShapeError naming the layer and ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise LayerShapeError(f"{layer}: the {what} must be a whole number, not {value!r}")
    if not lo <= int(value) <= hi:
        raise LayerShapeError(f"{layer}: the {what} must be from {lo} to {hi}, not {value}")
    return int(value)


def _image_shape(shape: object, layer: str) -> tuple[int, int, int]:
    """A (channels, height, width) input shape, each a whole number within the limits."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise LayerShapeError(f"{layer}: the input shape must be (channels, height, width), "
                              f"not {shape!r}")
    c = _whole(shape[0], "number of input channels", 1, MAX_CHANNELS, layer)
    h = _whole(shape[1], "input height", 1, MAX_SIDE, layer)
    w = _whole(shape[2], "input width", 1, MAX_SIDE, layer)
    return c, h, w


def _fit(layer: str, what: str, k: int, stride: int, h: int, w: int,
         padding: str) -> tuple[int, int, int, int, int, int]:
    """Output size and padding of ``k x k`` windows at ``stride`` over an ``h x w`` input:
    (out_h, out_w, pad_top, pad_bottom, pad_left, pad_right), or LayerShapeError saying why
    the windows do not fit. ``what`` names the window ("kernel", "pooling window")."""
    if k > h or k > w:
        raise LayerShapeError(f"{layer}: its {k} {TIMES} {k} {what} is larger than its "
                              f"{h} {TIMES} {w} input")
    out: list[int] = []
    pads: list[int] = []
    for size, axis in ((h, "row"), (w, "column")):
        n = -(-size // stride) if padding == "same" else (size - k) // stride + 1
        end = (n - 1) * stride + k   # one past the last row/column the windows read
        if end < size:
            if padding == "same":
                advice = f"use a {what} at least as large as the stride"
            else:
                advice = (f"choose a stride that divides {size} \u2212 {k} = {size - k}, "
                          "or another input size"
                          + (", or 'same' padding" if k >= stride and what == "kernel"
                             else ""))
            unread = f"{axis} {end}" if end == size - 1 else f"{axis}s {end} to {size - 1}"
            raise LayerShapeError(
                f"{layer}: stride {stride} does not fit its {h} {TIMES} {w} input with a "
                f"{k} {TIMES} {k} {what}: the windows end at {axis} {end - 1} and leave "
                f"{unread} unread; {advice}")
        total = end - size if padding == "same" else 0
        out.append(n)
        pads += [total // 2, total - total // 2]
    return out[0], out[1], pads[0], pads[1], pads[2], pads[3]


def _settle(layer: object, **values: object) -> None:
    """Set the validated (normalised or derived) fields of a frozen layer shape."""
    for key, value in values.items():
        object.__setattr__(layer, key, value)


def _check_batch(x: Array, shape: tuple[int, ...], layer: str, what: str) -> Array:
    """``x`` as a float64 array of shape (N, *shape), or LayerShapeError."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 + len(shape) or x.shape[1:] != shape:
        want = ", ".join(map(str, shape))
        raise LayerShapeError(f"{layer}: expects {what} of shape (samples, {want}), "
                              f"got {tuple(x.shape)}")
    return x


def _check_backward(layer: Conv2D | Pool2D, state: ConvState | PoolState, d: Array) -> Array:
    """The output gradients ``d`` of a backward pass as float64, checked against the layer's
    output shape and the state of its forward pass."""
    if state.layer is not layer:
        raise LayerShapeError(f"{layer.label}: the state passed to backward() is not from "
                              "this layer's forward pass")
    d = _check_batch(d, layer.out_shape, layer.label, "output gradients")
    if d.shape[0] != state.n:
        raise LayerShapeError(f"{layer.label}: the output gradients are for {d.shape[0]} "
                              f"samples, the forward pass was for {state.n}")
    return d


@dataclass(frozen=True)
class Window:
    """The input cells one output cell reads: rows ``top .. top + height − 1`` and columns
    ``left .. left + width − 1`` of every input channel. With 'same' padding a window may reach
    past the image; those cells are padding, read as 0."""

    top: int
    left: int
    height: int
    width: int
    image_height: int
    image_width: int

    def cells(self) -> list[tuple[int, int]]:
        """Every (row, column) of the window in reading order, padding cells included."""
        return [(self.top + i, self.left + j) for i in range(self.height)
                for j in range(self.width)]

    def inside(self, row: int, col: int) -> bool:
        """Is (row, col) a cell of the image (not padding)?"""
        return 0 <= row < self.image_height and 0 <= col < self.image_width

    def padding_mask(self) -> Array:
        """(height, width) booleans: True where the window lies on padding."""
        r = np.arange(self.top, self.top + self.height)[:, None]
        c = np.arange(self.left, self.left + self.width)[None, :]
        return ~((r >= 0) & (r < self.image_height) & (c >= 0) & (c < self.image_width))

    def clipped(self) -> tuple[int, int, int, int]:
        """The part on the image, as (top, left, bottom, right), bottom and right exclusive
        (what a canvas highlights)."""
        return (max(self.top, 0), max(self.left, 0),
                min(self.top + self.height, self.image_height),
                min(self.left + self.width, self.image_width))


def _offsets(k: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(k) for j in range(k)]


# ---------------------------------------------------------------------- convolution
@dataclass(frozen=True)
class DotProduct:
    """One output cell of a convolution written out: ``z = Σ input × weight + bias``.

    ``inputs`` and ``weights`` are (channels, k, k) in the order the sum runs (channel, then
    reading order); ``padding`` marks the window cells that lie outside the image (their input
    is 0). ``total`` is the exactly rounded sum of the products (``math.fsum``); the forward
    pass computes the same sum with a matrix product, which agrees to rounding."""

    filter: int
    row: int
    col: int
    window: Window
    inputs: Array
    weights: Array
    padding: Array
    bias: float

    @property
    def products(self) -> Array:
        return self.inputs * self.weights

    @property
    def total(self) -> float:
        """The dot product without the bias."""
        return math.fsum(self.products.ravel().tolist())

    @property
    def value(self) -> float:
        """The feature-map value: the dot product plus the bias."""
        return self.total + self.bias

    def terms(self) -> list[tuple[float, float]]:
        """(input, weight) of every term, in the order of the sum."""
        return list(zip(self.inputs.ravel().tolist(), self.weights.ravel().tolist(), strict=True))


@dataclass(frozen=True)
class Conv2D:
    """A 2-D convolution layer's shape: ``filters`` filters of ``kernel x kernel`` over every
    channel of a ``(channels, height, width)`` input, at ``stride``, with ``padding``; one bias
    per filter. ``name`` names the layer in messages. Construction validates everything and
    raises :class:`LayerShapeError` if anything does not fit."""

    in_shape: tuple[int, int, int]
    filters: int
    kernel: int
    stride: int = 1
    padding: Padding = "valid"
    name: str = "convolution"
    out_height: int = field(init=False)
    out_width: int = field(init=False)
    pads: tuple[int, int, int, int] = field(init=False)  # top, bottom, left, right

    def __post_init__(self) -> None:
        layer = f"convolution {self.name!r}"
        shape = _image_shape(self.in_shape, layer)
        filters = _whole(self.filters, "number of filters", 1, MAX_CHANNELS, layer)
        kernel = _whole(self.kernel, "kernel size", *KERNEL_SIZES, layer)
        stride = _whole(self.stride, "stride", *STRIDES, layer)
        if self.padding not in PADDINGS:
            raise LayerShapeError(f"{layer}: padding must be 'valid' or 'same', "
                                  f"not {self.padding!r}")
        oh, ow, pt, pb, pl, pr = _fit(layer, "kernel", kernel, stride, shape[1], shape[2],
                                      self.padding)
        _settle(self, in_shape=shape, filters=filters, kernel=kernel, stride=stride,
                out_height=oh, out_width=ow, pads=(pt, pb, pl, pr))

    # ------------------------------------------------------------------ sizes
    @property
    def label(self) -> str:
        return f"convolution {self.name!r}"

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return self.filters, self.out_height, self.out_width

    @property
    def fan_in(self) -> int:
        """Weights per filter: channels × k × k."""
        return self.in_shape[0] * self.kernel * self.kernel

    @property
    def param_shape(self) -> tuple[int, int]:
        """The packed parameters: one row per filter, its weights then its bias."""
        return self.filters, self.fan_in + 1

    @property
    def n_params(self) -> int:
        return self.filters * (self.fan_in + 1)

    @property
    def padded(self) -> bool:
        return any(self.pads)

    # ------------------------------------------------------------------ parameters
    def pack(self, weights: Array, biases: Array) -> Array:
        """(F, C, k, k) weights and (F,) biases as one packed (F, C·k·k + 1) matrix."""
        c, k, f = self.in_shape[0], self.kernel, self.filters
        w = np.asarray(weights, dtype=np.float64)
        b = np.asarray(biases, dtype=np.float64)
        if w.shape != (f, c, k, k) or b.shape != (f,):
            raise LayerShapeError(f"{self.label}: expects weights of shape {(f, c, k, k)} and "
                                  f"biases of shape {(f,)}, got {w.shape} and {b.shape}")
        return np.concatenate([w.reshape(f, -1), b[:, None]], axis=1)

    def check_params(self, params: Array) -> Array:
        p = np.asarray(params, dtype=np.float64)
        if p.shape != self.param_shape:
            raise LayerShapeError(f"{self.label}: expects packed parameters of shape "
                                  f"{self.param_shape} (filters, weights per filter + 1), "
                                  f"got {p.shape}")
        return p

    def weights(self, params: Array) -> Array:
        """The (F, C, k, k) weights of packed parameters (a view)."""
        p = self.check_params(params)
        c, k = self.in_shape[0], self.kernel
        return p[:, :-1].reshape(self.filters, c, k, k)

    def biases(self, params: Array) -> Array:
        """The (F,) biases of packed parameters (a view)."""
        return self.check_params(params)[:, -1]

    # ------------------------------------------------------------------ forward / backward
    def state(self, n: int) -> ConvState:
        """Reusable arrays for batches of ``n`` samples."""
        return ConvState(self, n)

    def forward(self, x: Array, params: Array,
                state: ConvState | None = None) -> tuple[Array, ConvState]:
        """``z`` (N, F, out_h, out_w) of a batch ``x`` (N, C, H, W), and the state that the
        backward pass needs. A given ``state`` of the same batch size is reused (its arrays
        are overwritten, ``z`` included)."""
        x = _check_batch(x, self.in_shape, self.label, "inputs")
        p = self.check_params(params)
        n = x.shape[0]
        if state is None or state.n != n or state.layer is not self:
            state = ConvState(self, n)
        src = x
        if state.xp is not None:
            pt, _, pl, _ = self.pads
            h, w = self.in_shape[1:]
            state.xp[:, :, pt:pt + h, pl:pl + w] = x
            src = state.xp
        k, s = self.kernel, self.stride
        win = sliding_window_view(src, (k, k), axis=(2, 3))
        if s > 1:
            win = win[:, :, ::s, ::s]
        np.copyto(state.patches, win.transpose(0, 1, 4, 5, 2, 3))  # (N, C, k, k, oh, ow)
        np.matmul(p, state.cols, out=state.z.reshape(n, self.filters, -1))
        return state.z, state

    def backward(self, dz: Array, params: Array, state: ConvState,
                 grad: Array | None = None, input_grad: bool = True) -> tuple[Array | None, Array]:
        """From dL/dz (N, F, out_h, out_w) and the state of the forward pass: (dL/dx or None
        when ``input_grad`` is false, dL/dparams packed like the parameters). ``grad``: an
        array of the packed shape to write dL/dparams into (e.g. a view of the engine's flat
        gradient). dL/dx is an array of the state, overwritten by the next backward pass."""
        dz = _check_backward(self, state, dz)
        n = state.n
        p = self.check_params(params)
        dz3 = dz.reshape(n, self.filters, -1)
        if grad is None:
            grad = np.empty(self.param_shape)
        np.matmul(dz3, state.cols.transpose(0, 2, 1), out=state.dparams)
        np.sum(state.dparams, axis=0, out=grad)
        if not input_grad:
            return None, grad
        dcols = state.backward_arrays()
        np.matmul(p[:, :-1].T, dz3, out=dcols)
        dpatch = dcols.reshape(state.patches.shape)          # (N, C, k, k, oh, ow)
        dst = state.dxp if state.dxp is not None else state.dx
        dst.fill(0.0)
        s, oh, ow = self.stride, self.out_height, self.out_width
        for i, j in _offsets(self.kernel):   # col2im: one whole-batch addition per offset
            dst[:, :, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s] += dpatch[:, :, i, j]
        if state.dxp is not None:
            pt, _, pl, _ = self.pads
            h, w = self.in_shape[1:]
            np.copyto(state.dx, state.dxp[:, :, pt:pt + h, pl:pl + w])
        return state.dx, grad

    # ------------------------------------------------------------------ explaining
    def receptive_field(self, row: int, col: int) -> Window:
        """The input cells output cell (row, col) reads."""
        self._check_cell(row, col)
        pt, _, pl, _ = self.pads
        h, w = self.in_shape[1:]
        s, k = self.stride, self.kernel
        return Window(row * s - pt, col * s - pl, k, k, h, w)

    def receptive_field_indices(self) -> Array:
        """(out_h · out_w, k · k) flat input positions ``r · W + q`` (within a channel) that
        each output cell reads, output cells and window cells in reading order; −1 marks
        padding."""
        oh, ow, k, s = self.out_height, self.out_width, self.kernel, self.stride
        pt, _, pl, _ = self.pads
        h, w = self.in_shape[1:]
        r = (np.arange(oh) * s - pt)[:, None, None, None] + np.arange(k)[None, None, :, None]
        c = (np.arange(ow) * s - pl)[None, :, None, None] + np.arange(k)[None, None, None, :]
        r, c = np.broadcast_arrays(r, c)
        flat = np.where((r >= 0) & (r < h) & (c >= 0) & (c < w), r * w + c, -1)
        return flat.reshape(oh * ow, k * k)

    def dot_product(self, x: Array, params: Array, filter: int, row: int,
                    col: int) -> DotProduct:
        """The terms of output cell (row, col) of filter ``filter`` for one image ``x``
        (C, H, W)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape != self.in_shape:
            raise LayerShapeError(f"{self.label}: expects one image of shape {self.in_shape}, "
                                  f"got {tuple(x.shape)}")
        p = self.check_params(params)
        _whole(filter, "filter number", 0, self.filters - 1, self.label)
        win = self.receptive_field(row, col)
        pad = win.padding_mask()
        rows = np.clip(np.arange(win.top, win.top + win.height), 0, self.in_shape[1] - 1)
        cols = np.clip(np.arange(win.left, win.left + win.width), 0, self.in_shape[2] - 1)
        inputs = np.where(pad, 0.0, x[:, rows[:, None], cols[None, :]])
        c, k = self.in_shape[0], self.kernel
        weights = p[filter, :-1].reshape(c, k, k).copy()
        return DotProduct(int(filter), row, col, win, inputs, weights, pad,
                          float(p[filter, -1]))

    def weight_gradient_terms(self, x: Array, dz: Array, filter: int, channel: int, i: int,
                              j: int) -> tuple[Array, Array]:
        """(inputs, dL/dz), each (N, out_h, out_w): for every sample and output position, the
        input under weight [filter, channel, i, j] (0 on padding) and that position's dL/dz.
        Their products summed give dL/dW[filter, channel, i, j]."""
        x = _check_batch(x, self.in_shape, self.label, "inputs")
        dz = _check_batch(dz, self.out_shape, self.label, "output gradients")
        _whole(filter, "filter number", 0, self.filters - 1, self.label)
        _whole(channel, "channel number", 0, self.in_shape[0] - 1, self.label)
        _whole(i, "kernel row", 0, self.kernel - 1, self.label)
        _whole(j, "kernel column", 0, self.kernel - 1, self.label)
        pt, _, pl, _ = self.pads
        h, w = self.in_shape[1:]
        s = self.stride
        r = np.arange(self.out_height) * s + i - pt
        c = np.arange(self.out_width) * s + j - pl
        ok = ((r >= 0) & (r < h))[:, None] & ((c >= 0) & (c < w))[None, :]
        vals = x[:, channel, np.clip(r, 0, h - 1)[:, None], np.clip(c, 0, w - 1)[None, :]]
        return np.where(ok, vals, 0.0), dz[:, filter].copy()

    def _check_cell(self, row: int, col: int) -> None:
        _whole(row, "output row", 0, self.out_height - 1, self.label)
        _whole(col, "output column", 0, self.out_width - 1, self.label)


class ConvState:
    """The reusable arrays of one :class:`Conv2D` for batches of ``n``: the padded input,
    the column matrix (its last row all ones, for the bias), z, and the backward scratch."""

    def __init__(self, layer: Conv2D, n: int):
        c, h, w = layer.in_shape
        k, f = layer.kernel, layer.filters
        oh, ow = layer.out_height, layer.out_width
        self.layer, self.n = layer, n
        pt, pb, pl, pr = layer.pads
        self.xp: Array | None = np.zeros((n, c, h + pt + pb, w + pl + pr)) if layer.padded \
            else None
        self.cols = np.empty((n, layer.fan_in + 1, oh * ow))
        self.cols[:, -1, :] = 1.0
        self.patches = self.cols[:, :-1, :].reshape(n, c, k, k, oh, ow)  # a view of cols
        self.z = np.empty((n, f, oh, ow))
        self.dparams = np.empty((n, f, layer.fan_in + 1))
        self.dcols: Array | None = None
        self.dx: Array = np.empty(0)
        self.dxp: Array | None = None

    def backward_arrays(self) -> Array:
        """The arrays of dL/dx, made at the first backward pass that needs them."""
        if self.dcols is None:
            layer = self.layer
            c, h, w = layer.in_shape
            n = self.n
            self.dcols = np.empty((n, layer.fan_in, layer.out_height * layer.out_width))
            self.dx = np.empty((n, c, h, w))
            if layer.padded:
                assert self.xp is not None
                self.dxp = np.empty_like(self.xp)
        return self.dcols


# ---------------------------------------------------------------------- pooling
@dataclass(frozen=True)
class Pool2D:
    """A pooling layer's shape: ``window x window`` windows at ``stride`` (default: the
    window, so windows do not overlap) over each channel of a (channels, height, width)
    input, taking the maximum (``mode="max"``) or the mean (``"average"``). No padding."""

    in_shape: tuple[int, int, int]
    window: int
    stride: int | None = None
    mode: PoolMode = "max"
    name: str = "pooling"
    out_height: int = field(init=False)
    out_width: int = field(init=False)

    def __post_init__(self) -> None:
        if self.mode not in POOL_MODES:
            raise LayerShapeError(f"pooling {self.name!r}: the mode must be 'max' or "
                                  f"'average', not {self.mode!r}")
        layer = self.label
        shape = _image_shape(self.in_shape, layer)
        window = _whole(self.window, "window size", *POOL_WINDOWS, layer)
        stride = window if self.stride is None else \
            _whole(self.stride, "stride", *POOL_STRIDES, layer)
        oh, ow, *_ = _fit(layer, "pooling window", window, stride, shape[1], shape[2],
                          "valid")
        _settle(self, in_shape=shape, window=window, stride=stride, out_height=oh,
                out_width=ow)

    @property
    def label(self) -> str:
        return f"{'max' if self.mode == 'max' else 'average'} pooling {self.name!r}"

    @property
    def out_shape(self) -> tuple[int, int, int]:
        return self.in_shape[0], self.out_height, self.out_width

    @property
    def step(self) -> int:
        """The stride as an int (``stride`` is filled in by the constructor)."""
        assert self.stride is not None
        return self.stride

    @property
    def tiles(self) -> bool:
        """Do the windows tile the input exactly (stride = window, no overlap, no gap)?"""
        return self.step == self.window

    def state(self, n: int) -> PoolState:
        return PoolState(self, n)

    def forward(self, x: Array, state: PoolState | None = None) -> tuple[Array, PoolState]:
        """The pooled maps (N, C, out_h, out_w) of ``x`` (N, C, H, W), and the state the
        backward pass needs (for max pooling: which position won each window)."""
        x = _check_batch(x, self.in_shape, self.label, "inputs")
        n = x.shape[0]
        if state is None or state.n != n or state.layer is not self:
            state = PoolState(self, n)
        w, s = self.window, self.step
        win = sliding_window_view(x, (w, w), axis=(2, 3))
        if s > 1:
            win = win[:, :, ::s, ::s]
        np.copyto(state.blocks6, win.transpose(4, 5, 0, 1, 2, 3))  # (w, w, N, C, oh, ow)
        blocks, y = state.blocks, state.y
        if self.mode == "average":
            np.add.reduce(blocks, axis=0, out=y)
            np.divide(y, w * w, out=y)
            return y, state
        np.maximum.reduce(blocks, axis=0, out=y)
        won, taken = state.won, state.taken
        np.equal(blocks, y, out=won)          # every position holding its window's maximum
        np.copyto(taken, won[0])
        for k in range(1, w * w):             # keep the first in reading order: ties lose
            np.greater(won[k], taken, out=won[k])
            if k < w * w - 1:
                np.logical_or(taken, won[k], out=taken)
        return y, state

    def backward(self, dy: Array, state: PoolState) -> Array:
        """dL/dx (N, C, H, W) from dL/dy of the pooled maps: each window's gradient to its
        winner (max) or shared equally (average). An array of the state, overwritten by the
        next backward pass."""
        dy = _check_backward(self, state, dy)
        w, s = self.window, self.step
        oh, ow = self.out_height, self.out_width
        dx, tmp, tiles = state.dx, state.tmp, self.tiles
        if self.mode == "average":   # the same share for every position of a window
            np.divide(dy, w * w, out=tmp)
        if not tiles:                # overlapping or gapped windows: add the parts up
            dx.fill(0.0)
        # One whole-batch operation per window offset. Where the windows tile the input, each
        # input position belongs to one window and is written once, directly.
        for k, (i, j) in enumerate(_offsets(w)):
            part = dx[:, :, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s]
            if self.mode == "max":   # dy where this offset won its window, else 0
                np.multiply(state.won[k], dy, out=part if tiles else tmp)
                if not tiles:
                    part += tmp
            elif tiles:
                np.copyto(part, tmp)
            else:
                part += tmp
        return dx

    # ------------------------------------------------------------------ explaining
    def window_at(self, row: int, col: int) -> Window:
        """The input cells output cell (row, col) pools."""
        _whole(row, "output row", 0, self.out_height - 1, self.label)
        _whole(col, "output column", 0, self.out_width - 1, self.label)
        h, w = self.in_shape[1:]
        return Window(row * self.step, col * self.step, self.window, self.window, h, w)

    def winners(self, state: PoolState) -> tuple[Array, Array]:
        """(rows, cols), each (N, C, out_h, out_w): the input position that won each window
        of the last forward pass (max pooling only)."""
        if self.mode != "max":
            raise LayerShapeError(f"{self.label}: average pooling has no winners")
        k = state.won.argmax(axis=0)
        oh, ow = self.out_height, self.out_width
        rows = np.arange(oh)[:, None] * self.step + k // self.window
        cols = np.arange(ow)[None, :] * self.step + k % self.window
        return rows, cols


class PoolState:
    """The reusable arrays of one :class:`Pool2D` for batches of ``n``: the windows as one
    block per window offset, the pooled maps, the winners (max), dL/dx and a scratch map."""

    def __init__(self, layer: Pool2D, n: int):
        c, h, w = layer.in_shape
        win, oh, ow = layer.window, layer.out_height, layer.out_width
        self.layer, self.n = layer, n
        self.blocks6 = np.empty((win, win, n, c, oh, ow))
        self.blocks = self.blocks6.reshape(win * win, n, c, oh, ow)
        self.y = np.empty((n, c, oh, ow))
        mode_max = layer.mode == "max"
        self.won = np.empty(self.blocks.shape if mode_max else (0,), dtype=bool)
        self.taken = np.empty((n, c, oh, ow) if mode_max else (0,), dtype=bool)
        self.tmp = np.empty((n, c, oh, ow))
        self.dx = np.empty((n, c, h, w))


# ---------------------------------------------------------------------- flatten
@dataclass(frozen=True)
class Flatten:
    """Feature maps (N, C, H, W) as rows of C·H·W values, channel by channel, each row by
    row: the hand-over from the image layers to ordinary neurons."""

    in_shape: tuple[int, int, int]
    name: str = "flatten"

    def __post_init__(self) -> None:
        _settle(self, in_shape=_image_shape(self.in_shape, self.label))

    @property
    def label(self) -> str:
        return f"flatten {self.name!r}"

    @property
    def size(self) -> int:
        c, h, w = self.in_shape
        return c * h * w

    def forward(self, x: Array) -> Array:
        x = _check_batch(x, self.in_shape, self.label, "inputs")
        return x.reshape(x.shape[0], self.size)

    def backward(self, d: Array) -> Array:
        d = _check_batch(d, (self.size,), self.label, "output gradients")
        return d.reshape(d.shape[0], *self.in_shape)

    def position(self, index: int) -> tuple[int, int, int]:
        """(channel, row, column) of flattened value ``index``."""
        _whole(index, "flattened index", 0, self.size - 1, self.label)
        c, r, q = np.unravel_index(int(index), self.in_shape)
        return int(c), int(r), int(q)

    def index(self, channel: int, row: int, col: int) -> int:
        """The flattened index of (channel, row, column)."""
        c, h, w = self.in_shape
        _whole(channel, "channel", 0, c - 1, self.label)
        _whole(row, "row", 0, h - 1, self.label)
        _whole(col, "column", 0, w - 1, self.label)
        return (channel * h + row) * w + col


__all__ = [
    "Conv2D", "ConvState", "DotProduct", "Flatten", "LayerShapeError", "PADDINGS", "POOL_MODES",
    "Pool2D", "PoolState", "Window",
]

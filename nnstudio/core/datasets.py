"""Datasets: named input and target columns with rows of floats, generators, CSV import/export.

A :class:`Dataset` holds ``X`` (rows x inputs) and ``Y`` (rows x targets) as float64 arrays.
Input column ``i`` feeds the network's ``i``-th input neuron and target column ``j`` is compared
with its ``j``-th output neuron (the order of the neurons in the project file).

Classification data also carries ``class_names``:

* with two or more target columns the targets are one-hot (one column per class, in
  ``class_names`` order) and a row's class is the output with the largest value (argmax), which
  is how softmax outputs map to classes;
* with one target column there are exactly two classes, the targets are 0 or 1 and a row's
  class is 1 when the output is at least 0.5 (a sigmoid or binary-step output).

Every value must be a finite number; NaN and infinity are refused with :class:`DatasetError`.

Images: the first input columns may hold images, one per row (``images``, each an
:class:`ImageColumns`: a name, a (channels, height, width) shape and where its columns start),
channel by channel and row by row, as a network's image input reads them. ``input_names``
still names every column (``"pixels[c][r][q]"`` for an image's), so tables, the engine and CSV
see plain columns; in a project file the image is one entry ``{"image": "pixels", "shape":
[1, 6, 6]}`` of ``inputs``. The named inputs (one per input neuron) follow the images.

CSV files have a header row naming the columns. By default the last ``n_targets`` columns are
the targets. With ``labels=True`` the last column holds a class label per row (any text, such
as ``apple``); it becomes one-hot target columns, one per class in order of first appearance,
and the labels become ``class_names``. With ``image=(name, (C, H, W))`` the first C·H·W input
columns are read as that image. A cell that is not a number is refused with its line and
column.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import image_datasets
from .files import PathLike, atomic_write, read_limited
from .messages import quote

Array = np.ndarray

# Limits (also enforced for datasets inside project files; see docs/file-format.md).
MAX_ROWS = 200_000
MAX_COLUMNS = 1_024          # input columns, and target columns, each
MAX_CELLS = 5_000_000        # rows x (inputs + targets)
MAX_NAME_LENGTH = 64
MAX_CSV_BYTES = 64 * 1024 * 1024
MAX_IMAGE_VALUES = 16_384    # channels x height x width of one image (128 x 128, 64 x 64 x 4)
MAX_IMAGES = 8               # images per row
MAX_IMAGE_NAME_LENGTH = 40   # (its columns are named "<name>[c][r][q]")


class DatasetError(ValueError):
    """Bad dataset content; the message says what is wrong and where."""


def _check_names(names: object, what: str) -> list[str]:
    if not isinstance(names, (list, tuple)):
        raise DatasetError(f"{what} must be a list of names, not {type(names).__name__}")
    out = []
    for i, n in enumerate(names):
        if not isinstance(n, str):
            raise DatasetError(f"{what}[{i}] must be text, not {quote(n)}")
        s = n.strip()
        if not s:
            raise DatasetError(f"{what}[{i}] is empty; every column needs a name")
        if len(s) > MAX_NAME_LENGTH:
            raise DatasetError(f"{what}[{i}] is longer than {MAX_NAME_LENGTH} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in s):
            raise DatasetError(f"{what}[{i}] must be one line of text, without control "
                               "characters or lone surrogates")
        out.append(s)
    return out


def _matrix(values: ArrayLike, rows: int | None, cols: int, what: str) -> Array:
    try:
        a = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DatasetError(f"{what} must be a table of numbers") from None
    if a.size == 0:
        a = a.reshape(0 if rows is None else rows, cols)
    if a.ndim != 2:
        raise DatasetError(f"{what} must be a table (rows x columns), got {a.ndim} dimension(s)")
    if a.shape[1] != cols:
        raise DatasetError(f"{what} has {a.shape[1]} column(s) but {cols} name(s)")
    if rows is not None and a.shape[0] != rows:
        raise DatasetError(f"{what} has {a.shape[0]} row(s), expected {rows}")
    bad = ~np.isfinite(a)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DatasetError(f"{what} row {r + 1}, column {c + 1} is {a[r, c]}; values must be "
                           "finite")
    return a


class ImageColumns(NamedTuple):
    """One image per row: the input columns ``start .. start + size - 1``, channel by channel,
    each row by row (the order a network's image input reads)."""

    name: str
    shape: tuple[int, int, int]
    start: int

    @property
    def size(self) -> int:
        c, h, w = self.shape
        return c * h * w

    @property
    def stop(self) -> int:
        return self.start + self.size

    def column_names(self) -> list[str]:
        return image_column_names(self.name, self.shape)

    def describe(self) -> str:
        return " \u00d7 ".join(map(str, self.shape))


def image_column_names(name: str, shape: Sequence[int]) -> list[str]:
    """The names of an image's columns: ``"pixels[c][r][q]"``, channel by channel, row by
    row."""
    c, h, w = shape
    return [f"{name}[{k}][{r}][{q}]" for k in range(c) for r in range(h) for q in range(w)]


def _check_image(name: object, shape: object, what: str) -> tuple[str, tuple[int, int, int]]:
    """An image's name and (channels, height, width) shape, or DatasetError."""
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(f"{what}: an image needs a name")
    name = name.strip()
    if len(name) > MAX_IMAGE_NAME_LENGTH or any(ord(ch) < 32 or ch in "[]," for ch in name):
        raise DatasetError(f"{what}: the image name {quote(name)} must be at most "
                           f"{MAX_IMAGE_NAME_LENGTH} characters, without '[', ']', ',' or "
                           f"control characters")
    if not isinstance(shape, (list, tuple)) or len(shape) != 3 or any(
            isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in shape):
        raise DatasetError(f"{what}: the shape of image {quote(name)} must be [channels, "
                           f"height, width], whole numbers of at least 1, not {shape!r}")
    c, h, w = (int(v) for v in shape)
    if c * h * w > MAX_IMAGE_VALUES:
        raise DatasetError(f"{what}: image {quote(name)} of {c} \u00d7 {h} \u00d7 {w} has "
                           f"{c * h * w} values, more than the limit of {MAX_IMAGE_VALUES}")
    return name, (c, h, w)


def expand_inputs(inputs: object) -> tuple[list[str], tuple[ImageColumns, ...]]:
    """A project file's ``inputs`` (names, and ``{"image": name, "shape": [C, H, W]}`` objects
    first) as every column's name and the images, or DatasetError."""
    if not isinstance(inputs, (list, tuple)):
        raise DatasetError(f"the inputs must be a list of names, not {type(inputs).__name__}")
    names: list[str] = []
    images: list[ImageColumns] = []
    named = False
    for i, entry in enumerate(inputs):
        if isinstance(entry, dict):
            if named:
                raise DatasetError(f"inputs[{i}]: the images come before the named columns")
            extra = set(entry) - {"image", "shape"}
            if extra or "image" not in entry or "shape" not in entry:
                raise DatasetError(f"inputs[{i}]: an image is an object with exactly 'image' "
                                   f"(its name) and 'shape' ([channels, height, width])")
            name, shape = _check_image(entry["image"], entry["shape"], f"inputs[{i}]")
            img = ImageColumns(name, shape, len(names))
            images.append(img)
            names += img.column_names()
        else:
            named = True
            names.append(entry)   # (checked with the others by Dataset)
    return names, tuple(images)


class Dataset:
    """Named input and target columns with rows of floats (see the module docstring)."""

    def __init__(self, input_names: list[str], target_names: list[str], X: ArrayLike,
                 Y: ArrayLike,
                 class_names: list[str] | None = None, images: Sequence[ImageColumns] = ()):
        self.input_names = _check_names(input_names, "input names")
        self.target_names = _check_names(target_names, "target names")
        if not self.input_names:
            raise DatasetError("a dataset needs at least one input column")
        if not self.target_names:
            raise DatasetError("a dataset needs at least one target column")
        self.images = self._check_images(images)
        n_named = len(self.input_names) - self.image_columns
        for what, count in (("input", n_named), ("target", len(self.target_names))):
            if count > MAX_COLUMNS:
                raise DatasetError(f"{count} {what} columns is more than the limit of "
                                   f"{MAX_COLUMNS}")
        seen: set[str] = set()
        for n in self.input_names + self.target_names:
            if n in seen:
                raise DatasetError(f"the column name {n!r} is used twice; names must be unique")
            seen.add(n)
        self.X = _matrix(X, None, len(self.input_names), "the inputs")
        self.Y = _matrix(Y, self.X.shape[0], len(self.target_names), "the targets")
        n = self.X.shape[0]
        if n > MAX_ROWS:
            raise DatasetError(f"{n} rows is more than the limit of {MAX_ROWS}")
        if n * (self.X.shape[1] + self.Y.shape[1]) > MAX_CELLS:
            raise DatasetError(f"{n} rows x {self.X.shape[1] + self.Y.shape[1]} columns is more "
                               f"than the limit of {MAX_CELLS} values")
        self.class_names = None if class_names is None else self._check_classes(class_names)

    def _check_images(self, images: Sequence[ImageColumns]) -> tuple[ImageColumns, ...]:
        """The images, each checked, in the first columns one after the other and named as
        :func:`image_column_names` names them."""
        out: list[ImageColumns] = []
        start = 0
        if len(images) > MAX_IMAGES:
            raise DatasetError(f"{len(images)} images per row is more than the limit of "
                               f"{MAX_IMAGES}")
        for k, img in enumerate(images):
            name, shape = _check_image(img.name, img.shape, f"image {k}")
            img = ImageColumns(name, shape, int(img.start))
            if img.start != start:
                raise DatasetError(f"image {quote(name)} starts at column {img.start + 1}; the "
                                   f"images take the first columns, one after the other, so it "
                                   f"must start at column {start + 1}")
            if self.input_names[img.start:img.stop] != img.column_names():
                raise DatasetError(f"the columns of image {quote(name)} must be named "
                                   f"{name}[0][0][0] \u2026 {name}[{shape[0] - 1}]"
                                   f"[{shape[1] - 1}][{shape[2] - 1}] (its {img.size} values, "
                                   f"channel by channel, row by row)")
            start = img.stop
            out.append(img)
        return tuple(out)

    @property
    def image_columns(self) -> int:
        """How many of the first input columns are images."""
        return self.images[-1].stop if self.images else 0

    @property
    def named_inputs(self) -> list[str]:
        """The input columns after the images (one per input neuron)."""
        return self.input_names[self.image_columns:]

    def image_data(self, k: int = 0) -> Array:
        """Image ``k`` of every row as (rows, channels, height, width) (a view)."""
        img = self.images[k]
        return self.X[:, img.start:img.stop].reshape(len(self), *img.shape)

    def with_rows(self, X: ArrayLike, Y: ArrayLike) -> Dataset:
        """A dataset with the same columns, images and classes and these rows."""
        return Dataset(list(self.input_names), list(self.target_names), X, Y,
                       None if self.class_names is None else list(self.class_names),
                       self.images)

    def _check_classes(self, class_names: object) -> list[str]:
        names = _check_names(class_names, "class names")
        if len(set(names)) != len(names):
            raise DatasetError("class names must be unique")
        k = self.Y.shape[1]
        if k == 1:
            if len(names) != 2:
                raise DatasetError(
                    f"one target column holds two classes (0 and 1), so it needs exactly 2 "
                    f"class names, not {len(names)}"
                )
            bad = ~np.isin(self.Y[:, 0], (0.0, 1.0))
            if bad.any():
                r = int(np.argmax(bad))
                raise DatasetError(
                    f"target row {r + 1} is {float(self.Y[r, 0])!r}; a two-class target must be "
                    "0 or 1"
                )
        else:
            if len(names) != k:
                raise DatasetError(
                    f"{k} one-hot target columns need {k} class names, not {len(names)}"
                )
            onehot = np.isin(self.Y, (0.0, 1.0)).all(axis=1) & (self.Y.sum(axis=1) == 1.0)
            if not onehot.all():
                r = int(np.argmin(onehot))
                raise DatasetError(
                    f"target row {r + 1} is {self.Y[r].tolist()}; class targets must be one-hot "
                    "(a single 1, the rest 0)"
                )
        return names

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return self.X.shape[0]

    def __repr__(self) -> str:
        kind = f", classes {self.class_names}" if self.class_names else ""
        images = "".join(f"image {i.name!r} {i.describe()}, " for i in self.images)
        return (f"Dataset({len(self)} rows, inputs {images}{self.named_inputs}, "
                f"targets {self.target_names}{kind})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return (self.input_names == other.input_names and self.target_names == other.target_names
                and self.images == other.images
                and self.class_names == other.class_names and self.X.shape == other.X.shape
                and self.Y.shape == other.Y.shape and np.array_equal(self.X, other.X)
                and np.array_equal(self.Y, other.Y))

    @property
    def n_inputs(self) -> int:
        return self.X.shape[1]

    @property
    def n_targets(self) -> int:
        return self.Y.shape[1]

    @property
    def is_classification(self) -> bool:
        return self.class_names is not None

    def copy(self) -> Dataset:
        return self.with_rows(self.X.copy(), self.Y.copy())

    def rows(self, index: Array | slice) -> Dataset:
        """A new dataset with the selected rows (an index array, a slice or a boolean mask)."""
        return self.with_rows(self.X[index], self.Y[index])

    def inputs_entries(self) -> list[str | dict[str, Any]]:
        """The project file's ``inputs``: an object per image, then the named columns."""
        images: list[str | dict[str, Any]] = [{"image": i.name, "shape": list(i.shape)}
                                              for i in self.images]
        return images + self.named_inputs

    def to_dict(self) -> dict:
        """The project-file form: column names (an image as one object), optional class names
        and the two tables. Floats are Python floats, so ``json`` writes them exactly (shortest
        repr)."""
        d = {"inputs": self.inputs_entries(), "targets": list(self.target_names)}
        if self.class_names is not None:
            d["class_names"] = list(self.class_names)
        d["X"] = self.X.tolist()
        d["Y"] = self.Y.tolist()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Dataset:
        if not isinstance(d, dict):
            raise DatasetError("a dataset must be an object with inputs, targets, X and Y")
        missing = [k for k in ("inputs", "targets", "X", "Y") if k not in d]
        if missing:
            raise DatasetError(f"the dataset lacks {', '.join(missing)}")
        names, images = expand_inputs(d["inputs"])
        return cls(names, d["targets"], d["X"], d["Y"], d.get("class_names"), images)

    # ------------------------------------------------------------------ classes
    def _class_names(self) -> list[str]:
        if self.class_names is None:
            raise DatasetError("this dataset has no classes (it is regression data)")
        return self.class_names

    def classes_of(self, outputs: ArrayLike) -> Array:
        """The class index of each row of network outputs (argmax, or >= 0.5 for one output)."""
        self._class_names()
        out = np.asarray(outputs, dtype=np.float64)
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[1] != self.n_targets:
            raise DatasetError(f"expected outputs with {self.n_targets} column(s), got shape "
                               f"{out.shape}")
        if self.n_targets == 1:
            return (out[:, 0] >= 0.5).astype(np.intp)
        return np.argmax(out, axis=1).astype(np.intp)

    def labels(self) -> Array:
        """The true class index of every row."""
        return self.classes_of(self.Y)

    def class_names_of(self, outputs: ArrayLike) -> list[str]:
        names = self._class_names()
        return [names[i] for i in self.classes_of(outputs)]

    def accuracy(self, outputs: ArrayLike) -> float:
        """The fraction of rows whose predicted class (from ``outputs``) is the true class."""
        if len(self) == 0:
            return float("nan")
        return float(np.mean(self.classes_of(outputs) == self.labels()))


# ---------------------------------------------------------------------- generators
def _rng(seed: object) -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DatasetError(f"seed must be a whole number >= 0, not {seed!r}")
    return np.random.default_rng(int(seed))


def _check_size(size: object, lo: int) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) \
            or not lo <= size <= MAX_ROWS:
        raise DatasetError(f"size must be a whole number from {lo} to {MAX_ROWS}, not {size!r}")
    return int(size)


def _check_noise(noise: Any) -> float:  # anything: refused unless a number from 0 to 10
    try:
        v = float(noise)
    except (TypeError, ValueError):
        raise DatasetError(f"noise must be a number, not {noise!r}") from None
    if not math.isfinite(v) or not 0.0 <= v <= 10.0:
        raise DatasetError(f"noise must be a number from 0 to 10, not {noise!r}")
    return v


def _gate(op: Callable[[Array, Array], Array], name: str) -> Callable[..., Dataset]:
    def gen(seed: int = 0, size: int = 4, noise: float = 0.0) -> Dataset:
        rng = _rng(seed)
        size, noise = _check_size(size, 1), _check_noise(noise)
        table = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        X = table[np.arange(size) % 4]
        Y = op(X[:, 0] > 0.5, X[:, 1] > 0.5).astype(np.float64)[:, None]
        if noise:
            X = X + rng.normal(0.0, noise, X.shape)
        return Dataset(["x1", "x2"], [name], X, Y, ["0", "1"])
    return gen


def _circles(seed: int = 0, size: int = 200, noise: float = 0.05) -> Dataset:
    """Two concentric rings: class 'inner' (radius 0.5) and class 'outer' (radius 1)."""
    rng = _rng(seed)
    size, noise = _check_size(size, 2), _check_noise(noise)
    n_in = size // 2
    cls = np.r_[np.zeros(n_in), np.ones(size - n_in)]
    angle = rng.uniform(0.0, 2 * np.pi, size)
    radius = np.where(cls == 0, 0.5, 1.0)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.normal(0.0, noise, (size, 2))
    return Dataset(["x1", "x2"], ["outer"], X, cls[:, None], ["inner", "outer"])


def _gaussians(seed: int = 0, size: int = 200, noise: float = 0.5) -> Dataset:
    """Two gaussian blobs centred at (-1, -1) ('a') and (1, 1) ('b'); noise is their spread."""
    rng = _rng(seed)
    size, noise = _check_size(size, 2), _check_noise(noise)
    n_a = size // 2
    cls = np.r_[np.zeros(n_a), np.ones(size - n_a)]
    centre = np.where(cls[:, None] == 0, -1.0, 1.0)
    X = centre + rng.normal(0.0, noise, (size, 2))
    return Dataset(["x1", "x2"], ["b"], X, cls[:, None], ["a", "b"])


SPIRAL_TURNS = 2.0


def _spiral(seed: int = 0, size: int = 300, noise: float = 0.03) -> Dataset:
    """Two interleaved spiral arms ('a' and 'b'), each turning twice around the centre,
    radius growing from 0.1 to 1. The points along each arm are evenly spaced in the
    parameter; the seed decides the noise only (noise = the standard deviation added to x1, x2)."""
    rng = _rng(seed)
    size, noise = _check_size(size, 2), _check_noise(noise)
    n_a = size // 2
    cls = np.r_[np.zeros(n_a), np.ones(size - n_a)]
    t = np.r_[np.linspace(0.0, 1.0, n_a), np.linspace(0.0, 1.0, size - n_a)]
    radius = 0.1 + 0.9 * t
    angle = t * SPIRAL_TURNS * 2 * np.pi + cls * np.pi
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return Dataset(["x1", "x2"], ["b"], X, cls[:, None], ["a", "b"])


def _line(seed: int = 0, size: int = 5, noise: float = 0.0) -> Dataset:
    """y = 2x + 1 at ``size`` evenly spaced x from 0 to 4 (size 5: x = 0, 1, 2, 3, 4), plus
    gaussian noise of that standard deviation on y."""
    rng = _rng(seed)
    size, noise = _check_size(size, 2), _check_noise(noise)
    x = np.linspace(0.0, 4.0, size)
    y = 2.0 * x + 1.0
    if noise:
        y = y + rng.normal(0.0, noise, size)
    return Dataset(["x"], ["y"], x[:, None], y[:, None])


def _sine(seed: int = 0, size: int = 50, noise: float = 0.0) -> Dataset:
    """y = sin(x) at ``size`` evenly spaced x from -pi to pi, plus gaussian noise on y."""
    rng = _rng(seed)
    size, noise = _check_size(size, 2), _check_noise(noise)
    x = np.linspace(-np.pi, np.pi, size)
    y = np.sin(x)
    if noise:
        y = y + rng.normal(0.0, noise, size)
    return Dataset(["x"], ["y"], x[:, None], y[:, None])


def _dosage(seed: int = 0, size: int = 3, noise: float = 0.0) -> Dataset:
    """Seed 001's drug dosage data: ``size`` dosages evenly spaced from 0 to 1; the drug works
    (efficacy 1) only for a medium dose, 0.25 < dosage < 0.75, else 0. Size 3 gives the
    article's dosages 0, 0.5, 1 with efficacy 0, 1, 0. Noise is added to the efficacy."""
    rng = _rng(seed)
    size, noise = _check_size(size, 1), _check_noise(noise)
    d = np.linspace(0.0, 1.0, size) if size > 1 else np.array([0.5])
    y = (np.abs(d - 0.5) < 0.25).astype(np.float64)
    if noise:
        y = y + rng.normal(0.0, noise, size)
    return Dataset(["dosage"], ["efficacy"], d[:, None], y[:, None])


def _check_side(side: object) -> int:
    lo, hi = image_datasets.MIN_SIDE, image_datasets.MAX_SIDE
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or not lo <= side <= hi:
        raise DatasetError(f"the image side must be a whole number from {lo} to {hi}, not "
                           f"{side!r}")
    return int(side)


def _check_flip(noise: Any) -> float:
    v = _check_noise(noise)
    if v > 1:
        raise DatasetError(f"noise for images is the share of pixels flipped, from 0 to 1, not "
                           f"{noise!r}")
    return v


def _image_dataset(images: Array, classes: Array, names: Sequence[str]) -> Dataset:
    """Images (n, C, H, W) of classes (n,) as a dataset: image "pixels", one-hot targets."""
    n, c, h, w = images.shape
    img = ImageColumns("pixels", (c, h, w), 0)
    Y = np.eye(len(names))[classes]
    return Dataset(img.column_names(), list(names), images.reshape(n, -1), Y, list(names),
                   (img,))


def _o_vs_x(seed: int = 0, size: int = 16, noise: float = 0.0, side: int = 6) -> Dataset:
    """Seed 001's letters: O (a ring) and X (two diagonals), centred and shifted."""
    rng = _rng(seed)
    size, noise, side = _check_size(size, 2), _check_flip(noise), _check_side(side)
    return _image_dataset(*image_datasets.o_vs_x(rng, size, side, noise), image_datasets.LETTERS)


def _strokes(seed: int = 0, size: int = 40, noise: float = 0.0, side: int = 8) -> Dataset:
    """Horizontal, vertical and the two diagonal strokes at random places."""
    rng = _rng(seed)
    size, noise, side = _check_size(size, 4), _check_flip(noise), _check_side(side)
    return _image_dataset(*image_datasets.strokes(rng, size, side, noise),
                          image_datasets.STROKES)


@dataclass(frozen=True)
class Generator:
    name: str
    title: str
    make: Callable[..., Dataset]
    size: int       # default size
    noise: float    # default noise
    note: str
    side: int | None = None   # an image generator: its default image side

    def __call__(self, seed: int = 0, size: int | None = None,
                 noise: float | None = None, side: int | None = None) -> Dataset:
        size = self.size if size is None else size
        noise = self.noise if noise is None else noise
        if self.side is None:
            if side is not None:
                raise DatasetError(f"the {self.title} generator makes no images; it takes no "
                                   f"side")
            return self.make(seed, size, noise)
        return self.make(seed, size, noise, self.side if side is None else side)


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator("and", "AND gate", _gate(np.logical_and, "AND"), 4, 0.0,
                  "The truth table of x1 AND x2 (size 4 = each row once; larger sizes repeat it; "
                  "noise jitters the inputs)."),
        Generator("or", "OR gate", _gate(np.logical_or, "OR"), 4, 0.0,
                  "The truth table of x1 OR x2."),
        Generator("xor", "XOR gate", _gate(np.logical_xor, "XOR"), 4, 0.0,
                  "The truth table of x1 XOR x2: no single straight line separates it."),
        Generator("circles", "Two circles", _circles, 200, 0.05,
                  "An inner ring and an outer ring; noise blurs them."),
        Generator("gaussians", "Two gaussians", _gaussians, 200, 0.5,
                  "Two blobs around (-1, -1) and (1, 1); noise is their spread."),
        Generator("spiral", "Spiral", _spiral, 300, 0.03,
                  "Two interleaved spiral arms; noise blurs them."),
        Generator("line", "Line y = 2x + 1", _line, 5, 0.0,
                  "Points on y = 2x + 1 for x from 0 to 4; noise scatters y."),
        Generator("sine", "Sine", _sine, 50, 0.0, "y = sin(x) for x from -pi to pi."),
        Generator("dosage", "Drug dosage", _dosage, 3, 0.0,
                  "Seed 001's dosages: only a medium dose works."),
        Generator("o_vs_x", "O or X (images)", _o_vs_x, 16, 0.0,
                  "Seed 001's letters O and X on side x side pixels, centred and shifted by "
                  "a pixel; noise flips that share of the pixels.", side=6),
        Generator("strokes", "Strokes (images)", _strokes, 40, 0.0,
                  "Horizontal, vertical and diagonal strokes anywhere on the image; noise "
                  "flips that share of the pixels.", side=8),
    )
}
NAMES: tuple[str, ...] = tuple(GENERATORS)


def generate(name: str, seed: int = 0, size: int | None = None,
             noise: float | None = None, side: int | None = None) -> Dataset:
    """Make a dataset with one of :data:`GENERATORS` (default size, noise and, for an image
    generator, side when omitted)."""
    try:
        gen = GENERATORS[name]
    except KeyError:
        raise DatasetError(f"unknown generator {name!r} (known: {', '.join(NAMES)})") from None
    return gen(seed, size, noise, side)


# ---------------------------------------------------------------------- CSV
def cell_number(text: str, line: int, col: int, header: str) -> float:
    """The finite number in a CSV cell; DatasetError names its line, column and header."""
    s = text.strip()
    where = f"line {line}, column {col} ({quote(header)})"
    if not s:
        raise DatasetError(f"{where}: the cell is empty; expected a number")
    try:
        v = float(s)
    except ValueError:
        raise DatasetError(f"{where}: {quote(s, 40)} is not a number") from None
    if not math.isfinite(v):
        raise DatasetError(f"{where}: {quote(s, 40)} is not a finite number")
    return v


class CsvTable:
    """CSV text with a header row, read as it goes: :attr:`names` (the header's cells,
    stripped) and :attr:`header_line`, then :meth:`rows`. Blank lines are skipped everywhere,
    a byte-order mark is dropped. Every problem is a DatasetError naming the line: the CSV
    syntax, a header of more than ``2 x MAX_COLUMNS`` cells, a row whose number of cells
    differs from the header's, more than :data:`MAX_ROWS` rows or :data:`MAX_CELLS` cells
    (counted as they are read, so a huge table is refused before it is held)."""

    def __init__(self, text: str, max_columns: int = 2 * MAX_COLUMNS):
        if text.startswith("\ufeff"):
            text = text[1:]
        self._reader = reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader, None)
            while header is not None and not any(c.strip() for c in header):
                header = next(reader, None)
        except csv.Error as e:
            raise DatasetError(f"line {reader.line_num}: {e}") from None
        if header is None:
            raise DatasetError("the CSV file is empty; expected a header row naming the columns")
        self.header_line = reader.line_num
        if len(header) > max_columns:
            raise DatasetError(f"line {self.header_line}: {len(header)} columns is more than the "
                               f"limit of {MAX_COLUMNS} input and {MAX_COLUMNS} target columns"
                               + (f" and {max_columns - 2 * MAX_COLUMNS} image values"
                                  if max_columns > 2 * MAX_COLUMNS else ""))
        self.names = [h.strip() for h in header]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, cells)`` for each row after the header that is not blank."""
        reader, width, n = self._reader, len(self.names), 0
        try:
            for row in reader:
                line = reader.line_num
                if not any(c.strip() for c in row):
                    continue  # blank lines are allowed
                if len(row) != width:
                    raise DatasetError(f"line {line}: expected {width} cells (as in the header), "
                                       f"found {len(row)}")
                if n >= MAX_ROWS:
                    raise DatasetError(f"line {line}: more than the limit of {MAX_ROWS} rows")
                if (n + 1) * width > MAX_CELLS:
                    raise DatasetError(f"line {line}: {n + 1} rows x {width} columns is more "
                                       f"than the limit of {MAX_CELLS} values")
                n += 1
                yield line, row
        except csv.Error as e:
            raise DatasetError(f"line {reader.line_num}: {e}") from None


def parse_csv(text: str, n_targets: int = 1, labels: bool = False,
              image: tuple[str, Sequence[int]] | None = None) -> Dataset:
    """Read CSV text with a header row (see the module docstring for how targets are chosen
    and how ``image=(name, (C, H, W))`` reads the first C·H·W input columns as an image)."""
    if isinstance(n_targets, bool) or not isinstance(n_targets, int) or n_targets < 1:
        raise DatasetError(f"the number of target columns must be a whole number >= 1, not "
                           f"{n_targets!r}")
    if labels and n_targets != 1:
        raise DatasetError("with class labels there is exactly one label column (the last)")
    img = None if image is None else ImageColumns(*_check_image(image[0], image[1], "the image"),
                                                  0)
    table = CsvTable(text, 2 * MAX_COLUMNS + (img.size if img else 0))
    names, header_line = table.names, table.header_line
    for i, h in enumerate(names):
        if not h:
            raise DatasetError(f"line {header_line}, column {i + 1}: the header cell is "
                               "empty; every column needs a name")
    if len(names) <= n_targets:
        raise DatasetError(
            f"line {header_line}: {len(names)} column(s) cannot hold {n_targets} target "
            "column(s) and at least one input column"
        )
    width = len(names)
    n_in = width - n_targets
    if img is not None and n_in < img.size:
        after = "class label column" if labels else \
            f"target column{'s' if n_targets > 1 else ''}"
        raise DatasetError(f"line {header_line}: the CSV has {n_in} input column(s) before the "
                           f"{after}; an image of {img.describe()} needs {img.size}")
    in_names = names[:n_in] if img is None else img.column_names() + names[img.size:n_in]
    images = () if img is None else (img,)
    xs: list[list[float]] = []
    ys: list[list[float]] = []
    raw_labels: list[str] = []
    for line, row in table.rows():
        xs.append([cell_number(row[c], line, c + 1, names[c]) for c in range(n_in)])
        if labels:
            lab = row[-1].strip()
            if not lab:
                raise DatasetError(f"line {line}, column {width} ({quote(names[-1])}): the "
                                   "class label is empty")
            if len(lab) > MAX_NAME_LENGTH:
                raise DatasetError(f"line {line}, column {width} ({quote(names[-1])}): the "
                                   f"class label is longer than {MAX_NAME_LENGTH} characters")
            raw_labels.append(lab)
        else:
            ys.append([cell_number(row[c], line, c + 1, names[c]) for c in range(n_in, width)])
    X = np.array(xs, dtype=np.float64).reshape(len(xs), n_in)
    if labels:
        classes = list(dict.fromkeys(raw_labels))
        if len(classes) < 2:
            raise DatasetError(f"the label column {quote(names[-1])} holds {len(classes)} "
                               "class(es); classification needs at least 2")
        if len(classes) > MAX_COLUMNS:
            raise DatasetError(f"{len(classes)} classes is more than the limit of {MAX_COLUMNS}")
        index = {c: i for i, c in enumerate(classes)}
        Y = np.zeros((len(xs), len(classes)))
        Y[np.arange(len(xs)), [index[c] for c in raw_labels]] = 1.0
        clash = set(classes) & set(in_names)
        if clash:
            raise DatasetError(f"the class {sorted(clash)[0]!r} has the same name as an input "
                               "column; rename one of them")
        return Dataset(in_names, classes, X, Y, classes, images)
    Y = np.array(ys, dtype=np.float64).reshape(len(ys), n_targets)
    return Dataset(in_names, names[n_in:], X, Y, images=images)


def read_csv_text(path: PathLike, error: type[ValueError] = DatasetError) -> str:
    """The text of the CSV file ``path`` (size-limited, UTF-8); ``error`` names the problem
    (a file that is not UTF-8 by the line it fails on)."""
    data = read_limited(path, MAX_CSV_BYTES, error, "a CSV file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise error(f"line {line}: the file is not UTF-8 text") from None


def read_csv(path: PathLike, n_targets: int = 1, labels: bool = False,
             image: tuple[str, Sequence[int]] | None = None) -> Dataset:
    """Read a CSV file; raises DatasetError naming the line and column of a bad cell."""
    return parse_csv(read_csv_text(path), n_targets, labels, image)


def format_csv(ds: Dataset, labels: bool | None = None) -> str:
    """CSV text: a header row, then one row per sample. Numbers are written with ``repr`` so
    they read back exactly. ``labels`` (default: for datasets with two or more classes) writes
    one class-label column instead of the one-hot target columns; read it back with
    ``labels=True``."""
    if labels is None:
        labels = ds.is_classification and ds.n_targets >= 2
    if labels and not ds.is_classification:
        raise DatasetError("only classification data has class labels to write")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if labels:
        w.writerow([*ds.input_names, "class"])
        for x, name in zip(ds.X.tolist(), ds.class_names_of(ds.Y), strict=True):
            w.writerow([*map(repr, x), name])
    else:
        w.writerow([*ds.input_names, *ds.target_names])
        for x, y in zip(ds.X.tolist(), ds.Y.tolist(), strict=True):
            w.writerow([*map(repr, x), *map(repr, y)])
    return buf.getvalue()


def write_csv(ds: Dataset, path: PathLike, labels: bool | None = None) -> None:
    """Write a CSV file atomically (temp file in the same folder, fsync, replace); a disk
    problem raises DatasetError and leaves any existing file as it was."""
    data = format_csv(ds, labels).encode("utf-8")
    try:
        atomic_write(path, data)
    except OSError as e:
        raise DatasetError(f"cannot write {os.fspath(path)!r}: {e.strerror or e}") from None


__all__ = [
    "Dataset", "DatasetError", "Generator", "GENERATORS", "ImageColumns", "NAMES", "generate",
    "expand_inputs", "image_column_names", "parse_csv", "MAX_IMAGE_VALUES",
    "read_csv", "read_csv_text", "CsvTable", "cell_number", "format_csv", "write_csv",
    "MAX_ROWS", "MAX_COLUMNS", "MAX_CELLS",
]

"""The Dataset panel: the core generators as a row of pictures, noise and the validation split
as sliders, the rows as an editable table, and CSV import/export.

A click on a generator's picture makes its data at once (TensorFlow Playground's data picker);
dragging the noise slider regenerates the data as it moves, and the validation slider holds out
more or fewer rows, each drag one undo step.

Every change goes through the document (``document.set_dataset`` / ``set_settings``), so each
is one undo step; the table is a model over ``document.dataset`` and never keeps its own copy.
A refused edit (not a number, a class target that is not 0/1 or one-hot) changes nothing and
says why.

A dataset of images shows each image as one column of thumbnails (on the canvas's colours),
not as its pixel columns; its pixels are painted in the Drawing panel (:func:`set_pixels`).
An image generator (O vs X, strokes) takes the image side, by default the network's image
input's; a CSV import reads the first columns as the network's image when it has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPointF,
    QRectF,
    QSignalBlocker,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core import datasets, image_datasets
from nnstudio.core.datasets import Dataset, DatasetError
from nnstudio.core.network import ImageInput, NetworkEvent
from nnstudio.gui import style
from nnstudio.gui.canvas.image_items import heat_images
from nnstudio.gui.widgets import FloatSlider, PercentSpin

if TYPE_CHECKING:  # pragma: no cover  (the document never imports the panel)
    from nnstudio.gui.document import Document

TARGET_TINT = QColor("#F3F7FB")
THUMB = 26            # an image thumbnail's side in the table (pixels)
MAX_THUMBS = 4000     # thumbnails kept (a bigger dataset makes them again when scrolled back)


def _num(v: float) -> str:
    return f"{v:.10g}"


THUMB = 40     # a generator picture's side, in pixels


def generator_icon(name: str, size: int = THUMB) -> QPixmap:
    """A picture of what generator ``name`` makes (seed 0, its default size and noise): the
    points of two-input data coloured by class (orange, blue), or one-input data as y over x."""
    ds = datasets.generate(name)
    dpr = 2.0
    pm = QPixmap(int(size * dpr), int(size * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(QColor("#FFFFFF"))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if ds.images:   # image data: the first sample's first image, grey levels
        _draw_image(p, np.asarray(ds.image_data(0)[0, 0], dtype=np.float64), size)
        p.end()
        return pm
    pad = 4.0
    X = np.asarray(ds.X, dtype=np.float64)
    if ds.n_inputs >= 2:
        xs, ys = X[:, 0], X[:, 1]
        colour = ds.labels() if ds.is_classification else (ds.Y[:, 0] > ds.Y[:, 0].mean())
    else:
        xs, ys = X[:, 0], np.asarray(ds.Y[:, 0], dtype=np.float64)
        colour = np.ones(len(xs), dtype=np.intp)
    span = max(float(np.ptp(xs)), 1e-9), max(float(np.ptp(ys)), 1e-9)
    if ds.n_inputs >= 2:   # equal axes: a circle stays a circle
        span = (max(span), max(span))
    inner = size - 2 * pad
    u = pad + (xs - (xs.min() + xs.max() - span[0]) / 2) / span[0] * inner
    v = size - pad - (ys - (ys.min() + ys.max() - span[1]) / 2) / span[1] * inner
    if ds.n_inputs < 2:
        order = np.argsort(u)
        path = QPainterPath(QPointF(u[order[0]], v[order[0]]))
        for k in order[1:]:
            path.lineTo(u[k], v[k])
        p.setPen(QPen(QColor(style.POSITIVE_HEX), 1.4))
        p.drawPath(path)
    dot = 1.6 if len(xs) > 60 else 3.0
    p.setPen(Qt.PenStyle.NoPen)
    colours = (QColor(style.NEGATIVE_HEX), QColor(style.POSITIVE_HEX))
    for cls in (0, 1):
        p.setBrush(colours[cls])
        for x, y in zip(u[colour == cls].tolist(), v[colour == cls].tolist(), strict=True):
            p.drawEllipse(QPointF(x, y), dot, dot)
    p.setPen(QPen(QColor("#C9CED6"), 1.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), 4, 4)
    p.end()
    return pm


def _draw_image(p: QPainter, img: np.ndarray, size: int) -> None:
    """A 2-D array of pixel values as grey cells filling the picture (dark = high)."""
    h, w = img.shape
    lo, hi = float(img.min()), float(img.max())
    t = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    cell = (size - 4) / max(h, w)
    p.setPen(Qt.PenStyle.NoPen)
    for r in range(h):
        for c in range(w):
            g = int(round(255 - 200 * float(t[r, c])))
            p.setBrush(QColor(g, g, g))
            p.drawRect(QRectF(2 + c * cell, 2 + r * cell, cell, cell))
    p.setPen(QPen(QColor("#C9CED6"), 1.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), 4, 4)


class GeneratorPicker(QWidget):
    """The generators as a row of pictures (one checkable button each, at most one checked).
    Like a combo box: ``currentData()`` is the chosen generator's name (None: none),
    ``setCurrentIndex`` / ``findData`` / ``currentIndexChanged``; a user's click also emits
    ``picked(name)`` (the panel then makes that data)."""

    currentIndexChanged = Signal(int)
    picked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("generatorPicker")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        self.names = list(datasets.GENERATORS)
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)   # (none checked is a state too: data no generator made)
        self.buttons: list[QToolButton] = []
        for i, (name, g) in enumerate(datasets.GENERATORS.items()):
            b = QToolButton(self)
            b.setObjectName(f"generator_{name}")
            b.setCheckable(True)
            b.setIcon(QIcon(generator_icon(name)))
            b.setIconSize(QSize(THUMB, THUMB))
            b.setToolTip(f"<b>{g.title}</b><br>{g.note}<br><i>Click to make this data "
                         f"(undoable).</i>")
            b.setStyleSheet("QToolButton { border: 2px solid transparent; border-radius: 6px;"
                            " padding: 1px; }"
                            f"QToolButton:checked {{ border-color: {style.POSITIVE_HEX}; }}"
                            "QToolButton:hover { border-color: #A9CDE8; }")
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            self.group.addButton(b, i)
            self.buttons.append(b)
            lay.addWidget(b)
        lay.addStretch(1)
        self._index = -1
        self.group.idClicked.connect(self._clicked)

    def _clicked(self, i: int) -> None:
        self.setCurrentIndex(i)
        self.picked.emit(self.names[i])

    def currentIndex(self) -> int:
        return self._index

    def currentData(self) -> str | None:
        return self.names[self._index] if self._index >= 0 else None

    def findData(self, name: str) -> int:
        return self.names.index(name) if name in self.names else -1

    def count(self) -> int:
        return len(self.names)

    def setCurrentIndex(self, i: int) -> None:
        i = i if 0 <= i < len(self.names) else -1
        for k, b in enumerate(self.buttons):
            with QSignalBlocker(b):
                b.setChecked(k == i)
        if i != self._index:
            self._index = i
            self.currentIndexChanged.emit(i)


class DatasetModel(QAbstractTableModel):
    """Rows x (images + named inputs + targets) over ``document.dataset``: one column per
    image (thumbnails, not editable here), then one per named input and target column, whose
    edits go through the document. ``column(c)`` is the data column behind table column c."""

    refused = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._thumbs: dict[tuple[int, int], QPixmap] = {}
        document.datasetChanged.connect(self._reset)
        document.projectReplaced.connect(self._reset)

    def _reset(self) -> None:
        self.beginResetModel()
        self._thumbs.clear()
        self.endResetModel()

    @property
    def ds(self) -> Dataset | None:
        return self.document.dataset

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        ds = self.ds
        return 0 if (parent is not None and parent.isValid()) or ds is None else len(ds)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        ds = self.ds
        if (parent is not None and parent.isValid()) or ds is None:
            return 0
        return len(ds.images) + ds.n_inputs - ds.image_columns + ds.n_targets

    def column(self, c: int) -> int:
        """The data column (inputs, then targets) of table column ``c``; -1 for an image."""
        ds = self.ds
        k = len(ds.images)
        return -1 if c < k else c - k + ds.image_columns

    def _cell(self, r: int, c: int) -> float:
        ds = self.ds
        col = self.column(c)
        return float(ds.X[r, col]) if col < ds.n_inputs else float(ds.Y[r, col - ds.n_inputs])

    def _thumbnail(self, r: int, k: int) -> QPixmap:
        """Row ``r``'s image ``k`` (its first channel) as a small picture."""
        pm = self._thumbs.get((r, k))
        if pm is None:
            if len(self._thumbs) > MAX_THUMBS:
                self._thumbs.clear()
            image = heat_images(self.ds.image_data(k)[r, 0])[0]
            pm = QPixmap.fromImage(image.scaled(THUMB, THUMB, Qt.KeepAspectRatio,
                                                Qt.FastTransformation))
            self._thumbs[(r, k)] = pm
        return pm

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> object:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        ds = self.ds
        if self.column(c) < 0:
            img = ds.images[c]
            if role == Qt.DecorationRole:
                return self._thumbnail(r, c)
            if role == Qt.ToolTipRole:
                return (f"row {r + 1}: image {img.name!r} ({img.describe()}); paint it in the "
                        f"Drawing panel")
            return None
        if role in (Qt.DisplayRole, Qt.EditRole):
            return _num(self._cell(r, c))
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.BackgroundRole and self.column(c) >= ds.n_inputs:
            return QBrush(TARGET_TINT)
        if role == Qt.ToolTipRole:
            name = self._header(c)
            tip = f"row {r + 1}, {name} = {self._cell(r, c)!r}"
            if ds.class_names is not None:
                tip += f" (class {ds.class_names[int(ds.labels()[r])]})"
            return tip
        return None

    def _header(self, c: int) -> str:
        ds = self.ds
        col = self.column(c)
        if col < 0:
            img = ds.images[c]
            return f"{img.name} ({img.describe()})"
        return ds.input_names[col] if col < ds.n_inputs else ds.target_names[col - ds.n_inputs]

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.DisplayRole) -> object:
        ds = self.ds
        if ds is None:
            return None
        if orientation == Qt.Horizontal:
            col = self.column(section)
            if role == Qt.DisplayRole:
                name = self._header(section)
                return f"{name} (target)" if col >= ds.n_inputs else name
            if role == Qt.ToolTipRole:
                if col < 0:
                    return "an image per row: fed to the network's image input"
                return ("a target column: what the output neuron should produce"
                        if col >= ds.n_inputs else "an input column: fed to an input neuron")
        else:
            if role == Qt.DisplayRole:
                if ds.class_names is not None and section < len(ds):
                    return f"{section + 1} · {ds.class_names[int(ds.labels()[section])]}"
                return str(section + 1)
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.NoItemFlags
        if self.column(index.column()) < 0:   # an image: painted in the Drawing panel
            return Qt.ItemIsSelectable | Qt.ItemIsEnabled
        return Qt.ItemIsSelectable | Qt.ItemIsEnabled | Qt.ItemIsEditable

    def setData(self, index: QModelIndex, value: object, role: int = Qt.EditRole) -> bool:
        if role != Qt.EditRole or not index.isValid() or self.column(index.column()) < 0:
            return False
        r, c = index.row(), index.column()
        try:
            v = float(str(value).strip().replace("−", "-"))
        except ValueError:
            self.refused.emit(f"row {r + 1}, column {self._header(c)!r}: {str(value)!r} is not a "
                              "number; nothing changed")
            return False
        if not np.isfinite(v):
            self.refused.emit(f"row {r + 1}, column {self._header(c)!r}: {value!r} is not a finite"
                              " number; nothing changed")
            return False
        if v == self._cell(r, c):
            return False
        try:
            set_cell(self.document, r, self.column(c), v)
        except (DatasetError, ValueError) as e:
            self.refused.emit(f"row {r + 1}, column {self._header(c)!r}: {e}; nothing changed")
            return False
        return True


def set_cell(document: Document, row: int, col: int, value: float) -> None:
    """Set one cell (inputs first, then targets) as one undo step."""
    ds = document.dataset
    X, Y = ds.X.copy(), ds.Y.copy()
    if col < ds.n_inputs:
        X[row, col] = value
        name = ds.input_names[col]
    else:
        Y[row, col - ds.n_inputs] = value
        name = ds.target_names[col - ds.n_inputs]
    document.set_dataset(ds.with_rows(X, Y), text=f"Set row {row + 1} {name} = {value:g}")


def set_pixels(document: Document, row: int, start: int, values: np.ndarray,
               text: str) -> None:
    """Set the input cells ``start .. start + len(values) - 1`` of ``row`` (an image's pixels)
    as one undo step (nothing when they are already these values)."""
    ds = document.dataset
    values = np.asarray(values, dtype=np.float64).ravel()
    if not 0 <= row < len(ds) or start < 0 or start + len(values) > ds.n_inputs:
        raise ValueError(f"the dataset has no input cells {start} to {start + len(values) - 1} "
                         f"in row {row + 1}")
    if np.array_equal(ds.X[row, start:start + len(values)], values):
        return
    X = ds.X.copy()
    X[row, start:start + len(values)] = values
    document.set_dataset(ds.with_rows(X, ds.Y.copy()), text=text)


def add_rows(document: Document, after: int | None = None, count: int = 1) -> None:
    """Insert ``count`` rows (copies of row ``after``, or zeros / the first class) after
    ``after`` (default: at the end), as one undo step."""
    ds = document.dataset
    n = len(ds)
    if ds.class_names is not None:
        y0 = np.zeros(ds.n_targets)
        if ds.n_targets > 1:
            y0[0] = 1.0
    else:
        y0 = np.zeros(ds.n_targets)
    if after is None or not 0 <= after < n:
        pos = n
        x_new = np.zeros((count, ds.n_inputs))
        y_new = np.tile(y0, (count, 1))
        if n:
            x_new[:] = ds.X[-1]
            y_new[:] = ds.Y[-1]
    else:
        pos = after + 1
        x_new = np.tile(ds.X[after], (count, 1))
        y_new = np.tile(ds.Y[after], (count, 1))
    X = np.vstack([ds.X[:pos], x_new, ds.X[pos:]])
    Y = np.vstack([ds.Y[:pos], y_new, ds.Y[pos:]])
    document.set_dataset(ds.with_rows(X, Y),
                         text=f"Add {count} row{'s' if count != 1 else ''}")


def delete_rows(document: Document, rows: Iterable[int]) -> None:
    """Delete the given rows (0-based) as one undo step; at least one row must remain."""
    ds = document.dataset
    rows = sorted({int(r) for r in rows if 0 <= int(r) < len(ds)})
    if not rows:
        return
    if len(rows) >= len(ds):
        raise ValueError("a dataset needs at least one row; not every row can be deleted")
    keep = np.ones(len(ds), dtype=bool)
    keep[rows] = False
    document.set_dataset(ds.rows(keep),
                         text=f"Delete {len(rows)} row{'s' if len(rows) != 1 else ''}")


class DatasetPanel(QWidget):
    """The dock: generator row, action row, the table and an info/warning line."""

    def __init__(self, document: Document, output_pane: QWidget | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("datasetPanel")
        self.document = document
        self.output_pane = output_pane
        self.last_error = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)

        # the generators, as pictures: a click makes that data at once (one undo step)
        self.generator = GeneratorPicker(self)
        self.generator.currentIndexChanged.connect(self._generator_defaults)
        self.generator.picked.connect(self._picked)
        strip = QScrollArea(self)   # a narrow dock scrolls the pictures sideways
        strip.setObjectName("generatorStrip")
        strip.setWidget(self.generator)
        strip.setWidgetResizable(True)
        strip.setFrameShape(QFrame.Shape.NoFrame)
        strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        strip.setFixedHeight(self.generator.sizeHint().height() + 14)
        lay.addWidget(strip)

        # noise and the validation split: sliders that apply at once (one undo step per drag)
        knobs = QGridLayout()
        knobs.setHorizontalSpacing(6)
        knobs.setVerticalSpacing(2)
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 10.0)
        self.noise.setDecimals(3)
        self.noise.setSingleStep(0.05)
        self.noise.setToolTip("How much random noise the generator adds")
        self.noise_slider = FloatSlider(self, span=1.0, symmetric=False, fixed=True)
        self.noise_slider.setObjectName("noiseSlider")
        self.noise_slider.setToolTip("Drag to regenerate the data with more or less noise; one "
                                     "drag is one undo step")
        self.noise_slider.dragged.connect(self._noise_dragged)
        self.noise.valueChanged.connect(self.noise_slider.set_value)
        self.split = PercentSpin(self, tip="Percentage of rows held out (seeded) to measure the "
                                 "validation loss, 0 to 90 %; none = train on every row")
        self.split_slider = FloatSlider(self, span=0.9, symmetric=False, fixed=True)
        self.split_slider.setObjectName("splitSlider")
        self.split_slider.setToolTip("Drag to hold out more or fewer rows for validation; one "
                                     "drag is one undo step")
        self.split_slider.dragged.connect(self._split_dragged)
        self.split.fractionCommitted.connect(lambda v: self._set_split(v, ("spin", "split")))
        for col, (text, slider, box) in enumerate((("Noise", self.noise_slider, self.noise),
                                                   ("Validation", self.split_slider,
                                                    self.split))):
            lb = QLabel(text)
            lb.setToolTip(slider.toolTip())
            knobs.addWidget(lb, 0, 3 * col)
            knobs.addWidget(slider, 0, 3 * col + 1)
            box.setMaximumWidth(78)
            knobs.addWidget(box, 0, 3 * col + 2)
            knobs.setColumnStretch(3 * col + 1, 1)
        lay.addLayout(knobs)

        # size, seed and Generate; the rows; CSV
        row = QHBoxLayout()
        row.setSpacing(4)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Random seed: the same seed makes the same data")
        self.size = QSpinBox()
        self.size.setRange(1, datasets.MAX_ROWS)
        self.size.setToolTip("Number of rows to generate")
        self.side = QSpinBox()
        self.side.setRange(image_datasets.MIN_SIDE, image_datasets.MAX_SIDE)
        self.side.setToolTip("The images' side in pixels (an image generator); by default the "
                             "network's image input's")
        self.side_label = QLabel("side")
        self.side_label.setToolTip(self.side.toolTip())
        for text, w in (("size", self.size), ("seed", self.seed), ("side", self.side)):
            w.setMaximumWidth(72)
            lb = self.side_label if w is self.side else QLabel(text)
            lb.setToolTip(w.toolTip())
            row.addWidget(lb)
            row.addWidget(w)
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setToolTip("Replace the dataset with generated data of this size and "
                                     "seed (undoable)")
        self.generate_btn.clicked.connect(self.generate)
        row.addWidget(self.generate_btn)
        row.addStretch(1)

        def button(text: str, tip: str, slot: Callable[[], object]) -> QToolButton:
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(False)
            b.clicked.connect(slot)
            row.addWidget(b)
            return b
        self.add_btn = button("Add", "Add a row after the selected one (undoable)",
                              self._add_clicked)
        self.del_btn = button("Delete", "Delete the selected rows (undoable)",
                              self._delete_clicked)
        row.addSpacing(4)
        self.import_btn = button("Import…", "Read a CSV file with a header row; the last "
                                 "column(s) are the targets, or a text class label",
                                 self.import_dialog)
        self.export_btn = button("Export…", "Write the dataset as a CSV file", self.export_dialog)
        lay.addLayout(row)

        self.model = DatasetModel(document, self)
        self.model.refused.connect(self._show_error)
        self.table = QTableView()
        self.table.setObjectName("datasetTable")
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.DoubleClicked
                                   | QAbstractItemView.EditKeyPressed
                                   | QAbstractItemView.AnyKeyPressed)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        lay.addWidget(self.table, 1)

        self.info = QLabel("")
        self.info.setStyleSheet(f"color: {style.MUTED_TEXT_HEX};")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.error = QLabel("")
        self.error.setObjectName("datasetError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error.setStyleSheet("background: #FFF1EA; color: #8A2E00; border: 1px solid #F2B89A;"
                                 "border-radius: 3px; padding: 3px 5px;")
        self.error.hide()
        lay.addWidget(self.error)

        document.datasetChanged.connect(self.refresh)
        document.projectReplaced.connect(self.refresh)
        document.settingsChanged.connect(self.refresh)
        document.networkChanged.connect(
            lambda e, ids: None if e is NetworkEvent.PARAMS_CHANGED else self.refresh())
        document.sampleChanged.connect(self._sample_changed)
        self._generator_defaults()
        self.refresh()

    # ------------------------------------------------------------------ view
    def refresh(self) -> None:
        doc = self.document
        ds = doc.dataset
        self.split.set_fraction(doc.settings.validation_split)
        self.split_slider.set_value(doc.settings.validation_split)
        self.noise_slider.setEnabled(self.generator.currentData() is not None)
        if ds is None:
            self.info.setText("No dataset")
            return
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 4 if ds.images else 22)
        self._match_generator()
        images = [f"image {i.name!r} {i.describe()}" for i in ds.images]
        named = ds.n_inputs - ds.image_columns
        parts = [f"{len(ds)} rows", *images] + (
            [f"{named} input{'s' if named != 1 else ''}"] if named or not images else []) + [
                 f"{ds.n_targets} target{'s' if ds.n_targets != 1 else ''}"]
        if ds.class_names is not None:
            parts.append("classes: " + ", ".join(ds.class_names))
        vs = doc.settings.validation_split
        if vs > 0:
            n_val = int(round(len(ds) * vs))
            parts.append(f"{len(ds) - n_val} train / {n_val} validation")
        net = doc.network
        warn = ""
        n_in = len(net.data_inputs)
        pixels = net.image_input_columns()
        if pixels + n_in != ds.n_inputs or len(net.outputs) != ds.n_targets:
            takes = f"{n_in} input" if not pixels else f"{pixels} pixel column(s), {n_in} input"
            warn = (f"  ⚠ the network has {takes} and {len(net.outputs)} output "
                    f"neuron(s), but the data has {ds.n_inputs} input and {ds.n_targets} target "
                    "column(s): add or remove neurons (or pick other data) to train")
        self.info.setText(" · ".join(parts) + warn)
        self.info.setStyleSheet(f"color: {'#8A4B00' if warn else style.MUTED_TEXT_HEX};")

    def _show_error(self, text: str) -> None:
        self.last_error = text
        if text:
            self.error.setText(text)
            self.error.show()
            self.document.statusMessage.emit(text, 10000)
        else:
            self.error.hide()

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            try:
                self.document.set_sample(current.row())
            except ValueError:
                pass

    def _sample_changed(self, index: int) -> None:
        cur = self.table.currentIndex()
        if cur.isValid() and cur.row() == index:
            return
        if 0 <= index < self.model.rowCount():
            self.table.selectionModel().blockSignals(True)
            self.table.selectRow(index)
            self.table.selectionModel().blockSignals(False)

    def _match_generator(self) -> None:
        """Show the generator that made data like the current dataset (same columns and
        classes, and the same values where the generator's values do not depend on a seed:
        the linear-regression lesson's five points are not "Line y = 2x + 1"), so "Generate"
        starts from it."""
        ds = self.document.dataset
        if ds is None:
            return
        names = (tuple(ds.input_names), tuple(ds.target_names), tuple(ds.class_names or ()))
        key = (names, id(ds), len(ds))
        if key == getattr(self, "_matched", None):
            return
        self._matched = key
        matches = []
        for name, gen in datasets.GENERATORS.items():
            try:
                g = datasets.generate(name, size=gen.size)
            except DatasetError:
                continue
            if (tuple(g.input_names), tuple(g.target_names), tuple(g.class_names or ())) \
                    != names:
                continue
            if self._seeded(name) or self._made_by(name, ds):
                matches.append(name)
        if not matches:
            # data no generator makes (imported, hand-made): show no generator rather than one
            # that seems to describe it ("AND gate, size 4" over 8 rows of 3 inputs)
            self.generator.setCurrentIndex(-1)
            self.size.setValue(len(ds))
            return

        exact = [m for m in matches if self._made_by(m, ds)]
        name = (exact or matches)[0]
        i = self.generator.findData(name)
        if i >= 0 and i != self.generator.currentIndex():
            self.generator.setCurrentIndex(i)   # also sets its default size and noise
        self.size.setValue(len(ds))

    def _made_by(self, name: str, ds: Dataset) -> bool:
        """Is ``ds`` the very data generator ``name`` makes at its size, with seed 0 and its
        default noise, or with the seed and noise the panel shows (what Generate just used)?"""
        tries = [{}, {"seed": int(self.seed.value()), "noise": float(self.noise.value())}]
        for kw in tries:
            try:
                if datasets.generate(name, size=len(ds), **kw) == ds:
                    return True
            except DatasetError:
                continue
        return False

    @staticmethod
    def _seeded(name: str) -> bool:
        """Whether the generator's values depend on its seed (then only the columns match)."""
        gen = datasets.GENERATORS[name]
        try:
            return datasets.generate(name, seed=0, size=gen.size) != \
                datasets.generate(name, seed=1, size=gen.size)
        except DatasetError:
            return False

    def _generator_defaults(self) -> None:
        name = self.generator.currentData()
        g = datasets.GENERATORS[name] if name is not None else None
        images = g is not None and g.side is not None
        self.side.setVisible(images)
        self.side_label.setVisible(images)
        self.noise_slider.setEnabled(g is not None)
        if g is None:
            return
        self.size.setValue(int(g.size))
        self.noise.setValue(float(g.noise))
        if g.side is not None:
            self.side.setValue(self._network_side() or g.side)

    def image_input(self) -> ImageInput | None:
        """The network's first image input, if it has one."""
        for layer in self.document.network.image_layers.values():
            if isinstance(layer, ImageInput):
                return layer
        return None

    def _network_side(self) -> int | None:
        """The side of the network's image input, if it is one square channel an image
        generator can make."""
        layer = self.image_input()
        if layer is None:
            return None
        c, h, w = layer.shape
        ok = c == 1 and h == w and image_datasets.MIN_SIDE <= h <= image_datasets.MAX_SIDE
        return h if ok else None

    def _picked(self, name: str) -> None:
        """A click on a generator's picture: its data at its default size and noise, now."""
        self._generator_defaults()
        self.generate()

    def _noise_dragged(self, value: float, key: object) -> None:
        """The noise slider moved: regenerate at once (one drag, one undo step)."""
        name = self.generator.currentData()
        if name is None:
            return
        with QSignalBlocker(self.noise):
            self.noise.setValue(round(value, 3))
        self.generate(merge=key)

    # ------------------------------------------------------------------ actions
    def generate(self, merge: object = False) -> bool:
        """The chosen generator's data at the size, seed and noise shown (one undo step; with
        ``merge``, one slider drag's regenerations merge into one)."""
        name = self.generator.currentData()
        if name is None:
            self._show_error("Choose a generator (click one of the pictures) first.")
            return False
        g = datasets.GENERATORS[name]
        side = int(self.side.value()) if g.side is not None else None
        try:
            ds = datasets.generate(name, seed=int(self.seed.value()), size=int(self.size.value()),
                                   noise=float(self.noise.value()), side=side)
        except DatasetError as e:
            self._show_error(f"Cannot generate {name}: {e}")
            return False
        text = f"Set the noise of {g.title}" if merge else \
            f"Generate {g.title} ({len(ds)} rows, seed {self.seed.value()})"
        self.document.set_dataset(ds, text=text, merge=merge)
        self._show_error("")
        return True

    def _selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()}) or (
            [self.table.currentIndex().row()] if self.table.currentIndex().isValid() else [])

    def _add_clicked(self) -> None:
        rows = self._selected_rows()
        add_rows(self.document, rows[-1] if rows else None)
        self._show_error("")

    def _delete_clicked(self) -> None:
        rows = self._selected_rows()
        if not rows:
            self._show_error("Select the rows to delete first")
            return
        try:
            delete_rows(self.document, rows)
        except ValueError as e:
            self._show_error(str(e))
            return
        self._show_error("")

    def _split_dragged(self, value: float, key: object) -> None:
        self._set_split(round(min(max(value, 0.0), 0.9), 2), key)

    def _set_split(self, fraction: float, key: object) -> None:
        """Hold out ``fraction`` of the rows (consecutive changes with ``key`` merge)."""
        try:
            self.document.set_settings(_merge=key, validation_split=fraction)
        except ValueError as e:
            self._show_error(f"Validation split refused: {e}")
            self.refresh()

    def import_csv(self, path: str | Path) -> bool:
        """Replace the dataset with a CSV file's (undoable). Numeric targets: the last
        ``len(network.outputs)`` columns; otherwise a text class label in the last column.
        With an image input in the network, the first columns are its image's pixels. On
        error, the message (with line and column) is shown and nothing changes."""
        n_out = max(1, len(self.document.network.outputs))
        layer = self.image_input()
        image = None if layer is None else ("pixels", layer.shape)
        try:
            ds = datasets.read_csv(path, n_targets=n_out, image=image)
        except DatasetError as first:
            try:
                ds = datasets.read_csv(path, n_targets=1, labels=True, image=image)
            except DatasetError:
                self._show_error(f"Cannot import {Path(path).name}: {first}")
                return False
        self.document.set_dataset(ds, text=f"Import {Path(path).name}")
        self._show_error("")
        return True

    def export_csv(self, path: str | Path) -> bool:
        try:
            datasets.write_csv(self.document.dataset, path)
        except (DatasetError, OSError) as e:
            self._show_error(f"Cannot export: {e}")
            return False
        self.document.statusMessage.emit(f"Exported the dataset to {path}", 5000)
        return True

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import CSV", "",
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.import_csv(path)

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", "dataset.csv",
                                              "CSV files (*.csv)")
        if path:
            if not path.lower().endswith(".csv"):
                path += ".csv"
            self.export_csv(path)


__all__ = ["DatasetPanel", "DatasetModel", "set_cell", "add_rows", "delete_rows"]

"""The Dataset panel: the rows as an editable table, the core generators, CSV import/export and
the train/validation split.

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
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
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

if TYPE_CHECKING:  # pragma: no cover  (the document never imports the panel)
    from nnstudio.gui.document import Document

TARGET_TINT = QColor("#F3F7FB")
THUMB = 26            # an image thumbnail's side in the table (pixels)
MAX_THUMBS = 4000     # thumbnails kept (a bigger dataset makes them again when scrolled back)


def _num(v: float) -> str:
    return f"{v:.10g}"


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

        # generators
        gen = QGridLayout()
        gen.setHorizontalSpacing(6)
        self.generator = QComboBox()
        self.generator.setPlaceholderText("Choose a generator…")
        for name, g in datasets.GENERATORS.items():
            self.generator.addItem(g.title, name)
            self.generator.setItemData(self.generator.count() - 1, g.note, Qt.ToolTipRole)
        self.generator.setToolTip("A built-in dataset generator")
        self.generator.currentIndexChanged.connect(self._generator_defaults)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Random seed: the same seed makes the same data")
        self.size = QSpinBox()
        self.size.setRange(1, datasets.MAX_ROWS)
        self.size.setToolTip("Number of rows to generate")
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 10.0)
        self.noise.setDecimals(3)
        self.noise.setSingleStep(0.05)
        self.noise.setToolTip("How much random noise to add")
        self.side = QSpinBox()
        self.side.setRange(image_datasets.MIN_SIDE, image_datasets.MAX_SIDE)
        self.side.setToolTip("The images' side in pixels (an image generator); by default the "
                             "network's image input's")
        self.generate_btn = QPushButton("Generate")
        self.generate_btn.setToolTip("Replace the dataset with generated data (undoable)")
        self.generate_btn.clicked.connect(self.generate)
        self.generator.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.generator.setMinimumContentsLength(8)
        for w in (self.seed, self.size, self.noise, self.side):
            w.setMaximumWidth(72)
        self.side_label = QLabel("side")
        for col, (text, w) in enumerate((("New data", self.generator), ("seed", self.seed),
                                         ("size", self.size), ("noise", self.noise),
                                         ("side", self.side))):
            lb = self.side_label if w is self.side else QLabel(text)
            lb.setToolTip(w.toolTip())
            gen.addWidget(lb, 0, 2 * col)
            gen.addWidget(w, 0, 2 * col + 1)
        gen.addWidget(self.generate_btn, 0, 10)
        gen.setColumnStretch(1, 2)
        lay.addLayout(gen)

        # actions
        row = QHBoxLayout()
        row.setSpacing(4)

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
        row.addStretch(1)
        lb = QLabel("Validation")
        # in percent, as people say it ("hold out 20 %"): typing 20 means 0.2
        self.split = QSpinBox()
        self.split.setRange(0, 90)
        self.split.setSingleStep(5)
        self.split.setSuffix(" %")
        self.split.setKeyboardTracking(False)
        self.split.setSpecialValueText("none")
        self.split.setToolTip("Percentage of rows held out (seeded) to measure the validation "
                              "loss, 0 to 90 %; none = train on every row")
        lb.setToolTip(self.split.toolTip())
        self.split.valueChanged.connect(self._split_changed)
        row.addWidget(lb)
        row.addWidget(self.split)
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
        self.split.blockSignals(True)
        self.split.setValue(int(round(100 * float(doc.settings.validation_split))))
        self.split.blockSignals(False)
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

    # ------------------------------------------------------------------ actions
    def generate(self) -> bool:
        name = self.generator.currentData()
        if name is None:
            self._show_error("Choose a generator in the list first, then press Generate.")
            return False
        g = datasets.GENERATORS[name]
        side = int(self.side.value()) if g.side is not None else None
        try:
            ds = datasets.generate(name, seed=int(self.seed.value()), size=int(self.size.value()),
                                   noise=float(self.noise.value()), side=side)
        except DatasetError as e:
            self._show_error(f"Cannot generate {name}: {e}")
            return False
        self.document.set_dataset(ds, text=f"Generate {g.title} ({len(ds)} rows, seed "
                                  f"{self.seed.value()})")
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

    def _split_changed(self, v: int) -> None:
        try:
            self.document.set_settings(validation_split=round(int(v) / 100.0, 4))
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

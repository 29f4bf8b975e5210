"""The main window's dialogs: Add Dense Layer, Keyboard Shortcuts and About.

Each dialog only asks or shows: :func:`ask_dense_layer` returns the user's choice (the window
makes the edit), :func:`show_shortcuts` lists the rows :func:`shortcut_rows` reads from the menu
bar (so the list never disagrees with the menus) plus the mouse gestures, and
:func:`show_about` says what NN Studio is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QMenu,
    QMenuBar,
    QMessageBox,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnstudio.core import activations

if TYPE_CHECKING:
    from nnstudio.core.network import Network


# ---------------------------------------------------------------------- Add Dense Layer
class DenseLayerDialog(QDialog):
    """After which layer, how many neurons, which activation."""

    def __init__(self, parent: QWidget | None, feeding: list[int], default: int,
                 n_layers: int):
        super().__init__(parent)
        self.setWindowTitle("Add Dense Layer")
        form = QFormLayout(self)
        self.after = QComboBox(self)
        for i in feeding:
            self.after.addItem("layer 0 (inputs)" if i == 0 else f"layer {i}", i)
        self.after.setCurrentIndex(feeding.index(default) if default in feeding else 0)
        self.after.setToolTip("The new neurons take input from every neuron of this layer and "
                              "feed every neuron it fed")
        self.count = QSpinBox(self)
        self.count.setRange(1, 4096)
        self.count.setValue(4)
        self.count.setToolTip("How many neurons the new layer has (1 to 4096)")
        self.activation = QComboBox(self)
        for name, act in activations.ACTIVATIONS.items():
            if name != "softmax":
                self.activation.addItem(f"{act.title}    {act.formula}", name)
        self.activation.setCurrentIndex(self.activation.findData("relu"))
        self.activation.setToolTip("The activation of the new neurons")
        form.addRow("Insert after", self.after)
        form.addRow("Neurons", self.count)
        form.addRow("Activation", self.activation)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                              | QDialogButtonBox.StandardButton.Cancel, self)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def values(self) -> tuple[int, int, str]:
        return self.after.currentData(), self.count.value(), self.activation.currentData()


def ask_dense_layer(parent: QWidget, network: Network,
                    selected: list[str]) -> tuple[int, int, str] | None:
    """Ask where a dense layer goes, its size and activation: (after layer, count, activation),
    or None if cancelled. The choices are the layers that feed on (no output neuron in them);
    the default is the selected neuron's layer, else the last one. Raises ValueError, saying
    why, when there is no such layer or the network has no layers (a cycle)."""
    layers = network.layers()
    feeding = [i for i, layer in enumerate(layers)
               if not any(network.neurons[n].role == "output" for n in layer)]
    if not feeding:
        raise ValueError("Add an input neuron first: a dense layer goes after a layer that "
                         "feeds on")
    depth = network.depths()
    default = depth[selected[0]] if selected and depth[selected[0]] in feeding else feeding[-1]
    dlg = DenseLayerDialog(parent, feeding, default, len(layers))
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return None
    return dlg.values()


# ---------------------------------------------------------------------- Keyboard Shortcuts
GESTURES = [
    ("Canvas", "Select several", "Shift+click, Ctrl+click, or drag a rubber band"),
    ("Canvas", "Connect two neurons", "Drag from a neuron's output port onto another neuron"),
    ("Canvas", "Move the selection", "Drag (one undo step)"),
    ("Canvas", "Rename a neuron", "Double-click it"),
    ("Canvas", "Connect image layers", "Drag from a layer's output port onto the next layer "
     "(or drop a new layer to the right of a selected one)"),
    ("Canvas", "See a map cell's dot product", "Hover over the cell (click: keep it shown); "
     "its input window is outlined"),
    ("Drawing", "Paint / erase pixels", "Left / right button (one undo step per stroke)"),
    ("Inspector", "Change a filter weight", "Type it, or drag the cell up or down (Shift: "
     "finer; one undo step per drag)"),
    ("Canvas", "Pan", "Middle-drag, or hold Space and drag"),
    ("Canvas", "Zoom", "Mouse wheel"),
    ("Backprop", "Next / previous step", "→ / ← (in step-through mode, on the canvas "
     "or the Backprop panel)"),
    ("Backprop", "Play / pause the steps", "Space (in step-through mode; Space+drag "
     "still pans)"),
    ("Inspector", "Apply a typed value", "Enter (Escape restores the old value)"),
    ("Inspector", "Slider drag", "One undo step per drag"),
]

_SUN_KEYS = {"Undo", "Redo", "Copy", "Cut", "Paste", "Find", "Open", "Help", "Menu", "Stop",
             "Again", "Props", "Front", "Print"}


def _readable_key(text: str) -> bool:
    """Skip the platform's extra bindings that no keyboard in a classroom has (F13–F35, the
    Sun-style Undo/Copy/Cut/Paste keys) when listing shortcuts."""
    if not text:
        return False
    if text in _SUN_KEYS:
        return False
    return not (text.startswith("F") and text[1:].isdigit() and int(text[1:]) > 12)


def _walk_actions(menu: QMenu) -> Iterator[QAction]:
    for a in menu.actions():
        if a.menu() is not None:
            yield from _walk_actions(a.menu())
        elif not a.isSeparator():
            yield a


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(where, command, keys) for every menu command with a shortcut, then the gestures."""
    rows = []
    menus = [a.menu() for a in menu_bar.actions() if a.menu() is not None]
    for m in menus:
        menu_name = m.title().replace("&", "")
        for a in _walk_actions(m):
            keys = ", ".join(k for k in (s.toString(QKeySequence.SequenceFormat.NativeText)
                                         for s in a.shortcuts()) if _readable_key(k))
            if keys:
                rows.append((menu_name, a.text().replace("&", ""), keys))
    return rows + GESTURES


def show_shortcuts(parent: QWidget, rows: list[tuple[str, str, str]]) -> None:
    dlg = QDialog(parent)
    dlg.setWindowTitle("Keyboard Shortcuts")
    screen = parent.screen() or QGuiApplication.primaryScreen()
    avail_h = screen.availableGeometry().height() if screen is not None else 800
    dlg.resize(660, max(360, min(760, avail_h - 80)))   # most rows without scrolling
    lay = QVBoxLayout(dlg)
    table = QTableWidget(len(rows), 3, dlg)
    table.setHorizontalHeaderLabels(["Where", "Command", "Keys / gesture"])
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.setObjectName("shortcuts_table")
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
    table.resizeColumnsToContents()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    lay.addWidget(table)
    bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dlg)
    bb.rejected.connect(dlg.reject)
    lay.addWidget(bb)
    dlg.exec()


# ---------------------------------------------------------------------- About
def show_about(parent: QWidget) -> None:
    from nnstudio import __version__
    QMessageBox.about(
        parent, "About NN Studio",
        f"<h3>NN Studio {__version__}</h3>"
        "<p>Build, train and <i>understand</i> small neural networks: drag neurons onto the "
        "canvas, connect them, watch training live, and step through backpropagation with the "
        "real numbers.</p>"
        "<p>Colours: weights are blue (positive) or orange (negative), the Okabe–Ito pair that "
        "colour-blind readers can tell apart.</p>")

"""What the Edit and Network menus do besides the clipboard: Delete, Select All, Add Dense
Layer, Add / Remove Hidden Layer, Connect Selected Fully, Auto-Layout and Randomize Weights.

Each runs one document edit (one undo step) through :func:`nnstudio.gui.actions.attempt`: a
refused edit changes nothing and says why in the status bar; a done one says what it did.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from nnstudio.gui import dialogs
from nnstudio.gui.actions import attempt

if TYPE_CHECKING:
    from nnstudio.gui.canvas.view import CanvasView
    from nnstudio.gui.document import Document


class EditController(QObject):
    """The edits of one document, asked from the window ``parent`` (the dialogs' owner);
    ``view`` is the canvas view, refitted after an auto-layout."""

    def __init__(self, document: Document, view: CanvasView, parent: QWidget):
        super().__init__(parent)
        self.document = document
        self.view = view
        self.window = parent

    def delete_selection(self) -> None:
        doc = self.document
        sel = doc.selection
        if sel:
            attempt(doc, lambda: doc.remove(sel), "Cannot delete")

    def select_all(self) -> None:
        net = self.document.network
        self.document.set_selection([*net.neurons, *net.connections])

    def add_dense_layer(self) -> None:
        """Network ▸ Add Dense Layer…: ask where, how many and which activation; the new
        neurons are selected."""
        doc = self.document
        try:
            choice = dialogs.ask_dense_layer(self.window, doc.network, doc.selected_neurons())
        except ValueError as e:
            doc.message(str(e), 6000)
            return
        if choice is None:
            return
        after, count, act = choice
        new: list[str] = []
        if attempt(doc, lambda: new.extend(doc.add_dense_layer(after, count, act)),
                   "Cannot add the layer"):
            doc.set_selection(new)
            doc.message(f"Added a layer of {count} {act} neurons after layer {after}", 4000)

    def add_hidden_layer(self) -> None:
        """Network ▸ Add Hidden Layer (Playground's +): after the deepest hidden layer."""
        doc = self.document
        new: list[str] = []
        if attempt(doc, lambda: new.extend(doc.add_hidden_layer()), "Cannot add a layer"):
            doc.message(f"Added a hidden layer of {len(new)} neurons", 4000)
            QTimer.singleShot(0, self.view.fit)

    def remove_hidden_layer(self) -> None:
        """Network ▸ Remove Hidden Layer (Playground's −): the deepest hidden layer."""
        doc = self.document
        gone: list[str] = []
        if attempt(doc, lambda: gone.extend(doc.remove_hidden_layer()),
                   "Cannot remove a layer"):
            doc.message(f"Removed a hidden layer of {len(gone)} neurons", 4000)

    def connect_selected_fully(self) -> None:
        doc = self.document
        made: list[str] = []
        if attempt(doc, lambda: made.extend(doc.connect_fully()), "Cannot connect"):
            doc.message(f"Made {len(made)} connection(s)", 4000)

    def auto_layout(self) -> None:
        if attempt(self.document, self.document.auto_layout, "Cannot lay out"):
            QTimer.singleShot(0, self.view.fit)

    def randomize(self) -> None:
        """New random values (a fresh seed, said in the status bar) for every trainable
        parameter, with the initialisation in the training settings."""
        doc = self.document
        seed = random.randrange(1_000_000)
        if attempt(doc, lambda: doc.randomize(seed=seed), "Cannot randomize"):
            doc.message(f"Randomized the weights ({doc.settings.init}, seed {seed})", 5000)

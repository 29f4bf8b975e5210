"""The switches of the derived inputs (x1², x2², x1·x2, sin x1, sin x2): one checkable action
each, shown in Network ▸ Derived Inputs and as the chips of the palette's Input tile.

An action is checked while the network has that derived input (an input neuron whose value
the engine computes from the data: :mod:`nnstudio.core.derived_inputs`); toggling it is one
document edit (``Document.set_derived_input``), one undo step. Its text uses the dataset's
column names (x1², or dosage² for a dosage column), and it is enabled only when the data has
the columns it reads; for image data (a CNN) the switches are hidden. The actions follow the
document, never the other way round: they are set with signals blocked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSignalBlocker, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from nnstudio.core.derived_inputs import DERIVED, NAMES, check_derived
from nnstudio.core.network import STRUCTURAL, NetworkEvent
from nnstudio.gui.actions import attempt, make_action

if TYPE_CHECKING:
    from nnstudio.gui.document import Document


class DerivedInputActions(QObject):
    """``actions[name]`` for every derived input name, following ``document``; ``added``
    says which neuron a switch just added (the window shows it on the canvas)."""

    added = Signal(str)

    def __init__(self, document: Document, parent: QObject) -> None:
        super().__init__(parent)
        self.document = document
        self.actions: dict[str, QAction] = {}
        for name in NAMES:
            d = DERIVED[name]
            a = make_action(parent, d.label(), f"An input neuron computed from the data: "
                            f"{d.formula} (switch it on or off)",
                            lambda on, name=name: self._toggle(name, on), checkable=True,
                            name=f"action_derived_{name}")
            self.actions[name] = a
        document.networkChanged.connect(self._on_network)
        document.projectReplaced.connect(self.refresh)
        document.datasetChanged.connect(self.refresh)
        self.refresh()

    def fill_menu(self, menu: QMenu) -> None:
        menu.setToolTipsVisible(True)
        for a in self.actions.values():
            menu.addAction(a)

    def _toggle(self, name: str, on: bool) -> None:
        doc = self.document
        what = "switch on" if on else "switch off"
        made: list[str | None] = []
        if not attempt(doc, lambda: made.append(doc.set_derived_input(name, on)),
                       f"Cannot {what} {self.actions[name].text()}"):
            self.refresh()
        elif made and made[0] is not None:
            self.added.emit(made[0])

    def _on_network(self, event: NetworkEvent, ids: tuple) -> None:
        if event in STRUCTURAL or event is NetworkEvent.ROLE_CHANGED:
            self.refresh()

    def refresh(self) -> None:
        """Text, enabled and checked state from the document."""
        doc = self.document
        net = doc.network
        ds = doc.dataset
        names = list(ds.input_names) if ds is not None else []
        n_data = len(net.data_inputs)
        # image data has no x1 and x2 to square or multiply: no switches (unless a file has one)
        images = bool(ds is not None and ds.images) or bool(net.image_layers)
        for name, a in self.actions.items():
            d = DERIVED[name]
            a.setVisible(not images or net.derived_input(name) is not None)
            with QSignalBlocker(a):
                a.setText(d.label(names[:2] or ("x1", "x2")))
                problem = check_derived(name, n_data)
                a.setEnabled(problem is None or net.derived_input(name) is not None)
                a.setChecked(net.derived_input(name) is not None)
                tip = (f"An input neuron computed from the data: {d.formula}"
                       + (f" ({problem})" if problem else ""))
                a.setToolTip(tip)
                a.setStatusTip(tip)

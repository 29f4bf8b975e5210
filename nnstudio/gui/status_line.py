"""The main window's status bar: passing messages, and two permanent labels that follow the
document — what is selected (or the network's size) and the loss at the current parameters.

Messages come from the document (``Document.message`` → ``statusMessage``) and from the window;
each is shown as a sentence, starting with a capital (the core's messages, "cannot connect …",
are written to follow a prefix). The loss label steps aside once training is installed, whose
status shows the loss and more (:meth:`StatusLine.hide_loss`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QStatusBar

from nnstudio.core.network import STRUCTURAL, NetworkEvent
from nnstudio.gui.widgets import count_phrase

if TYPE_CHECKING:
    from nnstudio.gui.document import Document

_LOWER_WORD = re.compile(r"[a-z]+(?=[\s:,])")
_LOSS_TIP = "The loss over the whole dataset at the current parameters"


def sentence(text: str) -> str:
    """A status line starts with a capital: the core's messages ("cannot connect ...") are
    written to follow a prefix. A leading id or label ("x1 ...", quoted names) is kept."""
    if text and _LOWER_WORD.match(text):
        return text[0].upper() + text[1:]
    return text


class StatusLine(QObject):
    """The status bar of one window and its document (see the module docstring)."""

    def __init__(self, bar: QStatusBar, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self.bar = bar
        self.document = document
        bar.setObjectName("statusbar")
        owner = bar.parentWidget()
        self.loss_label = QLabel(owner)
        self.loss_label.setObjectName("status_loss")
        self.loss_label.setToolTip(_LOSS_TIP)
        self.loss_label.setMinimumWidth(150)
        self.selection_label = QLabel(owner)
        self.selection_label.setObjectName("status_selection")
        self.selection_label.setToolTip("What is selected")
        bar.addPermanentWidget(self.selection_label)
        bar.addPermanentWidget(self.loss_label)
        document.statusMessage.connect(self.show)
        document.evaluationChanged.connect(self.update_loss)
        document.selectionChanged.connect(self.update_selection)
        document.networkChanged.connect(self._on_network)
        document.projectReplaced.connect(self._on_project_replaced)
        self.update_loss()
        self.update_selection()

    def show(self, text: str, timeout: int = 5000) -> None:
        self.bar.showMessage(sentence(text), timeout)

    def hide_loss(self) -> None:
        """The training status shows the loss (and more) from now on."""
        self.loss_label.hide()

    def update_loss(self) -> None:
        if self.loss_label.isHidden():  # the training status shows the loss instead
            return
        loss = self.document.loss()
        if loss is None:
            err = self.document.evaluation_error() or ""
            self.loss_label.setText("loss —")
            self.loss_label.setToolTip(f"The network cannot be evaluated: {err}")
        else:
            self.loss_label.setText(f"{self.document.settings.loss} loss {loss:.6g}")
            self.loss_label.setToolTip(_LOSS_TIP)

    def update_selection(self, *_: object) -> None:
        doc = self.document
        n, c = len(doc.selected_neurons()), len(doc.selected_connections())
        net = doc.network
        if not n and not c:
            self.selection_label.setText(count_phrase(len(net.neurons), len(net.connections),
                                                      " · ", keep_zero=True))
        else:
            self.selection_label.setText(count_phrase(n, c, " + ") + " selected")

    def _on_network(self, event: NetworkEvent, ids: tuple) -> None:
        if event in STRUCTURAL:
            self.update_selection()

    def _on_project_replaced(self) -> None:
        self.update_selection()
        self.update_loss()

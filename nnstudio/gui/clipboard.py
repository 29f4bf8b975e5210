"""The clipboard: Cut, Copy, Paste and Duplicate of neurons and image layers, with the
connections among them.

Copied items travel through the system clipboard as a JSON *fragment*
(``{"format": "nnstudio-fragment", "version": 1, "neurons": [...], "connections": [...]}``,
and ``"image_layers": [...]`` when image layers are copied: their file form; a copied
flatten's feature neurons are not listed, they come back with it, and so do the connections
that start at them),
under :data:`FRAGMENT_MIME` and as plain text, so a fragment can be pasted into another NN Studio
window or read in a text editor. Clipboard text comes from anywhere: it is only ever parsed as
JSON, anything that is not a fragment is refused before the document sees it, and the document
validates what it pastes (a refused paste changes nothing). Each paste of the same copy lands
40 px further down and right, so repeated pastes do not pile up; a new copy or a new project
starts again from one step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QMimeData, QObject
from PySide6.QtGui import QGuiApplication

from nnstudio.gui.actions import attempt
from nnstudio.gui.widgets import count_phrase

if TYPE_CHECKING:
    from nnstudio.gui.document import Document

FRAGMENT_MIME = "application/x-nnstudio-fragment"
PASTE_STEP = 40.0   # how far each paste of the same copy is moved (scene units, x and y)


class ClipboardController(QObject):
    """Cut, Copy, Paste and Duplicate for one document; its messages go to the status bar."""

    def __init__(self, document: Document, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self._pastes = 0    # pastes since the last copy (or the last project change)
        document.projectReplaced.connect(self._forget_pastes)

    def _forget_pastes(self) -> None:
        self._pastes = 0

    def fragment(self, ids: Iterable[str] | None = None) -> dict:
        """The neurons and image layers among ``ids`` (default: the selection) and the
        connections among them (feature neurons count as part of their flatten)."""
        doc = self.document
        net = doc.network
        ids = list(doc.selection) if ids is None else list(ids)
        layers = [i for i in ids if i in net.image_layers]
        neurons = [i for i in ids if i in net.neurons and net.flatten_of(i) is None]
        keep = set(neurons)
        for lid in layers:
            if net.image_layers[lid].kind == "flatten":
                keep.update(net.feature_neurons(lid))
        frag = {
            "format": "nnstudio-fragment", "version": 1,
            "neurons": [net.neurons[i].to_dict() for i in neurons],
            "connections": [c.to_dict() for c in net.connections.values()
                            if c.source in keep and c.target in keep],
        }
        if layers:
            frag["image_layers"] = [net.image_layer_dict_of(i) for i in layers]
        return frag

    def can_paste(self) -> bool:
        """Whether the clipboard looks like it holds a fragment (for enabling Paste)."""
        md = QGuiApplication.clipboard().mimeData()
        return md is not None and (md.hasFormat(FRAGMENT_MIME)
                                   or (md.hasText() and '"nnstudio-fragment"' in md.text()))

    def copy(self) -> bool:
        frag = self.fragment()
        if not frag["neurons"] and not frag.get("image_layers"):
            self.document.message("Select neurons or layers to copy", 3000)
            return False
        text = json.dumps(frag, indent=1)
        md = QMimeData()
        md.setData(FRAGMENT_MIME, QByteArray(text.encode("utf-8")))
        md.setText(text)
        QGuiApplication.clipboard().setMimeData(md)
        self._pastes = 0
        self.document.message("Copied " + count_phrase(
            len(frag["neurons"]), len(frag["connections"]),
            layers=len(frag.get("image_layers", ()))), 3000)
        return True

    def cut(self) -> None:
        """Copy, then remove the selection: one undo step ("Cut")."""
        if self.copy():
            doc = self.document
            stack = doc.undo_stack
            stack.beginMacro("Cut")
            try:
                attempt(doc, lambda: doc.remove(doc.selection), "Cannot cut")
            finally:
                stack.endMacro()

    def paste(self) -> list[str]:
        """Paste the clipboard's fragment; the new items' ids (selected), or [] if refused."""
        frag = self._read_fragment()
        if frag is None:
            self.document.message("The clipboard holds no NN Studio neurons to paste", 4000)
            return []
        self._pastes += 1
        return self._paste(frag, PASTE_STEP * self._pastes)

    def duplicate(self) -> list[str]:
        """Paste a copy of the selected neurons and layers one step away, leaving the
        clipboard alone."""
        frag = self.fragment()
        if not frag["neurons"] and not frag.get("image_layers"):
            return []
        return self._paste(frag, PASTE_STEP)

    def _paste(self, frag: dict, offset: float) -> list[str]:
        doc = self.document
        new: list[str] = []

        def run() -> None:
            new.extend(doc.paste(frag["neurons"], frag.get("connections", []),
                                 offset=(offset, offset),
                                 layer_dicts=frag.get("image_layers", [])))
        if attempt(doc, run, "Cannot paste") and new:
            doc.set_selection(new)
        return new

    @staticmethod
    def _read_fragment() -> dict | None:
        """The clipboard's fragment, or None if it holds anything else."""
        md = QGuiApplication.clipboard().mimeData()
        if md is None:
            return None
        if md.hasFormat(FRAGMENT_MIME):
            raw = bytes(md.data(FRAGMENT_MIME)).decode("utf-8", "replace")
        elif md.hasText():
            raw = md.text()
        else:
            return None
        try:
            frag = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(frag, dict) or frag.get("format") != "nnstudio-fragment" or \
                not isinstance(frag.get("neurons"), list) or \
                not isinstance(frag.get("connections", []), list) or \
                not isinstance(frag.get("image_layers", []), list):
            return None
        return frag

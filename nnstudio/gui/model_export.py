"""File ▸ Export Network: the open network as a PyTorch script, a NumPy script or an ONNX model.

A thin layer over :func:`nnstudio.core.export.export`: each action pauses training (so the
file holds the weights on screen), asks for a file name (in the folder of the last export,
named after the project), writes the file(s) and says in the status bar what it wrote and how
to run it. Nothing in the document changes and no undo step is made: an export only reads the
project. A project that cannot be exported, a file that cannot be written, or a missing
optional ``onnx`` package shows the core's one-line message in an error box, and nothing is
written then.

The save dialog goes through :func:`ask_export_path`, which tests replace; errors through
:func:`nnstudio.gui.files.show_error`, as every file action's do. The core export package is
imported on first use, so the window's start-up does not pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from nnstudio.gui import files
from nnstudio.gui.actions import make_action

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from nnstudio.gui.document import Document
    from nnstudio.gui.settings import Settings


class ExportHost(Protocol):
    """What the exporter uses of the main window (a QMainWindow: the actions' parent and the
    dialogs')."""

    document: Document
    settings: Settings

    def pause_training(self) -> None: ...

    def add_export_action(self, action: QAction) -> None: ...


@dataclass(frozen=True)
class Target:
    """One export format as the menu offers it."""

    fmt: str            # a core export format (nnstudio.core.export.FORMATS)
    text: str           # the menu entry
    tip: str
    filter: str         # the save dialog's file filter
    suffix: str         # the file name suffix (core export.SUFFIXES[fmt])
    stem_suffix: str    # added to the project's name in the suggested file name


TARGETS = (
    Target("pytorch", "&PyTorch Script…",
           "A standalone torch.nn.Module script with these weights; running it trains as NN "
           "Studio does (its dataset is written beside it as CSV)",
           "Python script (*.py)", ".py", ""),
    Target("numpy", "&NumPy Script…",
           "predict(X): the forward pass with these weights, NumPy only",
           "Python script (*.py)", ".py", "_numpy"),
    Target("onnx", "&ONNX Model…",
           "An ONNX model (float64) for onnxruntime and other tools; needs the optional onnx "
           "package", "ONNX model (*.onnx)", ".onnx", ""),
)


def ask_export_path(parent: QWidget | None, title: str, suggested: str,
                    file_filter: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
    return path or None


class ModelExporter(QObject):
    """The File ▸ Export Network actions of one window (``actions[fmt]``, in ``menu``)."""

    def __init__(self, window: ExportHost):
        super().__init__(window)
        self.window = window
        self.menu = QMenu("Export &Network", window)
        self.menu.setObjectName("menuExportNetwork")
        self.menu.setToolTipsVisible(True)
        self.actions: dict[str, QAction] = {}
        for t in TARGETS:
            a = make_action(self.menu, t.text, t.tip, lambda t=t: self.export(t.fmt),
                            name=f"action_export_{t.fmt}")
            self.menu.addAction(a)
            self.actions[t.fmt] = a
        window.add_export_action(self.menu.menuAction())

    def _suggested(self, target: Target) -> str:
        doc, settings = self.window.document, self.window.settings
        stem = doc.path.stem if doc.path else (doc.project.name or "network")
        stem = "".join(c if c.isalnum() or c in "-_ " else "_" for c in stem).strip() or "network"
        base = Path(settings.value("files/last_export_dir", str(Path.home())))
        return str(base / f"{stem}{target.stem_suffix}{target.suffix}")

    def export(self, fmt: str) -> bool:
        """Ask for a file name, then :meth:`export_to`; False if cancelled or refused."""
        target = next(t for t in TARGETS if t.fmt == fmt)
        self.window.pause_training()
        title = target.text.replace("&", "").replace("…", "")
        path = ask_export_path(self.window, f"Export Network as {title}",
                               self._suggested(target), target.filter)
        if not path:
            return False
        if Path(path).suffix.lower() != target.suffix:
            path += target.suffix
        return self.export_to(fmt, path)

    def export_to(self, fmt: str, path: str | Path) -> bool:
        """Write the document's project as ``fmt`` to ``path``; report it in the status bar,
        or show the core's message and write nothing."""
        from nnstudio.core import export

        doc = self.window.document
        try:
            written = export.export(doc.project, fmt, path)
        except ValueError as e:  # ExportError (OutputError), a missing onnx, ...
            files.show_error(self.window, "Cannot export",
                             f"Cannot export the network to {Path(path).name}:\n\n{e}")
            return False
        self.window.settings.set_value("files/last_export_dir", str(Path(path).parent))
        doc.message(f"Exported {export.written_line(fmt, written)}", 8000)
        return True


def install(window: ExportHost) -> ModelExporter:
    """Add File ▸ Export Network to ``window``; returns the exporter (kept as
    ``window.model_export``)."""
    return ModelExporter(window)


__all__ = ["ExportHost", "ModelExporter", "Target", "TARGETS", "ask_export_path", "install"]

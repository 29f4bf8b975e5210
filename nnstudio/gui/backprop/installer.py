"""Installs the backprop player in the main window: the Backprop dock, a Backprop menu, the
"Step Through Backprop" action (Ctrl+B, also on the toolbar), "Export Walkthrough…" in the File
menu, and the → ← Space keys on the canvas while the mode is on.

:func:`install` returns the :class:`BackpropUI` holding all of these (the window keeps it as
``window.backprop``); the window needs nothing else from this package. It uses the window's
``menu``, ``add_dock``, ``add_export_action``, ``toolbar`` and ``canvas_view``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSignalBlocker, Qt
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QStyle

from nnstudio.core import trace as tr_mod
from nnstudio.core.files import atomic_write
from nnstudio.gui.actions import app_icon, make_action
from nnstudio.gui.backprop.keys import CanvasSpaceTap, install_shortcuts
from nnstudio.gui.backprop.panel import BackpropPanel
from nnstudio.gui.backprop.player import BackpropPlayer

if TYPE_CHECKING:
    from nnstudio.gui.document import Document


def walkthrough_markdown(document: Document, sample: int | None) -> str:
    """Exactly what ``nnstudio trace FILE --format markdown [--sample K]`` prints."""
    return tr_mod.worksheet(document.project, sample, "markdown")


def export_walkthrough(document: Document, path: str | Path, sample: int | None) -> Path:
    """Write the walkthrough as Markdown (atomically)."""
    text = walkthrough_markdown(document, sample)
    path = Path(path)
    data = text if text.endswith("\n") else text + "\n"
    atomic_write(path, data.encode("utf-8"))
    return path


class BackpropUI(QObject):
    """What ``install`` creates: the player, the panel, its dock and actions."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        doc = window.document
        view = window.canvas_view
        self.player = BackpropPlayer(doc, view.scene(), parent=self)
        self.panel = BackpropPanel(doc, self.player)
        self.dock = window.add_dock("backprop", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea, "Backprop")
        self.dock.visibilityChanged.connect(self._dock_visibility)
        self.player.message.connect(lambda text: doc.message(text, 5000))
        # keyboard on the canvas while the mode is on: → and ← as shortcuts; Space through an
        # event filter, because holding Space and dragging pans the canvas
        self.canvas_shortcuts = install_shortcuts(view, self.player, space=False)
        for sc in self.canvas_shortcuts:
            sc.setEnabled(False)
        self.canvas_keys = CanvasSpaceTap(view, self.player)
        self.player.activeChanged.connect(self._mode_changed)
        # actions: the mode (also on the main toolbar, which shows icons only), the menu's
        # transport, the export
        p = self.player
        self.mode_action = make_action(
            self, "Step Through Backprop", "Step through one training iteration on the canvas "
            "(forward, loss, backward, update)", self._mode_toggled, shortcut="Ctrl+B",
            icon=app_icon("backprop-step", QStyle.StandardPixmap.SP_MediaSeekBackward,
                          window.style()),
            checkable=True, name="action_backprop_mode")
        self.export_action = make_action(
            self, "Export Walkthrough\u2026", "Save the step-through walkthrough as a Markdown "
            "worksheet (the same as `nnstudio trace --format markdown`)", self.export_dialog)
        steps = [make_action(self, "Next Step", "Next step (\u2192)", p.next),
                 make_action(self, "Previous Step", "Previous step (\u2190)", p.previous),
                 make_action(self, "Run to End of Iteration", "Run to the end of this iteration "
                             "(all updates applied)", p.run_to_end),
                 make_action(self, "Next Iteration", "Apply the update and start again with "
                             "the new parameters", p.next_iteration)]
        menu = window.menu("Backprop")
        menu.addAction(self.mode_action)
        menu.addAction(self.dock.toggleViewAction())
        menu.addSeparator()
        menu.addActions(steps)
        menu.addSeparator()
        menu.addAction(self.export_action)
        window.add_export_action(self.export_action)
        window.toolbar.addAction(self.mode_action)

    def _mode_toggled(self, on: bool) -> None:
        if on:
            self.dock.show()
            self.dock.raise_()
            self.player.start()
        else:
            self.player.deactivate()
        with QSignalBlocker(self.mode_action):
            self.mode_action.setChecked(self.player.active)

    def _mode_changed(self, on: bool) -> None:
        with QSignalBlocker(self.mode_action):
            self.mode_action.setChecked(on)
        if on:
            self.dock.show()
            self.dock.raise_()
        for sc in self.canvas_shortcuts:
            sc.setEnabled(on)

    def _dock_visibility(self, visible: bool) -> None:
        # closing the dock leaves the mode (tabbing it away keeps it: the dock is only hidden
        # behind another tab, which also reports not visible, so check isHidden)
        if not visible and self.dock.isHidden():
            self.player.deactivate()

    def export_dialog(self) -> Path | None:
        """File ▸ Export Walkthrough…: ask for a file name and write the Markdown worksheet of
        the player's sample (or the whole batch)."""
        doc = self.window.document
        base = doc.path.with_suffix("") if doc.path is not None else Path.home() / "walkthrough"
        default = str(base) + "-walkthrough.md"
        path, _ = QFileDialog.getSaveFileName(self.window, "Export Walkthrough", default,
                                              "Markdown (*.md);;All files (*)")
        if not path:
            return None
        try:
            out = export_walkthrough(doc, path, self.player.sample)
        except (OSError, ValueError) as e:
            QMessageBox.warning(self.window, "Export Walkthrough",
                                f"Could not write the walkthrough to {path}: {e}")
            return None
        doc.message(f"Walkthrough written to {out}", 5000)
        return out


def install(window: QMainWindow) -> BackpropUI:
    """Add the Backprop dock, menu, "Export Walkthrough…" action and shortcuts to the main
    window; returns the :class:`BackpropUI` holding them (the window keeps it)."""
    return BackpropUI(window)

"""Installs the backprop player in the main window: the Backprop dock, a Backprop menu, the
"Step Through Backprop" action (Ctrl+B, also on the toolbar), "Export Walkthrough…" in the File
menu, and the → ← Space keys on the canvas while the mode is on.

:func:`install` returns the :class:`BackpropUI` holding all of these (also stored as
``window.backprop``); the window needs nothing else from this package.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSignalBlocker, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nnstudio.core import trace as tr_mod
from nnstudio.gui.backprop.keys import CanvasSpaceTap, install_shortcuts
from nnstudio.gui.backprop.panel import BackpropPanel
from nnstudio.gui.backprop.player import BackpropPlayer


def walkthrough_markdown(document, sample: int | None) -> str:
    """Exactly what ``nnstudio trace FILE --format markdown [--sample K]`` prints."""
    return tr_mod.worksheet(document.project, sample, "markdown")


def export_walkthrough(document, path, sample: int | None) -> Path:
    """Write the walkthrough as Markdown (atomically)."""
    from nnstudio.core.files import atomic_write

    text = walkthrough_markdown(document, sample)
    path = Path(path)
    data = text if text.endswith("\n") else text + "\n"
    atomic_write(path, data.encode("utf-8"))
    return path


class BackpropUI(QObject):
    """What ``install`` creates: the player, the panel, its dock and actions."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        doc = window.document
        view = getattr(window, "canvas_view", None)
        scene = view.scene() if view is not None else None
        self.player = BackpropPlayer(doc, scene, parent=self)
        self.panel = BackpropPanel(doc, self.player)
        self.dock = window.add_dock("backprop", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea, "Backprop")
        self.dock.visibilityChanged.connect(self._dock_visibility)
        self.player.message.connect(lambda text: doc.message(text, 5000))
        # keyboard on the canvas while the mode is on: → and ← as shortcuts; Space through an
        # event filter, because holding Space and dragging pans the canvas
        self.canvas_shortcuts = install_shortcuts(view, self.player, space=False) \
            if view is not None else []
        for sc in self.canvas_shortcuts:
            sc.setEnabled(False)
        self.canvas_keys = CanvasSpaceTap(view, self.player) if view is not None else None
        self.player.activeChanged.connect(self._mode_changed)
        # actions
        self.mode_action = QAction("Step Through Backprop", self)
        self.mode_action.setCheckable(True)
        self.mode_action.setShortcut(QKeySequence("Ctrl+B"))
        self.mode_action.setToolTip("Step through one training iteration on the canvas "
                                    "(forward, loss, backward, update)")
        self.mode_action.toggled.connect(self._mode_toggled)
        self.export_action = QAction("Export Walkthrough\u2026", self)
        self.export_action.setToolTip("Save the step-through walkthrough as a Markdown "
                                       "worksheet (the same as `nnstudio trace --format markdown`)")
        self.export_action.triggered.connect(self.export_dialog)
        menu = _menu(window, "Backprop")
        if menu is not None:
            menu.addAction(self.mode_action)
            menu.addAction(self.dock.toggleViewAction())
            menu.addSeparator()
            for text, slot, key in (("Next Step", self.player.next, None),
                                    ("Previous Step", self.player.previous, None),
                                    ("Run to End of Iteration", self.player.run_to_end, None),
                                    ("Next Iteration", self.player.next_iteration, None)):
                a = QAction(text, self)
                a.triggered.connect(slot)
                menu.addAction(a)
            menu.addSeparator()
            menu.addAction(self.export_action)
        file_menu = _menu(window, "File")
        if file_menu is not None:
            _insert_before_quit(file_menu, self.export_action)
        toolbar = getattr(window, "toolbar", None)
        if toolbar is not None:
            toolbar.addAction(self.mode_action)

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
        doc = self.window.document
        base = doc.path.with_suffix("") if getattr(doc, "path", None) else Path.home() / "walkthrough"
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


def _menu(window, name: str):
    fn = getattr(window, "menu", None)
    if fn is None:
        return None
    try:
        return fn(name)
    except (KeyError, ValueError):
        mb = window.menuBar()
        return mb.addMenu(f"&{name}")


def _insert_before_quit(menu, action: QAction) -> None:
    acts = menu.actions()
    quit_ = next((a for a in acts if a.text().replace("&", "").lower().startswith(("quit", "exit"))), None)
    if quit_ is not None:
        idx = acts.index(quit_)
        before = acts[idx - 1] if idx > 0 and acts[idx - 1].isSeparator() else quit_
        menu.insertAction(before, action)
    else:
        menu.addAction(action)


def install(window) -> BackpropUI:
    """Add the Backprop dock, menu, "Export Walkthrough…" action and shortcuts to the main
    window. Returns the object holding them (also stored as ``window.backprop``)."""
    ui = BackpropUI(window)
    window.backprop = ui
    return ui

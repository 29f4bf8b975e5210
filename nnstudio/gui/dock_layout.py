"""Where the main window's docks go: the default arrangement and sizes, saving and restoring
the user's arrangement, and the placeholders that hold the deferred parts' places.

The arrangement (``window/state``) and the window geometry (``window/geometry``) are saved in
the settings on close and restored at start-up; a state saved by an older version
(:data:`STATE_VERSION` bumped when the default changes) is replaced by the default once. At
start-up the training, plot, dataset and backprop docks are installed after the first paint:
until then :meth:`DockLayout.build_placeholders` puts a "Loading…" dock in each of their places,
named as last time (``window/part_docks``) or as in :data:`DockLayout.DEFAULT_LAYOUT`, so the
saved arrangement applies before they arrive and nothing moves when they do. Dock sizes only
stick once the window has its real size: they are set again when it is first shown.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QLabel

if TYPE_CHECKING:
    from nnstudio.gui.settings import Settings

STATE_VERSION = 6   # bumped when the default layout changes: old saved layouts are replaced once

_AREAS = {"left": Qt.DockWidgetArea.LeftDockWidgetArea,
          "right": Qt.DockWidgetArea.RightDockWidgetArea,
          "bottom": Qt.DockWidgetArea.BottomDockWidgetArea}


class DockLayout:
    """The dock arrangement of one main window (see the module docstring)."""

    # The default arrangement, one for 1400 x 900 and 1024 x 700 alike:
    # - left, the whole height: the lesson with the palette as a second tab (each gets the
    #   column's height: the lesson reads without scrolling past the palette, the palette
    #   shows every tile);
    # - right, the whole height: the inspector (with history) tall enough for a neuron's
    #   fields (a refusal's reason is pinned over them), the output map, then the loss,
    #   gradients and parameter history tabbed;
    # - bottom, under the canvas: the dataset, the drawing pad, backprop and the other
    #   panes tabbed; at 1400 pixels it is wide enough for the backprop player to set its
    #   explanation beside its formula.
    # Docks that are not installed are skipped; a dock it does not name goes to the right.
    DEFAULT_LAYOUT = {
        "left": [["lesson", "palette"]],
        "right": [["inspector", "history"], ["output"], ["loss", "gradients", "params"]],
        "bottom": [["dataset", "drawing", "backprop", "activation", "landscape"]],
    }
    # share of the window: left and right column widths, bottom height; right column split
    DEFAULT_SIZES = {"left": 0.18, "right": 0.22, "bottom": 0.35,
                     "right_split": (0.42, 0.34, 0.24), "left_split": (1.0,)}
    LEFT_PX = (240, 320)   # the lesson column (tables and quiz cards read best at ~320 px)
    MIN_BOTTOM = 230   # the backprop formula and the dataset table stay readable

    def __init__(self, window, settings: Settings):
        self.window = window
        self.settings = settings
        self.placeholders: set[str] = set()   # docks still showing "Loading…"
        self.restored_geometry = False        # restore() found a saved window geometry
        self._sizes_pending = False

    # ------------------------------------------------------------------ placeholders
    def build_placeholders(self) -> None:
        """Docks for the parts installed after the first paint, named as last time (or as in
        the default layout), each showing "Loading…" until the window's ``add_dock`` fills
        it."""
        w = self.window
        saved = self.settings.value("window/part_docks")
        if isinstance(saved, str):
            try:
                saved = json.loads(saved)
            except ValueError:
                saved = None
        if not isinstance(saved, dict) or not saved:
            saved = {n: n.title() for groups in self.DEFAULT_LAYOUT.values() for g in groups
                     for n in g if n not in w.docks}
        for name, title in saved.items():
            if not isinstance(name, str) or name in w.docks:
                continue
            label = QLabel("Loading…", w)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("color: #6B7280;")
            w.add_dock(name, label, Qt.DockWidgetArea.RightDockWidgetArea, str(title))
            self.placeholders.add(name)

    def take_placeholder(self, name: str) -> bool:
        """True (once) if the dock ``name`` is a placeholder waiting for its panel."""
        if name in self.placeholders:
            self.placeholders.discard(name)
            return True
        return False

    def parts_installed(self, own: set[str]) -> None:
        """After the parts are installed: drop the placeholders no part claimed, remember the
        parts' docks (every dock not in ``own``) for the next start, and arrange them: as
        saved, else by default."""
        w = self.window
        for name in list(self.placeholders):
            w.remove_dock(name)
        self.placeholders.clear()
        parts = {n: d.windowTitle() for n, d in w.docks.items() if n not in own}
        self.settings.set_value("window/part_docks", json.dumps(parts))
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty() \
                and w.restoreState(state, STATE_VERSION):  # toolbars added by the parts
            pass
        else:  # no saved layout, or one saved by an older version: the default one
            for groups in self.DEFAULT_LAYOUT.values():  # the first tab of each group in front
                for g in groups:
                    if g[0] in w.docks:
                        w.docks[g[0]].raise_()
            # the real panels have other size hints than the placeholders: size them again
            self.default_sizes()
            QTimer.singleShot(0, w, self.default_sizes)
        self.fit_screen()

    # ------------------------------------------------------------------ the default
    def apply_default(self) -> None:
        """Put every dock where :data:`DEFAULT_LAYOUT` says, at the default sizes."""
        w = self.window
        groups_present = []
        for d in w.docks.values():
            w.removeDockWidget(d)
        # heads first (a split next to a tabbed dock would become a tab), then the tabs
        for area, groups in self.DEFAULT_LAYOUT.items():
            prev = None
            for group in groups:
                docks = [w.docks[n] for n in group if n in w.docks]
                if not docks:
                    continue
                head = docks[0]
                if prev is None:
                    w.addDockWidget(_AREAS[area], head)
                else:
                    w.splitDockWidget(prev, head, Qt.Orientation.Vertical)
                head.show()
                groups_present.append(docks)
                prev = head
        for docks in groups_present:
            for d in docks[1:]:
                w.tabifyDockWidget(docks[0], d)
                d.show()
            docks[0].raise_()
        placed = {d for g in groups_present for d in g}
        for d in w.docks.values():  # docks the table does not know: right side
            if d not in placed:
                w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d)
                d.show()
        self.default_sizes()

    def default_sizes(self) -> None:
        """The default column widths, bottom height and splits (as shares of the window)."""
        w = self.window
        S = self.DEFAULT_SIZES
        heads = {area: [w.docks[g[0]] for g in groups if g[0] in w.docks]
                 for area, groups in self.DEFAULT_LAYOUT.items()}
        width, height = w.width(), w.height()
        if heads["left"]:
            lo, hi = self.LEFT_PX
            w.resizeDocks([heads["left"][0]], [min(hi, max(lo, int(width * S["left"])))],
                          Qt.Orientation.Horizontal)
        if heads["right"]:
            w.resizeDocks([heads["right"][0]], [max(300, int(width * S["right"]))],
                          Qt.Orientation.Horizontal)
        if heads["bottom"]:
            w.resizeDocks([heads["bottom"][0]],
                          [max(self.MIN_BOTTOM, int(height * S["bottom"]))],
                          Qt.Orientation.Vertical)
        # split each column's current height (never more: the window must not grow past the
        # screen); at least each dock's minimum
        col = heads["right"]
        if len(col) > 1:
            avail = sum(d.height() for d in col)
            shares = list(S["right_split"][:len(col)])
            total = sum(shares)
            w.resizeDocks(col, [max(d.minimumSizeHint().height(), int(avail * s / total))
                                for d, s in zip(col, shares, strict=True)],
                          Qt.Orientation.Vertical)
        col = heads["left"][:2]
        if len(col) > 1:  # the palette as tall as it needs (never cut off), the lesson the rest
            avail = sum(d.height() for d in col)
            first = max(self.needed_height(col[0]), int(avail * S["left_split"][0]))
            w.resizeDocks(col, [first, max(avail - first, col[1].minimumSizeHint().height())],
                          Qt.Orientation.Vertical)

    @staticmethod
    def needed_height(dock: QDockWidget) -> int:
        """The height ``dock`` needs at its width to show all of its (word-wrapped) content."""
        w = dock.widget()
        if w is None:
            return dock.sizeHint().height()
        title = max(dock.height() - w.height(), 0) if dock.isVisible() else 24
        hfw = w.heightForWidth(dock.width()) if w.hasHeightForWidth() else -1
        return max(hfw, w.sizeHint().height()) + title

    def reset(self) -> None:
        """View ▸ Reset Layout: every dock docked again, in the default arrangement."""
        for dock in self.window.docks.values():
            dock.setFloating(False)
        self.apply_default()

    def fit_screen(self) -> None:
        """Installing the parts can push the window past the screen for a moment (and without
        a window manager nothing pulls it back): keep it on the screen."""
        w = self.window
        screen = w.screen() or QGuiApplication.primaryScreen()
        if screen is None or w.isFullScreen():
            return
        r = screen.availableGeometry()
        if w.width() > r.width() or w.height() > r.height():
            w.resize(min(w.width(), r.width()), min(w.height(), r.height()))

    # ------------------------------------------------------------------ saving, restoring
    def restore(self) -> None:
        """The saved geometry and arrangement, over the default one (which is always built
        first, so a dock the saved state does not know still has a place)."""
        w = self.window
        geo = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        self.restored_geometry = isinstance(geo, QByteArray) and not geo.isEmpty()
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            r = screen.availableGeometry()
            w.resize(r.width(), r.height())
        self.apply_default()
        self._sizes_pending = True
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._sizes_pending = not w.restoreState(state, STATE_VERSION)
        if self.restored_geometry:
            w.restoreGeometry(geo)

    def shown(self) -> None:
        """The window is shown: the default sizes, if still due, once it has its real size."""
        if self._sizes_pending:
            self._sizes_pending = False
            QTimer.singleShot(0, self.window, self.default_sizes)

    def save(self) -> None:
        w = self.window
        self.settings.set_value("window/geometry", w.saveGeometry())
        self.settings.set_value("window/state", w.saveState(STATE_VERSION))
        self.settings.sync()

"""The player's keyboard: → next step, ← previous step, Space play/pause.

On the panel they are plain shortcuts. On the canvas (only while the mode is on) → and ← are
shortcuts too, but Space goes through an event filter, because holding Space and dragging pans
the canvas: only a tap plays or pauses.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QGraphicsView, QWidget

from nnstudio.gui.backprop.player import BackpropPlayer


def install_shortcuts(widget: QWidget, player: BackpropPlayer,
                      space: bool = True) -> list[QShortcut]:
    """→ next, ← previous, Space play/pause while ``widget`` (or a child) has focus."""
    out = []
    keys = [(Qt.Key.Key_Right, player.next), (Qt.Key.Key_Left, player.previous)]
    if space:
        keys.append((Qt.Key.Key_Space, player.toggle_play))
    for key, slot in keys:
        sc = QShortcut(QKeySequence(key), widget)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slot)
        out.append(sc)
    return out


class CanvasSpaceTap(QObject):
    """Space on the canvas while the mode is on: a tap (press and release with no mouse
    press in between) plays or pauses; Space + drag still pans."""

    def __init__(self, view: QGraphicsView, player: BackpropPlayer):
        super().__init__(view)
        self.view, self.player = view, player
        self._clean = False
        view.installEventFilter(self)
        view.viewport().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        t = event.type()
        if t == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Space \
                and not event.isAutoRepeat():
            self._clean = True
        elif t == QEvent.Type.MouseButtonPress:
            self._clean = False
        elif t == QEvent.Type.KeyRelease and event.key() == Qt.Key.Key_Space \
                and not event.isAutoRepeat():
            if self._clean and self.player.active:
                self.player.toggle_play()
            self._clean = False
        return False

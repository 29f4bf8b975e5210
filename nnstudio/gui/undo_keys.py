"""Undo and Redo keys inside text fields: Ctrl+Z in a field with nothing of its own to undo
undoes the document's last change.

A line edit (an inspector field, a spin box's text, the learning rate) takes Ctrl+Z for its
own typing history. A value the model put there has none, so the key would do nothing; with
:func:`route_undo_keys` it reaches the window's Undo action instead (and Ctrl+Shift+Z / Ctrl+Y
its Redo). While the field has typing of its own to undo, the key stays the field's, as in
any text box.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLineEdit, QWidget

_REDO_EXTRA = QKeySequence("Ctrl+Y")


class _UndoKeys(QObject):
    """The filter on each line edit (see the module docstring)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(obj, QLineEdit) \
                or not isinstance(event, QKeyEvent):
            return False
        if event.matches(QKeySequence.StandardKey.Undo):
            own = obj.isUndoAvailable()
        elif event.matches(QKeySequence.StandardKey.Redo) or \
                QKeySequence(event.keyCombination()) == _REDO_EXTRA:
            own = obj.isRedoAvailable()
        else:
            return False
        if own:
            return False          # the field's own typing: its own undo
        event.ignore()            # not overridden: the window's shortcut takes the key
        return True


_FILTER: _UndoKeys | None = None


def route_undo_keys(root: QWidget) -> None:
    """Install the filter on every line edit in ``root`` (spin boxes' included); call again
    after adding panels."""
    global _FILTER
    if _FILTER is None:
        _FILTER = _UndoKeys()
    for edit in root.findChildren(QLineEdit):
        if not edit.property("nnstudio_undo_keys"):
            edit.installEventFilter(_FILTER)
            edit.setProperty("nnstudio_undo_keys", True)

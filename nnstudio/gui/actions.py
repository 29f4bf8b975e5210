"""The one builder of menu and toolbar actions (and of the push buttons panels show for the
same kind of command), and the icons they show.

Every ``QAction`` in the window's menus and toolbars is made by :func:`make_action`, so they all
follow the same rules: the tooltip names the shortcut ("Train one batch (F10)"), the status tip
is the plain sentence, a checkable action calls its slot with the new state (``toggled``) and
any other action calls it with no argument (``triggered``'s checked flag is dropped). A panel's
command button is made by :func:`make_button`: its slot runs on a click (a checkable one's with
the new state; setting the state from code calls nothing), and it takes the keyboard focus only
by Tab, so a click leaves the arrow and Space keys to the panel's shortcuts.
:func:`app_icon` finds an icon in resources/icons, else in the desktop theme, else among Qt's
standard pixmaps. :func:`attempt` runs an action's document edit: a refused edit (ValueError)
changes nothing, and its reason goes to the status bar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QPushButton, QStyle

from nnstudio import paths

if TYPE_CHECKING:
    from nnstudio.gui.document import Document

Shortcut = str | QKeySequence | QKeySequence.StandardKey


def app_icon(name: str, fallback: QStyle.StandardPixmap | None, style: QStyle) -> QIcon:
    """An icon from resources/icons/NAME.svg, else the desktop theme, else a Qt standard icon."""
    p = paths.RESOURCES / "icons" / f"{name}.svg"
    if p.exists():
        return QIcon(str(p))
    icon = QIcon.fromTheme(name)
    if icon.isNull() and fallback is not None:
        icon = style.standardIcon(fallback)
    return icon


def tip_with_shortcut(tip: str, action: QAction) -> str:
    """``tip`` followed by the action's first shortcut in brackets (``tip`` alone without)."""
    sc = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    return f"{tip} ({sc})" if sc else tip


def make_action(parent: QObject, text: str, tip: str, slot: Callable | None = None, *,
                shortcut: Shortcut | Sequence[Shortcut] | None = None,
                icon: QIcon | None = None, checkable: bool = False, checked: bool = False,
                name: str | None = None) -> QAction:
    """A menu/toolbar action (see the module docstring). ``shortcut``: one key sequence or a
    list of them (the first is the one the tooltip names); ``name``: the object name."""
    a = QAction(text, parent)
    if name is not None:
        a.setObjectName(name)
    if shortcut is not None:
        seqs = list(shortcut) if isinstance(shortcut, (list, tuple)) else [shortcut]
        a.setShortcuts([QKeySequence(s) for s in seqs])
    a.setToolTip(tip_with_shortcut(tip, a))
    a.setStatusTip(tip)
    if icon is not None:
        a.setIcon(icon)
    if checkable:
        a.setCheckable(True)
        a.setChecked(checked)
        if slot is not None:
            a.toggled.connect(slot)
    elif slot is not None:
        a.triggered.connect(lambda _=False: slot())
    return a


def make_button(text: str, tip: str, slot: Callable, *, checkable: bool = False) -> QPushButton:
    """A panel's command button (see the module docstring)."""
    b = QPushButton(text)
    b.setToolTip(tip)
    b.setCheckable(checkable)
    b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    b.clicked.connect(slot)
    return b


def attempt(document: Document, edit: Callable[[], object], what: str = "") -> bool:
    """Run ``edit``; if the document refuses it (ValueError), show "what: reason" in the status
    bar (through ``document.message``) and return False."""
    try:
        edit()
    except ValueError as e:
        document.message(f"{what + ': ' if what else ''}{e}", 8000)
        return False
    return True

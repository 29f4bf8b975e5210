"""The window's layout and labels at the two sizes the product promises (1400 x 900 and
1024 x 700): the training settings never hide behind a toolbar overflow, the main actions
carry the lessons' words, a refusal's reason stays in view, Ctrl+Z in a field undoes the
document, and the settings read the same words everywhere."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolBar, QToolButton


def _at(qtbot, win, w: int, h: int) -> None:
    win.resize(w, h)
    qtbot.waitUntil(lambda: win.width() == w and win.height() == h, timeout=2000)
    win.dock_layout.reset()
    QApplication.processEvents()
    win.dock_layout.default_sizes()
    QApplication.processEvents()


@pytest.mark.parametrize("size", [(1400, 900), (1024, 700)])
def test_every_training_setting_is_on_the_bar_not_in_an_overflow(qtbot, window, size):
    _at(qtbot, window, *size)
    bar = window.training.settings_toolbar
    ext = bar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert ext is None or not ext.isVisible()
    for chunk in window.training.settings_bar.chunks:
        assert chunk.isVisible()
        right = chunk.mapTo(window, chunk.rect().topRight()).x()
        assert right <= window.width()
    # the rate box sits right after its label (no spare width pushed between them)
    lam = window.training.settings_bar.chunks[-1]
    assert lam.width() <= lam.sizeHint().width() + 1
    actions = window.training.toolbar
    ext = actions.findChild(QToolButton, "qt_toolbar_ext_button")
    assert ext is None or not ext.isVisible()


def test_the_main_actions_carry_the_words_the_lessons_use(window):
    tb = window.training.toolbar
    for key, word in (("play", "Train"), ("step", "Step"), ("reset", "Reset")):
        button = tb.widgetForAction(window.training.actions[key])
        assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        assert button.text().replace("&", "") == word
    main = window.findChild(QToolBar, "mainToolbar")
    rnd = main.widgetForAction(window.actions["randomize"])
    assert rnd.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    assert rnd.text() == "Randomize"
    # Randomize (a die) and Reset (back to the start) no longer look alike
    a = window.actions["randomize"].icon().pixmap(16, 16).toImage()
    b = window.training.actions["reset"].icon().pixmap(16, 16).toImage()
    assert a != b


def test_a_refusal_reason_stays_in_view_when_the_fields_scroll(qtbot, window):
    _at(qtbot, window, 1024, 700)
    doc, insp = window.document, window.inspector
    doc.set_selection([])
    QApplication.processEvents()
    insp.show_error("Not applied: Learning rate: must be greater than 0")
    insp.verticalScrollBar().setValue(insp.verticalScrollBar().maximum())
    QApplication.processEvents()
    assert insp.error.isVisible()
    top = insp.error.mapTo(insp, insp.error.rect().topLeft()).y()
    assert 0 <= top and top + insp.error.height() <= insp.viewport().geometry().top() + 1
    assert insp.viewport().height() >= 150      # the fields keep most of the inspector
    insp.show_error(None)
    assert insp.viewport().geometry().top() <= insp.frameWidth()


def test_ctrl_z_in_an_inspector_field_undoes_the_document(qtbot, window):
    doc = window.document
    cid = next(iter(doc.network.connections))
    before = doc.network.get_param(cid)
    doc.set_param(cid, before + 1.0)
    doc.set_selection([cid])
    QApplication.processEvents()
    edit = window.inspector.connections.editors["weight"].widget.edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    QTest.keyClick(edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.network.get_param(cid) == before
    QTest.keyClick(edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert doc.network.get_param(cid) == before + 1.0
    # while the field holds typing of its own, Ctrl+Z is the field's
    edit.selectAll()
    QTest.keyClicks(edit, "7")
    QTest.keyClick(edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.network.get_param(cid) == before + 1.0 and edit.text() != "7"


def test_batch_and_validation_read_the_same_words_everywhere(qtbot, window):
    doc, box = window.document, window.inspector.settings_box
    doc.set_selection([])
    doc.set_settings(batch_size=0, validation_split=0.0)
    QApplication.processEvents()
    assert window.training.settings_bar.batch.text() == "all" == box.batch.text()
    assert window.dataset_panel.split.text() == "none" == box.split.text()
    doc.set_settings(validation_split=0.2)
    QApplication.processEvents()
    qtbot.waitUntil(lambda: box.split.text() == "20 %")
    assert window.dataset_panel.split.text() == "20 %"


def test_clicks_on_an_inspector_spin_box_are_one_undo_step(qtbot, window):
    doc, box = window.document, window.inspector.settings_box
    doc.set_selection([])
    QApplication.processEvents()
    count = doc.undo_stack.count()
    for _ in range(4):
        box.split.stepUp()
    assert doc.settings.validation_split == 0.2
    assert doc.undo_stack.count() == count + 1
    doc.undo_stack.undo()
    assert doc.settings.validation_split == 0.0

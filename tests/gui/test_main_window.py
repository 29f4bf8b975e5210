"""Fresh-eyes polish of the editor: default dock layout, the backprop toolbar action, untruncated
combo boxes and lesson titles, the shortcut list, and the window title of lesson copies."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QApplication

from nnstudio import paths
from nnstudio.core import losses
from nnstudio.gui import dock_layout, widgets
from nnstudio.gui.app import create_window
from nnstudio.gui.settings import Settings


def _show(qtbot, win):
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def window(qtbot, settings_dir, dialogs, xor_path):
    win, err = create_window(str(xor_path))
    assert err is None
    _show(qtbot, win)
    yield win
    win.document.undo_stack.setClean()
    win.close()


def _at_1400x900(qtbot, win):
    win.resize(1400, 900)
    qtbot.waitUntil(lambda: win.width() == 1400 and win.height() == 900, timeout=2000)
    win.dock_layout.reset()
    QApplication.processEvents()
    win.dock_layout.default_sizes()
    QApplication.processEvents()


# ---------------------------------------------------------------------- default layout
def test_output_plot_has_its_own_group_between_inspector_and_loss(qtbot, window):
    _at_1400x900(qtbot, window)
    d = window.docks
    R = Qt.DockWidgetArea.RightDockWidgetArea
    for name in ("inspector", "output", "loss", "gradients", "params"):
        assert window.dockWidgetArea(d[name]) == R, name
    tabbed_with_output = window.tabifiedDockWidgets(d["output"])
    assert tabbed_with_output == []   # its own group, not a tab beside loss
    assert set(window.tabifiedDockWidgets(d["loss"])) == {d["gradients"], d["params"]}
    assert d["inspector"].geometry().bottom() < d["output"].geometry().top()
    assert d["output"].geometry().bottom() < d["loss"].geometry().top()
    assert d["output"].height() >= 200 and d["inspector"].height() >= 220


def test_canvas_gets_most_space_and_bottom_docks_are_tall_enough(qtbot, window):
    _at_1400x900(qtbot, window)
    canvas = window.canvas_view
    area = canvas.width() * canvas.height()
    for name, dock in window.docks.items():
        if dock.isVisible():
            assert dock.width() * dock.height() < area, name
    assert canvas.width() >= 0.55 * 1400
    assert window.docks["dataset"].height() >= 230
    window.docks["backprop"].raise_()   # a tab of the same group: the formula stays readable
    QApplication.processEvents()
    assert window.docks["backprop"].height() >= 230


def _save_old_version_layout(qtbot, xor_path) -> None:
    """Leave a layout saved by the previous version (every plot tabbed with the output)."""
    win, _ = create_window(str(xor_path))
    _show(qtbot, win)
    win.tabifyDockWidget(win.docks["loss"], win.docks["output"])
    old = win.saveState(dock_layout.STATE_VERSION - 1)
    win.close()
    Settings().set_value("window/state", QByteArray(old))
    Settings().sync()


def test_old_saved_layouts_are_replaced_once_by_the_new_default(qtbot, settings_dir, dialogs,
                                                               xor_path):
    _save_old_version_layout(qtbot, xor_path)
    win2, _ = create_window(str(xor_path))
    _show(qtbot, win2)
    assert win2.tabifiedDockWidgets(win2.docks["output"]) == []
    # ... and a layout saved by this version comes back as saved
    win2.tabifyDockWidget(win2.docks["loss"], win2.docks["output"])
    win2.close()
    win3, _ = create_window(str(xor_path))
    _show(qtbot, win3)
    assert win3.docks["loss"] in win3.tabifiedDockWidgets(win3.docks["output"])
    win3.close()


# ---------------------------------------------------------------------- backprop toolbar action
def test_step_through_backprop_action_has_an_icon_and_tooltip(window):
    a = window.actions["backprop_mode"]
    assert a is window.backprop.mode_action
    assert not a.icon().isNull()
    assert (paths.RESOURCES / "icons" / "backprop-step.svg").exists()
    assert "Ctrl+B" in a.toolTip()
    assert a in window.toolbar.actions()
    button = window.toolbar.widgetForAction(a)
    assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly


# ---------------------------------------------------------------------- truncation
def test_loss_combobox_shows_the_whole_title_and_the_formula_below(qtbot, window):
    _at_1400x900(qtbot, window)
    from nnstudio.gui.widgets import ChoiceBox
    box = window.inspector.findChild(ChoiceBox, "settings_loss")
    assert box is not None
    for i in range(box.count()):
        key = box.itemData(i)
        assert box.itemText(i) == losses.LOSSES[key].title
        assert box.itemData(i, Qt.ItemDataRole.ToolTipRole) == losses.LOSSES[key].formula
    QApplication.processEvents()
    text_w = box.fontMetrics().horizontalAdvance(box.currentText())
    assert text_w + 30 <= box.width()   # the arrow and frame fit beside the text
    from PySide6.QtWidgets import QLabel
    formula = window.inspector.findChild(QLabel, "settings_loss_formula")
    assert formula.text() == losses.LOSSES[window.document.settings.loss].formula
    window.document.set_settings(loss="mae")
    QApplication.processEvents()
    assert formula.text() == losses.LOSSES["mae"].formula


def test_long_lesson_title_wraps_instead_of_being_cut(qtbot, window):
    lesson = window.lesson
    name = "Backpropagation: the final bias b3 of a very long lesson title"
    window.document.project.name = name
    lesson.refresh()
    lesson.resize(240, 400)
    lesson.show()
    QApplication.processEvents()
    h = lesson.heading
    assert h.text() == name and h.wordWrap()
    assert h.height() >= h.heightForWidth(h.width())   # every wrapped line fits
    assert h.geometry().right() < lesson.edit_button.geometry().left()


# ---------------------------------------------------------------------- shortcuts
def test_shortcut_list_has_training_and_backprop_keys(window):
    rows = window.shortcut_rows()
    keys = {r[2] for r in rows}
    by_cmd = {(r[0], r[1]): r[2] for r in rows}
    for k in ("F5", "F10", "Shift+F10", "Ctrl+Shift+R", "Ctrl+B"):
        assert any(k == part.strip() for ks in keys for part in ks.split(",")), k
    assert by_cmd[("Backprop", "Step Through Backprop")] == "Ctrl+B"
    assert any(r[0] == "Backprop" and "→" in r[2] and "←" in r[2] for r in rows)
    assert any(r[0] == "Backprop" and r[2].startswith("Space") for r in rows)


# ---------------------------------------------------------------------- title
def test_title_of_a_lesson_copy_names_the_lesson(qtbot, window, dialogs, tmp_path):
    sample = paths.SAMPLES / "xor.nnproj"
    window.files.open_path(sample)
    doc = window.document
    assert doc.path is None and doc.source_sample == sample
    assert window.windowTitle() == f"{doc.project.name} (lesson copy)[*] — NN Studio"
    assert window.windowTitle().startswith("XOR (lesson copy)")
    doc.set_param(next(iter(doc.network.connections)), 0.5)
    assert window.isWindowModified()
    dialogs.save_path = str(tmp_path / "mine.nnproj")
    window.actions["save"].trigger()
    assert window.windowTitle().startswith("mine.nnproj[*]") and not window.isWindowModified()
    window.actions["new"].trigger()
    assert doc.source_sample is None and "lesson copy" not in window.windowTitle()


def test_sample_named_at_start_up_is_titled_as_a_lesson_copy(qtbot, settings_dir, dialogs):
    win, err = create_window(str(paths.SAMPLES / "perceptron-and.nnproj"))
    _show(qtbot, win)
    assert err is None and win.document.path is None
    assert win.windowTitle().startswith(f"{win.document.project.name} (lesson copy)[*]")
    win.close()


# ---------------------------------------------------------------------- refused typing
def test_typed_bad_number_is_refused_with_a_message_naming_the_field(qtbot, window):
    from PySide6.QtTest import QTest

    from nnstudio.gui.widgets import FloatEdit
    doc = window.document
    cid = next(iter(doc.network.connections))
    before = doc.network.get_param(cid)
    doc.set_selection([cid])
    QApplication.processEvents()
    insp = window.inspector
    edit = insp.connections.editors["weight"].widget.edit
    assert isinstance(edit, FloatEdit)
    edit.setFocus()
    edit.selectAll()
    QTest.keyClicks(edit, "abc")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert doc.network.get_param(cid) == before and doc.undo_stack.count() == 0
    assert not insp.error.isHidden()
    assert insp.error.text().startswith("Not applied: Weight w:") and "abc" in insp.error.text()
    assert "Weight w" in window.statusBar().currentMessage()
    # fixing the text applies it and clears the message
    edit.selectAll()
    QTest.keyClicks(edit, "0.25")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert doc.network.get_param(cid) == 0.25
    assert insp.error.isHidden()


# ---------------------------------------------------------------------- small screens
def test_window_fits_a_1280x720_projector_and_the_palette_is_not_cut(qtbot, window):
    window.backprop.mode_action.trigger()          # the widest state of the backprop panel
    QApplication.processEvents()
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720, hint
    window.backprop.mode_action.trigger()
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.height() == 720, timeout=2000)
    window.dock_layout.reset()
    QApplication.processEvents()
    window.dock_layout.default_sizes()
    QApplication.processEvents()
    pal = window.docks["palette"]
    pal.raise_()                  # the palette is the lesson's second tab: the user picks it
    QApplication.processEvents()
    assert pal.height() >= window.dock_layout.needed_height(pal) - 1


def test_window_is_pulled_back_onto_the_screen_after_the_parts_arrive(qtbot, window):
    r = window.screen().availableGeometry()
    window.resize(r.width() + 50, r.height() + 40)
    window.dock_layout.fit_screen()
    assert window.width() <= r.width() and window.height() <= r.height()


# ---------------------------------------------------------------------- status line
def test_refused_connection_status_starts_with_a_capital(qtbot, window):
    doc = window.document
    out = next(n.id for n in doc.network.neurons.values() if n.role == "output")
    hid = next(n.id for n in doc.network.neurons.values() if n.role == "hidden")
    before = len(doc.network.connections)
    with pytest.raises(ValueError) as e:
        doc.connect(out, hid)
    assert str(e.value)[0].islower()      # the core's wording, written to follow a prefix
    window.status(str(e.value))
    msg = window.statusBar().currentMessage()
    assert msg[0].isupper() and msg[1:] == str(e.value)[1:]
    assert len(doc.network.connections) == before
    window.status("x1 is an input")     # an id stays as written
    assert window.statusBar().currentMessage() == "x1 is an input"


def test_wide_panels_get_their_full_height_and_scroll_only_sideways(qtbot, window):
    from PySide6.QtWidgets import QScrollArea, QWidget
    _at_1400x900(qtbot, window)
    window.backprop.mode_action.trigger()
    window.backprop.player.next()
    for _ in range(3):
        QApplication.processEvents()
    for name in ("dataset", "backprop"):
        sa = window.docks[name].widget()
        assert isinstance(sa, widgets.WideScroll), name
        panel = QScrollArea.widget(sa)
        size = QWidget.size(panel)
        assert size.height() == sa.viewport().height(), name          # no vertical scrolling
        assert size.height() >= panel.minimumSizeHint().height(), name  # nothing clipped
        assert size.width() >= panel.minimumSizeHint().width(), name
    sa = window.docks["backprop"].widget()
    assert not sa.horizontalScrollBar().isVisible()   # at 1400 x 900 it fits
    window.backprop.mode_action.trigger()


def test_activation_formula_and_derivative_are_never_broken_mid_formula(qtbot, window):
    from PySide6.QtGui import QTextDocument
    doc = window.document
    hid = next(n.id for n in doc.network.neurons.values() if n.role == "hidden")
    doc.set_activation([hid], "leaky_relu")
    doc.set_selection([hid])
    QApplication.processEvents()
    label = window.inspector.neurons.editors["formula"].widget
    td = QTextDocument()
    td.setHtml(label.text())
    lines = td.toPlainText().split("\n")
    from nnstudio.core import activations
    act = activations.ACTIVATIONS["leaky_relu"]
    assert lines[0] == act.formula and lines[1] == act.derivative_formula
    assert label.text().count("white-space:pre") == 2


def test_a_decimal_comma_is_refused_with_a_hint():
    from nnstudio.gui.widgets import parse_number
    with pytest.raises(ValueError, match=r"write decimals with a point: 1\.5"):
        parse_number("1,5", what="weight")
    with pytest.raises(ValueError) as e:
        parse_number("1,5,6", what="weight")
    assert "point" not in str(e.value)
    assert parse_number(" 2 ") == 2.0


def test_deferred_start_with_an_old_saved_layout_gets_the_new_default(qtbot, settings_dir,
                                                                      dialogs, xor_path):
    _save_old_version_layout(qtbot, xor_path)
    win2, _ = create_window(str(xor_path), defer_parts=True)   # as the app starts
    _show(qtbot, win2)
    win2.install_parts()
    QApplication.processEvents()
    assert win2.tabifiedDockWidgets(win2.docks["output"]) == []
    assert win2.docks["output"].isVisible() and win2.docks["loss"].isVisible()
    win2.close()

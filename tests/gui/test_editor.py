"""The editor as a user drives it: inspector edits, undo, files, samples, recovery, clipboard."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from nnstudio import paths
from nnstudio.core import project as core_project
from nnstudio.gui import files
from nnstudio.gui.app import create_window
from nnstudio.gui.settings import Settings


def hidden(doc):
    return [n.id for n in doc.network.neurons.values() if n.role == "hidden"]


def type_into(qtbot, edit, text):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


# ---------------------------------------------------------------------- inspector
def test_inspector_bias_edit_changes_model_and_undo_restores(qtbot, window):
    doc = window.document
    h = hidden(doc)[0]
    old = doc.network.neurons[h].bias
    doc.set_selection([h])
    editor = window.inspector.neurons.editors["bias"].widget.edit
    qtbot.waitUntil(lambda: editor.isVisible())
    assert float(editor.text()) == pytest.approx(old)
    type_into(qtbot, editor, "0.75")
    assert doc.network.neurons[h].bias == 0.75
    assert doc.undo_stack.count() == 1
    window.actions["undo"].trigger()
    assert doc.network.neurons[h].bias == old
    qtbot.waitUntil(lambda: float(editor.text()) == pytest.approx(old))


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "-inf", "1e999", "", "1,5", "2e6"])
def test_inspector_refuses_invalid_weight_text(qtbot, window, text):
    doc = window.document
    cid = next(iter(doc.network.connections))
    before = doc.network.connections[cid].weight
    doc.set_selection([cid])
    editor = window.inspector.connections.editors["weight"].widget.edit
    qtbot.waitUntil(lambda: editor.isVisible())
    type_into(qtbot, editor, text)
    assert doc.network.connections[cid].weight == before
    assert doc.undo_stack.count() == 0
    assert editor.error  # the reason is shown inline
    assert "D55E00" in editor.styleSheet()
    assert "Not applied" in editor.toolTip()


def test_inspector_refuses_out_of_range_learning_rate(qtbot, window):
    doc = window.document
    doc.set_selection([])
    lr = window.inspector.settings_box.lr
    qtbot.waitUntil(lambda: lr.isVisible())
    before = doc.settings.learning_rate
    for bad in ("0", "-1", "5000", "x"):
        type_into(qtbot, lr, bad)
        assert doc.settings.learning_rate == before
        assert lr.error
    type_into(qtbot, lr, "0.2")
    assert doc.settings.learning_rate == 0.2
    assert not lr.error


def test_settings_edits_are_undoable(qtbot, window):
    doc = window.document
    ins = window.inspector.settings_box
    before = doc.settings
    type_into(qtbot, ins.lr, "0.125")
    ins.optimizer.chosen.emit("sgd")
    ins.seed.setValue(42)
    ins.loss.chosen.emit("mae")
    s = doc.settings
    assert (s.learning_rate, s.optimizer, s.seed, s.loss) == (0.125, "sgd", 42, "mae")
    assert doc.undo_stack.count() == 4
    for _ in range(4):
        doc.undo_stack.undo()
    assert doc.settings == before
    qtbot.waitUntil(lambda: ins.seed.value() == before.seed)
    assert ins.optimizer.currentData() == before.optimizer


def test_slider_drag_is_one_undo_step(qtbot, window):
    doc = window.document
    h = hidden(doc)[0]
    old = doc.network.neurons[h].bias
    doc.set_selection([h])
    slider = window.inspector.neurons.editors["bias"].widget.slider
    slider.sliderPressed.emit()
    for pos in (100, 200, 300, 400):
        slider.setValue(pos)
    slider.sliderReleased.emit()
    assert doc.network.neurons[h].bias == pytest.approx(slider.to_value(400))
    assert doc.undo_stack.count() == 1
    # a second drag is a second step
    slider.sliderPressed.emit()
    slider.setValue(-100)
    slider.sliderReleased.emit()
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.network.neurons[h].bias == old


def test_multi_selection_shows_mixed_and_edits_together(qtbot, window):
    doc = window.document
    a, b = hidden(doc)[:2]
    doc.set_params({a: 0.1, b: -0.3})
    doc.set_selection([a, b])
    grp = window.inspector.neurons
    edit = grp.editors["bias"].widget.edit
    qtbot.waitUntil(lambda: edit.isVisible())
    assert edit.text() == "" and "mixed" in edit.placeholderText()
    assert not grp.form.isRowVisible(1)  # the label is a single-item field
    n = doc.undo_stack.count()
    type_into(qtbot, edit, "0.5")
    assert doc.network.neurons[a].bias == doc.network.neurons[b].bias == 0.5
    assert doc.undo_stack.count() == n + 1
    # activation for both at once, one step
    grp.editors["activation"].widget.chosen.emit("sigmoid")
    assert {doc.network.neurons[i].activation for i in (a, b)} == {"sigmoid"}
    doc.undo_stack.undo()
    assert {doc.network.neurons[i].activation for i in (a, b)} == {"tanh"}


def test_inspector_refused_role_change_shows_message(qtbot, window):
    doc = window.document
    h = hidden(doc)[0]
    doc.set_selection([h])
    window.inspector.neurons.editors["role"].widget.chosen.emit("input")  # has incoming
    assert doc.network.neurons[h].role == "hidden"
    assert window.inspector.error.isVisibleTo(window.inspector)
    assert "incoming" in window.inspector.error.text()
    assert doc.undo_stack.count() == 0


def test_neuron_values_follow_sample(qtbot, window):
    doc = window.document
    out = doc.network.outputs[0].id
    doc.set_selection([out])
    grp = window.inspector.neurons
    qtbot.waitUntil(lambda: grp.editors["a"].widget.text() not in ("", "—"))
    ev = doc.evaluation()
    i = doc.engine().index[out]
    grp.editors["sample"].widget.setValue(2)
    assert doc.sample_index == 2
    qtbot.waitUntil(lambda: grp.editors["a"].widget.text() == f"{ev.a[2, i]:.8g}")


# ---------------------------------------------------------------------- delete / clipboard
def test_delete_then_undo_restores_neuron_and_connections(qtbot, window):
    doc = window.document
    net = doc.network
    before = core_project.dumps(doc.project)
    h = hidden(doc)[0]
    touching = {c.id for c in net.connections.values() if h in (c.source, c.target)}
    assert touching
    doc.set_selection([h])
    window.actions["delete"].trigger()
    assert h not in net.neurons and not touching & set(net.connections)
    assert doc.selection == ()
    window.actions["undo"].trigger()
    assert core_project.dumps(doc.project) == before
    window.actions["redo"].trigger()
    assert h not in net.neurons


def test_copy_paste_keeps_internal_connections(qtbot, window):
    doc = window.document
    net = doc.network
    ins = [n.id for n in net.inputs]
    h = hidden(doc)[0]
    doc.set_selection([*ins, h])
    window.actions["copy"].trigger()
    md = QGuiApplication.clipboard().mimeData()
    assert md.hasFormat("application/x-nnstudio-fragment")
    frag = json.loads(md.text())
    assert len(frag["neurons"]) == 3 and len(frag["connections"]) == 2
    n0, c0 = len(net.neurons), len(net.connections)
    new = window.clipboard.paste()
    assert len(net.neurons) == n0 + 3 and len(net.connections) == c0 + 2
    assert set(doc.selection) == set(new)
    new_n = [i for i in new if i in net.neurons]
    for c in (net.connections[i] for i in new if i in net.connections):
        assert c.source in new_n and c.target in new_n
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert (len(net.neurons), len(net.connections)) == (n0, c0)


def test_cut_and_duplicate(qtbot, window):
    doc = window.document
    net = doc.network
    h = hidden(doc)[0]
    n0 = len(net.neurons)
    doc.set_selection([h])
    window.actions["duplicate"].trigger()
    assert len(net.neurons) == n0 + 1
    doc.set_selection([h])
    window.actions["cut"].trigger()
    assert h not in net.neurons
    assert doc.undo_stack.undoText() == "Cut"
    window.actions["paste"].trigger()
    assert len(net.neurons) == n0 + 1


def test_select_all(qtbot, window):
    doc = window.document
    window.actions["select_all"].trigger()
    assert set(doc.selection) == set(doc.network.neurons) | set(doc.network.connections)


# ---------------------------------------------------------------------- title
def test_title_shows_file_name_and_modified_mark(qtbot, window, xor_path):
    doc = window.document
    assert window.windowTitle().startswith(f"{xor_path.name}[*]")
    assert not window.isWindowModified()
    doc.set_param(hidden(doc)[0], 0.3)
    assert window.isWindowModified()
    doc.undo_stack.undo()
    assert not window.isWindowModified()


# ---------------------------------------------------------------------- files
def test_save_then_open_round_trips(qtbot, window, dialogs, tmp_path):
    doc = window.document
    h = hidden(doc)[0]
    doc.set_param(h, 0.625)
    doc.set_description("# Changed\n\nNew lesson text.")
    doc.set_settings(learning_rate=0.3)
    out = tmp_path / "saved.nnproj"
    dialogs.save_path = str(out)
    window.actions["save_as"].trigger()
    assert out.exists() and not doc.is_modified()
    assert window.windowTitle().startswith("saved.nnproj")
    saved_text = core_project.dumps(doc.project)
    doc.new()
    assert doc.path is None
    dialogs.open_path = str(out)
    window.actions["open"].trigger()
    assert doc.path == out
    assert core_project.dumps(doc.project) == saved_text
    assert doc.network.neurons[h].bias == 0.625
    assert str(out.resolve()) == Settings().recent_files()[0]
    assert dialogs.errors == []


def test_bad_file_shows_error_and_leaves_document_unchanged(qtbot, window, dialogs, tmp_path):
    doc = window.document
    doc.set_param(hidden(doc)[0], 0.5)
    proj, text, stack = doc.project, core_project.dumps(doc.project), doc.undo_stack.count()
    bad = tmp_path / "bad.nnproj"
    bad.write_text('{"format": "nnstudio-project", "format_version": 1, "network": [}')
    assert window.files.open_path(bad, ask=False) is False
    assert len(dialogs.errors) == 1 and "bad.nnproj" in dialogs.errors[0]
    assert "line 1" in dialogs.errors[0]  # the loader's message is shown
    assert doc.project is proj and core_project.dumps(doc.project) == text
    assert doc.undo_stack.count() == stack and doc.is_modified()


def test_every_sample_opens(qtbot, window, dialogs):
    samples = paths.samples()
    assert len(samples) >= 3
    for p in samples:
        assert window.files.open_path(p), p
        qtbot.wait(1)  # let the coalesced evaluation run
        assert window.document.path is None  # samples open as untitled copies
        assert window.document.evaluation() is not None, (p, window.document.evaluation_error())
    assert dialogs.errors == []


def test_unsaved_prompt_on_new(qtbot, window, dialogs):
    doc = window.document
    doc.set_param(hidden(doc)[0], 0.9)
    proj = doc.project
    dialogs.unsaved = "cancel"
    window.actions["new"].trigger()
    assert doc.project is proj and dialogs.asked_unsaved == 1
    dialogs.unsaved = "discard"
    window.actions["new"].trigger()
    assert doc.project is not proj and not doc.is_modified()


def test_drop_nnproj_opens_it(qtbot, window, tmp_path):
    other = tmp_path / "dropped.nnproj"
    shutil.copy(paths.SAMPLES / "perceptron-and.nnproj", other)
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(other))])
    # dropped on the canvas, which ignores files, so the events reach the window
    with warnings.catch_warnings():  # PySide marks the (only) QPoint constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, md,
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.canvas_view.viewport(), enter)
    assert enter.isAccepted()
    ev = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, md, Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.canvas_view.viewport(), ev)
    qtbot.waitUntil(lambda: window.document.path == other)
    assert ev.isAccepted()


# ---------------------------------------------------------------------- recovery
def test_autosave_recovery_after_simulated_crash(qtbot, settings_dir, dialogs, xor_path):
    win, _ = create_window(str(xor_path))
    qtbot.addWidget(win)
    doc = win.document
    h = hidden(doc)[0]
    doc.set_param(h, 0.4242)
    doc.set_description("unsaved lesson")
    assert win.files.autosave()
    settings = Settings()
    assert settings.recovery_path.exists()
    expected = core_project.dumps(doc.project)
    # "crash": the window goes away without a clean close (no prompt, no cleanup)
    win.files.autosave_timer.stop()
    win.hide()
    win.deleteLater()

    dialogs.recover = True
    win2, _ = create_window(str(xor_path))
    qtbot.addWidget(win2)
    assert win2.files.offer_recovery()
    assert dialogs.asked_recover == 1
    d2 = win2.document
    assert core_project.dumps(d2.project) == expected
    assert d2.is_modified() and d2.path == xor_path
    # the recovered session autosaved the work at once (here the same process, so the same
    # file name), and the recovery is offered only once
    assert settings.recovery_path.read_text(encoding="utf-8") == expected
    assert not win2.files.offer_recovery()
    win2.close()


def test_recovery_discard_and_clean_quit_remove_file(qtbot, settings_dir, dialogs, xor_path):
    win, _ = create_window(str(xor_path))
    qtbot.addWidget(win)
    win.document.set_param(hidden(win.document)[0], 0.1)
    assert win.files.autosave()
    assert not win.files.offer_recovery()  # a session never offers its own autosave
    other, _ = create_window(str(xor_path))  # (as after a crash: same pid, a new session)
    qtbot.addWidget(other)
    dialogs.recover = False
    other.files.offer_recovery()
    assert not Settings().recovery_path.exists()
    assert win.document.network.neurons[hidden(win.document)[0]].bias == 0.1
    assert win.files.autosave()
    dialogs.unsaved = "discard"
    win.close()
    assert not Settings().recovery_path.exists()


def test_autosave_skips_clean_document(qtbot, window):
    assert not window.files.autosave()
    assert not Settings().recovery_path.exists()


# ---------------------------------------------------------------------- start-up
def test_startup_bad_file_falls_back_with_message(qtbot, settings_dir, dialogs, tmp_path):
    bad = tmp_path / "broken.nnproj"
    bad.write_text("not json")
    win, err = create_window(str(bad))
    qtbot.addWidget(win)
    assert err and "broken.nnproj" in err
    assert win.document.path is None and len(win.document.network.neurons) > 0


def test_startup_reopens_last_project(qtbot, settings_dir, dialogs, xor_path):
    Settings().set_last_project(xor_path)
    win, err = create_window(None)
    qtbot.addWidget(win)
    assert err is None and win.document.path == xor_path.resolve()


def test_first_run_opens_default_sample_as_copy(qtbot, settings_dir, dialogs):
    win, err = create_window(None)
    qtbot.addWidget(win)
    assert err is None and win.document.path is None
    assert win.document.project.name == core_project.load(paths.DEFAULT_SAMPLE).name


def test_layout_is_saved_and_restored(qtbot, settings_dir, dialogs, xor_path):
    win, _ = create_window(str(xor_path))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.docks["lesson"].hide()
    win.close()
    saved = Settings().value("window/geometry")
    assert saved is not None and not saved.isEmpty()
    win2, _ = create_window(str(xor_path))
    qtbot.addWidget(win2)
    win2.show()
    qtbot.waitExposed(win2)
    assert not win2.docks["lesson"].isVisible()
    assert win2.docks["inspector"].isVisible()
    # (the offscreen screen is smaller than the window, so Qt clamps the restored size)
    assert win2.dock_layout.restored_geometry
    win2.close()


def test_menus_have_the_issue_actions(qtbot, window):
    texts = {m: [a.text().replace("&", "") for a in window.menu(m).actions()]
             for m in ("File", "Edit", "View", "Network", "Help")}
    for m, want in {
        "File": ["New", "Open…", "Open Sample", "Open Recent", "Save", "Save As…",
                 "Export Canvas as PNG…", "Export Canvas as SVG…", "Quit"],
        "Edit": ["Undo", "Redo", "Cut", "Copy", "Paste", "Duplicate", "Delete", "Select All"],
        "View": ["Zoom In", "Zoom Out", "Fit to Window", "Show Values", "Show Grid"],
        "Network": ["Add Dense Layer…", "Connect Selected Fully", "Auto-Layout",
                    "Randomize Weights"],
        "Help": ["Keyboard Shortcuts", "About NN Studio"],
    }.items():
        for w in want:
            assert any(t.startswith(w) for t in texts[m]), (m, w, texts[m])
    for a in window.actions.values():
        assert a.toolTip(), a.objectName()
    assert len(window.samples_menu.actions()) == len(paths.samples())


def test_network_menu_actions_are_undoable(qtbot, window):
    doc = window.document
    net = doc.network
    before = core_project.dumps(doc.project)
    window.actions["randomize"].trigger()
    assert core_project.dumps(doc.project) != before
    window.actions["auto_layout"].trigger()
    doc.add_dense_layer(1, 2, "relu")
    assert len(net.neurons) == 8
    doc.set_selection(hidden(doc)[:3])
    for _ in range(doc.undo_stack.count()):
        doc.undo_stack.undo()
    assert core_project.dumps(doc.project) == before


def test_lesson_edit_is_undoable(qtbot, window):
    doc = window.document
    lesson = window.lesson
    old = doc.description
    lesson.edit_button.click()
    assert lesson.editing
    lesson.editor.setPlainText("# Hello\n\nA **new** lesson.")
    lesson.apply_button.click()
    assert doc.description.startswith("# Hello") and not lesson.editing
    assert "Hello" in lesson.read_text()
    doc.undo_stack.undo()
    assert doc.description == old
    assert "Hello" not in lesson.read_text()


def test_deferred_parts_fill_their_placeholders(qtbot, settings_dir, dialogs, xor_path):
    win, _ = create_window(str(xor_path), defer_parts=True)
    qtbot.addWidget(win)
    assert not win.parts_installed
    waiting = set(win.dock_layout.placeholders)
    assert {"dataset", "backprop", "output"} <= waiting
    placeholder_docks = {n: win.docks[n] for n in waiting}
    win.install_parts()
    assert win.parts_installed and not win.dock_layout.placeholders
    for name, dock in placeholder_docks.items():
        if name in win.docks:  # a part claimed it: the same dock, now with the real panel
            assert win.docks[name] is dock
            inner = dock.widget()
            inner = inner.widget() if hasattr(inner, "widgetResizable") else inner
            assert "Loading" not in getattr(inner, "text", lambda: "")()
    assert hasattr(win, "training")
    # the names are remembered, so the next start makes the same placeholders
    assert json.loads(Settings().value("window/part_docks")).keys() >= {"dataset", "backprop"}


def test_connect_selected_fully_connects_adjacent_columns(qtbot, window):
    doc = window.document
    net = doc.network
    ids = [doc.add_neuron("hidden", 600.0, y) for y in (0.0, 80.0)]
    out = doc.add_neuron("output", 800.0, 40.0)
    n_before = doc.undo_stack.count()
    doc.set_selection([*ids, out])
    window.actions["connect_fully"].trigger()
    assert {(net.connections[c].source, net.connections[c].target)
            for c in net.connections if net.connections[c].target == out} == {(i, out) for i in ids}
    assert net.connection_between(ids[0], ids[1]) is None  # not within a column
    assert doc.undo_stack.count() == n_before + 1
    doc.set_selection(ids)  # one column: refused with a reason, nothing changes
    c0 = len(net.connections)
    window.actions["connect_fully"].trigger()
    assert len(net.connections) == c0
    assert "column" in window.statusBar().currentMessage()


def test_add_dense_layer_dialog(qtbot, window, monkeypatch):
    from nnstudio.gui import dialogs
    doc = window.document
    n0 = len(doc.network.neurons)

    def fake_exec(self):
        self.count.setValue(5)
        self.activation.setCurrentIndex(self.activation.findData("sigmoid"))
        return dialogs.QDialog.DialogCode.Accepted
    monkeypatch.setattr(dialogs.DenseLayerDialog, "exec", fake_exec)
    window.actions["add_dense"].trigger()
    net = doc.network
    assert len(net.neurons) == n0 + 5
    assert set(doc.selection) <= set(net.neurons) and len(doc.selection) == 5
    assert {net.neurons[i].activation for i in doc.selection} == {"sigmoid"}
    window.actions["undo"].trigger()
    assert len(net.neurons) == n0


def test_export_canvas_png_and_svg(qtbot, window, tmp_path):
    for suffix in ("png", "svg"):
        out = tmp_path / f"canvas.{suffix}"
        assert window.files.export_canvas_to(out)
        assert out.exists() and out.stat().st_size > 500


def test_shortcut_list_covers_menu_actions(qtbot, window):
    rows = window.shortcut_rows()
    commands = {r[1] for r in rows}
    for want in ("Undo", "Redo", "Copy", "Paste", "Delete", "Save", "Zoom In"):
        assert want in commands
    keys = [r[2] for r in rows if r[0] != "Canvas" and r[0] != "Inspector"]
    assert len(keys) == len(set(keys)), "two commands share a shortcut"


def test_recovery_from_another_dead_process_and_not_from_a_live_one(qtbot, settings_dir, dialogs,
                                                                    xor_path, monkeypatch):
    win, _ = create_window(str(xor_path))
    qtbot.addWidget(win)
    settings = Settings()
    text = core_project.dumps(core_project.load(paths.SAMPLES / "perceptron-and.nnproj"))
    dead, live = 2_000_000_001, 2_000_000_002   # above any real pid
    for pid in (dead, live):
        proj_path, info_path = settings.recovery_paths(pid)
        proj_path.write_text(text)
        info_path.write_text(json.dumps({"path": None, "name": "AND", "saved_at": pid}))
    monkeypatch.setattr(files, "_pid_alive", lambda pid: pid == live)
    info = win.files.pending_recovery()
    assert info["pid"] == dead
    assert win.files.offer_recovery()
    assert core_project.dumps(win.document.project) == text
    assert not settings.recovery_paths(dead)[0].exists()
    assert settings.recovery_paths(live)[0].exists()  # the live session keeps its file
    assert win.files.pending_recovery() is None


def test_a_kill_between_the_autosave_writes_leaves_a_whole_recovery(qtbot, settings_dir,
                                                                    dialogs, xor_path,
                                                                    monkeypatch):
    # A recovered session killed after its first write (the info) but before the project:
    # the older recovery is still whole and is offered with its own info (its lesson path).
    win, _ = create_window(str(xor_path))
    qtbot.addWidget(win)
    settings = Settings()
    text = core_project.dumps(core_project.load(paths.SAMPLES / "perceptron-and.nnproj"))
    old = 2_000_000_001   # above any real pid
    proj_path, info_path = settings.recovery_paths(old)
    proj_path.write_text(text)
    info_path.write_text(json.dumps({"path": None, "source_sample": str(xor_path),
                                     "name": "AND", "saved_at": 1.0}))
    writes = []

    def killed_after_one_write(path, data):
        if writes:
            raise OSError("killed")   # stands for SIGKILL between the two writes
        writes.append(path)
        path.write_bytes(data)

    from nnstudio.core import files as core_files
    win.document.set_param(hidden(win.document)[0], 0.77)
    with monkeypatch.context() as m:
        m.setattr(core_files, "atomic_write", killed_after_one_write)
        assert not win.files.autosave()
    assert writes == [settings.recovery_info_path]   # the info goes first
    info = win.files.pending_recovery()   # this session's half-written pair is skipped
    assert info is not None and info["pid"] == old
    assert info["source_sample"] == str(xor_path)


def test_edit_keys_act_on_the_canvas_not_on_other_panels(qtbot, window):
    from PySide6.QtWidgets import QTableView
    doc = window.document
    window.activateWindow()
    h = hidden(doc)[0]
    doc.set_selection([h])
    table = window.findChildren(QTableView)[0]
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert h in doc.network.neurons   # Delete in the dataset table never removes neurons
    window.canvas_view.setFocus()
    qtbot.keyClick(window.canvas_view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert doc.undo_stack.undoText().startswith("Paste")
    qtbot.keyClick(window.canvas_view, Qt.Key.Key_Delete)
    assert doc.undo_stack.undoText().startswith("Delete")


def test_leaky_slope_and_label_edits(qtbot, window):
    doc = window.document
    h = hidden(doc)[0]
    doc.set_selection([h])
    grp = window.inspector.neurons
    assert not grp.form.isRowVisible(list(grp.editors).index("slope"))
    grp.editors["activation"].widget.chosen.emit("leaky_relu")
    qtbot.waitUntil(lambda: grp.form.isRowVisible(list(grp.editors).index("slope")))
    slope = grp.editors["slope"].widget
    type_into(qtbot, slope, "20")       # out of range [-10, 10]
    assert slope.error and doc.network.neurons[h].slope == 0.01
    type_into(qtbot, slope, "0.2")
    assert doc.network.neurons[h].slope == 0.2
    label = grp.editors["label"].widget
    label.setFocus()
    label.selectAll()
    qtbot.keyClicks(label, "hidden one")
    qtbot.keyClick(label, Qt.Key.Key_Return)
    assert doc.network.neurons[h].label == "hidden one"
    for _ in range(3):
        doc.undo_stack.undo()
    n = doc.network.neurons[h]
    assert (n.label, n.activation, n.slope) == (h, "tanh", 0.01)


def test_view_toggles_reach_the_scene_and_are_remembered(qtbot, window):
    scene = window.canvas_view.scene()
    window.actions["show_values"].setChecked(True)
    assert scene.show_values
    window.actions["show_grid"].setChecked(False)
    assert not scene.show_grid
    s = Settings()
    assert s.bool("view/show_values") and not s.bool("view/show_grid", True)


def test_recent_files_menu(qtbot, window, xor_path, tmp_path, dialogs):
    other = tmp_path / "other.nnproj"
    shutil.copy(paths.SAMPLES / "perceptron-and.nnproj", other)
    assert window.files.open_path(other)
    window.files.fill_recent_menu(window.recent_menu)
    data = [a.data() for a in window.recent_menu.actions() if a.data()]
    assert data[:2] == [str(other.resolve()), str(xor_path.resolve())]
    other.unlink()
    assert not window.files.open_recent(str(other.resolve()))
    assert dialogs.errors and "no longer exists" in dialogs.errors[-1]
    assert str(other.resolve()) not in Settings().recent_files()


def test_sample_opens_as_untitled_copy_and_save_asks_for_a_name(qtbot, window, dialogs, tmp_path):
    sample = paths.SAMPLES / "perceptron-and.nnproj"
    before = sample.read_bytes()
    window.files.fill_samples_menu(window.samples_menu)
    act = next(a for a in window.samples_menu.actions() if a.data() == str(sample))
    act.trigger()
    doc = window.document
    assert doc.path is None and window.windowTitle().startswith(doc.project.name)
    doc.set_param(next(iter(doc.network.connections)), 0.123)
    dialogs.save_path = None            # the user cancels Save As
    window.actions["save"].trigger()
    assert doc.is_modified() and sample.read_bytes() == before
    dialogs.save_path = str(tmp_path / "mine.nnproj")
    window.actions["save"].trigger()
    assert doc.path == tmp_path / "mine.nnproj" and not doc.is_modified()
    assert sample.read_bytes() == before


def test_a_sample_named_on_the_command_line_opens_as_a_copy(qtbot, settings_dir, dialogs):
    win, err = create_window(str(paths.SAMPLES / "perceptron-and.nnproj"))
    qtbot.addWidget(win)
    assert err is None and win.document.path is None
    assert Settings().recent_files() == []


def test_reset_layout_and_panel_toggles(qtbot, window):
    lesson = window.docks["lesson"]
    toggle = lesson.toggleViewAction()
    assert toggle in window.panels_menu.actions()
    toggle.trigger()
    assert not lesson.isVisible()
    window.docks["dataset"].setFloating(True)
    window.actions["reset_layout"].trigger()
    assert lesson.isVisible() and not window.docks["dataset"].isFloating()
    assert window.dockWidgetArea(window.docks["inspector"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.history.stack() is window.document.undo_stack


def test_saving_a_network_whose_dataset_no_longer_fits(qtbot, window, dialogs, tmp_path,
                                                       monkeypatch):
    doc = window.document
    x3 = doc.add_neuron("input", -100.0, 200.0)
    doc.connect(x3, hidden(doc)[0], 0.5)
    asked = []
    monkeypatch.setattr(files, "ask_fit_dataset",
                        lambda parent, problem: asked.append(problem) or False)
    dialogs.save_path = str(tmp_path / "grown.nnproj")
    window.actions["save_as"].trigger()
    assert asked and "3 input neuron" in asked[0]
    assert not (tmp_path / "grown.nnproj").exists() and doc.is_modified()
    # autosave still keeps the work, with the data fitted in the recovery copy only
    assert window.files.autosave()
    assert len(doc.dataset.input_names) == 2
    monkeypatch.setattr(files, "ask_fit_dataset", lambda parent, problem: True)
    window.actions["save_as"].trigger()
    saved = core_project.load(tmp_path / "grown.nnproj")
    assert saved.dataset.input_names[2] == x3 and (saved.dataset.X[:, 2] == 0).all()
    assert doc.undo_stack.undoText() == "Match dataset columns to the network"
    doc.undo_stack.undo()
    assert len(doc.dataset.input_names) == 2


CRASHING_SESSION = r"""
import os, sys
from nnstudio.gui.app import make_app, create_window
app = make_app()
win, _ = create_window(sys.argv[1])
doc = win.document
h = [n.id for n in doc.network.neurons.values() if n.role == "hidden"][0]
doc.set_param(h, 0.3125)
doc.set_description("# Unsaved\n\nwork in progress")
assert win.files.autosave()
os._exit(3)   # a crash: no close, no clean-up
"""


def test_recovery_after_a_real_process_crash(qtbot, settings_dir, dialogs, xor_path, tmp_path):
    import os
    import subprocess
    import sys
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_SESSION)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NNSTUDIO_SETTINGS_DIR=str(settings_dir))
    proc = subprocess.run([sys.executable, str(script), str(xor_path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr[-2000:]
    dialogs.recover = True
    win, _ = create_window(str(xor_path))
    qtbot.addWidget(win)
    assert win.files.offer_recovery()
    doc = win.document
    assert doc.description.startswith("# Unsaved") and doc.is_modified()
    assert doc.network.neurons[hidden(doc)[0]].bias == 0.3125
    assert doc.path == xor_path
    # the crashed session's files are gone, replaced at once by this session's own autosave
    left = sorted(p.name for p in settings_dir.glob("recovery-*"))
    assert left == [f"recovery-{os.getpid()}.json", f"recovery-{os.getpid()}.nnproj"]


def test_autosave_timer_writes_unsaved_work(qtbot, window):
    timer = window.files.autosave_timer
    assert timer.interval() == 30_000 and timer.isActive()
    window.document.set_param(hidden(window.document)[0], 0.77)
    window.files.autosave_timer.setInterval(20)   # don't wait 30 s in a test
    qtbot.waitUntil(lambda: Settings().recovery_path.exists(), timeout=3000)


@pytest.mark.parametrize("fragment", [
    {"neurons": [{"role": "hidden"}], "connections": []},
    {"neurons": [{"id": ["x"], "role": "hidden"}], "connections": []},
    {"neurons": [{"id": "a", "role": "boss"}], "connections": []},
    {"neurons": [{"id": "a", "role": "hidden", "x": "left"}], "connections": []},
    {"neurons": [{"id": "a", "role": "hidden", "x": None}], "connections": []},
    {"neurons": [{"id": "a", "role": "hidden", "bias": "NaN"}], "connections": []},
    {"neurons": [{"id": "a", "role": "hidden", "activation": "wobble"}], "connections": []},
    {"neurons": [{"id": "a", "role": "input"}, {"id": "b", "role": "hidden"}],
     "connections": [{"source": "b", "target": "a", "weight": 1.0}]},
    {"neurons": [{"id": "a", "role": "hidden"}, {"id": "b", "role": "hidden"}],
     "connections": [{"source": "a", "target": "b", "weight": "heavy"}]},
    {"neurons": [{"id": "a", "role": "hidden"}, {"id": "b", "role": "hidden"}],
     "connections": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]},
    {"neurons": [5], "connections": []},
])
def test_bad_clipboard_fragments_are_refused_and_change_nothing(qtbot, window, fragment):
    doc = window.document
    before = core_project.dumps(doc.project)
    md = QMimeData()
    md.setText(json.dumps({"format": "nnstudio-fragment", "version": 1, **fragment}))
    QGuiApplication.clipboard().setMimeData(md)
    assert window.clipboard.paste() == []
    assert core_project.dumps(doc.project) == before and doc.undo_stack.count() == 0
    assert window.statusBar().currentMessage().startswith("Cannot paste")


def test_pasted_neuron_keeps_a_real_label(qtbot, window):
    doc = window.document
    md = QMimeData()
    md.setText(json.dumps({"format": "nnstudio-fragment", "version": 1, "neurons": [
        {"id": "q", "role": "hidden", "label": "my neuron", "bias": 0.25, "x": 5, "y": 6},
        {"id": "r", "role": "hidden", "label": "r"}], "connections": []}))
    QGuiApplication.clipboard().setMimeData(md)
    new = window.clipboard.paste()
    n0, n1 = (doc.network.neurons[i] for i in new)
    assert n0.label == "my neuron" and n0.bias == 0.25 and n1.label == n1.id


def test_connection_shows_its_share_of_z_for_the_sample(qtbot, window):
    doc = window.document
    c = next(c for c in doc.network.connections.values() if c.source.startswith("x"))
    doc.set_sample(3)
    doc.set_selection([c.id])
    grp = window.inspector.connections
    ev = doc.evaluation()
    want = c.weight * ev.a[3, doc.engine().index[c.source]]
    qtbot.waitUntil(lambda: grp.editors["share"].widget.text() == f"{want:.8g}")
    assert grp.editors["sample"].widget.value() == 3


def test_role_change_is_undoable_and_unlocks_a_former_input_bias(qtbot, window):
    doc = window.document
    x = doc.network.inputs[0].id
    # an input with outgoing connections may become hidden
    doc.set_role(x, "hidden")
    n = doc.network.neurons[x]
    assert n.role == "hidden" and n.bias_trainable and n.activation == "identity"
    doc.undo_stack.undo()
    n = doc.network.neurons[x]
    assert n.role == "input" and not n.bias_trainable and n.bias == 0.0


def test_summary_shows_counts_and_the_engine_loss(qtbot, window):
    doc = window.document
    doc.set_selection([])
    labels = window.inspector.summary.labels
    qtbot.waitUntil(lambda: labels["loss"].text().startswith(f"{doc.loss():.8g}"))
    assert labels["neurons"].text().startswith(str(len(doc.network.neurons)))
    assert labels["connections"].text() == str(len(doc.network.connections))
    doc.set_trainable([next(iter(doc.network.connections))], False)
    trainable = f"({doc.network.param_count() - 1} trainable)"
    qtbot.waitUntil(lambda: trainable in labels["parameters"].text())
    # a network that cannot be evaluated says why
    doc.add_neuron("input", -200.0, 0.0)
    qtbot.waitUntil(lambda: "input" in labels["loss"].text() and "—" in labels["loss"].text())


def test_inspector_sensitivity_readout_multiplies_the_link_slopes(qtbot, window):
    """Seed 001's chain: selecting shoe size shows d(shoe size)/d(weight) = 2 × 0.25 = 0.5."""
    doc = window.document
    doc.load(paths.SAMPLES / "chain-rule.nnproj")
    doc.set_selection(["shoe"])
    grp = window.inspector.neurons
    label = grp.editors["sensitivity"].widget
    qtbot.waitUntil(lambda: "d(shoe size)/d(weight)" in label.text())
    assert label.text() == ("d(shoe size)/d(weight) = 2 × 0.25 = 0.5<br>"
                            "d(shoe size)/d(height) = 0.25")
    doc.set_selection(["height"])
    qtbot.waitUntil(lambda: label.text() == "d(shoe size)/d(height) = 0.25")
    doc.set_param("w2", 0.5)
    doc.set_selection(["shoe"])
    qtbot.waitUntil(lambda: "2 × 0.5 = 1" in label.text())


def test_train_slope_makes_the_leaky_slope_a_parameter_and_undo_fixes_it(qtbot, window):
    """Parametric ReLU in the inspector: 'Train slope' adds the slope's parameter and its
    gradient row; one undo step takes both away again, keeping the slope's value."""
    doc = window.document
    h = hidden(doc)[0]
    doc.set_selection([h])
    grp = window.inspector.neurons
    row = list(grp.editors).index
    grp.editors["activation"].widget.chosen.emit("leaky_relu")
    qtbot.waitUntil(lambda: grp.form.isRowVisible(row("slope_trainable")))
    assert not grp.form.isRowVisible(row("slope_grad"))
    box = grp.editors["slope_trainable"].widget
    assert box.text() == "trained (parametric ReLU)" and not box.isChecked()
    box.click()
    assert doc.network.neurons[h].slope_trainable
    assert f"{h}:slope" in doc.engine().param_ids
    assert doc.undo_stack.undoText() == f"Train the leaky slope of {h}"
    qtbot.waitUntil(lambda: grp.form.isRowVisible(row("slope_grad")))
    assert grp.editors["slope_grad"].widget.text() not in ("", "—")
    doc.undo_stack.undo()
    assert not doc.network.neurons[h].slope_trainable
    assert f"{h}:slope" not in doc.engine().param_ids
    doc.undo_stack.redo()
    assert doc.network.neurons[h].slope_trainable

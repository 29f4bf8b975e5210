"""The backprop player and dock (pytest-qt): navigation that restores exactly, the canvas
overlay following the step, seed 001's numbers on screen, one undo step per session, export,
the gradient-check tab, keyboard and training interplay."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, Qt

from nnstudio import paths
from nnstudio.core import project
from nnstudio.gui.backprop import UNDO_TEXT, BackpropPanel, export_walkthrough
from nnstudio.gui.canvas.scene import CanvasScene
from nnstudio.gui.document import Document

DOSAGE = paths.SAMPLES / "dosage-backprop.nnproj"
MINUS = "\u2212"
pytestmark = pytest.mark.skipif(not DOSAGE.exists(), reason="samples not written yet")


@pytest.fixture
def setup(qtbot):
    doc = Document(project.load(DOSAGE), DOSAGE)
    scene = CanvasScene(doc)
    panel = BackpropPanel(doc)
    panel.player.set_scene(scene)
    qtbot.addWidget(panel)
    yield doc, scene, panel, panel.player
    panel.player.deactivate()


def params(doc):
    net = doc.network
    return {p: net.get_param(p) for p in net.param_ids()}


def overlay_state(scene):
    ov = scene.overlay
    if ov is None:
        return None
    return (frozenset(ov.neurons), frozenset(ov.connections), tuple(sorted(ov.neuron_text.items())),
            tuple(sorted(ov.connection_text.items())), tuple(sorted(ov.arrows.items())))


def shown(panel, doc, scene):
    return (panel.title_label.text(), panel.explanation_label.text(), panel.formula_label.text(),
            panel.counter_label.text(), overlay_state(scene), tuple(sorted(params(doc).items())))


def step_index(player, kind, pid=None, neuron=None):
    for s in player.trace.steps:
        if s.kind == kind and (pid is None or pid in s.params) and \
                (neuron is None or s.neurons[:1] == (neuron,)):
            return s.index
    raise AssertionError(kind)


def test_navigation_forward_and_back_restores_exactly(setup):
    doc, scene, panel, p = setup
    before = params(doc)
    p.next()                      # enters the mode at step 0
    assert p.active and p.index == 0
    seen = {}
    while True:
        seen[p.index] = shown(panel, doc, scene)
        if p.index == p.last:
            break
        p.next()
    assert len(seen) == len(p.trace.steps)
    # the update phase changed the network; going back restores every screen exactly
    assert params(doc) != before
    while p.index > 0:
        p.previous()
        assert shown(panel, doc, scene) == seen[p.index]
    assert params(doc) == before
    # clicking a step in the list jumps there
    k = step_index(p, "update", pid="b3")
    item = panel.item_for_step(k)
    panel.step_list.itemClicked.emit(item)
    assert p.index == k and shown(panel, doc, scene) == seen[k]


def test_canvas_overlay_follows_the_step(setup):
    doc, scene, panel, p = setup
    assert scene.overlay is None
    p.next()
    k = step_index(p, "weighted_sum", neuron="b1")
    p.go_to(k)
    ov = scene.overlay
    incoming = {c.id for c in doc.network.incoming("b1")}
    assert ov.neurons == {"b1"} and ov.connections == incoming
    assert ov.neuron_text["b1"] == f"z = {MINUS}1.43, 0.24, 1.91"
    assert "b2" not in ov.neuron_text          # not computed yet
    assert ov.arrows == {}
    # backward: arrows for the neurons whose dL/dz is known, and only those
    k = step_index(p, "dl_dz", neuron="b2")
    p.go_to(k)
    ov = scene.overlay
    assert set(ov.arrows) == {"b3", "b2"}
    assert ov.arrows["b3"] == pytest.approx(15.655, abs=1e-3)   # the output asks to go UP
    assert "dL/dz" in ov.neuron_text["b2"]
    # update: the new value is on the canvas (badge and the network itself)
    k = step_index(p, "update", pid="b3")
    p.go_to(k)
    assert scene.overlay.neuron_text["b3"].endswith("b: 0 \u2192 1.57")
    assert doc.network.get_param("b3") == pytest.approx(1.5655, abs=1e-4)
    # leaving the mode clears the overlay
    p.deactivate()
    assert scene.overlay is None


def test_dosage_sample_shows_seed_001_numbers(setup):
    doc, scene, panel, p = setup
    panel.mode_button.click()
    assert p.active and p.index == 0
    p.go_to(step_index(p, "bias_grad", pid="b3"))
    assert panel.formula_label.text().endswith(f"= {MINUS}15.7")
    p.go_to(step_index(p, "update", pid="b3"))
    text = panel.formula_label.text()
    assert f"0.1 × ({MINUS}15.7) = {MINUS}1.57" in text
    assert text.endswith(f"b_new = 0 {MINUS} ({MINUS}1.57) = 1.57")
    assert "Update bias of efficacy" in panel.title_label.text()


def test_leaving_the_mode_is_one_undo_step(setup):
    doc, scene, panel, p = setup
    doc.set_param("b1", -1.43)    # an unrelated earlier edit (a no-op value, still a step)
    count = doc.undo_stack.count()
    before = params(doc)
    p.next()
    p.run_to_end()
    p.next_iteration()
    assert p.iteration == 2 and p.index == 0
    p.jump("update")
    p.run_to_end()
    after = params(doc)
    p.deactivate()
    assert params(doc) == after != before
    assert doc.undo_stack.count() == count + 1
    assert doc.undo_stack.text(count) == UNDO_TEXT
    doc.undo_stack.undo()
    assert params(doc) == before
    doc.undo_stack.redo()
    assert params(doc) == after
    # a new session is a new undo step
    p.next()
    p.run_to_end()
    p.deactivate()
    assert doc.undo_stack.count() == count + 2


def test_stepping_back_before_the_update_leaves_no_undo_step(setup):
    doc, scene, panel, p = setup
    count = doc.undo_stack.index()
    p.next()
    p.run_to_end()
    p.jump("backward")
    p.deactivate()
    assert doc.undo_stack.index() == count
    assert doc.network.get_param("b3") == 0.0


def test_an_external_edit_restarts_the_walkthrough(setup, qtbot):
    doc, scene, panel, p = setup
    p.next()
    p.go_to(5)
    # moving neurons on the canvas keeps the walkthrough where it is
    n = doc.network.neurons["b1"]
    doc.move_items({"b1": (n.x + 40.0, n.y + 10.0)})
    QCoreApplication.processEvents()      # a pending rebuild (0 ms timer) would run here
    assert p.index == 5 and not p.stale
    # renaming a neuron restarts it (its name is in the formulas)
    doc.set_label("b1", "upper")
    qtbot.waitUntil(lambda: p.index == -1)
    assert "upper" in p.trace.steps[1].title
    p.go_to(5)
    doc.set_param("b3", 0.5)
    qtbot.waitUntil(lambda: p.index == -1)
    assert p.trace.params_before["b3"] == 0.5
    assert doc.undo_stack.text(doc.undo_stack.index() - 1) != UNDO_TEXT


def test_own_update_steps_keep_the_walkthrough_other_parameter_edits_restart_it(setup, qtbot):
    doc, scene, panel, p = setup
    p.next()
    k = step_index(p, "update", pid="b3")
    p.go_to(k)                            # the player writes the new b3 (one undo step)
    QCoreApplication.processEvents()      # a pending rebuild (0 ms timer) would run here
    assert p.index == k and not p.stale and doc.network.get_param("b3") != 0.0
    p.go_to(k - 1)                        # ... and takes it back (undoing its own step)
    QCoreApplication.processEvents()
    assert p.index == k - 1 and not p.stale and doc.network.get_param("b3") == 0.0
    # a lock changes no value, but the update the walkthrough shows: it starts again
    doc.set_trainable(["b3"], False)
    qtbot.waitUntil(lambda: p.index == -1)
    assert not p.trace.trainable["b3"]
    # undoing the player's step from the Edit menu is not the player's own write either
    doc.set_trainable(["b3"], True)
    qtbot.waitUntil(lambda: p.index == -1 and p.trace.trainable["b3"])
    p.go_to(k)
    QCoreApplication.processEvents()
    assert doc.undo_stack.text(doc.undo_stack.index() - 1) == UNDO_TEXT
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: p.index == -1)
    assert doc.network.get_param("b3") == 0.0


def test_export_writes_the_cli_markdown(setup, tmp_path, capsys):
    doc, scene, panel, p = setup
    out = export_walkthrough(doc, tmp_path / "walk.md", None)
    text = out.read_text(encoding="utf-8")
    from nnstudio.cli import main
    assert main(["trace", str(DOSAGE), "--format", "markdown"]) == 0
    assert text == capsys.readouterr().out
    assert f"b_new = 0 {MINUS} ({MINUS}1.57) = 1.57" in text
    one = export_walkthrough(doc, tmp_path / "one.md", 1).read_text(encoding="utf-8")
    assert f"z = 3.34 × 0.5 + ({MINUS}1.43) = 0.24" in one


def test_sample_choice_traces_one_row(setup):
    doc, scene, panel, p = setup
    panel.sample_combo.setCurrentIndex(2)       # "Sample 1: ..."
    assert p.sample == 1 and doc.sample_index == 1
    p.next()
    p.go_to(step_index(p, "weighted_sum", neuron="b1"))
    assert panel.formula_label.text().splitlines()[-1] == f"z = 3.34 × 0.5 + ({MINUS}1.43) = 0.24"
    assert scene.overlay.neuron_text["b1"] == "z = 0.24"


def test_gradient_check_tab(setup):
    doc, scene, panel, p = setup
    panel.tabs.setCurrentIndex(1)
    rows = panel.check_rows
    assert len(rows) == 7 and all(r.ok for r in rows)
    assert panel.check_table.rowCount() == 7
    assert panel.check_summary.text().startswith("All 7 gradients agree")
    assert panel.check_table.item(6, 4).text().startswith("\u2713")


def test_play_pause_and_phase_buttons(setup, qtbot):
    doc, scene, panel, p = setup
    panel.speed_slider.setValue(20)             # 10 steps per second
    panel.play_button.click()
    assert p.playing and panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: p.index >= 3, timeout=3000)
    panel.play_button.click()
    assert not p.playing
    k = p.index
    panel.phase_buttons["backward"].click()
    assert p.step.phase == "backward" and p.index == p.trace.phase_start("backward") != k
    assert panel.phase_buttons["backward"].isChecked()
    panel.end_button.click()
    assert p.index == p.last


def test_keyboard_arrows_and_space(setup, qtbot):
    doc, scene, panel, p = setup
    panel.show()
    panel.activateWindow()
    panel.step_list.setFocus()
    qtbot.waitUntil(lambda: panel.step_list.hasFocus())
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Right)
    assert p.active and p.index == 0
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Right)
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Right)
    assert p.index == 2
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Left)
    assert p.index == 1
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Space)
    assert p.playing
    qtbot.keyClick(panel.step_list, Qt.Key.Key_Space)
    assert not p.playing


def test_training_stops_the_player(setup, qtbot):
    doc, scene, panel, p = setup
    p.next()
    p.run_to_end()
    doc.training_active = True
    qtbot.waitUntil(lambda: not p.active and not panel.next_button.isEnabled(), timeout=2000)
    assert scene.overlay is None
    p.next()                                  # refused while training
    assert not p.active
    doc.training_active = False
    qtbot.waitUntil(lambda: panel.next_button.isEnabled(), timeout=2000)


def test_main_window_installs_dock_menu_canvas_mode_and_export(qtbot, tmp_path, monkeypatch):
    from nnstudio.gui.main_window import MainWindow
    from nnstudio.gui.settings import Settings

    doc = Document(project.load(DOSAGE), DOSAGE)
    w = MainWindow(doc, Settings(tmp_path / "settings"))
    qtbot.addWidget(w)
    ui = w.backprop
    assert ui.dock.objectName() == "dock_backprop"
    texts = [a.text().replace("&", "") for a in w.menu("File").actions()]
    assert "Export Walkthrough\u2026" in texts
    assert ui.export_action in w.menu("Backprop").actions()
    scene = w.canvas_view.scene()
    ui.mode_action.trigger()
    assert ui.player.active and ui.player.index == 0 and ui.dock.isVisible() is not None
    assert scene.overlay is not None and scene.overlay.neurons == {"dosage"}
    # → on the canvas while the mode is on
    w.show()
    w.canvas_view.setFocus()
    qtbot.waitUntil(lambda: w.canvas_view.hasFocus())
    qtbot.keyClick(w.canvas_view, Qt.Key.Key_Right)
    assert ui.player.index == 1 and scene.overlay.neurons == {"b1"}
    qtbot.keyClick(w.canvas_view, Qt.Key.Key_Left)
    assert ui.player.index == 0
    # a Space tap plays/pauses; Space held while the mouse drags (a pan) does not
    qtbot.keyClick(w.canvas_view, Qt.Key.Key_Space)
    assert ui.player.playing
    qtbot.keyClick(w.canvas_view, Qt.Key.Key_Space)
    assert not ui.player.playing
    qtbot.keyPress(w.canvas_view, Qt.Key.Key_Space)
    qtbot.mousePress(w.canvas_view.viewport(), Qt.MouseButton.LeftButton)
    qtbot.mouseRelease(w.canvas_view.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyRelease(w.canvas_view, Qt.Key.Key_Space)
    assert not ui.player.playing
    ui.mode_action.trigger()
    assert not ui.player.active and scene.overlay is None
    target = tmp_path / "w.md"
    monkeypatch.setattr("nnstudio.gui.backprop.installer.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    assert ui.export_dialog() == target
    assert "1.57" in target.read_text(encoding="utf-8")


def test_a_network_that_cannot_be_traced_says_why(qtbot):
    proj = project.load(DOSAGE)
    proj.network.remove_neuron("b3")          # no output neuron left
    doc = Document(proj)
    panel = BackpropPanel(doc)
    qtbot.addWidget(panel)
    messages = []
    panel.player.message.connect(messages.append)
    panel.player.next()
    assert not panel.player.active
    assert "no output neuron" in messages[-1]
    assert panel.title_label.text() == "Cannot step through this network"
    assert not panel.mode_button.isChecked()


def test_next_iteration_with_numbers_that_overflow_says_so_and_changes_nothing(setup):
    doc, _scene, _panel, player = setup
    doc.set_param("b3", 1e305)
    doc.set_settings(learning_rate=1000)
    player.next_iteration()           # a refusal, not an exception
    assert "the ssr loss overflows" in player.error
    assert doc.network.get_param("b3") == 1e305

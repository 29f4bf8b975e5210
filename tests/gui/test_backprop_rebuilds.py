"""The backprop panel rebuilds its walkthrough lazily: stepping training while the panel only
previews (the mode is off) coalesces into one rebuild once the clicks stop, a hidden panel does
no work, and a rebuild after a parameter change keeps the step list's rows."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication

from nnstudio import paths
from nnstudio.gui.backprop import PREVIEW_DELAY_MS, BackpropPanel
from nnstudio.gui.document import Document
from nnstudio.gui.training import TrainingController

DOSAGE = paths.SAMPLES / "dosage-backprop.nnproj"


@pytest.fixture
def setup(qtbot):
    doc = Document.open(DOSAGE)
    panel = BackpropPanel(doc)
    qtbot.addWidget(panel)
    ctl = TrainingController(doc)
    counts = {"trace": 0}
    panel.player.traceChanged.connect(lambda: counts.__setitem__("trace", counts["trace"] + 1))
    yield doc, panel, panel.player, ctl, counts
    panel.player.deactivate()
    ctl.shutdown()


def test_stepping_while_previewing_coalesces_into_one_rebuild(setup, qtbot):
    doc, panel, p, ctl, counts = setup
    panel.show()
    qtbot.waitExposed(panel)
    assert p.wants_preview and p.trace is not None
    first_rows = [panel.step_list.item(i) for i in range(panel.step_list.count())]
    counts["trace"] = 0
    for _ in range(5):
        ctl.step()
        QCoreApplication.processEvents()
    # no rebuild per click: the walkthrough is only marked stale
    assert counts["trace"] == 0 and p.stale
    with qtbot.waitSignal(p.traceChanged, timeout=PREVIEW_DELAY_MS * 10):
        pass
    assert counts["trace"] == 1 and not p.stale
    # the walkthrough now starts from the stepped parameters
    net = doc.network
    assert all(p.trace.params_after(-1)[pid] == net.get_param(pid) for pid in net.param_ids())
    # same structure: the same rows, with renewed formulas in their tooltips
    rows = [panel.step_list.item(i) for i in range(panel.step_list.count())]
    assert rows == first_rows
    k = next(i for i in range(len(rows)) if rows[i].data(256) is not None)
    assert rows[k].toolTip() == p.trace.steps[rows[k].data(256)].formula


def test_a_hidden_panel_does_no_work_until_shown(setup, qtbot):
    doc, panel, p, ctl, counts = setup
    assert not p.wants_preview
    for _ in range(3):
        ctl.step()
    qtbot.wait(PREVIEW_DELAY_MS + 100)
    assert counts["trace"] == 0
    panel.show()
    qtbot.waitExposed(panel)
    assert counts["trace"] == 1 and not p.stale


def test_the_gradient_check_runs_only_on_its_tab(setup, qtbot):
    doc, panel, p, ctl, counts = setup
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.check_table.rowCount() == 0
    panel.tabs.setCurrentIndex(1)
    assert panel.check_table.rowCount() == 7
    ctl.step()
    with qtbot.waitSignal(p.traceChanged, timeout=PREVIEW_DELAY_MS * 10):
        pass
    # on its tab, a rebuilt walkthrough is checked again at once
    assert panel.check_table.rowCount() == 7 and panel.check_summary.text().startswith("All 7")


def test_the_active_mode_rebuilds_at_once(setup, qtbot):
    doc, panel, p, ctl, counts = setup
    panel.show()
    p.activate()
    p.go_to(3)
    counts["trace"] = 0
    ctl.step()
    with qtbot.waitSignal(p.traceChanged, timeout=PREVIEW_DELAY_MS // 2):
        pass


def test_the_formula_box_shows_only_with_a_formula(setup, qtbot):
    doc, panel, p, ctl, counts = setup
    panel.show()
    qtbot.waitExposed(panel)
    assert not panel.formula_scroll.isVisible()           # before the first step: no empty box
    p.next()
    assert panel.formula_label.text() and panel.formula_scroll.isVisible()
    p.go_to(-1)
    assert not panel.formula_scroll.isVisible()


def test_the_buttons_do_not_move_when_the_mode_toggles(setup, qtbot):
    doc, panel, p, ctl, counts = setup
    panel.resize(900, 320)
    panel.show()
    qtbot.waitExposed(panel)
    x = panel.next_button.mapTo(panel, panel.next_button.rect().topLeft()).x()
    p.next()                                   # "Step through" becomes "Leave step-through"
    assert panel.mode_button.text() == "Leave step-through"
    qtbot.waitUntil(lambda: panel.next_button.mapTo(panel, panel.next_button.rect().topLeft()).x()
                    == x, timeout=1000)

"""Regularization in the window as a user meets it: the training toolbar's choice and rate, the
loss pane's penalty curve, and legends that never cover the data."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.gui.document import Document
from nnstudio.gui.plots import (
    ActivationPane,
    GradientsPane,
    LandscapePane,
    LossPane,
    ParamHistoryPane,
)
from nnstudio.gui.training import TrainingController
from nnstudio.gui.training.toolbar import DEFAULT_RATE, TrainingSettingsBar


@pytest.fixture
def doc(qtbot):
    d = Document.open(paths.SAMPLES / "xor.nnproj")
    yield d


def test_choosing_l2_sets_a_rate_in_one_undo_step_and_undo_restores_none(qtbot, doc):
    bar = TrainingSettingsBar(doc)
    qtbot.addWidget(bar)
    assert not bar.rate.isEnabled() and bar.regularization.short_text() == "None"
    bar.regularization.setCurrentIndex(bar.regularization.findData("l2"))
    st = doc.settings
    assert (st.regularization, st.regularization_rate) == ("l2", DEFAULT_RATE)
    assert bar.rate.isEnabled() and bar.regularization.short_text() == "L2"
    assert doc.undo_stack.count() == 1
    # the views' numbers follow: the evaluation carries the penalty and its gradient
    ev = doc.evaluation()
    eng = doc.engine()
    assert ev.penalty == pytest.approx(eng.penalty(doc.settings.penalty)) and ev.penalty > 0
    _, plain = eng.gradient(doc.dataset.X, doc.dataset.Y, doc.settings.loss)
    w = eng.weight_mask == 1
    assert not np.allclose(ev.grad[w], plain[w]) and np.allclose(ev.grad[~w], plain[~w])
    bar.rate.setText("0.03")
    bar.rate.editingFinished.emit()
    assert doc.settings.regularization_rate == 0.03
    bar.rate.setText("-1")                      # refused inline, nothing applied
    bar.rate.editingFinished.emit()
    assert bar.rate.error and "at least 0" in bar.rate.error
    assert doc.settings.regularization_rate == 0.03
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert (doc.settings.regularization, doc.settings.regularization_rate) == ("none", 0.0)
    assert not bar.rate.isEnabled()


def test_the_compact_choices_show_short_names_and_list_the_full_titles(qtbot, doc):
    bar = TrainingSettingsBar(doc)
    qtbot.addWidget(bar)
    assert bar.loss.short_text() == "MSE" and bar.loss.currentText() == "Mean squared error"
    assert bar.optimizer.short_text() == "Adam"
    # narrow while closed: as wide as the longest short name, not the longest title
    fm = bar.loss.fontMetrics()
    assert bar.loss.sizeHint().width() < fm.horizontalAdvance("Categorical cross-entropy")
    assert bar.loss.view().minimumWidth() > fm.horizontalAdvance("Categorical cross-entropy")


def test_clicks_on_a_spin_box_merge_into_one_undo_step(qtbot, doc):
    bar = TrainingSettingsBar(doc)
    qtbot.addWidget(bar)
    start = bar.epochs.value()
    for _ in range(4):
        bar.epochs.stepUp()
    assert doc.settings.epochs == start + 4
    assert doc.undo_stack.count() == 1 and doc.undo_stack.text(0) == "Set epochs"
    bar.batch.stepUp()                        # another field: its own step
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.settings.epochs == start and bar.epochs.value() == start


def test_training_with_a_penalty_draws_it_beside_the_loss(qtbot, doc):
    doc.set_settings(regularization="l2", regularization_rate=0.01)
    ctl = TrainingController(doc)
    pane = LossPane(doc, ctl)
    qtbot.addWidget(pane)
    pane.resize(500, 380)
    try:
        for _ in range(5):
            ctl.step_epoch()
        pane.refresh_now()
        h = ctl.history
        assert h.has_penalty() and np.all(h.penalty > 0)
        eng = ctl.trainer.engine
        assert h.penalty[-1] == pytest.approx(eng.penalty(doc.settings.penalty))
        x, y = pane.penalty_curve.getData()
        assert np.array_equal(y, h.penalty) and pane.penalty_curve.isVisible()
        names = [label.text for _, label in pane.legend.items]
        assert names == ["training", "L2 penalty"]
        assert "penalty" in pane.info.text()
        header, rows = pane.csv_table()
        assert header[-1] == "penalty" and rows[-1][-1] == h.penalty[-1]
    finally:
        ctl.shutdown()


@pytest.mark.parametrize("cls", [LossPane, GradientsPane, ParamHistoryPane, ActivationPane,
                                 LandscapePane])
def test_legends_sit_beside_the_plot_never_over_its_data(qtbot, doc, cls):
    ctl = TrainingController(doc)
    pane = cls(doc, ctl)
    qtbot.addWidget(pane)
    pane.resize(500, 380)
    pane.show()
    qtbot.waitExposed(pane)
    try:
        ctl.step_epoch()
        pane.refresh_now()
        for plot in pane.plots:
            legend = plot.legend
            if legend is None or not legend.isVisible():
                continue
            area = plot.getViewBox().sceneBoundingRect()
            assert legend.parentItem() is not plot.getViewBox()
            assert not legend.sceneBoundingRect().intersects(area), cls.__name__
    finally:
        ctl.shutdown()

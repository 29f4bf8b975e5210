"""Polish found by using the panes: sensible epoch axes before training, a loss axis from 0,
a compact Output header on its own line, status lines that end in "…" when the dock is narrow,
and an Activation pane whose curve gets the whole pane when the second plot is not needed."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.gui.document import Document
from nnstudio.gui.plots import ActivationPane, GradientsPane, LossPane, OutputPane, ParamHistoryPane
from nnstudio.gui.plots.base import MIN_EPOCHS, ElidedLabel
from nnstudio.gui.training import TrainingController


@pytest.fixture
def setup(qtbot):
    made = []

    def _make(sample: str, cls, size=(500, 380)):
        doc = Document.open(paths.SAMPLES / sample)
        ctl = TrainingController(doc)
        made.append(ctl)
        pane = cls(doc, ctl)
        qtbot.addWidget(pane)
        pane.resize(*size)
        pane.show()
        qtbot.waitExposed(pane)
        pane.refresh_now()
        return doc, ctl, pane

    yield _make
    for ctl in made:
        ctl.shutdown()


def x_range(pane):
    return pane.plot.getViewBox().viewRange()[0]


def y_range(pane):
    return pane.plot.getViewBox().viewRange()[1]


@pytest.mark.parametrize("cls", [LossPane, GradientsPane, ParamHistoryPane])
def test_epoch_axes_start_at_zero_before_training_and_follow_the_data_after(setup, cls):
    doc, ctl, pane = setup("xor.nnproj", cls)
    lo, hi = x_range(pane)
    assert -0.5 < lo <= 0.0 and hi >= MIN_EPOCHS          # not a centred -0.5..0.5
    for _ in range(3):                                     # a few epochs: still 0..10
        ctl.step_epoch()
    pane.refresh_now()
    lo, hi = x_range(pane)
    assert lo <= 0.0 and hi >= MIN_EPOCHS
    for _ in range(MIN_EPOCHS + 20):
        ctl.step_epoch()
    pane.refresh_now()
    assert pane.plot.getViewBox().autoRangeEnabled()[0]    # then the axis follows the data


def test_loss_axis_starts_at_zero_before_training(setup):
    doc, ctl, pane = setup("xor.nnproj", LossPane)
    loss = doc.loss()
    lo, hi = y_range(pane)
    assert lo == pytest.approx(0.0, abs=1e-12) and loss < hi <= 1.5 * loss
    assert "before training" in pane.info.text() and "press Play" in pane.info.toolTip()
    assert "epoch 0" in pane.info.toolTip()
    pane.set_log(True)
    pane.refresh_now()
    lo, hi = y_range(pane)                                 # log10 units: a decade below
    assert lo < np.log10(loss) < hi
    ctl.step_epoch()
    pane.refresh_now()
    assert pane.plot.getViewBox().autoRangeEnabled()[1]    # training: y follows the data


def test_output_header_is_compact_and_on_its_own_line(setup):
    doc, ctl, pane = setup("spiral.nnproj", OutputPane, size=(330, 380))
    assert pane.header.indexOf(pane.info) == -1            # not squeezed beside the options
    hid = [n for n in doc.network.neurons.values() if n.role == "hidden"][0]
    pane.set_neuron(hid.id)
    pane.refresh_now()
    text, tip = pane.info.text(), pane.info.toolTip()
    # the score first (it is what changes while training), then the neuron
    assert text.startswith("accuracy") and f"{hid.label} (Tanh)" in text
    assert "heat map" not in text and len(text) < 50
    assert "hidden neuron" in tip and "heat map" in tip    # the long version is the tooltip
    assert pane.info.width() > 250                         # it has the pane's width


def test_status_line_ends_in_an_ellipsis_when_too_narrow(qtbot):
    label = ElidedLabel("epoch 123 · loss 0.000123456 · validation 0.000234567")
    qtbot.addWidget(label)
    label.resize(60, 20)
    assert label.is_elided()
    label.resize(2000, 20)
    assert not label.is_elided()


def test_activation_curve_gets_the_whole_pane_without_the_second_plot(setup, qtbot):
    doc, ctl, pane = setup("xor.nnproj", ActivationPane)
    hid = [n.id for n in doc.network.neurons.values() if n.role == "hidden"][0]
    doc.set_selection([hid])                               # two inputs: no w·x + b plot
    pane.refresh_now()
    ci = pane.layout_widget.ci
    assert pane.wx_plot not in ci.items
    qtbot.waitUntil(lambda: pane.plot.height() > 0.8 * pane.layout_widget.height(),
                    timeout=2000)


def test_activation_second_plot_comes_back_for_one_input(setup):
    doc, ctl, pane = setup("dosage-backprop.nnproj", ActivationPane)
    doc.set_selection(["b1"])
    pane.refresh_now()
    assert pane.wx_plot in pane.layout_widget.ci.items and pane.wx_plot.isVisible()
    doc.set_selection(["b3"])                              # the output: two sources
    pane.refresh_now()
    assert pane.wx_plot not in pane.layout_widget.ci.items
    doc.set_selection(["b1"])
    pane.refresh_now()
    assert pane.wx_plot in pane.layout_widget.ci.items


@pytest.mark.parametrize("cls", [LossPane, OutputPane, ActivationPane])
def test_a_real_right_click_opens_the_export_menu(setup, qtbot, cls):
    """pyqtgraph ignores right clicks on a ViewBox whose own menu is disabled: the pane's
    export menu must still open from a real mouse click on the plot."""
    from PySide6.QtCore import QPoint, Qt
    doc, ctl, pane = setup("xor.nnproj", cls)
    vb = pane.plot.getViewBox()
    view = pane.layout_widget
    centre = view.mapFromScene(vb.sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.RightButton, pos=QPoint(centre))
    qtbot.waitUntil(lambda: getattr(pane, "last_menu", None) is not None, timeout=1000)
    texts = [a.text() for a in pane.last_menu.actions()]
    assert "Export as PNG…" in texts and "Export data as CSV…" in texts
    pane.last_menu.close()


def test_gradients_axis_spans_decades_before_training(setup):
    doc, ctl, pane = setup("spiral.nnproj", GradientsPane)
    lo, hi = y_range(pane)                      # log10 units
    means = np.log10(pane.current[pane.current > 0])
    assert lo <= means.min() - 0.9 and hi >= means.max() + 0.4
    for _ in range(3):
        ctl.step_epoch()
    pane.refresh_now()
    assert pane.plot.getViewBox().autoRangeEnabled()[1]


def test_gradient_axis_labels_whole_decades_only(qtbot):
    from nnstudio.gui.plots.gradients import DecadeAxis
    ax = DecadeAxis("left")
    # 0.0005 .. 0.03: the decades 0.001 and 0.01 (log10 -3 and -2), no 0.004, 0.005, ...
    assert ax.logTickValues(np.log10(5e-4), np.log10(3e-2), 200, []) == [(1.0, [-3.0, -2.0])]
    # a short axis over many decades: every other decade
    (step, vals), = ax.logTickValues(-8.0, 0.0, 100, [])
    assert step >= 2 and vals[0] == -8.0 and len(vals) <= 5

"""The Output pane's Playground toggles on the input plane: "Show test data" (the held-out
rows, ringed), "Discretize output" (the decision only), and equal axes (a circle of data is
drawn as a circle)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from nnstudio import paths
from nnstudio.core.trainer import split_rows
from nnstudio.gui.document import Document
from nnstudio.gui.plots.output import OutputPane


@pytest.fixture
def pane(qtbot):
    doc = Document.open(paths.SAMPLES / "spiral.nnproj")
    p = OutputPane(doc)
    qtbot.addWidget(p)
    p.resize(420, 300)
    p.show()
    qtbot.waitExposed(p)
    p.refresh_now()
    return p


def test_test_data_is_hidden_until_shown_then_ringed(pane):
    doc = pane.document
    n = len(doc.dataset)
    assert pane.points.data.size == n                  # nothing held out: every row
    doc.set_settings(validation_split=0.25)
    pane.refresh_now()
    held = split_rows(n, 0.25, doc.settings.seed)[1]
    assert pane.points.data.size == n - len(held)
    pane.test_box.setChecked(True)
    pane.refresh_now()
    assert pane.points.data.size == n
    widths = np.array([p.widthF() for p in pane.points.data["pen"]])
    assert (widths > 1.5).sum() == len(held)


def test_discretize_colours_each_side_of_the_line_in_one_colour(pane):
    img = pane.grid["value"]
    assert len(np.unique(np.round(img, 6))) > 2
    pane.discrete_box.setChecked(True)
    pane.refresh_now()
    assert set(np.unique(pane.image.image).tolist()) <= {0.0, 1.0}


def test_the_input_plane_keeps_equal_axes(pane, qtbot):
    pane.resize(600, 260)               # a wide, short pane
    QApplication.processEvents()
    pane.refresh_now()
    QApplication.processEvents()
    vb = pane.plot.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    w, h = vb.width(), vb.height()
    assert (x1 - x0) / w == pytest.approx((y1 - y0) / h, rel=0.02)


def test_the_output_caption_wraps_instead_of_being_cut(pane, qtbot):
    pane.resize(280, 300)                       # the right column of a 1024-pixel window
    QApplication.processEvents()
    pane.refresh_now()
    info = pane.info
    assert info.wordWrap() and "line at 0.5" in info.text()
    one_line = info.fontMetrics().height()
    assert info.height() >= info.heightForWidth(info.width()) >= 2 * one_line - 2

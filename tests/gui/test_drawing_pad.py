"""The drawing pads: a stroke on the sample pad is one undoable change of the sample's pixels;
the Try it pad predicts live and never changes the dataset."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.document import Document
from nnstudio.gui.drawing_pad import DrawingPanel
from tests.gui.test_canvas_images import RING, image_dataset
from tests.gui.test_document_images import cnn

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NO_MOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def panel(qtbot):
    doc = Document(Project(cnn(), image_dataset(),
                           TrainSettings(loss="cross_entropy", optimizer="adam", seed=3)))
    p = DrawingPanel(doc)
    qtbot.addWidget(p)
    p.resize(760, 300)
    p.show()
    qtbot.waitExposed(p)
    QApplication.processEvents()
    return p


def centre(pad, r, c) -> QPoint:
    rect = pad.grid_rect()
    h, w = pad.pixels.shape
    return QPointF(rect.left() + (c + 0.5) * rect.width() / w,
                   rect.top() + (r + 0.5) * rect.height() / h).toPoint()


def stroke(pad, cells, button=LEFT):
    QTest.mousePress(pad, button, NO_MOD, centre(pad, *cells[0]))
    for cell in cells[1:]:
        QTest.mouseMove(pad, centre(pad, *cell))
    QTest.mouseRelease(pad, button, NO_MOD, centre(pad, *cells[-1]))


def test_a_stroke_paints_the_samples_pixels_as_one_undo_step(panel):
    doc = panel.doc
    pad = panel.sample_pad
    assert np.array_equal(pad.pixels, RING)
    stroke(pad, [(2, 1), (2, 4)])              # across the ring's inside: four cells inked
    X = doc.dataset.X[0].reshape(6, 6)
    assert X[2, 1:5].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == "Draw on sample 0 (image)"
    stroke(pad, [(0, 2), (0, 3)], RIGHT)       # erase two ink cells of the ring's top
    assert doc.dataset.X[0].reshape(6, 6)[0, 2:4].tolist() == [0.0, 0.0]
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert np.array_equal(doc.dataset.X[0].reshape(6, 6), RING)
    QApplication.processEvents()
    assert np.array_equal(pad.pixels, RING)


def test_try_it_predicts_live_and_leaves_the_dataset_alone(panel):
    doc = panel.doc
    before = doc.dataset.X.copy()
    panel.copy_sample()
    QApplication.processEvents()
    expected = doc.engine().predict(before[:1])[0]
    assert np.allclose(panel.prediction, expected, rtol=0, atol=1e-15)
    stroke(panel.try_pad, [(0, 0), (5, 5)])    # a diagonal across the O
    QApplication.processEvents()
    row = before[0].copy()
    row.reshape(6, 6)[np.arange(6), np.arange(6)] = 1.0
    assert np.array_equal(panel.prediction, doc.engine().predict(row[None])[0])
    assert np.array_equal(doc.dataset.X, before)
    assert doc.undo_stack.count() == 0
    labels = [lab.text() for lab, _, _ in panel.bar_widgets]
    assert labels == ["O", "X"]
    assert "The network says" in panel.verdict.text()
    panel.clear_try()
    assert not panel.try_pad.pixels.any()


def test_the_drawing_dock_is_a_tab_beside_the_dataset(window):
    window.dock_layout.reset()
    QApplication.processEvents()
    d = window.docks
    assert d["drawing"] in window.tabifiedDockWidgets(d["dataset"])
    assert window.dockWidgetArea(d["drawing"]) == Qt.DockWidgetArea.BottomDockWidgetArea

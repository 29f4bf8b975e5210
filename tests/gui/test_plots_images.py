"""The plot panes with a convolution: the Activation pane marks its maps' values; the
Gradients pane has an entry for it like any other depth."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.document import Document
from nnstudio.gui.plots import ActivationPane, GradientsPane
from nnstudio.gui.training import TrainingController
from tests.gui.test_canvas_images import image_dataset
from tests.gui.test_document_images import cnn
from tests.gui.test_plots import data


@pytest.fixture
def doc(qtbot):
    d = Document(Project(cnn(), image_dataset(),
                         TrainSettings(loss="cross_entropy", optimizer="adam", seed=3)))
    ctl = TrainingController(d)
    d.controller = ctl
    yield d
    ctl.shutdown()


def test_the_activation_pane_marks_every_map_value_of_a_convolution(qtbot, doc):
    pane = ActivationPane(doc, doc.controller)
    qtbot.addWidget(pane)
    doc.set_selection(["conv"])
    pane.refresh_now()
    maps = doc.evaluation().maps["conv"]
    z, a = data(pane.marks)
    assert np.array_equal(z, maps.z.ravel()) and np.array_equal(a, maps.a.ravel())
    zs, _ = data(pane.sample_mark)
    assert np.array_equal(zs, maps.z[0].ravel())
    assert "filters (convolution) · ReLU" in pane.info.text()
    assert pane.table["map"].size == z.size
    # filter 1 (the diagonal, bias −1) on the X image: the pane names nothing dead while
    # some position fires; make every value negative and it says so
    doc.set_param("conv[1].b", -10.0)
    pane.refresh_now()
    assert "filter 1 is dead" in pane.warning.text()


def test_the_gradients_pane_has_an_entry_for_the_convolution(qtbot, doc):
    pane = GradientsPane(doc, doc.controller)
    qtbot.addWidget(pane)
    ctl = doc.controller
    for _ in range(3):
        ctl.step_epoch()
    pane.refresh_now()
    assert any("convolution" in name for name in pane.names)

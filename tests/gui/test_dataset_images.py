"""The Dataset panel with images: one thumbnail column per image, image generators at the
network's side, CSV of image rows read as the network's image."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from nnstudio.core import datasets
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.dataset_panel import DatasetPanel
from nnstudio.gui.document import Document
from tests.gui.test_document_images import cnn


@pytest.fixture
def panel(qtbot):
    ds = datasets.generate("o_vs_x", size=8)
    doc = Document(Project(cnn(), ds, TrainSettings(loss="cross_entropy")))
    p = DatasetPanel(doc)
    qtbot.addWidget(p)
    return p


def test_an_image_is_one_column_of_thumbnails(panel):
    m, ds = panel.model, panel.document.dataset
    assert m.columnCount() == 1 + ds.n_targets               # the image, then O and X
    assert m.headerData(0, Qt.Horizontal) == "pixels (1 × 6 × 6)"
    assert isinstance(m.data(m.index(0, 0), Qt.DecorationRole), QPixmap)
    assert "paint it in the Drawing panel" in m.data(m.index(0, 0), Qt.ToolTipRole)
    assert not m.flags(m.index(0, 0)) & Qt.ItemIsEditable
    assert not m.setData(m.index(0, 0), "1")                  # nothing to type into
    assert float(m.data(m.index(0, 1))) == ds.Y[0, 0]
    assert "image 'pixels' 1 × 6 × 6" in panel.info.text()


def test_an_image_generator_makes_images_of_the_networks_side(panel):
    doc = panel.document
    doc.update_image_layer("image", shape=[1, 8, 8])
    panel.generator.setCurrentIndex(panel.generator.findData("strokes"))
    assert panel.side.isVisibleTo(panel) and panel.side.value() == 8
    assert panel.generate()
    assert doc.dataset.images[0].shape == (1, 8, 8)
    panel.generator.setCurrentIndex(panel.generator.findData("xor"))
    assert not panel.side.isVisibleTo(panel)


def test_a_csv_of_image_rows_is_read_as_the_networks_image(panel, tmp_path):
    doc = panel.document
    path = tmp_path / "images.csv"
    datasets.write_csv(doc.dataset, path)
    before = doc.dataset.X.copy()
    doc.set_dataset(datasets.generate("xor"))
    assert panel.import_csv(path)
    assert doc.dataset.images[0].shape == (1, 6, 6)
    assert np.array_equal(doc.dataset.X, before)

"""The inspector for image layers: settings rows, parameter counts, the network summary's dense
comparison, and the filter grid (a cell typed or dragged is one undo step; a lock per filter)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnstudio.core.network import FEATURE_ROLE
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.document import Document
from nnstudio.gui.inspector import Inspector, _parse_shape
from tests.gui.test_canvas_images import image_dataset
from tests.gui.test_document_images import cnn
from tests.gui.test_editor import type_into


@pytest.fixture
def inspector(qtbot):
    doc = Document(Project(cnn(), image_dataset(), TrainSettings(seed=3)))
    ins = Inspector(doc)
    qtbot.addWidget(ins)
    ins.resize(420, 900)
    ins.show()
    qtbot.waitExposed(ins)
    return ins


def settle(qtbot, ins):
    """Let the inspector's coalesced refresh (a zero-time timer) run."""
    QApplication.processEvents()
    QApplication.processEvents()


def test_a_filter_cell_typed_is_one_step_and_undo_restores_it(qtbot, inspector):
    doc = inspector.doc
    net = doc.network
    doc.set_selection(["conv"])
    settle(qtbot, inspector)
    grid = inspector.filter_grid
    assert inspector.filters_box.isVisible()
    cell = grid.cells[1][1]
    assert float(cell.text()) == 1.0                    # the curve filter's centre
    type_into(qtbot, cell, "0.25")
    assert net.filter_values("conv")[0][0, 0, 1, 1] == 0.25
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == \
        "Set weight [0][1][1] of filter 0 of convolution 'filters' = 0.25"
    doc.undo_stack.undo()
    assert net.filter_values("conv")[0][0, 0, 1, 1] == 1.0
    settle(qtbot, inspector)
    assert float(cell.text()) == 1.0
    # not a number: refused in place, nothing applied
    type_into(qtbot, cell, "one")
    assert net.filter_values("conv")[0][0, 0, 1, 1] == 1.0
    assert doc.undo_stack.count() == 1 and doc.undo_stack.index() == 0
    assert "not a number" in inspector.error.text()


def test_a_dragged_cell_is_one_undo_step(qtbot, inspector):
    doc = inspector.doc
    net = doc.network
    doc.set_selection(["conv"])
    settle(qtbot, inspector)
    grid = inspector.filter_grid
    grid.choose_filter(1)
    cell = grid.cells[0][2]
    before = net.filter_values("conv")[0][1, 0, 0, 2]
    c = cell.rect().center()
    QTest.mousePress(cell, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, c)
    for dy in (5, 10, 20, 30):
        QTest.mouseMove(cell, c - QPoint(0, dy))
    QTest.mouseRelease(cell, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       c - QPoint(0, 30))
    assert net.filter_values("conv")[0][1, 0, 0, 2] == pytest.approx(before + 0.30)
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert net.filter_values("conv")[0][1, 0, 0, 2] == before


def test_a_filter_is_locked_as_a_whole(qtbot, inspector):
    doc = inspector.doc
    doc.set_selection(["conv"])
    settle(qtbot, inspector)
    grid = inspector.filter_grid
    grid.choose_filter(1)
    grid.lock.click()
    assert doc.network.filter_trainable("conv").tolist() == [True, False]
    doc.undo_stack.undo()
    settle(qtbot, inspector)
    assert not grid.lock.isChecked()


def test_layer_rows_edit_settings_and_refuse_what_does_not_fit(qtbot, inspector):
    doc = inspector.doc
    net = doc.network
    doc.set_selection(["conv"])
    settle(qtbot, inspector)
    group = inspector.layers
    assert group.editors["layer_params"].widget.text() == "2 filters × (9 + 1) = 20 parameters"
    assert group.editors["output"].widget.text() == "2 maps of 4 × 4"
    group.editors["filters"].widget.setValue(3)
    assert net.image_layer("conv").filters == 3
    settle(qtbot, inspector)
    assert group.editors["layer_params"].widget.text() == "3 filters × (9 + 1) = 30 parameters"
    assert inspector.filter_grid.filter_box.count() == 3
    box = group.editors["stride"].widget
    box.activated.emit(box.findData(2))                  # 4 × 4 maps: stride 2 leaves a row
    assert net.image_layer("conv").stride == 1
    assert "stride 2 does not fit" in inspector.error.text()
    doc.set_selection(["image"])
    settle(qtbot, inspector)
    assert "3,600 weights" in group.editors["layer_params"].widget.text()
    type_into(qtbot, group.editors["shape"].widget, "8x8")
    assert net.image_layer("image").shape == (1, 8, 8)
    assert inspector.error.isHidden()


def test_the_summary_counts_parameters_by_kind_and_the_dense_alternative(qtbot, inspector):
    doc = inspector.doc
    doc.set_selection([])
    settle(qtbot, inspector)
    labels = inspector.summary.labels
    assert labels["neurons"].text() == "10  (0 in · 0 hidden · 2 out · 8 feature)"
    assert labels["image_layers"].text() == \
        "image 1 × 6 × 6 → conv 2 × 3×3 → max pool 2×2 → flatten 8"
    assert labels["by_kind"].text() == "filters 20 · weights 16 · biases 2"
    assert labels["dense"].text() == \
        "36 pixels × 100 neurons = 3,600 weights, against the filters' 20 parameters"


def test_a_feature_neuron_shows_what_it_holds_and_no_bias(qtbot, inspector):
    doc = inspector.doc
    fid = doc.network.feature_neurons("flat")[3]
    assert doc.network.neurons[fid].role == FEATURE_ROLE
    doc.set_selection([fid])
    settle(qtbot, inspector)
    group = inspector.neurons
    visible = [f.key for row, f in enumerate(group.fields) if group.form.isRowVisible(row)]
    assert "bias" not in visible and "role" not in visible and "activation" not in visible
    assert group.editors["feature"].widget.text() == "map 0 [1][1] of flatten 'flat'"
    assert "feature neuron" in inspector.title.text()


def test_image_shapes_are_read_as_people_write_them():
    assert _parse_shape("1 × 6 × 6") == [1, 6, 6]
    assert _parse_shape("28x28") == [1, 28, 28]
    assert _parse_shape("3, 32, 32") == [3, 32, 32]
    with pytest.raises(ValueError, match="not an image shape"):
        _parse_shape("six by six")

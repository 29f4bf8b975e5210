"""The backprop player through a convolution (pytest-qt): the sliding window on the canvas and
the dot product written out, a click on a map cell (or the position row) opening that
position, pooling winners, a filter weight's gradient summed over its positions, and the
filter update written into the network."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnstudio import paths
from nnstudio.core import project
from nnstudio.gui.backprop import BackpropPanel
from nnstudio.gui.canvas.view import CanvasView
from nnstudio.gui.document import Document

CNN = paths.SAMPLES / "cnn-o-vs-x.nnproj"


@pytest.fixture
def setup(qtbot):
    doc = Document(project.load(CNN), CNN)
    view = CanvasView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    view.fit()
    panel = BackpropPanel(doc)
    panel.player.set_scene(view.scene())
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    QApplication.processEvents()
    yield doc, view, panel, panel.player
    panel.player.deactivate()


def go(player, kind, layer, m=0):
    for s in player.trace.steps:
        if s.kind == kind and s.layer == layer and s.map == m:
            player.go_to(s.index)
            return s
    raise AssertionError((kind, layer, m))


def click_cell(view, lid, key, r, c):
    item = view.scene().item_for(lid)
    rect = item.grid_index[key].cell_rect(r, c)
    pos = view.mapFromScene(item.mapToScene(rect.center()))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     pos)


def test_the_filter_slides_and_a_clicked_cell_writes_its_dot_product(setup):
    doc, view, panel, p = setup
    doc.set_sample(3)
    assert p.start()
    go(p, "conv_map", "filters", 0)
    assert doc.sample_index == 0   # the cards draw the sample whose numbers are written out
    ov = view.scene().overlay
    assert ov.layers == {"filters"}
    assert ov.layer_cells["image"] == {("pixels", 0): [(0, 0, 3, 3)]}
    assert ov.layer_cells["filters"][("map", 0)] == [(0, 0, 1, 1)]
    assert ov.layer_text == {"filters": "map 0 [0][0] = 3"}
    formula = panel.formula_label.text()
    assert "map[0][0] = 0 \u00d7 0 + 0 \u00d7 0 + 1 \u00d7 1" in formula and "= 3" in formula
    assert panel.position_row.isVisibleTo(panel) and not panel.summary_button.isEnabled()
    # a click on cell (2, 1) of map 0 opens that position: its window, its dot product
    click_cell(view, "filters", ("map", 0), 2, 1)
    assert p.position is not None and (p.position.row, p.position.col) == (2, 1)
    ov = view.scene().overlay
    assert ov.layer_cells["image"] == {("pixels", 0): [(2, 1, 5, 4)]}
    assert ov.layer_cells["filters"][("map", 0)] == [(2, 1, 3, 2)]
    z = p.trace.evaluation.maps["filters"].z[0, 0, 2, 1]
    assert panel.formula_label.text().startswith("map[2][1] = ")
    assert ov.layer_text["filters"].startswith("map 0 [2][1] = ")
    assert float(ov.layer_text["filters"].split(" = ")[1].replace("\u2212", "-")) == \
        pytest.approx(z, rel=0.01)
    assert panel.position_spins["row"].value() == 2 and panel.summary_button.isEnabled()
    # a click on another map's cell is not this step's position: nothing changes
    click_cell(view, "filters", ("map", 1), 0, 0)
    assert (p.position.row, p.position.col) == (2, 1)
    panel.summary_button.click()
    assert p.position is None and "map[0][0]" in panel.formula_label.text()
    # the next step closes the position
    click_cell(view, "filters", ("map", 0), 3, 3)
    p.next()
    assert p.position is None


def test_pooling_names_its_winners_and_opens_a_window(setup):
    doc, view, panel, p = setup
    p.start()
    step = go(p, "pool_map", "pool", 1)
    ov = view.scene().overlay
    assert ov.layer_cells["pool"] == {("map", 1): [(0, 0, 2, 2)]}
    winners = ov.layer_cells["filters"][("map", 1)]
    assert winners == [(r, c, r + 1, c + 1) for r, c in step.cells] and len(winners) == 4
    # the position row opens window (1, 0): the window on the map and its winner
    panel.position_spins["row"].setValue(1)
    assert (p.position.row, p.position.col) == (1, 0)
    cells = view.scene().overlay.layer_cells["filters"][("map", 1)]
    assert cells[0] == (2, 0, 4, 2) and len(cells) == 2
    assert panel.formula_label.text().startswith("window (1, 0) = rows 2\u20133, columns 0\u20131")


def test_a_filter_weights_gradient_sums_over_its_positions(setup):
    doc, view, panel, p = setup
    p.start()
    go(p, "filter_grad", "filters", 0)
    assert panel.formula_label.text().startswith("dL/dfilter[0][0] = \u03a3 over positions")
    click_cell(view, "filters", ("filter", 0, 0), 1, 2)
    assert (p.position.row, p.position.col, p.position.channel) == (1, 2, 0)
    ov = view.scene().overlay
    # weight [1][2] lies on rows 1-4 and columns 2-5 of the 6 x 6 image, one position each
    assert ov.layer_cells["image"] == {("pixels", 0): [(1, 2, 5, 6)]}
    assert ov.layer_cells["filters"][("filter", 0, 0)] == [(1, 2, 2, 3)]
    g = p.trace.grads["filters[0].w[0,1,2]"]
    assert panel.formula_label.text().startswith("dL/dfilter[1][2] = ")
    assert float(ov.layer_text["filters"].split(" = ")[1].replace("\u2212", "-")) == \
        pytest.approx(g, rel=0.01)   # (a badge rounds)


def test_the_filter_update_is_written_into_the_network(setup):
    doc, view, panel, p = setup
    p.start()
    before = doc.network.filter_values("filters")[0].copy()
    go(p, "filter_update", "filters", 0)
    tr = p.trace
    pids = doc.network.filter_param_ids("filters", 0)
    assert [doc.network.get_param(q) for q in pids] == [tr.new_params[q] for q in pids]
    assert view.scene().overlay.layer_cells["filters"] == {("filter", 0, 0): [(0, 0, 3, 3)]}
    assert not panel.position_row.isVisibleTo(panel)
    p.deactivate()
    doc.undo_stack.undo()
    assert np.array_equal(doc.network.filter_values("filters")[0], before)


def test_an_image_sample_is_named_by_its_shape(setup):
    doc, view, panel, p = setup
    assert panel.sample_combo.itemText(1) == "Sample 0: pixels 1 \u00d7 6 \u00d7 6 \u2192 1, 0"


def test_the_forward_pass_draws_each_map_once_it_is_computed(setup):
    doc, view, panel, p = setup
    p.start()
    p.go_to(0)                      # the image: no map computed yet
    item = view.scene().overlay_item
    ov = view.scene().overlay
    assert set(ov.layer_values) == {"filters", "pool"}
    assert all(v is None for grids in ov.layer_values.values() for v in grids.values())
    assert [image for _, image in item.grid_values] == [None] * 4
    go(p, "conv_map", "filters", 0)  # filter 0 slid: map 0 (before ReLU), the rest blank
    ov = view.scene().overlay
    z = p.trace.evaluation.maps["filters"].z[0, 0]
    assert np.array_equal(ov.layer_values["filters"][("map", 0)], z)
    assert ov.layer_values["filters"][("map", 1)] is None
    assert ov.layer_values["pool"] == {("map", 0): None, ("map", 1): None}
    grid = view.scene().item_for("filters").grid_index[("map", 0)]
    where, image = item.grid_values[0]
    assert image is not None and (image.width(), image.height()) == (grid.cols, grid.rows)
    go(p, "pool_map", "pool", 1)     # every map known by the last pooling step
    ov = view.scene().overlay
    a = p.trace.evaluation.maps["pool"].a[0, 1]
    assert np.array_equal(ov.layer_values["pool"][("map", 1)], a)
    p.go_to(p.trace.phase_start("backward"))   # after the forward pass: the cards' own maps
    assert view.scene().overlay.layer_values == {}

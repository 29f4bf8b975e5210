"""Image layers on the canvas: palette drops, cards that follow the model, links dragged
between layers, moves, and the cells a map cell reads."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.datasets import Dataset
from nnstudio.core.network import FEATURE_ROLE, Network, filter_pid
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.canvas.image_items import LayerItem
from nnstudio.gui.canvas.palette import LAYER_MIME, Palette
from nnstudio.gui.canvas.view import CanvasView
from nnstudio.gui.document import Document
from tests.gui.test_canvas import drag, drop, vp
from tests.gui.test_document_images import cnn

RING = np.array([[0, 0, 1, 1, 0, 0], [0, 1, 0, 0, 1, 0], [1, 0, 0, 0, 0, 1],
                 [1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 0]], dtype=float)


def image_dataset() -> Dataset:
    X = np.stack([RING.ravel(), (np.eye(6) + np.eye(6)[::-1]).ravel()])
    names = [f"pixels[0,{r},{c}]" for r in range(6) for c in range(6)]
    return Dataset(names, ["O", "X"], X, np.eye(2))


def make_view(qtbot, doc: Document) -> CanvasView:
    v = CanvasView(doc)
    qtbot.addWidget(v)
    v.resize(1000, 700)
    v.show()
    qtbot.waitExposed(v)
    v.resetTransform()
    v.centerOn(300, 0)
    QApplication.processEvents()
    return v


@pytest.fixture
def empty(qtbot):
    doc = Document(Project(Network(), image_dataset(), TrainSettings(seed=3)))
    return make_view(qtbot, doc)


@pytest.fixture
def view(qtbot):
    doc = Document(Project(cnn(), image_dataset(), TrainSettings(seed=3)))
    return make_view(qtbot, doc)


def test_a_convolution_dropped_from_the_palette_is_added_and_undone(qtbot, empty):
    view = empty
    doc = view.document
    palette = Palette(doc)
    qtbot.addWidget(palette)
    assert drop(view, palette.mime_data("image_input"), vp(view, 0, 0))
    assert drop(view, palette.mime_data("convolution"), vp(view, 220, 0))
    net = doc.network
    assert list(net.image_layers) == ["image1", "conv1"]
    # dropped to the right of the selected image input: it takes the image as its source
    assert net.image_layer("conv1").source == "image1"
    assert doc.selection == ("conv1",)
    item = view.scene().item_for("conv1")
    assert isinstance(item, LayerItem) and item.isSelected()
    assert [g.key for g in item.grids] == [("filter", 0, 0), ("map", 0), ("filter", 1, 0),
                                           ("map", 1)]
    assert (item.grids[1].rows, item.grids[1].cols) == (4, 4)
    assert doc.undo_stack.undoText() == "Add convolution conv1"
    doc.undo_stack.undo()
    QApplication.processEvents()
    assert "conv1" not in net.image_layers and view.scene().item_for("conv1") is None
    # a kind the palette does not offer is not dropped
    from PySide6.QtCore import QByteArray, QMimeData
    bogus = QMimeData()
    bogus.setData(LAYER_MIME, QByteArray(b"dense"))
    assert not drop(view, bogus, vp(view, 300, 0))
    assert list(net.image_layers) == ["image1"]


def test_cards_follow_the_model(view):
    doc, scene = view.document, view.scene()
    net = doc.network
    assert set(scene.item_for_layer) == {"image", "conv", "pool", "flat"}
    conv = scene.item_for("conv")
    w, _ = net.filter_values("conv")
    assert np.array_equal(conv.values[("filter", 0, 0)], w[0, 0])
    doc.set_param("conv[0].w[0,1,1]", -0.5)
    assert conv.values[("filter", 0, 0)][1, 1] == -0.5          # the grid follows the store
    image = scene.item_for("image")
    assert np.array_equal(image.values[("pixels", 0)], RING)    # the chosen sample's pixels
    doc.set_sample(1)
    QApplication.processEvents()
    assert image.values[("pixels", 0)][0, 0] == 1.0
    doc.update_image_layer("pool", window=1, stride=1)
    QApplication.processEvents()
    pool = scene.item_for("pool")
    assert [(g.rows, g.cols) for g in pool.grids] == [(4, 4), (4, 4)]
    features = [scene.item_for(f) for f in net.feature_neurons("flat")]
    assert len(features) == 32 and all(f.role == FEATURE_ROLE for f in features)
    doc.set_label("conv", "curves")
    QApplication.processEvents()
    assert conv.title == "curves"
    assert len(scene.layer_links.lines) == 3


def test_dragging_a_card_moves_the_layer_and_its_feature_neurons_in_one_step(view):
    doc, scene = view.document, view.scene()
    net = doc.network
    flat = scene.item_for("flat")
    top = flat.mapToScene(flat.card_rect().topLeft()) + QPointF(20, 8)
    ys = [net.neurons[f].y for f in net.feature_neurons("flat")]
    count = doc.undo_stack.count()
    drag(view, vp(view, top.x(), top.y()), vp(view, top.x() + 60, top.y() + 40))
    assert doc.undo_stack.count() == count + 1
    layer = net.image_layer("flat")
    assert (layer.x, layer.y) == pytest.approx((620.0, 40.0), abs=1.0)
    assert [net.neurons[f].y for f in net.feature_neurons("flat")] == \
        pytest.approx([y + 40 for y in ys], abs=1.0)
    doc.undo_stack.undo()
    assert net.image_layer("flat").x == 560.0


def test_a_link_is_dragged_from_a_layer_port_to_the_next_layer(view):
    doc, scene = view.document, view.scene()
    net = doc.network
    doc.set_layer_source("pool", None)
    QApplication.processEvents()
    assert net.feature_neurons("flat") == []
    conv, pool = scene.item_for("conv"), scene.item_for("pool")
    start = conv.port_scene_pos()
    end = pool.mapToScene(pool.card_rect().center())
    drag(view, vp(view, start.x(), start.y()), vp(view, end.x(), end.y()))
    assert net.image_layer("pool").source == "conv"
    assert len(net.feature_neurons("flat")) == 8
    assert doc.undo_stack.undoText() == "Connect filters → pool"
    # from a layer's port to a neuron: refused, the status bar says why
    messages = []
    doc.statusMessage.connect(lambda text, ms: messages.append(text))
    start = pool.port_scene_pos()
    drag(view, vp(view, start.x(), start.y()), vp(view, 700, 0))
    assert any("Flatten first" in m for m in messages)
    assert not any(c.source == "pool" for c in net.connections.values())


def test_a_map_cell_marks_its_receptive_field_and_a_pooled_cell_its_window(view):
    scene = view.scene()
    conv, image, pool = (scene.item_for(i) for i in ("conv", "image", "pool"))
    scene.hover_cell("conv", (("map", 1), 2, 1))
    assert image.marks == {("pixels", 0): [(2, 1, 5, 4)]}
    assert conv.focus == (("map", 1), 2, 1)
    assert set(conv.marks) == {("filter", 1, 0)}
    scene.focus_cell("pool", (("map", 0), 1, 1))
    assert conv.marks == {("map", 0): [(2, 2, 4, 4)]}
    assert image.marks == {}
    scene.hover_cell("conv", (("map", 0), 0, 0))   # pinned: the click's cell stays
    assert scene.focus == ("pool", (("map", 0), 1, 1))
    scene.focus_cell(None, None)
    assert scene.focus is None and conv.marks == {}


def test_the_overlay_halos_layer_cards_and_outlines_cells(view):
    from nnstudio.gui.canvas.overlay import Overlay

    scene = view.scene()
    conv, image = scene.item_for("conv"), scene.item_for("image")
    scene.set_overlay(Overlay(layers={"conv"}, layer_text={"conv": "map 0 [0][0] = 3"},
                              layer_cells={"image": {("pixels", 0): [(0, 0, 3, 3)]},
                                           "conv": {("map", 0): [(0, 0, 1, 1)]}}))
    item = scene.overlay_item
    assert item.isVisible()
    assert item.halo_cards == (conv.mapToScene(conv.card_rect()).boundingRect(),)
    grid = image.grid_index[("pixels", 0)]
    assert item.cells[0] == image.mapToScene(grid.cell_rect(0, 0, 3, 3)).boundingRect()
    assert [text for _, text in item.badges] == ["map 0 [0][0] = 3"]
    scene.set_overlay(None)
    assert not item.isVisible()


def test_a_focused_map_cell_writes_its_dot_product_under_its_card(qtbot):
    doc = Document(project.load(paths.SAMPLES / "cnn-o-vs-x.nnproj"))
    view = make_view(qtbot, doc)
    scene = view.scene()
    QApplication.processEvents()
    assert doc.sample_index == 0
    caption = scene.cell_caption
    assert not caption.isVisible()
    conv = scene.item_for("filters")
    scene.focus_cell("filters", (("map", 0), 0, 0))
    assert caption.isVisible()
    assert caption.lines[0] == ("map 0 [0][0] = 0×0 + 0×0 + 1×1 + 0×0 + 1×1 + 0×0 + 1×1 + 0×0"
                                " + 0×0 + b = 3 + 0 = 3")
    assert caption.lines[-1].startswith("dL/dz = ")
    card = conv.mapToScene(conv.card_rect()).boundingRect()
    assert caption.sceneBoundingRect().top() > card.bottom()
    # the numbers follow the model: the filter's bias edited, the caption says so
    doc.set_param(filter_pid("filters", 0), 0.5)
    qtbot.waitUntil(lambda: caption.lines[0].endswith("+ b = 3 + 0.5 = 3.5"))
    scene.focus_cell("pool", (("map", 0), 0, 0))
    assert caption.lines[0].startswith("max of rows 0–1, columns 0–1 of map 0 = 3.5")
    scene.focus_cell(None, None)
    assert not caption.isVisible() and caption.lines == ()

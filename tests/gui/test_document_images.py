"""Image layers through the document: every edit (add, connect, settings, move, rename, delete,
paste, filter cells and locks) is one undo step, a refusal changes nothing, and undo puts the
layers, their feature neurons and the connections from them back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core import datasets
from nnstudio.core.network import FEATURE_ROLE, Network, NetworkError, filter_pid
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.clipboard import ClipboardController
from nnstudio.gui.document import Document

CURVE = [[[0, 0, 1], [0, 1, 0], [1, 0, 0]]]
DIAGONAL = [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]


def cnn() -> Network:
    """image (1 × 6 × 6) → conv (2 filters 3 × 3) → pool 2 × 2 → flat (8) → 2 outputs."""
    net = Network()
    net.add_neuron("output", id="o", label="O", activation="softmax", x=700)
    net.add_neuron("output", id="x", label="X", activation="softmax", x=700, y=90)
    net.add_image_layer_dicts([
        {"id": "image", "kind": "image_input", "shape": [1, 6, 6]},
        {"id": "conv", "kind": "convolution", "label": "filters", "source": "image",
         "filters": [{"weights": CURVE, "bias": 0.0}, {"weights": DIAGONAL, "bias": -1.0}],
         "x": 200.0},
        {"id": "pool", "kind": "pooling", "source": "conv", "x": 400.0},
        {"id": "flat", "kind": "flatten", "source": "pool", "x": 560.0},
    ])
    net.connect_fully(net.feature_neurons("flat"), ["o", "x"], seed=1)
    return net


@pytest.fixture
def doc(qtbot):
    d = Document(Project(cnn(), datasets.generate("xor"), TrainSettings(seed=3)))
    yield d
    d.deleteLater()


def snapshot(net: Network):
    return net.to_dict(), list(net.neurons), net.store.values[net.param_slots()].tolist()


def undo_all_and_redo(doc: Document, before, after) -> None:
    """Undo back to ``before``, redo forward to ``after``: both exactly."""
    stack = doc.undo_stack
    while stack.canUndo():
        stack.undo()
    assert snapshot(doc.network)[:1] == before[:1]
    assert snapshot(doc.network)[2] == before[2]
    while stack.canRedo():
        stack.redo()
    assert snapshot(doc.network)[0] == after[0]


def test_a_chain_built_from_the_palette_is_one_step_per_edit(qtbot):
    doc = Document(Project(Network(), datasets.generate("xor"), TrainSettings(seed=3)))
    before = snapshot(doc.network)
    image = doc.add_image_layer("image_input", 0, 0)
    conv = doc.add_image_layer("convolution", 200, 0)
    pool = doc.add_image_layer("pooling", 400, 0)
    flat = doc.add_image_layer("flatten", 560, 0)
    assert (image, conv, pool, flat) == ("image1", "conv1", "pool1", "flat1")
    assert doc.undo_stack.undoText() == "Add flatten flat1"
    net = doc.network
    assert net.feature_neurons(flat) == []          # not connected yet: no shape
    doc.connect(image, conv)
    doc.connect(conv, pool)
    doc.connect(pool, flat)
    assert doc.undo_stack.count() == 7
    assert doc.undo_stack.undoText() == "Connect pool1 → flat1"
    assert len(net.feature_neurons(flat)) == 2 * 2 * 2
    # the filters were drawn with the project's seed and initialisation
    expected = Network().image_layer_dict("convolution", id="conv1", label="conv1", x=200,
                                          y=0, seed=3, init="xavier")
    assert net.image_layer_dict_of(conv)["filters"] == expected["filters"]
    after = snapshot(net)
    undo_all_and_redo(doc, before, after)
    doc.deleteLater()


def test_connecting_maps_of_another_depth_gives_new_filters_and_says_so(doc, qtbot):
    net = doc.network
    # three channels into one-channel filters: refused while the convolution is connected
    with pytest.raises(NetworkError, match="1 channel deep"):
        doc.update_image_layer("image", shape=[3, 6, 6])
    assert net.image_layer("image").shape == (1, 6, 6)
    doc.set_layer_source("conv", None)
    doc.update_image_layer("image", shape=[3, 6, 6])
    messages = []
    doc.statusMessage.connect(lambda text, ms: messages.append(text))
    doc.connect("image", "conv")
    assert net.image_layer("conv").channels == 3
    assert "new filters, 3 channels deep" in messages[-1]
    doc.undo_stack.undo()
    assert net.image_layer("conv").source is None
    assert net.image_layer("conv").channels == 1


def test_a_refused_layer_edit_changes_nothing(doc):
    net = doc.network
    before = snapshot(net)
    count = doc.undo_stack.count()
    with pytest.raises(NetworkError, match="kernel"):
        doc.update_image_layer("conv", kernel=7)
    with pytest.raises(NetworkError, match="stride 2 does not fit"):
        doc.update_image_layer("conv", stride=2)
    with pytest.raises(NetworkError, match="Flatten first"):
        doc.connect("pool", "o")
    with pytest.raises(NetworkError, match="already takes its input"):
        doc.connect("image", "pool")
    with pytest.raises(NetworkError, match="takes feature maps"):
        doc.check_connect("o", "conv")
    with pytest.raises(NetworkError, match="feature neuron"):
        doc.connect("o", "flat.0")
    with pytest.raises(NetworkError, match="delete the flatten layer"):
        doc.remove(["flat.0", "flat.1"])
    with pytest.raises(NetworkError, match="label"):
        doc.set_label("conv", "   ")
    assert snapshot(net) == before
    assert doc.undo_stack.count() == count


def test_a_settings_change_that_resizes_the_flatten_is_undone_with_its_connections(doc):
    net = doc.network
    before = snapshot(net)
    doc.update_image_layer("pool", window=1, stride=1)
    assert len(net.feature_neurons("flat")) == 2 * 4 * 4
    assert doc.undo_stack.undoText() == "Set window, stride of pool"
    # the connections from the feature neurons that went come back in their places
    doc.undo_stack.undo()
    assert snapshot(net) == before
    doc.update_image_layer("conv", filters=3)
    assert net.image_layer("conv").filters == 3
    # the first filters are kept
    w, b = net.filter_values("conv")
    assert w[0].tolist() == CURVE and w[1].tolist() == DIAGONAL and b[1] == -1.0
    doc.undo_stack.undo()
    assert snapshot(net) == before


def test_deleting_a_layer_takes_its_feature_neurons_and_undo_restores_all(doc):
    net = doc.network
    before = snapshot(net)
    doc.remove(["pool", "o", "flat.3"])   # a feature neuron is deleted only with its flatten
    assert doc.undo_stack.undoText() == "Delete 1 neuron and 1 layer"
    assert "pool" not in net.image_layers and "o" not in net.neurons
    assert net.image_layer("flat").source is None
    assert net.feature_neurons("flat") == []
    assert not any(n.role == FEATURE_ROLE for n in net.neurons.values())
    doc.undo_stack.undo()
    assert snapshot(net) == before
    doc.undo_stack.redo()
    doc.undo_stack.undo()
    assert snapshot(net) == before


def test_moving_layers_and_neurons_is_one_step_and_feature_neurons_follow(doc):
    net = doc.network
    ys = [net.neurons[f].y for f in net.feature_neurons("flat")]
    doc.move_items({"flat": (600.0, 50.0), "o": (800.0, 0.0), "flat.2": (0.0, 0.0)})
    assert doc.undo_stack.undoText() == "Move 2 items"
    assert (net.image_layer("flat").x, net.image_layer("flat").y) == (600.0, 50.0)
    assert [net.neurons[f].y for f in net.feature_neurons("flat")] == [y + 50.0 for y in ys]
    assert {net.neurons[f].x for f in net.feature_neurons("flat")} == {600.0}
    doc.undo_stack.undo()
    assert [net.neurons[f].y for f in net.feature_neurons("flat")] == ys
    assert net.image_layer("flat").x == 560.0 and net.neurons["o"].x == 700.0


def test_renaming_a_layer(doc):
    doc.set_label("conv", "curves and diagonals")
    assert doc.network.image_layer("conv").label == "curves and diagonals"
    assert doc.undo_stack.undoText() == "Rename filters to curves and diagonals"
    doc.undo_stack.undo()
    assert doc.network.image_layer("conv").label == "filters"


def test_a_filter_cell_and_a_filter_lock_are_parameter_edits(doc):
    net = doc.network
    pid = filter_pid("conv", 0, 0, 1, 1)
    doc.set_param(pid, 0.25)
    assert net.filter_values("conv")[0][0, 0, 1, 1] == 0.25
    doc.undo_stack.undo()
    assert net.filter_values("conv")[0][0, 0, 1, 1] == 1.0
    doc.set_trainable([filter_pid("conv", 1)], False)
    assert net.filter_trainable("conv").tolist() == [True, False]
    doc.undo_stack.undo()
    assert net.filter_trainable("conv").tolist() == [True, True]


def test_randomize_and_its_undo_cover_the_filters(doc):
    net = doc.network
    before = net.filter_values("conv")[0].copy()
    doc.randomize(seed=9)
    assert not np.array_equal(net.filter_values("conv")[0], before)
    doc.undo_stack.undo()
    assert np.array_equal(net.filter_values("conv")[0], before)


def test_a_state_edit_on_a_cnn_keeps_the_layers(doc):
    """A dense layer after the flatten is a whole-network state edit: its undo leaves the
    image layers and the feature neurons' connections as they were."""
    net = doc.network
    before = snapshot(net)
    doc.add_dense_layer(0, 3, "relu")
    assert net.image_layer_dicts() == before[0]["image_layers"]
    doc.undo_stack.undo()
    assert snapshot(net)[0] == before[0]


def test_copy_and_paste_a_chain_remaps_layers_and_feature_neurons(doc, qtbot):
    net = doc.network
    clip = ClipboardController(doc)
    doc.set_selection(["image", "conv", "pool", "flat", "o", "x", "flat.0"])
    frag = clip.fragment()
    assert [d["id"] for d in frag["image_layers"]] == ["image", "conv", "pool", "flat"]
    assert [d["id"] for d in frag["neurons"]] == ["o", "x"]       # feature neurons: with flat
    assert len(frag["connections"]) == 8 * 2
    before = snapshot(net)
    new = clip.duplicate()
    assert new[:4] == ["image1", "conv1", "pool1", "flat1"]
    assert net.image_layer("conv1").source == "image1"
    assert net.image_layer("flat1").source == "pool1"
    assert net.image_layer("conv1").label == "filters"            # a real name is kept
    assert len(net.feature_neurons("flat1")) == 8
    pasted = [net.connections[c] for c in new if c in net.connections]
    assert len(pasted) == 16
    assert {c.source for c in pasted} == set(net.feature_neurons("flat1"))
    assert np.array_equal(net.filter_values("conv1")[0], net.filter_values("conv")[0])
    assert doc.undo_stack.undoText() == "Paste 2 neurons and 4 layers"
    assert doc.selection == tuple(new)
    doc.undo_stack.undo()
    assert snapshot(net) == before


def test_pasting_a_layer_alone_drops_its_source(doc):
    doc.set_selection(["pool"])
    new = ClipboardController(doc).duplicate()
    assert new == ["pool1"]
    assert doc.network.image_layer("pool1").source is None
    assert doc.undo_stack.undoText() == "Paste 1 layer"


def test_auto_layout_places_layers_and_neurons_in_one_step(doc):
    net = doc.network
    doc.auto_layout()
    assert doc.undo_stack.undoText() == "Auto-layout"
    for lid, (x, y) in net.image_layout_positions().items():
        assert (net.image_layer(lid).x, net.image_layer(lid).y) == (x, y)


def o_vs_x_project(side: int = 6) -> Project:
    ds = datasets.generate("o_vs_x", size=8, side=side)
    return Project(cnn(), ds, TrainSettings(loss="cross_entropy", seed=3))


def test_a_cnn_projects_images_match_its_image_input_and_are_kept_when_fitting():
    from nnstudio.gui.files import dataset_mismatch, fit_dataset

    proj = o_vs_x_project()
    assert proj.dataset.images[0].shape == (1, 6, 6)
    assert dataset_mismatch(proj) is None
    proj.network.add_neuron("input", id="extra")     # a named input the data lacks
    assert "input column" in dataset_mismatch(proj)
    fitted = fit_dataset(proj.dataset, proj.network)
    assert fitted.images == proj.dataset.images
    assert np.array_equal(fitted.X[:, :36], proj.dataset.X)
    assert fitted.named_inputs == ["extra"] and not fitted.X[:, 36].any()
    other = o_vs_x_project(side=8)
    assert "images are 1 × 8 × 8 but the network's image inputs take 1 × 6 × 6" in \
        dataset_mismatch(other)
    with pytest.raises(ValueError, match="not the network's image inputs"):
        fit_dataset(other.dataset, other.network)


def test_dataset_edits_keep_the_images(qtbot):
    from nnstudio.gui.dataset_panel import add_rows, set_cell, set_pixels

    doc = Document(o_vs_x_project())
    images = doc.dataset.images
    set_cell(doc, 0, 3, 0.5)
    add_rows(doc, 0)
    set_pixels(doc, 1, 0, np.ones(36), text="Draw")
    assert doc.dataset.images == images
    assert doc.dataset.X[1].tolist() == [1.0] * 36
    doc.deleteLater()


def test_a_new_image_input_takes_the_datasets_image_shape(qtbot):
    doc = Document(Project(Network(), datasets.generate("strokes", size=8, side=9),
                           TrainSettings()))
    lid = doc.add_image_layer("image_input", 0, 0)
    assert doc.network.image_layer(lid).shape == (1, 9, 9)
    lid2 = doc.add_image_layer("image_input", 0, 200)   # no second image in the data
    assert doc.network.image_layer(lid2).shape == (1, 6, 6)
    doc.deleteLater()

"""Image layers in the network model: building, shapes, feature neurons, filter parameters,
the dict form, change notices, and every refusal (which must change nothing)."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core.network import (
    FEATURE_ROLE,
    STRUCTURAL,
    Network,
    NetworkError,
    NetworkEvent,
    filter_pid,
    parse_pid,
)

CURVE = [[[0, 0, 1], [0, 1, 0], [1, 0, 0]]]
DIAGONAL = [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]


def state(net: Network):
    """Everything a refused edit must leave untouched."""
    return (net.to_dict(), net.store.values.copy(), net.store.trainable.copy(),
            net.structure_version, net.param_version, list(net.neurons),
            {nid: (n.x, n.y, n.label) for nid, n in net.neurons.items()})


def same(a, b) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2]) \
        and a[3:] == b[3:]


def cnn(side: int = 6, pool: int = 2) -> Network:
    """image (1 × side × side) → conv (2 filters 3 × 3, ReLU) → pool → flat → 2 outputs."""
    net = Network()
    net.add_neuron("output", id="o", label="O", activation="softmax", x=700)
    net.add_neuron("output", id="x", label="X", activation="softmax", x=700, y=90)
    net.add_image_layer_dicts([
        {"id": "image", "kind": "image_input", "shape": [1, side, side]},
        {"id": "conv", "kind": "convolution", "label": "filters", "source": "image",
         "filters": [{"weights": CURVE, "bias": 0.0}, {"weights": DIAGONAL, "bias": -1.0}],
         "x": 200.0},
        {"id": "pool", "kind": "pooling", "label": "max pooling", "source": "conv",
         "window": pool, "x": 400.0},
        {"id": "flat", "kind": "flatten", "source": "pool", "x": 560.0, "y": 10.0},
    ])
    net.connect_fully(net.feature_neurons("flat"), ["o", "x"], seed=1)
    return net


@pytest.fixture
def net() -> Network:
    return cnn()


@pytest.fixture
def events(net):
    got = []
    net.subscribe(lambda event, ids: got.append((event, ids)))
    return got


# ---------------------------------------------------------------------- shapes and counts
def test_a_cnn_has_its_shapes_feature_neurons_and_parameters(net):
    shapes = net.image_shapes()
    assert shapes["image"] == (1, 6, 6)
    assert shapes["conv"].out_shape == (2, 4, 4)
    assert shapes["pool"].out_shape == (2, 2, 2)
    assert shapes["flat"].size == 8
    feats = net.feature_neurons("flat")
    assert feats == [f"flat.{k}" for k in range(8)]
    assert [net.neurons[f].label for f in feats[:3]] == ["map 0 [0][0]", "map 0 [0][1]",
                                                         "map 0 [1][0]"]
    assert net.neurons["flat.4"].label == "map 1 [0][0]"
    assert all(net.neurons[f].role == FEATURE_ROLE for f in feats)
    assert net.flatten_of("flat.3") == "flat" and net.flatten_of("o") is None
    # a column centred on the flatten
    ys = [net.neurons[f].y for f in feats]
    assert {net.neurons[f].x for f in feats} == {560.0}
    assert np.mean(ys) == pytest.approx(10.0) and np.diff(ys).min() == pytest.approx(60.0)
    # parameters: 2 filters × (9 + 1) and the dense head's 8 × 2 + 2
    assert net.layer_param_count("conv") == 20
    assert net.param_count() == 20 + 16 + 2
    ids = net.param_ids()
    assert len(ids) == len(set(ids)) == net.param_count() == len(net.param_slots())
    assert ids[-20:] == net.layer_param_ids("conv")
    assert net.layer_param_ids("conv")[:2] == ["conv[0].w[0,0,0]", "conv[0].w[0,0,1]"]
    assert net.filter_param_ids("conv", 1)[-1] == "conv[1].b"
    assert net.dense_equivalent("image", 100) == 3600
    assert net.image_input_columns() == 36
    assert net.image_depths() == {"image": 0, "conv": 1, "pool": 2, "flat": 3}


def test_filter_parameters_live_in_the_store(net):
    w, b = net.filter_values("conv")
    assert w.shape == (2, 1, 3, 3) and w[0].tolist() == CURVE and b.tolist() == [0.0, -1.0]
    assert net.get_param("conv[0].w[0,0,2]") == 1.0 and net.get_param("conv[1].b") == -1.0
    assert parse_pid("conv[1].w[0,2,1]") == ("conv", 1, (0, 2, 1))
    assert parse_pid("conv[1].b") == ("conv", 1, None) and parse_pid("c1") is None
    assert filter_pid("conv", 1, 0, 2, 1) == "conv[1].w[0,2,1]"
    net.set_param("conv[1].w[0,2,1]", 5.0)
    assert net.filter_values("conv")[0][1, 0, 2, 1] == 5.0
    net.set_filter("conv", 0, np.full((1, 3, 3), 2.0), bias=0.5)
    assert net.filter_values("conv")[0][0].sum() == 18.0
    assert net.get_param("conv[0].b") == 0.5
    for bad in ("conv[2].b", "conv[0].w[0,3,0]", "conv[0].w[1,0,0]", "pool[0].b", "flat.1"):
        with pytest.raises(NetworkError, match="no parameter"):
            net.param_slot(bad)


def test_a_filter_is_locked_as_a_whole(net, events):
    net.set_trainable("conv[1].w[0,1,1]", False)
    assert net.filter_trainable("conv").tolist() == [True, False]
    slots = net.image_layers["conv"].slots
    assert not net.store.trainable[slots[1]].any() and net.store.trainable[slots[0]].all()
    assert events[-1] == (NetworkEvent.PARAMS_CHANGED, tuple(net.filter_param_ids("conv", 1)))
    net.set_filter_trainable("conv", 1, True)
    assert net.filter_trainable("conv").tolist() == [True, True]


def test_randomize_draws_filters_and_keeps_locked_ones(net):
    net.set_filter_trainable("conv", 0, False)
    before = net.filter_values("conv")
    net.randomize(seed=3, init="xavier")
    w, b = net.filter_values("conv")
    assert np.array_equal(w[0], before[0][0]) and b[0] == before[1][0]   # locked
    lim = np.sqrt(6.0 / (9 + 2 * 9))
    assert not np.array_equal(w[1], before[0][1]) and np.abs(w[1]).max() <= lim
    assert b[1] == 0.0
    values = net.initial_values(seed=3, init="xavier")
    assert np.array_equal(values, net.store.values[net.param_slots()])   # pure and the same
    net.randomize(seed=3, init="uniform")
    assert net.filter_values("conv")[1][1] != 0.0


# ---------------------------------------------------------------------- the dict form
def test_to_dict_lists_layers_not_feature_neurons_and_round_trips(net):
    d = net.to_dict()
    assert [n["id"] for n in d["neurons"]] == ["o", "x"]
    assert [lay["id"] for lay in d["image_layers"]] == ["image", "conv", "pool", "flat"]
    conv = d["image_layers"][1]
    assert conv["filters"][0] == {"weights": CURVE, "bias": 0.0, "trainable": True}
    assert "kernel" not in conv and "channels" not in conv  # read from the filters
    assert d["image_layers"][2]["stride"] == 2
    assert {c["source"] for c in d["connections"]} == set(net.feature_neurons("flat"))
    again = Network.from_dict(d)
    assert again.to_dict() == d
    assert net.copy().to_dict() == d
    assert Network.from_dict(Network().to_dict()).to_dict() == {"neurons": [],
                                                                "connections": []}


def test_a_network_without_image_layers_has_the_same_dict_as_before():
    net = Network.dense([2, 3, 1])
    assert set(net.to_dict()) == {"neurons", "connections"}


# ---------------------------------------------------------------------- notices
def test_adding_a_chain_announces_layers_then_feature_neurons():
    net = Network()
    got = []
    net.subscribe(lambda e, ids: got.append((e, ids)))
    net.add_image_layer("image_input", id="image", shape=(1, 5, 5))
    net.add_image_layer("flatten", id="flat", source="image", x=100)
    assert got == [(NetworkEvent.LAYER_ADDED, ("image",)), (NetworkEvent.LAYER_ADDED, ("flat",)),
                   (NetworkEvent.NEURON_ADDED, tuple(f"flat.{k}" for k in range(25)))]
    assert NetworkEvent.LAYER_ADDED in STRUCTURAL


def test_moving_a_flatten_moves_its_feature_neurons(net, events):
    v = net.structure_version
    net.move_image_layer("flat", 600, 40)
    assert events == [(NetworkEvent.LAYER_MOVED, ("flat",)),
                      (NetworkEvent.NEURON_MOVED, tuple(net.feature_neurons("flat")))]
    assert {net.neurons[f].x for f in net.feature_neurons("flat")} == {600.0}
    assert net.structure_version == v   # positions only
    net.set_layer_label("conv", "my filters")
    assert events[-1] == (NetworkEvent.LAYER_RENAMED, ("conv",))
    assert net.image_layers["conv"].label == "my filters"
    assert net.structure_version == v


def test_a_settings_change_is_announced_and_recompiles(net, events):
    v = net.structure_version
    net.update_image_layer("conv", activation="tanh")
    assert events == [(NetworkEvent.LAYER_CHANGED, ("conv",))]
    assert net.structure_version > v
    assert net.filter_values("conv")[0][0].tolist() == CURVE   # the filters stay


def test_set_filter_names_the_filter_parameters(net, events):
    net.set_filter("conv", 1, DIAGONAL)
    assert events == [(NetworkEvent.PARAMS_CHANGED, tuple(net.filter_param_ids("conv", 1)))]


# ---------------------------------------------------------------------- shape changes
def test_a_new_image_size_re_derives_the_feature_neurons(net, events):
    conns = len(net.connections)
    net.update_image_layer("image", shape=(1, 4, 4))   # conv 2x2x2, pool 2x1x1: 2 features
    assert net.feature_neurons("flat") == ["flat.0", "flat.1"]
    assert "flat.5" not in net.neurons
    assert len(net.connections) == conns - 6 * 2
    kinds = [e for e, _ in events]
    assert kinds[:2] == [NetworkEvent.CONNECTION_REMOVED, NetworkEvent.NEURON_REMOVED]
    assert NetworkEvent.LAYER_CHANGED in kinds
    # back to 6 x 6: new feature neurons, without connections
    net.update_image_layer("image", shape=(1, 6, 6))
    assert len(net.feature_neurons("flat")) == 8
    assert not net.outgoing("flat.7")
    assert [net.neurons[f].label for f in net.feature_neurons("flat")][1] == "map 0 [0][1]"


def test_clearing_a_source_removes_the_feature_neurons_downstream(net):
    net.clear_layer_source("pool")
    assert net.feature_neurons("flat") == [] and not any(
        n.role == FEATURE_ROLE for n in net.neurons.values())
    assert "pool" not in net.image_shapes() and "flat" not in net.image_shapes()
    assert not net.connections
    net.set_layer_source("pool", "conv")
    assert len(net.feature_neurons("flat")) == 8


def test_a_new_source_with_other_channels_gives_the_convolution_new_filters():
    net = Network()
    net.add_image_layer("image_input", id="rgb", shape=(3, 6, 6))
    net.add_image_layer("convolution", id="conv", filters=4)
    assert net.image_layers["conv"].channels == 1
    note = net.set_layer_source("conv", "rgb", seed=2)
    assert note is not None and "3 channels deep" in note
    w, _ = net.filter_values("conv")
    assert w.shape == (4, 3, 3, 3)
    assert net.image_shapes()["conv"].out_shape == (4, 4, 4)


def test_more_filters_keep_the_first_ones(net):
    net.update_image_layer("conv", filters=3, seed=5)
    w, b = net.filter_values("conv")
    assert w.shape == (3, 1, 3, 3) and w[0].tolist() == CURVE and w[1].tolist() == DIAGONAL
    assert b[:2].tolist() == [0.0, -1.0]
    assert len(net.feature_neurons("flat")) == 12
    net.update_image_layer("conv", kernel=5, seed=5)   # 6 - 5 + 1 = 2: pool 2x2 → 1 x 1
    assert net.filter_values("conv")[0].shape == (3, 1, 5, 5)
    assert len(net.feature_neurons("flat")) == 3


# ---------------------------------------------------------------------- remove and restore
def test_removing_a_layer_and_putting_it_back(net):
    before = net.to_dict()
    removed = net.remove_image_layer("conv")
    assert "conv" not in net.image_layers and net.image_layers["pool"].source is None
    assert not net.connections and not net.feature_neurons("flat")
    assert net.param_count() == 2   # the output biases
    net.set_image_layers(removed.before)
    net.add_from_dicts((), removed.connections, connection_order=removed.connection_order)
    assert net.to_dict() == before


def test_set_image_layers_keeps_unchanged_layers_and_their_connections(net, events):
    before = net.to_dict()
    net.set_filter("conv", 0, np.zeros((1, 3, 3)))
    net.move_image_layer("pool", 0, 0)
    events.clear()
    dropped = net.set_image_layers(before["image_layers"])
    assert dropped == []
    assert net.to_dict() == before
    assert (NetworkEvent.PARAMS_CHANGED, tuple(net.layer_param_ids("conv"))) in events
    assert (NetworkEvent.LAYER_MOVED, ("pool",)) in events
    assert not any(e in STRUCTURAL for e, _ in events)


# ---------------------------------------------------------------------- refusals
def _p2(n):
    n.add_image_layer("pooling", id="p2", window=1)


def _conv_dict(**extra):
    return {"id": "cv2", "kind": "convolution", "filters": [{"weights": CURVE}], **extra}


#: name -> (set-up or None, the refused edit, a part of its message)
REFUSALS = {
    "kernel larger than its input": (
        None, lambda n: n.update_image_layer("conv", kernel=7), "larger than its 6 × 6 input"),
    "stride that leaves a row unread": (
        None, lambda n: n.update_image_layer("conv", stride=2), "leave row 5 unread"),
    "pool that does not fit": (
        None, lambda n: n.update_image_layer("pool", window=3), "does not fit"),
    "an image shape that breaks a layer downstream": (
        None, lambda n: n.update_image_layer("image", shape=(1, 5, 5)),
        r"changing image input 'image' to shape 1 × 5 × 5 is refused: max pooling"),
    "a source for an image input": (
        None, lambda n: n.set_layer_source("image", "conv"), "pixels from the dataset"),
    "a flatten as a source": (_p2, lambda n: n.set_layer_source("p2", "flat"),
                              "column of values"),
    "a neuron as a source": (None, lambda n: n.set_layer_source("pool", "o"), "neuron"),
    "a second source": (lambda n: n.add_image_layer("image_input", id="im2"),
                        lambda n: n.set_layer_source("pool", "im2"), "already takes its input"),
    "itself as its source": (_p2, lambda n: n.set_layer_source("p2", "p2"), "itself"),
    "a cycle of sources": (
        lambda n: (_p2(n), n.add_image_layer("pooling", id="p3", window=1, source="p2")),
        lambda n: n.set_layer_source("p2", "p3"), "form a cycle"),
    "softmax on a convolution": (
        None, lambda n: n.update_image_layer("conv", activation="softmax"), "softmax"),
    "an unknown setting": (None, lambda n: n.update_image_layer("pool", kernel=3),
                           "not a setting"),
    "an unknown kind": (None, lambda n: n.add_image_layer("dense"), "unknown image layer kind"),
    "a duplicate id": (None, lambda n: n.add_image_layer("flatten", id="o"), "already used"),
    "a derived id that is taken": (
        lambda n: n.add_neuron("hidden", id="f2.1"),
        lambda n: n.add_image_layer("flatten", id="f2", source="pool"), "f2.1 is a neuron"),
    "a connection into a feature neuron": (
        lambda n: n.add_neuron("hidden", id="h"), lambda n: n.connect("h", "flat.1"),
        "feature neuron"),
    "connections into a feature neuron in bulk": (
        lambda n: n.add_neuron("hidden", id="h"),
        lambda n: n.add_connection_dicts([{"id": "k1", "source": "h", "target": "flat.1",
                                           "weight": 1.0, "trainable": True}]),
        "feature neuron"),
    "a connection from a convolution to a neuron": (
        None, lambda n: n.connect("conv", "o"), "Flatten first: a neuron takes single values, "
        "not 2 maps of 4 × 4"),
    "a connection from a flatten layer": (None, lambda n: n.connect("flat", "o"),
                                          "feature neurons"),
    "a connection from a neuron to a layer": (
        lambda n: n.add_neuron("input", id="i"), lambda n: n.connect("i", "pool"),
        "takes feature maps"),
    "moving a feature neuron": (None, lambda n: n.move_neuron("flat.1", 0, 0),
                                "edit the flatten"),
    "moving feature neurons with others": (
        None, lambda n: n.move_neurons({"o": (0, 0), "flat.1": (0, 0)}), "edit the flatten"),
    "removing a feature neuron": (None, lambda n: n.remove_neuron("flat.2"), "edit the flatten"),
    "renaming a feature neuron": (None, lambda n: n.set_label("flat.2", "mine"),
                                  "edit the flatten"),
    "a role for a feature neuron": (None, lambda n: n.set_role("flat.2", "hidden"),
                                    "edit the flatten"),
    "an activation for a feature neuron": (
        None, lambda n: n.set_activation("flat.2", "relu"), "edit the flatten"),
    "a bias for a feature neuron": (None, lambda n: n.set_param("flat.2", 1.0), "no parameter"),
    "a feature neuron from a dict": (
        None, lambda n: n.add_from_dicts([{"id": "z", "role": "feature", "activation":
                                           "identity"}], []), "role"),
    "a filter of the wrong shape": (
        None, lambda n: n.set_filter("conv", 0, np.zeros((3, 3))), "got weights of shape"),
    "a filter that does not exist": (None, lambda n: n.set_filter("conv", 2, CURVE),
                                     "filters 0 to 1"),
    "a non-finite filter weight": (
        None, lambda n: n.set_filter("conv", 0, [[[np.nan] * 3] * 3]), "finite"),
    "ragged filters in a dict": (
        None, lambda n: n.add_image_layer_dicts([_conv_dict(filters=[
            {"weights": [[[1, 0], [0]]]}])]), "ragged"),
    "filters of different shapes in a dict": (
        None, lambda n: n.add_image_layer_dicts([_conv_dict(filters=[
            {"weights": CURVE}, {"weights": [[[1]]]}])]), "same shape"),
    "filters too shallow for their source": (
        None, lambda n: n.add_image_layer_dicts([_conv_dict(source="pool")]),
        "1 channel deep, but max pooling 'max pooling' gives 2 maps of 2 × 2"),
    "a setting of another kind in a dict": (
        None, lambda n: n.add_image_layer_dicts([_conv_dict(window=2)]),
        "'window' is a setting of a pooling"),
    "a source that is not there": (
        None, lambda n: n.add_image_layer_dicts([_conv_dict(source="nowhere")]),
        "not an image layer"),
    "a kernel of 9": (None, lambda n: n.add_image_layer("convolution", kernel=9),
                      "kernel size"),
    "65 filters": (None, lambda n: n.add_image_layer("convolution", filters=65),
                   "number of filters"),
    "an image of 5 channels": (
        None, lambda n: n.add_image_layer("image_input", shape=(5, 6, 6)), "number of channels"),
    "a flatten of more nodes than a network may have": (
        lambda n: n.update_image_layer("image", shape=(1, 128, 128)),
        lambda n: n.update_image_layer("pool", window=1, stride=1),
        "would make 31,752 nodes \\(from 2 maps of 126 × 126\\), and a network's flatten "
        "layers make at most 10,000"),
    "maps too big to compute per sample": (
        lambda n: n.update_image_layer("image", shape=(1, 128, 128)),
        lambda n: n.update_image_layer("conv", filters=64),
        "maps would hold 1,286,464 values per sample \\(convolution 'filters' alone "
        "1,016,064\\), more than the limit of 1,000,000"),
    "one bad layer among good ones": (
        None, lambda n: n.add_image_layer_dicts([
            {"id": "i2", "kind": "image_input", "shape": [1, 3, 3]},
            {"id": "cv2", "kind": "convolution", "source": "i2", "filters": [
                {"weights": [[[0] * 5] * 5]}]}]), "larger than its 3 × 3 input"),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_refused_image_edits_change_nothing(net, name):
    setup, edit, message = REFUSALS[name]
    if setup is not None:
        setup(net)
    heard = []
    net.subscribe(lambda e, ids: heard.append(e))
    before = state(net)
    with pytest.raises(NetworkError, match=message):
        edit(net)
    assert same(before, state(net))
    assert heard == []


def test_a_refused_layer_dict_is_refused_by_image_layer_dict_too(net):
    with pytest.raises(NetworkError, match="larger than"):
        net.image_layer_dict("convolution", source="pool", channels=2, kernel=3)
    d = net.image_layer_dict("convolution", source="pool", kernel=1, seed=4)
    assert d["id"] == "conv1" and len(d["filters"]) == 2
    assert np.array(d["filters"][0]["weights"]).shape == (2, 1, 1)   # the source's 2 maps
    assert "conv1" not in net.image_layers   # nothing added


def test_layout_places_layers_by_depth_and_leaves_feature_neurons_to_their_flatten(net):
    pos = net.layout_positions(dx=100, dy=50)
    assert not any(nid.startswith("flat.") for nid in pos)
    assert pos["o"][0] == pos["x"][0] == 400   # after the flatten's column (depth 3)
    layers = net.image_layout_positions(dx=100)
    assert [layers[k][0] for k in ("image", "conv", "pool", "flat")] == [0, 100, 200, 300]
    net.auto_layout(dx=100, dy=50)
    assert {net.neurons[f].x for f in net.feature_neurons("flat")} == {300.0}
    assert net.neurons["o"].x == 400

"""The network model: every edit, every refusal (which must change nothing), layers and
depths, dense layers, seeded initialisation, layout, and change notices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnstudio.core.network import INITS, Network, NetworkError, dense


def state(net: Network):
    """Everything a refused edit must leave untouched."""
    return (net.to_dict(), net.store.values.copy(), net.store.trainable.copy(),
            net.structure_version, net.param_version,
            {nid: (n.x, n.y, n.slope, n.label) for nid, n in net.neurons.items()})


def same(a, b) -> bool:
    return (a[0] == b[0] and np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
            and a[3:] == b[3:])


@pytest.fixture
def net():
    """x1, x2 -> h1, h2 -> y, plus a skip x1 -> y."""
    n = Network()
    n.add_neuron("input", id="x1")
    n.add_neuron("input", id="x2")
    n.add_neuron("hidden", id="h1", activation="tanh", bias=0.1)
    n.add_neuron("hidden", id="h2", activation="relu", bias=-0.2, label="Hidden two")
    n.add_neuron("output", id="y", activation="sigmoid", bias=0.3)
    for i, (s, t) in enumerate([("x1", "h1"), ("x2", "h1"), ("x1", "h2"), ("x2", "h2"),
                                ("h1", "y"), ("h2", "y"), ("x1", "y")]):
        n.connect(s, t, 0.1 * (i + 1), id=f"c{i + 1}")
    return n


@pytest.fixture
def events(net):
    got = []
    net.subscribe(lambda event, ids: got.append((event, ids)))
    return got


# ------------------------------------------------------------------------------ refusals
REFUSALS = {
    "cycle": (lambda n: n.connect("y", "h1"), "output neuron"),
    "cycle through hidden": (lambda n: (n.add_neuron("hidden", id="h3"), n.connect("h1", "h3"),
                                        n.connect("h3", "h2"), n.connect("h2", "h1")), "cycle"),
    "duplicate connection": (lambda n: n.connect("x1", "h1", 1.0), "already connected"),
    "into an input": (lambda n: n.connect("h1", "x1"), "input"),
    "out of an output": (lambda n: n.connect("y", "h2"), "output neuron"),
    "self loop": (lambda n: n.connect("h1", "h1"), "itself"),
    "nan weight": (lambda n: n.connect("h1", "h2", float("nan")), "finite"),
    "inf param": (lambda n: n.set_param("c1", float("inf")), "finite"),
    "nan bias": (lambda n: n.set_param("h1", float("nan")), "finite"),
    "text param": (lambda n: n.set_param("c1", "heavy"), "number"),
    "one bad among many": (lambda n: n.set_params({"c1": 1.0, "c2": float("-inf")}), "finite"),
    "unknown pid in many": (lambda n: n.set_params({"c1": 1.0, "zz": 2.0}), "no parameter"),
    "input bias": (lambda n: n.set_param("x1", 1.0), "no parameter"),
    "inf bias on add": (lambda n: n.add_neuron("hidden", id="h9", bias=math.inf), "finite"),
    "nan position": (lambda n: n.move_neuron("h1", float("nan"), 0), "finite"),
    "nan among moves": (lambda n: n.move_neurons({"h1": (1, 2), "h2": (math.inf, 0)}), "finite"),
    "unknown activation": (lambda n: n.set_activation("h1", "swish"), "unknown activation"),
    "unknown activation on add": (lambda n: n.add_neuron("hidden", id="h9", activation="gelu"),
                                  "unknown activation"),
    "softmax on hidden": (lambda n: n.set_activation("h1", "softmax"), "softmax"),
    "activation on input": (lambda n: n.set_activation("x1", "relu"), "input"),
    "nan slope": (lambda n: n.set_activation("h1", "leaky_relu", slope=math.nan), "finite"),
    "bad id syntax": (lambda n: n.add_neuron("hidden", id="9 lives"), "not valid"),
    "duplicate neuron id": (lambda n: n.add_neuron("hidden", id="h1"), "already used"),
    "connection id clash": (lambda n: n.connect("h1", "h2", id="x2"), "already used"),
    "unknown source": (lambda n: n.connect("nope", "y"), "no neuron 'nope'"),
    "unknown target": (lambda n: n.connect("x1", "nope"), "no neuron 'nope'"),
    "unknown connection": (lambda n: n.disconnect("c99"), "no connection 'c99'"),
    "unknown neuron": (lambda n: n.remove_neuron("h99"), "no neuron 'h99'"),
    "unknown role": (lambda n: n.add_neuron("bias", id="b"), "role"),
    "role input with inputs": (lambda n: n.set_role("h1", "input"), "incoming"),
    "role output with outputs": (lambda n: n.set_role("h1", "output"), "outgoing"),
    "empty label": (lambda n: n.set_label("h1", "   "), "empty"),
    "dense layer of 0": (lambda n: n.add_dense_layer(0, 0), "1 to 4096"),
    "dense layer after nowhere": (lambda n: n.add_dense_layer(7, 2), "no layer 7"),
    "dense layer after outputs": (lambda n: n.add_dense_layer(2, 2), "output"),
    "dense layer softmax": (lambda n: n.add_dense_layer(0, 2, "softmax"), "softmax"),
    "unknown init": (lambda n: n.randomize(0, "lecun"), "unknown initialisation"),
    "trainable of unknown": (lambda n: n.set_trainable("c99", False), "no parameter"),
    "restore clashes": (lambda n: n.add_from_dicts(
        [{"id": "h7", "role": "hidden"}],
        [{"id": "c50", "source": "h7", "target": "y"},
         {"id": "c51", "source": "y", "target": "h7"}]),
        "output neuron"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refused_edit_changes_nothing(net, case):
    edit, words = REFUSALS[case]
    heard = []
    before = state(net)
    if case == "cycle through hidden":
        net.add_neuron("hidden", id="h3")
        net.connect("h1", "h3")
        net.connect("h3", "h2")
        before = state(net)
        edit = lambda n: n.connect("h2", "h1")  # noqa: E731
    net.subscribe(lambda e, ids: heard.append(e))
    with pytest.raises(NetworkError) as info:
        edit(net)
    assert words in str(info.value), str(info.value)
    assert isinstance(info.value, ValueError)
    assert same(state(net), before), f"{case} changed the network"
    assert heard == [], f"{case} sent {heard}"


def test_cycle_message_names_the_cycle(net):
    net.add_neuron("hidden", id="h3", label="Third")
    net.connect("h1", "h3")
    net.connect("h3", "h2")
    with pytest.raises(NetworkError) as info:
        net.connect("h2", "h1")
    msg = str(info.value)
    assert "cycle h1 → Third → Hidden two → h1" in msg, msg
    assert "'Hidden two' (h2)" in msg


def test_duplicate_message_names_both_neurons_and_the_connection(net):
    with pytest.raises(NetworkError, match=r"'x1' → 'Hidden two' \(h2\) is already connected "
                                           r"\(connection 'c3'\)"):
        net.connect("x1", "h2")


def test_check_connect_changes_nothing_and_agrees_with_connect(net):
    before = state(net)
    net.check_connect("h1", "h2")
    assert same(state(net), before)
    with pytest.raises(NetworkError):
        net.check_connect("h2", "h2")


# ------------------------------------------------------------------------------ edits
def test_add_connect_set_and_query(net, events):
    n = net.add_neuron("hidden", activation="leaky_relu", slope=0.2, bias=0.5, x=3, y=4)
    assert n.id == "h3" and n.label == "h3" and n.slope == 0.2 and (n.x, n.y) == (3, 4)
    assert n.bias == 0.5 and n.bias_trainable
    c = net.connect("h1", n.id, 1.5, trainable=False)
    assert c.id == "c8" and c.weight == 1.5 and not c.trainable
    assert net.connection_between("h1", "h3") is c
    assert [x.id for x in net.incoming("h3")] == ["c8"]
    assert [x.id for x in net.outgoing("h1")] == ["c5", "c8"]
    assert events == [("neuron_added", ("h3",)), ("connection_added", ("c8",))]
    net.set_param("c8", -2.0)
    net.set_param("h3", 0.25)
    assert net.get_param("c8") == -2.0 and net.neurons["h3"].bias == 0.25
    net.set_params({"c1": 1.0, "h1": 2.0})
    assert net.get_param("c1") == 1.0 and net.get_param("h1") == 2.0
    net.set_trainable("h1", False)
    assert not net.neurons["h1"].bias_trainable
    assert events[2:] == [("params_changed", ("c8",)), ("params_changed", ("h3",)),
                          ("params_changed", ("c1", "h1")), ("params_changed", ("h1",))]
    net.set_activation("h3", "softplus")
    net.set_label("h3", "Smooth")
    net.move_neuron("h3", 10, 20)
    assert net.neurons["h3"].activation == "softplus" and net.neurons["h3"].label == "Smooth"
    assert events[-3:] == [("activation_changed", ("h3",)), ("neuron_renamed", ("h3",)),
                           ("neuron_moved", ("h3",))]
    assert net.name("h3") == "'Smooth' (h3)" and net.name("h1") == "'h1'"
    # inputs have no bias parameter and never train one
    x = net.add_neuron("input", bias=5.0, bias_trainable=True)
    assert x.bias == 0.0 and not x.bias_trainable and x.activation == "identity"
    assert [i.id for i in net.inputs] == ["x1", "x2", x.id]
    assert [o.id for o in net.outputs] == ["y"]
    assert net.param_count() == len(net.param_ids()) == 8 + 4


def test_parameter_ids_are_connections_then_biases(net):
    assert net.param_ids() == [f"c{i}" for i in range(1, 8)] + ["h1", "h2", "y"]


def test_disconnect_and_remove_neuron_round_trip(net, events):
    before = net.to_dict()
    vals = {p: net.get_param(p) for p in net.param_ids()}
    net.set_trainable("c5", False)
    before_train = {p: bool(net.store.trainable[net.param_slot(p)]) for p in net.param_ids()}
    nd, conns = net.remove_neuron("h1")
    assert "h1" not in net.neurons and not any(
        c.source == "h1" or c.target == "h1" for c in net.connections.values())
    assert sorted(c["id"] for c in conns) == ["c1", "c2", "c5"]
    assert [e for e, _ in events] == ["params_changed", "connection_removed",
                                      "connection_removed", "connection_removed",
                                      "neuron_removed"]
    net.add_from_dicts([nd], conns)

    def by_id(d):
        return ({n["id"]: n for n in d["neurons"]}, {c["id"]: c for c in d["connections"]})
    after = net.to_dict()
    assert by_id(after)[0] == by_id(before)[0]
    conns_after = by_id(after)[1]
    conns_before = by_id(before)[1]
    conns_before["c5"]["trainable"] = False
    assert conns_after == conns_before
    assert {p: net.get_param(p) for p in net.param_ids()} == vals
    assert {p: bool(net.store.trainable[net.param_slot(p)]) for p in net.param_ids()} == \
        before_train
    d = net.disconnect("c7")
    assert d == {"id": "c7", "source": "x1", "target": "y", "weight": pytest.approx(0.7),
                 "trainable": True}
    assert net.connection_between("x1", "y") is None
    net.add_from_dicts([], [d])
    assert net.connections["c7"].weight == d["weight"]


def test_new_ids_fill_gaps_and_building_big_networks_stays_linear(monkeypatch):
    n = Network()
    for _ in range(3):
        n.add_neuron("hidden")
    n.remove_neuron("h2")
    assert n.new_id("h") == "h2"
    assert n.add_neuron("hidden").id == "h2"
    assert n.add_neuron("hidden").id == "h4"
    # quadratic id search made dense([784, 256, 10]) take minutes: count the look-ups
    calls = [0]
    real = Network.__contains__

    def counting(self, item):
        calls[0] += 1
        return real(self, item)
    monkeypatch.setattr(Network, "__contains__", counting)
    big = dense([60, 60, 5], seed=0)
    n_items = len(big.neurons) + len(big.connections)
    assert calls[0] < 6 * n_items, calls[0]


def test_set_role_changes_activation_and_bias(net):
    net.add_neuron("hidden", id="lone", activation="tanh", bias=0.4)
    net.set_role("lone", "input")
    n = net.neurons["lone"]
    assert n.role == "input" and n.activation == "identity" and n.bias == 0.0
    assert not n.bias_trainable
    net.set_role("lone", "output")
    assert net.neurons["lone"].role == "output"


def test_depths_and_layers_with_skip_connections(net):
    assert net.depths() == {"x1": 0, "x2": 0, "h1": 1, "h2": 1, "y": 2}
    net.add_neuron("hidden", id="h3")
    net.connect("h1", "h3")
    net.connect("h3", "y")
    assert net.depths()["h3"] == 2 and net.depths()["y"] == 3
    assert net.layers() == [["x1", "x2"], ["h1", "h2"], ["h3"], ["y"]]
    order = net.topological_order()
    for c in net.connections.values():
        assert order.index(c.source) < order.index(c.target)
    # a neuron without incoming connections sits at depth 0 whatever its role
    net.add_neuron("hidden", id="free")
    assert net.depths()["free"] == 0


def test_dense_builder():
    n = dense([2, 3, 1], hidden="tanh", output="sigmoid", seed=0)
    assert [len(layer) for layer in n.layers()] == [2, 3, 1]
    assert len(n.connections) == 2 * 3 + 3 * 1
    assert all(n.neurons[h].activation == "tanh" for h in n.layers()[1])
    assert n.outputs[0].activation == "sigmoid"
    with pytest.raises(NetworkError):
        dense([3])
    with pytest.raises(NetworkError):
        dense([2, 0, 1])


def test_add_dense_layer_inserts_and_rewires():
    n = dense([2, 3, 1], seed=0)
    h = n.layers()[1]
    old_direct = {(c.source, c.target) for c in n.connections.values() if c.source in h}
    y = n.outputs[0].id
    new = n.add_dense_layer(1, 4, "tanh", seed=5)
    assert len(new) == 4 and all(n.neurons[i].activation == "tanh" for i in new)
    assert [len(layer) for layer in n.layers()] == [2, 3, 4, 1]
    # the direct h -> y connections are replaced
    assert not old_direct & {(c.source, c.target) for c in n.connections.values()}
    for i in new:
        assert sorted(c.source for c in n.incoming(i)) == sorted(h)
        assert [c.target for c in n.outgoing(i)] == [y]
    assert len(n.connections) == 6 + 3 * 4 + 4
    # new neurons stand between, and later columns moved right
    xs = {i: n.neurons[i].x for i in n.neurons}
    assert max(xs[i] for i in h) < min(xs[i] for i in new) < xs[y]
    # seeded: the same edit on the same net gives the same weights
    m = dense([2, 3, 1], seed=0)
    m.add_dense_layer(1, 4, "tanh", seed=5)
    assert m.to_dict() == n.to_dict()


def test_add_dense_layer_after_inputs_with_a_skip_connection(net):
    net.add_dense_layer(0, 2, "relu")
    # inputs now feed only the new layer; every former target of an input is fed by it
    for x in ("x1", "x2"):
        assert sorted(c.target for c in net.outgoing(x)) == ["h3", "h4"]
    for h in ("h3", "h4"):
        assert sorted(c.target for c in net.outgoing(h)) == ["h1", "h2", "y"]
    assert net.depths()["y"] == 3


def test_connect_fully_skips_refused_pairs_and_is_seeded():
    a, b = Network(), Network()
    for n in (a, b):
        n.add_neuron("input", id="x")
        n.add_neuron("hidden", id="h")
        n.add_neuron("output", id="y")
        n.connect("x", "h", 1.0)
    made = a.connect_fully(["x", "h", "y"], ["h", "y", "x"], seed=3)
    assert sorted((a.connections[c].source, a.connections[c].target) for c in made) == \
        [("h", "y"), ("x", "y")]
    b.connect_fully(["x", "h", "y"], ["h", "y", "x"], seed=3)
    assert a.to_dict() == b.to_dict()
    assert all(-1 <= a.connections[c].weight <= 1 for c in made)


def test_randomize_is_seeded_and_leaves_locked_parameters_alone():
    a = dense([3, 5, 2], seed=0)
    a.set_param("c1", 42.0)
    a.set_trainable("c1", False)
    hid = a.layers()[1][0]
    a.set_param(hid, 7.0)
    a.set_trainable(hid, False)
    b = a.copy()
    for init in INITS:
        a.randomize(11, init)
        b.randomize(11, init)
        assert a.to_dict() == b.to_dict()
        assert a.get_param("c1") == 42.0 and a.get_param(hid) == 7.0
    c = a.copy()
    c.randomize(12, "uniform")
    assert c.to_dict() != a.to_dict()


def _weights_into(net, layer):
    return np.array([c.weight for c in net.connections.values()
                     if net.depths()[c.target] == layer])


def test_initialisation_statistics():
    sizes = [60, 80, 40]
    u = dense(sizes, seed=1, init="uniform")
    w = np.array([c.weight for c in u.connections.values()])
    bias = np.array([n.bias for n in u.neurons.values() if n.role != "input"])
    assert w.min() >= -1 and w.max() <= 1
    assert abs(w.mean()) < 0.03 and w.var() == pytest.approx(1 / 3, rel=0.05)
    assert bias.min() >= -1 and bias.max() <= 1 and np.ptp(bias) > 1  # biases drawn too
    x = dense(sizes, seed=1, init="xavier")
    # fan-in of the target, fan-out of the source
    for layer, (fi, fo) in ((1, (60, 80)), (2, (80, 40))):
        ws = _weights_into(x, layer)
        lim = math.sqrt(6 / (fi + fo))
        assert np.abs(ws).max() <= lim
        assert ws.var() == pytest.approx(lim ** 2 / 3, rel=0.08)
    assert all(n.bias == 0 for n in x.neurons.values())
    h = dense(sizes, seed=1, init="he")
    for layer, fi in ((1, 60), (2, 80)):
        ws = _weights_into(h, layer)
        assert ws.std() == pytest.approx(math.sqrt(2 / fi), rel=0.08)
        assert abs(ws.mean()) < 0.2 * math.sqrt(2 / fi)
    assert all(n.bias == 0 for n in h.neurons.values())


def test_auto_layout_columns_by_depth(net, events):
    net.move_neuron("h2", 999, -50)  # h2 above h1 now
    pos = net.auto_layout(dx=100, dy=50)
    assert pos["x1"][0] == pos["x2"][0] == 0
    assert pos["h1"][0] == pos["h2"][0] == 100 and pos["y"] == (200, 0.0)
    assert pos["h2"][1] < pos["h1"][1]  # vertical order kept
    assert pos["h2"][1] == -25 and pos["h1"][1] == 25  # centred
    assert (net.neurons["h1"].x, net.neurons["h1"].y) == pos["h1"]
    assert events[-1][0] == "neuron_moved"


def test_copy_and_dict_round_trip(net):
    net.set_trainable("c2", False)
    net.set_activation("h2", "leaky_relu", slope=0.3)
    d = net.to_dict()
    again = Network.from_dict(d)
    assert again.to_dict() == d
    assert net.copy().to_dict() == d
    assert [n["slope"] for n in d["neurons"] if n["id"] == "h2"] == [0.3]


def test_from_dict_refuses_cycles_and_dangling_connections():
    d = {"neurons": [{"id": "a", "role": "hidden"}, {"id": "b", "role": "hidden"}],
         "connections": [{"id": "c1", "source": "a", "target": "b"},
                         {"id": "c2", "source": "b", "target": "a"}]}
    with pytest.raises(NetworkError, match="cycle: a → b → a|cycle: b → a → b"):
        Network.from_dict(d)
    d["connections"] = [{"id": "c1", "source": "a", "target": "zz"}]
    with pytest.raises(NetworkError, match="no neuron 'zz'"):
        Network.from_dict(d)


def test_unsubscribe_stops_notices(net):
    heard = []
    f = lambda e, ids: heard.append(e)  # noqa: E731
    net.subscribe(f)
    net.set_param("c1", 0.5)
    net.unsubscribe(f)
    net.set_param("c1", 0.6)
    assert heard == ["params_changed"]
    before = net.structure_version
    net.add_neuron("hidden")
    assert net.structure_version == before + 1


# ------------------------------------------------------------------------------ the order
def test_ordered_insert_puts_removed_items_back_in_place(net, events):
    before = net.to_dict()
    lists = {nid: ([c.id for c in net.incoming(nid)], [c.id for c in net.outgoing(nid)])
             for nid in net.neurons}
    order_n, order_c = list(net.neurons), list(net.connections)
    conns = net.disconnect_many([c.id for c in net.incoming("h1") + net.outgoing("h1")])
    nd, _ = net.remove_neuron("h1")
    del events[:]
    net.add_from_dicts([nd], conns, neuron_order=order_n, connection_order=order_c)
    assert net.to_dict() == before
    assert {nid: ([c.id for c in net.incoming(nid)], [c.id for c in net.outgoing(nid)])
            for nid in net.neurons} == lists
    # one notice per kind, and no separate order notice: the items went in at their places
    assert events == [("neuron_added", ("h1",)), ("connection_added", ("c1", "c2", "c5"))]


def test_reorder_sends_one_notice_and_only_when_something_moves(net, events):
    version = net.structure_version
    net.reorder(list(net.neurons), list(net.connections))
    assert events == [] and net.structure_version == version
    net.reorder(["x2", "x1"], ["c7"])
    assert [n.id for n in net.inputs] == ["x2", "x1"]
    assert list(net.connections)[0] == "c7"
    assert [c.id for c in net.outgoing("x1")] == ["c7", "c1", "c3"]
    assert events == [("order_changed", ())] and net.structure_version == version + 1


def test_every_kind_of_change_has_its_own_event(net, events):
    version = net.structure_version
    net.move_neurons({"h1": (5, 6), "h2": (7, 8)})
    net.set_label("h1", "First")
    assert net.structure_version == version   # positions and labels compute nothing
    net.set_activation("h1", "sigmoid")
    assert net.structure_version == version + 1   # the engine groups neurons by activation
    net.add_neuron("hidden", id="lone")
    net.set_role("lone", "output")
    assert [e for e, _ in events] == ["neuron_moved", "neuron_renamed", "activation_changed",
                                      "neuron_added", "role_changed"]
    assert events[0] == ("neuron_moved", ("h1", "h2"))


# ------------------------------------------------------------------------------ pure answers
def test_pure_computations_change_nothing_and_are_what_the_edits_do(net):
    net.set_trainable("c2", False)
    before = state(net)
    heard = []
    net.subscribe(lambda e, ids: heard.append(e))
    values = net.initial_values(4, "uniform")
    positions = net.layout_positions(dx=100, dy=50)
    plan = net.plan_full_connections([(["x1", "x2"], ["h1", "h2", "y"]), (["h1"], ["h2"])], 3)
    assert net.columns_by_x(["y", "h1", "x2", "nobody"]) == [["y", "h1", "x2"]]  # all at x 0
    assert same(state(net), before) and heard == []
    assert values[net.param_ids().index("c2")] == net.get_param("c2")   # locked: kept
    net.randomize(4, "uniform")
    assert np.array_equal(net.store.values[net.param_slots()], values)
    assert net.auto_layout(dx=100, dy=50) == positions
    # x1, x2 already feed h1, h2 and y (c1..c4, c7): only x2 -> y and then h1 -> h2 are new
    assert list(zip(plan.sources, plan.targets, strict=True)) == [("x2", "y"), ("h1", "h2")]
    assert plan.ids == ["c8", "c9"]
    made = net.connect_fully(["x1", "x2"], ["h1", "h2", "y"], seed=3)
    assert made == ["c8"] and net.get_param("c8") == plan.weights[0]
    assert abs(plan.weights[0]) <= math.sqrt(6 / 5)   # Xavier for 2 sources and 3 targets


def test_columns_by_x_groups_neurons_within_the_tolerance():
    n = Network()
    for nid, x in (("a", 0), ("b", 30), ("c", 45), ("d", 300), ("e", 310)):
        n.add_neuron("hidden", id=nid, x=x)
    assert n.columns_by_x(["e", "c", "a", "d", "b"]) == [["a", "b"], ["c"], ["d", "e"]]
    assert n.columns_by_x(["a", "b"], tolerance=10) == [["a"], ["b"]]


def test_the_part_rules_stand_alone():
    from nnstudio.core.network import activation_allowed, is_valid_id
    assert is_valid_id("h_1.a-b") and not is_valid_id("h1\n") and not is_valid_id("1h")
    assert not is_valid_id(7) and not is_valid_id("x" * 65)
    assert activation_allowed("output", "softmax") and not activation_allowed("hidden", "softmax")
    assert activation_allowed("input", "identity") and not activation_allowed("input", "relu")

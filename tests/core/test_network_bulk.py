"""The bulk paths (Network.from_dict, add_dense_layer, connect_fully, the project loader's
nesting and cycle checks) give exactly what adding one connection at a time gives: the same
network, the same ids, the same weights, and the same refusals with the same messages."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.core import activations, project
from nnstudio.core import network as N
from nnstudio.core.network import Network, NetworkError, dense, find_cycle_ids, finite_number


def add_neuron_dict(net: Network, nd: dict) -> None:
    net.add_neuron(nd.get("role", "hidden"), id=nd["id"], label=nd.get("label"),
                   activation=nd.get("activation"), bias=nd.get("bias", 0.0),
                   x=nd.get("x", 0.0), y=nd.get("y", 0.0),
                   slope=nd.get("slope", activations.DEFAULT_LEAKY_SLOPE),
                   bias_trainable=nd.get("bias_trainable", True))


def connect_dict(net: Network, cd: dict, check_cycle: bool = True) -> None:
    net.connect(cd["source"], cd["target"], cd.get("weight", 0.0), id=cd["id"],
                trainable=cd.get("trainable", True), check_cycle=check_cycle)


def one_at_a_time(d: dict) -> Network:
    """The reference: the edit API, one neuron and one connection after another."""
    net = Network()
    for nd in d["neurons"]:
        add_neuron_dict(net, nd)
    for cd in d["connections"]:
        connect_dict(net, cd, check_cycle=False)
    cycle = net.find_cycle()
    if cycle:
        raise NetworkError("the connections form a cycle: " + " → ".join(cycle))
    return net


def same(a: Network, b: Network) -> None:
    assert a.to_dict() == b.to_dict()
    assert list(a.connections) == list(b.connections) and list(a.neurons) == list(b.neurons)
    for nid in a.neurons:
        assert [c.id for c in a.incoming(nid)] == [c.id for c in b.incoming(nid)]
        assert [c.id for c in a.outgoing(nid)] == [c.id for c in b.outgoing(nid)]
    for c in a.connections.values():
        assert b.connection_between(c.source, c.target).id == c.id
    assert a.layers() == b.layers()


def small_dict() -> dict:
    return dense([3, 4, 2], hidden="tanh", seed=1).to_dict()


def test_from_dict_bulk_equals_one_at_a_time():
    d = dense([4, 6, 5, 3], hidden="tanh", seed=2).to_dict()
    d["connections"][3]["trainable"] = False
    d["connections"].append({"id": "skip", "source": "x1", "target": "y2", "weight": 2,
                             "trainable": True})
    net = Network.from_dict(d)
    same(net, one_at_a_time(d))
    assert not net.connections[d["connections"][3]["id"]].trainable
    assert net.connections["skip"].weight == 2.0
    # the copy keeps every bit of every value
    assert net.copy().to_dict() == net.to_dict()


def test_from_dict_without_trainable_or_with_unusual_values_still_works():
    d = small_dict()
    for c in d["connections"]:
        del c["trainable"]
    same(Network.from_dict(d), one_at_a_time(d))
    d["connections"][0]["weight"] = "0.5"        # text spelling a number: the lenient path
    d["connections"][1]["trainable"] = 0
    net = Network.from_dict(d)
    same(net, one_at_a_time(d))
    assert net.connections[d["connections"][0]["id"]].weight == 0.5


FAULTS = {
    "duplicate connection id": lambda d: d["connections"][2].update(id=d["connections"][0]["id"]),
    "id of a neuron": lambda d: d["connections"][2].update(id="h1"),
    "bad id": lambda d: d["connections"][2].update(id="9 lives"),
    "id with a line break": lambda d: d["connections"][2].update(id="c\nd"),
    "dangling source": lambda d: d["connections"][4].update(source="nobody"),
    "dangling target": lambda d: d["connections"][4].update(target="nobody"),
    "self": lambda d: d["connections"][4].update(source="h1", target="h1"),
    "into an input": lambda d: d["connections"][4].update(source="h1", target="x1"),
    "out of an output": lambda d: d["connections"][4].update(source="y1", target="h2"),
    "same pair twice": lambda d: d["connections"][5].update(
        source=d["connections"][4]["source"], target=d["connections"][4]["target"]),
    "NaN weight": lambda d: d["connections"][6].update(weight=math.nan),
    "infinite weight": lambda d: d["connections"][6].update(weight=-math.inf),
    "true as weight": lambda d: d["connections"][6].update(weight=True),
    "list as weight": lambda d: d["connections"][6].update(weight=[1]),
    "cycle": lambda d: d["connections"].append(
        {"id": "back", "source": "h2", "target": "h1", "weight": 0.1}) or d["connections"].append(
        {"id": "fwd", "source": "h1", "target": "h2", "weight": 0.1}),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_from_dict_refuses_like_one_at_a_time(fault):
    d = small_dict()
    FAULTS[fault](d)
    with pytest.raises(NetworkError) as ref:
        one_at_a_time(d)
    with pytest.raises(NetworkError) as got:
        Network.from_dict(d)
    assert str(got.value) == str(ref.value)


def test_finite_number_is_the_one_check():
    assert finite_number("2.5", "w") == 2.5 and finite_number(3, "w") == 3.0
    for bad, msg in [(True, "w must be a number, not True"),
                     ("abc", "w must be a number, not 'abc'"),
                     (math.nan, "w must be a finite number, not nan"),
                     ("inf", "w must be a finite number, not 'inf'"),
                     (10 ** 400, "w must be a number")]:
        with pytest.raises(NetworkError, match="^" + msg.replace("(", r"\(")):
            finite_number(bad, "w")


# ---------------------------------------------------------------------- cycles
def reference_cycle(n: int, edges: list[tuple[int, int]]) -> bool:
    out = {i: [] for i in range(n)}
    for s, t in edges:
        out[s].append(t)
    state: dict[int, int] = {}

    def visit(v) -> bool:
        state[v] = 1
        for t in out[v]:
            if state.get(t) == 1 or (t not in state and visit(t)):
                return True
        state[v] = 2
        return False
    return any(v not in state and visit(v) for v in range(n))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))))
def test_find_cycle_ids_agrees_with_a_plain_search(case):
    n, edges = case
    ids = [f"n{i}" for i in range(n)]
    cyc = find_cycle_ids(ids, [ids[s] for s, _ in edges], [ids[t] for _, t in edges])
    assert (cyc is not None) == reference_cycle(n, edges)
    if cyc is not None:  # a real cycle, closed, along existing edges
        assert cyc[0] == cyc[-1]
        names = {(ids[s], ids[t]) for s, t in edges}
        assert all((a, b) in names for a, b in zip(cyc, cyc[1:], strict=False))


def test_a_long_chain_is_acyclic_and_closing_it_is_named():
    n = 3000
    ids = [f"n{i}" for i in range(n)]
    assert find_cycle_ids(ids, ids[:-1], ids[1:]) is None
    assert find_cycle_ids(ids, ids, ids[1:] + ids[:1]) == ids + ids[:1]


# ---------------------------------------------------------------------- nesting
def reference_depth(text: str) -> int:
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
        elif ch in "]}":
            depth -= 1
    return best


json_values = st.recursive(
    st.none() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet='ab"\\[]{}é\u2028\n', max_size=8),
    lambda kids: st.lists(kids, max_size=3)
    | st.dictionaries(st.text(alphabet='k"\\[]{', max_size=4), kids, max_size=3),
    max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(json_values, st.booleans())
def test_nesting_depth_ignores_brackets_in_strings(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert project.parsing.nesting_depth(text) == reference_depth(text)
    assert project.parsing.nesting_depth(text.encode("utf-8")) == reference_depth(text)


def test_nesting_limit_counts_real_brackets_only():
    deep = "[" * 65 + "]" * 65
    with pytest.raises(project.ProjectError, match="nested more than 64 levels"):
        project.parse(deep)
    # escaped quotes and backslashes do not end a string early
    hidden = json.dumps({"a": '\\"' + "[" * 100 + '\\\\', "b": ["x"]})
    assert project.parsing.nesting_depth(hidden) == 2
    project.parse(hidden)


# ---------------------------------------------------------------------- bulk edits
def dense_layer_one_at_a_time(net: Network, after: int, count: int, act: str, seed: int):
    """add_dense_layer as it was written first: one connect() (with its checks) at a time."""
    layers = net.layers()
    src = layers[after]
    src_set = set(src)
    replaced = [c for c in net.connections.values() if c.source in src_set]
    targets = list(dict.fromkeys(c.target for c in replaced))
    rng = np.random.default_rng(seed)
    lim_in = math.sqrt(6.0 / (len(src) + count))
    lim_out = math.sqrt(6.0 / (count + max(1, len(targets))))
    x0 = max(net.neurons[s].x for s in src) + 160.0
    for n in net.neurons.values():
        if n.x >= x0 - 1e-9:
            n.x += 160.0
    for c in replaced:
        net.disconnect(c.id)
    new = []
    for i in range(count):
        n = net.add_neuron("hidden", activation=act, x=x0, y=(i - (count - 1) / 2) * 80.0)
        new.append(n.id)
        for s in src:
            net.connect(s, n.id, float(rng.uniform(-lim_in, lim_in)))
        for t in targets:
            net.connect(n.id, t, float(rng.uniform(-lim_out, lim_out)))
    return new


@pytest.mark.parametrize("sizes, after, count", [([3, 4, 2], 0, 5), ([2, 3, 3, 1], 1, 4),
                                                 ([4, 2], 0, 1), ([2, 5, 1], 1, 3)])
def test_add_dense_layer_equals_one_at_a_time(sizes, after, count):
    a, b = dense(sizes, hidden="tanh", seed=3), dense(sizes, hidden="tanh", seed=3)
    for net in (a, b):
        if net.connection_between(net.inputs[0].id, net.outputs[0].id) is None:
            net.connect(net.inputs[0].id, net.outputs[0].id, 0.25)   # a skip connection
        net.disconnect(list(net.connections)[1])                 # a gap in the ids
    events = []
    a.subscribe(lambda e, ids: events.append((e, len(ids))))
    assert a.add_dense_layer(after, count, "relu", seed=7) == \
        dense_layer_one_at_a_time(b, after, count, "relu", 7)
    same(a, b)
    assert sum(1 for e, _ in events if e == "connection_added") == 1
    assert sum(1 for e, _ in events if e == "connection_removed") <= 1
    # the hints still give the smallest free ids afterwards
    assert a.new_id("c") == b.new_id("c") and a.new_id("h") == b.new_id("h")


def connect_fully_one_at_a_time(net, sources, targets, seed):
    """connect_fully the plain way: every pair (target by target, source by source) checked,
    cycle search included, and added in turn, its weight drawn from U(-l, l) with
    l = sqrt(6 / (n_sources + n_targets)) as it is made."""
    rng = np.random.default_rng(seed)
    fan = len({s for s in sources if s in net.neurons}) \
        + len({t for t in targets if t in net.neurons})
    made = []
    for t in targets:
        for s in sources:
            try:
                net.check_connect(s, t)
            except NetworkError:
                continue
            lim = math.sqrt(6.0 / fan)
            made.append(net.connect(s, t, float(rng.uniform(-lim, lim))).id)
    return made


@pytest.mark.parametrize("pick", ["layers", "overlap", "with_cycle_risk", "unknown_ids"])
def test_connect_fully_equals_one_at_a_time(pick):
    a, b = dense([3, 3, 3, 2], seed=0), dense([3, 3, 3, 2], seed=0)
    for net in (a, b):
        net.disconnect(list(net.connections)[4])
        net.add_neuron("hidden", id="free")
    ids = list(a.neurons)
    rnd = random.Random(pick)
    if pick == "layers":
        srcs, tgts = ids[:3] + ["free"], ids[3:9]
    elif pick == "overlap":
        srcs, tgts = ids[:6], ids[3:]
    elif pick == "with_cycle_risk":   # targets reach sources: connections may close cycles
        srcs, tgts = ids[6:9] + ["free"], ["free"] + ids[3:6]
    else:
        srcs, tgts = ["nobody"] + rnd.sample(ids, 5), rnd.sample(ids, 6) + ["ghost"]
    assert a.connect_fully(srcs, tgts, seed=5) == connect_fully_one_at_a_time(b, srcs, tgts, 5)
    same(a, b)
    assert a.find_cycle() is None


def test_bulk_edits_keep_the_param_store_consistent():
    net = dense([20, 30, 10], seed=0)
    net.add_dense_layer(1, 12, seed=1)
    net.connect_fully([n.id for n in net.inputs], [n.id for n in net.outputs], seed=2)
    slots = [c.slot for c in net.connections.values()] + [n.slot for n in net.neurons.values()]
    assert len(set(slots)) == len(slots)
    assert not set(slots) & set(net.store.free_slots)
    assert isinstance(N.Network.from_dict(net.to_dict()), Network)


# ---------------------------------------------------------------------- the loader
def test_project_load_builds_what_one_at_a_time_builds():
    p = project.new_project()
    p.network = dense([2, 5, 4, 1], hidden="tanh", output="sigmoid", seed=4)
    p.network.set_trainable(list(p.network.connections)[2], False)
    text = project.dumps(p)
    doc = json.loads(text)
    same(project.loads(text).network, one_at_a_time(doc["network"]))
    # connections without "trainable", and a mix of both, normalise the same way
    for c in doc["network"]["connections"]:
        del c["trainable"]
    same(project.from_dict(json.loads(json.dumps(doc))).network, one_at_a_time(doc["network"]))
    doc["network"]["connections"][0]["trainable"] = False
    net = project.from_dict(doc).network
    same(net, one_at_a_time(doc["network"]))
    assert not net.connections[doc["network"]["connections"][0]["id"]].trainable


def test_building_twice_from_one_checked_document_gives_independent_networks():
    text = project.dumps(project.new_project())
    doc = project.validate_document(project.migrate(json.loads(text)))
    a, b = project.build(doc).network, project.build(doc).network
    cid = next(iter(a.connections))
    a.disconnect(cid)
    assert cid in b.connections and b.connection_between(*_ends(b, cid)) is not None


def _ends(net, cid):
    c = net.connections[cid]
    return c.source, c.target


def test_size_limited_read_names_folders_and_missing_files(tmp_path):
    from nnstudio.core import datasets
    with pytest.raises(datasets.DatasetError, match="is a folder, not a CSV file"):
        datasets.read_csv(tmp_path)
    with pytest.raises(project.ProjectError, match="is a folder, not a project file"):
        project.load(tmp_path)
    with pytest.raises(project.ProjectError, match="cannot read .*No such file"):
        project.load(tmp_path / "none.nnproj")


def test_check_label_and_check_role_change_nothing():
    net = dense([2, 2, 1], seed=0)
    before = net.to_dict()
    assert net.check_label("h1", "  hidden one ") == "hidden one"
    for nid, role, msg in [("h1", "input", "has incoming connections"),
                           ("h1", "output", "has outgoing connections"),
                           ("h1", "boss", "is not one of"), ("zz", "input", "no neuron")]:
        with pytest.raises(NetworkError, match=msg):
            net.check_role(nid, role)
    for bad, msg in [("  ", "cannot be empty"), ("x" * 65, "longer than 64")]:
        with pytest.raises(NetworkError, match=msg):
            net.check_label("h1", bad)
    assert net.to_dict() == before


# ---------------------------------------------------------------------- bulk add / remove
def test_disconnect_many_then_add_connection_dicts_restores_with_one_notice_each():
    net = dense([3, 4, 4, 2], seed=1)
    ref = net.copy()
    events = []
    net.subscribe(lambda e, ids: events.append((e, ids)))
    cids = list(net.connections)[5:17]
    dicts = net.disconnect_many(cids)
    assert dicts == [ref.connections[c].to_dict() for c in cids]
    assert not set(cids) & set(net.connections)
    net.add_connection_dicts(dicts)
    assert events == [("connection_removed", tuple(cids)), ("connection_added", tuple(cids))]
    assert sorted(map(str, net.to_dict()["connections"])) == \
        sorted(map(str, ref.to_dict()["connections"]))
    assert net.find_cycle() is None and net.new_id("c") == ref.new_id("c")


def test_disconnect_many_refuses_unknown_or_repeated_ids_and_changes_nothing():
    net = dense([2, 2, 1], seed=0)
    before = net.to_dict()
    first = next(iter(net.connections))
    for cids, msg in [([first, "nope"], "there is no connection 'nope'"),
                      ([first, first], "named twice")]:
        with pytest.raises(NetworkError, match=msg):
            net.disconnect_many(cids)
        assert net.to_dict() == before


ADD_FAULTS = {
    "existing id": lambda net, d: d[1].update(id=next(iter(net.connections))),
    "existing pair": lambda net, d: d[1].update(source="x1", target="h1"),
    "into an input": lambda net, d: d[1].update(target="x2"),
    "NaN": lambda net, d: d[2].update(weight=math.nan),
    "cycle through new ones": lambda net, d: d.extend([
        {"id": "n1", "source": "h1", "target": "h9", "weight": 1.0},
        {"id": "n2", "source": "h9", "target": "h1", "weight": 1.0}]),
    "cycle through old ones": lambda net, d: d.append(
        {"id": "n3", "source": "h3", "target": "h1", "weight": 1.0}),
}


@pytest.mark.parametrize("fault", list(ADD_FAULTS))
def test_add_connection_dicts_refuses_like_one_at_a_time_and_changes_nothing(fault):
    net = dense([2, 2, 2, 1], seed=0)           # x1 x2 -> h1 h2 -> h3 h4 -> y1
    net.add_neuron("hidden", id="h9")
    new = [{"id": f"k{i}", "source": s, "target": t, "weight": 0.5}
           for i, (s, t) in enumerate([("x1", "h9"), ("h9", "y1"), ("x2", "h9")])]
    ADD_FAULTS[fault](net, new)
    ref = net.copy()
    with pytest.raises(NetworkError) as expected:
        for cd in new:
            connect_dict(ref, cd)
    before = net.to_dict()
    with pytest.raises(NetworkError) as got:
        net.add_connection_dicts(new)
    assert str(got.value) == str(expected.value)
    assert net.to_dict() == before

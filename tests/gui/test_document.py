"""The document as the one edit API: each edit is one undo step that the network hears as the
edit's own notices (no change-then-revert behind the scenes), undo puts things back in their
places, and what an edit computes comes from the network's pure answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnstudio.core import datasets
from nnstudio.core.network import NetworkError, dense
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.document import Document


@pytest.fixture
def doc(qtbot):
    net = dense([2, 3, 1], hidden="tanh", output="sigmoid", seed=0)
    d = Document(Project(net, datasets.generate("xor"), TrainSettings()))
    yield d
    d.deleteLater()


@pytest.fixture
def heard(doc):
    events = []
    doc.network.subscribe(lambda e, ids: events.append((e, ids)))
    return events


def test_randomize_and_auto_layout_are_one_step_and_one_notice_each(doc, heard):
    net = doc.network
    values = net.store.values[net.param_slots()]
    expected = net.initial_values(5, "he")
    doc.randomize(seed=5, init="he")
    assert heard == [("params_changed", ())]
    assert np.array_equal(net.store.values[net.param_slots()], expected)
    del heard[:]
    net_positions = net.layout_positions()
    doc.auto_layout()
    assert [e for e, _ in heard] == ["neuron_moved"]
    assert {nid: (n.x, n.y) for nid, n in net.neurons.items()} == net_positions
    assert doc.undo_stack.undoText() == "Auto-layout"
    count = doc.undo_stack.count()
    doc.auto_layout()   # already laid out: nothing to record
    assert doc.undo_stack.count() == count
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert np.array_equal(net.store.values[net.param_slots()], values)


def test_connect_fully_adds_what_the_network_plans_with_xavier_per_column_pair(doc, heard):
    net = doc.network
    x = max(n.x for n in net.neurons.values())
    new = [doc.add_neuron("hidden", x + 200.0, 80.0 * i) for i in range(4)]
    ids = [n.id for n in net.inputs] + new
    columns = net.columns_by_x(ids)
    assert columns == [[n.id for n in net.inputs], new]
    plan = net.plan_full_connections([(columns[0], columns[1])], doc.settings.seed)
    del heard[:]
    made = doc.connect_fully(ids)
    assert made == plan.ids and len(made) == 2 * 4
    assert [net.connections[c].weight for c in made] == plan.weights.tolist()
    assert all(abs(w) <= math.sqrt(6.0 / (2 + 4)) for w in plan.weights)
    assert heard == [("connection_added", tuple(made))]
    assert doc.undo_stack.undoText() == "Connect 8 pairs fully"
    doc.undo_stack.undo()
    assert not any(c.target in new for c in net.connections.values())


def test_connect_fully_refusals_change_nothing(doc):
    net = doc.network
    count = doc.undo_stack.count()
    before = net.to_dict()
    with pytest.raises(NetworkError, match="at least two"):
        doc.connect_fully([net.inputs[0].id])
    with pytest.raises(NetworkError, match="one column"):
        doc.connect_fully([n.id for n in net.inputs])
    with pytest.raises(NetworkError, match="no new connections"):
        doc.connect_fully([n.id for n in net.inputs] + net.layers()[1])   # already dense
    assert net.to_dict() == before and doc.undo_stack.count() == count


def test_undo_of_a_delete_puts_neurons_and_connections_back_in_order(doc, heard):
    net = doc.network
    before = net.to_dict()
    lists = {nid: [c.id for c in net.incoming(nid)] for nid in net.neurons}
    middle = net.layers()[1][1]
    doc.remove([middle, next(iter(net.connections))])
    assert doc.undo_stack.undoText() == "Delete 1 neuron and 1 connection"
    del heard[:]
    doc.undo_stack.undo()
    assert net.to_dict() == before
    assert {nid: [c.id for c in net.incoming(nid)] for nid in net.neurons} == lists
    assert [e for e, _ in heard] == ["neuron_added", "connection_added"]


def test_a_move_keeps_the_evaluation_and_a_rename_does_not(doc):
    ev = doc.evaluation()
    h = doc.network.layers()[1][0]
    doc.move_items({h: (12.0, 34.0)})
    assert doc.evaluation() is ev   # positions change no value
    doc.set_label(h, "Renamed")
    assert doc.evaluation() is not ev


def test_paste_validates_with_the_networks_messages_and_changes_nothing(doc):
    net = doc.network
    before = net.to_dict()
    with pytest.raises(NetworkError, match="softmax"):
        doc.paste([{"id": "a", "role": "hidden", "activation": "softmax"}], [])
    with pytest.raises(NetworkError, match="finite"):
        doc.paste([{"id": "a", "role": "hidden"}, {"id": "b", "role": "output"}],
                  [{"source": "a", "target": "b", "weight": math.inf}])
    assert net.to_dict() == before
    ids = doc.paste([{"id": "a", "role": "hidden"}, {"id": "b", "role": "output"}],
                    [{"source": "a", "target": "b", "weight": 0.5}])
    assert ids == ["h4", "y2", net.connections[ids[2]].id]
    assert net.connection_between("h4", "y2").weight == 0.5


def test_pasted_connections_are_stored_as_the_network_holds_them(doc):
    net = doc.network
    ids = doc.paste([{"id": "a", "role": "hidden"}, {"id": "b", "role": "output"}],
                    [{"source": "a", "target": "b", "weight": "0.25"}])   # text: a number
    pasted = net.connections[ids[2]].to_dict()
    assert pasted["weight"] == 0.25 and pasted["trainable"] is True
    doc.undo_stack.undo()
    assert ids[2] not in net.connections
    doc.undo_stack.redo()
    assert net.connections[ids[2]].to_dict() == pasted

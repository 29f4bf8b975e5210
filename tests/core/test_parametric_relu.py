"""Parametric ReLU: a leaky slope made trainable is a parameter of the network ("h1:slope"),
in the model, the file format, the engine's gradient (against finite differences), the
trainer, the trace and the checker; the PyTorch script refuses it rather than train it wrong."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnstudio.core import project
from nnstudio.core.datasets import Dataset
from nnstudio.core.engine import Engine
from nnstudio.core.export import ExportError, pytorch
from nnstudio.core.lessons import Checker
from nnstudio.core.network import Network, NetworkError, dense, slope_param_id
from nnstudio.core.project import ProjectError
from nnstudio.core.project.challenges_section import validate_challenges
from nnstudio.core.regularization import Penalty
from nnstudio.core.trace import build
from nnstudio.core.trace.gradcheck import gradient_check
from nnstudio.core.trainer import Trainer, TrainSettings
from tests.core.test_project import check_schema, load_schema


def small_net(trainable: bool = True) -> Network:
    """x1, x2 → two leaky hidden neurons (h1's slope trainable) → a leaky output (trainable)."""
    net = Network()
    for x in ("x1", "x2"):
        net.add_neuron("input", id=x)
    net.add_neuron("hidden", id="h1", activation="leaky_relu", slope=0.2, bias=-0.1,
                   slope_trainable=trainable)
    net.add_neuron("hidden", id="h2", activation="leaky_relu", slope=0.3, bias=0.2)
    net.add_neuron("output", id="y", activation="leaky_relu", slope=0.1, bias=0.05,
                   slope_trainable=trainable)
    for i, (s, t, w) in enumerate([("x1", "h1", 0.9), ("x2", "h1", -0.7), ("x1", "h2", 0.4),
                                   ("x2", "h2", 0.8), ("h1", "y", 1.1), ("h2", "y", -0.6)]):
        net.connect(s, t, w, id=f"c{i}")
    return net


DATA_X = np.array([[1.0, 0.5], [-1.5, 0.3], [0.2, -1.8], [-0.7, -0.9], [1.3, 1.7]])
DATA_Y = np.array([[0.4], [-0.2], [0.1], [-0.5], [0.9]])
DATASET = Dataset(["x1", "x2"], ["y"], DATA_X, DATA_Y)


# ---------------------------------------------------------------------- the model
def test_a_trainable_slope_is_a_parameter_of_the_network():
    net = small_net()
    assert net.param_ids()[-2:] == ["h1:slope", "y:slope"]
    assert slope_param_id("h1") == "h1:slope"
    assert net.get_param("h1:slope") == 0.2 and net.param_count() == 6 + 3 + 2
    assert len(net.param_slots()) == len(net.param_ids())
    net.set_param("h1:slope", 0.35)
    assert net.neurons["h1"].slope == 0.35
    net.set_activation("h1", "leaky_relu", 0.4)     # the inspector's slope box: the same value
    assert net.get_param("h1:slope") == 0.4
    d = net.to_dict()["neurons"]
    assert [n.get("slope_trainable") for n in d] == [None, None, True, None, True]
    copy = net.copy()
    assert copy.param_ids() == net.param_ids() and copy.get_param("h1:slope") == 0.4
    # another activation: no slope, no parameter (the setting comes back with leaky ReLU)
    net.set_activation("h1", "tanh")
    assert "h1:slope" not in net.param_ids()
    with pytest.raises(NetworkError, match="no parameter 'h1:slope'"):
        net.get_param("h1:slope")
    net.set_activation("h1", "leaky_relu")
    assert net.get_param("h1:slope") == 0.4


def test_turning_it_off_keeps_the_value_and_refusals_change_nothing():
    net = small_net()
    free = len(net.store.free_slots)
    net.set_slope_trainable("h1", False)
    assert net.neurons["h1"].slope == 0.2 and "h1:slope" not in net.param_ids()
    assert len(net.store.free_slots) == free + 1      # its slot went back to the store
    with pytest.raises(NetworkError, match="only a leaky ReLU has a slope to train, not relu"):
        net.add_neuron("hidden", id="h9", activation="relu", slope_trainable=True)
    net.set_activation("h2", "tanh")
    with pytest.raises(NetworkError, match="has no slope to train"):
        net.set_slope_trainable("h2", True)
    with pytest.raises(NetworkError, match="'train slope' switch"):
        net.set_trainable("y:slope", False)
    free = len(net.store.free_slots)
    net.remove_neuron("y")     # its bias, its slope and its two weights go back to the store
    assert "y:slope" not in net.param_ids() and len(net.store.free_slots) == free + 4
    assert len(net.param_slots()) == len(net.param_ids())


def test_randomize_keeps_the_slopes():
    net = small_net()
    net.randomize(seed=3)
    assert net.get_param("h1:slope") == 0.2 and net.get_param("y:slope") == 0.1


# ---------------------------------------------------------------------- the file format
def test_the_file_keeps_slope_trainable_and_refuses_it_on_another_activation():
    net = small_net()
    proj = project.Project(net, DATASET, TrainSettings(), "", "prelu")
    text = project.dumps(proj)
    doc = json.loads(text)
    assert [n.get("slope_trainable") for n in doc["network"]["neurons"]] == \
        [None, None, True, None, True]
    assert check_schema(doc, load_schema(), load_schema()) == []
    back = project.loads(text)
    assert back.network.param_ids() == net.param_ids()
    assert back.network.get_param("y:slope") == 0.1
    doc["network"]["neurons"][3]["slope_trainable"] = True        # h2: leaky, fine
    assert project.from_dict(doc).network.neurons["h2"].slope_trainable
    doc["network"]["neurons"][3]["activation"] = "tanh"
    with pytest.raises(ProjectError, match=r"neurons\[3\]\.slope_trainable: only a leaky ReLU"):
        project.from_dict(doc)
    doc["network"]["neurons"][3].update(activation="leaky_relu", slope_trainable="yes")
    with pytest.raises(ProjectError, match=r"neurons\[3\]\.slope_trainable"):
        project.from_dict(doc)


# ---------------------------------------------------------------------- engine and trainer
def _fd(eng: Engine, i: int, X, Y, loss: str, h: float = 1e-6) -> float:
    base = eng.params.copy()

    def f(v: float) -> float:
        eng.params[:] = base
        eng.params[i] = v
        return eng.loss(X, Y, loss)
    x0 = base[i]
    g = (-f(x0 + 2 * h) + 8 * f(x0 + h) - 8 * f(x0 - h) + f(x0 - 2 * h)) / (12 * h)
    eng.params[:] = base
    return g


@pytest.mark.parametrize("loss", ["mse", "ssr", "mae"])
def test_slope_gradients_match_finite_differences_hidden_and_output(loss):
    net = small_net()
    eng = Engine.compile(net)
    ev = eng.evaluate(DATA_X, DATA_Y, loss)
    assert np.min(np.abs(ev.z[:, [eng.index["h1"], eng.index["h2"], eng.index["y"]]])) > 0.02
    value, grad = eng.gradient(DATA_X, DATA_Y, loss)
    np.testing.assert_allclose(ev.grad, grad, rtol=1e-12, atol=1e-15)
    for pid in ("h1:slope", "y:slope", "h1", "c0", "c4"):
        i = eng.param_index(pid)
        assert grad[i] == pytest.approx(_fd(eng, i, DATA_X, DATA_Y, loss), rel=1e-6, abs=1e-10)
    assert grad[eng.param_index("h1:slope")] != 0 and grad[eng.param_index("y:slope")] != 0


def test_slopes_are_no_weights_and_sit_in_no_layer():
    net = small_net()
    eng = Engine.compile(net)
    assert eng.weight_mask[[eng.param_index("h1:slope"), eng.param_index("y:slope")]].tolist() \
        == [0.0, 0.0]
    _, grad = eng.gradient(DATA_X, DATA_Y, "mse")
    means = eng.layer_grad_means(grad)
    fixed = Engine.compile(small_net(trainable=False))
    _, g2 = fixed.gradient(DATA_X, DATA_Y, "mse")
    np.testing.assert_allclose(means, fixed.layer_grad_means(g2), rtol=1e-12)
    # an L2 penalty leaves the slopes' gradient as the loss's
    _, with_pen = eng.gradient(DATA_X, DATA_Y, "mse", penalty=Penalty("l2", 0.5))
    i = eng.param_index("y:slope")
    assert with_pen[i] == grad[i]


def test_a_dense_fast_path_block_reads_its_slopes_from_the_vector():
    net = dense([2, 3, 1], hidden="leaky_relu", output="identity", seed=1, init="uniform")
    for n in net.by_role("hidden"):
        net.set_slope_trainable(n.id, True)
    eng = Engine.compile(net)
    i = eng.param_index(slope_param_id(net.by_role("hidden")[0].id))
    before = eng.predict(DATA_X)
    eng.params[i] = 0.9
    assert not np.array_equal(eng.predict(DATA_X), before)    # no stale copy of the slope
    _, grad = eng.gradient(DATA_X, DATA_Y, "mse")
    assert grad[i] == pytest.approx(_fd(eng, i, DATA_X, DATA_Y, "mse"), rel=1e-6, abs=1e-10)


def test_training_moves_the_slope_and_the_snapshot_writes_it_back():
    net = small_net()
    tr = Trainer(net, DATA_X, DATA_Y, TrainSettings(loss="mse", optimizer="gd",
                                                    learning_rate=0.1, epochs=5))
    snaps = tr.train()
    net.set_param_vector(snaps[-1].slots, snaps[-1].params)
    assert net.neurons["y"].slope != 0.1 and net.neurons["h2"].slope == 0.3   # h2's is fixed


# ---------------------------------------------------------------------- trace and checks
def test_the_trace_writes_the_slopes_gradient_and_update():
    net = small_net()
    tr = build(net, DATA_X, DATA_Y, loss="mse", learning_rate=0.1, sample=1)
    steps = {s.title: s for s in tr.steps}
    g = steps["Leaky slope of y: dL/dslope"]
    assert g.value == pytest.approx(tr.grads["y:slope"])
    assert "dL/dslope = dL/da × min(z, 0)" in g.formula
    assert list(g.neurons) == ["y"] and list(g.params) == ["y:slope"]
    up = steps["Update leaky slope of h1"]
    assert list(up.neurons) == ["h1"] and "slope_new = slope_old − lr × gradient" in up.formula
    assert up.value == pytest.approx(0.2 - 0.1 * tr.grads["h1:slope"])
    final = tr.state_at(len(tr.steps) - 1).neuron_text()
    assert "slope: 0.2 → " in final["h1"]
    rows = {r.pid: r for r in gradient_check(net, DATA_X, DATA_Y, "mse")}
    assert rows["h1:slope"].ok and rows["y:slope"].ok


def test_a_goal_on_a_slope_says_to_turn_train_slope_on():
    ch = validate_challenges({"goals": [
        {"id": "g", "require": [{"kind": "parameter", "id": "h1:slope", "value": 0.2,
                                 "tolerance": 0.01}]}]})
    proj = project.Project(small_net(trainable=False), DATASET, TrainSettings(), "", "p")
    (r,) = Checker(ch).check(proj)
    assert not r.passed and "the leaky slope of 'h1' is not trainable" in r.line()
    proj.network.set_slope_trainable("h1", True)
    (r,) = Checker(ch).check(proj)
    assert r.passed, r.line()
    with pytest.raises(ProjectError, match="not a valid id"):
        validate_challenges({"goals": [{"id": "g", "require": [
            {"kind": "parameter", "id": "h 1:slope", "value": 0, "tolerance": 0}]}]})


def test_the_pytorch_script_refuses_a_trainable_slope():
    proj = project.Project(small_net(), DATASET, TrainSettings(), "", "p")
    with pytest.raises(ExportError, match="cannot train a leaky slope yet"):
        pytorch.script(proj)
    proj.network.set_slope_trainable("h1", False)
    proj.network.set_slope_trainable("y", False)
    assert "class" in pytorch.script(proj)


def test_the_numpy_script_predicts_with_the_slopes_current_values():
    from nnstudio.core.export import numpy_script
    net = small_net()
    net.set_param("h1:slope", 0.37)     # as training left it
    src = numpy_script.script(project.Project(net, DATASET, TrainSettings(), "", "p"))
    scope: dict = {}
    exec(compile(src, "exported.py", "exec"), scope)   # the script we just generated
    np.testing.assert_allclose(scope["predict"](DATA_X), Engine.compile(net).predict(DATA_X),
                               rtol=0, atol=1e-15)

"""The samples reproduce the seeds' worked examples, number for number."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import activations, project
from nnstudio.core.engine import Engine
from nnstudio.core.trainer import Trainer
from nnstudio.samples import build_samples
from tests.core.test_project import check_schema, load_schema

NAMES = ["perceptron-and", "intercept-descent", "dosage-backprop", "linear-regression",
         "fruit-classifier", "xor", "three-layer", "spiral", "weight-and-bias", "chain-rule",
         "softmax", "why-nonlinearity", "vanishing-gradients", "dying-relu", "parametric-relu",
         "architectures", "cnn-o-vs-x"]


def load(name: str) -> project.Project:
    return project.load(paths.SAMPLES / f"{name}.nnproj")


def trained(p: project.Project, epochs: int | None = None) -> tuple[Trainer, list]:
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings)
    snaps = tr.train(epochs)
    return tr, snaps


def params(tr: Trainer, values=None) -> dict[str, float]:
    vals = tr.engine.params if values is None else values
    return dict(zip(tr.engine.param_ids, vals.tolist(), strict=True))


# ---------------------------------------------------------------------- files and lessons
def test_exactly_the_named_samples_ship():
    assert sorted(p.stem for p in paths.samples()) == sorted(NAMES)
    assert paths.DEFAULT_SAMPLE.exists()


@pytest.mark.parametrize("name", NAMES)
def test_sample_file_is_what_the_build_script_makes(name):
    built = build_samples.build(name)
    assert (paths.SAMPLES / f"{name}.nnproj").read_text(encoding="utf-8") == project.dumps(built)


@pytest.mark.parametrize("name", NAMES)
def test_sample_is_a_ready_lesson(name):
    p = load(name)
    assert p.name and p.name != "Untitled"
    desc = p.description
    assert desc.startswith("# ") and "## What to watch" in desc and "## Try next" in desc
    labels = [n.label for n in p.network.neurons.values()]
    assert len(set(labels)) == len(labels), "labels tell neurons apart"
    pos = np.array([(n.x, n.y) for n in p.network.neurons.values()])
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 60, "no two neurons (with their labels) overlap on the canvas"
    # columns run left to right by depth
    depth = p.network.depths()
    for c in p.network.connections.values():
        assert p.network.neurons[c.source].x < p.network.neurons[c.target].x
        assert depth[c.source] < depth[c.target]


@pytest.mark.parametrize("name", NAMES)
def test_sample_matches_the_schema(name):
    schema = load_schema()
    doc = json.loads((paths.SAMPLES / f"{name}.nnproj").read_text(encoding="utf-8"))
    assert check_schema(doc, schema, schema) == []


# ---------------------------------------------------------------------- seed 002
def test_perceptron_and_outputs_the_truth_table():
    p = load("perceptron-and")
    net = p.network
    assert net.get_param("w1") == 0.5 and net.get_param("w2") == 0.5
    assert net.get_param("b") == -0.75
    assert net.neurons["b"].activation == "binary_step"
    ev = Engine.compile(net).evaluate(p.dataset.X, p.dataset.Y, p.settings.loss)
    z = ev.z[:, Engine.compile(net).index["b"]]
    assert z.tolist() == [-0.75, -0.25, -0.25, 0.25]
    assert ev.outputs[:, 0].tolist() == [0, 0, 0, 1]
    assert p.dataset.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert p.dataset.accuracy(ev.outputs) == 1.0


def test_perceptron_tip_sigmoid_learns_with_the_tips_own_settings():
    p = load("perceptron-and")
    assert "set the learning rate to **1** and\n  the epochs to **200**" in p.description
    assert "nnstudio:neuron.svg" in p.description and paths.resource("lessons/neuron.svg").exists()
    p.network.set_activation("b", "sigmoid")
    p.network.set_param("b", 0.0)
    slow = Trainer(p.network.copy(), p.dataset.X, p.dataset.Y, p.settings)
    assert round(slow.full_loss(), 3) == 0.274
    slow.train()
    assert round(slow.full_loss(), 3) == 0.217
    assert p.dataset.accuracy(slow.engine.predict(p.dataset.X)) == 0.5
    tip = Trainer(p.network, p.dataset.X, p.dataset.Y,
                  p.settings.with_(learning_rate=1.0, epochs=200))
    tip.train()
    assert round(tip.full_loss(), 3) == 0.031
    assert p.dataset.accuracy(tip.engine.predict(p.dataset.X)) == 1.0
    assert {k: round(v, 2) for k, v in params(tip).items()} == {"w1": 2.66, "w2": 2.66,
                                                                 "b": -4.12}


def test_three_layer_is_3_3_3_2_dense():
    p = load("three-layer")
    net = p.network
    assert [len(layer) for layer in net.layers()] == [3, 3, 3, 2]
    assert len(net.connections) == 9 + 9 + 6 and net.param_count() == 32
    tr, snaps = trained(p)
    g = snaps[0].grad_means  # the lesson quotes them: smaller nearer the input
    assert g[0] < g[1] < g[2] and np.round(g, 3).tolist() == [0.011, 0.019, 0.028]
    out = tr.engine.predict(p.dataset.X)
    assert np.array_equal(out > 0.5, p.dataset.Y > 0.5), "both outputs learned"


# ---------------------------------------------------------------------- seed 001
def test_intercept_descent_reproduces_seed_001():
    p = load("intercept-descent")
    assert p.dataset.X[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert p.dataset.Y[:, 0].tolist() == [1, 3, 5, 7, 9]
    assert p.settings.loss == "ssr" and p.settings.optimizer == "gd"
    assert p.settings.learning_rate == 0.01
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings)
    assert list(tr.engine.param_ids) == ["slope", "intercept"]
    assert tr.engine.trainable.tolist() == [False, True], "only the intercept learns"
    assert tr.full_loss() == 405.0
    first = tr.run_step()
    assert params(tr, first.params) == {"slope": 2.0, "intercept": pytest.approx(9.10, abs=1e-12)}
    for _ in range(29):
        snap = tr.run_step()
    assert round(params(tr, snap.params)["intercept"], 2) == 1.38  # 30 steps
    snaps = tr.train()      # stops at the lesson's minimum step 0.001, after 66 updates
    assert p.settings.min_step == 0.001 and tr.state.step == 66 and snaps[-1].converged
    assert round(params(tr)["intercept"], 4) == 1.0086
    assert params(tr)["slope"] == 2.0
    assert "after\n  **66 updates**" in p.description and "b = **1.0086**" in p.description
    full = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings.with_(min_step=0.0))
    full.train()
    assert full.state.step == 100 and round(params(full)["intercept"], 4) == 1.0002


def test_intercept_lesson_tables_b_per_update():
    p = load("intercept-descent")
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings)
    b = [params(tr)["intercept"]] + [params(tr, tr.run_step().params)["intercept"]
                                     for _ in range(66)]
    shown = {0: "10.00", 1: "9.10", 2: "8.29", 3: "7.56", 4: "6.90", 5: "6.31", 10: "4.14",
             29: "1.42", 30: "1.38", 66: "1.0086"}
    row = "| b | " + " | ".join(shown.values()) + " |"
    assert row in p.description
    assert "| update | " + " | ".join(map(str, shown)) + " |" in p.description
    for n, text in shown.items():
        assert f"{b[n]:.{len(text.split('.')[1])}f}" == text
        assert b[n] == pytest.approx(1 + 9 * 0.9 ** n, abs=1e-9)
    assert "its step 29 is the\n  **30th update**" in p.description


def test_dosage_backprop_reproduces_seed_001():
    p = load("dosage-backprop")
    net = p.network
    assert p.dataset.X[:, 0].tolist() == [0.0, 0.5, 1.0]
    assert p.dataset.Y[:, 0].tolist() == [0.0, 1.0, 0.0]
    expect = {"w1": 3.34, "b1": -1.43, "w2": -3.53, "b2": 0.57, "w3": -1.22, "w4": -2.30,
              "b3": 0.0}
    assert {k: net.get_param(k) for k in expect} == expect
    assert net.neurons["b1"].label == "upper softplus"
    assert net.neurons["b2"].label == "lower softplus"
    eng = Engine.compile(net)
    assert [pid for pid, t in zip(eng.param_ids, eng.trainable, strict=True) if t] == ["b3"]
    loss, grad = eng.gradient(p.dataset.X, p.dataset.Y, "ssr")
    g = dict(zip(eng.param_ids, grad, strict=True))
    assert round(g["b3"], 1) == -15.7
    assert round(p.settings.learning_rate * g["b3"], 2) == -1.57  # the step size
    tr = Trainer(net, p.dataset.X, p.dataset.Y, p.settings)
    assert round(params(tr, tr.run_step().params)["b3"], 2) == 1.57
    tr.train()
    assert round(params(tr)["b3"], 2) == 2.61


def test_linear_regression_reaches_the_least_squares_line():
    p = load("linear-regression")
    assert p.dataset.X[:, 0].tolist() == [1, 2, 3, 4, 5]
    assert p.dataset.Y[:, 0].tolist() == [2, 4, 5, 4, 5]
    assert len(p.network.neurons) == 2 and len(p.network.connections) == 1
    tr, snaps = trained(p)
    assert params(tr)["slope"] == pytest.approx(0.6, abs=1e-6)
    assert params(tr)["intercept"] == pytest.approx(2.2, abs=1e-6)
    assert snaps[-1].loss == pytest.approx(2.4, abs=1e-9)


# ---------------------------------------------------------------------- seed 000
def test_fruit_classifier_reaches_full_accuracy():
    p = load("fruit-classifier")
    net, ds = p.network, p.dataset
    assert [n.id for n in net.inputs] == ["weight", "colour", "texture", "size"]
    assert [n.label for n in net.outputs] == ["apple", "banana", "orange"]
    assert all(n.activation == "softmax" for n in net.outputs)
    assert [len(layer) for layer in net.layers()][1:-1] == [5, 5]
    assert {net.neurons[i].activation for layer in net.layers()[1:-1] for i in layer} == {"relu"}
    assert p.settings.loss == "mse"  # the seed's squared-error loss
    assert ds.class_names == ["apple", "banana", "orange"]
    assert sorted(np.bincount(ds.labels()).tolist()) == [8, 8, 8]
    tr, _ = trained(p)
    assert ds.accuracy(tr.engine.predict(ds.X)) == 1.0


def test_the_untrained_fruit_sorter_calls_the_first_apple_an_orange():
    p = load("fruit-classifier")
    ds = p.dataset
    assert ds.X[0].tolist() == [1.5, 0.0, 0.0, 2.0]   # 150 g, red, smooth, medium
    assert ds.class_names[int(np.argmax(ds.Y[0]))] == "apple"
    before = Engine.compile(p.network).predict(ds.X[:1])[0]
    assert ds.class_names[int(np.argmax(before))] == "orange"
    assert np.round(before, 2).tolist() == [0.26, 0.18, 0.56]
    assert "(apple 0.26,\n  banana 0.18, orange 0.56)" in p.description
    tr, _ = trained(p)
    after = tr.engine.predict(ds.X[:1])[0]
    assert ds.class_names[int(np.argmax(after))] == "apple"


def test_softmax_example_from_seed_000():
    a = activations.softmax(np.array([34.0, 32.0, 25.0]))
    assert round(float(a[1]), 2) == 0.12
    assert a[1] == pytest.approx(math.exp(32) / (math.exp(34) + math.exp(32) + math.exp(25)))
    assert a.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------- xor and spiral
def test_xor_trains_below_mse_0_01_with_its_defaults():
    p = load("xor")
    assert p.settings.loss == "mse"
    tr, snaps = trained(p)
    assert snaps[-1].loss < 0.01
    assert p.dataset.accuracy(tr.engine.predict(p.dataset.X)) == 1.0


def test_spiral_reaches_95_percent_with_its_defaults():
    p = load("spiral")
    assert len(p.network.inputs) == 2 and p.dataset.class_names is not None
    assert len(p.dataset) >= 200
    tr, _ = trained(p)
    assert p.dataset.accuracy(tr.engine.predict(p.dataset.X)) >= 0.95


# ---------------------------------------------------------------------- seed 001: the CNN
def test_cnn_o_vs_x_is_seed_001s_network():
    p = load("cnn-o-vs-x")
    net, ds = p.network, p.dataset
    assert [lay.kind for lay in net.image_layers.values()] == [
        "image_input", "convolution", "pooling", "flatten"]
    assert net.image_shapes()["filters"].out_shape == (2, 4, 4)
    w, b = net.filter_values("filters")
    assert w[0, 0].tolist() == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]   # the curve
    assert w[1, 0].tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]   # the diagonal
    assert b.tolist() == [0.0, 0.0] and net.image_layers["filters"].activation == "relu"
    assert net.image_layers["pool"].mode == "max" and net.image_layers["pool"].window == 2
    assert len(net.feature_neurons("flat")) == 8 and [n.id for n in net.outputs] == ["O", "X"]
    # 3,600 dense weights against the filters' 20 parameters; 38 in the whole network
    assert net.dense_equivalent("image", 100) == 3600
    assert net.layer_param_count("filters") == 2 * (9 + 1) == 20
    assert net.param_count() == 20 + 8 * 2 + 2
    assert len(ds) == 16 and ds.images[0].shape == (1, 6, 6) and ds.class_names == ["O", "X"]


def test_cnn_o_vs_x_first_dot_product_is_exactly_3():
    p = load("cnn-o-vs-x")
    eng = Engine.compile(p.network)
    ev = eng.evaluate(p.dataset.X, p.dataset.Y, p.settings.loss)
    assert p.dataset.class_names_of(p.dataset.Y)[0] == "O"
    assert ev.maps["filters"].z[0, 0, 0, 0] == 3.0
    conv = p.network.image_shapes()["filters"]
    packed = eng.params[eng.image_blocks[1].p_off:][:conv.n_params].reshape(conv.param_shape)
    dp = conv.dot_product(p.dataset.image_data()[0], packed, 0, 0, 0)
    assert [int(x * w) for x, w in dp.terms()] == [0, 0, 1, 0, 1, 0, 1, 0, 0]
    assert dp.total == 3.0 and dp.value == 3.0
    # the maps and pooled values the lesson quotes
    curve, diagonal = ev.maps["filters"].z[0]
    assert curve[0, 0] == curve[3, 3] == 3 and diagonal[0, 3] == diagonal[3, 0] == 3
    assert ev.maps["pool"].a[0].tolist() == [[[3, 1], [1, 3]], [[1, 3], [3, 1]]]
    assert ev.maps["pool"].a[1].tolist() == [[[1, 3], [3, 1]], [[3, 1], [1, 3]]]
    assert (ev.maps["filters"].z >= 0).all()   # nothing for ReLU to cut before training
    assert p.dataset.accuracy(ev.outputs) == 10 / 16


def test_cnn_o_vs_x_trains_to_100_percent_and_knows_a_shifted_x():
    from nnstudio.core import image_datasets

    p = load("cnn-o-vs-x")
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings)
    first = None
    for snap in tr.run(every="epoch", epochs=p.settings.epochs):
        if first is None and p.dataset.accuracy(tr.engine.predict(p.dataset.X)) == 1.0:
            first = snap.epoch
    assert first == 5 and p.dataset.accuracy(tr.engine.predict(p.dataset.X)) == 1.0
    shifted = image_datasets.shifted(image_datasets.letter("X", 6), 0, 1).reshape(1, 36)
    assert not any(np.array_equal(row, shifted[0]) for row in p.dataset.X), "not in the data"
    assert round(float(tr.engine.predict(shifted)[0, 1]), 3) == 0.999

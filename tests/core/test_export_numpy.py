"""The export plan and the NumPy script: predict(X) gives the engine's outputs to 1e-12 on
every shipped sample and on random DAGs; project text cannot inject code into a script."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnstudio.core.engine import Engine
from nnstudio.core.export import numpy_script, plan
from nnstudio.core.export.plan import ExportError
from nnstudio.core.network import Network
from tests.core.export_cases import SAMPLES, import_script, random_project, sample


def _predict(tmp_path, proj, name="exported"):
    path = tmp_path / f"{name}.py"
    numpy_script.write(proj, path)
    return import_script(path, name).predict


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_numpy_script_matches_the_engine_on_every_sample(tmp_path, path):
    proj = sample(path)
    X = proj.dataset.X
    expected = Engine.compile(proj.network).predict(X)
    got = _predict(tmp_path, proj)(X)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(50))
def test_numpy_script_matches_the_engine_on_random_dags(tmp_path, seed):
    """(From seed 40 on, with derived inputs: x1², x1·x2, sin x2, ... among the inputs.)"""
    proj = random_project(seed, step_hidden=True, derived=seed >= 40)
    X = np.random.default_rng(seed).normal(size=(17, len(proj.network.data_inputs))) * 3
    expected = Engine.compile(proj.network).predict(X)
    got = _predict(tmp_path, proj)(X)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_the_plan_holds_every_parameter_once(seed):
    proj = random_project(seed)
    net = proj.network
    p = plan.build(net, proj.settings.loss)
    ids = p.parameter_ids()
    assert sorted(ids) == sorted(net.param_ids())
    for layer in p.dense_layers():
        # sources come from earlier layers only; absent connections hold weight 0
        assert all(s.layer < layer.index for s in layer.sources)
        assert not layer.weight[~layer.present].any()
        for i, row in enumerate(layer.connection_ids):
            for j, cid in enumerate(row):
                if cid is not None:
                    c = net.connections[cid]
                    assert layer.weight[i, j] == c.weight
                    assert layer.weight_trainable[i, j] == c.trainable
                    assert layer.neuron_ids[j] == c.target


def test_a_layered_dense_network_is_a_chain_of_whole_layers():
    proj = sample(next(p for p in SAMPLES if p.stem == "spiral"))
    p = plan.build(proj.network, "bce")
    assert p.is_sequential()
    assert [layer.size for layer in p.dense_layers()] == [16, 16, 1]
    assert all(layer.fully_connected for layer in p.dense_layers())
    assert p.fused == "sigmoid"


def test_a_depth_with_two_activations_becomes_two_layers():
    net = Network()
    x = net.add_neuron("input", id="x").id
    h1 = net.add_neuron("hidden", id="h1", activation="tanh", y=0).id
    h2 = net.add_neuron("hidden", id="h2", activation="relu", y=1).id
    h3 = net.add_neuron("hidden", id="h3", activation="tanh", y=2).id
    y = net.add_neuron("output", id="y").id
    for h in (h1, h2, h3):
        net.connect(x, h, 0.5)
        net.connect(h, y, 1.0)
    net.connect(x, y, 2.0)  # a skip connection
    p = plan.build(net)
    layers = p.dense_layers()
    assert [(la.depth, la.activation, la.neuron_ids) for la in layers] == [
        (1, "tanh", ["h1", "h3"]), (1, "relu", ["h2"]), (2, "identity", ["y"])]
    assert [s.layer for s in layers[2].sources] == [0, 1, 2]
    assert not p.is_sequential()


def test_a_network_without_outputs_is_refused():
    net = Network()
    net.add_neuron("input")
    with pytest.raises(ExportError, match="no output neuron"):
        plan.build(net)


def test_labels_and_names_cannot_inject_code(tmp_path):
    """Labels are free text (a newline, quotes, a docstring's end): they reach the script only
    as comments with such characters replaced, or as string literals."""
    proj = sample(next(p for p in SAMPLES if p.stem == "xor"))
    evil = 'x\nraise SystemExit("injected")\n"""\\'
    for n in proj.network.neurons.values():  # (a label is one line: the model refuses "\n")
        proj.network.set_label(n.id, evil.replace("\n", " ")[:60])
    proj.name = evil
    text = numpy_script.script(proj)
    compile(text, "exported.py", "exec")
    assert not any(line.strip().startswith("raise SystemExit(\"injected")
                   for line in text.splitlines())
    predict = _predict(tmp_path, proj)
    np.testing.assert_allclose(predict(proj.dataset.X),
                               Engine.compile(proj.network).predict(proj.dataset.X), atol=1e-12)


def test_predict_checks_the_shape_of_its_input(tmp_path):
    proj = sample(next(p for p in SAMPLES if p.stem == "xor"))
    with pytest.raises(ValueError, match="2 column"):
        _predict(tmp_path, proj)(np.zeros((3, 3)))


def test_the_script_run_on_a_csv_prints_the_outputs(tmp_path):
    proj = sample(next(p for p in SAMPLES if p.stem == "fruit-classifier"))
    path = tmp_path / "fruit.py"
    numpy_script.write(proj, path)
    csv = tmp_path / "rows.csv"
    names = proj.dataset.input_names
    # columns by name, in another order, with an extra column
    order = [3, 0, 2, 1]
    lines = ["extra," + ",".join(names[i] for i in order)]
    for row in proj.dataset.X[:5]:
        lines.append("7," + ",".join(repr(float(row[i])) for i in order))
    csv.write_text("\n".join(lines) + "\n")
    out = subprocess.run([sys.executable, str(path), str(csv)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.strip().splitlines()
    assert rows[0] == ",".join(proj.dataset.target_names)
    got = np.array([[float(v) for v in r.split(",")] for r in rows[1:]])
    expected = Engine.compile(proj.network).predict(proj.dataset.X[:5])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)

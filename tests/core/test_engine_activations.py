"""Engine.activations: the public forward pass the Output pane's heat map uses."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core.engine import Engine, EngineError
from nnstudio.core.network import Network, dense


@pytest.mark.parametrize("hidden,output", [("tanh", "sigmoid"), ("relu", "softmax"),
                                           ("leaky_relu", "identity")])
def test_activations_match_a_full_evaluation(hidden, output):
    net = dense([2, 5, 3, 3], hidden=hidden, output=output, seed=4)
    eng = Engine.compile(net)
    X = np.random.default_rng(1).normal(size=(17, 2))
    z, a = eng.activations(X)
    ev = eng.evaluate(X, np.zeros((17, 3)), "mse")
    assert z.shape == a.shape == (17, len(eng.neuron_ids))
    np.testing.assert_array_equal(z, ev.z)
    np.testing.assert_array_equal(a, ev.a)
    # the output columns are exactly what predict returns (softmax applied)
    cols = [eng.index[o] for o in eng.output_ids]
    np.testing.assert_array_equal(a[:, cols], eng.predict(X))
    if output == "softmax":
        np.testing.assert_allclose(a[:, cols].sum(axis=1), 1.0)


def test_activations_of_a_sparse_network_with_a_skip_connection():
    net = Network()
    net.add_neuron("input", id="x")
    net.add_neuron("hidden", id="h", activation="tanh", bias=0.3)
    net.add_neuron("output", id="o", activation="identity", bias=-0.2)
    net.connect("x", "h", 2.0)
    net.connect("h", "o", 1.5)
    net.connect("x", "o", -0.5)
    eng = Engine.compile(net)
    X = np.array([[0.0], [1.0], [-2.0]])
    z, a = eng.activations(X)
    hz = 2.0 * X[:, 0] + 0.3
    np.testing.assert_allclose(z[:, eng.index["h"]], hz)
    np.testing.assert_allclose(a[:, eng.index["h"]], np.tanh(hz))
    np.testing.assert_allclose(a[:, eng.index["o"]], 1.5 * np.tanh(hz) - 0.5 * X[:, 0] - 0.2)
    np.testing.assert_array_equal(a[:, eng.index["x"]], X[:, 0])


def test_activations_refuse_data_of_the_wrong_width():
    eng = Engine.compile(dense([2, 3, 1], seed=0))
    with pytest.raises(EngineError, match="2 input neuron"):
        eng.activations(np.zeros((4, 3)))

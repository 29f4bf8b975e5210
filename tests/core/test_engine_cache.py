"""An activation change must not leave Engine.for_network serving a stale compiled engine."""

import numpy as np

from nnstudio.core.engine import Engine
from nnstudio.core.network import dense


def test_activation_change_recompiles_cached_engine():
    net = dense([1, 2, 1], hidden="relu", seed=1)
    X = np.array([[-2.0], [0.5], [3.0]])
    eng = Engine.for_network(net)
    before = eng.predict(X)
    for h in [n.id for n in net.neurons.values() if n.role == "hidden"]:
        net.set_activation(h, "tanh")
    eng2 = Engine.for_network(net, eng)
    fresh = Engine.compile(net)
    np.testing.assert_allclose(eng2.predict(X), fresh.predict(X))
    assert not np.allclose(eng2.predict(X), before)

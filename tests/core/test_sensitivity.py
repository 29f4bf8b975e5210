"""Sensitivity by the chain rule: the product of the link slopes along the one path, the sum
over several paths, equal to a finite difference of the network's output."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.engine import Engine
from nnstudio.core.network import dense
from nnstudio.core.trace.sensitivity import SensitivityError, sensitivities


def z_of(net, x: np.ndarray) -> dict[str, float]:
    eng = Engine.compile(net)
    ev = eng.evaluate(x[None, :], np.zeros((1, len(eng.output_ids))), "mse")
    return {nid: float(ev.z[0, eng.index[nid]]) for nid in eng.neuron_ids}


def test_seed_001s_chain_weight_height_shoe_size():
    p = project.load(paths.SAMPLES / "chain-rule.nnproj")
    s = sensitivities(p.network, z_of(p.network, np.array([2.0])), "shoe")
    assert s["weight"].value == 0.5 and s["weight"].slopes == (2.0, 0.25)
    assert s["height"].value == 0.25
    assert s["weight"].text(p.network) == "d(shoe size)/d(weight) = 2 \u00d7 0.25 = 0.5"
    assert s["shoe"].value == 1.0


def test_many_paths_sum_and_match_a_finite_difference():
    net = dense([2, 3, 3, 1], hidden="tanh", output="sigmoid", seed=4)
    x = np.array([0.3, -0.7])
    s = sensitivities(net, z_of(net, x), "y1")
    eng = Engine.compile(net)
    for i, nid in enumerate(["x1", "x2"]):
        h = 1e-6
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        fd = (eng.predict(up[None])[0, 0] - eng.predict(down[None])[0, 0]) / (2 * h)
        assert s[nid].value == pytest.approx(fd, rel=1e-6, abs=1e-9)
        assert s[nid].paths == 9 and s[nid].slopes is None
        assert "summed over 9 paths" in s[nid].text(net)


def test_softmax_outputs_are_refused():
    p = project.load(paths.SAMPLES / "softmax.nnproj")
    with pytest.raises(SensitivityError, match="softmax output"):
        sensitivities(p.network, z_of(p.network, np.array([1.0])), "apple")

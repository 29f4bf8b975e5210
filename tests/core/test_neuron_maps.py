"""neuron_maps: every neuron's activation over the input plane in one forward pass, the
pictures' orientation, the colour levels and the shade indices."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.engine import Engine, EngineError
from nnstudio.core.neuron_maps import (
    activation_levels,
    grid_points,
    neuron_maps,
    plane_bounds,
    shade_indices,
)


@pytest.fixture
def xor():
    proj = project.load(paths.SAMPLES / "xor.nnproj")
    return proj, Engine.compile(proj.network)


def test_each_pixel_is_the_neurons_activation_at_its_grid_point(xor):
    proj, eng = xor
    b = plane_bounds(proj.dataset.X)
    maps = neuron_maps(eng, b, 7)
    assert maps.values.shape == (len(eng.neuron_ids), 7, 7)
    gx, gy, _ = grid_points(b, 7)
    for k, nid in enumerate(maps.ids):
        for i, j in ((0, 0), (3, 5), (6, 2)):
            a = eng.activations(np.array([[gx[j], gy[i]]]))[1][0, eng.index[nid]]
            assert maps.values[k, i, j] == pytest.approx(a, rel=1e-12, abs=1e-15)


def test_a_picture_has_x_to_the_right_and_y_up(xor):
    proj, eng = xor
    x1, x2 = (n.id for n in proj.network.inputs[:2])
    maps = neuron_maps(eng, plane_bounds(proj.dataset.X), 5, ids=[x1, x2])
    assert np.all(np.diff(maps.values[0], axis=1) > 0)     # x1 grows to the right
    assert np.all(np.diff(maps.values[1], axis=0) < 0)     # x2 grows upwards (row 0 = top)


def test_the_bounds_hold_the_data_with_a_margin():
    b = plane_bounds(np.array([[0.0, -1.0], [2.0, 3.0]]))
    assert (b.x0, b.x1) == pytest.approx((-0.24, 2.24))
    assert (b.y0, b.y1) == pytest.approx((-1.48, 3.48))
    with pytest.raises(ValueError, match="two input columns"):
        plane_bounds(np.zeros((3, 1)))


def test_a_network_without_two_input_columns_is_refused():
    proj = project.load(paths.SAMPLES / "three-layer.nnproj")
    eng = Engine.compile(proj.network)
    with pytest.raises(EngineError, match="two input columns"):
        neuron_maps(eng, plane_bounds(np.zeros((2, 2)) + [[0, 0], [1, 1]]))


def test_levels_are_fixed_for_bounded_activations_and_symmetric_otherwise():
    v = np.array([-3.0, 1.0, np.nan])
    assert activation_levels("sigmoid", 0.5, v) == (0.0, 1.0, 0.5)
    assert activation_levels("tanh", 0.0, v) == (-1.0, 1.0, 0.0)
    assert activation_levels("relu", 0.0, v) == (-3.0, 3.0, 0.0)
    assert activation_levels("identity", 0.5, v) == (-3.0, 4.0, 0.5)


def test_shades_put_the_threshold_in_the_middle_and_clip_the_ends(xor):
    proj, eng = xor
    maps = neuron_maps(eng, plane_bounds(proj.dataset.X), 2)
    vals = np.array([[[-1.0, 0.0], [0.5, np.nan]], [[9.0, -9.0], [0.25, 0.75]]])
    fake = type(maps)(("a", "b"), vals, maps.bounds)
    idx = shade_indices(fake, [(-1.0, 1.0, 0.0), (0.0, 1.0, 0.5)], 101)
    assert idx[0].tolist() == [[0, 50], [75, 50]]
    assert idx[1].tolist() == [[100, 0], [25, 75]]

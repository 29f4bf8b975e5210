"""The image-layer kernels (nnstudio.core.conv): gradients, oracles, refusals, explanations.

Every analytic gradient (convolution weights, biases and inputs; max and average pooling
inputs) is compared with a central finite difference in float64, over hypothesis-drawn shapes
('valid' and 'same' padding, strides 1-3, several channels and filters). Max pooling's tie
rule (the first maximum in reading order wins) is checked the same way, by tilting the input
so that the first maximum is strictly largest. The optional PyTorch oracle tests compare
forward values and gradients with ``conv2d``, ``max_pool2d`` and ``avg_pool2d`` to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nnstudio.core.conv import Conv2D, Flatten, LayerShapeError, Pool2D

H_STEP = 1e-3      # the test losses are quadratic (or piecewise so): central differences are
RTOL = 1e-7        # exact up to rounding, however large the step
ATOL = 1e-9
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


# ---------------------------------------------------------------------------- shapes
@st.composite
def conv_layers(draw) -> Conv2D:
    """A convolution that fits: kernel 1-4, stride 1-3, 'valid' or 'same', 1-3 channels."""
    k = draw(st.integers(1, 4))
    s = draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"]))
    c = draw(st.integers(1, 3))
    f = draw(st.integers(1, 3))
    if padding == "valid":
        h = k + s * draw(st.integers(0, 3))
        w = k + s * draw(st.integers(0, 3))
    else:
        assume(k >= s)   # a smaller kernel than the stride leaves rows unread
        h = draw(st.integers(k, k + 5))
        w = draw(st.integers(k, k + 5))
    return Conv2D((c, h, w), f, k, s, padding)


@st.composite
def pool_layers(draw, mode: str | None = None) -> Pool2D:
    """A pooling layer that fits: window 1-3, stride 1-3 (default: the window)."""
    win = draw(st.integers(1, 3))
    s = draw(st.one_of(st.none(), st.integers(1, 3)))
    step = win if s is None else s
    c = draw(st.integers(1, 3))
    h = win + step * draw(st.integers(0, 3))
    w = win + step * draw(st.integers(0, 3))
    return Pool2D((c, h, w), win, s, mode or draw(st.sampled_from(["max", "average"])))


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _conv_data(layer: Conv2D, n: int, seed: int):
    """(rng, a batch of n random inputs, random packed parameters) for a convolution."""
    rng = _rng(seed)
    return rng, rng.standard_normal((n, *layer.in_shape)), rng.standard_normal(layer.param_shape)


def _numeric_grad(f, x: np.ndarray, h: float = H_STEP) -> np.ndarray:
    """Central differences of the scalar f at x, element by element (x is restored)."""
    g = np.empty_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        gf[i] = (up - down) / (2 * h)
    return g


def _loss(z: np.ndarray, r: np.ndarray) -> float:
    """A smooth scalar of a layer's output: Σ r·z + ½ Σ z² (so dL/dz = r + z)."""
    return float(np.sum(r * z) + 0.5 * np.sum(z * z))


# ---------------------------------------------------------------------------- convolution
@SETTINGS
@given(conv_layers(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_convolution_gradients_match_finite_differences(layer, n, seed):
    rng, x, params = _conv_data(layer, n, seed)
    z, state = layer.forward(x, params)
    assert z.shape == (n, *layer.out_shape)
    r = rng.standard_normal(z.shape)
    dx, grad = layer.backward(r + z, params, state)

    def loss() -> float:
        return _loss(layer.forward(x, params)[0], r)

    np.testing.assert_allclose(grad, _numeric_grad(loss, params), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dx, _numeric_grad(loss, x), rtol=RTOL, atol=ATOL)


def test_convolution_forward_is_the_written_out_sum():
    """z[n, f, r, q] = Σ W[f, c, i, j] x[n, c, r s + i − pad, q s + j − pad] + b[f], pixels
    outside the image 0, computed here one cell at a time."""
    rng = _rng(5)
    for layer in (Conv2D((2, 7, 6), 3, 3, 2, "same"), Conv2D((1, 6, 6), 2, 4, 1, "same"),
                  Conv2D((3, 8, 8), 2, 2, 3, "valid")):
        x = rng.standard_normal((2, *layer.in_shape))
        w = rng.standard_normal((layer.filters, layer.in_shape[0], layer.kernel, layer.kernel))
        b = rng.standard_normal(layer.filters)
        z, _ = layer.forward(x, layer.pack(w, b))
        pt, _, pl, _ = layer.pads
        c, h, wd = layer.in_shape
        for n_, f, r, q in np.ndindex(z.shape):
            total = b[f]
            for ch, i, j in np.ndindex(c, layer.kernel, layer.kernel):
                y, xx = r * layer.stride + i - pt, q * layer.stride + j - pl
                if 0 <= y < h and 0 <= xx < wd:
                    total += w[f, ch, i, j] * x[n_, ch, y, xx]
            assert z[n_, f, r, q] == pytest.approx(total, rel=1e-12, abs=1e-12)


def test_same_padding_follows_the_usual_rule():
    """'same': ceil(size / stride) outputs; the padding split with the odd one at the bottom
    and right (an even kernel, or stride 2 over an odd size)."""
    assert Conv2D((1, 6, 6), 1, 3, 1, "same").pads == (1, 1, 1, 1)
    layer = Conv2D((1, 6, 5), 1, 4, 1, "same")
    assert layer.out_shape == (1, 6, 5) and layer.pads == (1, 2, 1, 2)
    layer = Conv2D((1, 7, 8), 1, 3, 2, "same")
    assert layer.out_shape == (1, 4, 4) and layer.pads == (1, 1, 0, 1)
    assert Conv2D((1, 12, 12), 8, 3).out_shape == (8, 10, 10)
    assert Conv2D((1, 7, 7), 1, 3, 2).out_shape == (1, 3, 3)


def test_seed_001_dot_product_is_exactly_3():
    """Seed 001: the filter overlaid on the first 3 x 3 patch gives
    (0×0)+(0×0)+(1×1)+(0×0)+(1×1)+(0×0)+(1×1)+(0×0)+(0×0) = 3; the map value is 3 + b."""
    ring = np.array([[0, 0, 1, 1, 0, 0],      # a 6 x 6 "O" (docs/design/cnn.md, the sample)
                     [0, 1, 0, 0, 1, 0],
                     [1, 0, 0, 0, 0, 1],
                     [1, 0, 0, 0, 0, 1],
                     [0, 1, 0, 0, 1, 0],
                     [0, 0, 1, 1, 0, 0]], dtype=float)
    diagonal = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=float)
    image = ring[None]
    layer = Conv2D((1, 6, 6), 1, 3)
    bias = 0.25
    params = layer.pack(diagonal[None, None], np.array([bias]))
    dp = layer.dot_product(image, params, 0, 0, 0)
    assert dp.total == 3.0
    z, _ = layer.forward(image[None], params)
    assert z[0, 0, 0, 0] - bias == 3.0 and dp.value == z[0, 0, 0, 0]
    text = " + ".join(f"{x:g}x{w:g}" for x, w in dp.terms())
    assert f"map[0][0] = {text} + b = {dp.total:g} + b" == \
        "map[0][0] = 0x0 + 0x0 + 1x1 + 0x0 + 1x1 + 0x0 + 1x1 + 0x0 + 0x0 + b = 3 + b"
    assert dp.window.cells()[:3] == [(0, 0), (0, 1), (0, 2)]


def test_dot_product_terms_and_receptive_fields_agree_with_the_forward_pass():
    layer = Conv2D((2, 7, 7), 3, 3, 2, "same")
    _, x, params = _conv_data(layer, 1, 11)
    z, _ = layer.forward(x, params)
    idx = layer.receptive_field_indices()
    assert idx.shape == (layer.out_height * layer.out_width, 9)
    planes = np.concatenate([x[0].reshape(2, -1), np.zeros((2, 1))], axis=1)  # -1: padding
    gathered = planes[:, idx]                                  # (C, positions, k·k)
    w = layer.weights(params).reshape(3, 2, 9)
    via_indices = np.einsum("cpk,fck->fp", gathered, w) + layer.biases(params)[:, None]
    np.testing.assert_allclose(via_indices.reshape(z.shape[1:]), z[0], rtol=1e-12, atol=1e-12)
    for f, r, q in [(0, 0, 0), (2, 3, 3), (1, 0, 3), (1, 2, 1)]:
        dp = layer.dot_product(x[0], params, f, r, q)
        assert dp.value == pytest.approx(z[0, f, r, q], rel=1e-12, abs=1e-12)
        win = layer.receptive_field(r, q)
        assert dp.window == win and (win.top, win.left) == (2 * r - 1, 2 * q - 1)
        flat = [a * 7 + b if win.inside(a, b) else -1 for a, b in win.cells()]
        assert flat == idx[r * layer.out_width + q].tolist()
        assert (dp.padding.ravel() == (np.array(flat) < 0)).all()
        assert (dp.inputs[:, dp.padding] == 0).all()
    corner = layer.receptive_field(0, 0)
    assert corner.clipped() == (0, 0, 2, 2)
    assert corner.padding_mask().tolist() == [[True, True, True], [True, False, False],
                                              [True, False, False]]


def test_weight_gradient_terms_sum_to_the_weight_gradient():
    """dL/dfilter[i][j] is the sum over positions (and samples) of dL/dz × input."""
    layer = Conv2D((2, 6, 6), 2, 3, 1, "same")
    rng, x, params = _conv_data(layer, 3, 3)
    z, state = layer.forward(x, params)
    dz = rng.standard_normal(z.shape)
    _, grad = layer.backward(dz, params, state, input_grad=False)
    gw = layer.weights(grad)
    for f, c, i, j in np.ndindex(gw.shape):
        inputs, dzs = layer.weight_gradient_terms(x, dz, f, c, i, j)
        assert inputs.shape == dzs.shape == (3, 6, 6)
        assert np.sum(inputs * dzs) == pytest.approx(gw[f, c, i, j], rel=1e-12, abs=1e-12)
    assert layer.biases(grad) == pytest.approx(dz.sum(axis=(0, 2, 3)), rel=1e-12)


def test_convolution_state_is_reused_and_results_repeat():
    rng = _rng(8)
    layer = Conv2D((1, 8, 8), 2, 3, 1, "same")
    x = rng.standard_normal((4, 1, 8, 8))
    params = rng.standard_normal(layer.param_shape)
    state = layer.state(4)
    z1, s1 = layer.forward(x, params, state)
    first = z1.copy()
    dz = rng.standard_normal(z1.shape)
    grad = np.empty(layer.param_shape)
    dx, g = layer.backward(dz, params, s1, grad=grad)
    assert s1 is state and z1 is state.z and g is grad
    dx1 = dx.copy()
    z2, _ = layer.forward(x, params, state)
    assert np.array_equal(z2, first)
    dx2, _ = layer.backward(dz, params, state, grad=grad)
    assert np.array_equal(dx2, dx1)
    _, other = layer.forward(x[:3], params, state)     # another batch size: a fresh state
    assert other is not state and other.n == 3
    dx_none, _ = layer.backward(dz, params, state, input_grad=False)
    assert dx_none is None


def test_packing_round_trips_and_views_share_memory():
    layer = Conv2D((2, 5, 5), 3, 3)
    w = np.arange(54, dtype=float).reshape(3, 2, 3, 3)
    b = np.array([-1.0, 0.0, 1.0])
    p = layer.pack(w, b)
    assert p.shape == layer.param_shape == (3, 19) and layer.n_params == 57
    assert np.array_equal(p[1, :18], w[1].ravel()) and p[1, 18] == 0.0
    assert np.array_equal(layer.weights(p), w) and np.array_equal(layer.biases(p), b)
    layer.weights(p)[2, 1, 0, 0] = 99.0
    layer.biases(p)[0] = 7.0
    assert p[2, 9] == 99.0 and p[0, 18] == 7.0


# ---------------------------------------------------------------------------- pooling
@SETTINGS
@given(pool_layers(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_pooling_input_gradients_match_finite_differences(layer, n, seed):
    rng = _rng(seed)
    shape = (n, *layer.in_shape)
    # distinct values, 0.01 or more apart, so no step of the finite differences changes a winner
    x = (rng.permutation(int(np.prod(shape))).reshape(shape) - 20.0) * 0.01
    y, state = layer.forward(x, layer.state(n))
    assert y.shape == (n, *layer.out_shape)
    r = rng.standard_normal(y.shape)
    dx = layer.backward(r + y, state).copy()

    def loss() -> float:
        return _loss(layer.forward(x)[0], r)

    np.testing.assert_allclose(dx, _numeric_grad(loss, x), rtol=RTOL, atol=ATOL)


@SETTINGS
@given(pool_layers("max"), st.integers(1, 2), st.integers(0, 2**32 - 1))
def test_max_pooling_ties_go_to_the_first_maximum_in_reading_order(layer, n, seed):
    """Inputs of a few whole numbers tie often. The gradient must be the one of the input
    tilted so that, among equal values, the earlier in reading order is slightly larger:
    x − ε·(row · W + column), checked by finite differences at the tilted input."""
    rng = _rng(seed)
    x = rng.integers(-1, 2, size=(n, *layer.in_shape)).astype(float)
    h, w = layer.in_shape[1:]
    tilted = x - 1e-3 * np.arange(h * w).reshape(h, w)
    y, state = layer.forward(x)
    r = rng.standard_normal(y.shape)
    dx = layer.backward(r, state).copy()

    def loss() -> float:
        return float(np.sum(r * layer.forward(tilted)[0]))

    step = 1e-5  # smaller than the tilt between neighbours
    np.testing.assert_allclose(dx, _numeric_grad(loss, tilted, step), rtol=1e-6, atol=1e-9)
    rows, cols = layer.winners(state)
    nn, cc = np.indices(y.shape)[:2]
    assert np.array_equal(x[nn, cc, rows, cols], y)


def test_pooling_winners_and_windows_for_the_player():
    x = np.array([[[[1, 3, 3, 0],
                    [2, 3, 0, 0],
                    [5, 0, 1, 1],
                    [0, 5, 1, 1]]]], dtype=float)
    layer = Pool2D((1, 4, 4), 2)
    y, state = layer.forward(x)
    assert y[0, 0].tolist() == [[3, 3], [5, 1]]
    rows, cols = layer.winners(state)
    assert list(zip(rows[0, 0].ravel().tolist(), cols[0, 0].ravel().tolist(), strict=True)) \
        == [(0, 1), (0, 2), (2, 0), (2, 2)]
    dx = layer.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), state)
    assert dx[0, 0].tolist() == [[0, 10, 20, 0], [0, 0, 0, 0], [30, 0, 40, 0], [0, 0, 0, 0]]
    win = layer.window_at(1, 0)
    assert (win.top, win.left, win.height, win.width) == (2, 0, 2, 2)
    avg = Pool2D((1, 4, 4), 2, mode="average")
    ya, sa = avg.forward(x)
    assert ya[0, 0].tolist() == [[2.25, 0.75], [2.5, 1.0]]
    assert avg.backward(np.ones((1, 1, 2, 2)), sa)[0, 0].tolist() == [[0.25] * 4] * 4
    with pytest.raises(LayerShapeError, match="average pooling has no winners"):
        avg.winners(sa)


def test_overlapping_and_gapped_pooling_windows():
    """Stride 1 with a 2-wide window: a position may win several windows (its gradients
    add up); stride 3 with a 2-wide window skips a row and column between windows."""
    x = np.array([[[[0, 0, 0], [0, 9, 0], [0, 0, 0]]]], dtype=float)
    over = Pool2D((1, 3, 3), 2, 1)
    y, s = over.forward(x)
    assert y[0, 0].tolist() == [[9, 9], [9, 9]]
    assert over.backward(np.ones((1, 1, 2, 2)), s)[0, 0].tolist() == \
        [[0, 0, 0], [0, 4, 0], [0, 0, 0]]
    gapped = Pool2D((1, 5, 5), 2, 3, "average")
    x = np.arange(25, dtype=float).reshape(1, 1, 5, 5)
    y, s = gapped.forward(x)
    assert y[0, 0].tolist() == [[3.0, 6.0], [18.0, 21.0]]
    dx = gapped.backward(np.ones((1, 1, 2, 2)), s)[0, 0]
    assert dx[2].tolist() == [0] * 5 and dx[:, 2].tolist() == [0] * 5
    assert dx.sum() == 4.0


# ---------------------------------------------------------------------------- flatten
def test_flatten_orders_channel_then_row_then_column():
    layer = Flatten((2, 3, 4))
    x = np.arange(48, dtype=float).reshape(2, 2, 3, 4)
    f = layer.forward(x)
    assert f.shape == (2, 24) and np.array_equal(f[1], np.arange(24, 48))
    assert np.array_equal(layer.backward(f), x)
    assert layer.position(17) == (1, 1, 1) and layer.index(1, 1, 1) == 17
    assert all(layer.index(*layer.position(i)) == i for i in range(24))
    with pytest.raises(LayerShapeError, match="flattened index must be from 0 to 23"):
        layer.position(24)


def test_a_small_cnn_chain_matches_finite_differences():
    """Convolution → ReLU → max pooling → flatten → a linear read-out, as the benchmark and
    the engine chain them: the filter and bias gradients of the whole chain."""
    rng = _rng(21)
    conv = Conv2D((1, 6, 6), 2, 3)
    pool = Pool2D(conv.out_shape, 2)
    flat = Flatten(pool.out_shape)
    x = rng.standard_normal((3, 1, 6, 6))
    params = rng.standard_normal(conv.param_shape)
    read = rng.standard_normal((flat.size, 2))

    def forward():
        z, cs = conv.forward(x, params)
        a = np.maximum(z, 0.0)
        y, ps = pool.forward(a)
        return z, cs, ps, flat.forward(y) @ read

    def loss() -> float:
        return float(np.sum(np.sin(forward()[3])))

    z, cs, ps, out = forward()
    dy = flat.backward(np.cos(out) @ read.T)
    dz = pool.backward(dy, ps) * (z > 0)
    _, grad = conv.backward(dz, params, cs, input_grad=False)
    # sin is not quadratic: a small step (no z of this seeded data is that close to a kink)
    np.testing.assert_allclose(grad, _numeric_grad(loss, params, 1e-5), rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("make, message", [
    (lambda: Conv2D((1, 4, 4), 1, 5, name="c1"),
     "convolution 'c1': its 5 × 5 kernel is larger than its 4 × 4 input"),
    (lambda: Conv2D((1, 6, 6), 1, 3, 2, name="c1"),
     "convolution 'c1': stride 2 does not fit its 6 × 6 input with a 3 × 3 kernel: the "
     "windows end at row 4 and leave row 5 unread; choose a stride that divides "
     "6 − 3 = 3, or another input size, or 'same' padding"),
    (lambda: Conv2D((1, 7, 6), 1, 3, 2, name="c1"),
     "the windows end at column 4 and leave column 5 unread"),
    (lambda: Conv2D((1, 6, 6), 1, 1, 3, "same", name="c1"),
     "stride 3 does not fit its 6 × 6 input with a 1 × 1 kernel: the windows end at row 3 and "
     "leave rows 4 to 5 unread; use a kernel at least as large as the stride"),
    (lambda: Conv2D((1, 6, 6), 1, 8), "the kernel size must be from 1 to 7, not 8"),
    (lambda: Conv2D((1, 6, 6), 1, 3, 4), "the stride must be from 1 to 3, not 4"),
    (lambda: Conv2D((1, 6, 6), 0, 3), "the number of filters must be from 1 to 256, not 0"),
    (lambda: Conv2D((1, 6, 6), 1, True), "the kernel size must be a whole number, not True"),
    (lambda: Conv2D((1, 6, 6), 1, 3.0), "the kernel size must be a whole number, not 3.0"),
    (lambda: Conv2D((1, 6, 6), 1, 3, padding="full"),
     "padding must be 'valid' or 'same', not 'full'"),
    (lambda: Conv2D((6, 6), 1, 3), r"the input shape must be \(channels, height, width\)"),
    (lambda: Conv2D((1, 0, 6), 1, 1), "the input height must be from 1 to 1024, not 0"),
    (lambda: Pool2D((2, 5, 5), 2, name="p1"),
     "max pooling 'p1': stride 2 does not fit its 5 × 5 input with a 2 × 2 pooling window: "
     "the windows end at row 3 and leave row 4 unread; choose a stride that divides "
     "5 − 2 = 3, or another input size$"),   # (pooling has no padding to suggest)
    (lambda: Pool2D((2, 3, 3), 4, name="p1"),
     "max pooling 'p1': its 4 × 4 pooling window is larger than its 3 × 3 input"),
    (lambda: Pool2D((2, 4, 4), 2, mode="min", name="p1"),
     "pooling 'p1': the mode must be 'max' or 'average', not 'min'"),
    (lambda: Pool2D((2, 4, 4), 2, 8, mode="average", name="p1"),
     "average pooling 'p1': the stride must be from 1 to 7, not 8"),
])
def test_layers_that_do_not_fit_are_refused_with_the_reason(make, message):
    with pytest.raises(LayerShapeError, match=message):
        make()


def test_data_of_the_wrong_shape_is_refused():
    layer = Conv2D((1, 6, 6), 2, 3, name="c1")
    params = np.zeros(layer.param_shape)
    with pytest.raises(LayerShapeError, match=r"convolution 'c1': expects inputs of shape "
                       r"\(samples, 1, 6, 6\), got \(2, 1, 5, 6\)"):
        layer.forward(np.zeros((2, 1, 5, 6)), params)
    with pytest.raises(LayerShapeError, match=r"expects packed parameters of shape \(2, 10\)"):
        layer.forward(np.zeros((2, 1, 6, 6)), np.zeros((2, 9)))
    z, state = layer.forward(np.zeros((2, 1, 6, 6)), params)
    with pytest.raises(LayerShapeError, match="the output gradients are for 3 samples, the "
                       "forward pass was for 2"):
        layer.backward(np.zeros((3, 2, 4, 4)), params, state)
    other = Conv2D((1, 6, 6), 2, 3, name="c2")
    with pytest.raises(LayerShapeError, match="convolution 'c2': the state passed to "
                       "backward.. is not from this layer's forward pass"):
        other.backward(np.zeros((2, 2, 4, 4)), params, state)
    with pytest.raises(LayerShapeError, match="expects weights of shape"):
        layer.pack(np.zeros((2, 1, 2, 2)), np.zeros(2))
    with pytest.raises(LayerShapeError, match="the output row must be from 0 to 3, not 4"):
        layer.receptive_field(4, 0)
    with pytest.raises(LayerShapeError, match="the filter number must be from 0 to 1, not 2"):
        layer.dot_product(np.zeros((1, 6, 6)), params, 2, 0, 0)
    with pytest.raises(LayerShapeError, match=r"expects one image of shape \(1, 6, 6\), got "
                       r"\(1, 1, 6, 6\)"):
        layer.dot_product(np.zeros((1, 1, 6, 6)), params, 0, 0, 0)
    pool = Pool2D((2, 4, 4), 2, name="p1")
    with pytest.raises(LayerShapeError, match=r"max pooling 'p1': expects inputs of shape "
                       r"\(samples, 2, 4, 4\), got \(1, 1, 4, 4\)"):
        pool.forward(np.zeros((1, 1, 4, 4)))


# ---------------------------------------------------------------------------- PyTorch oracle
RTOL_TORCH = 1e-9


def _close(ours: np.ndarray, theirs, what: str) -> None:
    theirs = theirs.detach().numpy()
    scale = max(float(np.max(np.abs(theirs))), 1e-300)
    assert float(np.max(np.abs(ours - theirs))) <= RTOL_TORCH * scale, what


@SETTINGS
@given(conv_layers(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_convolution_matches_pytorch_conv2d(layer, n, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng, x, params = _conv_data(layer, n, seed)
    z, state = layer.forward(x, params)
    dz = rng.standard_normal(z.shape)
    dx, grad = layer.backward(dz, params, state)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.weights(params).copy(), requires_grad=True)
    bt = torch.tensor(layer.biases(params).copy(), requires_grad=True)
    pt, pb, pl, pr = layer.pads
    zt = F.conv2d(F.pad(xt, (pl, pr, pt, pb)), wt, bt, stride=layer.stride)
    if layer.stride == 1 and layer.padding == "same":   # PyTorch's own 'same' agrees
        _close(z, F.conv2d(xt, wt, bt, padding="same"), "padding='same'")
    zt.backward(torch.tensor(dz))
    _close(z, zt, "z")
    _close(dx, xt.grad, "dL/dx")
    _close(layer.weights(grad), wt.grad, "dL/dW")
    _close(layer.biases(grad), bt.grad, "dL/db")


@SETTINGS
@given(pool_layers(), st.integers(1, 3), st.booleans(), st.integers(0, 2**32 - 1))
def test_pooling_matches_pytorch_including_ties(layer, n, ties, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = _rng(seed)
    x = rng.integers(-2, 3, size=(n, *layer.in_shape)).astype(float) if ties \
        else rng.standard_normal((n, *layer.in_shape))
    y, state = layer.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy, state)
    xt = torch.tensor(x, requires_grad=True)
    pool = F.max_pool2d if layer.mode == "max" else F.avg_pool2d
    yt = pool(xt, layer.window, layer.step)
    yt.backward(torch.tensor(dy))
    _close(y, yt, "pooled maps")
    _close(dx, xt.grad, "dL/dx")


def test_flatten_matches_pytorch_flatten():
    torch = pytest.importorskip("torch")
    x = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    assert np.array_equal(Flatten((3, 2, 2)).forward(x), torch.flatten(torch.tensor(x), 1))

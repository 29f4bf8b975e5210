"""Optimizers: each update against a hand-computed step (and PyTorch's optim when installed);
locked parameters never move."""

import math

import numpy as np
import pytest

from nnstudio.core import optimizers

G1 = np.array([0.5, -2.0, 0.0, 3.0])
G2 = np.array([-1.0, 1.0, 0.25, 3.0])
P0 = np.array([1.0, -1.0, 0.5, 2.0])


def run(name, grads, mask=None, lr=0.1, **kw):
    opt = optimizers.make(name, lr, **kw)
    p = P0.copy()
    for g in grads:
        opt.step(p, g.copy(), mask)
    return p, opt


def test_table_and_factory():
    assert optimizers.NAMES == ("gd", "sgd", "momentum", "rmsprop", "adam")
    for name, info in optimizers.INFO.items():
        assert info.title and info.formula and info.note
        assert optimizers.make(name, 0.5).lr == 0.5
        assert optimizers.make(name, 0.5).name == name
    assert optimizers.INFO["gd"].full_batch and not optimizers.INFO["sgd"].full_batch
    with pytest.raises(KeyError, match="unknown optimizer 'lbfgs'"):
        optimizers.make("lbfgs", 0.1)


@pytest.mark.parametrize("name", ["gd", "sgd"])
def test_gradient_descent_by_hand(name):
    p, _ = run(name, [G1, G2])
    np.testing.assert_allclose(p, P0 - 0.1 * G1 - 0.1 * G2, rtol=1e-15)
    # the seed-001 intercept step: 10 - 0.01 * 90 = 9.10
    q = np.array([10.0])
    optimizers.make(name, 0.01).step(q, np.array([90.0]))
    assert q[0] == pytest.approx(9.10, abs=1e-12)


def test_momentum_by_hand():
    p, opt = run("momentum", [G1, G2])
    v1 = G1
    v2 = 0.9 * v1 + G2
    np.testing.assert_allclose(p, P0 - 0.1 * v1 - 0.1 * v2, rtol=1e-15)
    np.testing.assert_allclose(opt.v, v2)


def test_rmsprop_by_hand():
    p, opt = run("rmsprop", [G1, G2])
    s1 = 0.1 * G1 ** 2
    p1 = P0 - 0.1 * G1 / (np.sqrt(s1) + 1e-8)
    s2 = 0.9 * s1 + 0.1 * G2 ** 2
    p2 = p1 - 0.1 * G2 / (np.sqrt(s2) + 1e-8)
    np.testing.assert_allclose(p, p2, rtol=1e-14)
    np.testing.assert_allclose(opt.s, s2)


def test_adam_by_hand():
    p, opt = run("adam", [G1, G2])
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = v = np.zeros(4)
    q = P0.copy()
    for t, g in enumerate([G1, G2], start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        q = q - 0.1 * mhat / (np.sqrt(vhat) + eps)
    np.testing.assert_allclose(p, q, rtol=1e-13)
    assert opt.t == 2
    # Adam's first step moves every parameter with a gradient by about lr
    p1, _ = run("adam", [G1])
    np.testing.assert_allclose(np.abs(p1 - P0)[G1 != 0], 0.1, rtol=1e-6)


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_locked_parameters_never_move(name):
    mask = np.array([True, False, True, False])
    grads = [G1, G2, G1 * 3, -G2]
    p, _ = run(name, grads, mask)
    np.testing.assert_array_equal(p[~mask], P0[~mask])
    assert np.all(p[mask] != P0[mask]) or name in ("gd", "sgd")
    # the unlocked ones move exactly as if nothing were locked (the state is per parameter)
    free, _ = run(name, grads)
    np.testing.assert_allclose(p[mask], free[mask], rtol=1e-15)


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_reset_forgets_state_and_shape_changes_restart(name):
    opt = optimizers.make(name, 0.1)
    p = P0.copy()
    opt.step(p, G1)
    opt.reset()
    q = P0.copy()
    opt.step(q, G1)
    np.testing.assert_array_equal(p, q)
    # a new parameter vector (the network was recompiled) starts fresh state
    r = np.ones(2)
    opt.step(r, np.array([1.0, -1.0]))
    assert r.shape == (2,) and np.all(np.isfinite(r))


@pytest.mark.parametrize("name", optimizers.NAMES)
def test_matches_pytorch_optim(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    grads = [rng.normal(size=6) for _ in range(5)]
    p0 = rng.normal(size=6)
    ours = p0.copy()
    opt = optimizers.make(name, 0.05)
    for g in grads:
        opt.step(ours, g.copy())
    t = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    topt = {
        "gd": lambda: torch.optim.SGD([t], lr=0.05),
        "sgd": lambda: torch.optim.SGD([t], lr=0.05),
        "momentum": lambda: torch.optim.SGD([t], lr=0.05, momentum=0.9),
        "rmsprop": lambda: torch.optim.RMSprop([t], lr=0.05, alpha=0.9, eps=1e-8),
        "adam": lambda: torch.optim.Adam([t], lr=0.05, betas=(0.9, 0.999), eps=1e-8),
    }[name]()
    for g in grads:
        t.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
    np.testing.assert_allclose(ours, t.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert not math.isnan(ours.sum())


def test_adam_in_slices_equals_adam_in_one_piece(monkeypatch):
    rng = np.random.default_rng(1)
    p0 = rng.normal(size=1000)
    grads = [rng.normal(size=1000) for _ in range(3)]
    mask = rng.random(1000) > 0.1
    whole = p0.copy()
    opt = optimizers.make("adam", 0.01)
    for g in grads:
        opt.step(whole, g, mask)
    monkeypatch.setattr(optimizers.Adam, "CHUNK", 64)  # 16 slices, the last one short
    sliced = p0.copy()
    opt = optimizers.make("adam", 0.01)
    for g in grads:
        opt.step(sliced, g, mask)
    np.testing.assert_array_equal(sliced, whole)
    np.testing.assert_array_equal(sliced[~mask], p0[~mask])

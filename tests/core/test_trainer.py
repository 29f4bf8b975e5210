"""Training: convergence, seeded reproducibility and shuffling, pause/stop, divergence,
edits between steps, validation loss, locked parameters."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from nnstudio.core.engine import Engine
from nnstudio.core.network import Network, dense
from nnstudio.core.trainer import SettingsError, Trainer, TrainSettings, split


def xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [1], [1], [0]], dtype=float)
    return X, Y


def regression(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    Y = (X @ np.array([[1.5], [-0.5]])) + 0.3 + 0.05 * rng.normal(size=(n, 1))
    return X, Y


def intercept_net() -> Network:
    """Seed 001: y = 2x + 1, the slope fixed at 2, the intercept starting at 10."""
    net = Network()
    net.add_neuron("input", id="x")
    net.add_neuron("output", id="y", activation="identity", bias=10.0)
    net.connect("x", "y", 2.0, id="slope", trainable=False)
    return net


def test_settings_are_validated_with_a_clear_message():
    TrainSettings().validate()
    for bad, words in (({"loss": "hinge"}, "unknown loss"), ({"optimizer": "lbfgs"}, "optimizer"),
                       ({"learning_rate": 0}, "learning rate"),
                       ({"learning_rate": float("nan")}, "learning rate"),
                       ({"batch_size": -1}, "batch size"), ({"epochs": 1.5}, "epochs"),
                       ({"seed": -3}, "seed"), ({"init": "lecun"}, "initialisation"),
                       ({"validation_split": 1.0}, "validation split")):
        with pytest.raises(SettingsError, match=words):
            TrainSettings(**bad).validate()
    with pytest.raises(SettingsError, match="no rows"):
        Trainer(dense([2, 1]), np.zeros((0, 2)), np.zeros((0, 1)), TrainSettings())


def test_seed_001_intercept_descent():
    net = intercept_net()
    x = np.arange(5.0)[:, None]
    y = 2 * x + 1
    tr = Trainer(net, x, y, TrainSettings(loss="ssr", optimizer="gd", learning_rate=0.01,
                                          epochs=1000))
    assert tr.full_loss() == 405.0
    snap = tr.run_step()
    assert snap.params[tr.engine.param_index("y")] == pytest.approx(9.10, abs=1e-12)
    assert snap.params[tr.engine.param_index("slope")] == 2.0
    last = tr.train()[-1]
    assert last.done and last.epoch == 1000
    assert last.params[tr.engine.param_index("y")] == pytest.approx(1.0, abs=1e-9)
    assert last.params[tr.engine.param_index("slope")] == 2.0  # locked: never moved
    tr.engine.store_params(net, last.params)
    assert net.get_param("y") == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("optimizer", ["gd", "sgd", "momentum", "rmsprop", "adam"])
def test_loss_decreases_on_a_simple_problem(optimizer):
    X, Y = regression()
    net = dense([2, 1], seed=0)
    lr = {"gd": 0.1, "sgd": 0.05, "momentum": 0.02, "rmsprop": 0.01, "adam": 0.05}[optimizer]
    tr = Trainer(net, X, Y, TrainSettings(loss="mse", optimizer=optimizer, learning_rate=lr,
                                          batch_size=8, epochs=60, seed=1))
    first = tr.full_loss()
    snaps = tr.train()
    assert len(snaps) == 60 and [s.epoch for s in snaps] == list(range(1, 61))
    assert snaps[-1].done and all(not s.done for s in snaps[:-1])
    assert snaps[-1].loss < 0.05 * first
    assert snaps[-1].loss < snaps[5].loss


def test_xor_trains():
    X, Y = xor()
    net = dense([2, 4, 1], hidden="tanh", output="sigmoid", seed=3)
    tr = Trainer(net, X, Y, TrainSettings(loss="bce", optimizer="adam", learning_rate=0.05,
                                          epochs=400, seed=0))
    last = tr.train()[-1]
    tr.engine.set_params(last.params)
    pred = tr.engine.predict(X)
    assert np.array_equal(pred > 0.5, Y > 0.5)


def test_seeded_runs_are_reproducible_and_seeds_matter():
    X, Y = regression(50)

    def run(seed):
        net = dense([2, 3, 1], hidden="tanh", seed=0)
        tr = Trainer(net, X, Y, TrainSettings(loss="mse", optimizer="sgd", learning_rate=0.1,
                                              batch_size=7, epochs=5, seed=seed))
        return [(s.loss, s.params) for s in tr.run("step")]
    a, b, c = run(3), run(3), run(4)
    assert len(a) == 5 * 8  # ceil(50 / 7) steps per epoch
    assert all(la == lb and np.array_equal(pa, pb) for (la, pa), (lb, pb) in zip(a, b, strict=True))
    assert not np.array_equal(a[-1][1], c[-1][1])


def test_mini_batches_are_seeded_shuffles_covering_every_row_once_per_epoch():
    X = np.arange(10.0)[:, None]
    Y = np.zeros((10, 1))
    net = dense([1, 1], seed=0)
    tr = Trainer(net, X, Y, TrainSettings(loss="mse", optimizer="sgd", learning_rate=1e-9,
                                          batch_size=4, epochs=2, seed=9))
    seen = []
    real = tr.engine.gradient

    def spy(Xb, Yb, loss, grad=None, penalty=None):
        seen.append(Xb[:, 0].astype(int).tolist())
        return real(Xb, Yb, loss, grad, penalty)
    tr.engine.gradient = spy
    snaps = list(tr.run("step"))
    assert [len(b) for b in seen] == [4, 4, 2] * 2
    assert [s.epoch_end for s in snaps] == [False, False, True] * 2
    rng = np.random.default_rng(9)
    for e in range(2):
        order = rng.permutation(10).tolist()
        assert sum(seen[3 * e:3 * e + 3], []) == order
    assert tr.batches_per_epoch() == 3


def test_full_batch_for_gd_and_batch_size_zero():
    X, Y = regression(20)
    for settings in (TrainSettings(optimizer="gd", batch_size=4),
                     TrainSettings(optimizer="adam", batch_size=0),
                     TrainSettings(optimizer="adam", batch_size=50)):
        tr = Trainer(dense([2, 1]), X, Y, settings)
        assert tr.batch_size == 20 and tr.batches_per_epoch() == 1


def test_pause_by_not_pulling_and_stop():
    X, Y = regression(32)
    tr = Trainer(dense([2, 3, 1], seed=0), X, Y,
                 TrainSettings(optimizer="sgd", learning_rate=0.05, batch_size=8, epochs=10))
    gen = tr.run("step")
    first = [next(gen) for _ in range(3)]
    assert [s.step for s in first] == [1, 2, 3]
    # paused: nothing happens while nobody asks
    params = tr.params.copy()
    assert tr.state.step == 3 and np.array_equal(tr.params, params)
    s4 = next(gen)
    assert s4.step == 4 and s4.epoch == 1 and s4.epoch_end
    tr.stop()
    with pytest.raises(StopIteration):
        next(gen)
    assert tr.state.step == 4
    # a new run continues where the last one stopped, to the settings' epochs
    rest = list(tr.run("epoch"))
    assert rest[0].epoch == 2 and rest[-1].epoch == 10 and rest[-1].done
    assert tr.state.step == 40


def test_divergence_stops_names_the_value_and_keeps_finite_parameters():
    x = np.linspace(0, 100, 20)[:, None]
    y = 3 * x
    net = dense([1, 1], seed=0)
    tr = Trainer(net, x, y, TrainSettings(loss="ssr", optimizer="gd", learning_rate=1000.0,
                                          epochs=1000))
    snaps = list(tr.run("step"))
    last = snaps[-1]
    assert last.done and last.diverged
    assert len(snaps) < 1000
    assert re.search(r"(became (inf|-inf|nan)|overflowed to infinity) in epoch \d+, step \d+",
                     last.diverged), last.diverged
    assert "last finite parameters are kept" in last.diverged
    assert np.all(np.isfinite(last.params))
    assert np.array_equal(last.params, tr.params)
    # the previous snapshot's parameters were finite too, and training really grew them
    assert np.all(np.isfinite(snaps[-2].params)) and np.abs(last.params).max() > 1e100
    # the kept parameters are the last ones whose loss was finite: a place to continue from
    # (the update that blew up is undone, with the step and epoch it counted), and no
    # snapshot ever held parameters with a non-finite loss
    assert all(np.isfinite(s.loss) for s in snaps)
    assert np.array_equal(last.params, snaps[-2].params)
    assert (last.epoch, last.step) == (snaps[-2].epoch, snaps[-2].step)


def test_gradient_divergence_names_the_parameter(recwarn):
    """The loss is finite (1e290) but dL/dw1 = x * w2 * dL/dy overflows."""
    net = Network()
    net.add_neuron("input", id="x")
    net.add_neuron("hidden", id="h", activation="identity")
    net.add_neuron("output", id="y")
    net.connect("x", "h", 1e-20, id="w1")
    net.connect("h", "y", 1e10, id="w2")
    tr = Trainer(net, np.array([[1e300]]), np.zeros((1, 1)),
                 TrainSettings(loss="mae", optimizer="sgd", learning_rate=0.1, epochs=3))
    start = tr.params.copy()
    snap = tr.run_step()
    assert snap.diverged == ("the gradient of weight 'w1' (x → h) became inf in epoch 1, "
                             "step 1; the last finite parameters are kept")
    assert snap.done and np.array_equal(snap.params, start)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_set_params_between_steps_takes_effect():
    net = intercept_net()
    x = np.arange(5.0)[:, None]
    y = 2 * x + 1
    tr = Trainer(net, x, y, TrainSettings(loss="ssr", optimizer="gd", learning_rate=0.01))
    tr.run_step()
    values = tr.params.copy()
    values[tr.engine.param_index("y")] = 3.0
    tr.set_params(values)
    assert tr.full_loss() == pytest.approx(5 * 2.0 ** 2)
    snap = tr.run_step()
    # dSSR/db at b = 3 is 2 * 5 * 2 = 20: one step of 0.01 gives 2.8
    assert snap.params[tr.engine.param_index("y")] == pytest.approx(2.8)
    # unlocking the slope lets it train from the next step on
    tr.set_params(tr.params, trainable=np.ones_like(tr.engine.trainable))
    before = tr.params[tr.engine.param_index("slope")]
    tr.run_step()
    assert tr.params[tr.engine.param_index("slope")] != before
    tr.set_learning_rate(0.5)
    assert tr.opt.lr == 0.5 and tr.settings.learning_rate == 0.5
    with pytest.raises(SettingsError):
        tr.set_learning_rate(-1)


def test_a_driver_acts_between_steps_of_one_run():
    """``run(between=...)`` is how the GUI worker drives the one loop: before every step it may
    edit the parameters, the learning rate or the target, or stop; the run is then exactly the
    one a caller stepping by hand with the same edits gets."""
    X, Y = xor()
    settings = TrainSettings(optimizer="sgd", learning_rate=0.1, batch_size=2, epochs=1000,
                             seed=3)
    net = dense([2, 3, 1], hidden="tanh", seed=0)
    tr = Trainer(net, X, Y, settings)
    before_step = []

    def between(t: Trainer) -> None:
        before_step.append(t.state.step)
        if t.state.step == 3:
            t.set_learning_rate(0.5)
        if t.state.step == 4:
            t.set_params(np.full_like(t.params, 0.25))
        if t.state.epoch == 5:
            t.set_target(7)                    # nearer than the 1000 asked for

    snaps = list(tr.run("epoch", between=between))
    assert [s.epoch for s in snaps] == list(range(1, 8)) and snaps[-1].done
    assert not any(s.done for s in snaps[:-1])
    assert before_step == list(range(15))      # before each of the 14 steps, and at the end
    ref = Trainer(dense([2, 3, 1], hidden="tanh", seed=0), X, Y, settings)
    for i in range(14):
        if i == 3:
            ref.set_learning_rate(0.5)
        if i == 4:
            ref.set_params(np.full_like(ref.params, 0.25))
        ref.step()
    assert np.array_equal(snaps[-1].params, ref.params)
    # a snapshot says where its values go in the network's parameter store
    net.set_param_vector(snaps[-1].slots, snaps[-1].params)
    assert [net.get_param(p) for p in tr.engine.param_ids] == list(snaps[-1].params)
    # stop() from between ends the run before the next step, with no further snapshot
    tr2 = Trainer(dense([2, 3, 1], seed=0), X, Y, settings)
    stopped = list(tr2.run("epoch", between=lambda t: t.stop() if t.state.step == 5 else None))
    assert [s.epoch for s in stopped] == [1, 2] and tr2.state.step == 5


def test_validation_loss_with_a_split():
    X, Y = regression(40)
    Xt, Yt, Xv, Yv = split(X, Y, 0.25, seed=2)
    assert len(Xt) == 30 and len(Xv) == 10
    rows = {tuple(r) for r in np.vstack([Xt, Xv])}
    assert rows == {tuple(r) for r in X}  # a partition of the data
    again = split(X, Y, 0.25, seed=2)
    assert np.array_equal(again[2], Xv)
    tr = Trainer(dense([2, 1], seed=0), Xt, Yt, TrainSettings(epochs=3), X_val=Xv, Y_val=Yv)
    snaps = tr.train()
    for s in snaps:
        assert s.val_loss is not None and math.isfinite(s.val_loss)
    tr.engine.set_params(snaps[-1].params)
    assert snaps[-1].val_loss == pytest.approx(tr.engine.loss(Xv, Yv, "mse"))
    assert snaps[-1].loss == pytest.approx(tr.engine.loss(Xt, Yt, "mse"))
    no_val = Trainer(dense([2, 1], seed=0), X, Y, TrainSettings(epochs=1))
    assert no_val.train()[-1].val_loss is None
    assert split(X, Y, 0.0, 1)[2].shape == (0, 2)


def test_snapshots_are_copies_with_grad_means_per_depth():
    X, Y = regression(16)
    net = dense([2, 3, 3, 1], hidden="tanh", seed=0)
    tr = Trainer(net, X, Y, TrainSettings(epochs=2, batch_size=4, optimizer="sgd"))
    assert np.array_equal(tr.last_grad_means, np.zeros(3))
    s1 = tr.run_step()
    saved = s1.params.copy()
    tr.run_step()
    assert np.array_equal(s1.params, saved)  # later steps never change an old snapshot
    assert s1.grad_means.shape == (3,) and np.all(s1.grad_means > 0)
    # the grad means are those of the last step's gradient
    eng = Engine.compile(net)
    eng.set_params(tr.params)
    assert s1.batch_loss is not None
    epoch = tr.run_epoch()
    assert epoch.epoch == 1 and epoch.epoch_end and tr.state.batch_in_epoch == 0


def test_locked_parameters_stay_fixed_in_training():
    X, Y = regression(30)
    net = dense([2, 3, 1], hidden="tanh", seed=0)
    locked = net.param_ids()[::3]
    for pid in locked:
        net.set_trainable(pid, False)
    tr = Trainer(net, X, Y, TrainSettings(optimizer="adam", learning_rate=0.1, epochs=5,
                                          batch_size=5))
    start = tr.params.copy()
    last = tr.train()[-1]
    idx = [tr.engine.param_index(p) for p in locked]
    np.testing.assert_array_equal(last.params[idx], start[idx])
    free = np.setdiff1d(np.arange(start.size), idx)
    assert np.all(last.params[free] != start[free])


def test_min_step_stops_once_the_steps_become_tiny():
    """Seed 001: gradient descent "stops once the steps become infinitesimally small or a set
    maximum number of steps is reached". The n-th update of the intercept moves it by 0.9ⁿ."""
    x = np.arange(5.0)[:, None]
    settings = TrainSettings(loss="ssr", optimizer="gd", learning_rate=0.01, epochs=100,
                             min_step=0.001)
    tr = Trainer(intercept_net(), x, 2 * x + 1, settings)
    snaps = tr.train()
    assert tr.state.step == 66 and len(snaps) == 66
    assert snaps[-1].done and snaps[-1].converged == (
        "the largest step, 0.000955, fell below the minimum step 0.001 at update 66 (epoch 66)")
    assert all(s.converged is None for s in snaps[:-1])
    assert tr.last_step_size == pytest.approx(0.9 ** 66)
    assert snaps[-1].params[tr.engine.param_index("y")] == pytest.approx(1 + 9 * 0.9 ** 66)
    # a tolerance the steps never get below: the maximum number of epochs ends it
    tr = Trainer(intercept_net(), x, 2 * x + 1, settings.with_(min_step=1e-12))
    assert tr.train()[-1].converged is None and tr.state.step == 100
    # off by default
    assert TrainSettings().min_step == 0.0


def test_min_step_counts_the_largest_change_of_any_parameter():
    X, Y = regression()
    settings = TrainSettings(loss="mse", optimizer="momentum", learning_rate=0.1, epochs=2000,
                             min_step=1e-4)
    tr = Trainer(dense([2, 1], output="identity"), X, Y, settings)
    before = tr.engine.params.copy()
    snaps = list(tr.run("step"))
    assert snaps[-1].converged and tr.state.epoch < 2000
    assert tr.last_step_size < 1e-4
    assert not np.array_equal(before, tr.engine.params)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), True, "small", 1e4])
def test_min_step_is_validated(bad):
    with pytest.raises(SettingsError, match="minimum step must be a number from 0"):
        TrainSettings(min_step=bad).validate()

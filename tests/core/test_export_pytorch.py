"""The PyTorch export: the script's model gives NN Studio's outputs to 1e-9 (float64) on every
shipped sample and on random DAGs, and its training (loss, optimizer, batches, seed, split,
locked parameters) gives the same parameters as NN Studio's trainer to 1e-9. Skipped without
torch."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from contextlib import redirect_stdout

import numpy as np
import pytest

from nnstudio.core import optimizers
from nnstudio.core.engine import Engine
from nnstudio.core.export import plan, pytorch
from nnstudio.core.export.plan import ExportError
from nnstudio.core.trainer import Trainer, split
from tests.core.export_cases import SAMPLES, import_script, random_project, sample

torch = pytest.importorskip("torch")


def _module(tmp_path, proj, name="exported"):
    path = tmp_path / f"{name}.py"
    pytorch.write(proj, path)
    return import_script(path, name)


def _outputs(module, X):
    with torch.no_grad():
        return module.Net()(torch.tensor(X, dtype=torch.float64)).numpy()


def _torch_params(proj, model) -> dict[str, float]:
    """Every NN Studio parameter's value in the torch model, by parameter id."""
    state = model.state_dict()
    names = pytorch.parameter_names(plan.build(proj.network, proj.settings.loss))
    return {pid: float(state[name][idx]) for pid, (name, idx) in names.items()}


def _trainer(proj) -> Trainer:
    ds, st = proj.dataset, proj.settings
    X, Y, Xv, Yv = split(ds.X, ds.Y, st.validation_split, st.seed)
    return Trainer(proj.network, X, Y, st, X_val=Xv, Y_val=Yv)


def _assert_same_params(proj, trainer, model):
    eng = trainer.engine
    expected = dict(zip(eng.param_ids, eng.params.tolist(), strict=True))
    got = _torch_params(proj, model)
    assert got.keys() == expected.keys()
    for pid, v in expected.items():
        assert got[pid] == pytest.approx(v, rel=1e-9, abs=1e-9), pid


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_outputs_match_on_every_sample(tmp_path, path):
    proj = sample(path)
    expected = Engine.compile(proj.network).predict(proj.dataset.X)
    got = _outputs(_module(tmp_path, proj), proj.dataset.X)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", range(36))
def test_outputs_match_on_random_dags(tmp_path, seed):
    """(From seed 30 on, with derived inputs.)"""
    proj = random_project(seed, step_hidden=True, derived=seed >= 30)
    X = np.random.default_rng(seed).normal(size=(23, len(proj.network.data_inputs))) * 3
    expected = Engine.compile(proj.network).predict(X)
    np.testing.assert_allclose(_outputs(_module(tmp_path, proj), X), expected, rtol=1e-9,
                               atol=1e-9)


def _one_step(module):
    model = module.Net()
    X, Y = module.load_data()
    X, Y, _, _ = module.split(X, Y)
    optimizer = module.make_optimizer(model)
    x, y = next(iter(module.data_loader(X, Y)))
    optimizer.zero_grad()
    value = module.objective(model, x, y)
    if value.requires_grad:   # as the script's train(): every parameter locked, nothing moves
        value.backward()
        optimizer.step()
    return model


REGULARIZATIONS = [("none", 0.0), ("l1", 0.03), ("l2", 0.05)]


@pytest.mark.parametrize("optimizer", optimizers.NAMES)
@pytest.mark.parametrize("seed", range(9))
def test_one_training_step_gives_the_same_parameters(tmp_path, optimizer, seed):
    """Every loss, mini-batches (shuffled with the seed) and a validation split, locked
    weights and biases, L1 and L2 regularization, derived inputs: one step of the exported
    script is one step of NN Studio's trainer."""
    kind, rate = REGULARIZATIONS[seed % 3]
    proj = random_project(100 + seed, optimizer=optimizer, batch_size=4,
                          validation_split=0.25 if seed % 2 else 0.0,
                          regularization=kind, regularization_rate=rate, derived=seed >= 6)
    trainer = _trainer(proj)
    trainer.step()
    _assert_same_params(proj, trainer, _one_step(_module(tmp_path, proj)))


@pytest.mark.parametrize("optimizer", optimizers.NAMES)
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_one_training_step_on_every_sample(tmp_path, optimizer, path):
    proj = sample(path)
    proj.settings = proj.settings.with_(optimizer=optimizer)
    trainer = _trainer(proj)
    trainer.step()
    _assert_same_params(proj, trainer, _one_step(_module(tmp_path, proj)))


@pytest.mark.parametrize("optimizer", optimizers.NAMES)
@pytest.mark.parametrize("kind, rate", REGULARIZATIONS)
def test_three_epochs_print_nn_studios_losses_and_end_at_its_parameters(tmp_path, optimizer,
                                                                         kind, rate):
    def project():
        return random_project(7, loss="mse", optimizer=optimizer, batch_size=3,
                              validation_split=0.2, regularization=kind,
                              regularization_rate=rate)

    proj = project()
    trainer = _trainer(proj)
    snaps = trainer.train(3)
    module = _module(tmp_path, proj)
    out = io.StringIO()
    with redirect_stdout(out):
        model = module.train(module.Net(), 3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    printed = [[float(v) for v in re.findall(r"loss (\S+)", line)] for line in lines]
    initial = _trainer(project())
    expected = [[initial.full_loss(), initial.val_loss()]] + \
        [[s.loss, s.val_loss] for s in snaps]
    np.testing.assert_allclose(np.array(printed), np.array(expected), rtol=1e-10)
    penalties = [float(v) for v in re.findall(r"penalty (\S+)", out.getvalue())]
    if kind == "none":
        assert penalties == []
    else:
        first = initial.engine.penalty(initial.penalty)
        np.testing.assert_allclose(penalties, [first] + [s.penalty for s in snaps], rtol=1e-10)
        assert penalties[0] > 0
    _assert_same_params(proj, trainer, model)


def test_locked_parameters_stay_where_they_are(tmp_path):
    proj = random_project(11, loss="mse", optimizer="adam", batch_size=2, lock=0.5)
    net = proj.network
    locked = {pid: net.get_param(pid) for pid in net.param_ids()
              if not net.store.trainable[net.param_slot(pid)]}
    assert locked
    module = _module(tmp_path, proj)
    with redirect_stdout(io.StringIO()):
        model = module.train(module.Net(), 5)
    got = _torch_params(proj, model)
    assert {pid: got[pid] for pid in locked} == locked


def test_importing_the_script_trains_nothing(tmp_path, capsys):
    proj = sample(next(p for p in SAMPLES if p.stem == "xor"))
    module = _module(tmp_path, proj)
    assert capsys.readouterr().out == ""
    assert isinstance(module.Net(), torch.nn.Module)
    X, Y = module.load_data()
    assert X.shape == (4, 2) and Y.shape == (4, 1) and X.dtype == torch.float64
    assert sum(1 for _ in module.data_loader(X, Y)) == 1


def test_a_layered_network_becomes_linear_layers(tmp_path):
    proj = sample(next(p for p in SAMPLES if p.stem == "spiral"))
    model = _module(tmp_path, proj).Net()
    kinds = [type(m).__name__ for m in model.children()]
    assert kinds == ["Linear", "Linear", "Linear"]
    assert [m.weight.shape for m in model.children()] == [(16, 2), (16, 16), (1, 16)]


def test_running_the_script_prints_the_loss_curve(tmp_path):
    """`python OUT.py` trains (here for 3 epochs) and prints NN Studio's loss per epoch."""
    proj = sample(next(p for p in SAMPLES if p.stem == "spiral"))
    path = tmp_path / "spiral.py"
    script, csv = pytorch.write(proj, path)
    assert csv.name == "spiral.csv" and csv.exists()
    out = subprocess.run([sys.executable, str(script), "--epochs", "3"], capture_output=True,
                         text=True, timeout=300, cwd=tmp_path.parent)
    assert out.returncode == 0, out.stderr
    printed = [float(m) for m in re.findall(r"loss (\S+)", out.stdout)]
    trainer = _trainer(proj)
    expected = [trainer.full_loss()] + [s.loss for s in trainer.train(3)]
    np.testing.assert_allclose(printed, expected, rtol=1e-10)


def test_a_dataset_that_does_not_fit_is_refused(tmp_path):
    proj = sample(next(p for p in SAMPLES if p.stem == "xor"))
    proj.network.add_neuron("input", id="extra")
    with pytest.raises(ExportError, match="3 input and 1 output"):
        pytorch.write(proj, tmp_path / "x.py")
    assert not list(tmp_path.iterdir())


def test_a_script_named_csv_is_refused(tmp_path):
    proj = sample(next(p for p in SAMPLES if p.stem == "xor"))
    with pytest.raises(ExportError, match=r"\.csv"):
        pytorch.write(proj, tmp_path / "x.csv")


def _saturated(seed: int, loss: str):
    """A random network for a cross-entropy, its outputs a mix NN Studio computes exactly
    (sigmoid and softmax; softplus too for categorical cross-entropy), every weight and bias
    made 25 times larger: probabilities of 0 and 1 to float precision, where a clipped
    formula would be flat and wrong."""
    proj = random_project(300 + seed, loss=loss, optimizer="sgd", batch_size=0, lock=0.0)
    net = proj.network
    rng = np.random.default_rng(seed)
    kinds = ["sigmoid", "softmax"] + (["softplus"] if loss == "cross_entropy" else [])
    chosen = [str(rng.choice(kinds)) for _ in net.outputs]
    if chosen.count("softmax") == 1:  # a softmax of one output is always 1: a loss of inf
        chosen[chosen.index("softmax")] = "sigmoid"
    for o, act in zip(net.outputs, chosen, strict=True):
        net.set_activation(o.id, act)
    net.set_params({pid: 25.0 * net.get_param(pid) for pid in net.param_ids()})
    return proj


@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
@pytest.mark.parametrize("seed", range(12))
def test_cross_entropies_are_exact_at_saturation(tmp_path, loss, seed):
    """The script computes the cross-entropies from the raw sums as NN Studio does: the same
    loss and the same step where the probabilities are 0 or 1 to float precision."""
    proj = _saturated(seed, loss)
    ds = proj.dataset
    module = _module(tmp_path, proj)
    x, y = (torch.tensor(a, dtype=torch.float64) for a in (ds.X, ds.Y))
    with torch.no_grad():
        got = float(module.loss_fn(module.Net(), x, y))
    expected = Engine.compile(proj.network).loss(ds.X, ds.Y, loss)
    assert np.isfinite(expected)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    trainer = _trainer(proj)
    trainer.step()
    _assert_same_params(proj, trainer, _one_step(module))


def test_a_cross_entropy_nn_studio_refuses_is_refused(tmp_path):
    proj = random_project(5, loss="bce", lock=0.0)
    net = proj.network
    net.set_activation(net.outputs[0].id, "tanh")
    with pytest.raises(ExportError, match="computed exactly from the raw sums"):
        pytorch.write(proj, tmp_path / "x.py")
    assert list(tmp_path.iterdir()) == []


def _mid_epoch_stop(proj):
    """The project with a minimum step that NN Studio's training first meets inside an epoch
    (just above the size of such an update, smaller than every update before it)."""
    tiny = proj.settings.with_(min_step=1e-300)
    proj.settings = tiny
    trainer = _trainer(proj)
    smallest = np.inf
    for snap in trainer.run("step"):
        size = trainer.last_step_size
        if not snap.epoch_end and size < smallest * 0.999 and snap.step > 3:
            proj.settings = tiny.with_(min_step=float(size) * 1.0001)
            return proj
        smallest = min(smallest, size)
    pytest.skip("no update inside an epoch is the smallest so far")


@pytest.mark.parametrize("case", ["intercept lesson", "inside an epoch"])
def test_the_minimum_step_stops_the_script_where_it_stops_nn_studio(tmp_path, case):
    """The intercept lesson (gradient descent, minimum step 0.001) stops after 66 updates; a
    random network with mini-batches stops inside an epoch. Same losses, same reason, same
    parameters."""
    if case == "intercept lesson":
        proj = sample(next(p for p in SAMPLES if p.stem == "intercept-descent"))
    else:
        proj = _mid_epoch_stop(random_project(21, loss="mse", optimizer="sgd", batch_size=3))
    trainer = _trainer(proj)
    initial = trainer.full_loss()
    snaps = trainer.train()
    assert snaps[-1].converged and snaps[-1].epoch < proj.settings.epochs
    assert snaps[-1].epoch_end == (case == "intercept lesson")
    module = _module(tmp_path, proj)
    out = io.StringIO()
    with redirect_stdout(out):
        model = module.train(module.Net())
    lines = out.getvalue().splitlines()
    printed = [float(m) for m in re.findall(r"loss (\S+)", out.getvalue())]
    np.testing.assert_allclose(printed, [initial] + [s.loss for s in snaps], rtol=1e-10)
    assert lines[-1] == f"stopped early: {snaps[-1].converged}"
    _assert_same_params(proj, trainer, model)

"""Live training as a user drives it: Play/Pause, Step, Reset, divergence, edits while training,
and a clean stop when the project is replaced or the window closes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.network import Network
from nnstudio.core.trainer import Trainer, split
from nnstudio.gui import files
from nnstudio.gui.document import Document
from nnstudio.gui.training import POLL_MS, Record, TrainingController, TrainingHistory


def params(net: Network) -> dict:
    return {p: net.get_param(p) for p in net.param_ids()}


@pytest.fixture
def make(qtbot):
    made = []

    def _make(sample: str = "xor.nnproj", **settings) -> tuple[Document, TrainingController]:
        doc = Document.open(paths.SAMPLES / sample)
        if settings:
            doc.set_settings(**settings)
            doc.undo_stack.clear()
        ctl = TrainingController(doc)
        made.append(ctl)
        return doc, ctl

    yield _make
    for ctl in made:
        ctl.shutdown()
        assert not ctl.is_running()


def wait_idle(qtbot, ctl, timeout=20000):
    qtbot.waitUntil(lambda: not ctl.is_running(), timeout=timeout)


def test_training_starts_and_the_loss_decreases(qtbot, make):
    doc, ctl = make("xor.nnproj", epochs=300)
    loss0 = doc.loss()
    before = params(doc.network)
    with qtbot.waitSignal(ctl.runningChanged, timeout=2000):
        assert ctl.play()
    assert ctl.is_running() and doc.training_active
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1 and ctl.history.n >= 2, timeout=10000)
    wait_idle(qtbot, ctl)
    h = ctl.history
    assert h.n == 301 and h.x[0] == 0 and h.x[-1] == 300
    assert h.loss[0] == pytest.approx(loss0, rel=1e-12)  # epoch 0: before the first step
    assert h.loss[-1] < 0.5 * loss0
    # the network holds the final snapshot: the engine's loss there is the last history point
    assert doc.loss() == pytest.approx(h.loss[-1], rel=1e-12)
    # the run is ONE undo step; undo restores the parameters from before the run
    stack = doc.undo_stack
    assert stack.count() == 1 and stack.text(0) == "Train 300 epochs"
    stack.undo()
    assert params(doc.network) == before
    assert not doc.training_active


def test_the_worker_runs_the_cores_training_loop(qtbot, make):
    """Play in the window and ``Trainer.run`` headless (what ``nnstudio train`` runs) give the
    same parameters and losses, bit for bit: there is one training loop."""
    doc, ctl = make("spiral.nnproj", epochs=400, batch_size=50)
    s = doc.settings
    X, Y = np.asarray(doc.dataset.X, float), np.asarray(doc.dataset.Y, float)
    Xt, Yt, Xv, Yv = split(X, Y, s.validation_split, s.seed)
    headless = Trainer(doc.network.copy(), Xt, Yt, s, X_val=Xv if len(Xv) else None,
                       Y_val=Yv if len(Yv) else None)
    snaps = list(headless.run("epoch"))
    ctl.play()
    wait_idle(qtbot, ctl)
    # snapshots reached the network during the run, and none was taken for an edit
    assert ctl.snapshots_applied >= 2
    assert [params(doc.network)[p] for p in headless.engine.param_ids] == list(snaps[-1].params)
    assert list(ctl.history.loss[1:]) == [snap.loss for snap in snaps]


def test_pause_stops_the_updates(qtbot, make):
    doc, ctl = make("spiral.nnproj", epochs=1_000_000)
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 2, timeout=10000)
    with qtbot.waitSignal(ctl.stopped, timeout=5000) as blocker:
        ctl.pause()
    assert blocker.args == ["paused"]
    assert not ctl.is_running() and not ctl.polling
    version, n, applied = doc.network.param_version, ctl.history.n, ctl.snapshots_applied
    # no worker, no poll timer: nothing can arrive any more; let several poll intervals pass
    qtbot.wait(6 * POLL_MS)
    now = doc.network.param_version, ctl.history.n, ctl.snapshots_applied
    assert now == (version, n, applied)
    assert doc.undo_stack.text(doc.undo_stack.count() - 1).startswith("Train ")
    # Play continues from where it stopped (the history goes on, no reset)
    ctl.play()
    qtbot.waitUntil(lambda: ctl.history.n > n + 5, timeout=10000)
    ctl.pause()
    assert np.all(np.diff(ctl.history.x) > 0)


def test_step_and_step_epoch_are_undo_steps(qtbot, make):
    doc, ctl = make("spiral.nnproj", batch_size=100, optimizer="sgd", learning_rate=0.1)
    before = params(doc.network)
    snap = ctl.step()
    assert snap is not None and not snap.diverged
    assert ctl.history.n == 2 and ctl.history.x[0] == 0
    assert ctl.history.x[1] == pytest.approx(1 / 3)
    assert doc.undo_stack.text(doc.undo_stack.count() - 1) == "Train 1 step"
    after_step = params(doc.network)
    assert after_step != before
    ctl.step_epoch()  # finishes the current epoch (2 more batches)
    assert ctl.history.x[-1] == pytest.approx(1.0)
    ctl.step_epoch()
    assert ctl.history.x[-1] == pytest.approx(2.0)
    assert doc.undo_stack.text(doc.undo_stack.count() - 1) == "Train 1 epoch"
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert params(doc.network) == after_step
    doc.undo_stack.undo()
    assert params(doc.network) == before


def test_reset_restores_the_initial_parameters(qtbot, make):
    doc, ctl = make("xor.nnproj")
    s = doc.settings
    ctl.reset()
    initial = params(doc.network)
    expected = doc.network.copy()
    expected.randomize(s.seed, s.init)
    assert initial == params(expected)
    for _ in range(5):
        ctl.step_epoch()
    assert params(doc.network) != initial and ctl.history.n == 6  # epochs 0..5
    ctl.play()
    qtbot.waitUntil(lambda: ctl.history.n > 10, timeout=10000)
    ctl.reset()                       # pauses first, then re-initialises
    assert not ctl.is_running()
    assert params(doc.network) == initial
    assert ctl.history.n == 0 and ctl.epoch == 0
    # undoable: undo brings back the trained parameters
    doc.undo_stack.undo()
    assert params(doc.network) != initial


def test_a_learning_rate_that_explodes_pauses_with_a_message(qtbot, make):
    doc, ctl = make("linear-regression.nnproj", optimizer="gd", learning_rate=1000.0,
                    epochs=100000)
    messages = []
    doc.statusMessage.connect(lambda text, ms: messages.append(text))
    with qtbot.waitSignal(ctl.diverged, timeout=10000) as blocker:
        ctl.play()
    wait_idle(qtbot, ctl)
    text = blocker.args[0]
    assert text.startswith("Training paused: ")
    assert ("became inf" in text or "became nan" in text or "overflowed" in text)
    assert "epoch" in text and "last finite parameters are kept" in text
    assert ctl.last_message == text and text in messages
    vals = np.array(list(params(doc.network).values()))
    assert np.all(np.isfinite(vals))
    assert ctl.stopped  # the run was recorded
    assert doc.undo_stack.text(doc.undo_stack.count() - 1).startswith("Train")


def test_parameter_edits_while_training_apply_at_the_next_step(qtbot, make):
    doc, ctl = make("spiral.nnproj", epochs=1_000_000)
    pid = next(iter(doc.network.connections))
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1, timeout=10000)
    doc.set_trainable([pid], False)     # locked: training must leave it alone from now on
    doc.set_param(pid, 2.5)
    applied = ctl.snapshots_applied
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= applied + 3, timeout=10000)
    assert doc.network.get_param(pid) == 2.5          # not overwritten by a stale snapshot
    assert ctl.trainer.engine.params[ctl.trainer.engine.param_index(pid)] == 2.5
    ctl.pause()
    assert doc.network.get_param(pid) == 2.5


def test_an_edit_right_before_pause_is_kept(qtbot, make):
    """An edit the worker has not seen yet outdates its last snapshot: pausing at once keeps
    the edit instead of the snapshot's older value."""
    doc, ctl = make("spiral.nnproj", epochs=1_000_000)
    pid = next(iter(doc.network.connections))
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1, timeout=10000)
    doc.set_param(pid, 2.5)
    ctl.pause()
    assert doc.network.get_param(pid) == 2.5
    # the training before the edit is under it; none was shown after it
    texts = [doc.undo_stack.text(i) for i in range(doc.undo_stack.count())]
    assert texts[0].startswith("Train ") and texts[-1].startswith("Set ")


def test_a_structural_edit_pauses_training_first(qtbot, make):
    doc, ctl = make("xor.nnproj", epochs=1_000_000)
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1, timeout=10000)
    trained = params(doc.network)
    nid = doc.add_neuron("hidden", 0.0, 0.0)
    assert not ctl.is_running()
    # the training it followed is recorded under the edit, with the parameters it left
    texts = [doc.undo_stack.text(i) for i in range(doc.undo_stack.count())]
    assert texts[0].startswith("Train ") and texts[1].startswith("Add hidden neuron")
    qtbot.wait(3 * POLL_MS)
    assert doc.undo_stack.count() == 2
    for p, v in trained.items():            # nothing lost or torn
        assert doc.network.get_param(p) == v
    assert nid in doc.network.neurons
    # training again works on the new structure
    ctl.step_epoch()
    assert ctl.history.n_depth == len(ctl.trainer.engine.blocks) - 1


def test_undo_while_training_pauses_and_undoes_the_training_first(qtbot, make):
    doc, ctl = make("xor.nnproj", epochs=1_000_000)
    opened = params(doc.network)
    nid = doc.add_neuron("hidden", 0.0, 0.0)
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1, timeout=10000)
    doc.undo_stack.undo()                       # pauses, records the run, undoes it
    assert not ctl.is_running() and nid in doc.network.neurons
    assert {p: doc.network.get_param(p) for p in opened} == opened
    doc.undo_stack.undo()                       # then the neuron
    assert nid not in doc.network.neurons
    qtbot.wait(3 * POLL_MS)
    assert doc.undo_stack.canRedo()             # both can still be redone
    doc.undo_stack.redo()
    doc.undo_stack.redo()
    assert nid in doc.network.neurons and doc.undo_stack.text(1).startswith("Train ")


def test_a_weight_set_before_play_comes_back_after_undos_while_training(qtbot, make):
    """The issue's case: set a weight, Play, Undo three times while it trains, Pause, undo
    all: the project is as opened; and deleting h1 while training records the training under
    the deletion, so undoing everything brings h1 back as opened, untrained."""
    doc, ctl = make("xor.nnproj", epochs=1_000_000)
    opened = project.dumps(doc.project)
    pid = next(iter(doc.network.connections))
    doc.set_param(pid, 0.75)
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1, timeout=10000)
    for _ in range(3):
        doc.undo_stack.undo()
    ctl.pause()
    doc.undo_stack.setIndex(0)
    assert project.dumps(doc.project) == opened
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 2, timeout=10000)
    h1 = next(n.id for n in doc.network.neurons.values() if n.role == "hidden")
    doc.remove([h1])
    ctl.pause()
    doc.undo_stack.setIndex(0)
    assert project.dumps(doc.project) == opened


def test_an_edit_while_training_splits_the_run(qtbot, make):
    doc, ctl = make("spiral.nnproj", epochs=1_000_000)
    pid = next(iter(doc.network.connections))
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 2, timeout=10000)
    doc.set_param(pid, 2.5)
    applied = ctl.snapshots_applied
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= applied + 2, timeout=10000)
    ctl.pause()
    stack = doc.undo_stack
    texts = [stack.text(i) for i in range(stack.count())]
    assert texts[0].startswith("Train ") and texts[1].startswith("Set ")
    assert texts[2].startswith("Train ")
    stack.setIndex(2)
    assert doc.network.get_param(pid) == 2.5   # the edit, before the training after it


def test_opening_another_project_stops_the_worker(qtbot, make):
    doc, ctl = make("spiral.nnproj", epochs=1_000_000)
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1, timeout=10000)
    xor = Document.open(paths.SAMPLES / "xor.nnproj").network
    doc.load(paths.SAMPLES / "xor.nnproj")
    assert not ctl.is_running()
    assert ctl.history.n == 0 and doc.undo_stack.count() == 0
    qtbot.wait(3 * POLL_MS)   # nothing from the old run may reach the new project later
    assert doc.undo_stack.count() == 0
    assert params(doc.network) == params(xor)


def test_settings_edits_while_training(qtbot, make):
    doc, ctl = make("spiral.nnproj", epochs=1_000_000)
    ctl.play()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1, timeout=10000)
    doc.set_settings(learning_rate=0.01)         # applied in place
    qtbot.waitUntil(lambda: ctl.trainer.opt.lr == 0.01, timeout=5000)
    doc.set_settings(optimizer="momentum")        # restarts the worker, same logical run
    assert ctl.is_running() and ctl.trainer.settings.optimizer == "momentum"
    n = ctl.history.n
    qtbot.waitUntil(lambda: ctl.history.n > n + 3, timeout=10000)
    target = int(ctl.epoch) + 50
    doc.set_settings(epochs=target)               # a nearer target: the run ends there
    wait_idle(qtbot, ctl)
    assert ctl.history.x[-1] == target


def test_history_growth_and_parameter_sampling():
    h = TrainingHistory()
    h.set_structure(["a", "b"], 1)
    recs = [Record(float(i + 1), 1.0 / (i + 1), None, np.array([0.1]), np.array([i, -i], float))
            for i in range(20000)]
    h.extend(recs[:7])
    h.extend(recs[7:])
    assert h.n == 20000 and np.array_equal(h.x, np.arange(1, 20001))
    assert h.loss[-1] == 1 / 20000 and not h.has_validation()
    assert h.g_n == 20000
    # the parameter rows stay within budget and evenly sampled over the whole run
    assert h.p_n <= h.param_capacity and h.param_stride > 1
    xs = h.param_x
    assert xs[0] == 1 and np.all(np.diff(xs) == h.param_stride)
    assert np.array_equal(h.params[:, 0], xs - 1)


def test_window_has_controls_and_closing_stops_training(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("NNSTUDIO_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setattr(files, "ask_unsaved", lambda parent, name: "discard")
    for name in ("critical", "warning", "question", "information"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, **k: None)
    from nnstudio.gui.app import create_window
    win, err = create_window(str(paths.SAMPLES / "spiral.nnproj"))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    ctl = win.training.controller
    titles = [a.text().replace("&", "") for a in win.menu("Train").actions()
              if not a.isSeparator()]
    assert titles[:4] == ["Train", "Step", "Step Epoch", "Reset"]   # the lessons' words
    for key in ("output", "loss", "gradients", "params", "activation", "landscape", "dataset"):
        assert key in win.docks
    # settings widgets edit the document (undoably)
    bar = win.training.settings_bar
    bar.batch.setValue(50)
    assert win.document.settings.batch_size == 50
    win.document.undo_stack.undo()
    assert win.document.settings.batch_size == 0 and bar.batch.value() == 0
    bar.lr.setText("abc")                      # refused inline, nothing applied
    bar.lr.editingFinished.emit()
    assert bar.lr.error and win.document.settings.learning_rate == 0.05
    bar.lr.setText("0.02")
    bar.lr.editingFinished.emit()
    assert win.document.settings.learning_rate == 0.02
    win.document.set_settings(epochs=1_000_000)
    win.training.actions["play"].trigger()
    assert ctl.is_running() and win.training.actions["play"].text() == "&Pause"
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 2, timeout=10000)
    status = win.training.status
    qtbot.waitUntil(lambda: "epochs/s" in status.text.text(), timeout=5000)
    assert status.bar.value() >= 1
    win.close()
    assert not ctl.is_running()


def test_play_stops_by_itself_at_the_minimum_step(qtbot, make):
    """The intercept lesson's minimum step 0.001: Play stops after 66 updates and says why."""
    doc, ctl = make("intercept-descent.nnproj")
    assert doc.settings.min_step == 0.001
    messages = []
    doc.statusMessage.connect(lambda text, _ms: messages.append(text))
    ctl.play()
    wait_idle(qtbot, ctl)
    assert ctl.epoch == 66 and round(doc.network.get_param("intercept"), 4) == 1.0086
    assert messages[-1] == ("Training stopped early: the largest step, 0.000955, fell below the "
                            "minimum step 0.001 at update 66 (epoch 66)")
    # with the tolerance off, Play runs on to the target epochs
    doc.set_settings(min_step=0.0)
    ctl.play()
    wait_idle(qtbot, ctl)
    assert ctl.epoch == 100 and messages[-1].startswith("Training finished: 100 epochs")


def test_the_training_settings_edit_the_minimum_step(qtbot):
    """(In the inspector's training settings: the toolbar keeps to what fits 1024 pixels.)"""
    from nnstudio.gui.inspector import Inspector
    doc = Document.open(paths.SAMPLES / "intercept-descent.nnproj")
    inspector = Inspector(doc)
    qtbot.addWidget(inspector)
    bar = inspector.settings_box
    assert bar.min_step.text() == "0.001"
    bar.min_step.setText("-1")                     # refused inline, nothing applied
    bar.min_step.editingFinished.emit()
    assert bar.min_step.error and doc.settings.min_step == 0.001
    bar.min_step.setText("0")
    bar.min_step.editingFinished.emit()
    assert doc.settings.min_step == 0.0
    doc.undo_stack.undo()
    assert doc.settings.min_step == 0.001
    qtbot.waitUntil(lambda: bar.min_step.text() == "0.001")   # (the inspector follows soon)


def test_moving_h1_below_h2_then_step_trains_the_right_parameters(qtbot, make):
    """Parameter order follows canvas position: after a move the trainer's order and the
    document's differ, and a step must still write each value to its own parameter."""
    doc, ctl = make("xor.nnproj")
    unmoved = Document.open(paths.SAMPLES / "xor.nnproj").network
    s = doc.settings
    X, Y = np.asarray(doc.dataset.X), np.asarray(doc.dataset.Y)
    Xt, Yt, _, _ = split(X, Y, s.validation_split, s.seed)
    ref_trainer = Trainer(unmoved, Xt, Yt, s)      # the same two steps, never moved
    ref_trainer.run_step()
    ref = ref_trainer.run_step()
    unmoved.set_param_vector(ref.slots, ref.params)
    ctl.step()                                      # the trainer (and its engine) exist
    h1, h2 = (doc.network.neurons[i] for i in ("h1", "h2"))
    doc.move_items({"h1": (h1.x, h2.y + 200.0)})
    assert list(doc.engine().param_ids) != list(ctl.trainer.engine.param_ids)
    snap = ctl.step()
    assert ctl.last_message == "" and snap is not None and not snap.diverged
    assert params(doc.network) == params(unmoved)
    assert doc.loss() == pytest.approx(snap.loss, rel=1e-12)

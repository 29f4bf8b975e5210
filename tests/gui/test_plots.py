"""The plot panes show the engine's own numbers, and export as PNG, SVG and CSV."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import activations as acts
from nnstudio.gui.document import Document
from nnstudio.gui.plots import (
    ActivationPane,
    GradientsPane,
    LandscapePane,
    LossPane,
    OutputPane,
    ParamHistoryPane,
)
from nnstudio.gui.plots import output as output_mod
from nnstudio.gui.plots.base import scheduler
from nnstudio.gui.training import TrainingController


@pytest.fixture
def setup(qtbot):
    made = []

    def _make(sample: str, *panes):
        doc = Document.open(paths.SAMPLES / sample)
        ctl = TrainingController(doc)
        made.append(ctl)
        out = []
        for cls in panes:
            p = cls(doc, ctl)
            qtbot.addWidget(p)
            p.resize(500, 380)
            out.append(p)
        return doc, ctl, out

    yield _make
    for ctl in made:
        ctl.shutdown()


def data(item):
    x, y = item.getData()
    return ((np.zeros(0) if x is None else np.asarray(x)),
            (np.zeros(0) if y is None else np.asarray(y)))


def test_loss_pane_shows_the_history_and_the_engine_loss(setup):
    doc, ctl, (pane,) = setup("xor.nnproj", LossPane)
    pane.refresh_now()
    # before training: one marker at the engine's loss
    loss0 = doc.evaluation().loss
    assert data(pane.current)[1][0] == pytest.approx(loss0, rel=1e-12)
    for _ in range(12):
        ctl.step_epoch()
    pane.refresh_now()
    x, y = pane.train_curve.getOriginalDataset()
    # epoch 0 is the loss before the first step
    assert np.array_equal(x, np.arange(0, 13)) and np.array_equal(y, ctl.history.loss)
    assert y[0] == pytest.approx(loss0, rel=1e-12)
    assert y[-1] == pytest.approx(doc.evaluation().loss, rel=1e-12)
    assert not pane.val_curve.isVisible()
    pane.set_log(True)
    assert pane.plot.getAxis("left").logMode
    # designed for long runs: clipped to the view and peak-downsampled
    opts = pane.train_curve.opts
    assert opts["clipToView"] and opts["autoDownsample"] and opts["downsampleMethod"] == "peak"


def test_loss_pane_says_why_training_diverged(qtbot, setup):
    doc, ctl, (pane,) = setup("linear-regression.nnproj", LossPane)
    doc.set_settings(learning_rate=1000.0, epochs=100000)
    with qtbot.waitSignal(ctl.diverged, timeout=10000):
        ctl.play()
    qtbot.waitUntil(lambda: not ctl.is_running(), timeout=10000)
    assert pane.warning.text().startswith("Training paused: ")
    assert pane.warning.isVisibleTo(pane)


def test_loss_pane_validation_curve(setup):
    doc, ctl, (pane,) = setup("spiral.nnproj", LossPane)
    doc.set_settings(validation_split=0.25)
    for _ in range(3):
        ctl.step_epoch()
    pane.refresh_now()
    assert pane.val_curve.isVisible()
    _, v = pane.val_curve.getOriginalDataset()
    assert np.all(np.isfinite(v)) and v[-1] == pytest.approx(ctl.trainer.val_loss(), rel=1e-12)
    assert ctl.trainer.X.shape[0] == 225


def test_loss_pane_with_a_million_points(qtbot, setup, monkeypatch):
    doc, ctl, (pane,) = setup("xor.nnproj", LossPane)
    n = 1_000_000
    h = ctl.history
    monkeypatch.setattr(h, "MAX_POINTS", 2 * n)  # (the history thins long before this)
    xs = np.arange(1, n + 1, dtype=float)
    h.extend_loss(xs, 1.0 / xs)
    pane.show()
    qtbot.waitExposed(pane)
    pane.refresh_now()
    x, y = pane.train_curve.getOriginalDataset()
    assert len(x) == n and y[-1] == 1.0 / n
    # drawn with about one point per pixel, not a million
    qtbot.waitUntil(lambda: len(pane.train_curve.getData()[0]) < 20_000, timeout=3000)


def test_activation_pane_marks_each_samples_z(setup):
    doc, ctl, (pane,) = setup("xor.nnproj", ActivationPane)
    net = doc.network
    hid = [n.id for n in net.neurons.values() if n.role == "hidden"][0]
    doc.set_selection([hid])
    pane.refresh_now()
    ev, eng = doc.evaluation(), doc.engine()
    i = eng.index[hid]
    act = acts.ACTIVATIONS[net.neurons[hid].activation]
    zx, ay = data(pane.marks)
    assert np.array_equal(zx, ev.z[:, i]) and np.array_equal(ay, ev.a[:, i])
    dz, dd = data(pane.d_marks)
    assert np.allclose(dd, act.df(ev.z[:, i], ev.a[:, i], net.neurons[hid].slope), rtol=0, atol=0)
    gx, gy = data(pane.f_curve)
    assert np.allclose(gy, act.f(gx, 0.0))


def test_activation_pane_dead_relu_warning_and_one_input_plot(setup):
    doc, ctl, (pane,) = setup("dosage-backprop.nnproj", ActivationPane)
    net = doc.network
    doc.set_selection(["b1"])                           # softplus, one input: w·x + b plot
    pane.refresh_now()
    assert pane.wx_plot.isVisible()
    c = net.incoming("b1")[0]
    xs, zs = data(pane.z_line)
    assert np.allclose(zs, c.weight * xs + net.neurons["b1"].bias)
    doc.set_activation(["b1"], "relu")
    doc.set_params({"b1": -100.0})
    pane.refresh_now()
    assert "dead ReLU" in pane.warning.text()


def test_gradients_pane_layer_means_and_warnings(setup):
    doc, ctl, (pane,) = setup("spiral.nnproj", GradientsPane)
    for _ in range(3):
        ctl.step_epoch()
    pane.refresh_now()
    ev, eng = doc.evaluation(), doc.engine()
    assert np.array_equal(pane.current, eng.layer_grad_means(ev.grad))
    assert len(pane.curves) == len(eng.blocks) - 1
    x, y = pane.curves[0].getOriginalDataset()
    assert np.array_equal(x, ctl.history.grad_x)
    assert np.allclose(y, ctl.history.grad[:, 0])
    assert pane.plot.getAxis("left").logMode
    # a ReLU neuron pushed negative on every sample is reported as dead
    doc2, ctl2, (pane2,) = setup("xor.nnproj", GradientsPane)
    net = doc2.network
    h = [n.id for n in net.neurons.values() if n.role == "hidden"][0]
    doc2.set_activation([h], "relu")
    doc2.set_params({h: -50.0})
    pane2.refresh_now()
    assert f"{net.neurons[h].label} is dead" in pane2.warning.text()


def test_gradients_pane_vanishing_warning(setup):
    doc, ctl, (pane,) = setup("xor.nnproj", GradientsPane)
    net = doc.network
    hidden = [n.id for n in net.neurons.values() if n.role == "hidden"]
    doc.set_activation(hidden, "sigmoid")
    doc.set_params(dict.fromkeys(hidden, 60.0))            # saturated: da/dz ~ e^-60
    pane.refresh_now()
    assert "below 1e-6" in pane.warning.text()


def test_output_pane_curve_for_one_input(setup):
    doc, ctl, (pane,) = setup("dosage-backprop.nnproj", OutputPane)
    pane.refresh_now()
    assert pane.mode == "curve"
    xs, ys = data(pane.curve)
    assert np.array_equal(ys, doc.engine().predict(xs[:, None])[:, 0])
    px, py = data(pane.points)
    assert np.array_equal(px, doc.dataset.X[:, 0]) and np.array_equal(py, doc.dataset.Y[:, 0])


def test_output_pane_decision_boundary_for_any_neuron(setup):
    doc, ctl, (pane,) = setup("xor.nnproj", OutputPane)
    pane.refresh_now()
    assert pane.mode == "boundary" and pane.image.isVisible()
    eng = doc.engine()
    g = pane.grid
    X = np.array([[g["x1"][3], g["x2"][7]], [g["x1"][50], g["x2"][10]]])
    pred = eng.predict(X)[:, 0]
    assert g["value"][3, 7] == pred[0] and g["value"][50, 10] == pred[1]
    # a hidden neuron's map: its activation from the engine
    hid = [n.id for n in doc.network.neurons.values() if n.role == "hidden"][1]
    pane.set_neuron(hid)
    pane.refresh_now()
    assert pane.shown_neuron == hid
    ev = eng.evaluate(X, np.zeros((2, 1)), doc.settings.loss)
    assert pane.grid["value"][3, 7] == ev.a[0, eng.index[hid]]
    # following the canvas selection
    pane.set_neuron(None)
    doc.set_selection([hid])
    pane.refresh_now()
    assert pane.shown_neuron == hid


def test_output_pane_draws_each_residual_and_the_ssr(setup):
    """Seed 001: residual = actual − predicted; the SSR adds up their squares."""
    doc, ctl, (pane,) = setup("linear-regression.nnproj", OutputPane)
    pane.refresh_now()
    assert pane.mode == "curve"
    rx, ry = data(pane.residuals)
    ds, out = doc.dataset, doc.evaluation().outputs[:, 0]
    assert np.array_equal(rx, np.repeat(ds.X[:, 0], 2))
    assert np.array_equal(ry.reshape(-1, 2), np.column_stack([ds.Y[:, 0], out]))
    assert pane.info.text().startswith("SSR 86 · 5 samples")
    header, rows = pane.csv_table()
    assert header[-1] == "residual" and rows[0][-1] == ds.Y[0, 0] - out[0]


def test_output_pane_lines_on_fixed_axes(setup):
    """Seed 001's two lines drawn together; the axes stay put when a weight changes."""
    doc, ctl, (pane,) = setup("weight-and-bias.nnproj", OutputPane)
    pane.refresh_now()
    assert pane.mode == "lines" and len(pane.lines) == 2
    xs, y1 = data(pane.lines[0])
    _, y2 = data(pane.lines[1])
    assert np.allclose(y1, xs) and np.allclose(y2, 2 * xs - 1)
    (x0, x1), (lo, hi) = pane.plot.viewRange()
    doc.set_param("w1", 3.0)
    pane.refresh_now()
    assert np.allclose(data(pane.lines[0])[1], 3 * xs)
    assert pane.plot.viewRange() == [[x0, x1], [lo, hi]]      # fixed axes


def test_output_pane_probability_bars_for_softmax(setup):
    """Seed 000: raw outputs [34, 32, 25] → 0.88, 0.12, 0.0001, one bar each."""
    doc, ctl, (pane,) = setup("softmax.nnproj", OutputPane)
    pane.refresh_now()
    assert pane.mode == "probabilities"
    heights = pane.bars.opts["height"]
    assert [round(float(h), 4) for h in heights] == [0.8807, 0.1192, 0.0001]
    assert [t.toPlainText() for t in pane.bar_labels] == ["0.8807", "0.1192", "0.0001087"]
    assert "answer orange (the data says apple)" in pane.info.text()
    # the fruit sorter: the chosen fruit's probabilities
    doc2, ctl2, (fruit,) = setup("fruit-classifier.nnproj", OutputPane)
    doc2.set_sample(1)
    fruit.refresh_now()
    assert fruit.mode == "probabilities"
    assert np.array_equal(fruit.bars.opts["height"], doc2.evaluation().outputs[1])


def test_output_pane_predicted_vs_actual(setup):
    doc, ctl, (pane,) = setup("three-layer.nnproj", OutputPane)
    pane.refresh_now()
    assert pane.mode == "pva"
    ev = doc.evaluation()
    xs, ys = data(pane.points)
    assert np.array_equal(xs, ev.targets.T.ravel()) and np.array_equal(ys, ev.outputs.T.ravel())


def test_output_pane_click_adds_and_right_click_removes_points(qtbot, setup):
    doc, ctl, (pane,) = setup("spiral.nnproj", OutputPane)
    pane.show()
    qtbot.waitExposed(pane)
    pane.refresh_now()
    n = len(doc.dataset)
    pane.edit_box.setChecked(True)
    pane.class_box.setCurrentIndex(1)
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    vb = pane.plot.getViewBox()
    # click in the middle of the plot, in view coordinates (0.3, -0.2)
    scene_pt = vb.mapViewToScene(pg_point(0.3, -0.2))
    view_pt = pane.layout_widget.mapFromScene(scene_pt)
    QTest.mouseClick(pane.layout_widget.viewport(), Qt.LeftButton, Qt.NoModifier,
                     QPoint(int(view_pt.x()), int(view_pt.y())))
    qtbot.waitUntil(lambda: len(doc.dataset) == n + 1, timeout=2000)
    assert doc.dataset.X[-1] == pytest.approx([0.3, -0.2], abs=0.03)
    assert doc.dataset.Y[-1, 0] == 1.0
    assert doc.undo_stack.text(doc.undo_stack.count() - 1) == "Add a b point"
    # remove it again (what right-click does), then undo brings it back
    x, y = doc.dataset.X[-1]
    assert pane.remove_point_near(x, y, 0.01, 0.01)
    assert len(doc.dataset) == n
    doc.undo_stack.undo()
    assert len(doc.dataset) == n + 1
    assert not pane.remove_point_near(50.0, 50.0, 0.01, 0.01)


def pg_point(x, y):
    from PySide6.QtCore import QPointF
    return QPointF(x, y)


def test_parameter_history_follows_the_selection(setup):
    doc, ctl, (pane,) = setup("xor.nnproj", ParamHistoryPane)
    cid = next(iter(doc.network.connections))
    out = doc.network.outputs[0].id
    doc.set_selection([cid, out])
    for _ in range(6):
        ctl.step_epoch()
    pane.refresh_now()
    assert pane.pids == [cid, out]
    x, y = pane.curves[cid].getOriginalDataset()
    assert np.array_equal(x, np.arange(0, 7))
    assert y[-1] == doc.network.get_param(cid)
    assert pane.curves[out].getOriginalDataset()[1][-1] == doc.network.get_param(out)


def test_landscape_reproduces_seed_001_b3(setup):
    """Seed 001: the SSR as a function of b3 is a U; at b3 = 0 the slope is -15.7, and one step
    with learning rate 0.1 moves b3 to 1.57."""
    doc, ctl, (pane,) = setup("dosage-backprop.nnproj", LandscapePane)
    doc.set_selection(["b3"])
    pane.refresh_now()
    assert pane.mode == "1d"
    ev = doc.evaluation()
    i = doc.engine().param_index("b3")
    assert pane.slope == ev.grad[i] and round(pane.slope, 1) == -15.7
    assert pane.current_loss == ev.loss
    # the curve is the engine's loss at each b3 value; it is U-shaped around the minimum
    k = int(np.argmin(pane.losses))
    assert 0 < k < len(pane.losses) - 1
    net = doc.network.copy()
    net.set_param("b3", float(pane.values[k]))
    from nnstudio.core.engine import Engine
    e2 = Engine.compile(net)
    assert pane.losses[k] == pytest.approx(e2.loss(doc.dataset.X, doc.dataset.Y, "ssr"), rel=1e-12)
    sx, _ = data(pane.step_mark)
    assert round(sx[0], 2) == 1.57
    assert "1.57" in pane.info.text()


def test_landscape_contour_for_two_parameters(setup):
    doc, ctl, (pane,) = setup("dosage-backprop.nnproj", LandscapePane)
    doc.set_selection(["b3", next(iter(doc.network.connections))])
    pane.refresh_now()
    assert pane.mode == "2d" and pane.image.isVisible()
    g = pane.grid
    assert g["loss"].shape == (41, 41)
    # the grid's centre is the current point: its loss is the evaluation's
    assert g["loss"][20, 20] == pytest.approx(doc.evaluation().loss, rel=1e-12)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".csv"])
def test_every_pane_exports(setup, tmp_path, suffix):
    doc, ctl, panes = setup("xor.nnproj", LossPane, ActivationPane, GradientsPane, OutputPane,
                            ParamHistoryPane, LandscapePane)
    for _ in range(3):
        ctl.step_epoch()
    for pane in panes:
        out = pane.export(tmp_path / f"{pane.object_name}{suffix}")
        assert out.exists() and out.stat().st_size > 50, pane.object_name
        if suffix == ".png":
            assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        elif suffix == ".svg":
            assert b"<svg" in out.read_bytes()[:2000]
        else:
            rows = list(csv.reader(out.open()))
            assert len(rows) >= 2, pane.object_name
    if suffix == ".csv":
        rows = list(csv.reader((tmp_path / "loss.csv").open()))
        assert rows[0] == ["epoch", "training_loss"]
        assert float(rows[-1][1]) == ctl.history.loss[-1]


def test_export_refuses_unknown_format(setup, tmp_path):
    doc, ctl, (pane,) = setup("xor.nnproj", LossPane)
    with pytest.raises(ValueError, match="unknown export format"):
        pane.export(tmp_path / "x.jpeg")


def test_grid_resolution_constant():
    assert output_mod.GRID >= 64


def test_a_live_snapshot_gives_the_canvas_a_frame_before_the_panes(qtbot, setup):
    """During a run the panes wait a moment after each snapshot (the canvas repaints first);
    after a single Step they do not."""
    doc, ctl, (pane,) = setup("spiral.nnproj", LossPane)
    sched = scheduler()
    sched.quiet_until = 0.0
    with qtbot.waitSignal(ctl.snapshotApplied) as step:
        ctl.step()
    assert step.args == [False] and sched.quiet_until == 0.0
    doc.set_settings(epochs=1_000_000)
    with qtbot.waitSignal(ctl.snapshotApplied, timeout=10000) as live:
        ctl.play()
    assert live.args == [True] and sched.quiet_until > 0.0
    ctl.pause()
    assert not pane.busy


def test_the_vanishing_and_dying_lessons_fire_the_warnings_their_texts_promise(setup):
    """What the two lessons say the Gradients pane shows, it shows on the fresh lesson, and
    the fixes they suggest clear it."""
    doc, ctl, (pane,) = setup("dying-relu.nnproj", GradientsPane)
    pane.refresh_now()
    assert "ReLU neurons h1, h2, h3, h4 are dead: z ≤ 0 on every sample" in pane.warning.text()
    doc.set_params(dict.fromkeys(("h1", "h2", "h3", "h4"), 0.0))    # the lesson's fix
    pane.refresh_now()
    assert "dead" not in pane.warning.text()
    doc, ctl, (pane,) = setup("vanishing-gradients.nnproj", GradientsPane)
    pane.refresh_now()
    assert "The depth 1 layer's mean |gradient| is" in pane.warning.text()
    assert "below 1e-6" in pane.warning.text()
    doc.set_activation([n.id for n in doc.network.by_role("hidden")], "tanh")
    pane.refresh_now()
    assert "below 1e-6" not in pane.warning.text()


# ---------------------------------------------------------------------- no pane ever raises
def test_markers_survive_a_reset_after_training_in_view(qtbot, setup):
    """Train, zoom the epochs to where training got, then Reset: the current-value markers
    (one pen per point) sit at epoch 0, outside the view. Clipping them to the view used to
    drop points but not their pens ("Number of pens does not match number of points")."""
    doc, ctl, panes = setup("xor.nnproj", GradientsPane, ParamHistoryPane, LossPane)
    hid = [n.id for n in doc.network.neurons.values() if n.role == "hidden"]
    doc.set_selection(hid[:2])
    for p in panes:
        p.show()
        qtbot.waitExposed(p)
    for _ in range(30):
        ctl.step_epoch()
    for p in panes:
        p.refresh_now()
        p.plot.setXRange(20, 30, padding=0)
    ctl.reset()
    for p in panes:
        p.refresh_now()
        p.plot.setXRange(20, 30, padding=0)
        p.grab()  # paint: every item draws what it holds
        x, _ = data(p.now if hasattr(p, "now") else p.current)
        assert len(x) >= 1 and np.all(x == 0.0)


def test_predicted_against_actual_with_a_tiny_range_draws(qtbot, setup):
    """Every target and prediction within 1e-13 of each other, drawn in a view still ranged
    for the data before: peak downsampling asked for a factor of about 1e10 there."""
    doc, ctl, (pane,) = setup("three-layer.nnproj", OutputPane)  # 3 inputs, 2 outputs
    pane.show()
    qtbot.waitExposed(pane)
    pane.refresh_now()
    pane.grab()
    assert pane.mode == "pva"
    from nnstudio.core.datasets import Dataset

    ds = doc.dataset
    outs = [n.id for n in doc.network.neurons.values() if n.role == "output"]
    doc.set_activation(outs, "identity")
    doc.set_params(dict.fromkeys(doc.network.param_ids(), 0.0))   # every output is 0
    doc.set_dataset(Dataset(ds.input_names, ds.target_names, np.asarray(ds.X),
                            np.full(ds.Y.shape, 1e-13)))
    pane.refresh_now()
    pane.grab()
    x, y = data(pane.diag)
    assert len(x) == 2 and x[1] - x[0] == pytest.approx(1e-13)


def test_landscape_survives_a_neuron_removed_while_it_computes(qtbot, setup, monkeypatch):
    from nnstudio.gui.plots import landscape

    monkeypatch.setattr(landscape, "JOB_SLICE_S", 1e-9)  # one slice per event-loop turn
    doc, ctl, (pane,) = setup("xor.nnproj", LandscapePane)
    pane.show()
    qtbot.waitExposed(pane)
    hid = [n.id for n in doc.network.neurons.values() if n.role == "hidden"]
    doc.set_selection([hid[0]])
    pane.refresh()          # starts the sliced computation of the curve...
    assert pane.computing
    doc.remove([hid[0]])    # ... and the neuron goes before it ends
    qtbot.waitUntil(lambda: not pane.computing, timeout=10000)
    pane.refresh_now()
    assert hid[0] not in pane.pids

"""Responsiveness while training: is the window smooth, and how much speed does the UI cost?

Trains the spiral sample at full speed in the real main window with every plot pane visible,
and prints:

* the lateness of a 60 Hz QTimer in the GUI thread (how long past its due time each tick ran):
  p50, p99 and max. Goal: p99 < 20 ms, max < 50 ms;
* epochs per second with the UI, against the same training headless (no Qt at all). Goal: at
  least 50 %;
* the loss pane's redraw time with 1,000,000 points;
* a Step click while paused with the Backprop dock showing (step, then one event-loop turn);
* how often the lesson panel's challenge checklist re-checked its goals while training ran.

Run:  python benchmarks/responsiveness.py [--seconds 8] [--sample spiral.nnproj]
                                          [--without-checklist]
(--without-checklist stops the lesson panel re-checking the goals, to measure what it costs;
--neuron-pictures 50 --pictures-off runs the same widened network with the pictures off)
(offscreen by default; under a real or virtual X server: QT_QPA_PLATFORM=xcb xvfb-run ...).
The O-vs-X lesson: ``--sample cnn-o-vs-x.nnproj`` (the convolution is selected, so the canvas
redraws its maps and filters and the Activation pane its maps' values on every snapshot).
``--sample`` is a name in samples/ or a path to any project file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def headless(sample: Path, seconds: float) -> float:
    """Epochs per second of the core trainer alone (the worker's loop, no Qt)."""
    from nnstudio.core import project
    from nnstudio.core.trainer import Trainer, split

    proj = project.load(sample)
    s = proj.settings.with_(epochs=10**8)
    X, Y = proj.dataset.X, proj.dataset.Y
    Xt, Yt, Xv, Yv = split(X, Y, s.validation_split, s.seed)
    tr = Trainer(proj.network, Xt, Yt, s, X_val=Xv if len(Xv) else None,
                 Y_val=Yv if len(Yv) else None)
    gen = tr.run("epoch")
    for _ in range(20):   # warm up
        next(gen)
    t0 = time.perf_counter()
    e0 = tr.state.epoch
    while time.perf_counter() - t0 < seconds:
        next(gen)
    return (tr.state.epoch - e0) / (time.perf_counter() - t0)


def widened(sample: Path, neurons: int) -> Path:
    """A copy of ``sample`` whose hidden layers grow, in turn, until the network has
    ``neurons`` neurons (each new one connected like its layer's others)."""
    from nnstudio.gui.document import Document

    doc = Document.open(sample)
    hidden = list(range(1, len(doc.network.layers()) - 1))
    if not hidden:
        raise SystemExit(f"{sample.name} has no hidden layer to widen")
    k = 0
    while len(doc.network.neurons) < neurons:
        doc.add_neuron_to_layer(hidden[k % len(hidden)])
        k += 1
    out = Path(tempfile.mkdtemp(prefix="nnstudio-bench-")) / f"{sample.stem}-{neurons}.nnproj"
    doc.save(out)
    return out


def with_ui(sample: Path, seconds: float, checklist: bool = True,
            pictures: bool = False) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["NNSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="nnstudio-bench-")
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from nnstudio.gui import files
    from nnstudio.gui.app import create_window

    files.ask_unsaved = lambda *a, **k: "discard"   # a benchmark: no "save changes?" prompt

    win, err = create_window(str(sample))
    if err:
        raise SystemExit(err)
    if not getattr(win, "parts_installed", True):
        win.install_parts()
    win.resize(1600, 1000)
    # every pane visible: take the training docks out of their tab groups
    docks = {k: win.docks[k] for k in (*win.plot_panes, "dataset")}
    R, B = Qt.RightDockWidgetArea, Qt.BottomDockWidgetArea
    for key in ("output", "loss", "gradients", "params"):
        win.addDockWidget(R, docks[key])
    for key in ("dataset", "activation", "landscape"):
        win.addDockWidget(B, docks[key])
    win.show()
    for d in docks.values():
        d.show()
    t_end = time.perf_counter() + 1.0
    while time.perf_counter() < t_end:
        app.processEvents()
    hidden = [k for k, p in win.plot_panes.items() if not p.isVisible()]
    if hidden:
        raise SystemExit(f"panes not visible: {hidden}")
    # select a hidden neuron: the activation pane shows it, the landscape its bias, the
    # parameter history its bias, the output map follows the selection; in a CNN without
    # hidden neurons, its first convolution (the activation pane marks all its maps' values)
    net = win.document.network
    chosen = [n.id for n in net.neurons.values() if n.role == "hidden"][:1] \
        or [c.id for c in net.convolutions()][:1] or [n.id for n in net.outputs][:1]
    win.document.set_selection(chosen)
    pics = win.canvas_view.scene().pictures
    win.actions["neuron_pictures"].setChecked(pictures)
    win.set_neuron_pictures(pictures)

    ctl = win.training.controller
    win.document.set_settings(epochs=10**8)
    period = 1000.0 / 60.0
    late: list[float] = []
    clock = QElapsedTimer()
    state = {"last": None}

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if state["last"] is not None:
            late.append(max(0.0, now - state["last"] - period))
        state["last"] = now

    timer = QTimer()
    timer.setTimerType(Qt.PreciseTimer)
    timer.setInterval(round(period))
    timer.timeout.connect(tick)

    # warm up (first compile, first paints), then measure
    ctl.play()
    QTimer.singleShot(500, lambda: app.exit(0))  # exit, not quit: quit closes the windows
    app.exec()
    ctl.pause()
    clock.start()
    timer.start()
    ctl.play()
    e0 = ctl.epoch
    t0 = time.perf_counter()
    applied0 = ctl.snapshots_applied
    if not checklist:
        win.document.evaluationChanged.disconnect(win.lesson.checklist.schedule)
    checks0 = win.lesson.checklist.checks
    refreshes0, pic_cost = pics.refreshes, []
    pics.changed.connect(lambda: pic_cost.append(pics.last_seconds))
    QTimer.singleShot(int(seconds * 1000), lambda: app.exit(0))
    app.exec()             # the real event loop, as in the app
    elapsed = time.perf_counter() - t0
    ctl.pause()
    print(f"(worker trained in {ctl.turn_stats[0]} turns, "
          f"{ctl.turn_stats[1]} overran)")
    timer.stop()
    epochs = ctl.epoch - e0
    snaps = ctl.snapshots_applied - applied0
    checks = win.lesson.checklist.checks - checks0
    refreshes = pics.refreshes - refreshes0
    pictured = len(pics.sources)

    # the loss pane with a million points
    h = ctl.history
    h.clear()
    xs = np.arange(1, 1_000_001, dtype=float)
    h.extend_loss(xs, 1.0 / np.sqrt(xs))
    pane = win.plot_panes["loss"]
    pane.refresh_now()
    app.processEvents()
    t = time.perf_counter()
    for _ in range(10):
        pane.refresh_now()
        pane.layout_widget.viewport().repaint()
    redraw_ms = (time.perf_counter() - t) / 10 * 1000

    # Step clicks while paused, with the Backprop dock showing (its preview walkthrough is
    # rebuilt once the clicks stop, not per click)
    step_ms, rebuild_ms = [], float("nan")
    bp = getattr(win, "backprop", None)
    if bp is not None:
        bp.dock.show()
        bp.dock.raise_()
        for _ in range(20):
            app.processEvents()
        for _ in range(15):
            t = time.perf_counter()
            ctl.step()
            app.processEvents()
            step_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        bp.player.rebuild()
        app.processEvents()
        rebuild_ms = (time.perf_counter() - t) * 1000
    win.close()
    lat = np.array(late) if late else np.zeros(1)
    return {"epochs_per_s": epochs / elapsed, "ticks": len(late),
            "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99)), "max": float(lat.max()),
            "snapshots_per_s": snaps / elapsed, "redraw_1m_ms": redraw_ms,
            "step_ms": step_ms, "bp_rebuild_ms": rebuild_ms,
            "checks_per_s": checks / elapsed,
            "goals": len(win.lesson.checklist.rows),
            "pictures_per_s": refreshes / elapsed, "pictured": pictured,
            "picture_ms": 1000 * float(np.median(pic_cost)) if pic_cost else float("nan")}


def main() -> int:
    if os.environ.get("NNSTUDIO_BENCH_DUMP"):
        import faulthandler
        faulthandler.dump_traceback_later(float(os.environ["NNSTUDIO_BENCH_DUMP"]), exit=True)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--sample", default="spiral.nnproj")
    ap.add_argument("--without-checklist", action="store_true",
                    help="the lesson's challenge checklist does not re-check while training")
    ap.add_argument("--neuron-pictures", type=int, default=0, metavar="N",
                    help="widen the network to N neurons and show every neuron's picture")
    ap.add_argument("--pictures-off", action="store_true",
                    help="with --neuron-pictures: the same widened network, pictures off (what "
                         "they cost is the difference)")
    args = ap.parse_args()
    sample = Path(args.sample) if Path(args.sample).is_file() else ROOT / "samples" / args.sample
    if args.neuron_pictures:
        sample = widened(sample, args.neuron_pictures)
    hl = headless(sample, min(args.seconds, 5.0))
    ui = with_ui(sample, args.seconds, checklist=not args.without_checklist,
                 pictures=bool(args.neuron_pictures) and not args.pictures_off)
    ratio = ui["epochs_per_s"] / hl
    ok_lat = ui["p99"] < 20 and ui["max"] < 50
    print(f"sample: {sample.name}   platform: {os.environ.get('QT_QPA_PLATFORM')}   "
          f"{args.seconds:g} s of training with all panes visible")
    print(f"60 Hz GUI timer lateness: p50 {ui['p50']:.1f} ms   p99 {ui['p99']:.1f} ms   "
          f"max {ui['max']:.1f} ms   ({ui['ticks']} ticks)   goal p99 < 20, max < 50: "
          f"{'met' if ok_lat else 'NOT met'}")
    print(f"epochs/s: headless {hl:,.0f}   with UI {ui['epochs_per_s']:,.0f}   "
          f"({100 * ratio:.0f}% of headless; goal >= 50%: {'met' if ratio >= 0.5 else 'NOT met'})")
    print(f"snapshots applied to the window: {ui['snapshots_per_s']:.1f} per second")
    print(f"loss pane redraw with 1,000,000 points: {ui['redraw_1m_ms']:.1f} ms")
    print(f"challenge checklist ({ui['goals']} goal(s)) re-checked {ui['checks_per_s']:.1f} "
          f"times per second while training")
    if args.neuron_pictures and not args.pictures_off:
        rate = ui["pictures_per_s"]
        print(f"neuron pictures: {ui['pictured']} neurons x 40 x 40, refreshed {rate:.1f} times "
              f"per second while training (goal >= 10: {'met' if rate >= 10 else 'NOT met'}); "
              f"one refresh of all of them {ui['picture_ms']:.2f} ms (median)")
    if ui["step_ms"]:
        st = np.array(ui["step_ms"])
        print(f"Step click while paused, Backprop dock showing: median {np.median(st):.1f} ms   "
              f"max {st.max():.1f} ms   (the walkthrough preview is rebuilt once, "
              f"{ui['bp_rebuild_ms']:.0f} ms, after the clicks stop)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Soak: memory of the real window training the spiral lesson at full speed for a long time.

Opens the spiral sample in the real main window (offscreen by default) with every plot pane
visible, plays training with a target no run reaches, and prints once a minute the process's
resident memory (RSS, from /proc), the epochs trained, the epochs per second over that minute
and the points the history keeps. At the end: the growth after the first minute, and that
growth scaled to an hour. Goal: after the first minute, an hour of training grows memory by
under 50 MB.

On a busy machine training runs far slower than the ~2,000 epochs/s of a quiet one, and a run
may never reach the history's budget (200,000 points); ``--max-points`` lowers that budget for
the run, so the thinning, and the memory once the history is full, show within the minutes.

Run:  python benchmarks/soak.py [--minutes 30] [--sample spiral.nnproj] [--every 60]
                                [--max-points 200000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kib / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--every", type=float, default=60.0, help="seconds between reports")
    ap.add_argument("--sample", default="spiral.nnproj")
    ap.add_argument("--max-points", type=int, default=None,
                    help="the history's point budget for this run (default: the app's)")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["NNSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="nnstudio-soak-")
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from nnstudio import paths
    from nnstudio.gui import files
    from nnstudio.gui.app import create_window
    from nnstudio.gui.training import TrainingHistory

    if args.max_points:
        TrainingHistory.MAX_POINTS = args.max_points

    files.ask_unsaved = lambda *a, **k: "discard"  # a benchmark: no "save changes?" prompt
    win, err = create_window(str(paths.SAMPLES / args.sample))
    if err:
        raise SystemExit(err)
    if not getattr(win, "parts_installed", True):
        win.install_parts()
    win.resize(1600, 1000)
    docks = {k: win.docks[k] for k in (*win.plot_panes, "dataset")}
    for key in ("output", "loss", "gradients", "params"):
        win.addDockWidget(Qt.RightDockWidgetArea, docks[key])
    for key in ("dataset", "activation", "landscape"):
        win.addDockWidget(Qt.BottomDockWidgetArea, docks[key])
    win.show()
    for d in docks.values():
        d.show()
    net = win.document.network
    win.document.set_selection([next(n.id for n in net.neurons.values() if n.role == "hidden")])
    ctl = win.training.controller
    win.document.set_settings(epochs=10**8)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"{os.environ['QT_QPA_PLATFORM']}; {args.sample} for {args.minutes:g} min; "
          f"history budget {TrainingHistory.MAX_POINTS:,} points; "
          "goal: < 50 MB an hour after the first minute")
    print(f"{'minute':>6} {'RSS MB':>8} {'epochs':>11} {'epochs/s':>9} {'points kept':>12}")
    start = time.perf_counter()
    state = {"t": start, "e": 0, "rows": []}

    def report() -> None:
        now = time.perf_counter()
        e = ctl.epoch
        rate = (e - state["e"]) / max(now - state["t"], 1e-9)
        state["t"], state["e"] = now, e
        minute = (now - start) / 60
        mb = rss_mb()
        state["rows"].append((minute, mb))
        print(f"{minute:6.1f} {mb:8.1f} {e:11,.0f} {rate:9,.0f} {ctl.history.n:12,}",
              flush=True)
        if now - start >= args.minutes * 60 - 1:
            app.exit(0)

    timer = QTimer()
    timer.setInterval(int(args.every * 1000))
    timer.timeout.connect(report)
    ctl.play()
    timer.start()
    app.exec()
    ctl.pause()
    rows = state["rows"]
    after_first = [r for r in rows if r[0] >= 1.0 - 1e-6]
    if len(after_first) >= 2:
        (m0, mb0), (m1, mb1) = after_first[0], after_first[-1]
        per_hour = (mb1 - mb0) / max(m1 - m0, 1e-9) * 60
        print(f"after the first minute: {mb1 - mb0:+.1f} MB in {m1 - m0:.0f} min "
              f"({per_hour:+.1f} MB an hour if it went on at that rate; goal: under 50)")
        half = [r for r in after_first if r[0] >= (m0 + m1) / 2]
        (h0, hb0) = half[0]
        print(f"second half of the run: {mb1 - hb0:+.1f} MB in {m1 - h0:.0f} min "
              f"({(mb1 - hb0) / max(m1 - h0, 1e-9) * 60:+.1f} MB an hour); the history keeps "
              f"at most {ctl.history.MAX_POINTS:,} points, so it stops growing once full")


if __name__ == "__main__":
    main()

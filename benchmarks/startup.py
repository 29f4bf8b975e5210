"""Start-up time: process start → first paint of the main window, and → every panel ready.

Runs ``python -m nnstudio FILE`` several times with ``NNSTUDIO_STARTUP_PROBE`` set; the app
writes the wall-clock times of the main window's first paint and of the first paint after the
training, plot and backprop panels (installed right after the first paint) are in, then quits.
The figures are those times minus the moment just before the process was spawned, so they
include the interpreter's start, every import and loading the project.

    python benchmarks/startup.py [FILE] [--runs N] [--platform offscreen|xcb]

Goal (issue 3): a painted window in under 1.5 s. Uses a fresh settings folder, so the user's
settings are never touched and no saved layout or recovery file changes the work done.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 1.5


def one_run(path: str, platform: str | None) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.txt"
        env = dict(os.environ)
        env["NNSTUDIO_STARTUP_PROBE"] = str(probe)
        env["NNSTUDIO_SETTINGS_DIR"] = str(Path(tmp) / "settings")
        if platform:
            env["QT_QPA_PLATFORM"] = platform
        t0 = time.time()
        proc = subprocess.run([sys.executable, "-m", "nnstudio", path], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or not probe.exists():
            raise SystemExit(f"start-up run failed (exit {proc.returncode}):\n"
                             f"{proc.stderr[-2000:]}")
        first, ready = (float(x) for x in probe.read_text().split())
        return first - t0, ready - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", nargs="?", default=str(ROOT / "samples" / "xor.nnproj"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--platform", default=None,
                    help="QT_QPA_PLATFORM (default: xcb if DISPLAY is set, else offscreen)")
    args = ap.parse_args()
    platform = args.platform or (None if os.environ.get("DISPLAY") else "offscreen")
    one_run(args.file, platform)  # warm the file-system cache (not counted)
    runs = [one_run(args.file, platform) for _ in range(args.runs)]
    firsts, readies = [r[0] for r in runs], [r[1] for r in runs]
    med = statistics.median(firsts)
    print(f"start-up of {Path(args.file).name} "
          f"({platform or os.environ.get('QT_QPA_PLATFORM', 'xcb')}, {args.runs} runs, "
          f"seconds from process start):")
    print(f"  first paint of the main window (editor: canvas, palette, inspector, lesson): "
          f"median {med:.3f}  min {min(firsts):.3f}  max {max(firsts):.3f}  "
          f"(goal < {GOAL_S}: {'met' if med < GOAL_S else 'NOT met'})")
    print(f"  every panel installed and painted (training, plots, dataset, backprop): "
          f"median {statistics.median(readies):.3f}  min {min(readies):.3f}  "
          f"max {max(readies):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""More random window actions than the suite runs: the undo-stack check of
tests/gui/test_random_actions.py over many seeds and long runs, with the time each took.

Seeds start at 100 by default, so none repeats the suite's own (0, 1, 2).

Run:  python benchmarks/random_actions.py [--seeds 8] [--actions 2000] [--first-seed 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--actions", type=int, default=2000)
    ap.add_argument("--first-seed", type=int, default=100)
    args = ap.parse_args()
    os.environ.update(NNSTUDIO_RANDOM_SEEDS=str(args.seeds),
                      NNSTUDIO_RANDOM_ACTIONS=str(args.actions),
                      NNSTUDIO_RANDOM_FIRST_SEED=str(args.first_seed))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pytest
    t0 = time.perf_counter()
    rc = pytest.main(["-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                      str(ROOT / "tests/gui/test_random_actions.py")])
    print(f"seeds {args.first_seed}-{args.first_seed + args.seeds - 1} x {args.actions} "
          f"actions: exit {int(rc)} "
          f"in {time.perf_counter() - t0:.0f} s")
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())

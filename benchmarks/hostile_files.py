"""Hostile project files just under the size limit: how long loading (or refusing) takes and
how much memory it needs at its peak.

Each case is a file of about ``--mib`` MiB (default: 1 MiB under the 128 MiB limit, so it
passes the size check) built to make the loader work as hard as it can: many tiny items
(``[0],`` data rows, ``{},`` connections, ``0,`` values, ``"",`` texts), deep nesting, one huge
name, and a long run of escapes. Each is loaded by ``project.load`` in a fresh Python process,
which reports the wall-clock time to the load's result (a project or a ProjectError) and its
peak resident memory (``VmHWM``), minus the same figure of a process that only imported
NN Studio. Goal: every case loaded or refused within 5 s and under 1 GiB of peak memory.

Run: python benchmarks/hostile_files.py [--mib 127] [--cases rows,connections,...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAD = '{"format": "nnstudio-project", "format_version": 1, '


def _xor() -> dict:
    return json.loads((ROOT / "samples" / "xor.nnproj").read_text(encoding="utf-8"))


def _fill(prefix: str, item: str, suffix: str, size: int) -> bytes:
    n = max((size - len(prefix) - len(suffix)) // (len(item) + 1), 1)
    return (prefix + ",".join([item] * n) + suffix).encode()


def rows(size: int) -> bytes:
    return _fill(HEAD + '"network": {"neurons": [], "connections": []}, "dataset": '
                 '{"inputs": ["x"], "targets": ["y"], "X": [', "[0]", '], "Y": []}}', size)


def connections(size: int) -> bytes:
    return _fill(HEAD + '"network": {"neurons": [], "connections": [', "{}", "]}}", size)


def values(size: int) -> bytes:
    return _fill(HEAD + '"network": {"neurons": [], "connections": []}, "dataset": '
                 '{"inputs": ["x"], "targets": ["y"], "X": [[', "0", ']], "Y": []}}', size)


def counted_values(size: int) -> bytes:
    """Just under the pre-parse value limit (so the parser does build it): one data row of
    8.6 million numbers, each with a fraction (the slowest to parse)."""
    from nnstudio.core.project import parsing

    n = parsing.MAX_VALUES - 100
    return (HEAD + '"network": {"neurons": [], "connections": []}, "dataset": {"inputs": '
            '["x"], "targets": ["y"], "X": [[' + ",".join(["0.123456789"] * n)
            + ']], "Y": []}}').encode()


def texts(size: int) -> bytes:
    return _fill(HEAD + '"name": [', '""', "]}", size)


def nesting(size: int) -> bytes:
    half = (size - len(HEAD) - 20) // 2
    return (HEAD + '"name": ' + "[" * half + "]" * half + "}").encode()


def long_name(size: int) -> bytes:
    doc = _xor()
    doc["network"]["neurons"][2]["activation"] = "__A__"
    text = json.dumps(doc)
    return text.replace("__A__", "x" * (size - len(text))).encode()


def escapes(size: int) -> bytes:
    doc = _xor()
    doc["description"] = "__D__"
    text = json.dumps(doc)
    return text.replace("__D__", "\\\\" * ((size - len(text)) // 2)).encode()


def valid_limit(size: int) -> bytes:
    """The largest valid dataset the format allows (200,000 rows x 25 columns = 5,000,000
    values): loaded, not refused."""
    doc = _xor()
    doc["network"]["neurons"] = [n for n in doc["network"]["neurons"] if n["role"] != "input"]
    ins = [{"id": f"i{k}", "role": "input", "activation": "identity"} for k in range(24)]
    doc["network"]["neurons"] = ins + doc["network"]["neurons"]
    doc["network"]["connections"] = [c for c in doc["network"]["connections"]
                                     if c["source"] not in ("x1", "x2")]
    doc["dataset"]["inputs"] = [f"i{k}" for k in range(24)]
    doc["dataset"]["X"] = "__X__"
    doc["dataset"]["Y"] = "__Y__"
    text = json.dumps(doc)
    row = "[" + ",".join(["0.25"] * 24) + "]"
    n = 200_000
    return (text.replace('"__X__"', "[" + ",".join([row] * n) + "]")
            .replace('"__Y__"', "[" + ",".join(["[1]"] * n) + "]")).encode()


CASES: dict[str, Callable[[int], bytes]] = {
    "rows": rows, "connections": connections, "values": values,
    "counted": counted_values, "texts": texts,
    "nesting": nesting, "long-name": long_name, "escapes": escapes, "valid-limit": valid_limit,
}

_CHILD = r"""
import sys, time
from nnstudio.core import project

def hwm():  # peak resident memory of this process image in KiB (reset by exec, unlike
    with open("/proc/self/status") as f:  # ru_maxrss, which a child inherits from its parent)
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

base = hwm()
t0, c0 = time.perf_counter(), time.process_time()
try:
    project.load(sys.argv[1])
    outcome = "loaded"
except project.ProjectError as e:
    outcome = "refused: " + str(e)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(seconds, cpu, base, hwm())
print(outcome[:200])
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=float, default=127.0, help="file size in MiB")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    args = ap.parse_args()
    size = int(args.mib * 1024 * 1024)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f}; "
          f"files of {args.mib:g} MiB; goal: < 5 s and < 1 GiB peak each")
    print("(CPU s: the load's own processor time, what the wall clock is on an idle machine)")
    print(f"{'case':<12} {'MiB':>6} {'seconds':>8} {'CPU s':>6} {'peak MiB':>9} "
          f"{'of which load':>13}  outcome")
    worst_t = worst_c = worst_m = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            path = Path(tmp) / f"{name}.nnproj"
            data = CASES[name](size)
            path.write_bytes(data)
            del data
            r = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                               text=True, timeout=600, cwd=ROOT)
            if r.returncode:
                print(f"{name:<12} failed: {r.stderr.strip()[-300:]}")
                continue
            first, outcome = r.stdout.strip().split("\n", 1)
            seconds, cpu, base, peak = (float(v) for v in first.split())
            peak_mib = peak / 1024
            mib = path.stat().st_size / 2**20
            worst_t, worst_m = max(worst_t, seconds), max(worst_m, peak_mib)
            worst_c = max(worst_c, cpu)
            grown = (peak - base) / 1024
            print(f"{name:<12} {mib:6.1f} {seconds:8.2f} {cpu:6.2f} {peak_mib:9.0f} {grown:13.0f}  "
                  f"{outcome[:70]}")
            path.unlink()
    print(f"worst: {worst_t:.2f} s ({worst_c:.2f} s of CPU), {worst_m:.0f} MiB peak (whole "
          "process, imports included)")


if __name__ == "__main__":
    main()

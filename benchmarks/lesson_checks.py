"""How fast a lesson's challenges are checked: can the checklist re-check on every edit?

Prints how long parsing a lesson's quizzes takes (all shipped lessons, and a lesson at the
format's 200,000-character limit); then, per shipped lesson with its challenges
(samples/lesson_checks.py), the time of one ``Checker.check`` of all its goals right after a
parameter edit (a slider step: the engine keeps its compilation and reloads the values) and
right after a structural edit (a neuron's activation switched: the engine recompiles and the
comparison with the original is rebuilt).
Then the same at 1,000 neurons / 100,000 connections (the canvas benchmark's network), with
goals of the kinds whose cost grows with the network: loss, count, parameter, gradient and
changed_only against an original of all 100,800 parameters.

Goal: a check after a parameter edit well inside one 60 Hz frame (16 ms) even at 100,000
connections, and under 1 ms for the lessons, so the checklist can follow a slider drag and
training snapshots (about 12 a second) without being noticed. After a structural edit the
engine recompiles; the window compiles its own anyway and can pass it to the checker
(``Checker.check(project, engine)``), which the last row measures.

Run: python benchmarks/lesson_checks.py [--rounds 200]. Medians and best times in ms: on a
machine busy with other work the medians swing several times over, and the best time shows the
unloaded cost.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def timed(fn, rounds: int, setup=None) -> tuple[float, float]:
    """(median, best) of ``fn(setup())`` in milliseconds (``setup`` is not timed)."""
    times = []
    for _ in range(rounds):
        arg = setup() if setup else None
        t0 = time.perf_counter()
        fn(arg)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def edits(proj, checker, pid: str, base: float):
    """Callables for :func:`timed`: a parameter edit; a structural edit (one neuron's
    activation switched back and forth, so the engine must recompile) returning the engine
    compiled for it (what the window's own engine would be); and the check after an edit,
    without or with that engine."""
    from nnstudio.core.engine import Engine

    net = proj.network
    count = [0]
    plain = [n.id for n in net.neurons.values()
             if n.role != "input" and n.activation != "softmax"]
    # (the softmax lesson has only softmax outputs: one of them switches to sigmoid and back)
    nid = plain[-1] if plain else [n.id for n in net.neurons.values() if n.role != "input"][-1]
    acts = [net.neurons[nid].activation]
    acts.append("sigmoid" if acts[0] == "softmax" else "relu" if acts[0] == "tanh" else "tanh")

    def edit_param():
        count[0] += 1
        net.set_param(pid, base + 1e-3 * (count[0] % 7))

    def edit_structure():
        count[0] += 1
        net.set_activation(nid, acts[count[0] % 2])
        return Engine.compile(net)

    def check(_offered) -> None:
        checker.check(proj)

    def check_with(offered) -> None:
        checker.check(proj, offered)

    return edit_param, edit_structure, check, check_with


def lesson_rows(rounds: int) -> list[tuple[str, int, float, float, float, float]]:
    from nnstudio import paths
    from nnstudio.core import project
    from nnstudio.core.lessons import Checker
    from nnstudio.core.project.challenges_section import validate_challenges
    from nnstudio.samples import build_samples, lesson_checks

    rows = []
    for name in build_samples.BUILDERS:
        p = project.load(paths.SAMPLES / f"{name}.nnproj")
        ch = validate_challenges(json.loads(json.dumps(lesson_checks.challenges(name, p))))
        checker = Checker(ch)
        checker.check(p)
        pid = p.network.param_ids()[-1]
        edit_param, edit_structure, check, _ = edits(p, checker, pid, p.network.get_param(pid))
        n_req = sum(len(g.require) for g in ch.goals)
        rows.append((name, n_req, *timed(check, rounds, edit_param),
                     *timed(check, max(20, rounds // 4), edit_structure)))
    return rows


def big_rows(rounds: int) -> list[tuple[str, float, float]]:
    from canvas import build_project

    from nnstudio.core.engine import Engine
    from nnstudio.core.lessons import Checker
    from nnstudio.core.lessons.goals import Original
    from nnstudio.core.project.challenges_section import validate_challenges

    proj = build_project(200, 5, 125, 64)
    net = proj.network
    first_w = next(iter(net.connections))
    out_id = net.outputs[0].id
    doc = {
        "original": Original.of(net).to_dict(),
        "goals": [
            {"id": "loss", "require": [{"kind": "loss", "loss": "mse", "below": 0.01},
                                       {"kind": "count", "of": "hidden_neurons", "at_most": 600}]},
            {"id": "param", "require": [{"kind": "parameter", "id": first_w, "value": 0.5,
                                         "tolerance": 0.01}]},
            {"id": "grad", "require": [{"kind": "gradient", "id": out_id, "loss": "mse",
                                        "below": 0.1}]},
            {"id": "only", "require": [{"kind": "changed_only", "parameters": [first_w]}]},
        ],
    }
    text = json.dumps(doc)
    t0 = time.perf_counter()
    ch = validate_challenges(json.loads(text))
    validate_ms = (time.perf_counter() - t0) * 1e3
    checker = Checker(ch)
    t0 = time.perf_counter()
    checker.check(proj)
    first_ms = (time.perf_counter() - t0) * 1e3
    edit_param, edit_structure, check, check_with = edits(proj, checker, first_w, 0.5)
    cm, cb = timed(lambda _: Engine.compile(net), 10)
    pm, pb = timed(check, max(20, rounds // 4), edit_param)
    sm, sb = timed(check, 10, edit_structure)
    om, ob = timed(check_with, 10, edit_structure)
    return [("parse + validate the challenges (original of 100,800 parameters)",
             validate_ms, validate_ms),
            ("first check (compile the engine, index the original)", first_ms, first_ms),
            ("check after a parameter edit", pm, pb),
            ("check after a structural edit (compiles its own engine)", sm, sb),
            ("check after a structural edit, given the window's engine", om, ob),
            ("(the engine compile alone)", cm, cb)]


def parse_rows(rounds: int) -> list[tuple[str, float, float]]:
    from nnstudio.core.lessons import parse_lesson
    from nnstudio.samples import build_samples, lesson_checks

    text = "".join(make().description + "\n" + lesson_checks.QUIZZES[name]
                   for name, make in build_samples.BUILDERS.items())
    big = (text * (200_000 // len(text) + 1))[:200_000]
    return [(f"parse_lesson: the {len(build_samples.BUILDERS)} shipped lessons ({len(text):,} "
             "characters)", *timed(lambda _: parse_lesson(text), rounds)),
            ("parse_lesson: a 200,000-character lesson (the format's limit)",
             *timed(lambda _: parse_lesson(big), max(10, rounds // 10)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args(argv)
    print("| what | median ms | best ms |")
    print("|---|---|---|")
    for what, m, b in parse_rows(args.rounds):
        print(f"| {what} | {m:.2f} | {b:.2f} |")
    print(f"\nChecker.check of every goal, {args.rounds} rounds (ms: median / best)\n")
    print("| lesson | requirements | after a parameter edit | after a structural edit |")
    print("|---|---|---|---|")
    for name, n, pm, pb, sm, sb in lesson_rows(args.rounds):
        print(f"| {name} | {n} | {pm:.3f} / {pb:.3f} | {sm:.3f} / {sb:.3f} |")
    print("\n1,000 neurons, 100,000 connections, 64 rows; loss + count, parameter, gradient and "
          "changed_only goals\n")
    print("| what | median ms | best ms |")
    print("|---|---|---|")
    for what, m, p in big_rows(args.rounds):
        print(f"| {what} | {m:.1f} | {p:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The undo stack tells the truth, whatever the user does while training runs: random window
actions (parameter edits, copy and paste, moves, dataset and settings edits, Play/Pause,
Step, Reset, the backprop player, undo and redo), and every so often the check: undo to the
start gives the project as opened, redo back gives the state before, and the project saves.

A few seeds of a few hundred actions run in the suite; for more, set NNSTUDIO_RANDOM_SEEDS,
NNSTUDIO_RANDOM_ACTIONS and NNSTUDIO_RANDOM_FIRST_SEED (``benchmarks/random_actions.py``
does).
"""

from __future__ import annotations

import os
import random

import pytest

from nnstudio.core import project

SEEDS = int(os.environ.get("NNSTUDIO_RANDOM_SEEDS", "3"))
FIRST_SEED = int(os.environ.get("NNSTUDIO_RANDOM_FIRST_SEED", "0"))
ACTIONS = int(os.environ.get("NNSTUDIO_RANDOM_ACTIONS", "200"))
CHECK_EVERY = 40


class Driver:
    """Random user actions on one window; ``check()`` holds the undo stack to the truth."""

    def __init__(self, qtbot, window, rng: random.Random):
        self.qtbot, self.win, self.rng = qtbot, window, rng
        self.doc = window.document
        self.ctl = window.training.controller
        self.doc.set_settings(epochs=1_000_000)   # Play runs until Pause
        self.doc.undo_stack.clear()
        self.running_edits = 0
        self.opened = project.dumps(self.doc.project)
        self.log: list[str] = []

    # ------------------------------------------------------------------ actions
    def params(self) -> list[str]:
        net = self.doc.network
        return [p for p in net.param_ids()
                if p in net.connections or net.neurons[p].role != "input"]

    def hidden(self) -> list[str]:
        return [n.id for n in self.doc.network.neurons.values() if n.role == "hidden"]

    def set_param(self) -> None:
        pids = self.params()
        if pids:
            self.doc.set_param(self.rng.choice(pids), round(self.rng.uniform(-3, 3), 3))

    def copy_paste(self) -> None:
        ids = self.hidden()
        if ids:
            self.doc.set_selection(self.rng.sample(ids, min(len(ids), self.rng.randint(1, 2))))
            self.win.actions["copy"].trigger()
            self.win.actions["paste"].trigger()

    def move(self) -> None:
        ids = self.hidden()
        if ids:
            nid = self.rng.choice(ids)
            n = self.doc.network.neurons[nid]
            self.doc.move_items({nid: (n.x + self.rng.uniform(-80, 80),
                                       n.y + self.rng.uniform(-80, 80))})

    def delete(self) -> None:
        ids = self.hidden()
        if len(ids) > 2:
            self.doc.set_selection([self.rng.choice(ids)])
            self.win.actions["delete"].trigger()

    def dataset(self) -> None:
        ds = self.doc.dataset
        if ds is None or len(ds) == 0:
            return
        Y = ds.Y.copy()
        Y[self.rng.randrange(len(ds)), 0] = self.rng.choice([0.0, 1.0])
        self.doc.set_dataset(ds.with_rows(ds.X.copy(), Y), "Edit a target")

    def settings(self) -> None:
        if self.rng.random() < 0.7:
            self.doc.set_settings(learning_rate=self.rng.choice([0.05, 0.1, 0.3, 1.0]))
        else:
            self.doc.set_settings(optimizer=self.rng.choice(["sgd", "momentum", "adam"]))

    def play_pause(self) -> None:
        n = self.ctl.snapshots_applied
        self.win.training.actions["play"].trigger()
        if self.ctl.is_running():   # let it train a little: until a snapshot arrives
            self.qtbot.waitUntil(lambda: self.ctl.snapshots_applied > n
                                 or not self.ctl.is_running(), timeout=10000)

    def step(self) -> None:
        self.win.training.actions[self.rng.choice(["step", "epoch"])].trigger()

    def reset(self) -> None:
        self.win.training.actions["reset"].trigger()

    def randomize(self) -> None:
        self.win.actions["randomize"].trigger()

    def player(self) -> None:
        player = self.win.backprop.player
        what = self.rng.choice(["next", "next", "iteration", "leave"])
        if what == "next":
            player.next()
        elif what == "iteration":
            player.next_iteration()
        else:
            player.deactivate()

    def undo(self) -> None:
        self.win.actions["undo"].trigger()

    def redo(self) -> None:
        self.win.actions["redo"].trigger()

    ACTIONS = {"set_param": 6, "copy_paste": 1, "move": 2, "delete": 1, "dataset": 1,
               "settings": 2, "play_pause": 5, "step": 2, "reset": 1, "randomize": 1,
               "player": 2, "undo": 5, "redo": 3}

    def act(self) -> None:
        name = self.rng.choices(list(self.ACTIONS), weights=list(self.ACTIONS.values()))[0]
        self.log.append(name)
        self.running_edits += self.ctl.is_running()
        getattr(self, name)()

    # ------------------------------------------------------------------ the check
    def check(self) -> None:
        self.ctl.pause()
        self.win.backprop.player.deactivate()
        stack = self.doc.undo_stack
        now, index = project.dumps(self.doc.project), stack.index()   # it saves
        stack.setIndex(0)
        assert project.dumps(self.doc.project) == self.opened, self.where("undo to the start")
        stack.setIndex(index)
        assert project.dumps(self.doc.project) == now, self.where("redo back")

    def where(self, what: str) -> str:
        stack = self.doc.undo_stack
        steps = [stack.text(i) for i in range(stack.count())]
        return f"{what} after {self.log[-12:]} (of {len(self.log)}); stack {steps[-12:]}"


@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + SEEDS))
def test_random_actions_keep_the_undo_stack_true(qtbot, window, seed):
    d = Driver(qtbot, window, random.Random(seed))
    for k in range(1, ACTIONS + 1):
        d.act()
        if k % CHECK_EVERY == 0:
            d.check()
    d.check()
    assert d.running_edits > ACTIONS // 10   # many of the actions met a running training


def test_the_undo_action_pauses_training_and_the_history_list_is_read_only_meanwhile(
        qtbot, window):
    doc, ctl = window.document, window.training.controller
    doc.set_settings(epochs=1_000_000)
    before = project.dumps(doc.project)
    window.training.actions["play"].trigger()
    qtbot.waitUntil(lambda: ctl.snapshots_applied >= 1, timeout=10000)
    assert not window.history.isEnabled()
    assert window.actions["undo"].text().startswith("&Undo Set epochs")
    window.actions["undo"].trigger()       # pauses, records the run, undoes the run
    assert not ctl.is_running() and window.history.isEnabled()
    assert project.dumps(doc.project) == before
    assert window.actions["redo"].text().startswith("&Redo Train ")

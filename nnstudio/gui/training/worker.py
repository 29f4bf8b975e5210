"""The training worker thread and what it shares with the GUI thread.

* :class:`TrainWorker` (a ``QThread``) drives the core trainer's one training loop,
  :meth:`~nnstudio.core.trainer.Trainer.run`: after every epoch it drops the
  :class:`~nnstudio.core.trainer.Snapshot` (whose ``params`` is already a copy) into the
  :class:`Mailbox` under its lock. The mailbox holds ONE latest snapshot (a newer one replaces
  it: latest wins) plus the compact per-epoch history records that the GUI drains on every
  tick, and the edits the GUI sends the other way (parameters, learning rate, target, stop),
  which the worker hands to the trainer between two steps.
* Tiny networks train in Python-heavy loops that hold the GIL. The worker and the GUI thread
  take :class:`Turns`: the worker trains for a few milliseconds whenever the event loop has
  nothing else to do, and never while the GUI is painting, so the two never fight over the GIL.

Rules: the worker never touches a widget or the network; everything it shares with the GUI is
in the mailbox and read or written under ``Mailbox.lock``.
"""

from __future__ import annotations

import threading
import time
import weakref

import numpy as np
from PySide6.QtCore import QObject, QThread

from nnstudio.core.trainer import Snapshot, Trainer

from .history import Record

SLICE_S = 0.004         # the worker trains in turns this long ...
TURN_MARGIN_S = 0.03    # ... and the GUI waits at most this much longer for a turn to end


class Turns:
    """The GUI thread and the worker take turns: the worker trains only during a turn that the
    GUI thread grants, and the GUI thread waits (without the GIL) until the turn ends.

    Why: tiny networks train in Python-heavy loops that hold the GIL, and PySide releases the
    GIL on every Qt call, so a GUI frame made of hundreds of calls would each time wait for the
    worker to hand the GIL back (a "convoy"): the window would crawl. With turns there is never
    a contest for the GIL. A zero-interval timer grants a turn on every pass of the event loop,
    so the worker gets all the time the GUI does not need (a paint, a plot, a timer run between
    two turns) and a GUI event waits at most one turn (``SLICE_S``).

    A worker whose single step outlasts its turn (a huge network) simply keeps going after the
    GUI stops waiting (``TURN_MARGIN_S``); NumPy releases the GIL in its large operations.
    """

    def __init__(self, slice_s: float = SLICE_S) -> None:
        self.slice_s = slice_s
        self.grant = threading.Event()
        self.done = threading.Event()
        self.stopped = False
        self.turns = 0
        self.overruns = 0

    # GUI thread
    def give_turn(self) -> None:
        self.done.clear()
        if self.stopped:
            return
        self.grant.set()
        self.turns += 1
        if not self.done.wait(self.slice_s + TURN_MARGIN_S):
            self.overruns += 1

    def stop(self) -> None:
        self.stopped = True
        self.grant.set()

    # worker thread
    def wait_turn(self) -> float:
        """Block until the GUI grants a turn; return the time the turn ends."""
        self.grant.wait()
        self.grant.clear()
        return time.perf_counter() + self.slice_s

    def end_turn(self) -> None:
        self.done.set()


class Mailbox:
    """What the worker and the GUI share, always under ``lock``: one latest snapshot (latest
    wins), the history records since the last GUI tick, a pending parameter edit, learning-rate
    change and target, and the stop flag."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latest: Snapshot | None = None
        self.latest_gen = 0
        self.records: list[Record] = []
        self.edit: tuple[int, np.ndarray, np.ndarray] | None = None
        self.lr: float | None = None
        self.target: int | None = None
        self.stop = False
        self.finished = False
        self.error: str | None = None

    def take(self) -> tuple[Snapshot | None, int, list[Record], bool, str | None]:
        """Empty the mailbox: (latest snapshot, its generation, the records since the last
        take, finished, error)."""
        with self.lock:
            snap, gen, recs = self.latest, self.latest_gen, self.records
            self.latest, self.records = None, []
            return snap, gen, recs, self.finished, self.error


_LIVE_WORKERS: weakref.WeakSet[TrainWorker] = weakref.WeakSet()


def running_workers() -> list[TrainWorker]:
    """Training threads that are still running (tests/conftest.py fails a test that leaves one)."""
    out = []
    for w in list(_LIVE_WORKERS):
        try:
            if w.isRunning():
                out.append(w)
        except RuntimeError:  # the C++ object is gone: not running
            pass
    return out


class TrainWorker(QThread):
    """Runs ``trainer`` until its epoch count reaches ``target`` (or stop / divergence),
    publishing a snapshot after every epoch. Never touches widgets or the network.

    ``epoch_base`` is the history x of the trainer's epoch 0 (the records' x is
    ``epoch_base + snapshot.epoch``); ``gen`` tags the snapshots until an edit brings a newer
    generation."""

    def __init__(self, trainer: Trainer, target: int, box: Mailbox, epoch_base: float, gen: int,
                 turns: Turns, parent: QObject | None = None) -> None:
        super().__init__(parent)
        _LIVE_WORKERS.add(self)
        self.setObjectName("nnstudio-train-worker")
        self.trainer = trainer
        self.target = target
        self.box = box
        self.epoch_base = epoch_base
        self.gen = gen
        self.turns = turns
        self._turn_end = 0.0

    def run(self) -> None:
        box = self.box
        try:
            for snap in self.trainer.run("epoch", self.target, between=self._between_steps):
                self._publish(snap)
        except Exception as e:  # reported to the GUI; never lost silently
            with box.lock:
                box.error = f"{type(e).__name__}: {e}"
        finally:
            with box.lock:
                box.finished = True
            self.turns.stopped = True
            self.turns.end_turn()

    def _between_steps(self, tr: Trainer) -> None:
        """Before every step: wait for a turn once this one is over (see :class:`Turns`), then
        hand the trainer what the GUI sent meanwhile, or stop it."""
        box = self.box
        if time.perf_counter() >= self._turn_end:
            self.turns.end_turn()
            self._turn_end = self.turns.wait_turn()     # the GUI's turn
        if box.stop:
            tr.stop()
            return
        if box.edit is not None or box.lr is not None or box.target is not None:
            with box.lock:
                edit, lr, target = box.edit, box.lr, box.target
                box.edit = box.lr = box.target = None
            if edit is not None:
                self.gen, values, trainable = edit
                tr.set_params(values, trainable)
            if lr is not None:
                tr.set_learning_rate(lr)
            if target is not None:
                self.target = target
                tr.set_target(target)

    def _publish(self, snap: Snapshot) -> None:
        box = self.box
        rec = None
        if not snap.diverged:  # a diverged run's kept parameters are already in the history
            rec = Record(self.epoch_base + snap.epoch, snap.loss, snap.val_loss, snap.grad_means,
                         snap.params, snap.penalty)
        with box.lock:
            box.latest = snap
            box.latest_gen = self.gen
            if rec is not None:
                box.records.append(rec)

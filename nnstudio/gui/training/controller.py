"""The training controller: Play/Pause, Step, Step Epoch and Reset for a document.

* It owns the worker thread (:mod:`.worker`) and the :class:`~.history.TrainingHistory`. It
  polls the worker's mailbox with a ``QTimer`` about 12 times a second, applies the latest
  snapshot to the document as (slots, values) straight from the trainer (canvas, inspector and
  plots follow), says so with ``snapshotApplied``, and appends the drained records to the
  history. The GUI never reads an array the worker is writing.
* It is what the plot panes are given to draw (``nnstudio.gui.plots.base.TrainingFeed``:
  ``history``, ``epoch``, ``is_running()`` and its signals).
* A parameter edit made while training (inspector, undo) shows as the network's
  ``param_version`` moving past the controller's own last write. On every poll, and before the
  worker stops, such an edit is sent to the worker tagged with a new generation number; the
  worker applies it before its next step and the controller drops the snapshots taken before
  it, so nothing is lost or torn. A structural edit (``document.structureAboutToChange``)
  pauses training first.
* The undo stack tells the truth while training runs. A run (Play until Pause / the target /
  divergence) is recorded as "Train N epochs" steps (``document.push_training_result``): one
  when it ends, and one more at every edit made while it runs, pushed just BEFORE the edit
  (the stack's ``aboutToChange``), from the parameters the user saw, so the edit sits on top
  of the training it followed and the run goes on from the edited network. Undo or Redo while
  training pauses first (recording the run), then undoes the last step: the training. Undo to
  the start is the project as opened; redo to the end is the state before.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication

from nnstudio.core.trainer import Snapshot, Trainer, split

from .history import Record, TrainingHistory
from .worker import Mailbox, TrainWorker, Turns

if TYPE_CHECKING:
    from nnstudio.gui.document import Document

POLL_MS = 80            # GUI takes the latest snapshot about 12 times a second (at most ~30)


class TrainingController(QObject):
    """Play/Pause, Step, Step Epoch and Reset for a document; owns the worker thread and the
    training history that the plot panes read."""

    runningChanged = Signal(bool)
    historyChanged = Signal()
    progressChanged = Signal()       # epoch / loss / rate changed (status bar)
    stopped = Signal(str)            # why a run ended ("paused", "done", "diverged", ...)
    diverged = Signal(str)           # the divergence message
    snapshotApplied = Signal(bool)   # a snapshot reached the network (True: during a run)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.history = TrainingHistory()
        self.trainer: Trainer | None = None
        self._trainer_key = None
        self._worker: TrainWorker | None = None
        self._box: Mailbox | None = None
        self._turns: Turns | None = None
        self._pump = QTimer(self)
        self._pump.setInterval(0)
        self._pump.timeout.connect(self._give_turn)
        self._gen = 0
        self._epoch_base = 0.0          # history x of the current trainer's epoch 0
        self._run_before: dict | None = None   # where the unrecorded part of the run began
        self._run_start_epoch = 0.0            # the logical run's start (its target follows)
        self._segment_start = 0.0              # the history x where _run_before was taken
        self._segment_pending = False          # an edit split the run: _run_before comes next
        self._recording = False                # pushing a training step (not an edit)
        self.run_target = 0              # the epoch (history x) the current run stops at
        self._applied_version = -1      # the network's param_version after our last write
        self._trained_version = -1      # ... after training last set the parameters
        self._trained_data: object = None   # the dataset it trained on
        self._trained_values: tuple[np.ndarray, np.ndarray] | None = None   # (slots, values)
        self._shutting_down = False
        self.last_message = ""
        self.last_snapshot: Snapshot | None = None
        self.rate = 0.0                 # epochs per second (recent)
        self._rate_samples: deque = deque(maxlen=90)
        self.snapshots_applied = 0
        self.turn_stats = (0, 0)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._poll)
        self._last_settings = document.settings

        document.structureAboutToChange.connect(self._on_structure_about_to_change)
        document.projectReplaced.connect(self._on_project_replaced)
        document.datasetChanged.connect(self._invalidate_trainer)
        document.settingsChanged.connect(self._on_settings_changed)
        document.undo_stack.aboutToChange.connect(self._on_stack_about_to_change)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ state
    def is_running(self) -> bool:
        return self._worker is not None

    @property
    def polling(self) -> bool:
        """The worker's mailbox is being polled (only while a worker runs)."""
        return self._timer.isActive()

    @property
    def epoch(self) -> float:
        """The history x of the current parameters (epochs trained since the last reset)."""
        if self.trainer is None:
            return self.history.last_epoch
        return self._x_of(self.trainer)

    @property
    def shows_trained_params(self) -> bool:
        """Whether the network's parameters and data are still those training left (no edit,
        undo, randomize, new data or file change since), so the epoch and loss shown are
        theirs."""
        doc = self.document
        if doc.dataset is not self._trained_data or self._trained_values is None:
            return False
        if doc.network.param_version == self._trained_version:
            return True
        slots, values = self._trained_values   # (an undo then a redo: the same values again)
        store = doc.network.store.values
        return bool(slots.size and slots.max() < store.size
                    and np.array_equal(store[slots], values))

    @property
    def target_epochs(self) -> int:
        return int(self.document.settings.epochs)

    def _x_of(self, tr: Trainer) -> float:
        bpe = max(1, tr.batches_per_epoch())
        return self._epoch_base + tr.state.epoch + tr.state.batch_in_epoch / bpe

    # ------------------------------------------------------------------ trainer
    def _data(self):
        ds = self.document.dataset
        if ds is None or len(ds) == 0:
            raise ValueError("the dataset is empty: add rows or generate data in the Dataset panel")
        return np.asarray(ds.X, dtype=np.float64), np.asarray(ds.Y, dtype=np.float64)

    def _key(self):
        s = self.document.settings
        net = self.document.network
        return (id(net), net.structure_version, id(self.document.dataset), s.loss, s.optimizer,
                s.batch_size, s.seed, s.validation_split, s.regularization,
                s.regularization_rate)

    def ensure_trainer(self) -> Trainer:
        """The trainer for the current network, data and settings (rebuilt when they change),
        with the network's current parameter values and locks."""
        key = self._key()
        if self.trainer is None or key != self._trainer_key:
            if self.trainer is not None:
                self._epoch_base = self._x_of(self.trainer)
            doc = self.document
            s = doc.settings
            X, Y = self._data()
            Xt, Yt, Xv, Yv = split(X, Y, s.validation_split, s.seed)
            tr = Trainer(doc.network, Xt, Yt, s, X_val=Xv if len(Xv) else None,
                         Y_val=Yv if len(Yv) else None)
            self.trainer = tr
            self._trainer_key = key
            self.history.set_structure(tr.engine.param_ids, len(tr.engine.param_layers))
        tr = self.trainer
        s = self.document.settings
        if tr.settings.learning_rate != s.learning_rate:
            tr.set_learning_rate(s.learning_rate)
        if tr.settings.min_step != s.min_step:
            tr.set_min_step(s.min_step)
        self._sync_params_to(tr)
        if self.history.n == 0 and self._x_of(tr) == 0:
            self._record_start(tr)
        return tr

    def _record_start(self, tr: Trainer) -> None:
        """Epoch 0 in the history: the loss and gradients before the first step, so the loss
        curve starts where the lesson does (405 for the intercept, 20.4 for the dosage)."""
        with np.errstate(all="ignore"):
            _, grad = tr.engine.gradient(tr.X, tr.Y, tr.settings.loss, penalty=tr.penalty)
            loss = tr.full_loss()
        if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
            return
        self.history.extend([Record(0.0, loss, tr.val_loss(), tr.engine.layer_grad_means(grad),
                                    tr.params.copy(), tr.engine.penalty(tr.penalty))])
        self.historyChanged.emit()

    def _sync_params_to(self, tr: Trainer) -> None:
        net = self.document.network
        slots = tr.engine.slots
        tr.set_params(net.store.values[slots], net.store.trainable[slots])

    def _invalidate_trainer(self, *_a) -> None:
        if self.trainer is not None and not self.is_running():
            self._epoch_base = self._x_of(self.trainer)
            self.trainer = None
            self._trainer_key = None

    def _param_dict(self) -> dict:
        net = self.document.network
        return dict(zip(net.param_ids(), net.store.values[net.param_slots()].tolist(),
                        strict=True))

    # ------------------------------------------------------------------ commands
    def toggle(self) -> None:
        if self.is_running():
            self.pause()
        else:
            self.play()

    def play(self) -> bool:
        """Start training in the worker thread until the target epochs. If the target is
        already reached, train ``settings.epochs`` more."""
        if self.is_running():
            return True
        try:
            tr = self.ensure_trainer()
        except (ValueError, RuntimeError) as e:
            self._say(f"Cannot train: {e}")
            return False
        epochs = self.target_epochs
        if epochs <= 0:
            self._say("Cannot train: set the target epochs above 0")
            return False
        done = self.epoch
        self.last_message = ""
        self.run_target = epochs if done < epochs else math.floor(done) + epochs
        self._run_before = self._param_dict()
        self._run_start_epoch = self._segment_start = done
        self._segment_pending = False
        self._start_worker(tr)
        return True

    def _trainer_target(self) -> int:
        """The trainer-local epoch count at which the run stops."""
        return max(0, int(math.ceil(self.run_target - self._epoch_base)))

    def _start_worker(self, tr: Trainer) -> None:
        box = Mailbox()
        self._box = box
        self._gen += 1
        self._applied_version = self.document.network.param_version
        self._turns = Turns()
        w = TrainWorker(tr, self._trainer_target(), box, self._epoch_base, self._gen, self._turns)
        self._worker = w
        self.document.training_active = True
        self._rate_samples.clear()
        self._rate_samples.append((time.perf_counter(), self.epoch))
        w.start()
        self._timer.start()
        self._pump.start()
        self.runningChanged.emit(True)
        self.progressChanged.emit()

    def _stop_worker(self) -> tuple[Snapshot | None, int, list]:
        """Stop and join the worker; return what it published last (not yet applied)."""
        w, box = self._worker, self._box
        if w is None:
            return None, 0, []
        self._send_edits()    # an edit not sent yet outdates what the worker published
        with box.lock:
            box.stop = True
        w.trainer.stop()
        self._pump.stop()
        turns, self._turns = self._turns, None
        if turns is not None:
            turns.stop()         # wake a worker waiting for its turn so it sees the stop flag
            self.turn_stats = (turns.turns, turns.overruns)
        w.wait()
        self._timer.stop()
        snap, gen, recs, _fin, _err = box.take()
        self._worker = None
        self._box = None
        w.deleteLater()
        return snap, gen, recs

    def pause(self, reason: str = "paused") -> None:
        """Stop the worker, apply its last snapshot and record the run as one undo step."""
        if not self.is_running():
            return
        snap, gen, recs = self._stop_worker()
        self._absorb(snap, gen, recs)
        self._finish_run(reason)

    def _finish_run(self, reason: str, push: bool = True) -> None:
        self.document.training_active = False
        if push:
            self._record_segment()
        self._run_before = None
        self._segment_pending = False
        self.runningChanged.emit(False)
        self.progressChanged.emit()
        self.stopped.emit(reason)

    def _record_segment(self) -> None:
        """Push the part of the run not recorded yet (from ``_run_before`` to the parameters
        the network shows now) as a training step; the next part starts at the next snapshot."""
        before = self._run_before
        if before is None:
            return
        self._push_result(before, self._param_dict(), self.epoch - self._segment_start)
        self._run_before = None
        self._segment_pending = True

    def _begin_segment(self) -> None:
        """Before a snapshot is applied after an edit split the run: the next part starts
        from the network as the edit left it."""
        if self._segment_pending:
            self._segment_pending = False
            self._run_before = self._param_dict()
            self._segment_start = self.epoch

    def _on_stack_about_to_change(self, kind: str) -> None:
        if self._recording or not self.is_running():
            return
        if kind == "push":        # an edit while training: record the training under it
            self._record_segment()
        else:                     # undo/redo/jump: pause (recording the run), then the step
            self.pause()

    def _push_result(self, before: dict, after: dict, epochs: float) -> None:
        after = {p: v for p, v in after.items() if p in before}
        if not after or all(before[p] == v for p, v in after.items()):
            return
        if epochs >= 1 or epochs == 0:
            n = int(round(epochs))
            text = f"Train {n} epoch{'s' if n != 1 else ''}"
        else:
            text = "Train 1 step"
        self._recording = True
        try:
            self.document.push_training_result(before, after, text=text)
        finally:
            self._recording = False
        self._trained_version = self.document.network.param_version   # (the same values)
        self._trained_data = self.document.dataset

    def step(self) -> Snapshot | None:
        """One batch (one optimizer step), as one undo step."""
        return self._single("step")

    def step_epoch(self) -> Snapshot | None:
        """One whole epoch (or the rest of the current one), as one undo step."""
        return self._single("epoch")

    def _single(self, kind: str) -> Snapshot | None:
        if self.is_running():
            self.pause()
        try:
            tr = self.ensure_trainer()
        except (ValueError, RuntimeError) as e:
            self._say(f"Cannot train: {e}")
            return None
        before = self._param_dict()
        start = self.epoch
        snap = tr.run_step() if kind == "step" else tr.run_epoch()
        if not snap.diverged:  # after a blow-up the kept parameters are already in the history
            self.history.extend([Record(self._x_of(tr), snap.loss, snap.val_loss,
                                        snap.grad_means, snap.params, snap.penalty)])
            self.historyChanged.emit()
        self._apply(snap)
        if snap.diverged:
            self._on_diverged(snap.diverged)
        done = self.epoch - start
        if kind == "step" and tr.batches_per_epoch() > 1:
            done = 0.5  # a single batch of a multi-batch epoch
        self._push_result(before, self._param_dict(), done)
        self.progressChanged.emit()
        return snap

    def reset(self) -> None:
        """Re-initialise every trainable parameter with the seed (one undo step) and clear the
        history."""
        if self.is_running():
            self.pause()
        s = self.document.settings
        stack = self.document.undo_stack
        stack.beginMacro(f"Reset training (seed {s.seed}, {s.init})")
        try:
            self.document.randomize(seed=s.seed, init=s.init)
        finally:
            stack.endMacro()
        self.trainer = None
        self._trainer_key = None
        self._epoch_base = 0.0
        self.history.clear()
        self.last_snapshot = None
        self.last_message = ""
        self.rate = 0.0
        self.historyChanged.emit()
        self.progressChanged.emit()
        self._say(f"Reset: parameters re-initialised ({s.init}, seed {s.seed}); history cleared")

    def shutdown(self) -> None:
        """Stop the worker cleanly (window closing, application quitting)."""
        if self._shutting_down:
            return
        if self.is_running():
            self._shutting_down = True
            try:
                self.pause("closed")
            finally:
                self._shutting_down = False

    # ------------------------------------------------------------------ polling
    def _give_turn(self) -> None:
        if self._turns is not None:
            self._turns.give_turn()

    def _poll(self) -> None:
        box = self._box
        if box is None:
            return
        self._send_edits()    # first: a snapshot taken before an edit must not undo it
        snap, gen, recs, finished, error = box.take()
        self._absorb(snap, gen, recs)
        if error:
            self._stop_worker()
            self._finish_run("error")
            self._say(f"Training stopped: {error}")
            return
        if snap is not None and snap.diverged:
            self._stop_worker()
            self._finish_run("diverged")
            self._on_diverged(snap.diverged)
            return
        if finished:
            snap, gen, recs = self._stop_worker()
            self._absorb(snap, gen, recs)
            self._finish_run("done")
            last = self.last_snapshot
            if last is not None and last.converged:
                self._say(f"Training stopped early: {last.converged}")
            else:
                self._say(f"Training finished: {self.epoch:g} epochs, loss "
                          f"{self.history.loss[-1]:.6g}" if self.history.n
                          else "Training finished")

    def _absorb(self, snap: Snapshot | None, gen: int, recs: list) -> None:
        if snap is not None and gen == self._gen:
            self._begin_segment()
        if recs:
            self.history.extend(recs)
            now = time.perf_counter()
            self._rate_samples.append((now, recs[-1].x))
            t0, e0 = self._rate_samples[0]
            while len(self._rate_samples) > 2 and now - self._rate_samples[0][0] > 2.0:
                self._rate_samples.popleft()
                t0, e0 = self._rate_samples[0]
            if now - t0 > 0.05:
                self.rate = (recs[-1].x - e0) / (now - t0)
            self.historyChanged.emit()
        if snap is not None and gen == self._gen:
            self._apply(snap)
        if recs or snap is not None:
            self.progressChanged.emit()

    def _apply(self, snap: Snapshot) -> None:
        self.last_snapshot = snap
        self.document.apply_params_from_training(snap.slots, snap.params)
        self._applied_version = self._trained_version = self.document.network.param_version
        self._trained_data = self.document.dataset
        self._trained_values = (np.asarray(snap.slots), np.array(snap.params, copy=True))
        self.snapshots_applied += 1
        self.snapshotApplied.emit(self.is_running())

    def _on_diverged(self, message: str) -> None:
        text = f"Training paused: {message}. Try a smaller learning rate."
        self.last_message = text
        self.diverged.emit(text)
        self.document.statusMessage.emit(text, 15000)

    def _say(self, text: str) -> None:
        self.last_message = text
        self.document.statusMessage.emit(text, 8000)

    # ------------------------------------------------------------------ document events
    def _send_edits(self) -> None:
        """Parameter edits made while training (inspector, undo): the network's param_version
        has moved past our own last write. The worker takes the values and locks before its
        next step, under a new generation, so the snapshots it took before are dropped."""
        net = self.document.network
        if self._box is None or net.param_version == self._applied_version \
                or self._worker.trainer.net is not net:   # (another project: nothing to send)
            return
        slots = self._worker.trainer.engine.slots
        self._gen += 1
        with self._box.lock:
            self._box.edit = (self._gen, net.store.values[slots].copy(),
                              net.store.trainable[slots].copy())
        self._applied_version = net.param_version

    def _on_structure_about_to_change(self) -> None:
        if not self.is_running():
            self._invalidate_trainer()
            return
        # pause first; the unapplied last snapshot is dropped so the network stays exactly as
        # the structural command captured it
        self._stop_worker()
        before, after = self._run_before, self._param_dict()
        epochs = self.epoch - self._segment_start
        self._finish_run("structure", push=False)
        self._invalidate_trainer()
        stack = self.document.undo_stack
        index0 = stack.index()
        net0 = self.document.network

        def record() -> None:
            if self.document.network is not net0:
                return   # another project was opened meanwhile: nothing to record
            if stack.index() < index0:
                # the structural change was an undo: recording now would drop its redo
                self._say("Training paused for the undo")
                return
            self._push_result(before, after, epochs)
        if before is not None:
            QTimer.singleShot(0, record)
        self._say("Training paused: the network's structure is changing")

    def _on_project_replaced(self) -> None:
        if self.is_running():
            self._stop_worker()
            self._run_before = None
            self._finish_run("replaced", push=False)
        self.trainer = None
        self._trainer_key = None
        self._epoch_base = 0.0
        self.history.clear()
        self.last_snapshot = None
        self.rate = 0.0
        self._last_settings = self.document.settings
        self.historyChanged.emit()
        self.progressChanged.emit()

    def _on_settings_changed(self) -> None:
        old, new = self._last_settings, self.document.settings
        self._last_settings = new
        if not self.is_running():
            self._invalidate_trainer()
            self.progressChanged.emit()
            return
        changed = {f for f in ("loss", "optimizer", "learning_rate", "batch_size", "epochs",
                               "seed", "init", "validation_split", "regularization",
                               "regularization_rate")
                   if getattr(old, f) != getattr(new, f)}
        if changed <= {"learning_rate", "epochs", "init"}:
            with self._box.lock:
                if "learning_rate" in changed:
                    self._box.lr = new.learning_rate
                if "epochs" in changed:
                    start = self._run_start_epoch
                    self.run_target = (new.epochs if start < new.epochs
                                              else math.floor(start) + new.epochs)
                    self._box.target = self._trainer_target()
            self.progressChanged.emit()
            return
        # optimizer, loss, batch size, split, seed or regularization: restart the run with a
        # new trainer, continuing the same logical run (one undo step in the end)
        snap, gen, recs = self._stop_worker()
        self._absorb(snap, gen, recs)
        try:
            tr = self.ensure_trainer()
        except (ValueError, RuntimeError) as e:
            self._finish_run("error")
            self._say(f"Training stopped: {e}")
            return
        self._start_worker(tr)

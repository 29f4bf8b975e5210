"""Live training: the core :class:`~nnstudio.core.trainer.Trainer` in a worker thread, with
throttled, latest-wins delivery of snapshots to the GUI.

Threading model (GeneratorWorker style)
---------------------------------------
* :class:`TrainWorker` (a ``QThread``) owns the trainer while it runs: it steps it, and after
  every epoch it takes a :class:`~nnstudio.core.trainer.Snapshot` (whose ``params`` is already a
  copy) and drops it into a :class:`Mailbox` under a lock. The mailbox holds ONE latest snapshot
  (a newer one replaces it: latest wins) plus the compact per-epoch history records (loss,
  validation loss, gradient means, parameters) that the GUI drains on every tick.
* The GUI polls the mailbox with a ``QTimer`` about 12 times a second. It applies the latest
  snapshot to the document (``document.apply_params_from_training``: canvas, inspector and plots
  follow) and appends the drained records to :class:`TrainingHistory`. The worker never touches
  a widget or the network; the GUI never reads an array the worker is writing.
* Tiny networks train in Python-heavy loops that hold the GIL. The worker and the GUI thread
  take :class:`Turns`: the worker trains for a few milliseconds whenever the event loop has
  nothing else to do, and never while the GUI is painting, so the two never fight over the GIL
  and the window stays smooth (``benchmarks/responsiveness.py`` measures it).
* Parameter edits made while training (inspector, undo) are sent to the worker as an "edit"
  tagged with a generation number; the worker applies it before its next step, and the GUI
  ignores snapshots taken before the edit, so nothing is lost or torn. A structural edit
  (``document.structureAboutToChange``) pauses training first.
* A run (Play until Pause / the target / divergence) becomes ONE undo step "Train N epochs"
  (``document.push_training_result``).
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject, QThread, QTimer, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QComboBox, QLabel, QProgressBar, QSizePolicy,
                               QSpinBox, QToolBar, QWidget, QHBoxLayout)

from nnstudio.core import losses, optimizers
from nnstudio.gui import style
from nnstudio.gui.widgets import FloatEdit
from nnstudio.core.trainer import Snapshot, Trainer, split

POLL_MS = 80            # GUI takes the latest snapshot about 12 times a second (at most ~30)
YIELD_EVERY_S = 0.002   # the worker gives up the GIL at least this often
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


# ---------------------------------------------------------------------- history
class TrainingHistory:
    """Per-epoch training history in preallocated, growing float64 arrays.

    * ``x`` (epoch, possibly fractional after single steps), ``loss``, ``val_loss`` (NaN when
      there is no validation split) — every recorded point, up to millions;
    * ``grad`` — mean |dL/dp| per depth level for each point (reset when the depth changes);
    * parameter rows — every parameter's value, sampled: when the row budget is full every other
      row is dropped and the sampling stride doubles, so the whole run stays visible in bounded
      memory (``param_stride`` says how many epochs one row stands for).
    """

    PARAM_CELLS = 4_000_000

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.n = 0
        self._cap = 1024
        self._x = np.empty(self._cap)
        self._loss = np.empty(self._cap)
        self._val = np.empty(self._cap)
        self.n_depth = 0
        self.g_n = 0
        self._g_cap = 1024
        self._gx = np.empty(self._g_cap)
        self._g = np.empty((self._g_cap, 0))
        self.param_ids: list[str] = []
        self._reset_params([])
        self.version = 0

    # ---- views (no copies)
    @property
    def x(self) -> np.ndarray:
        return self._x[:self.n]

    @property
    def loss(self) -> np.ndarray:
        return self._loss[:self.n]

    @property
    def val_loss(self) -> np.ndarray:
        return self._val[:self.n]

    @property
    def grad_x(self) -> np.ndarray:
        return self._gx[:self.g_n]

    @property
    def grad(self) -> np.ndarray:
        return self._g[:self.g_n]

    @property
    def param_x(self) -> np.ndarray:
        return self._px[:self.p_n]

    @property
    def params(self) -> np.ndarray:
        return self._p[:self.p_n]

    @property
    def last_epoch(self) -> float:
        return float(self._x[self.n - 1]) if self.n else 0.0

    def has_validation(self) -> bool:
        return self.n > 0 and bool(np.isfinite(self.val_loss).any())

    # ---- structure
    def _reset_params(self, param_ids: list[str]) -> None:
        self.param_ids = list(param_ids)
        k = max(1, len(self.param_ids))
        self._p_cap = int(min(4096, max(64, self.PARAM_CELLS // k)))
        self._p_cap -= self._p_cap % 2
        self._px = np.empty(self._p_cap)
        self._p = np.empty((self._p_cap, len(self.param_ids)))
        self.p_n = 0
        self.param_stride = 1
        self._p_count = 0

    def set_structure(self, param_ids: list[str], n_depth: int) -> None:
        """Gradient and parameter histories restart when the network's layout changes."""
        if list(param_ids) != self.param_ids:
            self._reset_params(param_ids)
        if n_depth != self.n_depth:
            self.n_depth = n_depth
            self.g_n = 0
            self._g = np.empty((self._g_cap, n_depth))
        self.version += 1

    def param_index(self, pid: str) -> int | None:
        try:
            return self.param_ids.index(pid)
        except ValueError:
            return None

    # ---- appending
    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = self._cap
        while cap < need:
            cap *= 2
        for name in ("_x", "_loss", "_val"):
            old = getattr(self, name)
            new = np.empty(cap)
            new[:self.n] = old[:self.n]
            setattr(self, name, new)
        self._cap = cap

    def _grow_g(self, need: int) -> None:
        if need <= self._g_cap:
            return
        cap = self._g_cap
        while cap < need:
            cap *= 2
        gx = np.empty(cap)
        gx[:self.g_n] = self._gx[:self.g_n]
        g = np.empty((cap, self.n_depth))
        g[:self.g_n] = self._g[:self.g_n]
        self._gx, self._g, self._g_cap = gx, g, cap

    def extend_loss(self, x, loss, val_loss=None) -> None:
        """Append loss points only (vectorised; e.g. a history imported or generated)."""
        x = np.asarray(x, dtype=np.float64)
        k = len(x)
        self._grow(self.n + k)
        self._x[self.n:self.n + k] = x
        self._loss[self.n:self.n + k] = loss
        self._val[self.n:self.n + k] = np.nan if val_loss is None else val_loss
        self.n += k
        self.version += 1

    def extend(self, records: list["Record"]) -> None:
        if not records:
            return
        k = len(records)
        self._grow(self.n + k)
        xs = np.fromiter((r.x for r in records), float, k)
        self._x[self.n:self.n + k] = xs
        self._loss[self.n:self.n + k] = [r.loss for r in records]
        self._val[self.n:self.n + k] = [np.nan if r.val_loss is None else r.val_loss
                                        for r in records]
        self.n += k
        gs = [r for r in records if r.grad_means is not None and len(r.grad_means) == self.n_depth]
        if gs and self.n_depth:
            self._grow_g(self.g_n + len(gs))
            self._gx[self.g_n:self.g_n + len(gs)] = [r.x for r in gs]
            self._g[self.g_n:self.g_n + len(gs)] = np.stack([r.grad_means for r in gs])
            self.g_n += len(gs)
        npar = len(self.param_ids)
        for r in records:
            if r.params is None or r.params.shape[0] != npar:
                continue
            c = self._p_count
            self._p_count += 1
            if c % self.param_stride:
                continue
            if self.p_n == self._p_cap:
                half = self._p_cap // 2
                self._px[:half] = self._px[0:self._p_cap:2]
                self._p[:half] = self._p[0:self._p_cap:2]
                self.p_n = half
                self.param_stride *= 2
                if c % self.param_stride:
                    continue
            self._px[self.p_n] = r.x
            self._p[self.p_n] = r.params
            self.p_n += 1
        self.version += 1


@dataclass
class Record:
    x: float
    loss: float
    val_loss: float | None
    grad_means: np.ndarray | None
    params: np.ndarray | None


# ---------------------------------------------------------------------- worker side
class Mailbox:
    """What the worker and the GUI share, always under ``lock``: one latest snapshot (latest
    wins), the history records since the last GUI tick, a pending parameter edit and a pending
    learning-rate change, and the stop flag."""

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
        self.epochs_done = 0

    def take(self):
        with self.lock:
            snap, gen, recs = self.latest, self.latest_gen, self.records
            self.latest, self.records = None, []
            return snap, gen, recs, self.finished, self.error


_LIVE_WORKERS: "weakref.WeakSet[TrainWorker]" = weakref.WeakSet()


def running_workers() -> list["TrainWorker"]:
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
    publishing a snapshot after every epoch. Never touches widgets or the network."""

    def __init__(self, trainer: Trainer, target: int, box: Mailbox, x_of, gen: int,
                 turns: Turns | None = None, parent: QObject | None = None):
        super().__init__(parent)
        _LIVE_WORKERS.add(self)
        self.turns = turns
        self.setObjectName("nnstudio-train-worker")
        self.trainer = trainer
        self.target = target
        self.box = box
        self.x_of = x_of          # (trainer) -> history x of the trainer's current state
        self.gen = gen

    def run(self) -> None:  # noqa: C901 (one loop, kept together for clarity)
        tr, box = self.trainer, self.box
        gen = self.gen
        sleep = time.sleep
        clock = time.perf_counter
        turns = self.turns
        turn_end = 0.0
        last_yield = clock()
        try:
            while not box.stop:
                if turns is not None and clock() >= turn_end:
                    turns.end_turn()
                    turn_end = turns.wait_turn()     # the GUI's turn (see Turns)
                    if box.stop:
                        break
                if box.edit is not None or box.lr is not None or box.target is not None:
                    with box.lock:
                        edit, lr, target = box.edit, box.lr, box.target
                        box.edit = box.lr = box.target = None
                    if edit is not None:
                        gen, values, trainable = edit
                        tr.set_params(values, trainable)
                    if lr is not None:
                        tr.set_learning_rate(lr)
                    if target is not None:
                        self.target = target
                if tr.state.epoch >= self.target:
                    break
                loss, diverged = tr.step()
                if diverged:
                    snap = tr.snapshot(done=True, diverged=diverged, batch_loss=loss)
                    self._publish(snap, gen)
                    break
                if tr.state.batch_in_epoch == 0:
                    snap = tr.snapshot(batch_loss=loss, done=tr.state.epoch >= self.target)
                    self._publish(snap, gen)
                if turns is None:
                    now = clock()
                    if now - last_yield >= YIELD_EVERY_S:
                        sleep(0)  # let the GUI thread take the GIL
                        last_yield = clock()
        except Exception as e:  # reported to the GUI; never lost silently
            with box.lock:
                box.error = f"{type(e).__name__}: {e}"
        finally:
            with box.lock:
                box.finished = True
            if turns is not None:
                turns.stopped = True
                turns.end_turn()

    def _publish(self, snap: Snapshot, gen: int) -> None:
        box = self.box
        rec = None
        if not snap.diverged:  # a diverged run's kept parameters are already in the history
            x = self.x_of(self.trainer)
            rec = Record(x, snap.loss, snap.val_loss, snap.grad_means, snap.params)
        with box.lock:
            box.latest = snap
            box.latest_gen = gen
            if rec is not None:
                box.records.append(rec)
                box.epochs_done += 1


# ---------------------------------------------------------------------- controller
class TrainingController(QObject):
    """Play/Pause, Step, Step Epoch and Reset for a document; owns the worker thread and the
    training history that the plot panes read."""

    runningChanged = Signal(bool)
    historyChanged = Signal()
    progressChanged = Signal()       # epoch / loss / rate changed (status bar)
    stopped = Signal(str)            # why a run ended ("paused", "done", "diverged", ...)
    diverged = Signal(str)           # the divergence message

    def __init__(self, document, parent: QObject | None = None):
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
        self._run_before: dict | None = None
        self._run_start_epoch = 0.0
        self._run_target = 0
        self._applied_version = -1
        self._applying = False
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
        document.networkChanged.connect(self._on_network_changed)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ state
    def is_running(self) -> bool:
        return self._worker is not None

    @property
    def epoch(self) -> float:
        """The history x of the current parameters (epochs trained since the last reset)."""
        if self.trainer is None:
            return self.history.last_epoch
        return self._x_of(self.trainer)

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
                s.batch_size, s.seed, s.validation_split)

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
            if tr.engine.param_ids != doc.engine().param_ids:  # both compile the same network
                raise RuntimeError("the training engine and the document disagree on the "
                                   "parameter order")
            self.trainer = tr
            self._trainer_key = key
            self.history.set_structure(tr.engine.param_ids, len(tr.engine.blocks) - 1)
        tr = self.trainer
        s = self.document.settings
        if tr.settings.learning_rate != s.learning_rate:
            tr.set_learning_rate(s.learning_rate)
        self._sync_params_to(tr)
        if self.history.n == 0 and self._x_of(tr) == 0:
            self._record_start(tr)
        return tr

    def _record_start(self, tr: Trainer) -> None:
        """Epoch 0 in the history: the loss and gradients before the first step, so the loss
        curve starts where the lesson does (405 for the intercept, 20.4 for the dosage)."""
        with np.errstate(all="ignore"):
            _, grad = tr.engine.gradient(tr.X, tr.Y, tr.settings.loss)
            loss = tr.full_loss()
        if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
            return
        self.history.extend([Record(0.0, loss, tr.val_loss(), tr.engine.layer_grad_means(grad),
                                    tr.params.copy())])
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
        return {pid: net.get_param(pid) for pid in net.param_ids()
                if pid in net.connections or net.neurons[pid].role != "input"}

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
        self._run_target_total = epochs if done < epochs else math.floor(done) + epochs
        self._run_before = self._param_dict()
        self._run_start_epoch = done
        self._start_worker(tr)
        return True

    def _trainer_target(self) -> int:
        """The trainer-local epoch count at which the run stops."""
        return max(0, int(math.ceil(self._run_target_total - self._epoch_base)))

    def _start_worker(self, tr: Trainer) -> None:
        box = Mailbox()
        self._box = box
        self._gen += 1
        self._applied_version = self.document.network.param_version
        self._turns = Turns()
        w = TrainWorker(tr, self._trainer_target(), box, self._x_of, self._gen, self._turns)
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
        before = self._run_before
        self._run_before = None
        if push and before is not None:
            self._push_result(before, self._param_dict(), self.epoch - self._run_start_epoch)
        self.runningChanged.emit(False)
        self.progressChanged.emit()
        self.stopped.emit(reason)

    def _push_result(self, before: dict, after: dict, epochs: float) -> None:
        after = {p: v for p, v in after.items() if p in before}
        if not after or all(before[p] == v for p, v in after.items()):
            return
        if epochs >= 1 or epochs == 0:
            n = int(round(epochs))
            text = f"Train {n} epoch{'s' if n != 1 else ''}"
        else:
            text = "Train 1 step"
        self.document.push_training_result(before, after, text=text)

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
                                        snap.grad_means, snap.params)])
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
            self._say(f"Training finished: {self.epoch:g} epochs, loss "
                      f"{self.history.loss[-1]:.6g}" if self.history.n else "Training finished")

    def _absorb(self, snap: Snapshot | None, gen: int, recs: list) -> None:
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
        self._applying = True
        try:
            self.document.apply_params_from_training(snap.params)
        finally:
            self._applying = False
        if self.is_running():
            from nnstudio.gui.plots.base import quiet_for
            quiet_for(0.025)   # the canvas repaints in the next frame; the plots wait a frame
        self._applied_version = self.document.network.param_version
        self.snapshots_applied += 1

    def _on_diverged(self, message: str) -> None:
        text = f"Training paused: {message}. Try a smaller learning rate."
        self.last_message = text
        self.diverged.emit(text)
        self.document.statusMessage.emit(text, 15000)

    def _say(self, text: str) -> None:
        self.last_message = text
        self.document.statusMessage.emit(text, 8000)

    # ------------------------------------------------------------------ document events
    def _on_network_changed(self, event: str, ids) -> None:
        if not self.is_running() or self._applying:
            return
        if event != "params_changed":
            return
        net = self.document.network
        if net.param_version == self._applied_version:
            return
        # a parameter edit (inspector, undo) while training: the worker applies it next step
        tr = self._worker.trainer
        slots = tr.engine.slots
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
        epochs = self.epoch - self._run_start_epoch
        self._finish_run("structure", push=False)
        self._invalidate_trainer()
        stack = self.document.undo_stack
        index0 = stack.index()
        net0 = self.document.network

        def record():
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
                               "seed", "init", "validation_split")
                   if getattr(old, f) != getattr(new, f)}
        if changed <= {"learning_rate", "epochs", "init"}:
            with self._box.lock:
                if "learning_rate" in changed:
                    self._box.lr = new.learning_rate
                if "epochs" in changed:
                    start = self._run_start_epoch
                    self._run_target_total = (new.epochs if start < new.epochs
                                              else math.floor(start) + new.epochs)
                    self._box.target = self._trainer_target()
            self.progressChanged.emit()
            return
        # optimizer, loss, batch size, split or seed: restart the run with a new trainer,
        # continuing the same logical run (one undo step in the end)
        snap, gen, recs = self._stop_worker()
        self._absorb(snap, gen, recs)
        try:
            tr = self.ensure_trainer()
        except (ValueError, RuntimeError) as e:
            self._finish_run("error")
            self._say(f"Training stopped: {e}")
            return
        self._start_worker(tr)


# ---------------------------------------------------------------------- GUI installation
class _CloseWatcher(QObject):
    """Stops the worker when the main window is about to close."""

    def __init__(self, controller: TrainingController, parent: QObject):
        super().__init__(parent)
        self.controller = controller

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Close:
            self.controller.shutdown()
        return False


class TrainingSettingsBar(QWidget):
    """Target epochs, learning rate, optimizer, batch size and loss: each edit is an undoable
    document settings change; the widgets follow the document (signals blocked while set)."""

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(4)

        def label(text, tip):
            lb = QLabel(text)
            lb.setToolTip(tip)
            lay.addWidget(lb)

        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000_000)
        self.epochs.setToolTip("Target epochs: Play trains until this many epochs are done "
                               "(then, pressed again, this many more)")
        self.epochs.setKeyboardTracking(False)
        label("Epochs", self.epochs.toolTip())
        lay.addWidget(self.epochs)

        self.lr = FloatEdit(lo=0.0, lo_open=True, hi=1000.0, what="learning rate",
                            tip="Learning rate: how big a step the optimizer takes against the "
                                "gradient. Too large and the loss explodes.")
        self.lr.setFixedWidth(84)
        self.lr.setObjectName("learningRate")
        label("Learning rate", self.lr.toolTip())
        lay.addWidget(self.lr)

        self.optimizer = QComboBox()
        for name, info in optimizers.INFO.items():
            self.optimizer.addItem(getattr(info, "title", name), name)
            self.optimizer.setItemData(self.optimizer.count() - 1,
                                       getattr(info, "note", "") or name, Qt.ToolTipRole)
        self.optimizer.setToolTip("Optimizer: how the gradient turns into a parameter update")
        label("Optimizer", self.optimizer.toolTip())
        lay.addWidget(self.optimizer)

        self.batch = QSpinBox()
        self.batch.setRange(0, 10_000_000)
        self.batch.setSpecialValueText("full")
        self.batch.setKeyboardTracking(False)
        self.batch.setToolTip("Batch size: rows per optimizer step (full = the whole dataset)")
        label("Batch", self.batch.toolTip())
        lay.addWidget(self.batch)

        self.loss = QComboBox()
        for name, lf in losses.LOSSES.items():
            self.loss.addItem(getattr(lf, "title", name), name)
            self.loss.setItemData(self.loss.count() - 1, getattr(lf, "formula", name),
                                  Qt.ToolTipRole)
        self.loss.setToolTip("Loss: how the error between outputs and targets is measured")
        label("Loss", self.loss.toolTip())
        lay.addWidget(self.loss)

        self.epochs.valueChanged.connect(lambda v: self._set(epochs=int(v)))
        self.lr.valueCommitted.connect(lambda v: self._set(learning_rate=float(v)))
        self.batch.valueChanged.connect(lambda v: self._set(batch_size=int(v)))
        self.optimizer.currentIndexChanged.connect(
            lambda i: self._set(optimizer=self.optimizer.itemData(i)))
        self.loss.currentIndexChanged.connect(lambda i: self._set(loss=self.loss.itemData(i)))
        self.epochs.setMaximumWidth(110)
        self.batch.setMaximumWidth(80)
        self.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Fixed)
        document.settingsChanged.connect(self.refresh)
        document.projectReplaced.connect(self.refresh)
        self.refresh()

    def _set(self, **changes) -> None:
        try:
            self.document.set_settings(**changes)
        except ValueError as e:
            self.document.statusMessage.emit(f"Setting refused: {e}", 8000)
            self.refresh()

    def refresh(self) -> None:
        s = self.document.settings
        widgets = (self.epochs, self.lr, self.batch, self.optimizer, self.loss)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.epochs.setValue(int(s.epochs))
            self.lr.set_value(float(s.learning_rate))
            self.batch.setValue(int(s.batch_size))
            self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(s.optimizer)))
            self.loss.setCurrentIndex(max(0, self.loss.findData(s.loss)))
        finally:
            for w in widgets:
                w.blockSignals(False)


class TrainingStatus(QWidget):
    """Status bar: a progress bar with the epoch, the loss and epochs per second."""

    def __init__(self, controller: TrainingController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(8)
        self.bar = QProgressBar()
        self.bar.setObjectName("trainingProgress")
        self.bar.setFixedWidth(180)
        self.bar.setMaximumHeight(16)
        self.bar.setTextVisible(True)
        self.bar.setAlignment(Qt.AlignCenter)
        self.bar.setStyleSheet(
            "QProgressBar { border: 1px solid #B8BEC8; border-radius: 3px; background: #F4F5F7;"
            f" color: {style.TEXT_HEX}; font-size: 8pt; }}"
            "QProgressBar::chunk { background: #A9CDE8; border-radius: 2px; }")
        self.bar.setToolTip("Epochs trained towards the target")
        self.text = QLabel("")
        self.text.setObjectName("trainingStatus")
        self.text.setMinimumWidth(260)
        lay.addWidget(self.bar)
        lay.addWidget(self.text)
        self._last = 0.0
        controller.progressChanged.connect(self.refresh)
        controller.document.evaluationChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        c = self.controller
        epoch = c.epoch
        target = getattr(c, "_run_target_total", None) if c.is_running() else None
        if target is None:
            target = max(c.target_epochs, math.ceil(epoch))
        target = max(1, int(math.ceil(target)))
        self.bar.setRange(0, target)
        self.bar.setValue(int(min(target, epoch)))
        self.bar.setFormat(f"Epoch {epoch:g} / {target}")
        h = c.history
        if h.n:
            loss = float(h.loss[-1])
        else:
            loss = c.document.loss()
        parts = []
        parts.append("loss " + ("—" if loss is None else f"{loss:.5g}"))
        if h.n and h.has_validation():
            parts.append(f"val {float(h.val_loss[-1]):.5g}")
        if c.is_running():
            parts.append(f"{c.rate:,.0f} epochs/s")
        elif c.last_message.startswith("Training paused:"):
            parts.append("diverged")
        self.text.setText("   ".join(parts))


def _action(parent, text, tip, shortcut=None, slot=None, checkable=False) -> QAction:
    a = QAction(text, parent)
    a.setToolTip(tip)
    a.setStatusTip(tip)
    if shortcut:
        a.setShortcut(QKeySequence(shortcut))
        a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.NativeText)})")
    if checkable:
        a.setCheckable(True)
    if slot is not None:
        a.triggered.connect(slot)
    return a


def install(window) -> TrainingController:
    """Add training to the main window: Train menu and toolbar actions, the settings bar, the
    status-bar progress, the plot docks and the dataset dock."""
    from PySide6.QtWidgets import QStyle
    from nnstudio.gui.dataset_panel import DatasetPanel
    from nnstudio.gui.plots import PANES

    doc = window.document
    ctl = TrainingController(doc, window)
    window.training = ctl
    window.pause_training = ctl.pause   # the editor pauses training before "save changes?"
    st = window.style()

    a_play = _action(window, "Play", "Train in the background until the target epochs; "
                     "press again to pause", "F5", ctl.toggle)
    a_play.setIcon(st.standardIcon(QStyle.SP_MediaPlay))
    a_step = _action(window, "Step", "Train one batch (one optimizer step)", "F10", ctl.step)
    a_step.setIcon(st.standardIcon(QStyle.SP_MediaSeekForward))
    a_epoch = _action(window, "Step Epoch", "Train one whole epoch", "Shift+F10",
                      ctl.step_epoch)
    a_epoch.setIcon(st.standardIcon(QStyle.SP_MediaSkipForward))
    a_reset = _action(window, "Reset", "Re-initialise every weight and bias with the seed and "
                      "clear the training history (undoable)", "Ctrl+Shift+R", ctl.reset)
    a_reset.setIcon(st.standardIcon(QStyle.SP_BrowserReload))
    for a in (a_play, a_step, a_epoch, a_reset):
        a.setObjectName("train" + a.text().replace(" ", ""))

    def on_running(running: bool) -> None:
        a_play.setText("Pause" if running else "Play")
        a_play.setIcon(st.standardIcon(QStyle.SP_MediaPause if running else QStyle.SP_MediaPlay))
        tip = ("Pause training (the run becomes one undo step)" if running
               else "Train in the background until the target epochs")
        a_play.setToolTip(f"{tip} (F5)")
    ctl.runningChanged.connect(on_running)

    menu = window.menu("Train")
    for a in (a_play, a_step, a_epoch):
        menu.addAction(a)
    menu.addSeparator()
    menu.addAction(a_reset)
    window.train_actions = {"play": a_play, "step": a_step, "epoch": a_epoch, "reset": a_reset}

    bar = QToolBar("Training", window)
    bar.setObjectName("trainingToolbar")
    for a in (a_play, a_step, a_epoch, a_reset):
        bar.addAction(a)
    bar.addSeparator()
    settings = TrainingSettingsBar(doc, bar)
    bar.addWidget(settings)
    window.addToolBarBreak(Qt.TopToolBarArea)
    window.addToolBar(Qt.TopToolBarArea, bar)
    window.training_toolbar = bar
    window.training_settings = settings

    status = TrainingStatus(ctl)
    window.statusBar().addPermanentWidget(status)
    window.training_status = status

    # plot docks and the dataset dock
    window.plot_panes = {}
    docks = {}
    for key, (cls, area) in PANES.items():
        pane = cls(doc, ctl)
        window.plot_panes[key] = pane
        docks[key] = window.add_dock(key, pane, area, cls.title)
    panel = DatasetPanel(doc, window.plot_panes.get("output"))
    window.dataset_panel = panel
    docks["dataset"] = window.add_dock("dataset", panel, Qt.BottomDockWidgetArea, "Dataset")
    # default layout: the output map on the right with loss / gradients / parameter history
    # tabbed below it; at the bottom the dataset beside activation / landscape (tabbed)
    try:
        window.splitDockWidget(docks["output"], docks["loss"], Qt.Vertical)
        window.tabifyDockWidget(docks["loss"], docks["gradients"])
        window.tabifyDockWidget(docks["gradients"], docks["params"])
        docks["loss"].raise_()
        window.splitDockWidget(docks["dataset"], docks["activation"], Qt.Horizontal)
        window.tabifyDockWidget(docks["activation"], docks["landscape"])
        docks["activation"].raise_()
    except KeyError:  # a pane set without one of these
        pass
    window.training_docks = docks

    watcher = _CloseWatcher(ctl, window)
    window.installEventFilter(watcher)
    window._training_close_watcher = watcher
    return ctl


__all__ = ["TrainingController", "TrainingHistory", "TrainWorker", "Mailbox", "install",
           "POLL_MS"]

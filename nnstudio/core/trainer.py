"""Training as a generator: :meth:`Trainer.run` yields a :class:`Snapshot` after every step or
every epoch. It is the one training loop: the headless ``nnstudio train`` and the GUI's worker
thread both drive it.

The consumer pauses by not asking for the next snapshot and stops by calling :meth:`Trainer.stop`
(checked between steps) or by dropping the generator. A driver that must act between two steps
(the GUI worker: take its turn with the GUI thread, apply parameter edits, a new learning rate or
a new target epoch count) passes ``between``, which :meth:`Trainer.run` calls before every step.
If the loss or a gradient becomes NaN or infinite, training stops with a final snapshot whose
``diverged`` says which value it was and when; the parameters stay at their last finite values
(the update that led to a non-finite loss is undone, and its step and epoch no longer count).
Every snapshot's loss over the training set is checked the same way, so the last update of a
run is checked too and no snapshot holds parameters whose loss is not finite.

One definition of an epoch count everywhere: ``state.epoch`` (``Snapshot.epoch``) is the
number of completed epochs whose updates are kept; an epoch that an undone update belonged to
is not complete.
With ``min_step`` set, training also stops early once an update changes no parameter by that
much (the final snapshot's ``converged`` says when), as seed 001 describes gradient descent.

With a regularization setting (:mod:`nnstudio.core.regularization`) every step follows the
gradient of loss + penalty; a snapshot's ``loss`` is the loss function's value and its
``penalty`` the penalty beside it.

The trainer works on its own compiled :class:`~nnstudio.core.engine.Engine` and its parameter
vector, never on the network: the caller applies a snapshot to the network as
``net.set_param_vector(snap.slots, snap.params)``, so that a GUI thread can own the network
while a worker thread trains.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np

from . import losses, optimizers
from .engine import Engine
from .messages import quote
from .network import INITS, Network
from .regularization import Penalty, check_regularization, make_penalty

Array = np.ndarray


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class TrainSettings:
    loss: str = "mse"
    optimizer: str = "adam"
    learning_rate: float = 0.01
    batch_size: int = 0          # 0: the whole dataset in every step
    epochs: int = 100
    seed: int = 0
    init: str = "xavier"
    validation_split: float = 0.0
    regularization: str = "none"     # "none", "l1" or "l2" (nnstudio.core.regularization)
    regularization_rate: float = 0.0
    min_step: float = 0.0        # stop once an update's largest |change| is below this; 0: off

    def validate(self) -> TrainSettings:
        """Raise SettingsError naming the first bad setting."""
        if self.loss not in losses.LOSSES:
            raise SettingsError(f"unknown loss {quote(self.loss)} (known: "
                                f"{', '.join(losses.NAMES)})")
        if self.optimizer not in optimizers.INFO:
            raise SettingsError(
                f"unknown optimizer {quote(self.optimizer)} (known: {', '.join(optimizers.NAMES)})"
            )
        if self.init not in INITS:
            raise SettingsError(f"unknown initialisation {quote(self.init)} (known: "
                                f"{', '.join(INITS)})")
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) \
                or not 0 < lr <= 1e3:
            raise SettingsError(f"learning rate must be a number in (0, 1000], not {quote(lr)}")
        for name, v, lo, hi in (("batch size", self.batch_size, 0, 10_000_000),
                                ("epochs", self.epochs, 0, 100_000_000),
                                ("seed", self.seed, 0, 2**63 - 1)):
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise SettingsError(f"{name} must be a whole number from {lo} to {hi}, "
                                    f"not {quote(v)}")
        vs = self.validation_split
        if isinstance(vs, bool) or not isinstance(vs, (int, float)) or not 0 <= vs < 1:
            raise SettingsError(f"validation split must be a fraction in [0, 1), not {quote(vs)}")
        problem = check_regularization(self.regularization, self.regularization_rate)
        if problem:
            raise SettingsError(problem)
        ms = self.min_step
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not math.isfinite(ms) \
                or not 0 <= ms <= 1e3:
            raise SettingsError(f"minimum step must be a number from 0 (off) to 1000, "
                                f"not {quote(ms)}")
        return self

    @property
    def penalty(self) -> Penalty | None:
        """The regularization penalty these settings train with (None: no penalty)."""
        return make_penalty(self.regularization, self.regularization_rate)

    def with_(self, **changes: Any) -> TrainSettings:
        return replace(self, **changes).validate()


@dataclass
class Snapshot:
    epoch: int                   # completed epochs
    step: int                    # completed steps (batches)
    loss: float                  # training loss over the whole training set at ``params``
    params: Array                # a copy, in engine.param_ids order
    grad_means: Array            # mean |dL/dp| per depth level (last step)
    slots: Array                 # where params[i] goes in the network's ParamStore (read-only)
    val_loss: float | None = None
    epoch_end: bool = True
    done: bool = False
    diverged: str | None = None
    batch_loss: float | None = None
    penalty: float = 0.0         # the regularization penalty at ``params`` (0 without one)
    converged: str | None = None  # why training stopped early: the step fell below min_step


@dataclass
class _State:
    epoch: int = 0
    step: int = 0
    batch_in_epoch: int = 0
    order: Array | None = None


class Trainer:
    def __init__(self, net: Network, X: Array, Y: Array, settings: TrainSettings, *,
                 X_val: Array | None = None, Y_val: Array | None = None,
                 engine: Engine | None = None):
        self.settings = settings.validate()
        self.engine = engine if engine is not None else Engine.compile(net)
        self.net = net
        self.engine.check_loss(self.settings.loss)  # refused now, not at the first step
        self.X, self.Y = self.engine.check_data(X, Y)
        if self.X.shape[0] == 0:
            raise SettingsError("the dataset has no rows to train on")
        self.X_val = self.Y_val = None
        if X_val is not None and len(X_val):
            self.X_val, self.Y_val = self.engine.check_data(X_val, Y_val)
        self.opt = optimizers.make(settings.optimizer, settings.learning_rate)
        self.penalty = self.settings.penalty
        self.rng = np.random.default_rng(settings.seed)
        self.state = _State()
        self._stop = False
        self._target = settings.epochs   # where run() stops (set by run, moved by set_target)
        self._grad = np.zeros_like(self.engine.params)
        self._prev = np.empty_like(self.engine.params)
        self._prev_valid = False  # does _prev hold the parameters before the last update?
        self._prev_counters = (0, 0, 0)  # (epoch, step, batch_in_epoch) before it
        self._grad_means: Array | None = None
        self.last_step_size = math.inf   # the largest |change| of the last update (min_step)
        self._batch_bufs: dict[int, tuple[Array, Array]] = {}

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """End :meth:`run` before its next step (from ``between`` or another thread)."""
        self._stop = True

    def set_target(self, epochs: int) -> None:
        """Move where the running :meth:`run` stops: after ``epochs`` completed epochs."""
        self._target = int(epochs)

    @property
    def params(self) -> Array:
        return self.engine.params

    def set_params(self, values: Array, trainable: Array | None = None) -> None:
        """Apply parameter edits made elsewhere; they take effect at the next step."""
        self.engine.set_params(values)
        self._prev_valid = False  # never step back past the user's edit
        if trainable is not None:
            self.engine.trainable[:] = trainable

    def set_learning_rate(self, lr: float) -> None:
        self.settings = self.settings.with_(learning_rate=lr)
        self.opt.lr = float(lr)

    def set_min_step(self, tol: float) -> None:
        """The minimum step (0: off) from the next update on."""
        self.settings = self.settings.with_(min_step=tol)

    @property
    def batch_size(self) -> int:
        n = self.X.shape[0]
        bs = self.settings.batch_size
        if self.settings.optimizer == "gd" or bs <= 0 or bs >= n:
            return n
        return bs

    def batches_per_epoch(self) -> int:
        return -(-self.X.shape[0] // self.batch_size)

    # ------------------------------------------------------------------ measuring
    def full_loss(self) -> float:
        return self.engine.loss(self.X, self.Y, self.settings.loss)

    def val_loss(self) -> float | None:
        if self.X_val is None:
            return None
        return self.engine.loss(self.X_val, cast(Array, self.Y_val),  # set with X_val
                                self.settings.loss)

    def snapshot(self, *, epoch_end: bool = True, done: bool = False,
                 diverged: str | None = None, batch_loss: float | None = None,
                 converged: str | None = None) -> Snapshot:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, val_loss = self.full_loss(), self.val_loss()
            penalty = self.engine.penalty(self.penalty)
        return Snapshot(
            epoch=self.state.epoch, step=self.state.step, loss=loss,
            params=self.engine.params.copy(), grad_means=self.last_grad_means.copy(),
            slots=self.engine.slots,
            val_loss=val_loss, epoch_end=epoch_end, done=done, diverged=diverged,
            batch_loss=batch_loss, penalty=penalty, converged=converged,
        )

    # ------------------------------------------------------------------ stepping
    def _next_batch(self) -> tuple[Array, Array]:
        n = self.X.shape[0]
        bs = self.batch_size
        if bs >= n:
            return self.X, self.Y
        st = self.state
        if st.order is None or st.batch_in_epoch == 0:
            st.order = self.rng.permutation(n)
        idx = st.order[st.batch_in_epoch * bs:(st.batch_in_epoch + 1) * bs]
        # gather the rows into arrays reused from step to step (keyed by the batch length)
        bufs = self._batch_bufs.get(idx.size)
        if bufs is None:
            bufs = self._batch_bufs[idx.size] = (
                np.empty((idx.size, self.X.shape[1])), np.empty((idx.size, self.Y.shape[1])))
        # mode="clip": the indices are a permutation, always in range, and NumPy buffers the
        # default mode="raise" through a temporary (3x slower on a 784-column dataset)
        return (np.take(self.X, idx, axis=0, out=bufs[0], mode="clip"),
                np.take(self.Y, idx, axis=0, out=bufs[1], mode="clip"))

    @property
    def last_grad_means(self) -> Array:
        """Mean |dL/dp| per depth level at the last completed step (computed on demand)."""
        if self._grad_means is None:
            self._grad_means = self.engine.layer_grad_means(self._grad) if self.state.step \
                else np.zeros(len(self.engine.param_layers))
        return self._grad_means

    @last_grad_means.setter
    def last_grad_means(self, value: Array) -> None:
        self._grad_means = value

    def step(self) -> tuple[float, str | None]:
        """One batch: forward, backward, update. Returns (batch loss, divergence message).
        Overflow is reported through the message, so NumPy's own warnings are silenced."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._step()

    def _step(self) -> tuple[float, str | None]:
        st = self.state
        Xb, Yb = self._next_batch()
        loss, grad = self.engine.gradient(Xb, Yb, self.settings.loss, self._grad, self.penalty)
        if not math.isfinite(loss):
            return loss, self._blown(f"the loss became {loss}")
        # a sum is non-finite whenever one term is: one cheap reduction per step, and the exact
        # elementwise test only when it fires (it may also fire on a finite overflow)
        if not math.isfinite(grad.sum()):
            bad = ~np.isfinite(grad)
            if bad.any():
                i = int(np.argmax(bad))
                return loss, self._blown(f"the gradient of "
                                         f"{self.engine.describe_param(self.net, i)} became "
                                         f"{grad[i]}")
        params = self.engine.params
        self._prev[:] = params
        self._prev_valid = True
        self.opt.step(params, grad, self.engine.trainable)
        if not math.isfinite(params.sum()):
            bad = ~np.isfinite(params)
            if bad.any():
                i = int(np.argmax(bad))
                params[:] = self._prev
                self._prev_valid = False
                return loss, (f"{self.engine.describe_param(self.net, i)} overflowed to "
                              f"infinity in epoch {st.epoch + 1}, step {st.step + 1}; the last "
                              "finite parameters are kept")
        if self.settings.min_step > 0:
            self.last_step_size = float(np.max(np.abs(params - self._prev), initial=0.0))
        self._grad_means = None
        self._prev_counters = (st.epoch, st.step, st.batch_in_epoch)
        st.step += 1
        st.batch_in_epoch += 1
        if st.batch_in_epoch >= self.batches_per_epoch():
            st.batch_in_epoch = 0
            st.epoch += 1
        return loss, None

    def _blown(self, what: str) -> str:
        """``what`` (the loss or a gradient) is not finite at the current parameters: undo
        the update that led there, if the trainer made it (its epoch and step no longer
        count), and say which step that was; else name the step about to run."""
        st = self.state
        epoch, step = st.epoch, st.step
        if self._prev_valid:
            epoch, step, _ = self._prev_counters
            self._undo_last_update()
        return f"{what} in epoch {epoch + 1}, step {step + 1}; the last finite parameters are kept"

    def _undo_last_update(self) -> None:
        """The loss or a gradient blew up at the current parameters, which the previous update
        made: go back to the parameters before it, where the loss was still finite (the
        parameters are finite either way, but a loss of inf is no place to continue from)."""
        if self._prev_valid:
            self.engine.params[:] = self._prev
            st = self.state
            st.epoch, st.step, st.batch_in_epoch = self._prev_counters
            self._prev_valid = False
            self._grad_means = None

    def run(self, every: str = "epoch", epochs: int | None = None,
            between: Callable[[Trainer], None] | None = None) -> Iterator[Snapshot]:
        """Train until ``epochs`` (default: the settings') are complete, yielding a snapshot
        after every ``"step"`` or every ``"epoch"``. The last snapshot has ``done`` set.

        ``between(trainer)``, if given, is called before every step; it may change the trainer
        through :meth:`set_params`, :meth:`set_learning_rate`, :meth:`set_target` and
        :meth:`stop`, which take effect at once (the step that follows uses them)."""
        if every not in ("step", "epoch"):
            raise ValueError("every must be 'step' or 'epoch'")
        self._target = self.settings.epochs if epochs is None else epochs
        self._stop = False
        while True:
            if between is not None:
                between(self)
            if self._stop or self.state.epoch >= self._target:
                return
            loss, diverged = self.step()
            if diverged:
                yield self.snapshot(done=True, diverged=diverged, batch_loss=loss)
                return
            epoch_end = self.state.batch_in_epoch == 0
            converged = self._converged()
            if converged:
                yield self.snapshot(epoch_end=epoch_end, done=True, batch_loss=loss,
                                    converged=converged)
                return
            if every == "step" or epoch_end:
                done = epoch_end and self.state.epoch >= self._target
                snap = self.checked(self.snapshot(epoch_end=epoch_end, done=done,
                                                  batch_loss=loss))
                yield snap
                if snap.diverged:
                    return

    def checked(self, snap: Snapshot) -> Snapshot:
        """``snap`` if its loss (over the whole training set, after the update just made) is
        finite; else that update is undone and the snapshot of the kept parameters says so.
        So the last update of a run is checked like every other, and no snapshot ever holds
        parameters whose loss is not finite."""
        if math.isfinite(snap.loss):
            return snap
        st = self.state
        epoch, step, _ = self._prev_counters if self._prev_valid else (st.epoch, st.step, 0)
        self._undo_last_update()
        return self.snapshot(done=True, batch_loss=snap.batch_loss, diverged=(
            f"the loss became {snap.loss} in epoch {epoch + 1}, step {step + 1}; the last "
            "finite parameters are kept"))

    def _converged(self) -> str | None:
        """Why to stop now, when the last update moved no parameter by ``min_step`` or more
        (seed 001: "stops once the steps become infinitesimally small")."""
        tol = self.settings.min_step
        if tol <= 0 or self.last_step_size >= tol:
            return None
        st = self.state
        return (f"the largest step, {self.last_step_size:.3g}, fell below the minimum step "
                f"{tol:g} at update {st.step} (epoch {st.epoch})")

    def train(self, epochs: int | None = None) -> list[Snapshot]:
        """Run to the end and return one snapshot per epoch."""
        return list(self.run("epoch", epochs))

    def run_epoch(self) -> Snapshot:
        """Finish the current epoch (or run one whole epoch) and return its snapshot."""
        loss, diverged = self.step()
        while not diverged and self.state.batch_in_epoch != 0:
            loss, diverged = self.step()
        snap = self.snapshot(diverged=diverged, done=bool(diverged), batch_loss=loss)
        return snap if diverged else self.checked(snap)

    def run_step(self) -> Snapshot:
        loss, diverged = self.step()
        snap = self.snapshot(epoch_end=self.state.batch_in_epoch == 0, diverged=diverged,
                             done=bool(diverged), batch_loss=loss)
        return snap if diverged else self.checked(snap)


def split_rows(n: int, fraction: float, seed: int) -> tuple[Array, Array] | None:
    """The seeded train/validation split of ``n`` rows as (training rows, validation rows)
    index arrays, or None when nothing is held out (the one place the split is drawn)."""
    n_val = int(round(n * fraction))
    if fraction <= 0 or n_val == 0 or n_val >= n:
        return None
    order = np.random.default_rng(seed).permutation(n)
    return order[n_val:], order[:n_val]


def split(X: Array, Y: Array, fraction: float, seed: int) -> tuple[Array, Array, Array, Array]:
    """Seeded train/validation split: (X_train, Y_train, X_val, Y_val)."""
    rows = split_rows(X.shape[0], fraction, seed)
    if rows is None:
        return X, Y, X[:0], Y[:0]
    tr, val = rows
    return X[tr], Y[tr], X[val], Y[val]


__all__ = ["Trainer", "TrainSettings", "Snapshot", "SettingsError", "split", "split_rows",
           "field"]

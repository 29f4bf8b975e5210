"""The step-through backprop player's logic: one training iteration of the document's network,
walked through one operation at a time.

:class:`BackpropPlayer` holds the walkthrough (:mod:`nnstudio.core.trace`), the current step,
and the "mode" (active or not). While active it draws the current step on the canvas through
the Overlay API (highlighted neurons and connections, value badges for what is known so far,
and in the backward phase arrows for the change each neuron asks for), and it keeps the network
equal to what the completed update steps leave: stepping into an update step writes that
parameter's new value through the document, stepping back restores it. All those writes in one
session merge into ONE undo step, "Backprop step" (a ``set_params`` edit with a merge key), so
leaving the mode leaves the network as the completed steps left it and Undo takes it back in
one go. The player owns no widget: the panel (:mod:`.panel`) and the installer
(:mod:`.installer`) follow its signals.

An image layer's step summarises per map; the player can open it at one *position* (a map
cell's dot product, a pooling window, a filter weight's sum: :meth:`open_position`, or a click
on that cell of the canvas), which :mod:`.image_view` turns into the canvas highlight. Moving
to another step closes the position.

The walkthrough is rebuilt when the document changes under it, and only then: a change notice
that leaves the network as the walkthrough shows it (neurons moved; the parameters at the
values and locks of the current step, as after the player's own writes) keeps it. No flag
marks the player's own writes: the network's state decides.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from nnstudio.core import trace as tr_mod
from nnstudio.core.network import NetworkEvent
from nnstudio.gui.backprop import image_view

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoCommand

    from nnstudio.gui.canvas.overlay import Overlay
    from nnstudio.gui.canvas.scene import CanvasScene
    from nnstudio.gui.document import Document

UNDO_TEXT = "Backprop step"
PREVIEW_DELAY_MS = 350      # an inactive (preview) walkthrough is rebuilt this long after the
                            # last change: stepping training repeatedly stays instant

_sessions = itertools.count(1)


def _overlay_class() -> type[Overlay]:
    from nnstudio.gui.canvas.overlay import Overlay
    return Overlay


class BackpropPlayer(QObject):
    """Walks through one iteration of the document's network. See the module docstring."""

    stepChanged = Signal(int)
    positionChanged = Signal()
    traceChanged = Signal()
    activeChanged = Signal(bool)
    playingChanged = Signal(bool)
    trainingChanged = Signal(bool)
    message = Signal(str)

    def __init__(self, document: Document, scene: CanvasScene | None = None,
                 parent: QObject | None = None):
        super().__init__(parent if parent is not None else document)
        self.document = document
        self.scene = scene
        if scene is not None:
            scene.cellClicked.connect(self._cell_clicked)
        self.trace: tr_mod.Trace | None = None
        self.error: str | None = None
        self.index = -1
        self.position: image_view.Position | None = None   # the open drill-down, if any
        self.sample: int | None = None
        self.active = False
        self.iteration = 1
        self.speed = 2.0          # steps per second while playing
        self._key = None
        self.wants_preview = False   # set while the panel is visible: rebuild even when inactive
        self._stale = True
        self._training = document.training_active
        self._play = QTimer(self)
        self._play.timeout.connect(self._tick)
        self._rebuild_timer = QTimer(self)
        self._rebuild_timer.setSingleShot(True)
        self._rebuild_timer.timeout.connect(self._external_rebuild)
        self._poll = QTimer(self)
        self._poll.setInterval(250)
        self._poll.timeout.connect(self._check_training)
        self._poll.start()
        self._sig = None
        document.networkChanged.connect(self._on_network)
        document.settingsChanged.connect(self._on_model_changed)
        document.datasetChanged.connect(self._on_model_changed)
        document.projectReplaced.connect(self._on_project_replaced)

    # ------------------------------------------------------------------ queries
    @property
    def playing(self) -> bool:
        return self._play.isActive()

    @property
    def training(self) -> bool:
        return self.document.training_active

    @property
    def step(self) -> tr_mod.Step | None:
        if self.trace is None or not 0 <= self.index < len(self.trace.steps):
            return None
        return self.trace.steps[self.index]

    @property
    def last(self) -> int:
        return len(self.trace.steps) - 1 if self.trace is not None else -1

    @property
    def stale(self) -> bool:
        """True when the walkthrough no longer matches the document (or was never built): it
        is rebuilt before it is shown again."""
        return self._stale

    @property
    def shown_step(self) -> tr_mod.Step | None:
        """The current step as shown: its drill-down at the open position, or the step."""
        step = self.step
        if step is None or self.trace is None:
            return step
        try:
            return image_view.shown_step(self.trace, step, self.position)
        except tr_mod.TraceError:
            return step

    def state(self) -> tr_mod.TraceState | None:
        if self.trace is None:
            return None
        return self.trace.state_at(self.index)

    def set_scene(self, scene: CanvasScene | None) -> None:
        if self.scene is not None and self.scene is not scene:
            self.scene.set_overlay(None)
            self.scene.cellClicked.disconnect(self._cell_clicked)
        if scene is not None and scene is not self.scene:
            scene.cellClicked.connect(self._cell_clicked)
        self.scene = scene
        self._show()

    # ------------------------------------------------------------------ the trace
    def ensure_trace(self) -> bool:
        """Build the walkthrough if it is missing or stale; False (with ``error``) if the
        document's network cannot be traced."""
        if self.trace is not None and not self._stale:
            return True
        return self.rebuild()

    def rebuild(self) -> bool:
        """Build the walkthrough from the document as it is now and go back to before its first
        step; False (with ``error``) if the network cannot be traced."""
        doc = self.document
        self._stale = False
        try:
            n = len(doc.dataset) if doc.dataset is not None else 0
            if self.sample is not None and self.sample >= n:
                self.sample = None
            self.trace = tr_mod.from_project(doc.project, self.sample)
            self.error = None
            self._sig = self._signature()
        except (tr_mod.TraceError, ValueError) as e:
            self.trace, self.error = None, str(e)
        self.index = -1
        self.position = None
        self.traceChanged.emit()
        return self.trace is not None

    def set_sample(self, sample: int | None) -> None:
        """Trace one sample (a row index) or the whole batch (None); starts again at step 0."""
        if sample is not None:
            tr_mod.check_sample(sample, len(self.document.dataset))
        if sample == self.sample and self.trace is not None and not self._stale:
            return
        was_active = self.active
        self._restore_iteration_start()
        self.sample = sample
        if sample is not None:
            try:
                self.document.set_sample(sample)
            except ValueError:
                pass
        self.rebuild()
        if was_active:
            self._show()
            self.stepChanged.emit(self.index)

    # ------------------------------------------------------------------ the mode
    def start(self) -> bool:
        """Enter step-through mode and show the first step (if not already further on)."""
        if not self.activate():
            return False
        self.ensure_trace()
        if self.index < 0 and self.trace is not None:
            self.go_to(0)
        return True

    def activate(self) -> bool:
        if self.active:
            return True
        if self.training:
            self.message.emit("Training is running: pause it to step through backprop.")
            return False
        if (self._stale or self.trace is None) and not self.rebuild():
            self.message.emit(f"Cannot step through this network: {self.error}")
            return False
        self._key = ("backprop", next(_sessions))
        self.active = True
        self.iteration = 1
        self.index = -1
        self.activeChanged.emit(True)
        self._show()
        self.stepChanged.emit(self.index)
        return True

    def deactivate(self) -> None:
        """Leave the mode: the overlay goes, the network stays as the completed update steps
        left it (already one undo step)."""
        if not self.active:
            return
        self.pause()
        self.active = False
        self._key = None
        self._stale = True
        if self.scene is not None:
            self.scene.set_overlay(None)
        self.activeChanged.emit(False)

    def set_active(self, on: bool) -> None:
        if on:
            self.activate()
        else:
            self.deactivate()

    # ------------------------------------------------------------------ navigation
    def go_to(self, k: int) -> None:
        if not self.activate() or not self.ensure_trace():
            return
        k = max(-1, min(int(k), self.last))
        self.index = k
        self.position = None
        self._apply_params()
        self._show()
        self.stepChanged.emit(k)

    def next(self) -> None:
        if not self.active:
            if self.activate() and self.ensure_trace():
                self.go_to(0)
            return
        if self.trace is not None and self.index < self.last:
            self.go_to(self.index + 1)
        elif self.playing:
            self.pause()

    def previous(self) -> None:
        if self.active and self.index > -1:
            self.go_to(self.index - 1)

    def restart(self) -> None:
        self.go_to(0 if self.trace is None or self.last >= 0 else -1)

    def jump(self, phase: str) -> None:
        if phase not in tr_mod.PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        if not self.activate() or not self.ensure_trace():
            return
        self.go_to(self.trace.phase_start(phase))

    def run_to_end(self) -> None:
        if not self.activate() or not self.ensure_trace():
            return
        self.go_to(self.last)

    def next_iteration(self) -> None:
        """Apply the whole update, then start a new walkthrough at the new parameters."""
        if not self.activate() or not self.ensure_trace():
            return
        self.pause()
        self.index = self.last
        self._apply_params()
        self.iteration += 1
        self.rebuild()
        self.go_to(0)
        self.message.emit(f"Iteration {self.iteration}: the forward pass with the new parameters.")

    # ------------------------------------------------------------------ positions
    def open_position(self, row: int, col: int, channel: int = 0) -> bool:
        """Open the current image step at one position (see :mod:`.image_view`); False, with
        a message, when the step has no positions or the cell is outside its map."""
        step, tr = self.step, self.trace
        if not self.active or step is None or tr is None:
            return False
        if not image_view.has_positions(step):
            self.message.emit("This step has no positions to open.")
            return False
        at = image_view.Position(int(row), int(col), int(channel))
        try:
            image_view.shown_step(tr, step, at)
        except tr_mod.TraceError as e:
            self.message.emit(str(e))
            return False
        if at != self.position:
            self.position = at
            self._show()
            self.positionChanged.emit()
        return True

    def close_position(self) -> None:
        """Back to the current step's summary."""
        if self.position is not None:
            self.position = None
            self._show()
            self.positionChanged.emit()

    def _cell_clicked(self, lid: str, cell: object) -> None:
        """A click on a canvas cell: the position of the current step it opens, if any."""
        if not self.active or self.trace is None or not isinstance(cell, tuple):
            return
        at = image_view.position_for_click(self.trace, self.step, lid, cell)
        if at is not None:
            self.open_position(at.row, at.col, at.channel)

    # ------------------------------------------------------------------ playing
    def play(self) -> None:
        if not self.activate() or not self.ensure_trace():
            return
        if self.index >= self.last:
            self.go_to(0)
        self._play.start(int(1000 / max(self.speed, 0.1)))
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if self._play.isActive():
            self._play.stop()
            self.playingChanged.emit(False)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, steps_per_second: float) -> None:
        self.speed = max(0.1, float(steps_per_second))
        if self._play.isActive():
            self._play.setInterval(int(1000 / self.speed))

    def _tick(self) -> None:
        if self.trace is None or self.index >= self.last or not self.active:
            self.pause()
            return
        self.go_to(self.index + 1)
        if self.index >= self.last:
            self.pause()

    # ------------------------------------------------------------------ the network
    def _wanted_params(self) -> dict[str, float]:
        tr = self.trace
        vals = tr.params_after(self.index)
        return {p: vals[p] for p in tr.engine.param_ids if tr.trainable[p]}

    def _my_top_command(self) -> QUndoCommand | None:
        stack = self.document.undo_stack
        i = stack.index()
        if self._key is None or i == 0 or i != stack.count():
            return None
        cmd = stack.command(i - 1)
        return cmd if getattr(cmd, "mergeable", None) == self._key else None

    def _apply_params(self) -> None:
        """Make the network hold what the completed update steps leave, as one undo step per
        session (consecutive writes merge)."""
        tr = self.trace
        if tr is None or not self.active:
            return
        want = self._wanted_params()
        net = self.document.network
        try:
            current = {p: net.get_param(p) for p in want}
        except ValueError:
            return
        if current == want:
            return
        # the network's change notice comes back to _on_network, which finds the network as
        # the walkthrough shows it and keeps the walkthrough
        top = self._my_top_command()
        if top is not None and dict(top.old) == want:
            self.document.undo_stack.undo()        # back where the session started
        else:
            self.document.set_params(want, text=UNDO_TEXT, merge=self._key)

    def _restore_iteration_start(self) -> None:
        """Before tracing something else: undo the update steps of an unfinished walkthrough
        so the network is what the new walkthrough starts from (unchanged otherwise)."""
        if self.active and self.trace is not None and self.index >= 0:
            k = self.index
            self.index = -1
            self._apply_params()
            self.index = k

    # ------------------------------------------------------------------ model changes
    def _signature(self) -> tuple:
        """What a walkthrough depends on besides parameter values (positions excluded)."""
        net = self.document.network
        return (id(net), net.structure_version,
                tuple((n.id, n.role, n.label, n.activation, n.slope) for n in net.neurons.values()))

    def _parameters_as_walked(self) -> bool:
        """While the mode is on: does every parameter hold the value (and the lock) that the
        walkthrough shows after the current step? True after the player's own update writes;
        False after any other parameter edit, or one that undoes the player's."""
        tr = self.trace
        if not self.active or tr is None or self._stale:
            return False
        net = self.document.network
        pids = tr.engine.param_ids
        try:
            slots = [net.param_slot(p) for p in pids]
        except ValueError:
            return False
        want = tr.param_vector(tr.params_after(self.index))
        locks = np.array([tr.trainable[p] for p in pids], dtype=bool)
        return bool(np.array_equal(net.store.values[slots], want)
                    and np.array_equal(net.store.trainable[slots], locks))

    def _on_network(self, event: NetworkEvent, ids: tuple) -> None:
        if event is NetworkEvent.NEURON_MOVED and self._sig is not None:
            return          # neurons moved on the canvas: the walkthrough still holds
        if event is NetworkEvent.PARAMS_CHANGED and self._parameters_as_walked():
            return          # the player's own update steps: the walkthrough still holds
        self._on_model_changed()

    def _on_model_changed(self, *args: object) -> None:
        if self.training:
            self._stale = True
            self._check_training()
            return
        self._stale = True
        if self.active:
            self._rebuild_timer.start(0)
        elif self.wants_preview:
            # only a preview: coalesce bursts of edits (Step, Step Epoch, dragging a slider)
            # into one rebuild once they stop; a hidden panel rebuilds when it is shown
            self._rebuild_timer.start(PREVIEW_DELAY_MS)

    def _external_rebuild(self) -> None:
        if not self._stale or self.training:
            return
        if not self.active:
            if self.wants_preview:   # keep the panel's step list current
                self.rebuild()
                self.stepChanged.emit(self.index)
            return
        self.pause()
        self.rebuild()
        self._show()
        self.stepChanged.emit(self.index)
        self.message.emit("The network or its data changed: the walkthrough starts again.")

    def _on_project_replaced(self) -> None:
        self.deactivate()
        self.sample = None
        self.trace = None
        self._stale = True
        self.traceChanged.emit()

    def _check_training(self) -> None:
        t = self.training
        if t and self.active:
            self.deactivate()
            self.message.emit("Training started: the backprop player stopped.")
        if t != self._training:
            self._training = t
            self.trainingChanged.emit(t)
            if not t and self._stale and self.wants_preview:
                self._rebuild_timer.start(PREVIEW_DELAY_MS)

    # ------------------------------------------------------------------ the canvas
    def overlay(self) -> Overlay | None:
        """The Overlay for the current step (None when the mode is off)."""
        if not self.active or self.trace is None:
            return None
        Overlay = _overlay_class()
        st = self.trace.state_at(self.index)
        step = st.step
        image = image_view.highlight(self.trace, step, self.position)
        return Overlay(
            neurons=set(step.neurons) if step else set(),
            connections=set(step.connections) if step else set(),
            neuron_text=st.neuron_text(),
            connection_text=st.connection_text(),
            arrows=st.arrows() if step is not None and step.phase == "backward" else {},
            layers=set(image.layers), layer_cells=image.cells, layer_text=image.text,
            layer_values=image_view.forward_maps(self.trace, st),
        )

    def _show(self) -> None:
        if self.scene is None:
            return
        step = self.step if self.active else None
        if step is not None and step.layer is not None and self.trace is not None:
            # the cards draw the chosen sample; an image step's grids and positions are the
            # first traced sample's, so that is the one the canvas shows
            first = self.trace.sample if self.trace.sample is not None else 0
            if self.document.sample_index != first:
                self.document.set_sample(first)
        self.scene.set_overlay(self.overlay() if self.active else None)

"""Training in the main window: the Train menu and toolbar actions, the settings bar, the
status-bar progress, and a clean stop when the window closes.

The actions are named with the words the lessons use ("press **Train**"): Train (Pause while
it runs), Step, Step Epoch and Reset, with their text beside the icon on the toolbar. The
actions' toolbar shares the first row with the main toolbar; the settings bar has the second
row to itself, so that it fits a 1024-pixel window without an overflow menu.

``install(window)`` is the one entry point; it returns the :class:`TrainingUI` that holds all
of it and sets nothing on the window (the window keeps the object, and installs the plot and
dataset docks itself).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QMainWindow, QStyle, QToolBar

from nnstudio.gui.actions import make_action

from .controller import TrainingController
from .toolbar import TrainingSettingsBar, TrainingStatus


class _CloseWatcher(QObject):
    """Stops the worker when the main window is about to close."""

    def __init__(self, controller: TrainingController, parent: QObject) -> None:
        super().__init__(parent)
        self.controller = controller

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Close:
            self.controller.shutdown()
        return False


class TrainingUI(QObject):
    """What ``install`` creates: the controller, the Train actions (``actions``: play, step,
    epoch, reset) in the Train menu and the training toolbar, the settings bar on its own
    toolbar (``settings_toolbar``, the second row) and the status-bar progress. ``window`` is
    NN Studio's main window (it uses its ``document``, ``menu()``, toolbars and status
    bar)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        doc = window.document
        ctl = self.controller = TrainingController(doc, window)
        st = window.style()
        a_play = make_action(window, "&Train", "Train in the background until the target "
                             "epochs; press again to pause", ctl.toggle, shortcut="F5")
        a_play.setIcon(st.standardIcon(QStyle.SP_MediaPlay))
        a_step = make_action(window, "Step", "Train one batch (one optimizer step)", ctl.step,
                             shortcut="F10")
        a_step.setIcon(st.standardIcon(QStyle.SP_MediaSeekForward))
        a_epoch = make_action(window, "Step Epoch", "Train one whole epoch", ctl.step_epoch,
                              shortcut="Shift+F10")
        a_epoch.setIcon(st.standardIcon(QStyle.SP_MediaSkipForward))
        a_reset = make_action(window, "Reset", "Re-initialise every weight and bias with the "
                              "seed and clear the training history (undoable)", ctl.reset,
                              shortcut="Ctrl+Shift+R")
        # (back to the start: unlike Randomize's die, Reset returns to the seed's values)
        a_reset.setIcon(st.standardIcon(QStyle.SP_MediaSkipBackward))
        self.actions = {"play": a_play, "step": a_step, "epoch": a_epoch, "reset": a_reset}
        for name, a in (("Play", a_play), ("Step", a_step), ("StepEpoch", a_epoch),
                        ("Reset", a_reset)):
            a.setObjectName("train" + name)

        def on_running(running: bool) -> None:
            a_play.setText("&Pause" if running else "&Train")
            a_play.setIcon(st.standardIcon(QStyle.SP_MediaPause if running
                                           else QStyle.SP_MediaPlay))
            tip = ("Pause training (the run becomes one undo step)" if running
                   else "Train in the background until the target epochs")
            a_play.setToolTip(f"{tip} (F5)")
        ctl.runningChanged.connect(on_running)

        menu = window.menu("Train")
        for a in (a_play, a_step, a_epoch):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(a_reset)

        bar = self.toolbar = QToolBar("Training", window)
        bar.setObjectName("trainingToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in (a_play, a_step, a_epoch, a_reset):
            bar.addAction(a)
        window.addToolBar(Qt.TopToolBarArea, bar)
        settings = self.settings_toolbar = QToolBar("Training settings", window)
        settings.setObjectName("trainingSettingsToolbar")
        self.settings_bar = TrainingSettingsBar(doc, settings)
        for chunk in self.settings_bar.chunks:   # one by one: a narrow window overflows
            settings.addWidget(chunk)
        window.addToolBarBreak(Qt.TopToolBarArea)
        window.addToolBar(Qt.TopToolBarArea, settings)

        self.status = TrainingStatus(ctl)
        window.statusBar().addPermanentWidget(self.status)

        self.close_watcher = _CloseWatcher(ctl, window)
        window.installEventFilter(self.close_watcher)


def install(window: QMainWindow) -> TrainingUI:
    """Add training to the main window (see :class:`TrainingUI`) and return what it added."""
    return TrainingUI(window)

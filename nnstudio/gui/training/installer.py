"""Training in the main window: the Train menu and toolbar actions, the settings bar, the
status-bar progress, the plot docks and the dataset dock, and a clean stop when the window
closes. ``install(window)`` is the one entry point.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

from .controller import TrainingController
from .toolbar import TrainingSettingsBar, TrainingStatus


class _CloseWatcher(QObject):
    """Stops the worker when the main window is about to close."""

    def __init__(self, controller: TrainingController, parent: QObject):
        super().__init__(parent)
        self.controller = controller

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Close:
            self.controller.shutdown()
        return False


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

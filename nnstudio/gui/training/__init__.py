"""Live training: the core :class:`~nnstudio.core.trainer.Trainer` in a worker thread, with
throttled, latest-wins delivery of snapshots to the GUI.

* :mod:`.history` — the training history the plot panes draw (no Qt);
* :mod:`.worker` — the worker thread, its mailbox (latest wins) and the turns it takes with the
  GUI thread;
* :mod:`.controller` — Play/Pause, Step, Step Epoch and Reset; applies snapshots to the
  document and records a run as one undo step;
* :mod:`.toolbar` — the settings bar and the status-bar progress;
* :mod:`.installer` — ``install(window)``: menus, toolbar, status and docks in the main window.
"""

from .controller import POLL_MS, TrainingController
from .history import Record, TrainingHistory
from .installer import TrainingUI, install
from .toolbar import TrainingSettingsBar, TrainingStatus
from .worker import Mailbox, TrainWorker, Turns, running_workers

__all__ = ["POLL_MS", "Mailbox", "Record", "TrainWorker", "TrainingController",
           "TrainingHistory", "TrainingSettingsBar", "TrainingStatus", "TrainingUI", "Turns",
           "install", "running_workers"]

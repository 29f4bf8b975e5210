"""The plot panes (pyqtgraph), one module each; every pane is its own dock.

``PANES`` maps a stable dock name to (pane class, default dock area)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from .activation import ActivationPane
from .gradients import GradientsPane
from .history import ParamHistoryPane
from .landscape import LandscapePane
from .loss import LossPane
from .output import OutputPane

PANES = {
    "output": (OutputPane, Qt.RightDockWidgetArea),
    "loss": (LossPane, Qt.RightDockWidgetArea),
    "gradients": (GradientsPane, Qt.RightDockWidgetArea),
    "params": (ParamHistoryPane, Qt.RightDockWidgetArea),
    "activation": (ActivationPane, Qt.BottomDockWidgetArea),
    "landscape": (LandscapePane, Qt.BottomDockWidgetArea),
}

__all__ = ["PANES", "ActivationPane", "GradientsPane", "ParamHistoryPane", "LandscapePane",
           "LossPane", "OutputPane"]

"""The step-through backprop player: a dock (and a canvas mode) that walks through one training
iteration of the current document, one operation at a time, with the real numbers.

- :mod:`.player`: :class:`BackpropPlayer`, the logic (the walkthrough, the current step, the
  mode, the network kept equal to what the completed update steps leave, one undo step);
- :mod:`.panel`: :class:`BackpropPanel`, the dock's widget;
- :mod:`.image_view`: an image layer's step on the canvas (the sliding window, the pooling
  winners, the filter's weights) and its drill-down to one position;
- :mod:`.keys`: → ← Space on the panel and on the canvas;
- :mod:`.installer`: :func:`install` adds the dock, menu, actions and keys to the main window
  and returns the :class:`BackpropUI` that holds them; also the walkthrough export.
"""

from nnstudio.gui.backprop.installer import (
    BackpropUI,
    export_walkthrough,
    install,
    walkthrough_markdown,
)
from nnstudio.gui.backprop.keys import install_shortcuts
from nnstudio.gui.backprop.panel import BackpropPanel
from nnstudio.gui.backprop.player import PREVIEW_DELAY_MS, UNDO_TEXT, BackpropPlayer

__all__ = ["PREVIEW_DELAY_MS", "UNDO_TEXT", "BackpropPanel", "BackpropPlayer", "BackpropUI",
           "export_walkthrough", "install", "install_shortcuts", "walkthrough_markdown"]

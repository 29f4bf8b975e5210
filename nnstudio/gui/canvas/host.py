"""What the canvas's items may read from the scene they are drawn in.

The neuron items, the neuron dots, the connection layer and the overlay item paint from state
the scene keeps: the document, the paint switches and one array per neuron (index = the
neuron's place in the network's order). :class:`ItemHost` names that state; the scene
(:class:`~.scene.CanvasScene`) provides it, the items only read it. The items know the scene by
this protocol, not by its class, so the scene can build them without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:  # pragma: no cover  (typing only; these modules never import this one back)
    from PySide6.QtCore import QLineF, QRectF
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QGraphicsItem


class ItemHost(Protocol):
    """The scene as its items see it (read only)."""

    NEURON_RADIUS: float
    document: Any          # the Document: its network, selection and evaluation
    exporting: bool        # painting into a PNG or SVG file: full detail, no hover or selection
    show_values: bool      # write activations in the neurons and weights on the connections

    @property
    def positions(self) -> np.ndarray:
        """(n, 2) neuron centres."""

    @property
    def neuron_values(self) -> np.ndarray:
        """The activation shown per neuron (chosen sample); NaN where there is none."""

    @property
    def colour_indices(self) -> np.ndarray:
        """Per neuron, its fill's index into ``style.DIVERGING_QCOLORS``; -1 for neutral."""

    @property
    def dot_shades(self) -> np.ndarray:
        """Per neuron, its shade bucket when drawn as a dot (0 .. DOT_SHADES-1); -1: none."""

    @property
    def neuron_index(self) -> dict[str, int]:
        """Neuron id -> its index into the arrays above."""

    def neuron_item(self, nid: str) -> QGraphicsItem | None: ...

    def layer_item(self, lid: str) -> Any: ...   # the LayerItem of an image layer, or None

    def picture(self, nid: str) -> tuple[QPixmap, QRectF] | None:
        """The neuron's boundary picture (its activation over the input plane) as (pixmap,
        source square), or None."""

    def connection_line(self, cid: str) -> QLineF | None: ...

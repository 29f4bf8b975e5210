"""The boundary picture in every neuron (TensorFlow Playground's thumbnails), live while
training.

:class:`NeuronPictures` keeps one 40 x 40 image per neuron for two-input data: each neuron's
activation over the input plane, coloured on the canvas's diverging map (orange low, blue
high, white at the neuron's threshold). All of them come from one vectorised forward pass over
the grid (:func:`nnstudio.core.neuron_maps.neuron_maps`) and one table look-up for the colours.

Rules: it only reads the document (its engine, network and dataset) and recomputes when the
evaluation changes (values, structure or data), at most every :data:`MIN_GAP_MS` ms: while
training runs, with every snapshot the window applies (about 12 a second), in the same
event-loop turn as the canvas's recolouring, so both cost one repaint. A network or data it
cannot draw for (not two input columns, images, more than :data:`MAX_NEURONS` neurons) simply
has no pictures. The pictures are pixmaps already shaped like the neuron's body (the shape in
the alpha channel, the colours one table look-up of 32-bit words), so a neuron item paints its
picture with one ``drawPixmap`` (``ItemHost.picture``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QRectF, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from nnstudio.core.engine import EngineError
from nnstudio.core.network import FEATURE_ROLE, NetworkError
from nnstudio.core.neuron_maps import (
    THUMB_GRID,
    activation_levels,
    neuron_maps,
    plane_bounds,
    shade_indices,
    threshold,
)
from nnstudio.gui import style

if TYPE_CHECKING:  # pragma: no cover
    from nnstudio.gui.document import Document

MIN_GAP_MS = 50       # at most this often; so every training snapshot (about 12 a second)
MAX_NEURONS = 400     # beyond this, no pictures (the canvas then favours speed)
#: the canvas's diverging colours as 0x00RRGGBB words
_LUT32 = ((style.DIVERGING_LUT[:, 0].astype(np.uint32) << 16)
          | (style.DIVERGING_LUT[:, 1].astype(np.uint32) << 8)
          | style.DIVERGING_LUT[:, 2].astype(np.uint32))


def _masks(n: int) -> dict[str, np.ndarray]:
    """Per body shape, the (n, n) coverage of a picture's pixels (anti-aliased edge): a disc
    for hidden and output neurons, a rounded square for inputs (as the items draw them)."""
    c = (np.arange(n) + 0.5) - n / 2
    dx, dy = np.meshgrid(np.abs(c), np.abs(c))
    r = n / 2
    disc = np.clip(r - np.hypot(dx, dy) + 0.5, 0.0, 1.0)
    k = 8.0 / 22.0 * r      # the items' corner radius, to scale
    qx, qy = np.maximum(dx - (r - k), 0.0), np.maximum(dy - (r - k), 0.0)
    square = np.clip(k - np.hypot(qx, qy) + 0.5, 0.0, 1.0)
    return {"disc": disc, "square": square}


class NeuronPictures(QObject):
    """The pictures of one document's neurons, side by side in one pixmap (``sheet``;
    ``sources``: neuron id -> its square in the sheet; ``picture(nid)`` both, ``image(nid)``
    a copy), each already shaped like the neuron's body; ``enabled`` (the View menu's switch),
    ``refreshes`` (how many times they were recomputed) and ``last_seconds`` (what the last
    recompute took); ``changed`` is emitted after the pictures change (the scene repaints)."""

    changed = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.sheet = QPixmap()
        self.sources: dict[str, QRectF] = {}
        self.enabled = True
        self.refreshes = 0
        self.last_seconds = 0.0
        self._last = -1.0
        self._bounds_key: tuple[int, int] | None = None
        self._bounds = None
        self._alpha = {shape: np.rint(m * 255).astype(np.uint32) << 24
                       for shape, m in _masks(THUMB_GRID).items()}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        # (every change of values, structure or data re-evaluates: one signal covers them)
        document.evaluationChanged.connect(self.soon)
        self._timer.start(0)

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        if self.enabled:
            self.refresh()
        elif self.sources:
            self.sheet, self.sources = QPixmap(), {}
            self.changed.emit()

    def soon(self) -> None:
        """Recompute now, in the same event-loop turn as the canvas's recolouring (one repaint
        for both), unless the last recompute was under :data:`MIN_GAP_MS` ago: then once that
        much time has passed."""
        if not self.enabled or self._timer.isActive():
            return
        wait = MIN_GAP_MS - (time.perf_counter() - self._last) * 1000.0
        if wait <= 0:
            self.refresh()
        else:
            self._timer.start(int(wait) + 1)

    def refresh(self) -> None:
        """Recompute every picture now (or drop them when there is nothing to draw)."""
        t0 = time.perf_counter()
        sheet, sources = self._compute() if self.enabled else (QPixmap(), {})
        self._last = time.perf_counter()
        self.last_seconds = self._last - t0
        if sources or self.sources:
            self.sheet, self.sources = sheet, sources
            self.refreshes += 1
            self.changed.emit()

    def picture(self, nid: str) -> tuple[QPixmap, QRectF] | None:
        """(the sheet, neuron ``nid``'s square in it), or None: what a neuron item paints."""
        src = self.sources.get(nid)
        return None if src is None else (self.sheet, src)

    def image(self, nid: str) -> QImage | None:
        """A copy of neuron ``nid``'s picture (for checks and exports), or None."""
        src = self.sources.get(nid)
        return None if src is None else self.sheet.copy(src.toRect()).toImage()

    def _compute(self) -> tuple[QPixmap, dict[str, QRectF]]:
        doc = self.document
        ds = doc.dataset
        net = doc.network
        if ds is None or len(ds) == 0 or len(net.neurons) > MAX_NEURONS or ds.images:
            return QPixmap(), {}
        try:
            eng = doc.engine()
            if eng.n_input_columns != 2 or eng.image_columns or ds.n_inputs != 2:
                return QPixmap(), {}
            key = (id(ds), len(ds))
            if key != self._bounds_key:
                self._bounds, self._bounds_key = plane_bounds(ds.X), key
            ids = [nid for nid in eng.neuron_ids if net.neurons[nid].role != FEATURE_ROLE]
            maps = neuron_maps(eng, self._bounds, THUMB_GRID, ids)
        except (NetworkError, EngineError, ValueError, FloatingPointError):
            return QPixmap(), {}
        classes = ds.class_names is not None
        roles = [net.neurons[nid].role for nid in ids]
        levels = [activation_levels(net.neurons[nid].activation, threshold(role, classes),
                                    maps.values[k])
                  for k, (nid, role) in enumerate(zip(ids, roles, strict=True))]
        idx = shade_indices(maps, levels, len(_LUT32))
        # ARGB words (Format_ARGB32, in the machine's byte order): the colour from the table,
        # the body's shape in the alpha channel, so painting is one drawPixmap, no clip path
        alpha = np.stack([self._alpha["square" if r == "input" else "disc"] for r in roles])
        n, k = THUMB_GRID, len(ids)
        # one sheet, the pictures side by side: one image and one pixmap for all of them
        words = np.ascontiguousarray((_LUT32[idx] | alpha).transpose(1, 0, 2).reshape(n, k * n))
        buf = words.tobytes()   # (copied below: a pixmap may share its image's pixels)
        sheet = QPixmap.fromImage(
            QImage(buf, k * n, n, 4 * k * n, QImage.Format.Format_ARGB32).copy())
        return sheet, {nid: QRectF(j * n, 0, n, n) for j, nid in enumerate(ids)}

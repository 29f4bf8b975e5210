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
the alpha channel), so a neuron item paints its picture with one ``drawPixmap``
(``ItemHost.picture``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
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
    """The pictures of one document's neurons: ``images`` (neuron id -> QPixmap, already
    shaped like the neuron's body), ``enabled`` (the View menu's switch), ``refreshes`` (how
    many times they were recomputed) and ``last_seconds`` (what the last recompute took);
    ``changed`` is emitted after the images change (the scene repaints)."""

    changed = Signal()

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.images: dict[str, QPixmap] = {}
        self.enabled = True
        self.refreshes = 0
        self.last_seconds = 0.0
        self._last = -1.0
        self._bounds_key: tuple[int, int] | None = None
        self._bounds = None
        self._masks = _masks(THUMB_GRID)
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
        elif self.images:
            self.images = {}
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
        images = self._compute() if self.enabled else {}
        self._last = time.perf_counter()
        self.last_seconds = self._last - t0
        if images or self.images:
            self.images = images
            self.refreshes += 1
            self.changed.emit()

    def _compute(self) -> dict[str, QPixmap]:
        doc = self.document
        ds = doc.dataset
        net = doc.network
        if ds is None or len(ds) == 0 or len(net.neurons) > MAX_NEURONS or ds.images:
            return {}
        try:
            eng = doc.engine()
            if eng.n_input_columns != 2 or eng.image_columns or ds.n_inputs != 2:
                return {}
            key = (id(ds), len(ds))
            if key != self._bounds_key:
                self._bounds, self._bounds_key = plane_bounds(ds.X), key
            ids = [nid for nid in eng.neuron_ids if net.neurons[nid].role != FEATURE_ROLE]
            maps = neuron_maps(eng, self._bounds, THUMB_GRID, ids)
        except (NetworkError, EngineError, ValueError, FloatingPointError):
            return {}
        classes = ds.class_names is not None
        roles = [net.neurons[nid].role for nid in ids]
        levels = [activation_levels(net.neurons[nid].activation, threshold(role, classes),
                                    maps.values[k])
                  for k, (nid, role) in enumerate(zip(ids, roles, strict=True))]
        rgb = style.DIVERGING_LUT[shade_indices(maps, levels, len(style.DIVERGING_LUT))]
        # premultiplied ARGB words (Format_ARGB32_Premultiplied, in the machine's byte order),
        # the body's shape in the alpha channel: painting is one drawPixmap, no clip path
        alpha = np.stack([self._masks["square" if r == "input" else "disc"] for r in roles])
        n = THUMB_GRID
        pre = np.rint(rgb * alpha[..., None]).astype(np.uint32)
        words = (np.rint(alpha * 255).astype(np.uint32) << 24) | (pre[..., 0] << 16) \
            | (pre[..., 1] << 8) | pre[..., 2]
        argb = np.ascontiguousarray(words, dtype=np.uint32)
        images = {}
        for k, nid in enumerate(ids):
            buf = argb[k].tobytes()   # (copied below: a pixmap may share its image's pixels)
            img = QImage(buf, n, n, 4 * n, QImage.Format.Format_ARGB32_Premultiplied)
            images[nid] = QPixmap.fromImage(img.copy())
        return images

"""One item that draws every connection of the network.

A scene with 100,000 connections cannot afford 100,000 QGraphicsItems, so this single item keeps
NumPy arrays (source/target index, parameter slot, endpoints) and draws them with one
``QPainter.drawLines`` call per (strength level, sign, locked) bucket, straight from a contiguous
float64 buffer (no Python QLineF objects). Weights are read vectorised from
``net.store.values[slots]`` whenever ``net.param_version`` moved, so training can repaint 30
times a second without a Python loop over connections.

Encoding: colour = sign (style.POSITIVE / style.NEGATIVE, a colour-blind-safe pair); width and
colour strength grow with |w| (``style.weight_strength``); locked (non-trainable) weights are
dashed; weaker connections are drawn first so strong ones sit on top.

Level of detail: lines outside the exposed rectangle are culled; when zoomed out so far that the
visible lines would cover more than ``PIXEL_BUDGET`` device pixels of length, the strongest ones
that fit are drawn (``shown_fraction`` says how many; the view prints a note), antialiasing is
switched off past ``AA_LIMIT`` lines, and arrowheads and value labels appear only when zoomed in.

Hit-testing (hover, click, tooltips) is a vectorised point-to-segment distance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem
from shiboken6 import wrapInstance

from nnstudio.gui import style

if TYPE_CHECKING:  # pragma: no cover
    from .scene import CanvasScene

LEVELS = 8                 # width/colour strength levels
MIN_WIDTH = 0.8            # scene units, |w| ~ 0
MAX_WIDTH = 6.5            # scene units, |w| large
PIXEL_BUDGET = 600_000     # device pixels of line length drawn per paint at most
AA_LIMIT = 2_500           # antialias only when at most this many lines are drawn
ARROW_LIMIT = 1_500
LABEL_LIMIT = 400
LABEL_MIN_LOD = 0.6
ARROW_MIN_LOD = 0.45


def _draw_lines(painter: QPainter, buf: np.ndarray, start: int, count: int) -> None:
    """drawLines straight from rows [start, start+count) of a C-contiguous (n, 4) float64
    array: QLineF is four doubles, so the buffer is an array of QLineF."""
    if count <= 0:
        return
    ptr = wrapInstance(buf.ctypes.data + start * 32, QLineF)
    painter.drawLines(ptr, count)


class ConnectionLayer(QGraphicsItem):
    def __init__(self, scene: "CanvasScene"):
        super().__init__()
        self._scene = scene
        self.setZValue(-10)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.src = np.zeros(0, np.intp)
        self.tgt = np.zeros(0, np.intp)
        self.slots = np.zeros(0, np.intp)
        self.lines = np.zeros((0, 4))          # endpoints in connection order
        self.selected = np.zeros(0, bool)
        self.hover: int | None = None
        self.show_values = False
        self.shown_fraction = 1.0              # of the visible lines, the share drawn last paint
        self.visible_count = 0
        self.paint_count = 0                   # for tests and benchmarks
        self._rect = QRectF()
        self._geom_version = 0
        self._cache_key = None
        self._order = np.zeros(0, np.intp)
        self._keys_sorted = np.zeros(0, np.intp)
        self._sorted = np.zeros((0, 4))
        self._pens: dict[tuple, QPen] = {}
        self._label_font = style.ui_font(7.5)
        self._label_cache = None

    # ------------------------------------------------------------------ data
    def set_structure(self, ids: list[str], src: np.ndarray, tgt: np.ndarray,
                      slots: np.ndarray, positions: np.ndarray, radii: np.ndarray) -> None:
        self.ids = list(ids)
        self.index = {cid: i for i, cid in enumerate(self.ids)}
        self.src = np.asarray(src, np.intp)
        self.tgt = np.asarray(tgt, np.intp)
        self.slots = np.asarray(slots, np.intp)
        old_sel = self.selected
        self.selected = np.zeros(len(self.ids), bool)
        del old_sel
        self.hover = None
        self.set_positions(positions, radii)

    def set_positions(self, positions: np.ndarray, radii: np.ndarray) -> None:
        """Recompute every endpoint (vectorised) and the bounding rectangle."""
        m = len(self.ids)
        if m:
            S = positions[self.src]
            T = positions[self.tgt]
            d = T - S
            L = np.hypot(d[:, 0], d[:, 1])
            u = d / np.maximum(L, 1e-9)[:, None]
            rs = radii[self.src][:, None]
            rt = radii[self.tgt][:, None] + 2.0
            far = (L > (rs[:, 0] + rt[:, 0] + 2.0))[:, None]
            a = np.where(far, S + u * rs, S)
            b = np.where(far, T - u * rt, T)
            self.lines = np.ascontiguousarray(np.concatenate([a, b], axis=1))
            lo = np.minimum(self.lines[:, :2], self.lines[:, 2:]).min(axis=0)
            hi = np.maximum(self.lines[:, :2], self.lines[:, 2:]).max(axis=0)
            rect = QRectF(QPointF(lo[0], lo[1]), QPointF(hi[0], hi[1])).adjusted(-20, -20, 20, 20)
        else:
            self.lines = np.zeros((0, 4))
            rect = QRectF()
        self._geom_version += 1
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def set_selected(self, cids) -> None:
        sel = np.zeros(len(self.ids), bool)
        idx = [self.index[c] for c in cids if c in self.index]
        if idx:
            sel[idx] = True
        if not np.array_equal(sel, self.selected):
            self.selected = sel
            self.update()

    def selected_ids(self) -> list[str]:
        return [self.ids[i] for i in np.flatnonzero(self.selected)]

    def set_hover(self, cid: str | None) -> None:
        i = self.index.get(cid) if cid is not None else None
        if i != self.hover:
            self.hover = i
            self.update()

    def line(self, cid: str) -> QLineF | None:
        i = self.index.get(cid)
        if i is None:
            return None
        return QLineF(*self.lines[i].tolist())

    def weights(self) -> np.ndarray:
        return self._scene.document.network.store.values[self.slots]

    # ------------------------------------------------------------------ queries
    def hit_test(self, point: QPointF, tolerance: float) -> str | None:
        """The connection nearest to ``point`` within ``tolerance`` (+ half its drawn width),
        by a vectorised point-to-segment distance; None if there is none."""
        if not len(self.ids):
            return None
        px, py = point.x(), point.y()
        L = self.lines
        ax, ay, bx, by = L[:, 0], L[:, 1], L[:, 2], L[:, 3]
        # cheap bounding-box prefilter, then exact distances on the candidates
        reach = tolerance + MAX_WIDTH / 2
        cand = np.flatnonzero(
            (np.minimum(ax, bx) - reach <= px) & (np.maximum(ax, bx) + reach >= px)
            & (np.minimum(ay, by) - reach <= py) & (np.maximum(ay, by) + reach >= py))
        if not cand.size:
            return None
        dist = distance_to_segments((px, py), L[cand])
        half = self._widths(np.abs(self.weights()[cand])) / 2
        covering = np.flatnonzero(dist <= tolerance + half)
        if covering.size:
            k = int(covering[np.argmin(dist[covering])])
            return self.ids[int(cand[k])]
        return None

    def ids_in_rect(self, rect: QRectF) -> list[str]:
        """Connections with both endpoints inside ``rect``."""
        if not len(self.ids):
            return []
        L = self.lines
        x0, y0, x1, y1 = rect.left(), rect.top(), rect.right(), rect.bottom()
        inside = ((L[:, 0] >= x0) & (L[:, 0] <= x1) & (L[:, 1] >= y0) & (L[:, 1] <= y1)
                  & (L[:, 2] >= x0) & (L[:, 2] <= x1) & (L[:, 3] >= y0) & (L[:, 3] <= y1))
        return [self.ids[i] for i in np.flatnonzero(inside)]

    @staticmethod
    def _levels(abs_w: np.ndarray) -> np.ndarray:
        u = style.weight_strength(abs_w)
        return np.minimum((u * LEVELS).astype(np.intp), LEVELS - 1)

    @staticmethod
    def level_width(level: int) -> float:
        return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * (level + 0.5) / LEVELS

    def _widths(self, abs_w: np.ndarray) -> np.ndarray:
        lv = self._levels(abs_w)
        return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * (lv + 0.5) / LEVELS

    # ------------------------------------------------------------------ buckets
    def _buckets(self) -> None:
        """Sort connections by bucket key = (level, sign, locked) when weights, trainable flags
        or geometry changed since the last paint (all vectorised)."""
        net = self._scene.document.network
        key = (net.param_version, self._geom_version, id(self.slots), len(self.ids))
        if key == self._cache_key:
            return
        self._cache_key = key
        store = net.store
        w = store.values[self.slots]
        locked = ~store.trainable[self.slots]
        keys = self._levels(np.abs(w)) * 4 + (w < 0) * 2 + locked
        self._order = np.argsort(keys, kind="stable")
        self._keys_sorted = keys[self._order]
        self._sorted = np.ascontiguousarray(self.lines[self._order])

    def _pen(self, key: int, lod: float, cosmetic: bool) -> QPen:
        k = (key, cosmetic, round(lod, 2) if cosmetic else 0)
        pen = self._pens.get(k)
        if pen is None:
            level, rest = divmod(key, 4)
            negative, locked = bool(rest & 2), bool(rest & 1)
            base = style.NEGATIVE if negative else style.POSITIVE
            u = (level + 0.5) / LEVELS
            color = style.blend(base, style.BACKGROUND, 0.28 + 0.72 * u)
            width = self.level_width(level)
            if cosmetic:
                pen = QPen(color, max(1.0, min(4.0, width * lod)))
                pen.setCosmetic(True)
            else:
                pen = QPen(color, width)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                if locked:
                    pen.setStyle(Qt.PenStyle.DashLine)
                    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            if len(self._pens) > 2000:
                self._pens.clear()
            self._pens[k] = pen
        return pen

    # ------------------------------------------------------------------ painting
    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        self.paint_count += 1
        m = len(self.ids)
        if not m:
            return
        self._buckets()
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        ex = option.exposedRect
        S = self._sorted
        x0, y0, x1, y1 = ex.left(), ex.top(), ex.right(), ex.bottom()
        pad = MAX_WIDTH
        vis = ~((np.maximum(S[:, 0], S[:, 2]) < x0 - pad) | (np.minimum(S[:, 0], S[:, 2]) > x1 + pad)
                | (np.maximum(S[:, 1], S[:, 3]) < y0 - pad) | (np.minimum(S[:, 1], S[:, 3]) > y1 + pad))
        idx = np.flatnonzero(vis)
        self.visible_count = int(idx.size)
        if idx.size == 0:
            self.shown_fraction = 1.0
            return
        # level of detail: keep the strongest lines (the sorted tail) within the pixel budget
        seg = S[idx]
        dev_len = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]) * lod
        total = float(dev_len.sum())
        exporting = self._scene.exporting
        if total > PIXEL_BUDGET and not exporting:
            cums = np.cumsum(dev_len[::-1])
            keep = int(np.searchsorted(cums, PIXEL_BUDGET))
            keep = max(keep, 1)
            idx = idx[-keep:]
            seg = S[idx]
        self.shown_fraction = idx.size / self.visible_count
        seg = np.ascontiguousarray(seg)
        keys = self._keys_sorted[idx]
        n = idx.size
        aa = n <= AA_LIMIT and lod >= 0.25
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, aa)
        cosmetic = lod < 0.35 or not aa
        ukeys, starts, counts = np.unique(keys, return_index=True, return_counts=True)
        for key, start, count in zip(ukeys.tolist(), starts.tolist(), counts.tolist()):
            painter.setPen(self._pen(key, lod, cosmetic))
            _draw_lines(painter, seg, start, count)
        if aa and n <= ARROW_LIMIT and lod >= ARROW_MIN_LOD:
            self._paint_arrowheads(painter, seg, keys, ukeys, starts, counts)
        # selection and hover highlights on top
        order = self._order
        sel_sorted = self.selected[order[idx]] if self.selected.any() and not exporting else None
        highlight = []
        if sel_sorted is not None and sel_sorted.any():
            highlight.append((np.flatnonzero(sel_sorted), style.SELECTION, 3.5))
        if self.hover is not None and not exporting:
            h = np.flatnonzero(order[idx] == self.hover)
            if h.size:
                highlight.append((h, style.HIGHLIGHT, 3.0))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, n <= 20 * AA_LIMIT)
        for rows, color, extra in highlight:
            sub = np.ascontiguousarray(seg[rows])
            for key_rows in _group(keys[rows]):
                key = int(keys[rows][key_rows[0]])
                level = key // 4
                w = self.level_width(level)
                halo = QPen(color, w + extra * 2 if not cosmetic else 3 + extra)
                halo.setCapStyle(Qt.PenCapStyle.RoundCap)
                halo.setCosmetic(cosmetic)
                painter.setPen(halo)
                part = np.ascontiguousarray(sub[key_rows])
                _draw_lines(painter, part, 0, len(part))
                painter.setPen(self._pen(key, lod, cosmetic))
                _draw_lines(painter, part, 0, len(part))
        if self.show_values and lod >= LABEL_MIN_LOD and n <= LABEL_LIMIT:
            self._paint_labels(painter, idx, seg)

    def _paint_arrowheads(self, painter, seg, keys, ukeys, starts, counts) -> None:
        d = seg[:, 2:] - seg[:, :2]
        L = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
        u = d / L
        nrm = np.stack([-u[:, 1], u[:, 0]], axis=1)
        tip = seg[:, 2:]
        size = np.minimum(9.0, L[:, 0] * 0.3)[:, None]
        back = tip - u * size
        w1 = back + nrm * size * 0.45
        w2 = back - nrm * size * 0.45
        heads = np.empty((len(seg) * 2, 4))
        heads[0::2, :2] = tip
        heads[0::2, 2:] = w1
        heads[1::2, :2] = tip
        heads[1::2, 2:] = w2
        heads = np.ascontiguousarray(heads)
        for key, start, count in zip(ukeys.tolist(), starts.tolist(), counts.tolist()):
            level, rest = divmod(key, 4)
            base = style.NEGATIVE if rest & 2 else style.POSITIVE
            u_ = (level + 0.5) / LEVELS
            pen = QPen(style.blend(base, style.BACKGROUND, 0.28 + 0.72 * u_),
                       min(2.2, self.level_width(level)))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            _draw_lines(painter, heads, start * 2, count * 2)

    def _label_positions(self, conn_idx: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Where each value label goes (scene coords): along its line, at the first of a few
        candidate spots that does not overlap a label already placed (stronger lines first).
        Cached until the geometry or the set of labelled connections changes."""
        key = (self._geom_version, conn_idx.tobytes())
        if self._label_cache is not None and self._label_cache[0] == key:
            return self._label_cache[1]
        fm = QFontMetricsF(self._label_font)
        lw, lh = fm.horizontalAdvance("-0.000") + 6, fm.height() + 1
        cell: dict[tuple[int, int], list[tuple[float, float]]] = {}
        out = np.empty((len(seg), 2))
        strength = np.abs(self.weights()[conn_idx])
        for k in np.argsort(-strength, kind="stable").tolist():
            x0, y0, x1, y1 = seg[k].tolist()
            chosen = None
            for t in (0.5, 0.33, 0.67, 0.22, 0.78, 0.42, 0.58):
                mx, my = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
                cx, cy = int(mx // lw), int(my // lh)
                clash = False
                for gx in (cx - 1, cx, cx + 1):
                    for gy in (cy - 1, cy, cy + 1):
                        for ox, oy in cell.get((gx, gy), ()):
                            if abs(ox - mx) < lw and abs(oy - my) < lh:
                                clash = True
                                break
                        if clash:
                            break
                    if clash:
                        break
                if not clash:
                    chosen = (mx, my)
                    break
            if chosen is None:
                chosen = (x0 + (x1 - x0) * 0.5, y0 + (y1 - y0) * 0.5)
            out[k] = chosen
            cell.setdefault((int(chosen[0] // lw), int(chosen[1] // lh)), []).append(chosen)
        self._label_cache = (key, out)
        return out

    def _paint_labels(self, painter: QPainter, idx: np.ndarray, seg: np.ndarray) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(self._label_font)
        fm = QFontMetricsF(self._label_font)
        conn_idx = self._order[idx]
        w = self._scene.document.network.store.values[self.slots[conn_idx]]
        mid = self._label_positions(conn_idx, seg)
        bg = QColor(style.BACKGROUND)
        bg.setAlpha(235)
        th = fm.height() + 1
        for (mx, my), v in zip(mid.tolist(), w.tolist()):
            text = style.format_value(v)
            tw = fm.horizontalAdvance(text) + 6
            r = QRectF(mx - tw / 2, my - th / 2, tw, th)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(bg))
            painter.drawRoundedRect(r, 3, 3)
            painter.setPen(style.NEGATIVE.darker(135) if v < 0 else style.POSITIVE.darker(115))
            painter.drawText(r, int(Qt.AlignmentFlag.AlignCenter), text)


def _group(keys: np.ndarray) -> list[np.ndarray]:
    """Row indices grouped by equal key."""
    if not keys.size:
        return []
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    cuts = np.flatnonzero(np.diff(ks)) + 1
    return np.split(order, cuts)


def distance_to_segments(point, lines: np.ndarray) -> np.ndarray:
    """Distance from ``point`` (x, y) to each segment row (x0, y0, x1, y1); vectorised."""
    px, py = float(point[0]), float(point[1])
    ax, ay, bx, by = lines[:, 0], lines[:, 1], lines[:, 2], lines[:, 3]
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / np.maximum(len2, 1e-12), 0.0, 1.0)
    return np.hypot(ax + t * dx - px, ay + t * dy - py)

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

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget
from shiboken6 import wrapInstance

from nnstudio.gui import style

from .host import ItemHost

LEVELS = 8                 # width/colour strength levels
MIN_WIDTH = 0.8            # scene units, |w| ~ 0
MAX_WIDTH = 6.5            # scene units, |w| large
PIXEL_BUDGET = 160_000     # device pixels of line length drawn per paint at most
AA_LIMIT = 2_500           # antialias only when at most this many lines are drawn
AA_PIXEL_BUDGET = 120_000  # ... and they cover at most this many device pixels of length
ARROW_LIMIT = 1_500
LABEL_LIMIT = 400
HIGHLIGHT_LIMIT = 1_500
LABEL_MIN_LOD = 0.6
ARROW_MIN_LOD = 0.45
# drawn width (scene units) of each bucket key
_KEY_WIDTHS = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * ((np.arange(4 * LEVELS) // 4) + 0.5) / LEVELS
# |w| at which style.weight_strength crosses k / LEVELS, k = 1 .. LEVELS-1
_LEVEL_EDGES = -np.log(1.0 - np.arange(1, LEVELS) / LEVELS)


def _draw_lines(painter: QPainter, buf: np.ndarray, start: int, count: int) -> None:
    """drawLines straight from rows [start, start+count) of a C-contiguous (n, 4) float64
    array: QLineF is four doubles, so the buffer is an array of QLineF."""
    if count <= 0:
        return
    ptr = wrapInstance(buf.ctypes.data + start * 32, QLineF)
    painter.drawLines(ptr, count)


class ConnectionLayer(QGraphicsItem):
    def __init__(self, scene: ItemHost) -> None:
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
        self._rank = np.zeros(0, np.intp)
        self.hover: int | None = None
        self.show_values = False
        self.shown_fraction = 1.0              # of the visible lines, the share drawn last paint
        self.visible_count = 0
        self.paint_count = 0                   # for tests and benchmarks
        self._rect = QRectF()
        self._geom_version = 0
        self._keys_key = None
        self._keys = np.zeros(0, np.uint8)     # bucket key per connection (connection order)
        self._geom_key = None
        self._geom = None                      # visible/clipped lines for one exposed rect
        self._wf_cache = None
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
        self.selected = np.zeros(len(self.ids), bool)
        self._rank = np.random.default_rng(12345).permutation(len(self.ids))
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

    def set_selected(self, cids: Iterable[str]) -> None:
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
        """Level k where style.weight_strength(|w|) lies in [k/LEVELS, (k+1)/LEVELS), found by
        a binary search against the |w| thresholds (cheaper than exp on 100k values)."""
        return np.searchsorted(_LEVEL_EDGES, abs_w, side="right").astype(np.uint8)

    @staticmethod
    def level_width(level: int) -> float:
        return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * (level + 0.5) / LEVELS

    def _widths(self, abs_w: np.ndarray) -> np.ndarray:
        lv = self._levels(abs_w)
        return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * (lv + 0.5) / LEVELS

    # ------------------------------------------------------------------ buckets
    def keys(self) -> np.ndarray:
        """Bucket key per connection = level * 4 + negative * 2 + locked (uint8), recomputed
        only when ``net.param_version`` moved (all vectorised)."""
        net = self._scene.document.network
        k = (net.param_version, id(self.slots), len(self.ids))
        if k != self._keys_key:
            store = net.store
            w = store.values[self.slots]
            u = -np.expm1(-np.abs(w))       # style.weight_strength, in [0, 1)
            u *= LEVELS
            lv = np.minimum(u.astype(np.uint8), LEVELS - 1)
            self._keys = lv * np.uint8(4) + (w < 0).view(np.uint8) * np.uint8(2) \
                + (~store.trainable[self.slots]).view(np.uint8)
            self._keys_key = k
        return self._keys

    def _width_factor(self, lod: float) -> np.ndarray:
        """Per bucket key: relative raster cost of a pixel of line length (wider = dearer)."""
        if self._wf_cache is None or self._wf_cache[0] != lod:
            w = _KEY_WIDTHS * lod
            self._wf_cache = (lod, np.maximum(1.0, w / 1.5))
        return self._wf_cache[1]

    def bucket_key(self, cid: str) -> int:
        return int(self.keys()[self.index[cid]])

    def _geometry(self, ex: QRectF, lod: float) -> tuple:
        """Lines intersecting the exposed rectangle, clipped to it, with their device lengths;
        cached until the geometry, the rectangle or the zoom changes."""
        key = (self._geom_version, round(ex.left(), 1), round(ex.top(), 1), round(ex.width(), 1),
               round(ex.height(), 1), round(lod, 5))
        if key == self._geom_key:
            return self._geom
        L = self.lines
        x0, y0, x1, y1 = ex.left(), ex.top(), ex.right(), ex.bottom()
        margin = 2 * MAX_WIDTH + 12.0
        cx0, cy0, cx1, cy1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
        lo_x, hi_x = np.minimum(L[:, 0], L[:, 2]), np.maximum(L[:, 0], L[:, 2])
        lo_y, hi_y = np.minimum(L[:, 1], L[:, 3]), np.maximum(L[:, 1], L[:, 3])
        inside = (lo_x >= cx0) & (hi_x <= cx1) & (lo_y >= cy0) & (hi_y <= cy1)
        if inside.all():
            idx = None                    # everything, in connection order
            seg = L
            end_in = np.ones(len(L), bool)
        else:
            touch = ~((hi_x < cx0) | (lo_x > cx1) | (hi_y < cy0) | (lo_y > cy1))
            idx = np.flatnonzero(touch)
            seg = L[idx]
            end_in = np.ones(idx.size, bool)
            cut = np.flatnonzero(~inside[idx])
            if cut.size:
                clipped, e_in = clip_segments(seg[cut], cx0, cy0, cx1, cy1)
                seg[cut] = clipped
                end_in[cut] = e_in
                ok = ~np.isnan(seg[:, 0])
                if not ok.all():
                    idx, seg, end_in = idx[ok], seg[ok], end_in[ok]
        dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
        dev_len = np.sqrt(dx * dx + dy * dy) * lod
        self._geom = (idx, seg, end_in, dev_len, float(dev_len.sum()))
        self._geom_key = key
        return self._geom

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
                # >= 1.5 px: Qt rasterises these several times faster than 1 px lines
                pen = QPen(color, max(1.5, min(4.0, width * lod)))
                pen.setCosmetic(True)
            else:
                pen = QPen(color, width)
                # never RoundCap here: Qt strokes a drawLines batch with round caps as one
                # winding path, about 100x slower than flat caps
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
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

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        self.paint_count += 1
        if not len(self.ids):
            return
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        vis_idx, vis_seg, vis_end, dev_len, total = self._geometry(option.exposedRect, lod)
        keys_all = self.keys()
        kv = keys_all if vis_idx is None else keys_all[vis_idx]
        n_vis = len(kv)
        self.visible_count = n_vis
        if n_vis == 0:
            self.shown_fraction = 1.0
            return
        exporting = self._scene.exporting
        # level of detail: within the pixel budget, draw the strongest levels first
        # (cost of a line ~ its device length x its drawn width)
        width_factor = self._width_factor(lod)
        if total * width_factor[0] > PIXEL_BUDGET and not exporting:
            # by strength level (both signs alike), from the strongest level down
            lv = kv >> 2
            per_level = np.bincount(lv, weights=dev_len * width_factor[kv], minlength=LEVELS)
            from_top = np.cumsum(per_level[::-1])
            j = int(np.searchsorted(from_top, PIXEL_BUDGET, side="right"))
            lcut = LEVELS - 1 - j                 # the level that only partly fits
            left = PIXEL_BUDGET - (from_top[j - 1] if j > 0 else 0.0)
            part = np.flatnonzero(lv == lcut) if lcut >= 0 else np.zeros(0, np.intp)
            if part.size:  # a fixed pseudo-random order: no spatial bias, no flicker
                ranks = self._rank if vis_idx is None else self._rank[vis_idx]
                part = part[np.argsort(ranks[part], kind="stable")]
            m = int(np.searchsorted(np.cumsum(dev_len[part] * width_factor[kv[part]]), left,
                                    side="right")) if part.size else 0
            sel = np.concatenate([np.flatnonzero(lv > lcut), part[:m]])
            total = float(dev_len[sel].sum())
        else:
            sel = np.arange(n_vis)
        ks = kv[sel]
        o = np.argsort(ks, kind="stable")      # weak first, strong on top (radix sort, uint8)
        sel, ks = sel[o], ks[o]
        seg = np.ascontiguousarray(vis_seg[sel])
        n = len(sel)
        self.shown_fraction = n / n_vis
        aa = (n <= AA_LIMIT and total <= AA_PIXEL_BUDGET and lod >= 0.25) or exporting
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, aa)
        cosmetic = (lod < 0.35 or not aa) and not exporting
        ukeys, starts, counts = np.unique(ks, return_index=True, return_counts=True)
        for key, start, count in zip(ukeys.tolist(), starts.tolist(), counts.tolist(),
                                     strict=True):
            painter.setPen(self._pen(key, lod, cosmetic))
            _draw_lines(painter, seg, start, count)
        if aa and n <= ARROW_LIMIT and lod >= ARROW_MIN_LOD:
            self._paint_arrowheads(painter, seg, vis_end[sel], ks, ukeys, starts, counts)
        # selection and hover highlights on top, from all visible lines (so a selected weak
        # line shows even when the budget left it out)
        vis_conn = np.arange(n_vis) if vis_idx is None else vis_idx
        highlight = []
        if not exporting and self.selected.any():
            rows = np.flatnonzero(self.selected if vis_idx is None else self.selected[vis_idx])
            if rows.size > HIGHLIGHT_LIMIT:   # e.g. Select All on a huge network: only the
                drawn = np.zeros(n_vis, bool)   # selected lines that are drawn anyway
                drawn[sel] = True
                rows = rows[drawn[rows]][-HIGHLIGHT_LIMIT:]
            if rows.size:
                highlight.append((rows, style.SELECTION, 3.5))
        if not exporting and self.hover is not None:
            rows = np.flatnonzero(vis_conn == self.hover)
            if rows.size:
                highlight.append((rows, style.HIGHLIGHT, 3.0))
        if highlight:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, aa)
        for rows, color, extra in highlight:
            sub = np.ascontiguousarray(vis_seg[rows])
            sub_keys = kv[rows]
            for key_rows in _group(sub_keys):
                key = int(sub_keys[key_rows[0]])
                w = self.level_width(key // 4)
                halo = QPen(color, w + extra * 2 if not cosmetic else 3 + extra)
                halo.setCapStyle(Qt.PenCapStyle.FlatCap)
                halo.setCosmetic(cosmetic)
                painter.setPen(halo)
                part = np.ascontiguousarray(sub[key_rows])
                _draw_lines(painter, part, 0, len(part))
                painter.setPen(self._pen(key, lod, cosmetic))
                _draw_lines(painter, part, 0, len(part))
        if self.show_values and lod >= LABEL_MIN_LOD and n <= LABEL_LIMIT:
            conn = vis_conn[sel]
            self._paint_labels(painter, conn, np.ascontiguousarray(self.lines[conn]))

    def _paint_arrowheads(self, painter: QPainter, seg: np.ndarray, inside_end: np.ndarray,
                          keys: np.ndarray, ukeys: np.ndarray, starts: np.ndarray,
                          counts: np.ndarray) -> None:
        """Small chevrons at the target end of each line (skipped where the end was clipped)."""
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
        heads[np.repeat(~inside_end, 2)] = 0.0   # zero-length: nothing drawn
        heads = np.ascontiguousarray(heads)
        for key, start, count in zip(ukeys.tolist(), starts.tolist(), counts.tolist(),
                                     strict=True):
            level, rest = divmod(key, 4)
            base = style.NEGATIVE if rest & 2 else style.POSITIVE
            u_ = (level + 0.5) / LEVELS
            pen = QPen(style.blend(base, style.BACKGROUND, 0.28 + 0.72 * u_),
                       min(2.2, self.level_width(level)))
            pen.setCapStyle(Qt.PenCapStyle.SquareCap)
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

    def _paint_labels(self, painter: QPainter, conn_idx: np.ndarray, seg: np.ndarray) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(self._label_font)
        fm = QFontMetricsF(self._label_font)
        w = self._scene.document.network.store.values[self.slots[conn_idx]]
        mid = self._label_positions(conn_idx, seg)
        bg = QColor(style.BACKGROUND)
        bg.setAlpha(235)
        th = fm.height() + 1
        for (mx, my), v in zip(mid.tolist(), w.tolist(), strict=True):
            text = style.format_value(v)
            tw = fm.horizontalAdvance(text) + 6
            r = QRectF(mx - tw / 2, my - th / 2, tw, th)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(bg))
            painter.drawRoundedRect(r, 3, 3)
            painter.setPen(style.NEGATIVE.darker(135) if v < 0 else style.POSITIVE.darker(115))
            painter.drawText(r, style.ALIGN_CENTER, text)


def _group(keys: np.ndarray) -> list[np.ndarray]:
    """Row indices grouped by equal key."""
    if not keys.size:
        return []
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    cuts = np.flatnonzero(np.diff(ks)) + 1
    return np.split(order, cuts)


def clip_segments(lines: np.ndarray, xmin: float, ymin: float, xmax: float,
                  ymax: float) -> tuple[np.ndarray, np.ndarray]:
    """Liang–Barsky clipping of every segment row (x0, y0, x1, y1) to a rectangle, vectorised.
    Returns (clipped, end_inside): rows entirely outside become NaN; ``end_inside`` says the
    segment's end point was not cut off."""
    x0, y0, x1, y1 = lines[:, 0], lines[:, 1], lines[:, 2], lines[:, 3]
    dx, dy = x1 - x0, y1 - y0
    t0 = np.zeros(len(lines))
    t1 = np.ones(len(lines))
    ok = np.ones(len(lines), bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, x0 - xmin), (dx, xmax - x0), (-dy, y0 - ymin), (dy, ymax - y0)):
            zero = p == 0
            ok &= ~(zero & (q < 0))
            r = np.where(zero, 0.0, q / np.where(zero, 1.0, p))
            neg = (p < 0) & ~zero
            pos = (p > 0) & ~zero
            t0 = np.where(neg, np.maximum(t0, r), t0)
            t1 = np.where(pos, np.minimum(t1, r), t1)
    ok &= t0 <= t1
    out = np.empty_like(lines)
    out[:, 0] = x0 + t0 * dx
    out[:, 1] = y0 + t0 * dy
    out[:, 2] = x0 + t1 * dx
    out[:, 3] = y0 + t1 * dy
    out[~ok] = np.nan
    return out, ok & (t1 >= 1.0)


def distance_to_segments(point: QPointF, lines: np.ndarray) -> np.ndarray:
    """Distance from ``point`` (x, y) to each segment row (x0, y0, x1, y1); vectorised."""
    px, py = float(point[0]), float(point[1])
    ax, ay, bx, by = lines[:, 0], lines[:, 1], lines[:, 2], lines[:, 3]
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / np.maximum(len2, 1e-12), 0.0, 1.0)
    return np.hypot(ax + t * dx - px, ay + t * dy - py)

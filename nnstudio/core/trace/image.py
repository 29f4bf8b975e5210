"""The steps of the image layers: the image, the sliding filter, pooling, flattening, and back.

Forward, per image layer in engine order: an image input's pixels (``image``); per filter of a
convolution its feature map (``conv_map``: the filter grid, the dot product at position (0, 0)
written out with its numbers, "map[0][0] = 0 × 0 + 0 × 0 + 1 × 1 + … + b = 3 + b", and the
whole map), then the activation on all of its maps (``map_activation``: "ReLU turns 5
negatives into 0"); per map of a pooling its windows and winners (``pool_map``: "window (0, 0):
max 3 at row 0, column 1"); a flatten's maps becoming nodes (``flatten``).

Backward, in reverse: the flatten's nodes gathering dL/da from the neurons they feed and
folding it back into maps (``flatten_grad``); per map of a pooling, each window's gradient
going to its winner (``pool_grad``); dL/dz of a convolution's maps through its activation
(``map_activation_grad``); per filter dL/dfilter[i][j] = Σ over positions dL/dz × input and
dL/db = Σ dL/dz (``filter_grad``); a convolution fed by another layer passing dL/da back to it
(``map_grad``). Update: one step per filter (the grid before, the step, the grid after).

A 6 × 6 example stays readable because steps summarise per map and write out one position;
:func:`position_step` builds the same arithmetic at any other cell on demand (what the player
opens when a map cell is clicked), never in advance.

The player reads ``Step.layer``, ``Step.map`` and ``Step.cells`` to highlight, and
:meth:`~.steps.TraceState.map` for the maps revealed so far. Every number is the engine's
(``Evaluation.maps``, the gradient) or a :mod:`nnstudio.core.conv` look-up on the same arrays.
Grids and written-out positions are those of the first traced sample; gradients add up every
traced sample.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .. import activations as acts
from ..conv import Conv2D, Flatten, Pool2D
from ..engine.layout import ImageBlock
from ..engine.passes import filters_of
from ..network import FEATURE_ROLE
from .formatting import MAX_ROWS, MINUS, SIGMA, TIMES, grid, join_sum, nice, prose
from .steps import MapReveal, Step, Trace, TraceError
from .writer import StepWriter

Array = np.ndarray

MAX_DOT_TERMS = 27    # products written out in one dot product (a 3 × 3 filter over 3 channels)
MAX_WINDOWS = 8       # pooling windows / flattened nodes written out in one step


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _sum(terms: list[str], limit: int = MAX_DOT_TERMS) -> str:
    """A sum with its first ``limit`` terms written out."""
    return join_sum(terms[:limit], max(0, len(terms) - limit))


def _maps_phrase(c: int, h: int, w: int) -> str:
    return f"{_plural(c, 'map')} of {h} {TIMES} {w}"


class ImageSteps(StepWriter):
    """The forward, backward and update steps of a network's image layers."""

    def __init__(self, tr: Trace, steps: list[Step]):
        super().__init__(tr, steps)
        self.blocks = self.eng.image_blocks
        self.maps = self.ev.maps
        self.s0 = 0   # the traced sample whose maps are drawn and whose positions are written

    # helpers ---------------------------------------------------------------------
    def title(self, ib: ImageBlock) -> str:
        return self.net.image_layers[ib.id].label

    def source(self, ib: ImageBlock) -> ImageBlock:
        return self.blocks[ib.source]

    def packed(self, ib: ImageBlock) -> Array:
        return filters_of(ib, self.eng.params)

    def shown_sample(self) -> str:
        tr = self.tr
        if tr.n == 1:
            return ""
        return (f" (drawn for {self.sample_name(self.s0)}; the other {tr.n - 1} samples go "
                f"the same way)")

    def map_reveals(self, lid: str, key: str, arr: Array) -> list[MapReveal]:
        """One reveal per map of an (N, C, H, W) array."""
        return [(lid, key, c, arr[:, c].copy()) for c in range(arr.shape[1])]

    def filter_grid_lines(self, weights: Array) -> list[str]:
        """A filter's (C, k, k) grid, one block per channel."""
        lines: list[str] = []
        for c in range(weights.shape[0]):
            if weights.shape[0] > 1:
                lines.append(f"  channel {c}:")
            lines += grid(weights[c], self.d, "    " if weights.shape[0] > 1 else "  ")
        return lines

    def dot_formula(self, ib: ImageBlock, f: int, row: int, col: int) -> tuple[str, float]:
        """map[row][col] written out as the sum of input × weight plus the bias."""
        shape = ib.shape
        assert isinstance(shape, Conv2D)
        x = self.maps[self.source(ib).id].a[self.s0]
        dp = shape.dot_product(x, self.packed(ib), f, row, col)
        z = float(self.maps[ib.id].z[self.s0, f, row, col])
        terms = [f"{self.t(a)} {TIMES} {self.t(w)}" for a, w in dp.terms()]
        text = (f"map[{row}][{col}] = {_sum(terms)} + b = {self.n(dp.total)} + b = "
                f"{self.t(dp.total)} + {self.t(dp.bias)} = {self.n(z)}")
        return text, z

    # forward -----------------------------------------------------------------------
    def forward(self) -> None:
        for ib in self.blocks:
            shape = ib.shape
            if isinstance(shape, tuple):
                self.image(ib)
            elif isinstance(shape, Conv2D):
                for f in range(shape.filters):
                    self.conv_map(ib, f)
                self.map_activation(ib)
            elif isinstance(shape, Pool2D):
                for c in range(shape.in_shape[0]):
                    self.pool_map(ib, c)
            else:
                self.flatten(ib)

    def image(self, ib: ImageBlock) -> None:
        c, h, w = ib.out_maps
        a = self.maps[ib.id].a
        lines = []
        for ch in range(c):
            if c > 1:
                lines.append(f"channel {ch}:")
            lines += grid(a[self.s0, ch], self.d)
        where = (f"sample {self.tr.sample}" if self.tr.sample is not None
                 else f"each of the {self.tr.n} samples")
        self.add("forward", "image", f"{self.title(ib)}: the image",
                 f"The image enters the network: {h} {TIMES} {w} pixels"
                 f"{f' in {c} channels' if c > 1 else ''}, one number each (here from "
                 f"{where}){self.shown_sample()}. A dense network would flatten them into "
                 f"{c * h * w} inputs and give every neuron of its first layer a weight for each; "
                 f"a convolution looks at small patches instead.", "\n".join(lines),
                 layer=ib.id, map_reveals=self.map_reveals(ib.id, "map_a", a))

    def conv_map(self, ib: ImageBlock, f: int) -> None:
        shape = ib.shape
        assert isinstance(shape, Conv2D)
        k, s = shape.kernel, shape.stride
        src = self.source(ib)
        pids = self.net.filter_param_ids(ib.id, f)
        weights = self.packed(ib)[f, :-1].reshape(shape.in_shape[0], k, k)
        dot, _ = self.dot_formula(ib, f, 0, 0)
        z = self.maps[ib.id].z
        oh, ow = shape.out_height, shape.out_width
        pad = (" With 'same' padding the filter also overlaps the border, where the missing "
               "pixels count as 0, so the map keeps the input's size." if shape.padded else "")
        expl = (f"Filter {f} is a {k} {TIMES} {k} grid of weights, the same at every position "
                f"(one set of shared weights). Lay it on the top-left {k} {TIMES} {k} patch of "
                f"{self.title(src)}, multiply each pixel by the weight on top of it, add the "
                f"products up and add the filter's bias: that is map[0][0]. Then slide the "
                f"filter {_plural(s, 'pixel')} and repeat: the {oh} {TIMES} {ow} grid of "
                f"results is the feature map. It is large where the patch looks like the "
                f"filter.{pad}{self.shown_sample()}")
        formula = "\n".join([f"filter {f} ({k} {TIMES} {k}, bias "
                             f"{self.n(self.packed(ib)[f, -1])}):",
                             *self.filter_grid_lines(weights), dot,
                             f"feature map {f} ({oh} {TIMES} {ow}):",
                             *grid(z[self.s0, f], self.d)])
        win = shape.receptive_field(0, 0)
        self.add("forward", "conv_map", f"{self.title(ib)}: filter {f} slides over "
                 f"{self.title(src)}", expl, formula, params=pids, layer=ib.id, map=f,
                 cells=[cell for cell in win.cells() if win.inside(*cell)],
                 map_reveals=[(ib.id, "map_z", f, z[:, f].copy())],
                 value=float(z[self.s0, f, 0, 0]))

    def map_activation(self, ib: ImageBlock) -> None:
        layer = self.net.image_layers[ib.id]
        name = getattr(layer, "activation", "identity")
        act = acts.ACTIVATIONS[name]
        mv = self.maps[ib.id]
        z, a = mv.z[self.s0], mv.a[self.s0]
        lines = [nice(act.formula)]
        counts = []
        for f in range(z.shape[0]):
            neg = int(np.count_nonzero(z[f] < 0))
            counts.append(neg)
            lines.append(f"map {f}: {_plural(neg, 'negative value')}" + (
                " become 0" if name == "relu" and neg else ""))
            lines += grid(a[f], self.d)
        if name == "relu":
            what = (f"ReLU turns the maps' {_plural(sum(counts), 'negative value')} into 0 and "
                    f"keeps the rest: a map now says only where its filter matched, not how "
                    f"badly it missed.")
        elif name == "identity":
            what = "The identity activation leaves every value as it is."
        else:
            what = (f"The activation {act.title} is applied to every cell of every map on its "
                    f"own. {prose(act.note)}")
        self.add("forward", "map_activation", f"{self.title(ib)}: activation ({act.title})",
                 what + self.shown_sample(), "\n".join(lines), layer=ib.id,
                 map_reveals=self.map_reveals(ib.id, "map_a", mv.a))

    def pool_lines(self, ib: ImageBlock, c: int, row: int, col: int) -> str:
        """One pooling window written out: its values, the max (and where) or the mean."""
        shape = ib.shape
        assert isinstance(shape, Pool2D)
        x = self.maps[self.source(ib).id].a[self.s0, c]
        win = shape.window_at(row, col)
        vals = [float(x[r, q]) for r, q in win.cells()]
        y = float(self.maps[ib.id].a[self.s0, c, row, col])
        where = (f"window ({row}, {col}) = rows {win.top}\u2013{win.top + win.height - 1}, "
                 f"columns {win.left}\u2013{win.left + win.width - 1}")
        listed = ", ".join(self.n(v) for v in vals)
        mv = self.maps[ib.id]
        if mv.winners is not None:
            wr = int(mv.winners[0][self.s0, c, row, col])
            wc = int(mv.winners[1][self.s0, c, row, col])
            return f"{where}: max({listed}) = {self.n(y)} at row {wr}, column {wc}"
        return f"{where}: mean({listed}) = {self.n(y)}"

    def pool_map(self, ib: ImageBlock, c: int) -> None:
        shape = ib.shape
        assert isinstance(shape, Pool2D)
        src = self.source(ib)
        oh, ow = shape.out_height, shape.out_width
        mv = self.maps[ib.id]
        cells = [(r, q) for r in range(oh) for q in range(ow)]
        lines = [self.pool_lines(ib, c, r, q) for r, q in cells[:MAX_WINDOWS]]
        if len(cells) > MAX_WINDOWS:
            lines.append(f"\u2026 and {len(cells) - MAX_WINDOWS} more windows")
        lines += [f"pooled map {c} ({oh} {TIMES} {ow}):", *grid(mv.a[self.s0, c], self.d)]
        k, st = shape.window, shape.step
        if shape.mode == "max":
            expl = (f"Max pooling keeps the largest value of each {k} {TIMES} {k} window of map "
                    f"{c} and names where it was (the winning position). The map shrinks to "
                    f"{oh} {TIMES} {ow}, and a pattern shifted by a pixel inside a window still "
                    f"gives the same value: pooling makes the network tolerate small shifts "
                    f"(translation invariance).")
            winners = mv.winners
            assert winners is not None
            highlight = [(int(winners[0][self.s0, c, r, q]), int(winners[1][self.s0, c, r, q]))
                         for r, q in cells]
        else:
            expl = (f"Average pooling replaces each {k} {TIMES} {k} window of map {c} by the "
                    f"mean of its values, so the map shrinks to {oh} {TIMES} {ow}.")
            highlight = shape.window_at(0, 0).cells()
        if st != k:
            expl += f" The windows move {_plural(st, 'pixel')} at a time."
        self.add("forward", "pool_map", f"{self.title(ib)}: map {c} of {self.title(src)}",
                 expl + self.shown_sample(), "\n".join(lines), layer=ib.id, map=c,
                 cells=highlight, map_reveals=[(ib.id, "map_a", c, mv.a[:, c].copy())],
                 value=float(mv.a[self.s0, c, 0, 0]))

    def features(self, ib: ImageBlock) -> list[str]:
        return self.net.feature_neurons(ib.id)

    def flatten(self, ib: ImageBlock) -> None:
        shape = ib.shape
        assert isinstance(shape, Flatten)
        c, h, w = shape.in_shape
        ids = self.features(ib)
        a = self.ev.a
        lines = [f"{nid} = map {p[0]} [{p[1]}][{p[2]}] = {self.n(a[self.s0, self.col[nid]])}"
                 for nid, p in ((nid, shape.position(k)) for k, nid in enumerate(ids))
                 ][:MAX_WINDOWS]
        if len(ids) > MAX_WINDOWS:
            lines.append(f"\u2026 and {len(ids) - MAX_WINDOWS} more nodes")
        self.add("forward", "flatten", f"{self.title(ib)}: {_maps_phrase(c, h, w)} become "
                 f"{_plural(len(ids), 'node')}",
                 f"Flattening lays the {_maps_phrase(c, h, w)} of {self.title(self.source(ib))} "
                 f"out as one column of {len(ids)} nodes, map by map and row by row. No "
                 f"arithmetic: from here on they feed ordinary neurons, and the rest of the "
                 f"network is the fully connected part you know.{self.shown_sample()}",
                 "\n".join(lines), neurons=ids, layer=ib.id,
                 reveals=[(nid, "a", self.col_of(a, nid)) for nid in ids])

    # backward ----------------------------------------------------------------------
    def backward(self) -> None:
        for ib in reversed(self.blocks):
            shape = ib.shape
            if isinstance(shape, Flatten):
                self.flatten_grad(ib)
            elif isinstance(shape, Pool2D):
                for c in range(shape.in_shape[0]):
                    self.pool_grad(ib, c)
            elif isinstance(shape, Conv2D):
                self.map_activation_grad(ib)
                for f in range(shape.filters):
                    self.filter_grad(ib, f)
                if not isinstance(self.source(ib).shape, tuple):
                    self.map_grad(ib)

    def flatten_grad(self, ib: ImageBlock) -> None:
        shape = ib.shape
        assert isinstance(shape, Flatten)
        ev = self.ev
        ids = self.features(ib)
        s = self.s0
        lines = []
        for nid in ids[:MAX_WINDOWS]:
            out = self.net.outgoing(nid)
            parts = [f"{self.t(self.w(c.id))} {TIMES} {self.t(ev.dl_dz[s, self.col[c.target]])}"
                     for c in out]
            lines.append(f"dL/da({nid}) = {_sum(parts, MAX_ROWS)} = "
                         f"{self.n(ev.dl_da[s, self.col[nid]])}")
        if len(ids) > MAX_WINDOWS:
            lines.append(f"\u2026 and {len(ids) - MAX_WINDOWS} more nodes")
        src = self.source(ib)
        c, h, w = shape.in_shape
        back = self.maps[src.id].dl_da
        for m in range(c):
            lines += [f"dL/da of map {m} of {self.title(src)}:", *grid(back[s, m], self.d)]
        self.add("backward", "flatten_grad", f"{self.title(ib)}: dL/da of the nodes, back into "
                 f"maps",
                 f"Each node of the flatten feeds neurons of the dense part, so, like any neuron, "
                 f"its dL/da adds up w {TIMES} dL/dz of every neuron it feeds. A node only "
                 f"passes its value on, so its dL/dz is the same number. Folded back into the "
                 f"{_maps_phrase(c, h, w)} they came from, these are the gradients of "
                 f"{self.title(src)}'s output.{self.shown_sample()}", "\n".join(lines),
                 neurons=ids, layer=ib.id,
                 reveals=[(nid, key, self.col_of(arr, nid)) for nid in ids
                          for key, arr in (("dl_da", ev.dl_da), ("dl_dz", ev.dl_dz))],
                 map_reveals=self.map_reveals(src.id, "map_dl_da", back))

    def pool_grad(self, ib: ImageBlock, c: int) -> None:
        shape = ib.shape
        assert isinstance(shape, Pool2D)
        src = self.source(ib)
        mv = self.maps[ib.id]
        back = self.maps[src.id].dl_da
        s = self.s0
        k = shape.window
        lines = [f"dL/da of pooled map {c}:", *grid(mv.dl_da[s, c], self.d),
                 f"dL/da of map {c} of {self.title(src)}:", *grid(back[s, c], self.d)]
        oh, ow = shape.out_height, shape.out_width
        if mv.winners is not None:
            others = k * k - 1
            expl = (f"Max pooling passed on only each window's winner, so each window's gradient "
                    f"goes back to its winner alone; the other {_plural(others, 'cell')} of the "
                    f"window get 0 (they did not affect the output).")
            cells = [(int(mv.winners[0][s, c, r, q]), int(mv.winners[1][s, c, r, q]))
                     for r in range(oh) for q in range(ow)]
        else:
            expl = (f"Average pooling gave every cell of a window the same share, so each "
                    f"window's gradient is split equally: each of its {k * k} cells gets 1/"
                    f"{k * k} of it.")
            cells = shape.window_at(0, 0).cells()
        if shape.step < k:
            expl += " Where windows overlap, a cell adds up what each of its windows sends."
        self.add("backward", "pool_grad", f"{self.title(ib)}: map {c}'s gradient back to "
                 f"{self.title(src)}", expl + self.shown_sample(), "\n".join(lines),
                 layer=ib.id, map=c, cells=cells,
                 map_reveals=[(src.id, "map_dl_da", c, back[:, c].copy())])

    def map_activation_grad(self, ib: ImageBlock) -> None:
        layer = self.net.image_layers[ib.id]
        name = getattr(layer, "activation", "identity")
        act = acts.ACTIVATIONS[name]
        mv = self.maps[ib.id]
        s = self.s0
        lines = [f"dL/dz = dL/da {TIMES} da/dz, cell by cell; {nice(act.derivative_formula)}"]
        blocked = 0
        for f in range(mv.z.shape[1]):
            if name == "relu":
                off = int(np.count_nonzero(mv.z[s, f] <= 0))
                blocked += off
                lines.append(f"map {f}: {_plural(off, 'cell')} with z \u2264 0 pass nothing")
            else:
                lines.append(f"map {f}:")
            lines += grid(mv.dl_dz[s, f], self.d)
        if name == "relu":
            what = (f"ReLU's slope is 1 where z > 0 and 0 elsewhere, so the gradient passes "
                    f"through the cells where the filter matched and stops at the other "
                    f"{blocked}.")
        else:
            what = (f"Each cell's dL/da is multiplied by the slope of {act.title.lower()} at "
                    f"its z.")
        self.add("backward", "map_activation_grad", f"{self.title(ib)}: dL/dz of the maps "
                 f"(chain rule)", what + self.shown_sample(), "\n".join(lines), layer=ib.id,
                 map_reveals=self.map_reveals(ib.id, "map_dl_dz", mv.dl_dz))

    def grad_terms(self, ib: ImageBlock, f: int, ch: int, i: int, j: int
                   ) -> tuple[list[str], float]:
        """dL/dz × input of every traced sample and position under weight [ch][i][j]."""
        shape = ib.shape
        assert isinstance(shape, Conv2D)
        x = self.maps[self.source(ib).id].a
        inputs, dz = shape.weight_gradient_terms(x, self.maps[ib.id].dl_dz, f, ch, i, j)
        terms = [f"{self.t(g)} {TIMES} {self.t(v)}"
                 for g, v in zip(dz.ravel().tolist(), inputs.ravel().tolist(), strict=True)]
        return terms, math.fsum((dz * inputs).ravel().tolist())

    def filter_grad(self, ib: ImageBlock, f: int) -> None:
        shape = ib.shape
        assert isinstance(shape, Conv2D)
        tr = self.tr
        pids = self.net.filter_param_ids(ib.id, f)
        c, k = shape.in_shape[0], shape.kernel
        g = np.array([tr.grads[p] for p in pids])
        terms, total = self.grad_terms(ib, f, 0, 0, 0)
        first = (f"dL/dfilter[0][0] = {SIGMA} over positions dL/dz {TIMES} input = "
                 f"{_sum(terms)} = "
                 f"{self.n(total)}")
        if c > 1:
            first = first.replace("filter[0][0]", "filter[0][0][0]")
        lines = [first]
        share = tr.penalty_grads.get(pids[0])
        if share is not None:
            lines.append(f"+ the penalty's share {self.t(share)}: dL/dfilter[0][0] = "
                         f"{self.n(g[0])}")
        dz = self.maps[ib.id].dl_dz[:, f]
        bias_terms = [self.t(v) for v in dz.ravel().tolist()]
        lines += [f"dL/dfilter {f}:", *self.filter_grid_lines(g[:-1].reshape(c, k, k)),
                  f"dL/db = {SIGMA} dL/dz = {_sum(bias_terms)} = {self.n(g[-1])}"]
        where = "position" if tr.n == 1 else "position of every sample"
        locked = ("" if tr.trainable[pids[0]] else
                  " This filter is locked, so it will not change.")
        expl = (f"The filter is one set of shared weights, used at every {where}, so its "
                f"gradient adds up what every use asks: weight [i][j] multiplied, at each "
                f"position, the input under it, so dL/dfilter[i][j] is the sum over positions "
                f"of dL/dz {TIMES} that input. The bias was added at every position: dL/db is "
                f"the sum of dL/dz over the whole map. Click a cell of the filter for its "
                f"sum.{locked}")
        win = shape.receptive_field(0, 0)
        self.add("backward", "filter_grad", f"{self.title(ib)}: dL/dfilter {f}", expl,
                 "\n".join(lines), params=pids, layer=ib.id, map=f,
                 cells=[cell for cell in win.cells() if win.inside(*cell)],
                 reveals=[(p, "grad", tr.grads[p]) for p in pids], value=float(g[0]))

    def map_grad(self, ib: ImageBlock) -> None:
        """dL/da of the maps a convolution reads (when they come from another layer)."""
        src = self.source(ib)
        back = self.maps[src.id].dl_da
        s = self.s0
        lines = []
        for m in range(back.shape[1]):
            lines += [f"dL/da of map {m} of {self.title(src)}:", *grid(back[s, m], self.d)]
        self.add("backward", "map_grad", f"{self.title(ib)}: the gradient back to "
                 f"{self.title(src)}",
                 f"Each cell of {self.title(src)}'s maps was read by every window that covered "
                 f"it, so its dL/da adds up, over those windows and every filter, the weight "
                 f"that sat on it {TIMES} that position's dL/dz.{self.shown_sample()}",
                 "\n".join(lines), layer=ib.id,
                 map_reveals=self.map_reveals(src.id, "map_dl_da", back))

    # update ------------------------------------------------------------------------
    def update(self) -> None:
        for ib in self.blocks:
            shape = ib.shape
            if isinstance(shape, Conv2D):
                for f in range(shape.filters):
                    self.filter_update(ib, f)

    def filter_update(self, ib: ImageBlock, f: int) -> None:
        shape = ib.shape
        assert isinstance(shape, Conv2D)
        tr = self.tr
        pids = self.net.filter_param_ids(ib.id, f)
        if not tr.trainable[pids[0]]:
            return
        c, k = shape.in_shape[0], shape.kernel
        old = np.array([tr.params_before[p] for p in pids])
        step = tr.learning_rate * np.array([tr.grads[p] for p in pids])
        new = np.array([tr.new_params[p] for p in pids])
        lines = [f"filter_new = filter_old {MINUS} lr {TIMES} dL/dfilter (lr = "
                 f"{self.n(tr.learning_rate)})", "before:",
                 *self.filter_grid_lines(old[:-1].reshape(c, k, k)),
                 f"step (lr {TIMES} gradient):",
                 *self.filter_grid_lines(step[:-1].reshape(c, k, k)),
                 "after:", *self.filter_grid_lines(new[:-1].reshape(c, k, k)),
                 f"b_new = {self.t(old[-1])} {MINUS} {self.t(step[-1])} = {self.n(new[-1])}"]
        self.add("update", "filter_update", f"Update filter {f} of {self.title(ib)}",
                 "Every weight of the filter, and its bias, takes one gradient-descent step "
                 "at once: the grid before, the steps, and the grid after. The new filter is "
                 "used at every position in the next forward pass.", "\n".join(lines),
                 params=pids, layer=ib.id, map=f,
                 reveals=[(p, "new", float(v)) for p, v in zip(pids, new, strict=True)])


# ---------------------------------------------------------------------- drill-down
def _block(tr: Trace, step: Step) -> ImageBlock:
    for ib in tr.engine.image_blocks:
        if ib.id == step.layer:
            return ib
    raise TraceError(f"step {step.index} ({step.title}) is not about an image layer")


def position_step(tr: Trace, step: Step, row: int, col: int, channel: int = 0) -> Step:
    """The drill-down of an image layer step at one cell, built on demand: a convolution
    map's dot product at (row, col) (``conv_map``), a pooling window and its winner
    (``pool_map``, ``pool_grad``: where the cell's gradient goes), the gradient terms of
    filter weight [channel][row][col] (``filter_grad``). The result is a copy of ``step``
    with that cell's formula, ``cells`` (the window on the source) and ``value``, and no
    reveals. Raises TraceError for a step without positions or a cell outside its map."""
    ib = _block(tr, step)
    writer = ImageSteps(tr, [])
    f = step.map
    shape = ib.shape
    try:
        if step.kind == "conv_map" and isinstance(shape, Conv2D) and f is not None:
            text, z = writer.dot_formula(ib, f, row, col)
            win = shape.receptive_field(row, col)
            return replace(step, kind="conv_position", title=f"{step.title}: map {f} [{row}]"
                           f"[{col}]", explanation=f"The filter on the patch under position "
                           f"({row}, {col}): multiply, add up, add the bias.", formula=text,
                           cells=tuple(cell for cell in win.cells() if win.inside(*cell)),
                           reveals=(), map_reveals=(), value=z)
        if step.kind in ("pool_map", "pool_grad") and isinstance(shape, Pool2D) \
                and f is not None:
            line = writer.pool_lines(ib, f, row, col)
            mv = tr.evaluation.maps[ib.id]
            s = writer.s0
            if mv.winners is not None:
                cells: tuple[tuple[int, int], ...] = (
                    (int(mv.winners[0][s, f, row, col]), int(mv.winners[1][s, f, row, col])),)
            else:
                cells = tuple(shape.window_at(row, col).cells())
            g = float(mv.dl_da[s, f, row, col])
            if step.kind == "pool_grad":
                line += (f"\ndL/da = {writer.n(g)} goes to " + (
                    f"row {cells[0][0]}, column {cells[0][1]}" if mv.winners is not None else
                    f"each of the {len(cells)} cells, divided by {len(cells)}"))
            return replace(step, kind=f"{step.kind}_position", title=f"{step.title}: window "
                           f"({row}, {col})", explanation="One window of the pooling.",
                           formula=line, cells=cells, reveals=(), map_reveals=(),
                           value=float(mv.a[s, f, row, col]) if step.kind == "pool_map" else g)
        if step.kind == "filter_grad" and isinstance(shape, Conv2D) and f is not None:
            terms, total = writer.grad_terms(ib, f, channel, row, col)
            name = (f"filter[{channel}][{row}][{col}]" if shape.in_shape[0] > 1
                    else f"filter[{row}][{col}]")
            return replace(step, kind="filter_grad_position", title=f"{step.title}: "
                           f"{name}", explanation=f"Every position the weight was used at, "
                           f"dL/dz there {TIMES} the input under the weight, added up.",
                           formula=f"dL/d{name} = {SIGMA} over positions dL/dz {TIMES} input = "
                           f"{join_sum(terms)} = {writer.n(total)}", reveals=(),
                           map_reveals=(), value=total)
    except ValueError as e:   # a cell outside the map (core.conv's message)
        raise TraceError(str(e)) from None
    raise TraceError(f"step {step.index} ({step.title}) has no positions to open")


def is_feature(tr: Trace, nid: str) -> bool:
    return tr.network.neurons[nid].role == FEATURE_ROLE

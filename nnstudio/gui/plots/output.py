"""Pane 4: what the network computes.

* one input → one output: the data points and the network's curve over the input range
  (seed 001's regression line and its dosage "squiggle"), each residual (actual − predicted)
  as a vertical segment and the SSR in the status line;
* one input → several (non-softmax) outputs: every output's line on fixed axes, so the steeper
  one looks steeper (seed 001's lines w = 1, b = 0 and w = 2, b = −1);
* softmax outputs (other than a two-input plane): a probability bar per output for the chosen
  sample, the target class marked (seed 000's [34, 32, 25] → 0.88, 0.12, 0.0001);
* two inputs: the decision boundary as a heat map of a chosen neuron's activation (an output
  or a hidden neuron, like TensorFlow Playground's neuron thumbnails) behind the data points,
  with the boundary (threshold) drawn as a contour. For classification data, "Edit points" lets
  the user click to add a point of the chosen class and right-click to remove one (undoable);
* anything else: predicted against actual, with the y = x diagonal.

Every number comes from the engine: ``document.evaluation()`` for the data points and
``engine.predict`` / ``engine.activations`` for the curve and the grid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QWidget

from nnstudio.core import activations as acts
from nnstudio.core.network import NetworkEvent
from nnstudio.core.neuron_maps import activation_levels, plane_bounds, threshold
from nnstudio.core.trainer import split_rows
from nnstudio.gui import style

from .base import MARK_COLOR, MUTED, NEGATIVE, POSITIVE, PlotPane, pen, series_color

if TYPE_CHECKING:
    from nnstudio.core.datasets import Dataset
    from nnstudio.core.engine import Engine

GRID = 96            # heat-map resolution (GRID x GRID evaluations, one vectorised call)
GRID_BUSY = 64       # ... while training (redrawn several times a second)
PICK_PIXELS = 12     # right-click removes the nearest point within this many pixels


def neuron_activations(engine: Engine, X: np.ndarray, nid: str) -> np.ndarray:
    """Activation of neuron ``nid`` for each row of X: a forward pass only
    (:meth:`Engine.activations`, softmax applied for softmax outputs)."""
    return engine.activations(X)[1][:, engine.index[nid]]


def class_colors(ds: Dataset, n: int) -> list[str]:
    if ds.class_names is None:
        return [POSITIVE] * n
    labels = ds.labels()
    if ds.n_targets == 1:
        return [POSITIVE if c else NEGATIVE for c in labels]
    return [series_color(int(c)) for c in labels]


def class_color(ds: Dataset, k: int) -> str:
    if ds.n_targets == 1:
        return POSITIVE if k else NEGATIVE
    return series_color(k)


class OutputPane(PlotPane):
    title = "Output"
    object_name = "output"
    busy_interval = 0.25
    info_below = True

    def _build(self) -> None:
        self.neuron_box = self.add_option(QComboBox())
        self.neuron_box.setToolTip("Which neuron's activation the heat map shows: the selected "
                                   "neuron on the canvas, or a chosen output or hidden neuron")
        self.neuron_box.setMinimumContentsLength(10)
        self.neuron_box.currentIndexChanged.connect(lambda *_: self.mark_dirty())
        self.edit_box = self.add_option(QCheckBox("Edit points"))
        self.edit_box.setToolTip("Click the plot to add a point of the chosen class; "
                                 "right-click a point to remove it (undoable)")
        self.class_box = self.add_option(QComboBox())
        self.class_box.setToolTip("The class of the points you add")
        # TensorFlow Playground's two toggles, on a row of their own (the header is full)
        toggles = QHBoxLayout()
        toggles.setContentsMargins(2, 0, 2, 0)
        toggles.setSpacing(10)
        self.test_box = QCheckBox("Show test data")
        self.test_box.setObjectName("showTestData")
        self.test_box.setToolTip("Also show the validation rows (held out from training; set "
                                 "the share in the Dataset panel), drawn with a dark ring")
        self.discrete_box = QCheckBox("Discretize output")
        self.discrete_box.setObjectName("discretizeOutput")
        self.discrete_box.setToolTip("Colour the plane by the side of the line only (the "
                                     "decision), instead of by the activation's value")
        for box in (self.test_box, self.discrete_box):
            box.toggled.connect(lambda *_: self.mark_dirty())
            toggles.addWidget(box)
        toggles.addStretch(1)
        self.toggles = QWidget()
        self.toggles.setLayout(toggles)
        self.layout().insertWidget(1, self.toggles)
        p = self.plot = self.add_plot()
        p.setAspectLocked(False)
        self._equal_axes = False
        self.image = pg.ImageItem()
        # the canvas's blue-white-orange map, lightened so the data points stand out on it
        lut = style.DIVERGING_LUT.astype(float)
        self.image.setLookupTable(np.rint(255 - 0.62 * (255 - lut)).astype(np.uint8))
        self.image.setZValue(-10)
        p.addItem(self.image)
        self.iso = pg.IsocurveItem(level=0.5, pen=pg.mkPen(style.TEXT_HEX, width=1.5,
                                                           style=Qt.DashLine))
        self.iso.setParentItem(self.image)
        self.curve = self.add_few(p, [], [], pen=pen(POSITIVE, 2.5))
        # residuals: one vertical segment per sample, from the data point to the prediction
        # (drawn whole: clipping to the view would break the pairs)
        self.residuals = self.add_few(p, [], [], pen=pen(NEGATIVE, 1.2, Qt.DashLine),
                                      connect="pairs")
        self.lines: list[pg.PlotDataItem] = []       # "lines" mode: one curve per output
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        p.addItem(self.bars)
        self.bar_labels: list[pg.TextItem] = []
        self.diag = self.add_few(p, [], [], pen=pen(MUTED, 1, Qt.DashLine))
        self.points = pg.ScatterPlotItem(size=8, pen=pg.mkPen("w", width=1.2))
        p.addItem(self.points)
        self.sample_mark = pg.ScatterPlotItem(size=17, pen=pg.mkPen(MARK_COLOR, width=2),
                                              brush=pg.mkBrush(0, 0, 0, 0))
        p.addItem(self.sample_mark)
        p.scene().sigMouseClicked.connect(self._clicked)
        self.mode = ""
        self.grid: dict[str, np.ndarray] = {}
        self.table: tuple[list[str], list[np.ndarray]] = ([], [])
        self._bounds_key = None
        self._bounds_val = (-1.0, 1.0, -1.0, 1.0)
        self._neuron_key = None
        self.shown_neuron: str | None = None
        doc = self.document
        doc.datasetChanged.connect(self._on_dataset)
        doc.sampleChanged.connect(lambda *_: self.mark_dirty())
        doc.settingsChanged.connect(lambda: self.mark_dirty())   # (the held-out rows)
        doc.networkChanged.connect(self._on_network)
        self._on_dataset()

    # ------------------------------------------------------------------ options
    def _on_network(self, event, ids) -> None:
        if event is not NetworkEvent.PARAMS_CHANGED:
            self._fill_neurons()

    def _on_dataset(self) -> None:
        ds = self.document.dataset
        self.class_box.blockSignals(True)
        self.class_box.clear()
        if ds is not None and ds.class_names is not None:
            for k, name in enumerate(ds.class_names):
                self.class_box.addItem(name, k)
        self.class_box.blockSignals(False)
        self._bounds_key = None
        self._fill_neurons()
        self.mark_dirty()

    def _fill_neurons(self) -> None:
        net = self.document.network
        items = [(n.id, n.label, n.role) for n in net.neurons.values() if n.role != "input"]
        key = tuple(items)
        if key == self._neuron_key:
            return
        self._neuron_key = key
        cur = self.neuron_box.currentData()
        self.neuron_box.blockSignals(True)
        self.neuron_box.clear()
        self.neuron_box.addItem("Selected neuron", None)
        outs = [i for i in items if i[2] == "output"]
        hidden = [i for i in items if i[2] == "hidden"]
        for nid, label, role in outs + hidden:
            self.neuron_box.addItem(f"{label} ({role})", nid)
        i = self.neuron_box.findData(cur) if cur is not None else 0
        self.neuron_box.setCurrentIndex(max(0, i))
        self.neuron_box.blockSignals(False)

    def set_neuron(self, nid: str | None) -> None:
        """Show ``nid``'s activation in the heat map (None: follow the canvas selection)."""
        self._fill_neurons()
        i = 0 if nid is None else self.neuron_box.findData(nid)
        if i < 0:
            raise ValueError(f"{nid!r} is not an output or hidden neuron")
        self.neuron_box.setCurrentIndex(i)
        self.mark_dirty()

    def _heat_neuron(self) -> str | None:
        net = self.document.network
        nid = self.neuron_box.currentData()
        if nid is not None and nid in net.neurons:
            return nid
        for i in self.document.selection:
            if i in net.neurons and net.neurons[i].role != "input":
                return i
        outs = net.outputs
        return outs[0].id if outs else None

    def _is_class_data(self) -> bool:
        ds = self.document.dataset
        return ds is not None and ds.class_names is not None and ds.n_inputs == 2

    # ------------------------------------------------------------------ refresh
    def _hide_all(self) -> None:
        self.image.setVisible(False)
        self.iso.setVisible(False)
        self.curve.setData([], [])
        self.diag.setData([], [])
        self.points.setData([], [])
        self._points_key = None
        self.sample_mark.setData([], [])
        self._clear_extras()

    def _clear_extras(self, keep: str = "") -> None:
        """Hide what only one mode draws: residuals (curve), lines, probability bars."""
        if keep != "curve":
            self.residuals.setData([], [])
        if keep != "lines":
            for item in self.lines:
                self.plot.removeItem(item)
            self.lines = []
        if keep != "probabilities":
            self.bars.setOpts(x=[], height=[])
            for t in self.bar_labels:
                self.plot.removeItem(t)
            self.bar_labels = []
            self.plot.getAxis("bottom").setTicks(None)

    def refresh(self) -> None:
        doc = self.document
        ds = doc.dataset
        ev = doc.evaluation()
        class_2d = self._is_class_data()
        self.edit_box.setVisible(class_2d)
        self.class_box.setVisible(class_2d)
        if ev is None:
            self._hide_all()
            self.neuron_box.setVisible(False)
            self.mode = ""
            self.set_info(f"Cannot evaluate: {doc.evaluation_error()}")
            return
        eng = doc.engine()
        n_in, n_out = eng.n_input_columns, len(eng.output_ids)   # the data's input columns
        softmax = all(doc.network.neurons[o].activation == "softmax" for o in eng.output_ids)
        before = self.mode
        if n_in == 1 and n_out == 1:
            self.mode = "curve"
            self._curve(ds, ev, eng)
        elif softmax and n_in != 2:
            self.mode = "probabilities"
            self._probabilities(ds, ev, eng)
        elif n_in == 1:
            self.mode = "lines"
            self._lines(ds, ev, eng)
        elif n_in == 2:
            self.mode = "boundary"
            self._boundary(ds, ev, eng)
        else:
            self.mode = "pva"
            self._pva(ds, ev, eng)
        self._clear_extras(keep=self.mode)
        if before in ("lines", "probabilities") and self.mode in ("curve", "pva"):
            self._labels.pop((id(self.plot), "range"), None)   # fixed axes no longer
            self.plot.enableAutoRange()
        self.neuron_box.setVisible(self.mode == "boundary")
        self.toggles.setVisible(self.mode == "boundary")
        self._set_equal_axes(self.mode == "boundary")
        s = int(min(max(doc.sample_index, 0), len(ds) - 1))
        if self.mode == "probabilities":
            self.sample_mark.setData([], [])
        elif self.mode in ("curve", "lines"):
            self.sample_mark.setData([ds.X[s, 0]], [ds.Y[s, 0]])
        elif self.mode == "boundary":
            self.sample_mark.setData([ds.X[s, 0]], [ds.X[s, 1]])
        else:
            self.sample_mark.setData([ev.targets[s, 0]], [ev.outputs[s, 0]])

    def _set_equal_axes(self, on: bool) -> None:
        """Equal axes for the input plane (a circle of data stays a circle), free otherwise."""
        if on != self._equal_axes:
            self._equal_axes = on
            self.plot.setAspectLocked(on, ratio=1.0)

    def test_rows(self, ds: Dataset) -> np.ndarray | None:
        """The validation rows (held out from training), or None when none are."""
        s = self.document.settings
        rows = split_rows(len(ds), float(s.validation_split), int(s.seed))
        return None if rows is None else rows[1]

    def _set_points(self, mode: str, ds, x, y) -> None:
        """The data points only change with the dataset (and, on the input plane, the split
        and "Show test data"): re-set them (the slow part of a scatter plot) only then, not
        on every training snapshot. On the plane the held-out rows are hidden unless "Show
        test data" is on, and then drawn with a dark ring."""
        s = self.document.settings
        test = self.test_rows(ds) if mode == "boundary" else None
        show_test = self.test_box.isChecked()
        key = (mode, id(ds), len(ds), None if test is None else (s.validation_split, s.seed),
               show_test)
        if key == getattr(self, "_points_key", None):
            return
        if mode == "boundary" and ds.class_names is None:
            colors = style.diverging_colors(ds.Y[:, 0])
        else:
            colors = class_colors(ds, len(ds))
        cache: dict = {}
        brushes = [cache.setdefault(c if isinstance(c, str) else c.name(), pg.mkBrush(c))
                   for c in colors]
        if test is None:
            self.points.setData(x, y, brush=brushes)
        else:
            held = np.zeros(len(ds), dtype=bool)
            held[test] = True
            keep = np.flatnonzero(~held | show_test)
            ring, plain = pg.mkPen(style.TEXT_HEX, width=2.0), pg.mkPen("w", width=1.2)
            self.points.setData(np.asarray(x)[keep], np.asarray(y)[keep],
                                brush=[brushes[i] for i in keep],
                                pen=[ring if held[i] else plain for i in keep])
        self._points_key = key

    def _score(self, ds, ev) -> str:
        if ds.class_names is not None:
            try:
                return f"accuracy {100 * ds.accuracy(ev.outputs):.1f}%"
            except ValueError:
                return ""
        return f"loss {ev.loss:.5g}"

    def _curve(self, ds, ev, eng) -> None:
        self.image.setVisible(False)
        self.iso.setVisible(False)
        self.diag.setData([], [])
        x = ds.X[:, 0]
        lo, hi = float(x.min()), float(x.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 1, hi + 1
        pad = 0.12 * (hi - lo)
        xs = np.linspace(lo - pad, hi + pad, 400)
        ys = eng.predict(xs[:, None])[:, 0]
        self.curve.setData(xs, ys)
        self._set_points("curve", ds, x, ds.Y[:, 0])
        self.set_label(self.plot, "bottom", ds.input_names[0])
        self.set_label(self.plot, "left", ds.target_names[0])
        self.grid = {"x": xs, "prediction": ys}
        actual, predicted = ds.Y[:, 0], ev.outputs[:, 0]
        self.residuals.setData(np.repeat(x, 2), np.column_stack([actual, predicted]).ravel())
        ssr = float(np.sum((actual - predicted) ** 2))
        self.table = (["x", "target", "prediction", "residual"],
                      [x, actual, predicted, actual - predicted])
        self.set_info(f"SSR {ssr:.4g} · {len(x)} samples · line: the network's output, "
                      f"dashes: the residuals · {self._score(ds, ev)}",
                      "Each dashed segment is a residual, actual − predicted; the SSR is the "
                      "sum of their squares (seed 001).")

    def _lines(self, ds, ev, eng) -> None:
        """One input, several outputs: each output's line, on axes that stay put while the
        weights change (so a steeper line looks steeper)."""
        self.image.setVisible(False)
        self.iso.setVisible(False)
        self.diag.setData([], [])
        self.curve.setData([], [])
        x = ds.X[:, 0]
        lo, hi = float(x.min()), float(x.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 1, hi + 1
        xs = np.linspace(lo, hi, 200)
        ys = eng.predict(xs[:, None])
        net = self.document.network
        names = [net.neurons[o].label for o in eng.output_ids]
        if len(self.lines) != len(names):
            self._clear_extras(keep="")
            self.lines = [self.plot.plot([], [], pen=pen(series_color(j), 2.5), name=nm)
                          for j, nm in enumerate(names)]
        for j, item in enumerate(self.lines):
            item.setData(xs, ys[:, j])
        key = ("lines", id(ds), len(ds))
        if key != getattr(self, "_points_key", None):     # the targets, each line's colour
            self.points.setData(np.tile(x, ds.n_targets), ds.Y.T.ravel(),
                                brush=[pg.mkBrush(series_color(j)) for j in range(ds.n_targets)
                                       for _ in range(len(x))])
            self._points_key = key
        y_lo, y_hi = float(ds.Y.min()), float(ds.Y.max())
        pad = 0.08 * max(y_hi - y_lo, 1.0)
        self.set_range(self.plot, lo, hi, y_lo - pad, y_hi + pad)   # fixed by the data
        self.set_label(self.plot, "bottom", ds.input_names[0])
        self.set_label(self.plot, "left", "output")
        self.grid = {"x": xs, **{nm: ys[:, j] for j, nm in enumerate(names)}}
        self.table = (["x", *names], [xs, *[ys[:, j] for j in range(len(names))]])
        legend = ", ".join(names)
        self.set_info(f"{len(names)} lines on fixed axes: {legend} · {self._score(ds, ev)}",
                      "Every output's line over the input range, on axes set by the data: "
                      "a larger weight makes a steeper line, the bias moves it up or down.")

    def _probabilities(self, ds, ev, eng) -> None:
        """Softmax outputs: a probability bar per output for the chosen sample."""
        self.image.setVisible(False)
        self.iso.setVisible(False)
        self.diag.setData([], [])
        self.curve.setData([], [])
        self.points.setData([], [])
        self._points_key = None
        s = int(min(max(self.document.sample_index, 0), len(ds) - 1))
        probs = ev.outputs[s]
        n = len(probs)
        target = int(np.argmax(ds.Y[s])) if ds.class_names is not None else -1
        brushes = [pg.mkBrush(POSITIVE if j == target else MUTED) for j in range(n)]
        self.bars.setOpts(x=np.arange(n), height=probs, width=0.6, brushes=brushes,
                          pen=pg.mkPen("w"))
        net = self.document.network
        names = [net.neurons[o].label for o in eng.output_ids]
        self.plot.getAxis("bottom").setTicks([list(enumerate(names))])
        for t in self.bar_labels:
            self.plot.removeItem(t)
        self.bar_labels = []
        for j, v in enumerate(probs):
            t = pg.TextItem(f"{v:.4g}", color=style.TEXT_HEX, anchor=(0.5, 1.0))
            t.setPos(j, float(v))
            self.plot.addItem(t)
            self.bar_labels.append(t)
        self.set_range(self.plot, -0.6, n - 0.4, 0.0, 1.12)
        self.set_label(self.plot, "bottom", "output")
        self.set_label(self.plot, "left", "probability")
        self.table = (["output", "probability"], [np.arange(n, dtype=float), probs])
        picked = names[int(np.argmax(probs))]
        truth = f" (the data says {names[target]})" if target >= 0 else ""
        self.set_info(f"sample {s + 1}: softmax probabilities, sum {probs.sum():.3g} · "
                      f"answer {picked}{truth}",
                      "Softmax turns the raw outputs into probabilities that add up to 1; the "
                      "blue bar is the sample's true class. Pick another sample in the dataset "
                      "panel.")

    def _bounds(self, ds) -> tuple[float, float, float, float]:
        key = (id(ds), len(ds))
        if key != self._bounds_key:
            b = plane_bounds(ds.X)   # (the neurons' pictures show the same part of the plane)
            self._bounds_val = (b.x0, b.x1, b.y0, b.y1)
            self._bounds_key = key
        return self._bounds_val

    def _boundary(self, ds, ev, eng) -> None:
        net = self.document.network
        self.curve.setData([], [])
        self.diag.setData([], [])
        nid = self.shown_neuron = self._heat_neuron()
        x0, x1, y0, y1 = self._bounds(ds)
        busy = self.busy
        n = GRID_BUSY if busy else GRID
        gx = np.linspace(x0, x1, n)
        gy = np.linspace(y0, y1, n)
        XX, YY = np.meshgrid(gx, gy, indexing="ij")      # [i, j] -> (gx[i], gy[j])
        Xg = np.column_stack([XX.ravel(), YY.ravel()])
        neuron = net.neurons[nid]
        if neuron.role == "output":
            k = eng.output_ids.index(nid)
            vals = eng.predict(Xg)[:, k]
        else:
            vals = neuron_activations(eng, Xg, nid)
        img = vals.reshape(n, n)
        lo, hi, centre = self._levels(neuron, vals, ds)
        if self.discrete_box.isChecked():   # the decision only: each side of the line
            img = np.where(img >= centre, hi, lo)
        self.image.setImage(img, levels=(lo, hi), autoLevels=False)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.image.setVisible(True)
        # the boundary: where the activation crosses the threshold (IsocurveItem works in
        # image pixel coordinates, which the image's transform maps onto the data)
        # the boundary line is traced in Python (slow): drawn when training pauses; while
        # training the white band of the colour map shows the boundary
        crosses = bool(np.nanmin(img) < centre < np.nanmax(img))
        if busy or not crosses:
            self.iso.setVisible(False)
        else:
            self.iso.setData(img, level=centre)
            self.iso.setVisible(True)
        self._set_points("boundary", ds, ds.X[:, 0], ds.X[:, 1])
        self.set_label(self.plot, "bottom", ds.input_names[0])
        self.set_label(self.plot, "left", ds.input_names[1])
        self.set_range(self.plot, x0, x1, y0, y1)
        self.grid = {"x1": gx, "x2": gy, "value": img}
        cols = [ds.X[:, 0], ds.X[:, 1]] + [ds.Y[:, j] for j in range(ds.n_targets)] + \
            [ev.outputs[:, j] for j in range(ev.outputs.shape[1])]
        header = list(ds.input_names) + [f"target {t}" for t in ds.target_names] + \
            [f"output {net.neurons[o].label}" for o in eng.output_ids]
        self.table = (header, cols)
        title = acts.ACTIVATIONS[neuron.activation].title
        score = self._score(ds, ev)
        self.set_info(f"{score} · {neuron.label} ({title}), line at {centre:g}",
                      f"The heat map is {neuron.label}'s activation ({neuron.role} neuron, "
                      f"{title}) over the input plane; the line is where it equals {centre:g}. "
                      f"{score[:1].upper() + score[1:]} on the data.")

    def _levels(self, neuron, vals, ds) -> tuple[float, float, float]:
        return activation_levels(neuron.activation,
                                 threshold(neuron.role, ds.class_names is not None), vals)

    def _pva(self, ds, ev, eng) -> None:
        self.image.setVisible(False)
        self.iso.setVisible(False)
        self.curve.setData([], [])
        net = self.document.network
        t, o = ev.targets, ev.outputs
        xs = np.concatenate([t[:, j] for j in range(t.shape[1])])
        ys = np.concatenate([o[:, j] for j in range(o.shape[1])])
        brushes = [pg.mkBrush(series_color(j)) for j in range(t.shape[1]) for _ in range(len(t))]
        self.points.setData(xs, ys, brush=brushes)
        self._points_key = None
        lo = float(min(xs.min(), ys.min()))
        hi = float(max(xs.max(), ys.max()))
        self.diag.setData([lo, hi], [lo, hi])
        self.set_label(self.plot, "bottom", "actual (target)")
        self.set_label(self.plot, "left", "predicted (output)")
        names = [net.neurons[i].label for i in eng.output_ids]
        header, cols = [], []
        for j, nm in enumerate(names):
            header += [f"actual {nm}", f"predicted {nm}"]
            cols += [t[:, j], o[:, j]]
        self.table = (header, cols)
        score = self._score(ds, ev)
        outs = f"{len(names)} output{'s' if len(names) != 1 else ''}"
        self.set_info(f"{outs} · on the line = exact · {score}",
                      f"Predicted against actual for {len(t)} samples and {outs}: a point on the "
                      f"dashed line y = x is predicted exactly. {score[:1].upper() + score[1:]}.")

    # ------------------------------------------------------------------ editing points
    def _clicked(self, ev) -> None:
        if not (self.mode == "boundary" and self._is_class_data() and self.edit_box.isChecked()):
            return
        if ev.button() != Qt.LeftButton:
            return
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        ev.accept()
        k = self.class_box.currentData()
        self.add_point(p.x(), p.y(), 0 if k is None else int(k))

    def _context_menu(self, ev) -> None:
        if self.mode == "boundary" and self._is_class_data() and self.edit_box.isChecked():
            vb = self.plot.getViewBox()
            p = vb.mapSceneToView(ev.scenePos())
            px = vb.viewPixelSize()
            if self.remove_point_near(p.x(), p.y(), px[0] * PICK_PIXELS, px[1] * PICK_PIXELS):
                ev.accept()
                return
        super()._context_menu(ev)

    def add_point(self, x1: float, x2: float, cls: int) -> None:
        """Add a row (x1, x2) of class ``cls`` to the dataset (one undo step)."""
        ds = self.document.dataset
        if ds.class_names is None or ds.n_inputs != 2:
            raise ValueError("points can be added by clicking only to 2-input classification data")
        if not 0 <= cls < len(ds.class_names):
            raise ValueError(f"class {cls} does not exist")
        y = np.zeros(ds.n_targets)
        if ds.n_targets == 1:
            y[0] = float(cls)
        else:
            y[cls] = 1.0
        new = ds.with_rows(np.vstack([ds.X, [[x1, x2]]]), np.vstack([ds.Y, y[None, :]]))
        self.document.set_dataset(new, text=f"Add a {ds.class_names[cls]} point")

    def remove_point_near(self, x1: float, x2: float, rx: float, ry: float) -> bool:
        """Remove the data point nearest to (x1, x2) within the (rx, ry) ellipse."""
        ds = self.document.dataset
        if ds is None or len(ds) <= 1:
            return False
        d = ((ds.X[:, 0] - x1) / max(rx, 1e-300)) ** 2 + ((ds.X[:, 1] - x2) / max(ry, 1e-300)) ** 2
        i = int(np.argmin(d))
        if d[i] > 1.0:
            return False
        keep = np.ones(len(ds), dtype=bool)
        keep[i] = False
        self.document.set_dataset(ds.rows(keep), text=f"Remove point {i + 1}")
        return True

    def csv_table(self) -> tuple[list[str], list[list[float]]]:
        header, cols = self.table
        return header, [list(r) for r in zip(*cols, strict=True)] if cols else []

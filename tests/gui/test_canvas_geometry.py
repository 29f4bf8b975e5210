"""Backprop arrows run beside their connection lines, clear of even the thickest one."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core import datasets
from nnstudio.core.network import Network
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.canvas.connections import MAX_WIDTH, distance_to_segments
from nnstudio.gui.canvas.overlay import ARROW_GAP, Overlay
from nnstudio.gui.canvas.view import CanvasView
from nnstudio.gui.document import Document


def fan_net() -> Network:
    """Three inputs feeding one output with big weights (the thickest lines)."""
    net = Network()
    for i, y in enumerate((-120, 0, 120)):
        net.add_neuron("input", id=f"x{i}", x=0, y=y)
    net.add_neuron("output", id="y", activation="sigmoid", x=260, y=30)
    for i in range(3):
        net.connect(f"x{i}", "y", 40.0 * (-1) ** i, id=f"c{i}")
    return net


@pytest.fixture
def view(qtbot):
    X = np.zeros((2, 3))
    Y = np.zeros((2, 1))
    ds = datasets.Dataset(["a", "b", "c"], ["t"], X, Y)
    doc = Document(Project(fan_net(), ds, TrainSettings(loss="mse")))
    v = CanvasView(doc)
    qtbot.addWidget(v)
    v.resize(700, 500)
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.mark.parametrize("mag", [1.0, 1e-3])
def test_arrows_never_touch_their_connection_lines(view, mag):
    sc = view.scene()
    sc.set_overlay(Overlay(arrows={"y": mag, "x0": 0.5 * mag}))
    item = sc.overlay_item
    assert len(item.arrows) == 4   # one per incoming connection of y; x0 has none: to its left
    net = view.scene().document.network
    incoming = net.incoming("y")   # the arrows of y, in this order
    for (path, _color, _width), c in zip(item.arrows[:3], incoming, strict=True):
        a, b = net.neurons[c.source], net.neurons[c.target]
        own = np.array([[a.x, a.y, b.x, b.y]], float)
        poly = path.toFillPolygon()
        for k in range(poly.size()):
            p = poly.at(k)
            d = distance_to_segments((p.x(), p.y()), own).min()
            # even the arrow's head stays clear of the thickest line's edge
            assert d >= MAX_WIDTH / 2 + ARROW_GAP - 1e-6, (c.id, p, d)
    view.grab()


def test_view_refits_on_resize_until_the_user_zooms_or_pans(view, qtbot):
    from PySide6.QtWidgets import QApplication
    view.fit()
    assert view.auto_fit
    s0 = view.scale_factor()
    view.resize(700, 260)            # e.g. the backprop dock grew under the canvas
    qtbot.waitUntil(lambda: view.scale_factor() < s0 - 1e-6, timeout=2000)
    rect = view.scene().content_rect()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(rect)      # the whole network is still in view
    view.zoom_in()                   # the user takes over: resizes keep their view
    assert not view.auto_fit
    s1 = view.scale_factor()
    view.resize(700, 500)
    for _ in range(3):
        QApplication.processEvents()
    assert view.scale_factor() == s1
    view.fit()
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + 30)   # a pan
    assert not view.auto_fit

"""The boundary picture in every neuron: one per neuron for two-input data, the same
activations the engine computes, live while training, none where they cannot be drawn, and
the View menu's switch."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from nnstudio import paths
from nnstudio.core.neuron_maps import THUMB_GRID, neuron_maps, plane_bounds
from nnstudio.gui.canvas.view import CanvasView
from nnstudio.gui.document import Document


def _view(qtbot, doc):
    v = CanvasView(doc)
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.fixture
def xor_view(qtbot):
    return _view(qtbot, Document.open(paths.SAMPLES / "xor.nnproj"))


def _pixels(img) -> np.ndarray:
    """(rows, columns, RGB) of a QImage or QPixmap."""
    img = img.toImage() if not isinstance(img, QImage) else img
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    raw = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes())
    return raw.reshape(img.height(), img.bytesPerLine())[:, : 3 * img.width()].reshape(
        img.height(), img.width(), 3).copy()   # (a copy: the buffer goes with img)


def test_every_neuron_has_a_picture_of_its_activation(qtbot, xor_view):
    scene, doc = xor_view.scene(), xor_view.scene().document
    pics = scene.pictures
    qtbot.waitUntil(lambda: len(pics.sources) == len(doc.network.neurons))
    eng = doc.engine()
    maps = neuron_maps(eng, plane_bounds(doc.dataset.X), THUMB_GRID)
    out = doc.network.outputs[0].id
    img = scene.pictures.image(out)
    assert img.width() == img.height() == THUMB_GRID
    # the output (sigmoid, class data): blue where its activation is above 0.5
    px = _pixels(img)
    a = maps.values[maps.ids.index(out)].copy()
    c = np.arange(THUMB_GRID) + 0.5 - THUMB_GRID / 2
    outside = np.hypot(*np.meshgrid(c, c)) > THUMB_GRID / 2 - 2   # (the corners are clear)
    assert (img.pixelColor(0, 0).alpha() == 0
            and img.pixelColor(20, 20).alpha() == 255)
    a_hi, a_lo = np.where(outside, -np.inf, a), np.where(outside, np.inf, a)
    hi = np.unravel_index(np.argmax(a_hi), a.shape)
    lo = np.unravel_index(np.argmin(a_lo), a.shape)
    if a[hi] > 0.5:
        assert px[hi][2] > px[hi][0]          # blue-ish
    if a[lo] < 0.5:
        assert px[lo][0] > px[lo][2]          # orange-ish
    # painted into the neuron's body
    item = scene.item_for_node[out]
    canvas = QImage(200, 200, QImage.Format.Format_RGB888)
    canvas.fill(0)
    p = QPainter(canvas)
    scene.render(p, canvas.rect().toRectF(), item.sceneBoundingRect())
    p.end()
    assert len(np.unique(_pixels(canvas).reshape(-1, 3), axis=0)) > 20


def test_pictures_follow_the_parameters(qtbot, xor_view):
    scene, doc = xor_view.scene(), xor_view.scene().document
    pics = scene.pictures
    h = next(n.id for n in doc.network.neurons.values() if n.role == "hidden")
    qtbot.waitUntil(lambda: h in pics.sources)
    before, count = _pixels(pics.image(h)).copy(), pics.refreshes
    cid = next(c.id for c in doc.network.connections.values() if c.target == h)
    doc.set_param(cid, doc.network.get_param(cid) + 3.0)
    with qtbot.waitSignal(pics.changed, timeout=3000):
        pass
    assert pics.refreshes > count
    assert not np.array_equal(_pixels(pics.image(h)), before)


def test_no_pictures_without_two_input_columns_and_the_switch_clears_them(qtbot):
    v = _view(qtbot, Document.open(paths.SAMPLES / "three-layer.nnproj"))   # three inputs
    pics = v.scene().pictures
    pics.refresh()
    assert pics.sources == {}
    v2 = _view(qtbot, Document.open(paths.SAMPLES / "xor.nnproj"))
    pics2 = v2.scene().pictures
    pics2.refresh()
    assert pics2.sources
    pics2.set_enabled(False)
    assert pics2.sources == {} and v2.scene().picture(next(iter(v2.scene().item_for_node))) \
        is None
    pics2.set_enabled(True)
    assert pics2.sources


def test_the_view_menu_switch_is_remembered(qtbot, window):
    a = window.actions["neuron_pictures"]
    pics = window.canvas_view.scene().pictures
    assert a.isChecked() and pics.enabled
    a.trigger()
    QApplication.processEvents()
    assert not pics.enabled and pics.sources == {}
    assert window.settings.bool("view/neuron_pictures", True) is False
    a.trigger()
    assert pics.enabled


def test_pictures_refresh_while_training(qtbot, window):
    pics = window.canvas_view.scene().pictures
    ctl = window.training.controller
    window.document.set_settings(epochs=10**7)
    count = pics.refreshes
    ctl.play()
    try:
        qtbot.waitUntil(lambda: pics.refreshes >= count + 3 and ctl.snapshots_applied >= 3,
                        timeout=10000)
    finally:
        ctl.pause()
    assert len(pics.sources) == len(window.document.network.neurons)

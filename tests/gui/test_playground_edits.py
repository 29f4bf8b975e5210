"""What a TensorFlow Playground user reaches for, on the canvas and in the palette: derived
inputs switched on and off, + and − per hidden layer, adding and removing hidden layers; and
the palette tile that drags from its title, the port that stops glowing after a drag."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDrag, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnstudio import paths
from nnstudio.gui.canvas.palette import ROLE_MIME, Palette
from nnstudio.gui.canvas.view import CanvasView
from nnstudio.gui.derived_inputs import DerivedInputActions
from nnstudio.gui.document import Document
from tests.gui.test_canvas import drag, port_of, vp

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def doc(qtbot):
    return Document.open(paths.SAMPLES / "xor.nnproj")


@pytest.fixture
def view(qtbot, doc):
    v = CanvasView(doc)
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    v.fit()
    QApplication.processEvents()
    return v


def test_a_derived_input_switch_adds_a_connected_input_and_undo_takes_it_away(qtbot, doc):
    host = Palette(doc)
    qtbot.addWidget(host)
    toggles = DerivedInputActions(doc, host)
    host.set_derived_actions(list(toggles.actions.values()))
    chip = host.tiles["input"].chips[2]
    assert chip.text() == "x1·x2" and not chip.isChecked()
    chip.click()
    net = doc.network
    n = net.derived_input("x1*x2")
    assert n is not None and n.label == "x1·x2" and n.role == "input"
    # connected like the data inputs: to every neuron they feed
    fed = {c.target for i in net.data_inputs for c in net.outgoing(i.id)}
    assert {c.target for c in net.outgoing(n.id)} == fed
    assert doc.undo_stack.count() == 1 and doc.undo_stack.text(0) == \
        "Switch on derived input x1·x2"
    assert chip.isChecked() and toggles.actions["x1*x2"].isChecked()
    assert doc.evaluation() is not None      # the engine computes it from the data
    chip.click()
    assert net.derived_input("x1*x2") is None and not chip.isChecked()
    doc.undo_stack.undo()
    assert net.derived_input("x1*x2") is not None and chip.isChecked()
    doc.undo_stack.undo()
    assert net.derived_input("x1*x2") is None and not chip.isChecked()


def test_derived_inputs_use_the_column_names_and_need_the_columns(qtbot):
    doc = Document.open(paths.SAMPLES / "dosage-backprop.nnproj")
    toggles = DerivedInputActions(doc, doc)
    a = toggles.actions
    assert a["x1^2"].text() == "dosage²" and a["x1^2"].isEnabled()
    assert not a["x2^2"].isEnabled() and "data has 1 input column" in a["x2^2"].toolTip()
    a["x1^2"].trigger()
    assert doc.network.derived_input("x1^2").label == "dosage²"


def window_mouse(widget, kind: QEvent.Type, pos: QPoint, buttons) -> None:
    """A mouse event as the window system delivers it: to the window, which routes it to the
    widget under the pointer (or to the one that took the press), as a real pointer would."""
    win = widget.window().windowHandle()
    local = QPointF(widget.mapTo(widget.window(), pos))
    button = LEFT if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    QApplication.sendEvent(win, QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)),
                                            button, buttons, Qt.KeyboardModifier.NoModifier))


def test_the_whole_palette_tile_drags_even_from_its_bold_title(qtbot, doc, monkeypatch):
    palette = Palette(doc)
    qtbot.addWidget(palette)
    palette.show()
    qtbot.waitExposed(palette)
    started: list[bytes] = []

    def exec_(drag: QDrag, *a: object) -> Qt.DropAction:
        started.append(bytes(drag.mimeData().data(ROLE_MIME)))
        return Qt.DropAction.IgnoreAction
    monkeypatch.setattr(QDrag, "exec", exec_)
    for role in ("input", "hidden", "output"):
        title = palette.tiles[role].title
        start = QPoint(4, title.height() // 2)
        window_mouse(title, QEvent.Type.MouseButtonPress, start, LEFT)
        for dx in (6, 14, 24):   # the pointer moves on with the button held
            window_mouse(title, QEvent.Type.MouseMove, start + QPoint(dx, 3), LEFT)
        window_mouse(title, QEvent.Type.MouseButtonRelease, start + QPoint(24, 3),
                     Qt.MouseButton.NoButton)
    assert started == [b"input", b"hidden", b"output"]


def test_a_layers_plus_and_minus_buttons_add_and_remove_one_neuron(qtbot, view, doc):
    sc = view.scene()
    sc.flush()
    net = doc.network
    buttons = {(b.depth, b.op): b for b in sc.layer_buttons.buttons}
    assert set(buttons) == {(1, "+"), (1, "-")}     # the one hidden layer (not in/out)
    before = list(net.layers()[1])
    pos = view.mapFromScene(buttons[(1, "+")].centre)
    QTest.mouseClick(view.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, pos)
    after = net.layers()[1]
    assert len(after) == 4
    new = next(i for i in after if i not in before)
    assert net.neurons[new].activation == "tanh"   # like its neighbours
    assert {c.source for c in net.incoming(new)} == {"x1", "x2"}
    assert {c.target for c in net.outgoing(new)} == {o.id for o in net.outputs}
    assert doc.undo_stack.count() == 1
    sc.flush()
    minus = next(b for b in sc.layer_buttons.buttons if b.op == "-")
    QTest.mouseClick(view.viewport(), LEFT, Qt.KeyboardModifier.NoModifier,
                     view.mapFromScene(minus.centre))
    assert net.layers()[1] == before and doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    assert len(net.layers()[1]) == 4


def test_the_last_neuron_of_a_layer_and_the_inputs_are_refused_with_a_reason(qtbot, doc):
    with pytest.raises(ValueError, match="derived input"):
        doc.add_neuron_to_layer(0)
    for _ in range(2):
        doc.remove_neuron_from_layer(1)
    with pytest.raises(ValueError, match="one neuron left"):
        doc.remove_neuron_from_layer(1)


def test_hidden_layers_are_added_after_the_last_and_removed_keeping_a_path(qtbot, doc):
    net = doc.network
    assert [len(layer) for layer in net.layers()] == [2, 3, 1]
    doc.add_hidden_layer()
    assert [len(layer) for layer in net.layers()] == [2, 3, 3, 1]
    assert all(net.neurons[i].activation == "tanh" for i in net.layers()[2])
    doc.remove_hidden_layer()
    doc.remove_hidden_layer()
    # no hidden layer left: the inputs feed the output directly
    assert [len(layer) for layer in net.layers()] == [2, 1]
    assert {c.source for c in net.incoming(net.outputs[0].id)} == {"x1", "x2"}
    with pytest.raises(ValueError, match="no hidden layer"):
        doc.remove_hidden_layer()
    assert doc.undo_stack.count() == 3
    for _ in range(3):
        doc.undo_stack.undo()
    assert [len(layer) for layer in net.layers()] == [2, 3, 1]


def test_a_port_stops_glowing_once_a_connection_drag_ends(qtbot, view, doc):
    sc = view.scene()
    start = port_of(view, "x1")
    QTest.mouseMove(view.viewport(), start)
    item = sc.item_for("x1")
    item.port_hovered = True                 # (what hovering the port did)
    drag(view, start, vp(view, *_pos(doc, "h1")))
    assert not item.port_hovered


def _pos(doc: Document, nid: str) -> tuple[float, float]:
    n = doc.network.neurons[nid]
    return n.x, n.y


def test_image_data_shows_no_derived_input_switches(qtbot):
    from PySide6.QtWidgets import QWidget

    from nnstudio.gui.derived_inputs import DerivedInputActions
    host = QWidget()
    qtbot.addWidget(host)
    doc = Document.open(paths.SAMPLES / "cnn-o-vs-x.nnproj")
    acts = DerivedInputActions(doc, host)
    palette = Palette(doc)
    qtbot.addWidget(palette)
    palette.set_derived_actions(list(acts.actions.values()))
    palette.show()
    assert not any(a.isVisible() for a in acts.actions.values())
    assert not any(c.isVisible() for c in palette.tiles["input"].chips)
    doc.replace_project(Document.open(paths.SAMPLES / "xor.nnproj").project, None)
    assert all(a.isVisible() for a in acts.actions.values())
    assert all(c.isVisible() for c in palette.tiles["input"].chips)


@pytest.mark.parametrize("size", [(460, 300), (900, 600)])
def test_a_fitted_network_never_runs_under_the_colour_key(qtbot, doc, size):
    from PySide6.QtCore import QRectF

    from nnstudio.gui.canvas.view import LEGEND_SIZE
    v = CanvasView(doc)
    qtbot.addWidget(v)
    v.resize(*size)
    v.show()
    qtbot.waitExposed(v)
    v.fit()
    QApplication.processEvents()
    vp = v.viewport().rect()
    key = QRectF(vp.width() - LEGEND_SIZE[0] - 10, vp.height() - LEGEND_SIZE[1] - 10,
                 *LEGEND_SIZE)
    for item in v.scene().item_for_node.values():
        body = v.mapFromScene(item.sceneBoundingRect()).boundingRect().toRectF()
        assert not body.intersects(key), item.nid
        assert vp.toRectF().contains(body), item.nid


def test_value_badges_never_overlap_and_stay_in_view(qtbot, view, doc):
    from nnstudio.gui.canvas.overlay import Overlay
    scene = view.scene()
    text = dict.fromkeys(doc.network.connections, "w = 0.123456 → 0.654321")
    scene.set_overlay(Overlay(connection_text=text,
                              neuron_text=dict.fromkeys(doc.network.neurons, "a = 0.5")))
    badges = [r for r, _ in scene.overlay_item.badges]
    assert len(badges) == len(text) + len(doc.network.neurons)
    for i, a in enumerate(badges):
        assert not any(a.intersects(b) for b in badges[i + 1:])
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    assert seen.contains(scene.overlay_item.sceneBoundingRect())   # nothing clipped

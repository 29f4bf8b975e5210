"""Canvas tests: the scene follows the document; every gesture is one document call."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from nnstudio.core import datasets
from nnstudio.core.network import Network, dense
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings
from nnstudio.gui.canvas.connections import distance_to_segments
from nnstudio.gui.canvas.items import NeuronItem
from nnstudio.gui.canvas.overlay import Overlay
from nnstudio.gui.canvas.palette import ROLE_MIME, Palette
from nnstudio.gui.canvas.scene import ConnectionRef
from nnstudio.gui.canvas.view import CanvasView
from nnstudio.gui.document import Document

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


def small_net() -> Network:
    """x1, x2 -> h1, h2 -> y1 laid out left to right, known weights."""
    net = Network()
    net.add_neuron("input", id="x1", x=0, y=-60)
    net.add_neuron("input", id="x2", x=0, y=60)
    net.add_neuron("hidden", id="h1", activation="tanh", x=200, y=-60, bias=0.1)
    net.add_neuron("hidden", id="h2", activation="tanh", x=200, y=60, bias=-0.2)
    net.add_neuron("output", id="y1", activation="sigmoid", x=400, y=0)
    net.connect("x1", "h1", 0.5, id="c1")
    net.connect("x2", "h2", -1.5, id="c2")
    net.connect("h1", "y1", 2.0, id="c3")
    return net


@pytest.fixture
def doc(qtbot):
    ds = datasets.generate("xor")
    proj = Project(small_net(), ds, TrainSettings(loss="mse", optimizer="gd", learning_rate=0.1,
                                                  epochs=10))
    d = Document(proj)
    messages: list[str] = []
    d.statusMessage.connect(lambda text, timeout: messages.append(text))
    d.messages = messages
    return d


@pytest.fixture
def view(qtbot, doc):
    v = CanvasView(doc)
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    v.resetTransform()
    v.centerOn(200, 0)
    QApplication.processEvents()
    return v


def vp(view, x, y) -> QPoint:
    return view.mapFromScene(QPointF(x, y))


def drag(view, start: QPoint, end: QPoint, steps: int = 6, button=Qt.MouseButton.LeftButton,
         modifier=Qt.KeyboardModifier.NoModifier):
    w = view.viewport()
    QTest.mousePress(w, button, modifier, start)
    for k in range(1, steps + 1):
        p = start + (end - start) * (k / steps)
        QTest.mouseMove(w, p)
    QTest.mouseRelease(w, button, modifier, end)


def drop(view, mime, pos: QPoint) -> bool:
    """What a real drag does: enter, move, drop (QTest cannot start a real QDrag)."""
    w = view.viewport()
    enter = QDragEnterEvent(QPoint(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, enter)
    if not enter.isAccepted():
        return False
    move = QDragMoveEvent(QPoint(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, move)
    ev = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, ev)
    return ev.isAccepted()


def port_of(view, nid) -> QPoint:
    item = view.scene().item_for(nid)
    return view.mapFromScene(item.port_scene_pos())


# ---------------------------------------------------------------------------- model -> scene
def test_scene_builds_items_from_the_model(view, doc):
    sc = view.scene()
    assert set(sc.item_for_node) == set(doc.network.neurons)
    assert all(sc.node_for_item[i] == nid for nid, i in sc.item_for_node.items())
    ref = sc.item_for("c2")
    assert isinstance(ref, ConnectionRef) and ref.source == "x2" and ref.target == "h2"
    assert isinstance(sc.item_for("h1"), NeuronItem)
    assert sc.item_for("nope") is None
    # an edit through the document appears; undo removes it again
    nid = doc.add_neuron("hidden", 300, 200)
    assert isinstance(sc.item_for(nid), NeuronItem)
    doc.undo_stack.undo()
    assert sc.item_for(nid) is None


def test_values_follow_parameters(view, doc, qtbot):
    sc = view.scene()
    with qtbot.waitSignal(doc.evaluationChanged):
        doc.set_sample(1)  # XOR sample (0, 1)
    z, a, _ = doc.neuron_values("h2")
    assert sc.item_for("h2").value == pytest.approx(a)
    before = sc.item_for("h2").fill.name()
    with qtbot.waitSignal(doc.evaluationChanged):
        doc.set_param("c2", 3.0)
    sc.refresh_values()
    z2, a2, _ = doc.neuron_values("h2")
    assert a2 != pytest.approx(a)
    assert sc.item_for("h2").value == pytest.approx(a2)
    assert sc.item_for("h2").fill.name() != before


def test_weight_buckets_follow_the_store(view, doc):
    layer = view.scene().connections
    view.grab()
    i = layer.index["c2"]
    key_before = layer.bucket_key("c2")
    assert layer.keys() is layer.keys() and i == layer.index["c2"]   # cached until an edit
    assert (key_before % 4) // 2 == 1  # negative
    doc.set_param("c2", 2.5)
    view.grab()
    key_after = layer.bucket_key("c2")
    assert (key_after % 4) // 2 == 0 and key_after // 4 > key_before // 4


def test_tooltips_give_exact_values(view, doc):
    sc = view.scene()
    text = sc.neuron_tooltip("h1")
    assert "tanh" in text.lower() and "bias" in text and "dL/dz" in text
    _, a, _ = doc.neuron_values("h1")
    assert f"{a:.6g}" in text
    ctext = sc.connection_tooltip("c3")
    assert "2" in ctext and "h1 → y1" in ctext and "dL/dw" in ctext


# ---------------------------------------------------------------------------- palette drop
@pytest.mark.parametrize("role", ["input", "hidden", "output"])
def test_palette_drop_creates_a_neuron(qtbot, view, doc, role):
    palette = Palette(doc)
    qtbot.addWidget(palette)
    if role != "input":
        tile = palette.tiles[role]
        tile.combo.setCurrentIndex(tile.combo.findData("sigmoid"))
    mime = palette.mime_data(role)
    assert mime.hasFormat(ROLE_MIME)
    before = set(doc.network.neurons)
    assert drop(view, mime, vp(view, 120, 180))
    new = set(doc.network.neurons) - before
    assert len(new) == 1
    n = doc.network.neurons[new.pop()]
    assert n.role == role
    assert n.activation == ("identity" if role == "input" else "sigmoid")
    assert (n.x, n.y) == pytest.approx((120, 180), abs=1.5)
    assert doc.selection == (n.id,)
    assert isinstance(view.scene().item_for(n.id), NeuronItem)
    doc.undo_stack.undo()
    assert n.id not in doc.network.neurons


def test_drop_snaps_to_grid_when_snapping(view, doc):
    view.scene().snap_to_grid = True
    mime = Palette(doc).mime_data("hidden")
    assert drop(view, mime, vp(view, 127, 171))
    n = doc.network.neurons[doc.selection[0]]
    assert (n.x % 20, n.y % 20) == (0, 0)
    # other payloads (e.g. a file) are not taken by the canvas
    other = QMimeData()
    other.setText("hello")
    n_before = len(doc.network.neurons)
    assert not drop(view, other, vp(view, 50, 50))
    assert len(doc.network.neurons) == n_before


# ---------------------------------------------------------------------------- connecting
def test_drag_from_port_to_neuron_connects(view, doc):
    assert doc.network.connection_between("x1", "h2") is None
    n_undo = doc.undo_stack.count()
    drag(view, port_of(view, "x1"), vp(view, 200, 60))
    c = doc.network.connection_between("x1", "h2")
    assert c is not None
    assert doc.undo_stack.count() == n_undo + 1
    assert view.scene().item_for(c.id) is not None
    # the temporary line is gone, and nothing is left ringed
    assert all(i.target_state is None for i in view.scene().item_for_node.values())
    assert not [i for i in view.scene().items() if type(i).__name__ == "QGraphicsLineItem"]


def test_cycle_is_refused_and_model_unchanged(view, doc):
    doc.connect("h1", "h2", 1.0)   # h1 -> h2, so h2 -> h1 would close a cycle
    before = doc.network.to_dict()
    n_undo = doc.undo_stack.count()
    drag(view, port_of(view, "h2"), vp(view, 200, -60))
    assert doc.network.to_dict() == before
    assert doc.undo_stack.count() == n_undo
    assert any("cycle" in m for m in doc.messages)


@pytest.mark.parametrize("src,tgt_pos,word", [
    ("h1", (0, 60), "input"),        # into an input neuron
    ("x1", (200, -60), "already"),   # duplicate of c1
])
def test_refused_connections_name_the_reason(view, doc, src, tgt_pos, word):
    before = doc.network.to_dict()
    drag(view, port_of(view, src), vp(view, *tgt_pos))
    assert doc.network.to_dict() == before
    assert any(word in m for m in doc.messages)


def test_out_of_output_neuron_is_refused(view, doc):
    doc.add_neuron("hidden", 600, 0)
    before = doc.network.to_dict()
    drag(view, port_of(view, "y1"), vp(view, 600, 0))
    assert doc.network.to_dict() == before
    assert any("output" in m for m in doc.messages)


def test_release_on_empty_canvas_connects_nothing(view, doc):
    before = doc.network.to_dict()
    drag(view, port_of(view, "x1"), vp(view, 100, 250))
    assert doc.network.to_dict() == before


# ---------------------------------------------------------------------------- selection
def test_click_shift_click_and_rubber_band(view, doc):
    w = view.viewport()
    QTest.mouseClick(w, LEFT, NO_MOD, vp(view, 195, -60))
    assert doc.selection == ("h1",)
    QTest.mouseClick(w, LEFT, Qt.KeyboardModifier.ShiftModifier, vp(view, 195, 60))
    assert set(doc.selection) == {"h1", "h2"}
    QTest.mouseClick(w, LEFT, Qt.KeyboardModifier.ControlModifier, vp(view, 195, -60))
    assert doc.selection == ("h2",)
    # rubber band around the inputs (and the connection between... none) from empty canvas
    drag(view, vp(view, -60, -120), vp(view, 60, 120))
    assert set(doc.selection) == {"x1", "x2"}
    # a band around x1 and h1 also takes the connection between them
    drag(view, vp(view, -60, -110), vp(view, 260, -20))
    assert set(doc.selection) == {"x1", "h1", "c1"}
    # click on empty canvas clears
    QTest.mouseClick(w, LEFT, NO_MOD, vp(view, 300, 250))
    assert doc.selection == ()


def test_click_on_connection_selects_it(view, doc):
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     vp(view, 300, -30))  # midpoint of h1 -> y1
    assert doc.selection == ("c3",)
    assert view.scene().item_for("c3").isSelected()


def test_selection_mirrors_both_ways_without_loops(view, doc):
    sc = view.scene()
    emitted = []
    doc.selectionChanged.connect(lambda ids: emitted.append(ids))
    doc.set_selection(["h1", "c2"])
    assert sc.item_for("h1").isSelected() and not sc.item_for("h2").isSelected()
    assert sc.item_for("c2").isSelected()
    assert len(emitted) == 1
    sc.item_for("h2").setSelected(True)   # scene -> document
    assert set(doc.selection) == {"h1", "h2", "c2"}
    assert len(emitted) == 2
    sc.clearSelection()
    assert doc.selection == ("c2",)


# ---------------------------------------------------------------------------- moving
def test_drag_move_is_one_undo_step(view, doc):
    doc.set_selection(["h1", "h2"])
    n_undo = doc.undo_stack.count()
    drag(view, vp(view, 190, -60), vp(view, 290, -10), steps=10)
    h1, h2 = doc.network.neurons["h1"], doc.network.neurons["h2"]
    assert (h1.x, h1.y) == pytest.approx((300, -10), abs=1.5)
    assert (h2.x, h2.y) == pytest.approx((300, 110), abs=1.5)
    assert doc.undo_stack.count() == n_undo + 1
    assert view.scene().item_for("h1").pos().x() == pytest.approx(h1.x)
    doc.undo_stack.undo()
    assert (h1.x, h1.y, h2.x, h2.y) == (200, -60, 200, 60)
    view.scene().flush()
    assert view.scene().item_for("h1").pos() == QPointF(200, -60)
    line = view.scene().connection_line("c1")
    assert line.p2().x() < 200


def test_escape_cancels_a_move(view, doc):
    w = view.viewport()
    QTest.mousePress(w, LEFT, NO_MOD, vp(view, 190, -60))
    QTest.mouseMove(w, vp(view, 230, -60))
    QTest.mouseMove(w, vp(view, 260, -40))
    assert view.scene().item_for("h1").pos().x() > 230
    QTest.keyClick(view, Qt.Key.Key_Escape)
    QTest.mouseRelease(w, LEFT, NO_MOD, vp(view, 260, -40))
    assert (doc.network.neurons["h1"].x, doc.network.neurons["h1"].y) == (200, -60)
    assert view.scene().item_for("h1").pos() == QPointF(200, -60)


# ---------------------------------------------------------------------------- delete
def test_delete_key_then_undo_restores(view, doc):
    before = doc.network.to_dict()
    doc.set_selection(["h1"])
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert "h1" not in doc.network.neurons
    assert "c1" not in doc.network.connections and "c3" not in doc.network.connections
    assert view.scene().item_for("h1") is None and view.scene().item_for("c1") is None
    doc.undo_stack.undo()
    assert doc.network.to_dict() == before
    assert isinstance(view.scene().item_for("h1"), NeuronItem)
    assert view.scene().item_for("c3") is not None


# ---------------------------------------------------------------------------- rename, menus
def test_double_click_renames_inline(view, doc, qtbot):
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      vp(view, 195, 60))
    editor = view.rename_editor
    assert editor is not None and editor.text() == "h2"
    editor.setText("detector")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    assert doc.network.neurons["h2"].label == "detector"
    assert view.scene().item_for("h2").label == "detector"
    doc.undo_stack.undo()
    assert doc.network.neurons["h2"].label == "h2"


def test_neuron_context_menu_sets_activation_and_locks_bias(view, doc):
    menu = view.build_context_menu(QPointF(200, -60))
    assert menu.objectName() == "neuronMenu"
    act_menu = menu.findChild(type(menu), "activationMenu")
    by_name = {a.data(): a for a in act_menu.actions()}
    assert by_name["tanh"].isChecked()
    assert not by_name["softmax"].isEnabled()
    by_name["relu"].trigger()
    assert doc.network.neurons["h1"].activation == "relu"
    assert view.scene().item_for("h1").activation == "relu"   # the glyph follows
    lock = [a for a in menu.actions() if a.text() == "Lock Bias"][0]
    lock.trigger()
    assert not doc.network.neurons["h1"].bias_trainable
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.network.neurons["h1"].activation == "tanh"


def test_connection_and_canvas_menus(view, doc):
    menu = view.build_context_menu(QPointF(300, -30))
    assert menu.objectName() == "connectionMenu"
    texts = [a.text() for a in menu.actions()]
    assert "Set Weight…" in texts and "Lock Weight" in texts
    [a for a in menu.actions() if a.text() == "Lock Weight"][0].trigger()
    assert not doc.network.connections["c3"].trainable
    [a for a in menu.actions() if a.text() == "Delete"][0].trigger()
    assert "c3" not in doc.network.connections
    menu = view.build_context_menu(QPointF(100, 250))
    assert menu.objectName() == "canvasMenu"
    add = [a for a in menu.actions() if a.text() == "Add Output Neuron Here"][0]
    before = set(doc.network.neurons)
    add.trigger()
    (nid,) = set(doc.network.neurons) - before
    assert doc.network.neurons[nid].role == "output"
    assert (doc.network.neurons[nid].x, doc.network.neurons[nid].y) == pytest.approx((100, 250))
    [a for a in menu.actions() if a.text() == "Auto-Layout"][0].trigger()
    assert doc.undo_stack.undoText() == "Auto-layout"


# ---------------------------------------------------------------------------- zoom / pan
def test_zoom_keys_wheel_fit_and_pan(view, doc):
    s0 = view.scale_factor()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.scale_factor() == pytest.approx(s0 * 1.25)
    QTest.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.scale_factor() == pytest.approx(s0)
    # wheel zoom keeps the point under the mouse fixed
    at = vp(view, 400, 0)
    ev = QWheelEvent(QPointF(at), QPointF(view.viewport().mapToGlobal(at)), QPoint(0, 0),
                     QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), ev)
    assert view.scale_factor() > s0 * 1.2
    p = view.mapToScene(at)
    assert (p.x(), p.y()) == pytest.approx((400, 0), abs=3)
    view.fit()
    rect = view.mapToScene(view.viewport().rect()).boundingRect()
    assert rect.contains(view.scene().content_rect())
    # middle-drag pans
    before = view.mapToScene(view.viewport().rect().center())
    drag(view, QPoint(400, 300), QPoint(300, 250), button=Qt.MouseButton.MiddleButton)
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() > before.x() and after.y() > before.y()
    assert doc.selection == ()


def test_space_drag_pans_instead_of_selecting(view, doc):
    view.setFocus()
    QTest.keyPress(view, Qt.Key.Key_Space)
    before = view.mapToScene(view.viewport().rect().center())
    drag(view, vp(view, 195, -60), vp(view, 120, -120))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() > before.x()
    assert doc.network.neurons["h1"].x == 200   # not moved


# ---------------------------------------------------------------------------- export
def test_export_png_and_svg(view, doc, tmp_path):
    png = view.export_image(tmp_path / "net.png")
    img = QImage(str(png))
    assert not img.isNull()
    rect = view.scene().content_rect()
    assert img.width() >= 2 * rect.width() - 2
    # blue (positive weight) and orange (negative weight) both appear
    arr = np.array([[img.pixelColor(x, y).name() for x in range(0, img.width(), 3)]
                    for y in range(0, img.height(), 3)])
    assert arr.size > 100
    svg = view.export_image(tmp_path / "net.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert text.count("<polyline") >= len(doc.network.connections)
    assert ">y1<" in text.replace(" ", "")  # labels are real SVG text
    with pytest.raises(ValueError, match="png or .svg"):
        view.export_image(tmp_path / "net.bmp")


# ---------------------------------------------------------------------------- hit-testing
def test_hit_testing_picks_the_right_connection(view, doc):
    sc = view.scene()
    for cid in ("c1", "c2", "c3"):
        line = sc.connection_line(cid)
        mid = line.center()
        assert sc.connection_at(mid, 3.0) == cid
        assert sc.connection_at(mid + QPointF(0, 2.0), 3.0) == cid
    assert sc.connection_at(QPointF(100, 0), 3.0) is None
    assert sc.connection_at(QPointF(100, 400), 3.0) is None


def test_vectorised_distance_matches_a_plain_loop():
    rng = np.random.default_rng(3)
    lines = rng.uniform(-100, 100, (500, 4))
    lines[7, 2:] = lines[7, :2]  # a zero-length segment
    for _ in range(20):
        p = rng.uniform(-120, 120, 2)
        fast = distance_to_segments(p, lines)
        for k in range(0, 500, 37):
            a, b = lines[k, :2], lines[k, 2:]
            d = b - a
            t = 0.0 if d @ d == 0 else min(1.0, max(0.0, float((p - a) @ d / (d @ d))))
            assert fast[k] == pytest.approx(np.linalg.norm(a + t * d - p), abs=1e-9)
        assert fast[7] == pytest.approx(np.linalg.norm(lines[7, :2] - p))


def test_hit_testing_among_many_connections(qtbot):
    net = dense([30, 30, 1], seed=2)
    d = Document(Project(net, datasets.generate("xor").copy() if False else _dataset(30, 1),
                         TrainSettings()))
    v = CanvasView(d)
    qtbot.addWidget(v)
    layer = v.scene().connections
    rng = np.random.default_rng(0)
    for cid in rng.choice(layer.ids, 25, replace=False):
        line = v.scene().connection_line(cid)
        p = line.pointAt(0.5)
        # the answer must be the connection nearest to p (possibly another through the same point)
        got = v.scene().connection_at(p, 1.0)
        dists = distance_to_segments((p.x(), p.y()), layer.lines)
        assert dists[layer.index[got]] == pytest.approx(dists.min(), abs=1e-6)


def _dataset(n_in, n_out):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, n_in))
    Y = rng.normal(size=(8, n_out))
    return datasets.Dataset([f"x{i}" for i in range(n_in)], [f"y{i}" for i in range(n_out)], X, Y)


# ---------------------------------------------------------------------------- overlay
def test_overlay_highlights_badges_and_arrows(view, doc):
    sc = view.scene()
    sc.set_overlay(Overlay(neurons={"h1"}, connections={"c3"}, neuron_text={"h1": "z = 0.24"},
                           connection_text={"c3": "dL/dw = -1.2"}, arrows={"y1": -0.8, "h1": 0.2}))
    item = sc.overlay_item
    assert item.isVisible()
    assert len(item.halo_neurons) == 1 and len(item.halo_lines) == 1
    assert len(item.badges) == 2
    # y1 has one incoming connection (from h1): one arrow, pointing back towards h1
    arrows = item.arrows
    assert len(arrows) == 2
    big = max(arrows, key=lambda a: a[2])
    assert big[1] == __import__("nnstudio.gui.style", fromlist=["x"]).NEGATIVE
    assert big[0].boundingRect().center().x() < 400
    view.grab()
    # the overlay follows moves
    doc.move_items({"h1": (150, -100)})
    sc.flush()
    assert item.halo_neurons[0][0] == QPointF(150, -100)
    sc.set_overlay(None)
    assert not item.isVisible()


def test_show_values_and_grid_toggles_paint(view, doc, tmp_path):
    sc = view.scene()
    sc.show_values = True
    sc.show_grid = False
    view.grab()
    img = view.grab().toImage()
    assert not img.isNull()
    sc.show_values = False
    sc.show_grid = True


def test_level_of_detail_draws_strongest_when_zoomed_out(qtbot, monkeypatch):
    from nnstudio.gui.canvas import connections as conn_mod
    net = dense([40, 40, 40, 1], seed=1)
    d = Document(Project(net, _dataset(40, 1), TrainSettings()))
    v = CanvasView(d)
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.show()
    qtbot.waitExposed(v)
    monkeypatch.setattr(conn_mod, "PIXEL_BUDGET", 20_000)
    v.fit()
    v.grab()
    layer = v.scene().connections
    assert layer.visible_count == len(net.connections)
    assert 0 < layer.shown_fraction < 1
    # zoomed far in, the few visible lines are all drawn
    v.resetTransform()
    v.scale(4, 4)
    v.centerOn(0, 0)
    v.grab()
    assert layer.visible_count < len(net.connections)


def test_project_replaced_rebuilds(view, doc):
    other = Project(dense([3, 2, 1], seed=0), _dataset(3, 1), TrainSettings())
    doc.replace_project(other, None)
    sc = view.scene()
    assert set(sc.item_for_node) == set(other.network.neurons)
    assert len(sc.connections.ids) == len(other.network.connections)
    QApplication.processEvents()
    assert sc.item_for(next(iter(other.network.neurons))).value is not None
    QApplication.sendEvent(view.viewport(), QEvent(QEvent.Type.Leave))


# ---------------------------------------------------------------------------- more behaviour
def test_every_neuron_shows_its_own_activation_after_a_training_update(view, doc, qtbot):
    eng = doc.engine()
    values = eng.params + np.linspace(-1.0, 1.0, eng.params.size)
    with qtbot.waitSignal(doc.evaluationChanged):
        doc.apply_params_from_training(eng.slots, values)
    with qtbot.waitSignal(doc.evaluationChanged):
        doc.set_sample(2)
    sc = view.scene()
    for nid in doc.network.neurons:
        assert sc.item_for(nid).value == pytest.approx(doc.neuron_values(nid)[1])


def test_structural_edits_keep_items_and_arrays_in_step(view, doc):
    sc = view.scene()
    doc.add_dense_layer(1, 3, "relu")
    net = doc.network
    assert all(sc.item_for(n) is not None for n in net.neurons)   # item_for flushes
    assert set(sc.item_for_node) == set(net.neurons)
    layer = sc.connections
    assert sorted(layer.ids) == sorted(net.connections)
    for cid, c in net.connections.items():
        line = layer.line(cid)
        s, t = net.neurons[c.source], net.neurons[c.target]
        # the drawn line runs from the source's rim towards the target's rim
        rim = s.x + (t.x - s.x) * 22 / np.hypot(t.x - s.x, t.y - s.y)
        assert line.p1().x() == pytest.approx(rim, abs=1e-6)
    doc.undo_stack.undo()
    sc.flush()
    assert set(sc.item_for_node) == set(doc.network.neurons)
    assert sorted(layer.ids) == sorted(doc.network.connections)


def test_tooltip_event_and_hover_highlight(view, doc):
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip
    w = view.viewport()
    at = vp(view, 200, 60)
    QApplication.sendEvent(w, QHelpEvent(QEvent.Type.ToolTip, at, w.mapToGlobal(at)))
    assert "h2" in QToolTip.text() and "tanh" in QToolTip.text().lower()
    mid = view.scene().connection_line("c3").center()
    at = view.mapFromScene(mid)
    QApplication.sendEvent(w, QHelpEvent(QEvent.Type.ToolTip, at, w.mapToGlobal(at)))
    assert "h1 → y1" in QToolTip.text()
    QTest.mouseMove(w, at)
    assert view.scene().connections.hover == view.scene().connections.index["c3"]
    QTest.mouseMove(w, vp(view, 300, 250))
    assert view.scene().connections.hover is None


def test_export_far_zoomed_out_draws_full_neurons(view, doc, tmp_path):
    a = QImage(str(view.export_image(tmp_path / "a.png")))
    view.resetTransform()
    view.scale(0.05, 0.05)
    view.grab()                       # paints in dot mode: neuron items declare no contents
    assert view.scene().dot_mode
    b = QImage(str(view.export_image(tmp_path / "b.png")))
    assert view.scene().dot_mode     # restored after the export
    assert a.size() == b.size()
    assert a == b


def test_neuron_menu_role_and_delete(view, doc):
    doc.set_selection(["h1", "h2"])
    menu = view.build_context_menu(QPointF(200, 60))
    delete = [a for a in menu.actions() if a.text().startswith("Delete")][0]
    assert delete.text() == "Delete 2 Neurons"
    roles = menu.findChild(type(menu), "roleMenu")
    out = [a for a in roles.actions() if a.text() == "Output"][0]
    # h2 has no outgoing connection, so it may become an output neuron
    out.trigger()
    assert doc.network.neurons["h2"].role == "output"
    menu = view.build_context_menu(QPointF(200, 60))
    [a for a in menu.actions() if a.text().startswith("Delete")][0].trigger()
    assert "h1" not in doc.network.neurons and "h2" not in doc.network.neurons

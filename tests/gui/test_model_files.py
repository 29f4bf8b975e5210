"""The window and models: File ▸ Export Network writes PyTorch, NumPy and ONNX files of the
open network (nothing in the document changes); File ▸ Open, Open Recent, a drop and the
start-up open an ONNX model as an ordinary untitled project that can be inspected, edited,
stepped through and trained; a refused file shows the one-line message and changes nothing.
ONNX cases skip without onnx, the torch-built model without torch."""

from __future__ import annotations

import importlib.util
import sys
import warnings

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from nnstudio import paths
from nnstudio.core import project as core_project
from nnstudio.core.datasets import Dataset
from nnstudio.core.engine import Engine
from nnstudio.core.export import onnx_export
from nnstudio.core.trace import PHASES, from_project
from nnstudio.gui import files, model_export
from nnstudio.gui.app import create_window
from nnstudio.gui.settings import Settings
from tests.core.export_cases import import_script

needs_onnx = pytest.mark.skipif(importlib.util.find_spec("onnx") is None,
                                reason="needs the optional onnx package")
FRUIT = paths.SAMPLES / "fruit-classifier.nnproj"
ASK_OPEN_PATH = files.ask_open_path  # the real one (the dialogs fixture replaces it)


@pytest.fixture
def save_as(monkeypatch):
    """The export dialog answers with ``asked.answer``; ``asked.calls`` records each ask."""
    class Asked:
        answer: str | None = None
        calls: list[tuple[str, str, str]] = []
    asked = Asked()
    asked.calls = []

    def ask(parent, title, suggested, file_filter):
        asked.calls.append((title, suggested, file_filter))
        return asked.answer
    monkeypatch.setattr(model_export, "ask_export_path", ask)
    return asked


@pytest.fixture
def messages(window):
    got: list[str] = []
    window.document.statusMessage.connect(lambda text, timeout: got.append(text))
    return got


def _snapshot(doc):
    return doc.project, core_project.dumps(doc.project), doc.undo_stack.count(), \
        doc.is_modified()


# ---------------------------------------------------------------------- File ▸ Export Network
def test_the_file_menu_has_the_three_exports_before_quit(window):
    entries = [a.text() for a in window.menu("File").actions()]
    i = entries.index("Export &Network")
    assert i < entries.index("&Quit")
    assert [a.text() for a in window.model_export.menu.actions()] == \
        ["&PyTorch Script…", "&NumPy Script…", "&ONNX Model…"]


def test_export_numpy_writes_a_script_with_the_documents_weights(window, save_as, messages,
                                                                tmp_path, dialogs):
    doc = window.document
    doc.set_param(next(iter(doc.network.connections)), 1.75)  # an edit the file must hold
    before = _snapshot(doc)
    save_as.answer = str(tmp_path / "xor_np")  # no suffix typed: .py is added
    window.model_export.actions["numpy"].trigger()
    out = tmp_path / "xor_np.py"
    assert out.exists() and dialogs.errors == []
    title, suggested, file_filter = save_as.calls[0]
    assert title == "Export Network as NumPy Script" and file_filter == "Python script (*.py)"
    assert suggested.endswith("xor_numpy.py")
    module = import_script(out, "xor_np")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(module.predict(X), Engine.compile(doc.network).predict(X),
                               rtol=1e-12, atol=1e-12)
    assert _snapshot(doc) == before  # an export reads; nothing changes, no undo step
    assert messages[-1] == f"Exported xor_np.py (NumPy script: predict(X); run: python {out} " \
                           "IN.csv)"
    assert Settings().value("files/last_export_dir") == str(tmp_path)


def test_export_pytorch_writes_the_script_and_its_dataset(window, save_as, messages, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    save_as.answer = str(folder / "xor.py")
    assert window.model_export.export("pytorch")
    assert sorted(p.name for p in folder.iterdir()) == ["xor.csv", "xor.py"]
    assert messages[-1].startswith("Exported xor.py and xor.csv (PyTorch script")
    compile((folder / "xor.py").read_text(), "xor.py", "exec")


def test_a_cancelled_export_writes_nothing(window, save_as, tmp_path, dialogs):
    save_as.answer = None
    assert window.model_export.export("pytorch") is False
    assert list(tmp_path.glob("*.py")) == [] and dialogs.errors == []


def test_a_refused_export_shows_the_message_and_writes_nothing(window, save_as, tmp_path,
                                                              dialogs):
    before = _snapshot(window.document)
    save_as.answer = str(tmp_path / "no such folder" / "xor.py")
    assert window.model_export.export("pytorch") is False
    assert len(dialogs.errors) == 1
    assert dialogs.errors[0].startswith("Cannot export the network to xor.py:\n\ncannot write ")
    assert "No such file or directory" in dialogs.errors[0]
    assert not (tmp_path / "no such folder").exists()
    assert _snapshot(window.document) == before


def test_onnx_export_without_the_onnx_package_says_how_to_install_it(window, save_as, tmp_path,
                                                                   dialogs, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    save_as.answer = str(tmp_path / "xor.onnx")
    assert window.model_export.actions["onnx"].isEnabled()
    window.model_export.actions["onnx"].trigger()
    assert len(dialogs.errors) == 1 and "pip install 'nnstudio[onnx]'" in dialogs.errors[0]
    assert list(tmp_path.glob("*.onnx")) == []


@needs_onnx
def test_export_onnx_writes_a_model_that_opens_again(window, save_as, tmp_path):
    save_as.answer = str(tmp_path / "xor.onnx")
    assert window.model_export.export("onnx")
    from nnstudio.core.export import onnx_import
    net = onnx_import.read(tmp_path / "xor.onnx")
    X = np.random.default_rng(0).normal(size=(9, 2))
    np.testing.assert_allclose(Engine.compile(net).predict(X),
                               Engine.compile(window.document.network).predict(X),
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- opening a model
@pytest.fixture
def fruit_model(tmp_path):
    pytest.importorskip("onnx")
    path = tmp_path / "fruit.onnx"
    onnx_export.write(core_project.load(FRUIT), path)
    return path


@needs_onnx
def test_open_a_model_as_an_untitled_project(qtbot, window, dialogs, fruit_model, messages):
    dialogs.open_path = str(fruit_model)
    window.actions["open"].trigger()
    doc = window.document
    assert dialogs.errors == []
    assert doc.path is None and doc.source_sample is None and not doc.is_modified()
    assert window.title_name() == "Untitled"
    assert len(doc.dataset) == 0
    fruit = core_project.load(FRUIT)
    X = fruit.dataset.X
    np.testing.assert_allclose(Engine.compile(doc.network).predict(X),
                               Engine.compile(fruit.network).predict(X), rtol=1e-12, atol=1e-12)
    assert doc.settings.loss == "cross_entropy"
    assert doc.project.description.startswith("# An ONNX model\n\nThis network was opened "
                                              "from the ONNX model `fruit.onnx`: 4 inputs")
    assert messages[-1] == "Opened the model fruit.onnx as an untitled project; Save As to " \
                           "keep it"
    assert str(fruit_model.resolve()) == Settings().recent_files()[0]


@needs_onnx
def test_an_opened_model_is_edited_stepped_through_trained_and_saved(qtbot, window, dialogs,
                                                                     fruit_model, tmp_path):
    assert window.files.open_path(fruit_model, ask=False)
    doc = window.document
    fruit = core_project.load(FRUIT)
    # inspected and edited through the document, like any project
    hidden = [n.id for n in doc.network.neurons.values() if n.role == "hidden"]
    doc.set_param(hidden[0], 0.5)
    assert doc.network.neurons[hidden[0]].bias == 0.5 and doc.is_modified()
    doc.undo_stack.undo()
    # given data (the dataset panel's import does this), it is stepped through and trained
    ds = fruit.dataset
    doc.set_dataset(Dataset(doc.dataset.input_names, doc.dataset.target_names, ds.X, ds.Y,
                            ds.class_names), "Import data")
    assert {s.phase for s in from_project(doc.project).steps} == set(PHASES)
    player = window.backprop.player
    params_before = [doc.network.get_param(pid) for pid in doc.network.param_ids()]
    player.next()                                   # the step-through mode, at its first step
    assert player.active and player.step.phase == "forward"
    player.run_to_end()                             # ... to the update
    assert player.step.phase == "update"
    player.deactivate()                             # the update stays, as one undo step
    assert [doc.network.get_param(pid) for pid in doc.network.param_ids()] != params_before
    doc.undo_stack.undo()
    assert [doc.network.get_param(pid) for pid in doc.network.param_ids()] == params_before
    loss_before = doc.evaluation().loss
    snap = window.training.controller.step()
    assert snap is not None and np.isfinite(snap.loss)
    assert doc.undo_stack.text(doc.undo_stack.count() - 1).startswith("Train 1 ")
    assert doc.evaluation().loss != loss_before
    # Save As keeps it as a project file, named after the file
    out = tmp_path / "fruit-model.nnproj"
    dialogs.save_path = str(out)
    assert window.files.save_as()
    again = core_project.load(out)
    assert again.name == "fruit-model" and len(again.dataset) == len(ds)
    assert dialogs.errors == []


def _refused_files(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    cosine = helper.make_model(helper.make_graph(
        [helper.make_node("Gemm", ["input", "w", "b"], ["z"], name="dense"),
         helper.make_node("Cos", ["z"], ["output"], name="wave")], "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["rows", 2])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["rows", 1])],
        [helper.make_tensor("w", TensorProto.FLOAT, [2, 1], [0.5, -0.5]),
         helper.make_tensor("b", TensorProto.FLOAT, [1], [0.1])]),
        opset_imports=[helper.make_opsetid("", 17)])
    dynamic = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["input"], ["output"], name="r")], "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["rows", "width"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["rows", "width"])]),
        opset_imports=[helper.make_opsetid("", 17)])
    out = {}
    for name, model in (("cosine", cosine), ("dynamic", dynamic)):
        out[name] = tmp_path / f"{name}.onnx"
        onnx.save(model, out[name])
    out["garbage"] = tmp_path / "garbage.onnx"
    out["garbage"].write_bytes(b"\x00\xffnot a model at all")
    return out


@needs_onnx
@pytest.mark.parametrize("which, fragment", [
    ("cosine", "node 'wave' (Cos): NN Studio cannot represent this operation"),
    ("dynamic", "has a dynamic shape"),
    ("garbage", "the file is not an ONNX model"),
])
def test_a_refused_model_shows_one_line_and_changes_nothing(window, dialogs, tmp_path, which,
                                                           fragment):
    doc = window.document
    doc.set_param(next(iter(doc.network.connections)), 0.25)  # unsaved work stays as it is
    before = _snapshot(doc)
    path = _refused_files(tmp_path)[which]
    assert window.files.open_path(path, ask=False) is False
    assert len(dialogs.errors) == 1
    head, _, line = dialogs.errors[0].partition("\n\n")
    assert head == f"Cannot open {path.name}:" and "\n" not in line and fragment in line
    assert _snapshot(doc) == before
    assert str(path.resolve()) not in Settings().recent_files()


@needs_onnx
def test_dropping_a_model_opens_it(qtbot, window, fruit_model):
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(fruit_model))])
    with warnings.catch_warnings():  # PySide marks the (only) QPoint constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, md,
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.canvas_view.viewport(), enter)
    assert enter.isAccepted()
    before = window.document.project
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, md, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.canvas_view.viewport(), drop)
    qtbot.waitUntil(lambda: window.document.project is not before)
    assert window.document.path is None and len(window.document.dataset) == 0


@needs_onnx
def test_open_recent_reopens_a_model(qtbot, window, dialogs, fruit_model):
    assert window.files.open_path(fruit_model, ask=False)
    assert window.files.open_path(paths.SAMPLES / "xor.nnproj", ask=False)
    window.files.fill_recent_menu(window.recent_menu)
    entry = next(a for a in window.recent_menu.actions() if a.data() == str(fruit_model.resolve()))
    entry.trigger()
    assert window.document.path is None and len(window.document.dataset) == 0
    assert [n.label for n in window.document.network.outputs] == \
        [n.label for n in core_project.load(FRUIT).network.outputs]
    assert dialogs.errors == []


@needs_onnx
def test_the_window_starts_with_a_model(qtbot, settings_dir, dialogs, fruit_model):
    win, err = create_window(str(fruit_model))
    qtbot.addWidget(win)
    assert err is None
    assert win.document.path is None and len(win.document.dataset) == 0
    assert len(win.document.network.outputs) == 3
    win.close()


def test_the_open_dialog_offers_models(monkeypatch):
    seen = {}

    def dialog(parent, caption, directory, file_filter):
        seen["caption"], seen["filter"] = caption, file_filter
        return "", ""
    monkeypatch.setattr(files.QFileDialog, "getOpenFileName", dialog)
    assert ASK_OPEN_PATH(None, "/tmp") is None
    assert seen["caption"] == "Open Project or Model"
    assert seen["filter"].startswith("Projects and models (*.nnproj *.onnx);;")


def test_a_model_built_by_pytorch_opens_and_computes_what_torch_computes(qtbot, window,
                                                                        tmp_path, dialogs):
    """A model no one here wrote: torch.onnx.export of an nn.Sequential."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4),
                                torch.nn.LeakyReLU(0.2), torch.nn.Linear(4, 2),
                                torch.nn.Softmax(dim=1)).double()
    path = tmp_path / "torch.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, dtype=torch.float64),), str(path),
                          input_names=["x"], output_names=["y"], dynamo=False,
                          dynamic_axes={"x": {0: "rows"}, "y": {0: "rows"}})
    assert window.files.open_path(path, ask=False), dialogs.errors
    X = np.random.default_rng(1).normal(size=(11, 3))
    with torch.no_grad():
        expected = model(torch.tensor(X)).numpy()
    np.testing.assert_allclose(Engine.compile(window.document.network).predict(X), expected,
                               rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------- a convolutional network
CNN = paths.SAMPLES / "cnn-o-vs-x.nnproj"


def test_the_cnn_sample_exports_to_the_scripts_from_the_window(window, save_as, tmp_path,
                                                              dialogs):
    assert window.files.open_path(CNN, ask=False)
    doc = window.document
    before = _snapshot(doc)
    save_as.answer = str(tmp_path / "cnn_np.py")
    assert window.model_export.export("numpy")
    X = doc.dataset.X
    np.testing.assert_allclose(import_script(tmp_path / "cnn_np.py", "cnn_np").predict(X),
                               Engine.compile(doc.network).predict(X), rtol=1e-12, atol=1e-12)
    save_as.answer = str(tmp_path / "cnn.py")
    assert window.model_export.export("pytorch")
    assert "nn.Conv2d(" in (tmp_path / "cnn.py").read_text()
    assert _snapshot(doc) == before and dialogs.errors == []


@needs_onnx
def test_the_cnn_sample_exported_to_onnx_opens_in_the_window_with_its_image_layers(
        window, tmp_path, dialogs):
    cnn = core_project.load(CNN)
    path = tmp_path / "cnn.onnx"
    onnx_export.write(cnn, path)
    assert window.files.open_path(path, ask=False)
    doc = window.document
    assert doc.path is None and len(doc.dataset) == 0 and dialogs.errors == []
    assert sorted(lay.kind for lay in doc.network.image_layers.values()) == \
        ["convolution", "flatten", "image_input", "pooling"]
    scene = window.canvas_view.scene()   # the image layers are cards on the canvas
    assert all(scene.layer_item(lid) is not None for lid in doc.network.image_layers)
    X = cnn.dataset.X
    np.testing.assert_allclose(Engine.compile(doc.network).predict(X),
                               Engine.compile(cnn.network).predict(X), rtol=1e-12, atol=1e-12)

"""The Dataset panel: cell edits, rows, generators, CSV and the validation split — all undoable,
and refused input changes nothing and says where it is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from nnstudio import paths
from nnstudio.core import datasets
from nnstudio.gui.dataset_panel import DatasetPanel, add_rows, delete_rows
from nnstudio.gui.document import Document


@pytest.fixture
def panel(qtbot):
    doc = Document.open(paths.SAMPLES / "xor.nnproj")
    p = DatasetPanel(doc)
    qtbot.addWidget(p)
    return p


def test_the_table_shows_the_dataset(panel):
    doc, m = panel.document, panel.model
    ds = doc.dataset
    assert m.rowCount() == len(ds) and m.columnCount() == ds.n_inputs + ds.n_targets
    assert float(m.data(m.index(2, 1))) == ds.X[2, 1]
    assert float(m.data(m.index(3, ds.n_inputs))) == ds.Y[3, 0]
    assert m.headerData(ds.n_inputs, Qt.Horizontal).endswith("(target)")


def test_editing_a_cell_is_undoable(panel):
    doc, m = panel.document, panel.model
    old = doc.dataset.X[1, 0]
    assert m.setData(m.index(1, 0), "0.25")
    assert doc.dataset.X[1, 0] == 0.25
    assert doc.undo_stack.text(doc.undo_stack.count() - 1).startswith("Set row 2")
    doc.undo_stack.undo()
    assert doc.dataset.X[1, 0] == old


@pytest.mark.parametrize("text", ["abc", "nan", "inf", ""])
def test_bad_cell_text_is_refused_with_its_place(panel, text):
    doc, m = panel.document, panel.model
    before = doc.dataset.X.copy()
    assert not m.setData(m.index(2, 1), text)
    assert np.array_equal(doc.dataset.X, before) and doc.undo_stack.count() == 0
    assert "row 3" in panel.last_error and "x2" in panel.last_error
    assert panel.error.isVisibleTo(panel)


def test_a_class_target_must_stay_a_class(panel):
    doc, m = panel.document, panel.model
    if doc.dataset.class_names is None:
        pytest.skip("the XOR sample is regression data")
    assert not m.setData(m.index(0, doc.dataset.n_inputs), "0.5")
    assert "row 1" in panel.last_error and doc.undo_stack.count() == 0


def test_add_and_delete_rows_are_undoable(panel):
    doc = panel.document
    n = len(doc.dataset)
    add_rows(doc, after=1)
    assert len(doc.dataset) == n + 1 and np.array_equal(doc.dataset.X[2], doc.dataset.X[1])
    delete_rows(doc, [0, 2])
    assert len(doc.dataset) == n - 1
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert len(doc.dataset) == n
    with pytest.raises(ValueError, match="at least one row"):
        delete_rows(doc, range(n))
    assert len(doc.dataset) == n
    # through the buttons: select row 2, delete it
    panel.table.selectRow(1)
    panel.del_btn.click()
    assert len(doc.dataset) == n - 1
    panel.add_btn.click()
    assert len(doc.dataset) == n


def test_selecting_a_row_chooses_the_sample(panel):
    panel.table.selectRow(2)
    assert panel.document.sample_index == 2


def test_generators_replace_the_data_undoably(panel):
    doc = panel.document
    old = doc.dataset
    panel.generator.setCurrentIndex(panel.generator.findData("spiral"))
    assert panel.size.value() == datasets.GENERATORS["spiral"].size
    panel.seed.setValue(3)
    panel.size.setValue(120)
    panel.noise.setValue(0.1)
    assert panel.generate()
    assert doc.dataset == datasets.generate("spiral", seed=3, size=120, noise=0.1)
    assert panel.model.rowCount() == 120
    doc.undo_stack.undo()
    assert doc.dataset is old


def test_csv_round_trip_and_errors_name_line_and_column(panel, tmp_path):
    doc = panel.document
    out = tmp_path / "data.csv"
    assert panel.export_csv(out)
    text = out.read_text()
    assert text.splitlines()[0].startswith("x1,x2")
    doc.set_dataset(datasets.generate("and"))
    assert panel.import_csv(out)
    assert doc.undo_stack.text(doc.undo_stack.count() - 1) == "Import data.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,y\n0,1,1\n1,oops,0\n")
    before = doc.dataset
    count = doc.undo_stack.count()
    assert not panel.import_csv(bad)
    assert "line 3, column 2" in panel.last_error and "oops" in panel.last_error
    assert doc.dataset is before and doc.undo_stack.count() == count


def test_csv_with_class_labels(panel, tmp_path):
    p = tmp_path / "fruit.csv"
    p.write_text("w,h,kind\n1,2,apple\n3,4,pear\n5,6,apple\n")
    assert panel.import_csv(p)
    ds = panel.document.dataset
    assert ds.class_names == ["apple", "pear"] and ds.n_targets == 2


def test_validation_split_edits_the_settings(panel):
    doc = panel.document
    panel.split.setValue(25)                     # shown in percent
    assert doc.settings.validation_split == 0.25
    assert "validation" in panel.info.text() and panel.split.text() == "25 %"
    doc.undo_stack.undo()
    assert doc.settings.validation_split == 0.0 and panel.split.value() == 0
    assert panel.split.text() == "none"


def test_typing_a_percentage_sets_the_validation_split(panel, qtbot):
    """A user types "20" meaning 20 % (a 0..0.9 fraction box silently refused it)."""
    from PySide6.QtCore import Qt
    doc = panel.document
    panel.split.lineEdit().selectAll()
    qtbot.keyClicks(panel.split, "20")
    qtbot.keyClick(panel.split, Qt.Key.Key_Return)
    assert doc.settings.validation_split == 0.2
    assert "validation" in panel.info.text()


def test_mismatched_data_is_explained(panel):
    doc = panel.document
    doc.set_dataset(datasets.generate("sine"))
    assert "the network has 2 input" in panel.info.text()


def test_data_no_generator_makes_shows_no_generator(qtbot):
    """The 3-input majority/any data of three-layer.nnproj: the generator list shows a
    placeholder, not "AND gate, size 4" as if it described the 8 rows; Generate then says
    what to do and changes nothing."""
    doc = Document.open(paths.SAMPLES / "three-layer.nnproj")
    p = DatasetPanel(doc)
    qtbot.addWidget(p)
    assert p.generator.currentIndex() == -1 and p.generator.currentData() is None
    assert p.size.value() == 8                  # the data's own size, not the spin box's minimum
    before = doc.dataset
    assert not p.generate()
    assert doc.dataset is before and "Choose a generator" in p.last_error
    p.generator.setCurrentIndex(p.generator.findData("xor"))
    assert p.size.value() == datasets.GENERATORS["xor"].size
    assert p.generate() and len(doc.dataset) == datasets.GENERATORS["xor"].size


def test_the_generator_shown_matches_the_values_not_only_the_columns(qtbot):
    """Issue 10: the linear-regression lesson's five points (x, y) are not 'Line y = 2x + 1'."""
    doc = Document.open(paths.SAMPLES / "linear-regression.nnproj")
    p = DatasetPanel(doc)
    qtbot.addWidget(p)
    assert p.generator.currentIndex() == -1
    doc.load(paths.SAMPLES / "intercept-descent.nnproj")      # exactly y = 2x + 1
    assert p.generator.currentData() == "line"
    doc.load(paths.SAMPLES / "spiral.nnproj")                 # seeded data: the columns match
    assert p.generator.currentData() == "spiral"
    p.generator.setCurrentIndex(p.generator.findData("line"))
    p.noise.setValue(0.3)
    assert p.generate()
    assert p.generator.currentData() == "line"                 # what Generate just used


# ---------------------------------------------------------------------- the Playground picker
def test_a_click_on_a_generator_picture_makes_its_data_at_once(panel, qtbot):
    doc = panel.document
    count = doc.undo_stack.count()
    button = panel.generator.findChild(QToolButton, "generator_spiral")
    assert not button.icon().isNull()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    g = datasets.GENERATORS["spiral"]
    assert len(doc.dataset) == g.size and panel.generator.currentData() == "spiral"
    assert button.isChecked() and doc.undo_stack.count() == count + 1
    doc.undo_stack.undo()
    assert len(doc.dataset) == 4


def test_dragging_the_noise_slider_regenerates_as_one_undo_step(panel, qtbot):
    doc = panel.document
    qtbot.mouseClick(panel.generator.findChild(QToolButton, "generator_circles"),
                     Qt.MouseButton.LeftButton)
    clean = doc.dataset
    count = doc.undo_stack.count()
    slider = panel.noise_slider
    slider.sliderPressed.emit()
    for pos in (100, 250, 400):
        slider.setValue(pos)
    slider.sliderReleased.emit()
    assert doc.undo_stack.count() == count + 1
    assert panel.noise.value() == pytest.approx(0.4)
    expected = datasets.generate("circles", seed=0, size=len(clean), noise=0.4)
    assert np.array_equal(doc.dataset.X, expected.X)
    doc.undo_stack.undo()
    assert doc.dataset is clean


def test_dragging_the_validation_slider_is_one_undo_step(panel):
    doc = panel.document
    count = doc.undo_stack.count()
    slider = panel.split_slider
    slider.sliderPressed.emit()
    for pos in (100, 200, 300):
        slider.setValue(pos)
    slider.sliderReleased.emit()
    assert doc.settings.validation_split == pytest.approx(0.27)
    assert doc.undo_stack.count() == count + 1 and panel.split.text() == "27 %"
    doc.undo_stack.undo()
    assert doc.settings.validation_split == 0.0 and panel.split.text() == "none"


def test_the_noise_slider_waits_for_a_generator(qtbot):
    doc = Document.open(paths.SAMPLES / "three-layer.nnproj")
    p = DatasetPanel(doc)
    qtbot.addWidget(p)
    assert p.generator.currentData() is None and not p.noise_slider.isEnabled()

"""The rough edges a new user hit (issue 11), each held here: the status bar never shows a
stale epoch or loss, the sample menu uses the lessons' titles, the autosave explains itself
once, ..."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication


def test_the_status_bar_follows_undo_and_new_data(qtbot, window):
    doc = window.document
    ctl, st = window.training.controller, window.training.status
    for _ in range(3):
        ctl.step_epoch()
    QApplication.processEvents()
    assert st.bar.format().startswith("Epoch 3 /")
    doc.undo_stack.undo()                       # "Train 1 epoch" undone: not epoch 3's values
    qtbot.waitUntil(lambda: st.bar.format() == "Edited after epoch 3")
    assert st.text.text().startswith(f"loss {doc.loss():.5g}")
    doc.undo_stack.redo()                       # the trained values again
    qtbot.waitUntil(lambda: st.bar.format().startswith("Epoch 3 /"))
    ds = doc.dataset                            # a new point: the loss follows the data
    doc.set_dataset(ds.with_rows(np.vstack([ds.X, [[0.5, 0.5]]]),
                                 np.vstack([ds.Y, [[1.0]]])))
    qtbot.waitUntil(lambda: st.bar.format() == "Edited after epoch 3")
    assert st.text.text().startswith(f"loss {doc.loss():.5g}")


def test_the_sample_menu_shows_the_lessons_titles_in_the_course_order(window):
    from nnstudio.samples import course
    window.files.fill_samples_menu(window.samples_menu)
    acts = window.samples_menu.actions()
    titles = [a.text() for a in acts]
    assert "XOR" in titles and "Perceptron: the AND gate" in titles
    assert "Xor" not in titles and "Perceptron and" not in titles
    stems = [a.data().rsplit("/", 1)[-1].removesuffix(".nnproj") for a in acts]
    assert stems[: len(course.names())] == course.names()


def test_the_autosave_says_plainly_once_why_it_waits(qtbot, window):
    doc = window.document
    said = []
    doc.statusMessage.connect(lambda text, ms: said.append(text))
    doc.remove(list(doc.network.neurons))                # an empty canvas, modified
    assert doc.is_modified()
    said.clear()
    for _ in range(3):
        assert window.files.autosave() is False
    autosave = [t for t in said if "autosave" in t.lower()]
    assert autosave == ["Not autosaved yet: add an input and an output neuron first"]


def test_new_starts_empty_and_templates_offer_the_ready_networks(qtbot, window, dialogs):
    from nnstudio.core.project import TEMPLATES
    doc = window.document
    window.actions["new"].trigger()
    assert len(doc.network.neurons) == 0 and doc.description == ""
    assert window.lesson.read_text().strip() == "" or "lesson" in window.lesson.read_text()
    assert "Xor" not in window.lesson.read_text() and "tanh" not in window.lesson.read_text()
    titles = {a.data(): a.text() for a in window.templates_menu.actions()}
    assert set(titles) == set(TEMPLATES)
    for key in TEMPLATES:
        next(a for a in window.templates_menu.actions() if a.data() == key).trigger()
        assert doc.path is None and len(doc.network.neurons) > 0
        qtbot.waitUntil(lambda: doc.evaluation() is not None)
        assert doc.project.description.startswith("# ")
        doc.project.check()
    assert dialogs.errors == []


def test_an_empty_new_project_brings_the_palette_forward(qtbot, window):
    lesson, palette = window.docks["lesson"], window.docks["palette"]
    lesson.raise_()
    QApplication.processEvents()
    assert palette.visibleRegion().isEmpty()
    window.actions["new"].trigger()
    QApplication.processEvents()
    assert not palette.visibleRegion().isEmpty()


def test_the_landscape_after_a_contour_shows_the_curve_and_says_minus_gradient(qtbot):
    from nnstudio import paths
    from nnstudio.gui.document import Document
    from nnstudio.gui.plots.landscape import LandscapePane
    doc = Document.open(paths.SAMPLES / "dosage-backprop.nnproj")
    pane = LandscapePane(doc)
    qtbot.addWidget(pane)
    pane.resize(500, 320)
    pane.show()
    qtbot.waitExposed(pane)
    cid = next(iter(doc.network.connections))
    doc.set_selection(["b3", cid])
    pane.refresh_now()
    ev, eng = doc.evaluation(), doc.engine()
    gi, gj = ev.grad[eng.param_index("b3")], ev.grad[eng.param_index(cid)]
    assert f"−gradient = ({-gi:.3g}, {-gj:.3g})" in pane.info.text()   # -15.7 → 15.7
    doc.set_selection(["b3"])
    pane.refresh_now()
    assert pane.mode == "1d"
    (x0, x1), (y0, y1) = pane.plot.getViewBox().viewRange()
    finite = pane.losses[np.isfinite(pane.losses)]
    assert y0 >= 0 and y0 <= finite.min() and y1 >= finite.max()       # no negative loss axis
    assert x0 <= pane.values.min() and x1 >= pane.values.max()
    assert y0 <= pane.current_loss <= y1


def test_help_offers_a_getting_started_guide_with_pictures(qtbot, window):
    from nnstudio.gui.guide import STEPS
    help_titles = [a.text().replace("&", "") for a in window.menu("Help").actions()]
    assert help_titles[:2] == ["Lessons…", "Getting Started…"]
    window.actions["getting_started"].trigger()
    guide = window.guide
    qtbot.waitExposed(guide)
    assert guide.pictures_found()
    html = guide.browser.toHtml()
    assert html.count("<img") == sum(1 for *_, p in STEPS if p)
    doc = guide.browser.document()
    for *_, picture in STEPS:                       # every picture loads (no broken image)
        if picture:
            img = doc.resource(doc.ResourceType.ImageResource.value, picture)
            assert img is not None and not img.isNull(), picture
    text = guide.browser.toPlainText()
    assert "Press Train" in text and "Palette" in text
    from PySide6.QtCore import QUrl
    guide.browser.anchorClicked.emit(QUrl("nnstudio:lessons"))   # the lessons link
    assert window.course_page.isVisible()
    guide.close()

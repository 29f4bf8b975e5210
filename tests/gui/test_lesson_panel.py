"""The lesson panel as a learner uses it: questions answered, right or wrong, the explanation only
after a try; a malformed block shown in place; the checklist ticking as goals are met; only
shipped pictures load; challenges edited through the document; progress kept."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from nnstudio import paths
from nnstudio.core.project.challenges_section import validate_challenges
from nnstudio.gui.document import Document
from nnstudio.gui.lesson import LessonPanel, lesson_key
from nnstudio.gui.lesson.panel import challenges_text
from nnstudio.gui.settings import Settings

QUIZ = """\
# A lesson

Some **weight** text.

```quiz
? What is 2 × 1/4?
= 0.5
> Multiply the slopes: 2 × 1/4 = 1/2.
```

```quiz
? Which is a fruit?
- [ ] A stone
- [x] An apple
> Apples grow on trees.
```

```quiz
? Broken?
- [x] only one choice
> Nope.
```

The end.
"""


@pytest.fixture
def panel(qtbot, tmp_path):
    def make(sample: str = "perceptron-and.nnproj", text: str | None = None):
        doc = Document.open(paths.SAMPLES / sample)
        if text is not None:
            doc.set_description(text)
        settings = Settings(tmp_path / "settings")
        p = LessonPanel(doc, settings=settings)
        qtbot.addWidget(p)
        p.resize(340, 900)
        p.show()
        return doc, p, settings
    return make


def texts_in(widget: QWidget) -> str:
    out = [w.text() for w in widget.findChildren(QLabel)]
    out += [w.toPlainText() for w in widget.findChildren(QWidget) if hasattr(w, "toPlainText")]
    out += [w.toolTip() for w in widget.findChildren(QWidget)]
    out += [w.accessibleName() + w.accessibleDescription() for w in widget.findChildren(QWidget)]
    return "\n".join(out)


def test_questions_are_cards_and_the_answer_is_absent_before_a_try(panel):
    doc, p, _ = panel(text=QUIZ)
    assert len(p.cards) == 2 and len(p.problem_boxes) == 1
    number, choice = p.cards
    before = texts_in(p)
    assert "Multiply the slopes" not in before and "Apples grow on trees" not in before
    assert number.verdict is None and number.explanation is None
    assert "The answer" not in before


def test_a_number_answer_right_wrong_and_not_a_number(panel):
    doc, p, settings = panel(text=QUIZ)
    card = p.cards[0]
    card.number.setText("banana")
    assert card.check() is None and card.tries == 0
    assert card.input_error.isVisible() and "not a number" in card.input_error.text().lower()
    assert card.explanation is None              # a refused answer reveals nothing
    card.number.setText("0.7")
    v = card.check()
    assert not v.correct and card.verdict.text() == "Not quite: 0.7 is too high."
    assert "Multiply the slopes" in card.explanation.toPlainText()
    assert card.retry_button.isVisible() and card.reveal_button.isVisible()
    card.show_answer()
    assert card.answer.text() == "The answer: 0.5 ± 0.05"
    card.try_again()
    card.number.setText("1/2")
    assert card.check().correct and card.verdict.text().startswith("Right")
    assert not card.retry_button.isVisible()


def test_a_choice_answer_and_clicking_its_text(panel, qtbot):
    doc, p, _ = panel(text=QUIZ)
    card = p.cards[1]
    assert card.check() is None and "Pick an answer" in card.input_error.text()
    card.buttons[0].click()
    assert not card.check().correct
    card.try_again()
    from PySide6.QtCore import Qt

    from nnstudio.gui.lesson.quiz_card import ChoiceLabel
    label = [w for w in card.findChildren(ChoiceLabel) if w.button is card.buttons[1]][0]
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton)
    assert card.buttons[1].isChecked()
    assert card.check().correct
    assert "Apples grow on trees" in card.explanation.toPlainText()


def test_a_malformed_block_shows_a_problem_and_the_rest_still_shows(panel):
    doc, p, _ = panel(text=QUIZ)
    (box,) = p.problem_boxes
    text = texts_in(box)
    assert "This quiz block cannot be shown: line 20:" in text and "at least 2 choices" in text
    assert "? Broken?" in text
    assert "The end." in p.read_text()
    box.edit.emit(box.problem.at)
    assert p.editing and p.editor.textCursor().blockNumber() == box.problem.at - 1


def test_only_shipped_pictures_load(panel):
    hostile = ("# Pictures\n\n![a](nnstudio:neuron.svg) ![b](file:///etc/passwd) "
               "![c](/etc/hostname) ![d](https://example.com/x.png) ![e](nnstudio:../x.svg)\n")
    doc, p, _ = panel(text=hostile)
    (view,) = p.texts
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QImage, QTextDocument
    kind = QTextDocument.ResourceType.ImageResource.value
    assert isinstance(view.loadResource(kind, QUrl("nnstudio:neuron.svg")), QImage)
    for bad in ("file:///etc/passwd", "/etc/hostname", "https://example.com/x.png",
                "nnstudio:../x.svg", "nnstudio:lessons/neuron.svg"):
        assert view.loadResource(kind, QUrl(bad)) is None, bad


def test_glossary_terms_get_a_tooltip(panel):
    doc, p, _ = panel(text=QUIZ)
    terms = [t for view in p.texts for t, _ in view.glossary]
    assert terms == ["weight"]


def test_the_checklist_ticks_as_the_goal_is_met(panel, qtbot):
    doc, p, settings = panel()
    cl = p.checklist
    assert cl.isVisible() and len(cl.rows) == 1 and cl.rows[0].met is False
    assert cl.title.text() == "Challenges: 0 of 1 met"
    messages = []
    doc.statusMessage.connect(lambda t, _ms: messages.append(t))
    doc.set_param("b", -0.25)                       # OR by changing only the bias
    qtbot.waitUntil(lambda: cl.rows[0].met is True, timeout=3000)
    assert cl.title.text() == "Challenges: 1 of 1 met"
    assert messages[-1].startswith("Goal met: Make the perceptron compute OR")
    assert settings.lesson_progress("perceptron-and")["goals"] == {"or-by-bias": "met"}
    doc.set_param("w1", 0.9)                        # now something else changed too
    qtbot.waitUntil(lambda: cl.rows[0].met is False, timeout=3000)
    assert "changed" in cl.rows[0].reason.text()
    # progress stays once reached
    assert settings.lesson_progress("perceptron-and")["goals"] == {"or-by-bias": "met"}


def test_a_burst_of_edits_is_one_check(panel, qtbot):
    doc, p, _ = panel()
    cl = p.checklist
    n = cl.checks
    for v in (-0.7, -0.6, -0.5, -0.4):
        doc.set_param("b", v)
    qtbot.waitUntil(lambda: cl.checks > n, timeout=3000)
    qtbot.wait(50)
    assert cl.checks == n + 1


def test_no_challenges_no_checklist(panel):
    doc, p, _ = panel()
    doc.set_challenges(None)
    assert not p.checklist.isVisible()
    doc.undo_stack.undo()
    assert p.checklist.isVisible() and len(p.checklist.rows) == 1


def test_answers_are_recorded_by_lesson_and_question(panel):
    doc, p, settings = panel()
    assert lesson_key(doc) == "perceptron-and"
    card = [c for c in p.cards if c.question.kind == "number"][0]
    card.number.setText("5")
    card.check()
    assert settings.lesson_progress("perceptron-and")["questions"] == {
        card.question.key: "tried"}
    card.try_again()
    card.number.setText(str(card.question.answer))
    card.check()
    card.try_again()
    card.number.setText("5")
    card.check()                                    # a later wrong try keeps "right"
    assert settings.lesson_progress("perceptron-and")["questions"] == {
        card.question.key: "right"}
    p.refresh()
    assert any("answered before" in texts_in(c) for c in p.cards)


def test_editing_challenges_is_one_undo_step_and_bad_json_is_refused(panel):
    doc, p, _ = panel()
    before = doc.challenges
    p.start_edit()
    assert json.loads(p.challenges_editor.toPlainText())["goals"][0]["id"] == "or-by-bias"
    p.challenges_editor.setPlainText('{"goals": [{"id": "x", "require": [{"kind": "loss", '
                                     '"loss": "mse", "below": "low"}]}]}')
    p.apply_edit()
    assert p.editing and doc.challenges is before
    assert p.challenges_error.text().startswith(
        "Not applied: $.challenges.goals[0].require[0].below: must be a number")
    new = {"goals": [{"id": "small", "require": [{"kind": "loss", "loss": "mse",
                                                  "below": 0.5}]}]}
    p.challenges_editor.setPlainText(json.dumps(new))
    p.apply_edit()
    assert not p.editing and doc.challenges == validate_challenges(new)
    assert [r.text.text() for r in p.checklist.rows] == ["MSE < 0.5"]
    doc.undo_stack.undo()
    assert doc.challenges is before


def test_use_this_network_as_the_start(panel):
    doc, p, _ = panel()
    doc.set_param("w1", 0.7)
    p.start_edit()
    p.use_network_as_original()
    shown = json.loads(p.challenges_editor.toPlainText())
    assert shown["original"]["parameters"]["w1"] == 0.7
    p.apply_edit()
    assert doc.challenges.original.parameters["w1"] == 0.7
    assert json.loads(challenges_text(doc.challenges)) == shown


def test_a_new_project_replaces_the_checklist_rows(panel):
    doc, p, _ = panel()
    old_rows = p.checklist.rows
    doc.load(paths.SAMPLES / "xor.nnproj")
    assert [r.text.text() for r in p.checklist.rows] == [g.text for g in doc.challenges.goals]
    assert all(not r.text.isVisibleTo(p) for r in old_rows)


def test_links_in_a_lesson_never_open_a_file_and_web_links_ask_first(qtbot, monkeypatch):
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    from nnstudio.gui.lesson import markdown_view
    opened, asked, answer = [], [], [False]
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    monkeypatch.setattr(markdown_view, "ask_open_link",
                        lambda parent, url: asked.append(url.toString()) or answer[0])
    view = markdown_view.MarkdownView("[notes](file:///etc/passwd) and "
                                      "[the article](https://example.org/a)")
    qtbot.addWidget(view)
    text = view.toPlainText()
    view.anchorClicked.emit(QUrl("file:///etc/passwd"))
    assert opened == [] and asked == [] and view.toPlainText() == text   # nothing followed
    assert view.openLinks() is False
    view.anchorClicked.emit(QUrl("https://example.org/a"))
    assert asked == ["https://example.org/a"] and opened == []   # asked; the user said no
    answer[0] = True
    view.anchorClicked.emit(QUrl("https://example.org/a"))
    assert opened == ["https://example.org/a"]
    assert not any("passwd" in name for name in view.loaded)


def test_an_error_message_quoting_html_is_shown_as_plain_text(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from nnstudio.gui import files
    box = files.message_box(QMessageBox.Icon.Critical, "Open",
                            "p.nnproj: label '<img src=\"/etc/x.png\">' is too long")
    qtbot.addWidget(box)
    assert box.textFormat() == Qt.TextFormat.PlainText


def test_a_click_on_a_picture_opens_it_large(panel, qtbot):
    """The biological-neuron picture is drawn dock-wide; a click shows it large, titled by
    its alternative text. A click on the text beside it opens nothing."""
    from PySide6.QtCore import QPoint
    doc, p, _ = panel()          # the perceptron lesson: the neuron picture
    view = [v for v in p.texts if "nnstudio:neuron.svg" in v.loaded][0]
    lay = view.document().documentLayout()
    spot = None
    for y in range(0, view.height(), 4):
        for x in range(0, view.width(), 8):
            if lay.imageAt(QPoint(x, y).toPointF()):
                spot = QPoint(x, y)
                break
        if spot is not None:
            break
    assert spot is not None, "the picture is drawn"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
    assert view.picture_window is None
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    win = view.picture_window
    assert win is not None and win.isVisible()
    assert win.windowTitle() == "A biological neuron and an artificial neuron, part for part"
    assert win.label.pixmap().width() > 2 * view.width()
    win.close()

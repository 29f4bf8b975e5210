"""The course page: every lesson in order with its picture, summary and progress; Open opens
an untitled copy; Help ▸ Lessons shows it, and so does the first start."""

from __future__ import annotations

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.lessons import parse_lesson
from nnstudio.gui import app as app_mod
from nnstudio.gui.course import CoursePage, entries, thumbnail
from nnstudio.gui.settings import Settings
from nnstudio.samples import course


def test_entries_follow_the_course_with_counts_from_each_lesson(tmp_path):
    es = entries(Settings(tmp_path))
    assert [e.name for e in es] == course.names()
    for e in es:
        p = project.load(paths.SAMPLES / f"{e.name}.nnproj")
        assert e.title == p.name and e.error is None
        assert e.questions == len(parse_lesson(p.description).questions) >= 2
        assert e.goals == len(p.challenges.goals) >= 1
        assert e.answered == e.met == 0 and e.done == 0.0
    assert es[0].progress_text().startswith("0 of 3 questions · 0 of 2 challenges")


def test_progress_counts_right_answers_and_met_goals_only(tmp_path):
    s = Settings(tmp_path)
    p = project.load(paths.SAMPLES / "perceptron-and.nnproj")
    q1, q2 = parse_lesson(p.description).questions[:2]
    s.record_answer("perceptron-and", q1.key, True)
    s.record_answer("perceptron-and", q2.key, False)
    s.record_answer("perceptron-and", "0123456789ab", True)   # a question no longer there
    s.record_goal("perceptron-and", "or-by-bias")
    (e,) = [e for e in entries(s) if e.name == "perceptron-and"]
    assert (e.answered, e.met) == (1, 1)
    assert e.progress_text() == f"1 of {e.questions} questions · 1 of 1 challenge"
    # kept between sessions: a new Settings on the same folder reads it back
    (e,) = [e for e in entries(Settings(tmp_path)) if e.name == "perceptron-and"]
    assert (e.answered, e.met) == (1, 1)


def test_thumbnail_draws_the_network(qtbot):
    pm = thumbnail(project.load(paths.SAMPLES / "xor.nnproj").network)
    img = pm.toImage()
    colours = {img.pixel(x, y) for x in range(0, img.width(), 3) for y in range(0, img.height(), 3)}
    assert pm.width() == 150 and len(colours) > 3


def test_help_lessons_shows_the_page_and_open_opens_an_untitled_copy(qtbot, window):
    titles = [a.text() for a in window.menu("Help").actions() if not a.isSeparator()]
    assert titles[0] == "&Lessons…"
    window.actions["lessons"].trigger()
    page = window.course_page
    assert isinstance(page, CoursePage) and page.isVisible()
    assert len(page.cards) == len(course.COURSE)
    card = [c for c in page.cards if c.entry.name == "softmax"][0]
    card.open_button.click()
    assert not page.isVisible()
    assert window.document.path is None
    assert window.document.source_sample.stem == "softmax"
    assert window.document.project.name.startswith("Softmax")


def test_the_first_start_shows_the_page_once(qtbot, window):
    assert not window.settings.bool("course/seen", False)
    assert app_mod.show_course_on_first_start(window)
    assert window.course_page is not None and window.course_page.isVisible()
    window.course_page.close()
    window.course_page = None
    assert not app_mod.show_course_on_first_start(window)
    assert window.course_page is None

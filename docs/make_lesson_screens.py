"""Render the README's lesson screenshots: a quiz answered, the challenge checklist with one goal
met and one not, the course page, and the parametric-ReLU lesson after one training step with
its slope trainable (the inspector's Train slope and dL/dslope), each at 1400x900 and 1024x700.

    QT_QPA_PLATFORM=offscreen python docs/make_lesson_screens.py    # writes docs/images/*.png

The window is the real one (``create_window``), driven through the same public calls a test
makes, with a private settings folder so the learner's own progress is never touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "images"
SIZES = {"": (1400, 900), "-1024": (1024, 700)}


def settle(app, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents()


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from nnstudio import paths
    from nnstudio.core.trainer import Trainer
    from nnstudio.gui.app import create_window, make_app

    app = make_app()
    for suffix, (w, h) in SIZES.items():
        # a fresh settings folder for each size: the default layout, no saved progress
        os.environ["NNSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="nnstudio-shots-")
        win, _ = create_window(str(paths.SAMPLES / "xor.nnproj"))
        win.resize(w, h)
        win.show()
        settle(app)
        win.files.open_path(paths.SAMPLES / "weight-and-bias.nnproj")
        settle(app)
        doc, lesson = win.document, win.lesson
        win.docks["lesson"].raise_()
        # the checklist: one goal met (y2 made flat), one not
        doc.set_param("w2", 0.0)
        settle(app)
        lesson.checklist.check_now()
        lesson.scroll.verticalScrollBar().setValue(0)
        settle(app)
        win.grab().save(str(OUT / f"lesson-checklist{suffix}.png"))
        # a quiz, answered: the steeper line
        card = lesson.cards[1]
        right = [i for i, c in enumerate(card.question.choices) if c.correct][0]
        card.buttons[right].click()
        card.check()
        wrong = lesson.cards[0]
        wrong.number.setText("4")
        wrong.check()
        settle(app)
        lesson.scroll.ensureWidgetVisible(wrong, 0, 10)
        settle(app)
        win.grab().save(str(OUT / f"lesson-quiz{suffix}.png"))
        # the course page, over the window
        page = win.show_course()
        page.resize(min(640, w - 80), min(660, h - 60))
        page.move(win.geometry().center() - page.rect().center())
        settle(app)
        shot = win.grab()
        from PySide6.QtGui import QPainter
        painter = QPainter(shot)
        painter.drawPixmap(page.geometry().topLeft() - win.geometry().topLeft(), page.grab())
        painter.end()
        shot.save(str(OUT / f"course{suffix}.png"))
        page.close()
        doc.undo_stack.setClean()
        # parametric ReLU: Train slope ticked, one gradient-descent step taken by the trainer
        win.files.open_path(paths.SAMPLES / "parametric-relu.nnproj")
        settle(app)
        doc = win.document
        doc.set_slope_trainable(["y"], True)
        eng = doc.engine()
        before = eng.params.copy()
        trainer = Trainer(doc.network, doc.dataset.X, doc.dataset.Y, doc.settings)
        trainer.step()
        doc.push_training_result(before, trainer.engine.params.copy(), "Train one step")
        doc.set_selection(["y"])
        settle(app)
        win.lesson.checklist.check_now()
        grp = win.inspector.neurons
        win.inspector.ensureWidgetVisible(grp.editors["slope_grad"].widget, 0, 40)
        settle(app)
        win.grab().save(str(OUT / f"parametric-relu{suffix}.png"))
        doc.undo_stack.setClean()
        win.close()
        settle(app)
    print("wrote", ", ".join(sorted(p.name for p in OUT.glob("lesson-*.png"))),
          "the course pages and the parametric-ReLU lesson")
    return 0


if __name__ == "__main__":
    sys.exit(main())

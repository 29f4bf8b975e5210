"""Lessons that teach and check: quizzes in the lesson text, and challenges in the project.

* :mod:`.quiz` — the quiz block syntax inside lesson Markdown, and its parser, which splits a
  lesson into text, questions and problems (a malformed block never loses the rest).
* :mod:`.goals` — the challenge language: goals made of a closed set of requirement kinds,
  written as JSON (the project file's ``challenges`` section, read and checked by
  :mod:`nnstudio.core.project.challenges_section`). Data, never code.
* :mod:`.checker` — every goal checked against a project with the engine: pass or fail, with
  a one-line reason each; fast enough to re-check on every edit.
* :mod:`.numbers` — reading numbers as people write them, and the one "within ± tolerance" rule.
* :mod:`.glossary` — the seeds' terms with one-line definitions, and the first bold mention of
  each in a lesson (the panel's tooltips).

Pure Python + NumPy: no Qt (the lesson panel and ``nnstudio check`` sit on top of this).
"""

from .checker import Checker, GoalResult, Outcome, check
from .goals import KINDS, Challenges, Goal, Original
from .quiz import Choice, Lesson, Problem, Question, Text, Verdict, parse_lesson

__all__ = [
    "parse_lesson", "Lesson", "Text", "Question", "Choice", "Problem", "Verdict",
    "Challenges", "Goal", "Original", "KINDS",
    "Checker", "GoalResult", "Outcome", "check",
]

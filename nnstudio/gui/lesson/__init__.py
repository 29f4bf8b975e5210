"""The lesson panel and its parts (one module each):

* :mod:`.panel` — :class:`LessonPanel`: the checklist, the lesson read view, and the editor
  for the text and the challenges.
* :mod:`.markdown_view` — lesson Markdown rendered safely (only the shipped pictures load),
  with the glossary's tooltips.
* :mod:`.quiz_card` — a quiz question to answer (:class:`QuizCard`), and a malformed block
  (:class:`ProblemBox`).
* :mod:`.checklist` — the challenge checklist, re-checked live.
"""

from .checklist import Checklist
from .markdown_view import MarkdownView
from .panel import LessonPanel, lesson_key
from .quiz_card import ProblemBox, QuizCard

__all__ = ["LessonPanel", "lesson_key", "Checklist", "MarkdownView", "QuizCard", "ProblemBox"]

"""Quiz blocks inside a lesson's Markdown: their syntax, the parser, and checking an answer.

A quiz is a fenced code block whose info string is ``quiz``. Inside it, each line starts with a
marker saying what it is::

    ```quiz
    ? What is the output range of the sigmoid function?
    - [ ] from −1 to 1
    - [x] between 0 and 1, never reaching either
    - [ ] from 0 to infinity
    > σ(z) = 1 / (1 + e^−z): e^−z is always positive, so σ(z) stays strictly between 0 and 1.
    ```

    ```quiz
    ? What is b3 after one step of gradient descent?
    = 1.57 ± 0.01
    > The step is slope × learning rate = −15.7 × 0.1 = −1.57, so b3 = 0 − (−1.57) = 1.57.
    ```

* ``? text`` — the question (Markdown), first and once.
* ``- [ ] text`` / ``- [x] text`` — a wrong / a right choice (``*`` for ``-`` and ``X`` for
  ``x`` work too), 2 to :data:`MAX_CHOICES`. With one right choice the learner picks one; with
  several they pick all that apply.
* ``= number`` — or the question takes a number instead of choices. ``= 1.57 ± 0.01`` (also
  ``+-`` or ``+/-``) gives the tolerance; ``= 0.88 ± 1%`` a relative one; without one the
  answer is as precise as it is written (``= 1.57`` accepts 1.565 to 1.575).
* ``> text`` — the explanation shown after answering (required; ``>`` alone starts a new
  paragraph of it).
* a line without a marker continues the line above it; blank lines are ignored.

Parsing never fails: :func:`parse_lesson` returns the lesson as parts in order — Markdown
:class:`Text`, :class:`Question` and, for a malformed block, a :class:`Problem` that names the
line and what is wrong and keeps the block's text — so one bad block never loses the rest of the
lesson. Answers are data: numbers and marks, never code. Line numbers count from 1 in the whole
lesson text, as the lesson editor shows them.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..trace.formatting import num
from .numbers import parse_number, precision, within

MAX_QUESTIONS = 100       # per lesson; later blocks become problems
MAX_CHOICES = 12
MAX_FIELD_LENGTH = 2000   # characters in a question, a choice or an explanation

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_CHOICE = re.compile(r"^[-*]\s*\[(.?)\]\s*(.*)$")
_TOLERANCE = re.compile(r"\s*(?:±|\+/-|\+-)\s*")


# ---------------------------------------------------------------------- the parts
@dataclass(frozen=True)
class Text:
    """Markdown between quizzes: lines ``line`` to ``end_line`` of the lesson, verbatim."""

    line: int
    end_line: int
    text: str


@dataclass(frozen=True)
class Problem:
    """A quiz block that could not be read: the line at fault, what is wrong, and the block's
    own text (lines ``line`` to ``end_line`` of the lesson) so the panel can still show it."""

    line: int         # the opening fence
    end_line: int
    at: int           # the line at fault
    message: str
    source: str

    def __str__(self) -> str:
        return f"line {self.at}: {self.message}"


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool


@dataclass(frozen=True)
class Verdict:
    """The result of one try: right or not, and a sentence for the learner."""

    correct: bool
    message: str


@dataclass(frozen=True)
class Question:
    """One quiz: multiple choice (``choices``) or a number (``answer`` ± ``tolerance``)."""

    line: int          # the opening fence, 1-based in the lesson
    end_line: int      # the closing fence
    text: str
    explanation: str
    choices: tuple[Choice, ...] = ()
    answer: float | None = None
    tolerance: float = 0.0

    @property
    def kind(self) -> str:
        """``"choice"`` or ``"number"``."""
        return "number" if self.answer is not None else "choice"

    @property
    def multiple(self) -> bool:
        """More than one right choice: the learner picks all that apply."""
        return sum(c.correct for c in self.choices) > 1

    @property
    def key(self) -> str:
        """A short stable name for remembering the learner's progress: it follows the
        question's text, not its place, so editing other parts of the lesson keeps it."""
        norm = " ".join(self.text.split()).casefold()
        return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:12]

    def check_choices(self, picked: Iterable[int]) -> Verdict:
        """Check the picked choices (indices into ``choices``)."""
        if self.kind != "choice":
            raise ValueError("this question takes a number, not choices")
        chosen = set()
        for i in picked:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.choices):
                raise ValueError(f"there is no choice {i!r} (the question has "
                                 f"{len(self.choices)})")
            chosen.add(i)
        if not chosen:
            raise ValueError("pick a choice first")
        right = {i for i, c in enumerate(self.choices) if c.correct}
        if chosen == right:
            return Verdict(True, "Right.")
        if not self.multiple:
            return Verdict(False, "Not quite.")
        hits, wrong = len(chosen & right), len(chosen - right)
        extra = f", and {wrong} that is not" if wrong else ""
        return Verdict(False, f"Not quite: {hits} of the {len(right)} right answers{extra}.")

    def check_number(self, value: float) -> Verdict:
        """Check a number the learner gave."""
        if self.answer is None:
            raise ValueError("this question takes a choice, not a number")
        v = float(value)
        if not math.isfinite(v):
            raise ValueError("the answer must be a finite number")
        if within(v, self.answer, self.tolerance):
            return Verdict(True, f"Right: {num(self.answer, 6)} ± {num(self.tolerance, 6)}.")
        side = "high" if v > self.answer else "low"
        return Verdict(False, f"Not quite: {num(v, 6)} is too {side}.")

    def check_text(self, typed: str) -> Verdict:
        """Check a number as the learner typed it (``1/2`` is fine); ValueError if the text is
        not a number."""
        return self.check_number(parse_number(typed, fractions=True))


Part = Text | Question | Problem


@dataclass(frozen=True)
class Lesson:
    """A lesson's Markdown split into parts, in order, covering every line once."""

    parts: tuple[Part, ...]

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(p for p in self.parts if isinstance(p, Question))

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.parts if isinstance(p, Problem))


# ---------------------------------------------------------------------- parsing
def _lines(text: str) -> list[str]:
    """The lines of ``text`` with their line ends (``\\n`` only: the editor's lines)."""
    out = text.split("\n")
    lines = [ln + "\n" for ln in out[:-1]]
    if out[-1]:
        lines.append(out[-1])
    return lines


def _opening(line: str) -> tuple[str, str] | None:
    """(fence, info string) if ``line`` opens a fenced code block (CommonMark: up to three
    spaces of indent; a backtick fence's info string has no backtick)."""
    m = _FENCE.match(line.rstrip("\r\n"))
    if not m:
        return None
    fence, info = m.group(2), m.group(3).strip()
    if fence[0] == "`" and "`" in info:
        return None
    return fence, info


def _closes(line: str, fence: str) -> bool:
    m = _FENCE.match(line.rstrip("\r\n"))
    return bool(m and m.group(2)[0] == fence[0] and len(m.group(2)) >= len(fence)
                and not m.group(3).strip())


def parse_lesson(text: str) -> Lesson:
    """Split lesson Markdown into text, questions and problems (never raises for any text)."""
    lines = _lines(text)
    parts: list[Part] = []
    text_start = 0          # index of the first line of the pending text part
    n_questions = 0
    i = 0
    while i < len(lines):
        opened = _opening(lines[i])
        if opened is None:
            i += 1
            continue
        fence, info = opened
        end = next((j for j in range(i + 1, len(lines)) if _closes(lines[j], fence)), None)
        is_quiz = info.split(maxsplit=1)[0].lower() == "quiz" if info else False
        if not is_quiz:  # another code block: skip it whole (a quiz fence inside it is code)
            i = len(lines) if end is None else end + 1
            continue
        if text_start < i:
            parts.append(Text(text_start + 1, i, "".join(lines[text_start:i])))
        if end is None:
            # an unclosed quiz would swallow the rest of the lesson: report it, keep the rest
            parts.append(Problem(i + 1, i + 1, i + 1, f"the quiz block is never closed: end it "
                                 f"with a line {fence}", lines[i]))
            text_start = i = i + 1
            continue
        source = "".join(lines[i:end + 1])
        body = [ln.rstrip("\r\n") for ln in lines[i + 1:end]]
        try:
            if info.lower() != "quiz":
                raise _Bad(i + 1, f"unexpected {info.split(maxsplit=1)[1]!r} after {fence}quiz: "
                           "a quiz block takes no options")
            if n_questions >= MAX_QUESTIONS:
                raise _Bad(i + 1, f"more than {MAX_QUESTIONS} questions in one lesson")
            parts.append(_question(body, i + 1, end + 1))
            n_questions += 1
        except _Bad as bad:
            parts.append(Problem(i + 1, end + 1, bad.line, bad.message, source))
        text_start = i = end + 1
    if text_start < len(lines):
        parts.append(Text(text_start + 1, len(lines), "".join(lines[text_start:])))
    return Lesson(tuple(parts))


class _Bad(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _question(body: list[str], first: int, last: int) -> Question:
    """One quiz block's lines (without the fences) → Question; _Bad names the line at fault.
    ``first``/``last``: the fences' line numbers."""
    question: list[str] | None = None
    choices: list[tuple[list[str], bool, int]] = []
    explanation: list[str] = []
    answer: tuple[float, float] | None = None
    current: list[str] | None = None     # the field a plain line continues
    for k, raw in enumerate(body):
        n = first + 1 + k
        line = raw.strip()
        if not line:
            continue
        marker = line[0]
        if question is None and marker != "?":
            raise _Bad(n, f"a quiz starts with its question, a line '? …'; got {_cut(line)!r}")
        if marker == "?":
            if question is not None:
                raise _Bad(n, "a second question in one quiz block: end this block with its "
                           "fence and start another")
            question = current = [line[1:].strip()]
        elif marker in "-*" and (m := _CHOICE.match(line)):
            mark, label = m.group(1), m.group(2).strip()
            if mark not in (" ", "", "x", "X"):
                raise _Bad(n, f"a choice is '- [ ] text' (wrong) or '- [x] text' (right), "
                           f"not '[{mark}]'")
            if answer is not None:
                raise _Bad(n, "a question takes either choices or one number ('= …'), not both")
            if not label:
                raise _Bad(n, "the choice has no text")
            if len(choices) == MAX_CHOICES:
                raise _Bad(n, f"more than {MAX_CHOICES} choices")
            current = [label]
            choices.append((current, mark in ("x", "X"), n))
        elif marker in "-*" and line[1:2] in (" ", ""):
            raise _Bad(n, "a choice is '- [ ] text' (wrong) or '- [x] text' (right); "
                       f"got {_cut(line)!r}")
        elif marker == "=":
            if choices:
                raise _Bad(n, "a question takes either choices or one number ('= …'), not both")
            if answer is not None:
                raise _Bad(n, "a second answer: a numeric question has one '= …' line")
            answer = _answer(line[1:], n)
            current = None
        elif marker == ">":
            said = line[1:].strip()
            if said or explanation:   # '>' alone: a paragraph break
                explanation.append(said)
            current = explanation
        elif current is None:
            raise _Bad(n, f"this line continues nothing: start it with '?', '- [ ]', '= ' or "
                       f"'>' (got {_cut(line)!r})")
        else:
            current.append(line)
    if question is None:
        raise _Bad(first, "the quiz block is empty: write a question line '? …', its choices "
                   "or '= answer', and an explanation '> …'")
    q_text = _field(question, first + 1, "question")
    if not q_text:
        raise _Bad(first + 1, "the question line has no text")
    if answer is None and not choices:
        raise _Bad(first, "the question has no answer: add choices ('- [ ] …' wrong, "
                   "'- [x] …' right) or a number ('= 1.5')")
    if choices:
        if len(choices) < 2:
            raise _Bad(choices[0][2], "a multiple-choice question needs at least 2 choices")
        if not any(c for _, c, _ in choices):
            raise _Bad(choices[0][2], "no choice is marked right: mark it '- [x] …'")
        seen: dict[str, int] = {}
        for words, _, n in choices:
            label = " ".join(words).casefold()
            if label in seen:
                raise _Bad(n, f"the same choice as on line {seen[label]}")
            seen[label] = n
    expl = "\n".join(explanation).strip()
    if not expl:
        raise _Bad(first, "the question has no explanation: add a line '> …' saying why, "
                   "shown after the learner answers")
    if len(expl) > MAX_FIELD_LENGTH:
        raise _Bad(first, f"the explanation is {len(expl)} characters long, more than "
                   f"{MAX_FIELD_LENGTH}")
    made = tuple(Choice(_field(w, n, "choice"), c) for w, c, n in choices)
    if answer is None:
        return Question(first, last, q_text, expl, made)
    return Question(first, last, q_text, expl, answer=answer[0], tolerance=answer[1])


def _field(words: list[str], line: int, what: str) -> str:
    text = "\n".join(words).strip()
    if len(text) > MAX_FIELD_LENGTH:
        raise _Bad(line, f"the {what} is {len(text)} characters long, more than "
                   f"{MAX_FIELD_LENGTH}")
    return text


def _answer(spec: str, line: int) -> tuple[float, float]:
    """'1.57 ± 0.01', '0.88 ± 1%' or '1.57' → (answer, absolute tolerance)."""
    value_text, *rest = _TOLERANCE.split(spec.strip(), maxsplit=1)
    try:
        value = parse_number(value_text)
    except ValueError as e:
        raise _Bad(line, f"the answer: {e}") from None
    if not rest:
        return value, precision(value_text)
    tol_text = rest[0].strip()
    relative = tol_text.endswith("%")
    try:
        tol = parse_number(tol_text[:-1] if relative else tol_text)
    except ValueError as e:
        raise _Bad(line, f"the tolerance: {e}") from None
    if tol < 0:
        raise _Bad(line, f"the tolerance must not be negative, got {num(tol)}")
    if relative:
        if value == 0:
            raise _Bad(line, "a tolerance in % of an answer of 0 is 0: give it as a number")
        tol = abs(value) * tol / 100.0
    return value, tol


def _cut(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


__all__ = [
    "Lesson", "Text", "Question", "Choice", "Problem", "Verdict", "parse_lesson", "parse_number",
    "MAX_QUESTIONS", "MAX_CHOICES", "MAX_FIELD_LENGTH",
]

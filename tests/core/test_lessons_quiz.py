"""Quiz blocks in lesson Markdown: the syntax, malformed blocks, and checking answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.core.lessons.numbers import parse_number, precision, within
from nnstudio.core.lessons.quiz import (
    MAX_CHOICES,
    MAX_QUESTIONS,
    Problem,
    Question,
    Text,
    parse_lesson,
)

CHOICE_QUIZ = """\
```quiz
? What is the output range of the sigmoid function?
- [ ] from −1 to 1
- [x] between 0 and 1
- [ ] from 0 to infinity
> σ(z) = 1 / (1 + e^−z) stays strictly between 0 and 1.
```
"""

NUMBER_QUIZ = """\
```quiz
? What is b3 after one step?
= 1.57 ± 0.01
> −15.7 × 0.1 = −1.57, so b3 = 0 − (−1.57) = 1.57.
```
"""


def only_question(text: str) -> Question:
    lesson = parse_lesson(text)
    assert not lesson.problems, [str(p) for p in lesson.problems]
    (q,) = lesson.questions
    return q


def problem(body: str, info: str = "quiz") -> Problem:
    """The one problem of a lesson holding one quiz block with these lines."""
    lesson = parse_lesson(f"# Lesson\n\n```{info}\n{body}```\n\nThe rest.\n")
    (p,) = lesson.problems
    assert lesson.parts[-1] == Text(p.end_line + 1, p.end_line + 2, "\nThe rest.\n")
    return p


# ---------------------------------------------------------------------- good blocks
def test_multiple_choice_block():
    q = only_question(CHOICE_QUIZ)
    assert q.kind == "choice" and not q.multiple
    assert q.text == "What is the output range of the sigmoid function?"
    assert [c.correct for c in q.choices] == [False, True, False]
    assert q.choices[1].text == "between 0 and 1"
    assert q.explanation.startswith("σ(z) = 1 / (1 + e^−z)")
    assert (q.line, q.end_line) == (1, 7)


def test_numeric_block_with_tolerance():
    q = only_question(NUMBER_QUIZ)
    assert q.kind == "number" and q.answer == 1.57 and q.tolerance == 0.01
    assert q.check_number(1.575).correct and q.check_number(1.58).correct
    assert not q.check_number(1.59).correct


@pytest.mark.parametrize("spec, answer, tol", [
    ("1.57", 1.57, 0.005), ("405", 405.0, 0.5), ("−15.7", -15.7, 0.05), ("-0.75", -0.75, 0.005),
    ("1.2e-4", 1.2e-4, 5e-6), ("2.61 +- 0.01", 2.61, 0.01), ("2.61 +/- 0.01", 2.61, 0.01),
    ("0.88 ± 1%", 0.88, 0.0088), ("30", 30.0, 0.5), ("9.10", 9.1, 0.005),
])
def test_answer_forms(spec, answer, tol):
    q = only_question(f"```quiz\n? Q?\n= {spec}\n> Why.\n```\n")
    assert q.answer == pytest.approx(answer) and q.tolerance == pytest.approx(tol)


def test_text_around_quizzes_is_kept_verbatim_with_line_numbers():
    text = "# Title\n\nIntro.\n\n" + CHOICE_QUIZ + "\nMiddle.\n\n" + NUMBER_QUIZ + "End."
    parts = parse_lesson(text).parts
    kinds = [type(p).__name__ for p in parts]
    assert kinds == ["Text", "Question", "Text", "Question", "Text"]
    assert parts[0] == Text(1, 4, "# Title\n\nIntro.\n\n")
    assert (parts[1].line, parts[1].end_line) == (5, 11)
    assert parts[2] == Text(12, 14, "\nMiddle.\n\n")
    assert (parts[3].line, parts[3].end_line) == (15, 19)
    assert parts[4] == Text(20, 20, "End.")


def test_select_all_that_apply():
    q = only_question("```quiz\n? Which are activations?\n- [x] tanh\n- [X] ReLU\n"
                      "* [ ] Adam\n> Adam is an optimizer.\n```\n")
    assert q.multiple
    assert q.check_choices([0, 1]).correct
    v = q.check_choices([0, 2])
    assert not v.correct and v.message == "Not quite: 1 of the 2 right answers, and 1 that is not."


def test_continuation_lines_and_explanation_paragraphs():
    q = only_question("```quiz\n? What does a perceptron\n  do?\n- [x] It adds its weighted\n"
                      "  inputs and the bias\n- [ ] Nothing\n> First.\n>\n> Second\n"
                      "continued.\n```\n")
    assert q.text == "What does a perceptron\ndo?"
    assert q.choices[0].text == "It adds its weighted\ninputs and the bias"
    assert q.explanation == "First.\n\nSecond\ncontinued."


def test_quiz_fence_inside_another_code_block_is_code():
    text = "````markdown\n```quiz\n? Q?\n= 1\n> W.\n```\n````\n"
    lesson = parse_lesson(text)
    assert not lesson.questions and not lesson.problems
    assert lesson.parts == (Text(1, 7, text),)


def test_indented_four_spaces_is_code_not_a_quiz():
    text = "    ```quiz\n    ? Q?\n    ```\n"
    assert parse_lesson(text).parts == (Text(1, 3, text),)


def test_tilde_fence_and_longer_closing_fence():
    q = only_question("~~~quiz\n? Q?\n= 2\n> W.\n~~~~\n")
    assert q.answer == 2.0


def test_question_key_follows_the_text_not_the_place():
    a = only_question(NUMBER_QUIZ)
    b = parse_lesson("# Moved down\n\n" + NUMBER_QUIZ.replace("b3 after", "b3  after")).questions[0]
    c = only_question(NUMBER_QUIZ.replace("b3", "b2"))
    assert a.key == b.key != c.key


def test_crlf_lines():
    q = only_question(NUMBER_QUIZ.replace("\n", "\r\n"))
    assert q.answer == 1.57 and q.text == "What is b3 after one step?"


# ---------------------------------------------------------------------- checking answers
def test_single_choice_verdicts():
    q = only_question(CHOICE_QUIZ)
    assert q.check_choices([1]).correct
    assert q.check_choices([0]) == q.check_choices([2])
    assert not q.check_choices([0]).correct
    with pytest.raises(ValueError, match="pick a choice"):
        q.check_choices([])
    with pytest.raises(ValueError, match="no choice 3"):
        q.check_choices([3])
    with pytest.raises(ValueError, match="takes a choice"):
        q.check_number(1.0)


def test_numeric_verdicts_and_typed_text():
    q = only_question(NUMBER_QUIZ)
    assert q.check_text("1.57").correct and q.check_text("−1.57").correct is False
    assert q.check_text(" 1.565 ").correct
    assert q.check_number(1.7).message == "Not quite: 1.7 is too high."
    assert q.check_number(1.2).message == "Not quite: 1.2 is too low."
    with pytest.raises(ValueError, match="write decimals with a point: 1.57"):
        q.check_text("1,57")
    with pytest.raises(ValueError, match="takes a number"):
        q.check_choices([0])
    half = only_question("```quiz\n? d(shoe size)/d(weight)?\n= 0.5\n> 2 × 1/4.\n```\n")
    assert half.check_text("1/2").correct and not half.check_text("1/4").correct


@pytest.mark.parametrize("text, value", [
    ("1.5", 1.5), ("−0.75", -0.75), ("+2", 2.0), (".5", 0.5), ("1e-4", 1e-4), ("3.", 3.0),
])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text, message", [
    ("", "a number is missing"), ("abc", "'abc' is not a number"), ("nan", "not a number"),
    ("inf", "not a number"), ("1_000", "not a number"), ("1e999", "too large"),
    ("1,5", "write decimals with a point: 1.5"), ("0x10", "not a number"),
])
def test_parse_number_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_number(text)


def test_fractions_only_when_asked():
    assert parse_number("1/4", fractions=True) == 0.25
    with pytest.raises(ValueError, match="not a number"):
        parse_number("1/4")
    with pytest.raises(ValueError, match="divides by zero"):
        parse_number("1/0", fractions=True)


def test_precision_and_within():
    assert precision("2.610") == pytest.approx(0.0005)
    assert within(2.62, 2.61, 0.01) and within(2.60, 2.61, 0.01)
    assert not within(2.6201, 2.61, 0.01)
    assert within(0.0, 0.0, 0.0) and not within(1e-12, 0.0, 0.0)


# ---------------------------------------------------------------------- malformed blocks
@pytest.mark.parametrize("body, at, message", [
    ("", 3, "the quiz block is empty"),
    ("- [x] yes\n- [ ] no\n", 4, "a quiz starts with its question"),
    ("? Q?\n? Another?\n", 5, "a second question in one quiz block"),
    ("? Q?\n- [x] a\n", 5, "needs at least 2 choices"),
    ("? Q?\n- [ ] a\n- [ ] b\n> W.\n", 5, "no choice is marked right"),
    ("? Q?\n- [?] a\n", 5, "a choice is '- [ ] text' (wrong) or '- [x] text' (right), not '[?]'"),
    ("? Q?\n- a\n", 5, "a choice is '- [ ] text'"),
    ("? Q?\n- [x]\n", 5, "the choice has no text"),
    ("? Q?\n- [x] a\n- [ ] a\n", 6, "the same choice as on line 5"),
    ("? Q?\n- [x] a\n= 1\n", 6, "either choices or one number"),
    ("? Q?\n= 1\n- [x] a\n", 6, "either choices or one number"),
    ("? Q?\n= 1\n= 2\n", 6, "a second answer"),
    ("? Q?\n= 1,57\n", 5, "write decimals with a point: 1.57"),
    ("? Q?\n= one\n", 5, "the answer: 'one' is not a number"),
    ("? Q?\n= 1 ± x\n", 5, "the tolerance: 'x' is not a number"),
    ("? Q?\n= 1 ± -0.1\n", 5, "the tolerance must not be negative"),
    ("? Q?\n= 0 ± 5%\n", 5, "a tolerance in % of an answer of 0"),
    ("? Q?\n> W.\n", 3, "the question has no answer"),
    ("? Q?\n= 1\n", 3, "the question has no explanation"),
    ("?\n= 1\n> W.\n", 4, "the question line has no text"),
])
def test_malformed_block_names_the_line_and_keeps_the_rest(body, at, message):
    p = problem(body)
    assert p.line == 3 and p.at == at
    assert message in p.message, p.message
    assert str(p) == f"line {at}: {p.message}"
    assert p.source == f"```quiz\n{body}```\n"


def test_a_line_that_continues_nothing():
    p = problem("? Q?\n= 1\nloose words\n> W.\n")
    assert p.at == 6 and "continues nothing" in p.message


def test_options_after_quiz_are_refused():
    p = problem("? Q?\n= 1\n> W.\n", info="quiz shuffle")
    assert p.at == 3 and "unexpected 'shuffle'" in p.message


def test_too_many_choices():
    body = "? Q?\n- [x] c0\n" + "".join(f"- [ ] c{i}\n" for i in range(1, MAX_CHOICES + 1))
    p = problem(body)
    assert p.message == f"more than {MAX_CHOICES} choices"


def test_overlong_field():
    p = problem("? " + "x" * 2001 + "\n= 1\n> W.\n")
    assert "more than 2000" in p.message


def test_unclosed_quiz_keeps_the_rest_of_the_lesson():
    text = "# T\n\n```quiz\n? Q?\n= 1\n> W.\n\n## More\n\nText.\n"
    lesson = parse_lesson(text)
    (p,) = lesson.problems
    assert (p.line, p.at) == (3, 3) and "never closed" in p.message and "```" in p.message
    assert lesson.parts[-1] == Text(4, 10, "? Q?\n= 1\n> W.\n\n## More\n\nText.\n")


def test_one_bad_block_among_good_ones():
    text = NUMBER_QUIZ + "\n```quiz\n? Broken\n```\n\n" + CHOICE_QUIZ
    lesson = parse_lesson(text)
    assert len(lesson.questions) == 2 and len(lesson.problems) == 1
    assert lesson.problems[0].line == 7


def test_question_limit():
    text = "".join(f"```quiz\n? Q{i}?\n= {i}\n> W.\n```\n" for i in range(MAX_QUESTIONS + 1))
    lesson = parse_lesson(text)
    assert len(lesson.questions) == MAX_QUESTIONS
    assert len(lesson.problems) == 1 and "more than 100 questions" in lesson.problems[0].message


# ---------------------------------------------------------------------- any text at all
def covered_lines(text: str) -> list[str]:
    """Every line of the text, rebuilt from the parts (Text verbatim, blocks by line range)."""
    lines = text.split("\n")
    lines = [ln + "\n" for ln in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    out: list[str] = []
    expected = 1
    for part in parse_lesson(text).parts:
        assert part.line == expected, "parts are in order and leave no gap"
        if isinstance(part, Text):
            out.append(part.text)
        else:
            out.append("".join(lines[part.line - 1:part.end_line]))
        if isinstance(part, Problem):
            assert part.source == out[-1] or part.end_line == part.line
        expected = part.end_line + 1
    assert expected == len(lines) + 1
    return out


QUIZ_ALPHABET = st.sampled_from(["```quiz\n", "```\n", "~~~quiz\n", "````\n", "? Q\n", "= 1\n",
                                 "= x\n", "- [x] a\n", "- [ ] b\n", "- c\n", "> w\n", "\n",
                                 "text\n", "    ```quiz\n", "```python\n", "= 1 ± 2%\n",
                                 "\r\n", "± ", "quiz", "`", "~", "-", "[", "]", "x", "é"])


@settings(max_examples=300, deadline=None)
@given(st.lists(QUIZ_ALPHABET, max_size=40).map("".join))
def test_junk_never_raises_and_loses_nothing(text):
    assert "".join(covered_lines(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_never_raises_and_loses_nothing(text):
    assert "".join(covered_lines(text)) == text

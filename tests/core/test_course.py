"""The course lists every shipped lesson once, in an order where each builds on the last."""

from __future__ import annotations

from nnstudio import paths
from nnstudio.samples import build_samples, course


def test_every_shipped_lesson_is_in_the_course_once():
    assert sorted(course.names()) == sorted(build_samples.BUILDERS)
    assert sorted(course.names()) == sorted(p.stem for p in paths.samples())
    assert len(set(course.names())) == len(course.COURSE)


def test_summaries_are_one_short_line():
    for name, text in course.COURSE:
        assert text and "\n" not in text and len(text) <= 80, name
        assert course.summary(name) == text


def test_the_order_builds_up():
    order = course.names()
    before = [("weight-and-bias", "perceptron-and"), ("perceptron-and", "xor"),
              ("intercept-descent", "dosage-backprop"), ("chain-rule", "dosage-backprop"),
              ("why-nonlinearity", "xor"), ("softmax", "fruit-classifier"),
              ("vanishing-gradients", "dying-relu")]
    for a, b in before:
        assert order.index(a) < order.index(b), (a, b)

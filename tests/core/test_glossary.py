"""The glossary defines the seeds' terms, and finds each term's first bold mention."""

from __future__ import annotations

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.lessons.glossary import GLOSSARY, define, first_terms


def test_the_seeds_terms_are_defined_in_their_words():
    for term in ("hyperparameter", "black box", "residual", "epoch", "dense network",
                 "learning rate", "activation", "loss", "gradient", "bias", "weight"):
        assert term in GLOSSARY, term
    assert GLOSSARY["black box"].startswith("The hidden layers, collectively")
    assert GLOSSARY["residual"].startswith("Actual minus predicted")
    assert all(len(d) <= 140 and "\n" not in d for d in GLOSSARY.values())


def test_define_follows_case_and_plurals():
    assert define("Weights") == GLOSSARY["weight"]
    assert define("BIASES") == GLOSSARY["bias"]
    assert define("Dense   Network") == GLOSSARY["dense network"]
    assert define("residuals") == GLOSSARY["residual"]
    assert define("banana") is None


def test_first_terms_marks_only_the_first_mention_of_each():
    text = ("A **weight** and two biases; another weight, Weights, a weighting and tanh.\n"
            "`loss` in code\n```quiz\n? What is the loss?\n```\nthe Gradient  descent step,"
            " a gradient, the loss")
    found = first_terms(text)
    assert [m.term for m in found] == ["weight", "biases", "Gradient  descent", "gradient",
                                       "loss"]
    assert text[found[0].start:found[0].end] == "weight"
    assert found[1].definition == GLOSSARY["bias"]
    assert found[4].start == text.rindex("loss")


def test_the_shipped_lessons_use_the_glossary():
    terms = set()
    for path in paths.samples():
        terms |= {m.definition for m in first_terms(project.load(path).description)}
    assert len(terms) >= 10

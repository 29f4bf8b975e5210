"""The glossary: the seeds' terms, each with a one-line definition in the seeds' own wording.

:data:`GLOSSARY` maps a term (lower case) to its definition; :func:`define` looks a term up as
a lesson writes it (any case, a plural ``s``); :func:`first_terms` finds, in a lesson's
Markdown, the first mention of each glossary term (a whole word or phrase, any case, outside
code and quiz blocks and inline code), which the lesson panel gives a dotted underline and the
definition as its tooltip. Pure Python: no Qt.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

GLOSSARY: dict[str, str] = {
    "neuron": "A function that takes in a value, modifies it and holds it: w·x + b, then an "
              "activation.",
    "connection": "The link between two neurons; every connection has its own weight.",
    "weight": "How strongly an input counts: it sets the steepness of the neuron's line.",
    "bias": "A constant added after the weighted sum: it shifts the output up or down.",
    "hyperparameter": "A setting you choose before training (learning rate, epochs, layers); "
                      "the parameters, weights and biases, are what the model learns.",
    "input layer": "The first layer of neurons, which takes in the external input.",
    "output layer": "The last layer of neurons, which gives out the (hopefully) desired "
                    "output.",
    "hidden layer": "A layer of neurons between the input and the output layers.",
    "black box": "The hidden layers, collectively: what happens between input and output.",
    "dense network": "A network where every neuron is connected to every neuron of the next "
                     "layer.",
    "activation": "The function a neuron applies to its weighted sum plus bias; it makes the "
                  "network non-linear.",
    "weighted sum": "The inputs, each multiplied by its connection's weight, added up.",
    "linear combination": "The weighted sum plus bias with no activation: a straight line.",
    "softmax": "An output activation that turns the raw outputs into probabilities adding "
               "up to 1.",
    "loss": "A number that says how wrong the predictions are; training makes it smaller.",
    "residual": "Actual minus predicted: how wrong the prediction is for one data point.",
    "ssr": "The sum of squared residuals: every residual squared, then added up.",
    "gradient": "The slope of the loss for one parameter: which way to move it, and how "
                "strongly.",
    "gradient descent": "Repeatedly moving every parameter a small step against its "
                        "gradient.",
    "learning rate": "The small multiplier that sets the size of each gradient descent step.",
    "epoch": "One pass of training over the whole dataset.",
    "backpropagation": "Working backwards from the loss with the chain rule to find every "
                       "parameter's gradient.",
    "chain rule": "The rate of change through a chain of links is the product of the links' "
                  "rates.",
    "vanishing gradient": "A gradient so small in the early layers that they stop learning.",
    "perceptron": "The simplest neural network: one neuron with a weighted sum, a bias and a "
                  "step.",
    "slope": "How much y changes when x grows by 1.",
}

_PLURAL = re.compile(r"(?:es|s)$")
# every term as a whole word or phrase, the longest first ("gradient descent" before
# "gradient"), with an optional plural; spaces inside a phrase may be any run of whitespace
_TERMS = re.compile(
    r"(?<![\w-])(" + "|".join(r"\s+".join(map(re.escape, t.split()))
                             for t in sorted(GLOSSARY, key=len, reverse=True))
    + r")(?:es|s)?(?![\w-])", re.IGNORECASE)
_SKIPPED = re.compile(r"^(```|~~~).*?^\1[ \t]*$|`[^`\n]*`", re.MULTILINE | re.DOTALL)


def define(term: str) -> str | None:
    """The definition of ``term`` as written in a lesson (any case, singular or plural)."""
    key = " ".join(term.lower().split())
    if key in GLOSSARY:
        return GLOSSARY[key]
    singular = _PLURAL.sub("", key)
    if singular in GLOSSARY:
        return GLOSSARY[singular]
    if key.endswith("s") and key[:-1] in GLOSSARY:
        return GLOSSARY[key[:-1]]
    return None


@dataclass(frozen=True)
class Mention:
    """A glossary term in a lesson text: ``text[start:end]`` is the term as written."""

    term: str
    start: int
    end: int
    definition: str


def first_terms(text: str, already: Collection[str] = ()) -> list[Mention]:
    """The first mention of each glossary term in ``text``, in order of appearance; fenced
    blocks (code, quizzes) and inline code are skipped, and so are the terms whose definition
    is in ``already`` (marked earlier in the same lesson)."""
    skipped = [(m.start(), m.end()) for m in _SKIPPED.finditer(text)]
    seen: set[str] = set(already)
    out: list[Mention] = []
    for m in _TERMS.finditer(text):
        if any(a <= m.start() < b for a, b in skipped):
            continue
        definition = define(m.group(0))
        if definition is None or definition in seen:
            continue
        seen.add(definition)
        out.append(Mention(m.group(0), m.start(), m.end(), definition))
    return out

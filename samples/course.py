"""The course: every shipped lesson in the suggested order, each with a one-line summary.

The lessons page (Help ▸ Lessons) lists them in this order. tests/core/test_course.py holds it
to the shipped samples: every lesson appears exactly once.
"""

from __future__ import annotations

#: (lesson name: the sample's file stem, one-line summary), in the suggested order
COURSE: tuple[tuple[str, str], ...] = (
    ("weight-and-bias", "One neuron is w·x + b: the weight tilts a line, the bias moves it."),
    ("perceptron-and", "A perceptron adds weighted inputs and a bias: the AND gate."),
    ("intercept-descent", "Gradient descent step by step: b from 10 down to 1."),
    ("linear-regression", "The best-fit line by least squares: slope 0.6, intercept 2.2."),
    ("chain-rule", "Multiply the links' slopes: weight → height → shoe size."),
    ("dosage-backprop", "Backpropagation finds the final bias b3: −15.7, 1.57, 2.61."),
    ("why-nonlinearity", "Without activations, XOR stalls at MSE 0.25."),
    ("xor", "Three tanh hidden neurons solve XOR."),
    ("softmax", "Raw outputs [34, 32, 25] become probabilities 0.88, 0.12, 0.0001."),
    ("fruit-classifier", "Sorting fruit: wrong before training, 100% after."),
    ("three-layer", "A 3-3-3-2 dense network with two outputs."),
    ("vanishing-gradients", "Eight sigmoid layers: the first one hardly learns."),
    ("dying-relu", "ReLU neurons that never fire, and how to revive them."),
    ("parametric-relu", "A leaky slope that learns: from 0.01 to 0.25."),
    ("spiral", "Two interleaved spirals: a boundary that bends and bends."),
    ("architectures", "MLP, CNN, RNN and Transformer: what each is for."),
    ("cnn-o-vs-x", "A CNN tells O from X with 20 filter parameters, even shifted."),
)


def names() -> list[str]:
    return [name for name, _ in COURSE]


def summary(name: str) -> str:
    return dict(COURSE)[name]

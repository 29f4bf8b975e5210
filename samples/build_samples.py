"""Build the sample projects (samples/*.nnproj) from this one reproducible script.

    python samples/build_samples.py            # (re)write every sample next to this file
    python samples/build_samples.py --check    # also train each one and print its results
    python -m nnstudio.samples.build_samples   # the same, from an installed package

Every number in the samples comes from here: the seeds' worked examples (seed 000: the fruit
sorter and softmax; seed 001: gradient descent on an intercept, the slope example and the dosage
backpropagation example; seed 002: the AND perceptron and the 3-3-3-2 network) plus XOR and a
spiral), and the lessons of samples/concept_lessons.py for the seeds' other concepts. Each
lesson's quizzes and challenges come from samples/lesson_checks.py (:func:`build`).
tests/core/test_samples.py checks that the files on disk equal what this script builds and that
each reproduces its numbers.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np

from nnstudio.core import datasets
from nnstudio.core.datasets import Dataset
from nnstudio.core.network import Network, dense
from nnstudio.core.project import Project, save
from nnstudio.core.project.challenges_section import validate_challenges
from nnstudio.core.trainer import TrainSettings
from nnstudio.samples import concept_lessons, lesson_checks

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------- perceptron-and
def perceptron_and() -> Project:
    net = Network()
    net.add_neuron("input", id="x1", label="x1", x=0, y=-60)
    net.add_neuron("input", id="x2", label="x2", x=0, y=60)
    net.add_neuron("output", id="b", label="x1 AND x2", activation="binary_step", bias=-0.75,
                   x=240, y=0)
    net.connect("x1", "b", 0.5, id="w1")
    net.connect("x2", "b", 0.5, id="w2")
    ds = datasets.generate("and")
    settings = TrainSettings(loss="mse", optimizer="gd", learning_rate=0.1, epochs=20)
    return Project(net, ds, settings, PERCEPTRON_AND, "Perceptron: the AND gate")


PERCEPTRON_AND = """\
# The perceptron: an AND gate

This is seed 002's perceptron, an artificial neuron modelled on the biological one: the
dendrites bring signals in (the inputs x), the synapses make each stronger or weaker (the
weights w), the soma adds them up (the sum Σ plus the bias b) and the axon passes the result on
(the activation f and the output y).

![A biological neuron and an artificial neuron, part for part](nnstudio:neuron.svg)

One neuron adds up its weighted inputs and the bias,

    z = w1·x1 + w2·x2 + b = 0.5·x1 + 0.5·x2 − 0.75

and its **binary step** activation outputs 1 if z > 0, else 0.

## What to watch
Click through the four samples of the truth table and read z on the output neuron:

| x1 | x2 | z | output |
|---|---|---|---|
| 0 | 0 | −0.75 | 0 |
| 0 | 1 | −0.25 | 0 |
| 1 | 0 | −0.25 | 0 |
| 1 | 1 | 0.25 | 1 |

Only (1, 1) pushes z above 0: the bias −0.75 is a threshold that one input alone cannot cross.

## Try next
- Change the bias **b** to −0.25: now one input is enough, and the neuron computes **OR**.
- Press **Train**: nothing moves. The step's gradient is 0 everywhere, so gradient descent gets no
  signal. Switch the activation to **sigmoid**, set b to 0, set the learning rate to **1** and
  the epochs to **200**, and train again: the MSE falls from 0.274 to 0.031 and all four rows
  come out right (w1 = w2 = 2.66, b = −4.12). With the lesson's 0.1 and 20 epochs the sigmoid
  barely moves (MSE 0.217, 50% right): a smooth gradient still needs enough steps.
"""


# ---------------------------------------------------------------------- intercept-descent
def intercept_descent() -> Project:
    net = Network()
    net.add_neuron("input", id="x", label="x", x=0, y=0)
    net.add_neuron("output", id="intercept", label="y = 2x + b", activation="identity",
                   bias=10.0, x=260, y=0)
    net.connect("x", "intercept", 2.0, id="slope", trainable=False)
    ds = datasets.generate("line")  # x = 0, 1, 2, 3, 4; y = 1, 3, 5, 7, 9
    settings = TrainSettings(loss="ssr", optimizer="gd", learning_rate=0.01, epochs=100,
                             min_step=0.001)
    return Project(net, ds, settings, INTERCEPT_DESCENT, "Gradient descent on an intercept")


INTERCEPT_DESCENT = """\
# Gradient descent: finding the intercept

Seed 001's example. The data lies on the line **y = 2x + 1** (x = 0, 1, 2, 3, 4), but the model
does not know the intercept. The slope is fixed at 2 (the connection is locked) and the
intercept **b** (the output neuron's bias) starts at a guess of **10**, so every prediction is 9
too high.

## What to watch
- The loss is the **sum of squared residuals**: 5 × 9² = **405** at the start.
- Its gradient is dSSR/db = −2 · Σ(y − prediction) = −2 · (−45) = **90**. With learning rate
  0.01 the step size is 0.01 × 90 = 0.9, so after **one step b = 9.10**.
- Each update shrinks the gap to 1 by the same factor (0.9), so after n updates b = 1 + 9 · 0.9ⁿ,
  converging toward the true intercept **1** while the loss falls toward 0:

| update | 0 | 1 | 2 | 3 | 4 | 5 | 10 | 29 | 30 | 66 |
|---|---|---|---|---|---|---|---|---|---|---|
| b | 10.00 | 9.10 | 8.29 | 7.56 | 6.90 | 6.31 | 4.14 | 1.42 | 1.38 | 1.0086 |

- The seed's "step 29: b = 1.38" counts from step 0 (the guess), so its step 29 is the
  **30th update**: after 29 updates b is still 1.42.
- "The algorithm stops once the steps become infinitesimally small or a set maximum number of
  steps is reached": the **minimum step** setting is 0.001, so training stops by itself after
  **66 updates**, the first whose step, 0.9⁶⁶ = 0.00096, is below it, at b = **1.0086**, well
  before the maximum of 100 epochs.

## Try next
- Set the minimum step to 0 and train again: now all 100 updates run and b ends at 1.0002.
- Set the learning rate to 0.1: the first step jumps straight to b = 1.
- Set it to 0.25: every step overshoots the bottom of the U-shaped loss curve and b diverges.
- Unlock the slope so that both parameters learn.
"""


# ---------------------------------------------------------------------- dosage-backprop
def dosage_backprop() -> Project:
    net = Network()
    net.add_neuron("input", id="dosage", label="dosage", x=0, y=0)
    net.add_neuron("hidden", id="b1", label="upper softplus", activation="softplus",
                   bias=-1.43, bias_trainable=False, x=240, y=-90)
    net.add_neuron("hidden", id="b2", label="lower softplus", activation="softplus",
                   bias=0.57, bias_trainable=False, x=240, y=90)
    net.add_neuron("output", id="b3", label="efficacy", activation="identity", bias=0.0,
                   x=480, y=0)
    net.connect("dosage", "b1", 3.34, id="w1", trainable=False)
    net.connect("dosage", "b2", -3.53, id="w2", trainable=False)
    net.connect("b1", "b3", -1.22, id="w3", trainable=False)
    net.connect("b2", "b3", -2.30, id="w4", trainable=False)
    ds = datasets.generate("dosage")  # dosages 0, 0.5, 1 -> 0, 1, 0
    settings = TrainSettings(loss="ssr", optimizer="gd", learning_rate=0.1, epochs=50)
    return Project(net, ds, settings, DOSAGE_BACKPROP, "Backpropagation: the final bias b3")


DOSAGE_BACKPROP = """\
# Backpropagation: optimising the final bias b3

Seed 001's backpropagation example. A drug works only at a medium dose: dosages 0, 0.5 and 1
give efficacy 0, 1 and 0. The dosage feeds an **upper** path (softplus, w1 = 3.34, b1 = −1.43)
and a **lower** path (softplus, w2 = −3.53, b2 = 0.57); the output adds them with weights
w3 = −1.22 and w4 = −2.30 plus the final bias **b3**. Every weight and bias is already fitted
and locked except **b3**, which starts at 0.

## What to watch
- With b3 = 0 the predicted curve (the seed's "green squiggle") sits too low: the SSR is
  high.
- The chain rule gives dSSR/db3 = Σ −2 · (observed − predicted) · 1 = **−15.7**.
- Step size = slope × learning rate = −15.7 × 0.1 = **−1.57**, so the new **b3 = 0 − (−1.57) =
  1.57** after one step.
- Keep stepping: the steps shrink as the slope flattens, and b3 settles at about **2.61**, where
  the squiggle passes through the data and the SSR is smallest.

## Try next
- Step through one update in the backprop player and follow −15.7 from the loss back to b3.
- Unlock w3 and w4 as well and train again: now several parameters share the work.
"""


# ---------------------------------------------------------------------- linear-regression
def linear_regression() -> Project:
    net = Network()
    net.add_neuron("input", id="x", label="x", x=0, y=0)
    net.add_neuron("output", id="intercept", label="y", activation="identity", bias=0.0,
                   x=260, y=0)
    net.connect("x", "intercept", 0.0, id="slope")
    X = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    Y = np.array([[2.0], [4.0], [5.0], [4.0], [5.0]])
    ds = Dataset(["x"], ["y"], X, Y)
    settings = TrainSettings(loss="ssr", optimizer="gd", learning_rate=0.01, epochs=2000)
    return Project(net, ds, settings, LINEAR_REGRESSION, "Linear regression: slope and intercept")


LINEAR_REGRESSION = """\
# Linear regression: the best-fit slope

Seed 001's slope example: x = 1, 2, 3, 4, 5 and y = 2, 4, 5, 4, 5. A single **identity**
neuron computes y = slope · x + intercept; the connection's weight is the **slope** and the
neuron's bias is the **intercept**. Both start at 0.

## What to watch
- The least-squares line has slope m = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)² = 6 / 10 = **0.6** and
  intercept c = ȳ − m·x̄ = 4 − 0.6 · 3 = **2.2**.
- Gradient descent on the **sum of squared residuals** finds the same line without the formula:
  watch the slope rise quickly, then the intercept creep up while the slope settles back to 0.6.
- The loss stops falling at SSR = 2.4: no straight line gets closer to these five points.

## Try next
- Drag a data point in the dataset panel and train again.
- Raise the learning rate to 0.02: the steep direction now overshoots and the loss explodes.
"""


# ---------------------------------------------------------------------- fruit-classifier
FRUIT_COLOURS = {"red": 0.0, "orange": 1.0, "yellow": 2.0, "green": 3.0}  # around the hue wheel
FRUIT_SIZES = {"small": 1.0, "medium": 2.0, "large": 3.0}
# (weight in grams, colour, texture 0 smooth / 1 rough, size, fruit)
FRUITS = [
    (150, "red", 0, "medium", "apple"), (182, "red", 0, "medium", "apple"),
    (130, "red", 0, "small", "apple"), (205, "red", 0, "large", "apple"),
    (140, "green", 0, "small", "apple"), (170, "green", 0, "medium", "apple"),
    (195, "green", 0, "medium", "apple"), (160, "yellow", 0, "medium", "apple"),
    (120, "yellow", 0, "large", "banana"), (118, "yellow", 0, "large", "banana"),
    (135, "yellow", 0, "large", "banana"), (110, "green", 0, "large", "banana"),
    (125, "green", 0, "large", "banana"), (105, "yellow", 0, "medium", "banana"),
    (140, "yellow", 0, "large", "banana"), (115, "yellow", 0, "medium", "banana"),
    (140, "orange", 1, "small", "orange"), (185, "orange", 1, "medium", "orange"),
    (230, "orange", 1, "large", "orange"), (160, "orange", 1, "medium", "orange"),
    (210, "orange", 1, "large", "orange"), (150, "yellow", 1, "medium", "orange"),
    (175, "green", 1, "medium", "orange"), (130, "orange", 1, "small", "orange"),
]


def fruit_dataset() -> Dataset:
    classes = ["apple", "banana", "orange"]
    X = np.array([[g / 100.0, FRUIT_COLOURS[c], float(t), FRUIT_SIZES[s]]
                  for g, c, t, s, _ in FRUITS])
    Y = np.array([[1.0 if f == k else 0.0 for k in classes] for *_, f in FRUITS])
    return Dataset(["weight (100 g)", "colour", "texture", "size"], classes, X, Y, classes)


#: the initial weights: with them the untrained sorter calls the first apple an orange
FRUIT_INIT_SEED = 4


def fruit_classifier() -> Project:
    net = Network()
    ins = [("weight", "weight"), ("colour", "colour"), ("texture", "texture"), ("size", "size")]
    for i, (nid, label) in enumerate(ins):
        net.add_neuron("input", id=nid, label=label, x=0, y=(i - 1.5) * 90)
    h1 = [net.add_neuron("hidden", id=f"h{i + 1}", label=f"h{i + 1}", activation="relu",
                         x=220, y=(i - 2) * 80).id for i in range(5)]
    h2 = [net.add_neuron("hidden", id=f"g{i + 1}", label=f"g{i + 1}", activation="relu",
                         x=440, y=(i - 2) * 80).id for i in range(5)]
    outs = [net.add_neuron("output", id=k, label=k, activation="softmax", x=660,
                           y=(i - 1) * 100).id for i, k in enumerate(["apple", "banana", "orange"])]
    for a, b in ((ins, h1), (h1, h2), (h2, outs)):
        srcs = [s[0] for s in a] if isinstance(a[0], tuple) else a
        for t in b:
            for s in srcs:
                net.connect(s, t)
    net.randomize(seed=FRUIT_INIT_SEED, init="he")
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.05, epochs=300,
                             seed=0, init="he")
    return Project(net, fruit_dataset(), settings, FRUIT_CLASSIFIER,
                   "Fruit sorter: apples, bananas, oranges")


FRUIT_CLASSIFIER = """\
# The fruit sorter

Seed 000's farmer wants to sort fruit into **apples**, **bananas** and **oranges** from four
measurements: weight (in units of 100 g), colour (0 red, 1 orange, 2 yellow, 3 green: the way
round the colour wheel), texture (0 smooth, 1 rough) and size (1 small, 2 medium, 3 large).
It is a **dense network**: every neuron feeds every neuron of the next layer, through two
**ReLU** hidden layers to three **softmax** outputs.

## What to watch
- Each hidden neuron takes the weighted sum of the previous layer, adds its bias and applies
  ReLU, so some neurons are silent (0) for some fruit.
- Softmax turns the three raw outputs into probabilities that add up to 1: raw values
  [34, 32, 25] would give [0.88, 0.12, 0.0001]. The biggest one is the network's answer.
- Before training the weights are random, so the network is wrong: the first fruit in the
  dataset, a 150 g red, smooth, medium **apple**, comes out as an **orange** (apple 0.26,
  banana 0.18, orange 0.56), just like seed 000's untrained "ultimate neural network".
  Press **Train**: the squared-error loss falls, the apple becomes an apple and accuracy
  reaches **100%**.
- The output pane shows the three softmax probabilities of the chosen fruit as bars.

## Try next
- Pick a banana in the dataset panel and follow its activations forward through the layers.
- Switch the loss to cross-entropy, the usual partner of softmax, and compare the loss curves.
- Remove a hidden layer: is one enough for this data?
"""


# ---------------------------------------------------------------------- xor
def xor() -> Project:
    net = dense([2, 3, 1], hidden="tanh", output="sigmoid", seed=1, dy=110)
    net.set_label("y1", "x1 XOR x2")
    net.move_neurons({"x1": (0, -70), "x2": (0, 70)})
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.05, epochs=400,
                             seed=1)
    return Project(net, datasets.generate("xor"), settings, XOR, "XOR")


XOR = """\
# XOR: why hidden neurons matter

XOR outputs 1 when exactly one input is 1. No single perceptron can do it: no straight line
separates (0, 1) and (1, 0) from (0, 0) and (1, 1). Three **tanh** hidden neurons each draw
their own line, and the **sigmoid** output combines them.

## What to watch
- Press **Train** and watch the mean squared error: a flat stretch while the hidden neurons sort
  out their roles, then a fall to below **0.01**.
- Look at the hidden neurons' activations for the four samples: each has learned a different
  line (like OR, or NAND), and the output computes "this and not that".

## Try next
- Press **Randomize** and train again a few times: now and then a start gets stuck in a local
  minimum, where the loss stops falling well above 0.01.
- Delete two hidden neurons. Can a single one solve XOR?
- Switch the hidden activations to ReLU, or the optimizer to plain gradient descent, and compare
  how long the flat stretch lasts.
"""


# ---------------------------------------------------------------------- three-layer
def three_layer_dataset() -> Dataset:
    X = np.array([[a, b, c] for a in (0.0, 1.0) for b in (0.0, 1.0) for c in (0.0, 1.0)])
    majority = (X.sum(axis=1) >= 2).astype(float)
    any_on = (X.sum(axis=1) >= 1).astype(float)
    return Dataset(["x1", "x2", "x3"], ["majority", "any on"], X, np.c_[majority, any_on])


def three_layer() -> Project:
    net = Network()
    cols = [("x", "input", "identity"), ("h", "hidden", "tanh"), ("o", "hidden", "tanh"),
            ("y", "output", "sigmoid")]
    sizes = [3, 3, 3, 2]
    layers = []
    for li, ((p, role, act), n) in enumerate(zip(cols, sizes, strict=True)):
        ids = []
        for i in range(n):
            nid = f"{p}{i + 1}"
            net.add_neuron(role, id=nid, label=nid, activation=act, x=li * 200,
                           y=(i - (n - 1) / 2) * 100)
            ids.append(nid)
        layers.append(ids)
    net.set_label("y1", "y1 (majority)")
    net.set_label("y2", "y2 (any on)")
    for a, b in itertools.pairwise(layers):
        for t in b:
            for s in a:
                net.connect(s, t, id=f"w_{s}_{t}")
    net.randomize(seed=2, init="xavier")
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.05, epochs=500,
                             seed=2)
    return Project(net, three_layer_dataset(), settings, THREE_LAYER,
                   "A 3-3-3-2 dense network")


THREE_LAYER = """\
# A multi-layer network: 3-3-3-2

Seed 002's architecture: three inputs, two hidden layers of three neurons (h1–h3 and o1–o3) and
two outputs, **fully connected (dense)**. Forward propagation is the same recipe at every layer:

    h = f(W1 · x + b1)
    o = f(W2 · h + b2)
    y = f(W3 · o + b3)

with tanh in the hidden layers and sigmoid at the outputs. The data is all eight on/off
combinations of x1, x2, x3; y1 says whether the **majority** are on, y2 whether **any** is on.

## What to watch
- Count the parameters: 9 + 9 + 6 weights and 3 + 3 + 2 biases, 32 in all.
- Watch the gradients pane as training starts: the mean |dL/dp| is about 0.011, 0.019 and
  0.028 from the first layer of weights to the last. Layers nearer the input get smaller
  gradients, a first taste of the vanishing gradient problem.
- Both outputs learn at once, each from its own residuals, sharing the hidden layers.

## Try next
- Change the hidden activations to sigmoid and compare how fast it learns.
- Add a third output, "all on", with its own target column, and train again.
"""


# ---------------------------------------------------------------------- spiral
def spiral() -> Project:
    net = dense([2, 16, 16, 1], hidden="tanh", output="sigmoid", seed=0, dx=260, dy=64)
    net.set_label("y1", "arm b")
    net.move_neurons({"x1": (0, -90), "x2": (0, 90)})
    settings = TrainSettings(loss="bce", optimizer="adam", learning_rate=0.05, epochs=1000,
                             seed=0)
    return Project(net, datasets.generate("spiral"), settings, SPIRAL, "Two spirals")


SPIRAL = """\
# Two spirals

300 points on two interleaved spiral arms, each winding twice around the centre. The classes
cannot be split by any single line or circle: the network has to bend its decision boundary
around and around. Two **tanh** hidden layers of 16 neurons feed one **sigmoid** output, trained
with **Adam** on binary cross-entropy.

## What to watch
- The output pane: at first one half-plane, then the boundary curls into a spiral.
- The loss curve has plateaus where the network is stuck on one winding, then drops as it
  finds the next. It reaches at least **95%** accuracy (usually 100%) in a second or two.

## Try next
- Halve the hidden layers to 8 neurons: does it still untangle the arms?
- Switch to ReLU hidden neurons, or to SGD with batch size 32, and compare the boundary.
- Raise the noise in the dataset panel: when do the arms overlap too much to separate?
"""


# ---------------------------------------------------------------------- cnn-o-vs-x
CURVE_FILTER = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]      # the O's top-left corner
DIAGONAL_FILTER = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
O_VS_X_SEED = 9   # the data's seed: its shifted copies leave out the X shifted one pixel right


def cnn_o_vs_x() -> Project:
    """Seed 001's CNN: a 6 × 6 image, a curve and a diagonal filter, ReLU, 2 × 2 max pooling,
    flatten, and two softmax outputs O and X."""
    net = Network()
    net.add_image_layer_dicts([
        {"id": "image", "kind": "image_input", "label": "image", "shape": [1, 6, 6],
         "x": 0.0, "y": 0.0},
        {"id": "filters", "kind": "convolution", "label": "filters", "source": "image",
         "activation": "relu", "x": 240.0, "y": 0.0,
         "filters": [{"weights": [CURVE_FILTER], "bias": 0.0},
                     {"weights": [DIAGONAL_FILTER], "bias": 0.0}]},
        {"id": "pool", "kind": "pooling", "label": "max pooling", "source": "filters",
         "mode": "max", "window": 2, "x": 480.0, "y": 0.0},
        {"id": "flat", "kind": "flatten", "label": "flatten", "source": "pool",
         "x": 680.0, "y": 0.0},
    ])
    for i, letter in enumerate(("O", "X")):
        net.add_neuron("output", id=letter, label=letter, activation="softmax", x=900.0,
                       y=(i - 0.5) * 120)
    net.connect_fully(net.feature_neurons("flat"), ["O", "X"], seed=0)
    ds = datasets.generate("o_vs_x", seed=O_VS_X_SEED, size=16)
    settings = TrainSettings(loss="cross_entropy", optimizer="adam", learning_rate=0.05,
                             epochs=100)
    return Project(net, ds, settings, CNN_O_VS_X, "Convolution: O or X?")


CNN_O_VS_X = """# Convolution: O or X?

Seed 001's section 9. A 6 × 6 image of the letter **O** is 36 pixels. A standard network
flattens it into 36 inputs, and a first layer of 100 neurons needs **36 × 100 = 3,600
weights** (for a 12-megapixel photo: billions). A convolutional network looks at small patches
instead, with a few small filters it slides over the whole image.

This one: the **image** (6 × 6 pixels, 1 where there is ink) → two 3 × 3 **filters**, one for
a *curve* (the O's top-left corner, 0 0 1 / 0 1 0 / 1 0 0) and one for a *diagonal* (1 0 0 /
0 1 0 / 0 0 1), each with a bias, then ReLU → 2 × 2 **max pooling** → **flatten** → two
softmax outputs, **O** and **X**. The filters have **2 × (9 + 1) = 20 parameters** in all,
shared by every position of the image; the whole network has 38.

## What to watch
- **The dot product.** Lay the curve filter on the top-left 3 × 3 patch of the first image
  (the O) and multiply cell by cell: (0×0) + (0×0) + (1×1) + (0×0) + (1×1) + (0×0) + (1×1) +
  (0×0) + (0×0) = **3**. Add the bias (0): map[0][0] = 3. Slide the filter one pixel to the
  right and repeat; the 4 × 4 grid of results is the **feature map**. Hover a cell of a map
  to see its patch and its sum.
- **The feature maps.** On the O the curve map is 3 in its top-left and bottom-right
  corners, where the O bends like the filter; the diagonal map is 3 in the other two corners.
  On the X it is the other way round. ReLU turns negative results into 0 (there are none
  before training: every pixel and weight is 0 or 1).
- **Max pooling** keeps the largest value of each 2 × 2 window, so each 4 × 4 map shrinks
  to 2 × 2, and the flatten hands **8 values** to the outputs. For the O they are
  [[3, 1], [1, 3]] (curve) and [[1, 3], [3, 1]] (diagonal); the X gives the mirror image.
- Press **Train**: before training the network gets 10 of the 16 images right (62.5%);
  after five epochs it gets all 16, well within a second.
- **A shifted X.** The data holds each letter centred and shifted by one pixel in some
  directions, but not the X shifted one pixel to the **right**. After training the network
  still calls that X an X (probability 0.999): max pooling keeps the strongest response in
  each window, so a one-pixel shift hardly changes the 8 values the outputs see.

## Try next
- Step through one iteration in the backprop player: the filter slides over the image,
  pooling names the winning position of each window, and dL/dfilter adds up dL/dz × input over
  every position the filter was applied at.
- Edit a filter's grid in the inspector and watch its feature map follow.
- Lock both filters and train again: the output layer alone learns to read the designed
  filters.
- Generate noisier images in the dataset panel (O or X, noise 0.1) and train again.
"""


# ---------------------------------------------------------------------- all
def why_nonlinearity() -> Project:
    return concept_lessons.why_nonlinearity(xor())


def architectures() -> Project:
    three = three_layer()
    return concept_lessons.architectures(three.network, three.dataset)


BUILDERS = {
    "perceptron-and": perceptron_and,
    "intercept-descent": intercept_descent,
    "dosage-backprop": dosage_backprop,
    "linear-regression": linear_regression,
    "fruit-classifier": fruit_classifier,
    "xor": xor,
    "three-layer": three_layer,
    "spiral": spiral,
    "weight-and-bias": concept_lessons.weight_and_bias,
    "chain-rule": concept_lessons.chain_rule,
    "softmax": concept_lessons.softmax,
    "why-nonlinearity": why_nonlinearity,
    "vanishing-gradients": concept_lessons.vanishing_gradients,
    "dying-relu": concept_lessons.dying_relu,
    "parametric-relu": concept_lessons.parametric_relu,
    "architectures": architectures,
    "cnn-o-vs-x": cnn_o_vs_x,
}


def build(name: str) -> Project:
    """The shipped lesson ``name``: its builder's project, with the lesson's "Check yourself"
    quizzes appended to its text and its challenges (``original`` is the fresh network)."""
    proj = BUILDERS[name]()
    proj.description += "\n" + lesson_checks.QUIZZES[name]
    proj.challenges = validate_challenges(lesson_checks.challenges(name, proj))
    return proj


def build_all() -> dict[str, Project]:
    return {name: build(name) for name in BUILDERS}


def check(name: str, proj: Project) -> str:
    """Train a sample with its own settings and describe the result."""
    from nnstudio.core.trainer import Trainer

    net, ds = proj.network.copy(), proj.dataset
    tr = Trainer(net, ds.X, ds.Y, proj.settings)
    t0 = time.perf_counter()
    first = tr.full_loss()
    snaps = tr.train()
    dt = time.perf_counter() - t0
    out = tr.engine.predict(ds.X)
    acc = f", accuracy {ds.accuracy(out):.1%}" if ds.is_classification else ""
    last = snaps[-1].loss if snaps else first
    return (f"{name:18s} loss {first:.6g} → {last:.6g} in {proj.settings.epochs} epochs"
            f"{acc}, {dt:.2f} s")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = HERE
    for name, proj in build_all().items():
        save(proj, out_dir / f"{name}.nnproj")
        print(f"wrote {out_dir / (name + '.nnproj')}")
        if "--check" in argv:
            print("   ", check(name, proj))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The lessons for the seed concepts the first eight samples did not cover: each a builder of its
project (network, data, settings, lesson text), used by samples/build_samples.py.

weight-and-bias (seed 001 section 1), chain-rule (seed 001 section 5), softmax (seed 000),
why-nonlinearity (seeds 001 and 002), vanishing-gradients and dying-relu (seed 001 section 3),
parametric-relu (seed 000) and architectures (seed 002, seed 001 section 9). Every number a
text states is held by tests/core/test_samples.py and tests/core/test_concept_lessons.py; each
lesson's quizzes and challenges are in samples/lesson_checks.py.
"""

from __future__ import annotations

import numpy as np

from nnstudio.core import datasets
from nnstudio.core.datasets import Dataset
from nnstudio.core.network import Network, dense
from nnstudio.core.project import Project
from nnstudio.core.trainer import TrainSettings


# ---------------------------------------------------------------------- weight-and-bias
def weight_and_bias() -> Project:
    net = Network()
    net.add_neuron("input", id="x", label="x", x=0, y=0)
    net.add_neuron("output", id="b1", label="y1 = 1·x + 0", activation="identity", bias=0.0,
                   x=260, y=-70)
    net.add_neuron("output", id="b2", label="y2 = 2·x − 1", activation="identity", bias=-1.0,
                   x=260, y=70)
    net.connect("x", "b1", 1.0, id="w1")
    net.connect("x", "b2", 2.0, id="w2")
    x = np.arange(-5.0, 6.0)
    ds = Dataset(["x"], ["y1", "y2"], x[:, None], np.c_[x, 2 * x - 1])
    settings = TrainSettings(loss="mse", optimizer="gd", learning_rate=0.01, epochs=100)
    return Project(net, ds, settings, WEIGHT_AND_BIAS, "Weight and bias: two straight lines")


WEIGHT_AND_BIAS = """\
# Weight and bias: the smallest building block

Seed 001 starts with one neuron, which computes **w·x + b**: the input **x** times the
**weight** w, plus the **bias** b. With the identity activation that is a straight line, and
this lesson draws two of them from x = −5 to 5:

| line | weight w | bias b | at x = 0 | at x = 3 |
|---|---|---|---|---|
| y1 | 1 | 0 | 0 | 3 |
| y2 | 2 | −1 | −1 | 5 |

## What to watch
- The output pane draws both lines on the same axes: **y2 is steeper**, because its weight is
  larger, and it crosses x = 0 one unit lower, because its bias is −1.
- **Increasing the weight makes the line steeper; changing the bias moves it up or down.**
- The weight is the slope: how much y changes when x grows by 1. A **positive** slope rises
  (study hours → exam marks), a **negative** one falls (a car's age → its resale value), and a
  **zero** slope is flat: y does not change whatever x is.

## Try next
- Select the connection **w1** and drag its weight from 1 to 3, then to −1: watch y1 turn.
- Select **y1** and drag its bias: the line slides up and down without turning.
"""


# ---------------------------------------------------------------------- chain-rule
def chain_rule() -> Project:
    net = Network()
    net.add_neuron("input", id="weight", label="weight", x=0, y=0)
    net.add_neuron("hidden", id="height", label="height", activation="identity", bias=0.0,
                   x=240, y=0)
    net.add_neuron("output", id="shoe", label="shoe size", activation="identity", bias=0.0,
                   x=480, y=0)
    net.connect("weight", "height", 2.0, id="w1")
    net.connect("height", "shoe", 0.25, id="w2")
    x = np.arange(0.0, 5.0)
    ds = Dataset(["weight"], ["shoe size"], x[:, None], (x / 2)[:, None])
    settings = TrainSettings(loss="mse", optimizer="gd", learning_rate=0.01, epochs=100)
    return Project(net, ds, settings, CHAIN_RULE, "The chain rule: weight, height, shoe size")


CHAIN_RULE = """\
# The chain rule: connecting the links

Seed 001's example. **Weight** predicts **height**, and height predicts **shoe size**:

- link 1: for every unit of weight, height grows by **2** (the weight w1 = 2);
- link 2: for every unit of height, shoe size grows by **1/4** (w2 = 0.25).

How much does shoe size change per unit of weight? The chain rule says: multiply the slopes of
the links,

    d(shoe size)/d(weight) = d(shoe size)/d(height) × d(height)/d(weight) = 1/4 × 2 = 1/2

so one more unit of weight means **half** a unit more shoe size.

## What to watch
- Select the **shoe size** neuron: the inspector's sensitivity readout shows d(shoe size)/d(x)
  for the input and each neuron before it, written as the product of the link slopes
  (2 × 0.25 = 0.5).
- Step through the backward pass in the backprop player: dL/dw1 is built the same way, link by
  link, from the loss back to the first weight.
- This is how a network finds out how a change deep inside, in an early layer, affects the
  final prediction.

## Try next
- Set w2 to 0.5: now one unit of weight adds one unit of shoe size (2 × 0.5 = 1).
- Add a third link after shoe size and multiply three slopes.
"""


# ---------------------------------------------------------------------- softmax
SOFTMAX_RAW = {"orange": 34.0, "apple": 32.0, "banana": 25.0}


def softmax() -> Project:
    net = Network()
    net.add_neuron("input", id="one", label="1", x=0, y=0)
    for i, (nid, raw) in enumerate(SOFTMAX_RAW.items()):
        net.add_neuron("output", id=nid, label=nid, activation="softmax", bias=raw, x=260,
                       y=(i - 1) * 100)
        net.connect("one", nid, 0.0, id=f"w_{nid}", trainable=False)
    classes = list(SOFTMAX_RAW)
    ds = Dataset(["one"], classes, np.array([[1.0]]), np.array([[0.0, 1.0, 0.0]]), classes)
    settings = TrainSettings(loss="cross_entropy", optimizer="gd", learning_rate=0.5,
                             epochs=20)
    return Project(net, ds, settings, SOFTMAX, "Softmax: raw outputs into probabilities")


SOFTMAX = """\
# Softmax: from raw outputs to probabilities

Seed 000's special output activation. **Softmax** takes the raw values passed down to all the
output neurons and turns each into a probability:

    P_i = e^(z_i) / (e^(z_1) + e^(z_2) + e^(z_3))

Here the raw outputs (each output neuron's bias, with its weight at 0) are the seed's
**[34, 32, 25]**:

| output | raw z | e^z share | probability |
|---|---|---|---|
| orange | 34 | e³⁴ / (e³⁴ + e³² + e²⁵) | **0.88** |
| apple | 32 | e³² / (e³⁴ + e³² + e²⁵) | **0.12** |
| banana | 25 | e²⁵ / (e³⁴ + e³² + e²⁵) | **0.0001** |

## What to watch
- The output pane shows a probability bar per output: 0.8807, 0.1192 and 0.000109. They
  always add up to **1**.
- Raising e to the raw values **pronounces the differences**: 34 is only 2 more than 32, yet
  orange is more than 7 times as likely (e² ≈ 7.4).
- The answer is the biggest probability: orange. The data says this fruit is an **apple**, so
  the network is wrong, and the cross-entropy loss says how wrong (−ln 0.12 = 2.13).

## Try next
- Type 34 into the apple bias: apple and orange become equally likely (0.5 each).
- Press **Train**: gradient descent raises the apple's raw output until it wins.
"""


# ---------------------------------------------------------------------- why-nonlinearity
def why_nonlinearity(xor: Project) -> Project:
    """The XOR lesson's network, weights and settings, with identity hidden neurons."""
    net = xor.network.copy()
    for n in net.by_role("hidden"):
        net.set_activation(n.id, "identity")
    return Project(net, xor.dataset.copy(), xor.settings, WHY_NONLINEARITY,
                   "Why non-linearity: XOR with straight lines")


WHY_NONLINEARITY = """\
# Why non-linearity?

The XOR table again, with three hidden neurons, but their activation is the **identity**: each
hidden neuron passes its weighted sum plus bias on unchanged. Seeds 001 and 002 say what
happens then:

    without activation:  y = w1·x1 + w2·x2 + b          (a straight line)
    with activation:     y = f(w1·x1 + w2·x2 + b)       (it can bend)

A weighted sum of weighted sums is still one weighted sum, so however many identity layers you
stack, the network draws **one straight line**, and no straight line separates XOR.

## What to watch
- Press **Train**: the loss falls to an **MSE of 0.25** and stops there. The output is 0.5 for
  every input and the accuracy is **50%**: the best a straight line can do.
- The output pane's decision boundary stays a straight band, whatever the training does.

## Try next
- Select the three hidden neurons and switch their activation to **tanh**, then train again:
  within the same 400 epochs the MSE falls below **0.01** and all four rows come out right.
- Try **ReLU** or **sigmoid** hidden neurons too: any bend will do.
"""


# ---------------------------------------------------------------------- vanishing-gradients
VANISHING_LAYERS = 8     # hidden layers of 4 sigmoid neurons


def vanishing_gradients() -> Project:
    net = dense([2] + [4] * VANISHING_LAYERS + [1], hidden="sigmoid", output="sigmoid", seed=0,
                dx=110, dy=60)
    net.set_label("y1", "outer ring")
    settings = TrainSettings(loss="bce", optimizer="adam", learning_rate=0.01, epochs=500,
                             seed=0)
    return Project(net, datasets.generate("circles"), settings, VANISHING_GRADIENTS,
                   "Vanishing gradients: a deep sigmoid network")


VANISHING_GRADIENTS = """\
# Vanishing gradients

Seed 001 warns about the sigmoid: its gradient is strongest in the middle (**0.25** at z = 0)
and almost zero for large positive or negative z. Backpropagation multiplies one such slope
(and a weight) per layer on the way back, so in a deep network the gradient that reaches the
first layers is a product of many small numbers: it **vanishes**.

This network has **8 hidden layers** of 4 sigmoid neurons, on the two-circles data.

## What to watch
- Open the **Gradients** pane before training: the mean |gradient| shrinks layer by layer
  towards the input, and the first layers' fall **below 1e-6**. The pane warns that their
  weights have practically stopped learning.
- Press **Train**: after 500 epochs the loss is still high (about 0.56) and the boundary is a
  blob, not a ring. The last layers learn; the first layers, which must find the circles,
  hardly move.

## Try next
- Select every hidden neuron (drag a rubber band around them, leaving the inputs and the
  output out) and switch them to **tanh**, then train again: tanh's slope is 1 at z = 0, the
  gradient reaches the first layer, and the loss falls below 0.05 with every point right.
- Or switch them to **ReLU**, whose slope is 1 for every positive z.
"""


# ---------------------------------------------------------------------- dying-relu
DYING_WEIGHTS = {"h1": (1.5, 0.8), "h2": (-1.5, -0.6), "h3": (0.75, 0.5), "h4": (-0.75, -0.9)}
DYING_BIAS = -5.0


def dying_relu() -> Project:
    net = Network()
    net.add_neuron("input", id="x", label="x", x=0, y=0)
    net.add_neuron("output", id="y", label="sin x", activation="identity", bias=0.0, x=440,
                   y=0)
    for i, (nid, (w_in, w_out)) in enumerate(DYING_WEIGHTS.items()):
        net.add_neuron("hidden", id=nid, label=nid, activation="relu", bias=DYING_BIAS, x=220,
                       y=(i - 1.5) * 90)
        net.connect("x", nid, w_in, id=f"w{i + 1}")
        net.connect(nid, "y", w_out, id=f"v{i + 1}")
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.01, epochs=1000,
                             seed=0)
    return Project(net, datasets.generate("sine"), settings, DYING_RELU,
                   "Dying ReLU: four neurons that never fire")


DYING_RELU = """\
# Dying ReLU

ReLU outputs z for positive z and 0 otherwise, so its gradient is **1** when z > 0 and **0**
when z < 0 (seed 001: "either it's on or it's off"). A neuron whose z is negative for every
sample outputs 0 for all of them and gets a zero gradient: it has **died**, and training can
never bring it back.

Here four ReLU neurons should fit y = sin(x) for x from −π to π, but every hidden bias is
**−5**. The largest weight is 1.5 and |x| ≤ π, so z = w·x − 5 is at most 1.5 · π − 5 = −0.29:
below 0 on every sample.

## What to watch
- The **Gradients** pane names all four neurons as dead: z ≤ 0 on every sample.
- Press **Train**: only the output's bias moves. The MSE stays at **0.49**, the variance of the
  sine, and the output is a flat line.

## Try next
- Set the four hidden biases to **0** and train again: every neuron fires for some x, and
  the MSE falls below 0.05.
- Or switch them to **leaky ReLU**, whose small slope for z < 0 keeps a gradient alive.
"""


# ---------------------------------------------------------------------- parametric-relu
PRELU_TRUE_SLOPE = 0.25      # the data: y = x for x > 0, 0.25·x for x <= 0
PRELU_START_SLOPE = 0.01     # leaky ReLU's usual slope, where the lesson starts


def parametric_relu() -> Project:
    net = Network()
    net.add_neuron("input", id="x", label="x", x=0, y=0)
    net.add_neuron("output", id="y", label="y", activation="leaky_relu",
                   slope=PRELU_START_SLOPE, bias=0.0, bias_trainable=False, x=260, y=0)
    net.connect("x", "y", 1.0, id="w", trainable=False)
    x = np.arange(-4.0, 5.0)
    ds = Dataset(["x"], ["y"], x[:, None], np.where(x > 0, x, PRELU_TRUE_SLOPE * x)[:, None])
    settings = TrainSettings(loss="mse", optimizer="gd", learning_rate=0.1, epochs=30)
    return Project(net, ds, settings, PARAMETRIC_RELU,
                   "Parametric ReLU: a leaky slope that learns")


PARAMETRIC_RELU = """\
# Parametric ReLU: a slope that learns

ReLU turns every negative z into 0, and seed 000 warns that this "leaves behind important
data". **Leaky ReLU** keeps a little of it: a = z for z > 0 and a = slope × z for z ≤ 0, with
a small fixed slope such as 0.01. **Parametric ReLU** goes one step further: the slope is a
parameter, and training learns it like a weight or a bias.

The data here is y = x for x > 0 and y = **0.25**·x for x ≤ 0, at x = −4, −3, …, 4. The
neuron's weight is locked at 1 and its bias at 0, so only the slope can fit the negative side.
It starts at **0.01**:

| | slope | MSE |
|---|---|---|
| start (leaky ReLU) | 0.01 | 0.192 |
| plain ReLU | 0 | 0.208 |
| the data's own | 0.25 | 0 |

## What to watch
- Press **Train** as it is: nothing can move (the slope is fixed, the rest locked) and the MSE
  stays at **0.192**.
- Select **y** and tick **Train slope** in the inspector. The new row **dL/dslope** reads
  **−1.6**: only the four samples with z < 0 contribute, each dL/da × z (da/dslope = z where
  z ≤ 0, 0 elsewhere).
- Train again: the first step takes the slope from 0.01 to 0.01 − 0.1 × (−1.6) = **0.17**, and
  after 30 steps it is **0.25**, the MSE 0.
- The backprop player shows the step "Leaky slope of y: dL/dslope", then the slope's update.

## Try next
- Open the dying-ReLU lesson, switch its hidden neurons to leaky ReLU and tick Train slope:
  each neuron learns its own slope.
"""


# ---------------------------------------------------------------------- architectures
def architectures(network: Network, dataset: Dataset) -> Project:
    """The architectures page, on a copy of the 3-3-3-2 lesson's network and data."""
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.05, epochs=500,
                             seed=2)
    return Project(network.copy(), dataset.copy(), settings, ARCHITECTURES,
                   "Architectures: MLP, CNN, RNN, Transformer")


ARCHITECTURES = """\
# Network architectures

Seed 002 names four families of neural networks. They differ in how the neurons are wired,
and each suits a different kind of data.

- **MLP** (feedforward, dense): layers of neurons, each fully connected to the next. Used for
  classification and regression. Every lesson here builds one.
- **CNN** (convolutional): small filters slide over an image (convolution), pooling shrinks
  the result and a dense head decides. Used for images and computer vision. NN Studio builds
  them from the palette's image layers: the lesson **Convolution: O or X?** is one.
- **RNN** (recurrent): loops, a neuron's output fed back in at the next step. Used for time
  series, speech and language. Not built here.
- **Transformer**: attention, every position of a sequence weighing every other. Used for
  language models and translation. Not built here.

## What to watch
- The network on the canvas is an MLP, the kind every lesson here builds: each neuron of a
  layer feeds every neuron of the next, and data flows one way, from the inputs to the outputs.
  Press **Train** and it learns its two outputs like the 3-3-3-2 lesson.

## Why a dense network struggles with images
Seed 001's example: a tiny **6 × 6** image is **36** inputs. A first hidden layer of 100
neurons, each connected to every pixel, needs 36 × 100 = **3,600 weights**. A 12-megapixel
phone photo would need over a **billion** for the first layer alone. A CNN instead slides one
small 3 × 3 filter (9 weights and a bias) over the whole image, looking for the same edge or
curve everywhere, so it also recognises an "O" moved a few pixels to the left.

## Try next
- Count this MLP's weights: 3 × 3 + 3 × 3 + 3 × 2 = 24. Add a neuron to a hidden layer and
  connect it fully: how many weights does one neuron add?
"""

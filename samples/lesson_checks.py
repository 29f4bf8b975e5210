"""The quizzes and challenges of the shipped lessons (samples/build_samples.py's projects).

``QUIZZES[name]`` is a "Check yourself" section of quiz blocks (the syntax of
:mod:`nnstudio.core.lessons.quiz`) to append to that lesson's Markdown; ``challenges(name,
project)`` is the JSON form of its challenges (:mod:`nnstudio.core.lessons.goals`) for the
fresh lesson ``project``, with the original network when a goal compares with it. Every numeric
answer is the lesson's own number, and tests/core/test_lesson_checks.py recomputes each one with
the engine, checks that every challenge fails on the fresh lesson and passes on a solved copy.

Seed 002's four questions sit where they belong: what a perceptron does (perceptron-and), why
activation functions are needed and the sigmoid's output range (xor), what backpropagation does
(dosage-backprop).
"""

from __future__ import annotations

from nnstudio.core.lessons.goals import Original

QUIZZES: dict[str, str] = {}
GOALS: dict[str, list[dict]] = {}

# ---------------------------------------------------------------------- perceptron-and
QUIZZES["perceptron-and"] = """\
## Check yourself

```quiz
? What does a perceptron do?
- [x] It adds up its inputs, each times its weight, plus the bias, and its activation turns
  that sum into the output
- [ ] It stores the training examples and answers with the one closest to the input
- [ ] It multiplies its inputs together and compares the product with the bias
> A perceptron computes z = w1·x1 + w2·x2 + b and passes z through its activation: here the
> binary step, which outputs 1 if z > 0 and 0 otherwise.
```

```quiz
? What is z for the input (1, 1)?
= 0.25
> z = 0.5 · 1 + 0.5 · 1 − 0.75 = 0.25. It is above 0, so the output is 1: the only row of the
> AND table that says yes.
```

```quiz
? What is z for the input (0, 1)?
= -0.25
> z = 0.5 · 0 + 0.5 · 1 − 0.75 = −0.25: one input alone cannot lift z above 0.
```
"""
GOALS["perceptron-and"] = [
    {"id": "or-by-bias", "text": "Make the perceptron compute OR by changing only the bias b",
     "require": [
         {"kind": "outputs", "X": [[0, 0], [0, 1], [1, 0], [1, 1]], "Y": [[0], [1], [1], [1]],
          "tolerance": 0},
         {"kind": "changed_only", "parameters": ["b"]},
     ]},
]

# ---------------------------------------------------------------------- intercept-descent
QUIZZES["intercept-descent"] = """\
## Check yourself

```quiz
? What is the loss (the SSR) at the start, with b = 10?
= 405
> Every prediction is 9 too high, so SSR = 5 × 9² = 405.
```

```quiz
? What is b after one step of gradient descent?
= 9.10
> dSSR/db = −2 · Σ(y − prediction) = −2 · (−45) = 90, and the step is 0.01 × 90 = 0.9:
> b = 10 − 0.9 = 9.10.
```

```quiz
? After how many updates is b = 1.38?
= 30
> Each update shrinks the gap to 1 by the factor 0.9, so after n updates b = 1 + 9 · 0.9ⁿ:
> 1.42 after 29 updates and 1.38 after 30. The seed's "step 29: 1.38" counts its steps from
> 0, so its step 29 is the 30th update.
```

```quiz
? With the learning rate at 0.25, what happens to b?
- [ ] It reaches 1 in a single step
- [ ] It creeps towards 1 more slowly than with 0.01
- [x] Every step overshoots the bottom of the U, further each time: b runs away from 1
> The gap to 1 is multiplied by 1 − 10 × 0.25 = −1.5 at every step: it changes sign and grows.
> With 0.1 the factor is 0, which is why that rate jumps straight to b = 1.
```
"""
GOALS["intercept-descent"] = [
    {"id": "find-intercept",
     "text": "Train the intercept b to within 0.01 of the true value 1, keeping the slope at 2",
     "require": [
         {"kind": "parameter", "id": "intercept", "value": 1.0, "tolerance": 0.01},
         {"kind": "changed_only", "parameters": ["intercept"]},
     ]},
]

# ---------------------------------------------------------------------- dosage-backprop
QUIZZES["dosage-backprop"] = """\
## Check yourself

```quiz
? What is dSSR/db3, the slope of the loss curve, at b3 = 0?
= -15.7
> dSSR/db3 = Σ −2 · (observed − predicted) · 1 over the three dosages = −15.7. It is negative:
> raising b3 lowers the loss.
```

```quiz
? What is b3 after one step, with learning rate 0.1?
= 1.57
> The step size is slope × learning rate = −15.7 × 0.1 = −1.57, so b3 = 0 − (−1.57) = 1.57.
```

```quiz
? What does backpropagation do?
- [x] It goes backwards from the loss through the network with the chain rule, finding how
  much each weight and bias adds to the error, so gradient descent knows how to change them
- [ ] It runs the network backwards to turn outputs into inputs
- [ ] It tries random weights and keeps the best ones
- [ ] It adds neurons until the loss is small enough
> Backpropagation computes dL/dp for every parameter p, starting from the output (dSSR/db3 =
> −15.7 here) and multiplying by each link's slope on the way back. The update step then
> moves every parameter against its gradient.
```
"""
GOALS["dosage-backprop"] = [
    {"id": "b3-by-hand",
     "text": "Set b3 to 2.61 ± 0.01 by hand with the slider, changing nothing else",
     "require": [
         {"kind": "parameter", "id": "b3", "value": 2.61, "tolerance": 0.01},
         {"kind": "changed_only", "parameters": ["b3"]},
     ]},
    {"id": "bottom-of-the-u", "text": "Find the bottom of the U: make |dSSR/db3| smaller than 0.1",
     "require": [{"kind": "gradient", "id": "b3", "loss": "ssr", "below": 0.1}]},
]

# ---------------------------------------------------------------------- linear-regression
QUIZZES["linear-regression"] = """\
## Check yourself

```quiz
? What is the slope of the least-squares line through these five points?
= 0.6 ± 0.01
> m = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)² = 6 / 10 = 0.6.
```

```quiz
? And its intercept?
= 2.2 ± 0.01
> c = ȳ − m · x̄ = 4 − 0.6 · 3 = 2.2.
```

```quiz
? What is a residual?
- [x] The actual value minus the predicted value, for one data point
- [ ] The loss left over when training stops
- [ ] The part of the dataset kept back for validation
> Residual = actual − predicted. Squaring the residuals and adding them up gives the SSR,
> which is 2.4 for the best line here.
```
"""
GOALS["linear-regression"] = [
    {"id": "best-line", "text": "Find the best-fit line: slope 0.6 and intercept 2.2, ± 0.01",
     "require": [
         {"kind": "parameter", "id": "slope", "value": 0.6, "tolerance": 0.01},
         {"kind": "parameter", "id": "intercept", "value": 2.2, "tolerance": 0.01},
     ]},
    {"id": "least-squares", "text": "Bring the SSR down to 2.41 or less",
     "require": [{"kind": "loss", "loss": "ssr", "at_most": 2.41}]},
]

# ---------------------------------------------------------------------- fruit-classifier
QUIZZES["fruit-classifier"] = """\
## Check yourself

```quiz
? The raw outputs are [34, 32, 25]. What probability does softmax give the 34?
= 0.88
> e³⁴ / (e³⁴ + e³² + e²⁵) = 1 / (1 + e⁻² + e⁻⁹) = 0.88. The 32 gets 0.12 and the 25 only
> 0.0001: the exponential makes the differences pronounced.
```

```quiz
? What do the three softmax outputs always add up to?
= 1 ± 0.001
> Each output is its own eˣ divided by the sum of all of them, so together they make 1: they
> are probabilities.
```

```quiz
? Why does the network guess badly before training?
- [x] Its weights and biases start out random, so its outputs mean nothing yet
- [ ] Softmax cannot tell three classes apart until it has seen them
- [ ] ReLU outputs 0 until the network has been trained
> The weights start random; training uses the loss to move them until apples come out as
> apples.
```
"""
GOALS["fruit-classifier"] = [
    {"id": "sort-all", "text": "Train the sorter until it names every fruit right (100%)",
     "require": [{"kind": "accuracy", "at_least": 1.0}]},
]

# ---------------------------------------------------------------------- xor
QUIZZES["xor"] = """\
## Check yourself

```quiz
? Why do we need activation functions?
- [x] Without them every neuron is a weighted sum, and sums of sums are still one straight
  line: no number of layers could bend the boundary around XOR
- [ ] They make training faster, but the network could learn XOR without them
- [ ] They keep the weights from growing too large
> A linear combination of linear combinations is linear. The activation (tanh here) is what
> lets each hidden neuron bend, so their combination can carve out XOR.
```

```quiz
? What is the output range of the sigmoid function?
- [ ] From −1 to 1
- [x] Between 0 and 1, never quite reaching either
- [ ] From 0 to infinity
> σ(z) = 1 / (1 + e^−z): e^−z is always positive, so σ(z) stays strictly between 0 and 1,
> which is why it suits a yes/no output like XOR's.
```

```quiz
? How many weights and biases does this 2-3-1 network have?
= 13
> 2 × 3 + 3 × 1 = 9 weights and 3 + 1 = 4 biases: 13 parameters.
```
"""
GOALS["xor"] = [
    {"id": "learn-xor", "text": "Train the network until the MSE is below 0.01",
     "require": [{"kind": "loss", "loss": "mse", "below": 0.01}]},
    {"id": "two-hidden", "text": "Reach MSE below 0.01 with at most 2 hidden neurons",
     "require": [
         {"kind": "loss", "loss": "mse", "below": 0.01},
         {"kind": "count", "of": "hidden_neurons", "at_most": 2},
     ]},
]

# ---------------------------------------------------------------------- three-layer
QUIZZES["three-layer"] = """\
## Check yourself

```quiz
? How many weights and biases does the 3-3-3-2 network have?
= 32
> 9 + 9 + 6 = 24 weights and 3 + 3 + 2 = 8 biases: 32 parameters.
```

```quiz
? What is the output range of tanh, the hidden layers' activation?
- [x] Between −1 and 1
- [ ] Between 0 and 1
- [ ] From 0 to infinity
> tanh(z) = (eᶻ − e⁻ᶻ) / (eᶻ + e⁻ᶻ) runs from −1 to 1 and is 0 at z = 0: centred, unlike the
> sigmoid.
```

```quiz
? Which layer of weights gets the smallest gradients when training starts?
- [x] The first, from the inputs to h1–h3
- [ ] The last, from o1–o3 to the outputs
- [ ] They are all about the same
> The mean |dL/dp| is about 0.011, 0.019 and 0.028 from the first layer to the last: each
> layer back multiplies in another tanh slope below 1, a first taste of vanishing gradients.
```
"""
GOALS["three-layer"] = [
    {"id": "both-outputs", "text": "Train both outputs until the MSE is below 0.001",
     "require": [{"kind": "loss", "loss": "mse", "below": 0.001}]},
]

# ---------------------------------------------------------------------- spiral
QUIZZES["spiral"] = """\
## Check yourself

```quiz
? How many weights and biases does the 2-16-16-1 network have?
= 337
> 2 × 16 + 16 × 16 + 16 × 1 = 304 weights and 16 + 16 + 1 = 33 biases: 337.
```

```quiz
? Why does one hidden neuron not suffice here?
- [x] One neuron draws one smooth boundary; the arms wind around each other, so the boundary
  has to bend many times
- [ ] One neuron cannot use the sigmoid output
- [ ] The dataset has too many points for one neuron to store
> Each tanh neuron contributes one soft line; many of them, combined over two layers, bend
> the boundary into a spiral.
```
"""
GOALS["spiral"] = [
    {"id": "untangle", "text": "Untangle the arms: reach at least 95% accuracy",
     "require": [{"kind": "accuracy", "at_least": 0.95}]},
]


def challenges(name: str, project) -> dict:
    """The JSON form of lesson ``name``'s challenges for its fresh ``project`` (the original
    network is stored when a goal compares with it)."""
    goals = GOALS[name]
    doc: dict = {"goals": goals}
    if any(r["kind"] == "changed_only" for g in goals for r in g["require"]):
        doc["original"] = Original.of(project.network).to_dict()
    return doc

"""The quizzes and challenges of the shipped lessons (samples/build_samples.py's projects).

``QUIZZES[name]`` is a "Check yourself" section of quiz blocks (the syntax of
:mod:`nnstudio.core.lessons.quiz`) to append to that lesson's Markdown; ``challenges(name,
project)`` is the JSON form of its challenges (:mod:`nnstudio.core.lessons.goals`) for the
fresh lesson ``project``, with the original network when a goal compares with it. Every numeric
answer is the lesson's own number, and tests/core/test_lesson_checks.py recomputes each one with
the engine, checks that every challenge fails on the fresh lesson and passes on a solved copy.

Seed 002's four questions sit where they belong: what a perceptron does (perceptron-and), why
activation functions are needed (why-nonlinearity), the sigmoid's output range (xor), what
backpropagation does (dosage-backprop).
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
? With the minimum step at 0.001, after how many updates does training stop?
= 66
> The n-th update moves b by 0.9ⁿ: 0.9⁶⁵ = 0.00106 is still above 0.001 and 0.9⁶⁶ = 0.00096
> is the first below it, so training stops after 66 updates, at b = 1.0086.
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
? Before training, what does the sorter say the first fruit, a 150 g red, smooth, medium apple, is?
- [ ] An apple
- [ ] A banana
- [x] An orange
> Its softmax outputs are apple 0.26, banana 0.18 and orange 0.56: the biggest is orange. The
> untrained network is wrong, like seed 000's, until training moves its weights.
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


# ---------------------------------------------------------------------- weight-and-bias
QUIZZES["weight-and-bias"] = """\
## Check yourself

```quiz
? What is y2 = 2·x − 1 at x = 3?
= 5
> 2 · 3 − 1 = 5. The weight multiplies the input, then the bias is added.
```

```quiz
? Which line is steeper?
- [ ] y1, with w = 1 and b = 0
- [x] y2, with w = 2 and b = −1
- [ ] Both are equally steep: only their biases differ
> The weight is the slope: y2 rises 2 for every 1 of x, y1 only 1. The bias only moves a line
> up or down.
```

```quiz
? A car's age against its resale value: what sign does the slope have?
- [ ] Positive
- [x] Negative
- [ ] Zero
> As the age grows the value falls: a negative slope, a line that runs downhill.
```
"""
GOALS["weight-and-bias"] = [
    {"id": "downhill", "text": "Make y1 run downhill through the point (0, 1)",
     "require": [
         {"kind": "parameter", "id": "w1", "below": 0},
         {"kind": "parameter", "id": "b1", "value": 1.0, "tolerance": 0.01},
     ]},
    {"id": "flat", "text": "Make y2 flat: a zero slope",
     "require": [{"kind": "parameter", "id": "w2", "value": 0.0, "tolerance": 0.01}]},
]

# ---------------------------------------------------------------------- chain-rule
QUIZZES["chain-rule"] = """\
## Check yourself

```quiz
? By how much does the shoe size change per unit of weight, d(shoe size)/d(weight)?
= 0.5
> Multiply the links' slopes: d(height)/d(weight) = 2 and d(shoe size)/d(height) = 1/4, so
> 2 × 1/4 = 1/2. (You may type 1/2.)
```

```quiz
? And per unit of height, d(shoe size)/d(height)?
= 0.25
> That is the second link alone: w2 = 1/4.
```

```quiz
? Why does backpropagation need the chain rule?
- [x] An early weight changes the output only through every layer after it, so its effect is
  the product of the slopes along the way
- [ ] Because the loss is a sum over the samples
- [ ] To keep the weights between 0 and 1
> Like weight → height → shoe size: a change deep inside travels link by link, and the chain
> rule multiplies the links' slopes.
```
"""
GOALS["chain-rule"] = [
    {"id": "one-for-one",
     "text": "Make one unit of weight add one unit of shoe size, changing only the second link",
     "require": [
         {"kind": "parameter", "id": "w2", "value": 0.5, "tolerance": 0.001},
         {"kind": "changed_only", "parameters": ["w2"]},
     ]},
]

# ---------------------------------------------------------------------- softmax
QUIZZES["softmax"] = """\
## Check yourself

```quiz
? What probability does softmax give the raw output 32?
= 0.12
> e³² / (e³⁴ + e³² + e²⁵) = 0.1192: about 0.12.
```

```quiz
? What do the three probabilities add up to?
= 1 ± 0.001
> Each is its own share of the same total, so together they always make 1.
```

```quiz
? What happens when the 25 becomes 34?
- [ ] Banana becomes the most likely on its own
- [x] Banana and orange become equally likely, each about 0.47, and apple drops to about 0.06
- [ ] Nothing: softmax only looks at the largest raw value
> Two raw values of 34 get equal shares: e³⁴ / (2 · e³⁴ + e³²) = 0.468 each, and apple
> gets 0.063.
```
"""
GOALS["softmax"] = [
    {"id": "tie", "text": "Make apple as likely as orange by changing only the apple's bias",
     "require": [
         {"kind": "parameter", "id": "apple", "value": 34.0, "tolerance": 0.01},
         {"kind": "changed_only", "parameters": ["apple"]},
     ]},
]

# ---------------------------------------------------------------------- why-nonlinearity
QUIZZES["why-nonlinearity"] = """\
## Check yourself

```quiz
? Why do we need activation functions?
- [x] Without them every neuron is a weighted sum, and sums of sums are still one straight
  line: no number of layers could bend the boundary around XOR
- [ ] They make training faster, but the network could learn XOR without them
- [ ] They keep the weights from growing too large
> A linear combination of linear combinations is linear. The activation (tanh, once you
> switch to it) is what lets each hidden neuron bend, so their combination can carve out XOR.
```

```quiz
? With identity hidden neurons, what MSE does training stall at?
= 0.25
> The best straight line outputs 0.5 for every row, and (0.5)² = 0.25 for each: an MSE of
> 0.25 and 50% of the rows right.
```
"""
GOALS["why-nonlinearity"] = [
    {"id": "bend", "text": "Learn XOR (MSE below 0.01) with no identity hidden neuron",
     "require": [
         {"kind": "loss", "loss": "mse", "below": 0.01},
         {"kind": "activation", "role": "hidden", "none_of": ["identity"]},
     ]},
]

# ---------------------------------------------------------------------- vanishing-gradients
QUIZZES["vanishing-gradients"] = """\
## Check yourself

```quiz
? What is the largest slope the sigmoid ever has?
= 0.25
> σ'(z) = σ(z) · (1 − σ(z)), largest at z = 0: 0.5 × 0.5 = 0.25. Eight layers multiply in
> eight such factors.
```

```quiz
? Why does the first layer learn the slowest?
- [x] Its gradient is a product of every later layer's slope, each at most 0.25, so it is the
  smallest of all
- [ ] It has the fewest weights
- [ ] The learning rate is smaller for early layers
> Backpropagation multiplies one sigmoid slope per layer on the way back: the further from the
> output, the more factors below 1, and the gradient vanishes.
```
"""
GOALS["vanishing-gradients"] = [
    {"id": "no-vanishing",
     "text": "Swap out the sigmoids and separate the rings: no sigmoid hidden neuron, loss "
             "below 0.05",
     "require": [
         {"kind": "activation", "role": "hidden", "none_of": ["sigmoid"]},
         {"kind": "loss", "loss": "bce", "below": 0.05},
     ]},
]

# ---------------------------------------------------------------------- dying-relu
QUIZZES["dying-relu"] = """\
## Check yourself

```quiz
? What is ReLU's gradient for z < 0?
= 0
> ReLU is flat (0) for negative z, so its slope there is 0: no signal gets through.
```

```quiz
? And for z > 0?
= 1
> For positive z ReLU outputs z itself: slope 1, which is why it learns fast while it is alive.
```

```quiz
? What is the largest z any hidden neuron reaches here?
= -0.29
> z = w · x − 5 with |w| ≤ 1.5 and |x| ≤ π: at most 1.5 · π − 5 = −0.29, below 0 for every
> sample.
```
"""
GOALS["dying-relu"] = [
    {"id": "revive", "text": "Bring the neurons back to life and fit the sine: MSE below 0.05",
     "require": [{"kind": "loss", "loss": "mse", "below": 0.05}]},
]

# ---------------------------------------------------------------------- parametric-relu
QUIZZES["parametric-relu"] = """\
## Check yourself

```quiz
? With the slope trainable, what is dL/dslope at the start (MSE over the nine points)?
= -1.6
> dL/dslope = Σ dL/da × min(z, 0). Only x = −1 … −4 count: (2/9) × Σ (0.01 − 0.25)·x × x =
> (2/9) × (−0.24) × 30 = −1.6.
```

```quiz
? What is the slope after one gradient-descent step with learning rate 0.1?
= 0.17
> slope_new = slope_old − lr × gradient = 0.01 − 0.1 × (−1.6) = 0.17.
```

```quiz
? Which samples tell the slope which way to move?
- [ ] Every sample
- [x] Only the samples with z ≤ 0
- [ ] Only the samples with z > 0
> Where z > 0 the neuron outputs z whatever the slope, so da/dslope = 0 there; where z ≤ 0 it
> outputs slope × z, so da/dslope = z.
```
"""
GOALS["parametric-relu"] = [
    {"id": "learn-slope", "text": "Make the slope trainable and let training find it: "
                                  "slope 0.25 ± 0.01, MSE below 0.0001",
     "require": [
         {"kind": "parameter", "id": "y:slope", "value": 0.25, "tolerance": 0.01},
         {"kind": "loss", "loss": "mse", "below": 0.0001},
     ]},
]

# ---------------------------------------------------------------------- architectures
QUIZZES["architectures"] = """\
## Check yourself

```quiz
? A 6 × 6 image feeds a dense layer of 100 neurons. How many weights does that layer need?
= 3600
> 36 pixels × 100 neurons = 3,600 weights, one per connection.
```

```quiz
? Which architecture is built for images?
- [ ] MLP
- [x] CNN
- [ ] RNN
- [ ] Transformer
> A CNN slides small filters over the image and pools the result, so it needs few weights and
> finds a shape wherever it is.
```

```quiz
? Which architecture has loops, for sequences such as speech?
- [ ] MLP
- [ ] CNN
- [x] RNN
> A recurrent network feeds its output back in at the next step, so it remembers what came
> before.
```
"""
GOALS["architectures"] = [
    {"id": "wider",
     "text": "Give the MLP at least 36 weights (one hidden neuron's worth for a 6 × 6 image) "
             "and train it below MSE 0.001",
     "require": [
         {"kind": "count", "of": "connections", "at_least": 36},
         {"kind": "loss", "loss": "mse", "below": 0.001},
     ]},
]


# ---------------------------------------------------------------------- cnn-o-vs-x
QUIZZES["cnn-o-vs-x"] = """\
## Check yourself

```quiz
? A dense layer of 100 neurons on the 36 pixels of a 6 × 6 image: how many weights?
= 3600
> 36 pixels × 100 neurons = 3,600 weights, one per connection.
```

```quiz
? How many parameters do the two 3 × 3 filters have together, with their biases?
= 20
> Each filter has 3 × 3 = 9 weights and 1 bias: 2 × (9 + 1) = 20, shared by every position.
```

```quiz
? What is map[0][0] of the curve filter on the first image, the O?
= 3
> (0×0) + (0×0) + (1×1) + (0×0) + (1×1) + (0×0) + (1×1) + (0×0) + (0×0) = 3, plus the bias 0.
```

```quiz
? How many values reach the output neurons after pooling and flattening?
= 8
> Two 4 × 4 feature maps, pooled 2 × 2, are two maps of 2 × 2: 8 values.
```

```quiz
? Why is the X shifted one pixel to the right still an X?
- [x] Max pooling keeps the strongest response in each window, so a one-pixel shift changes
  little of what the outputs see
- [ ] The network has seen that exact image in training
- [ ] The filters move along with the letter
> It is not in the data. The filters slide over every position anyway, and max pooling keeps
> each window's largest value, wherever in the window it is.
```
"""
#: the X shifted one pixel to the right (not among the lesson's 16 images), row by row
SHIFTED_X = [float(v) for row in (
    [0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 1], [0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 0],
    [0, 0, 1, 0, 0, 1], [0, 1, 0, 0, 0, 0]) for v in row]
GOALS["cnn-o-vs-x"] = [
    {"id": "sort-all", "text": "Train the network until it tells every O from every X",
     "require": [{"kind": "accuracy", "at_least": 1.0}]},
    {"id": "shifted-x", "text": "Make it call the X shifted one pixel right, which is not in "
                                "the data, an X (probability above 0.6)",
     "require": [{"kind": "outputs", "X": [SHIFTED_X], "Y": [[0, 1]], "tolerance": 0.4,
                  "names": ["the X shifted one pixel right"]}]},
]


def challenges(name: str, project) -> dict:
    """The JSON form of lesson ``name``'s challenges for its fresh ``project`` (the original
    network is stored when a goal compares with it)."""
    goals = GOALS[name]
    doc: dict = {"goals": goals}
    if any(r["kind"] == "changed_only" for g in goals for r in g["require"]):
        doc["original"] = Original.of(project.network).to_dict()
    return doc

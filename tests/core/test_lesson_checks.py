"""The shipped lessons' quizzes and challenges (samples/lesson_checks.py): every quiz parses,
every numeric answer is what the engine computes for that lesson, seed 002's four questions are
asked, and every challenge fails on the fresh lesson and passes on a solved copy built here."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import activations, project
from nnstudio.core.engine import Engine
from nnstudio.core.lessons import Challenges, Checker, parse_lesson
from nnstudio.core.lessons.quiz import Question
from nnstudio.core.project.challenges_section import validate_challenges
from nnstudio.core.trainer import Trainer
from nnstudio.samples import build_samples, lesson_checks

NAMES = list(build_samples.BUILDERS)


def load(name: str) -> project.Project:
    return project.load(paths.SAMPLES / f"{name}.nnproj")


def questions(name: str) -> list[Question]:
    lesson = parse_lesson(lesson_checks.QUIZZES[name])
    assert not lesson.problems, [str(p) for p in lesson.problems]
    return list(lesson.questions)


def trained(p: project.Project, epochs: int | None = None, **changes) -> project.Project:
    """``p`` trained with its own settings (``changes`` to some), parameters written back."""
    settings = p.settings.with_(**changes) if changes else p.settings
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, settings)
    tr.train(epochs)
    tr.engine.store_params(p.network)
    return p


def z_of(p: project.Project, nid: str, row: int) -> float:
    eng = Engine.compile(p.network)
    z, _ = eng.activations(p.dataset.X[row:row + 1])
    return float(z[0, eng.neuron_ids.index(nid)])


def one_step(p: project.Project, pid: str) -> float:
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings)
    tr.step()
    return float(tr.engine.params[tr.engine.param_index(pid)])


def gradient_of(p: project.Project, pid: str) -> float:
    eng = Engine.compile(p.network)
    _, grad = eng.gradient(p.dataset.X, p.dataset.Y, p.settings.loss)
    return float(grad[eng.param_index(pid)])


def updates_until(p: project.Project, pid: str, shown: float) -> int:
    """How many updates until the parameter, rounded to 2 decimals, reads ``shown``."""
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings)
    for n in range(1, 1000):
        tr.step()
        if round(float(tr.engine.params[tr.engine.param_index(pid)]), 2) == shown:
            return n
    raise AssertionError("never reached")


def trained_param(name: str, pid: str) -> float:
    return trained(load(name)).network.get_param(pid)


# Each lesson's numeric questions (by the start of their text) and how the engine computes the
# answer from the fresh lesson.
NUMBERS: dict[str, dict[str, Callable[[], float]]] = {
    "perceptron-and": {
        "What is z for the input (1, 1)?": lambda: z_of(load("perceptron-and"), "b", 3),
        "What is z for the input (0, 1)?": lambda: z_of(load("perceptron-and"), "b", 1),
    },
    "intercept-descent": {
        "What is the loss (the SSR) at the start": lambda: Engine.compile(
            load("intercept-descent").network).loss(load("intercept-descent").dataset.X,
                                                    load("intercept-descent").dataset.Y, "ssr"),
        "What is b after one step": lambda: one_step(load("intercept-descent"), "intercept"),
        "After how many updates is b = 1.38?": lambda: updates_until(
            load("intercept-descent"), "intercept", 1.38),
        "With the minimum step at 0.001, after how many updates": lambda: Trainer(
            *training_args(load("intercept-descent"))).train()[-1].step,
    },
    "dosage-backprop": {
        "What is dSSR/db3": lambda: gradient_of(load("dosage-backprop"), "b3"),
        "What is b3 after one step": lambda: one_step(load("dosage-backprop"), "b3"),
    },
    "linear-regression": {
        "What is the slope": lambda: trained_param("linear-regression", "slope"),
        "And its intercept?": lambda: trained_param("linear-regression", "intercept"),
    },
    "fruit-classifier": {
        "The raw outputs are [34, 32, 25]": lambda: float(
            activations.softmax(np.array([34.0, 32.0, 25.0]))[0]),
        "What do the three softmax outputs always add up to?": lambda: float(np.sum(
            Engine.compile(load("fruit-classifier").network).predict(
                load("fruit-classifier").dataset.X), axis=1).mean()),
    },
    "xor": {"How many weights and biases": lambda: load("xor").network.param_count()},
    "three-layer": {
        "How many weights and biases": lambda: load("three-layer").network.param_count()},
    "spiral": {"How many weights and biases": lambda: load("spiral").network.param_count()},
    "weight-and-bias": {
        "What is y2 = 2·x − 1 at x = 3?": lambda: float(Engine.compile(
            load("weight-and-bias").network).predict(np.array([[3.0]]))[0, 1])},
    "chain-rule": {
        "By how much does the shoe size change per unit of weight": lambda: sensitivity(
            load("chain-rule"), "weight"),
        "And per unit of height": lambda: sensitivity(load("chain-rule"), "height")},
    "softmax": {
        "What probability does softmax give the raw output 32?": lambda: float(
            Engine.compile(load("softmax").network).predict(np.array([[1.0]]))[0, 1]),
        "What do the three probabilities add up to?": lambda: float(
            Engine.compile(load("softmax").network).predict(np.array([[1.0]])).sum())},
    "why-nonlinearity": {
        "With identity hidden neurons, what MSE": lambda: final_loss(
            trained(load("why-nonlinearity")))},
    "vanishing-gradients": {
        "What is the largest slope the sigmoid": lambda: float(np.max(
            activations.derivative("sigmoid", np.linspace(-5, 5, 1001))))},
    "dying-relu": {
        "What is ReLU's gradient for z < 0?": lambda: float(
            activations.derivative("relu", np.array([-1.0]))[0]),
        "And for z > 0?": lambda: float(activations.derivative("relu", np.array([1.0]))[0]),
        "What is the largest z any hidden neuron": lambda: max(
            z_max(load("dying-relu"), h) for h in ("h1", "h2", "h3", "h4"))},
    "parametric-relu": {
        "With the slope trainable, what is dL/dslope": lambda: gradient_of(
            train_slope(load("parametric-relu")), "y:slope"),
        "What is the slope after one gradient-descent": lambda: one_step(
            train_slope(load("parametric-relu")), "y:slope")},
    "architectures": {"A 6 × 6 image feeds a dense layer": lambda: 6 * 6 * 100},
    "cnn-o-vs-x": {
        "A dense layer of 100 neurons on the 36 pixels": lambda: load(
            "cnn-o-vs-x").network.dense_equivalent("image", 100),
        "How many parameters do the two 3 × 3 filters": lambda: load(
            "cnn-o-vs-x").network.layer_param_count("filters"),
        "What is map[0][0] of the curve filter": lambda: first_map_value(load("cnn-o-vs-x")),
        "How many values reach the output neurons": lambda: len(load(
            "cnn-o-vs-x").network.feature_neurons("flat")),
    },
}


def first_map_value(p: project.Project) -> float:
    ev = Engine.compile(p.network).evaluate(p.dataset.X[:1], p.dataset.Y[:1], p.settings.loss)
    return float(ev.maps["filters"].z[0, 0, 0, 0])


def training_args(p: project.Project) -> tuple:
    return p.network, p.dataset.X, p.dataset.Y, p.settings


def final_loss(p: project.Project) -> float:
    return Engine.compile(p.network).loss(p.dataset.X, p.dataset.Y, p.settings.loss)


def z_max(p: project.Project, nid: str) -> float:
    eng = Engine.compile(p.network)
    ev = eng.evaluate(p.dataset.X, p.dataset.Y, p.settings.loss)
    return float(ev.z[:, eng.index[nid]].max())


def sensitivity(p: project.Project, source: str, output: str = "shoe", h: float = 1e-6) -> float:
    """d output / d source by a central difference on the source's value: the input itself,
    or a neuron's output (moved through its bias, as the identity neuron passes it on)."""
    def out(shift: float) -> float:
        q = p.copy()
        x = np.array([[2.0]])
        if source in [n.id for n in q.network.inputs]:
            x = x + shift
        else:
            q.network.set_param(source, q.network.get_param(source) + shift)
        return float(Engine.compile(q.network).predict(x)[0, [n.id for n in q.network.outputs]
                                                        .index(output)])
    return (out(h) - out(-h)) / (2 * h)


def test_every_shipped_lesson_has_quizzes_and_challenges():
    assert sorted(lesson_checks.QUIZZES) == sorted(NAMES)
    assert sorted(lesson_checks.GOALS) == sorted(NAMES)
    assert sorted(NUMBERS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_quizzes_parse_and_every_lesson_asks_at_least_two(name):
    qs = questions(name)
    assert len(qs) >= 2
    assert all(q.explanation for q in qs)
    assert len({q.key for q in qs}) == len(qs)
    text = lesson_checks.QUIZZES[name]
    assert text.startswith("## Check yourself\n")
    # appended to the lesson, the quizzes leave its own text as it was
    lesson = parse_lesson(build_samples.BUILDERS[name]().description + "\n" + text)
    assert len(lesson.questions) == len(qs) and not lesson.problems


@pytest.mark.parametrize("name", NAMES)
def test_numeric_answers_are_the_engines_numbers(name):
    numeric = [q for q in questions(name) if q.kind == "number"]
    table = NUMBERS[name]
    assert numeric, "every lesson asks for one of its own numbers"
    for q in numeric:
        (compute,) = [f for start, f in table.items() if q.text.startswith(start)]
        value = compute()
        assert q.check_number(value).correct, (q.text, value, q.answer, q.tolerance)
    assert len(table) == len(numeric), "no number in the table without its question"


def test_seed_002s_four_questions_are_asked_where_they_belong():
    asked = {name: [q.text for q in questions(name)] for name in NAMES}
    assert "What does a perceptron do?" in asked["perceptron-and"]
    assert "Why do we need activation functions?" in asked["why-nonlinearity"]
    assert "What is the output range of the sigmoid function?" in asked["xor"]
    assert "What does backpropagation do?" in asked["dosage-backprop"]


def right_choice(name: str, start: str) -> str:
    (q,) = [q for q in questions(name) if q.text.startswith(start)]
    (c,) = [c for c in q.choices if c.correct]
    return c.text


def test_choice_answers_that_the_engine_can_confirm():
    # a learning rate of 0.25 makes b run away from 1
    p = load("intercept-descent")
    tr = Trainer(p.network, p.dataset.X, p.dataset.Y, p.settings.with_(learning_rate=0.25))
    gaps = []
    for _ in range(4):
        tr.step()
        gaps.append(abs(tr.engine.params[tr.engine.param_index("intercept")] - 1.0))
    assert all(b > a for a, b in zip(gaps, gaps[1:], strict=False))
    assert right_choice("intercept-descent", "With the learning rate at 0.25").startswith(
        "Every step overshoots")
    # the sigmoid stays strictly inside (0, 1); tanh inside (−1, 1)
    z = np.array([-30.0, 0.0, 30.0])
    assert np.all((activations.sigmoid(z) > 0) & (activations.sigmoid(z) < 1))
    assert np.all(np.abs(activations.apply("tanh", np.array([-15.0, 15.0]))) <= 1)
    # the first layer of weights gets the smallest gradients at the start
    p = load("three-layer")
    eng = Engine.compile(p.network)
    _, grad = eng.gradient(p.dataset.X, p.dataset.Y, p.settings.loss)
    means = eng.layer_grad_means(grad)
    assert means[0] < means[-1]
    assert right_choice("three-layer", "Which layer").startswith("The first")
    # without activations XOR cannot be learnt: identity hidden neurons stall at MSE 0.25
    p = load("xor")
    for h in p.network.by_role("hidden"):
        p.network.set_activation(h.id, "identity")
    assert trained(p, 2000).network and Engine.compile(p.network).loss(
        p.dataset.X, p.dataset.Y, "mse") > 0.24


# ---------------------------------------------------------------------- challenges
def solve_xor_with_two_hidden(p: project.Project) -> project.Project:
    p.network.remove_neuron("h3")
    p.network.randomize(seed=0)
    return trained(p, 1500)


def set_params(**values: float) -> Callable[[project.Project], project.Project]:
    def solve(p: project.Project) -> project.Project:
        p.network.set_params(values)
        return p
    return solve


# lesson -> goal id -> how a learner solves it on the fresh lesson
SOLUTIONS: dict[str, dict[str, Callable[[project.Project], project.Project]]] = {
    "perceptron-and": {"or-by-bias": set_params(b=-0.25)},
    "intercept-descent": {"find-intercept": trained},
    "dosage-backprop": {"b3-by-hand": set_params(b3=2.61), "bottom-of-the-u": trained},
    "linear-regression": {"best-line": trained, "least-squares": trained},
    "fruit-classifier": {"sort-all": trained},
    "xor": {"learn-xor": trained, "two-hidden": solve_xor_with_two_hidden},
    "three-layer": {"both-outputs": trained},
    "spiral": {"untangle": trained},
    "weight-and-bias": {"downhill": set_params(w1=-1.0, b1=1.0), "flat": set_params(w2=0.0)},
    "chain-rule": {"one-for-one": set_params(w2=0.5)},
    "softmax": {"tie": set_params(apple=34.0)},
    "why-nonlinearity": {"bend": lambda p: trained(set_activation("tanh", "hidden")(p))},
    "vanishing-gradients": {
        "no-vanishing": lambda p: trained(set_activation("tanh", "hidden")(p))},
    "dying-relu": {"revive": lambda p: trained(set_params(h1=0.0, h2=0.0, h3=0.0, h4=0.0)(p))},
    "parametric-relu": {"learn-slope": lambda p: trained(train_slope(p))},
    "architectures": {"wider": lambda p: trained(widen_to_36_weights(p))},
    "cnn-o-vs-x": {"sort-all": trained, "shifted-x": trained},
}


def train_slope(p: project.Project) -> project.Project:
    """Tick 'Train slope' on the parametric-ReLU lesson's neuron."""
    p.network.set_slope_trainable("y", True)
    return p


def set_activation(name: str, role: str) -> Callable[[project.Project], project.Project]:
    def solve(p: project.Project) -> project.Project:
        for n in p.network.by_role(role):
            p.network.set_activation(n.id, name)
        return p
    return solve


def widen_to_36_weights(p: project.Project) -> project.Project:
    """3-3-3-2 → 3-4-4-2, as a learner does it: one more neuron in each hidden layer, connected
    fully (3 + 3 + 4 + 2 = 12 new weights)."""
    net = p.network
    h4 = net.add_neuron("hidden", id="h4", activation="tanh").id
    o4 = net.add_neuron("hidden", id="o4", activation="tanh").id
    for s in ("x1", "x2", "x3"):
        net.connect(s, h4, 0.1)
    for t in ("o1", "o2", "o3", o4):
        net.connect(h4, t, 0.1)
    for s in ("h1", "h2", "h3"):
        net.connect(s, o4, -0.1)
    for t in ("y1", "y2"):
        net.connect(o4, t, 0.1)
    return p


def lesson_challenges(name: str) -> Challenges:
    doc = lesson_checks.challenges(name, load(name))
    # as the project file holds them: through JSON and the loader's parser
    return validate_challenges(project.parse(json.dumps(doc)))


@pytest.mark.parametrize("name", NAMES)
def test_every_challenge_fails_on_the_fresh_lesson(name):
    results = Checker(lesson_challenges(name)).check(load(name))
    assert results
    for r in results:
        assert not r.passed, r.line()


@pytest.mark.parametrize("name, goal", [(n, g) for n in NAMES for g in SOLUTIONS[n]])
def test_each_challenge_passes_on_a_solved_copy(name, goal):
    ch = lesson_challenges(name)
    assert {g.id for g in ch.goals} == set(SOLUTIONS[name])
    solved = SOLUTIONS[name][goal](load(name))
    (result,) = [r for r in Checker(ch).check(solved) if r.goal.id == goal]
    assert result.passed, result.line()


def test_the_issues_three_examples():
    """'Reach MSE below 0.01 with at most 2 hidden neurons', 'make the perceptron compute OR by
    changing only the bias', 'set b3 to 2.61 ± 0.01 by hand': their reasons, failing and met."""
    def reason(name: str, goal: str, p: project.Project) -> str:
        (r,) = [r for r in Checker(lesson_challenges(name)).check(p) if r.goal.id == goal]
        return r.line()

    assert reason("xor", "two-hidden", load("xor")) == (
        "FAIL  Reach MSE below 0.01 with at most 2 hidden neurons: MSE 0.255 — needs < 0.01; "
        "3 hidden neurons — needs ≤ 2")
    assert reason("xor", "two-hidden", solve_xor_with_two_hidden(load("xor"))).startswith(
        "pass  Reach MSE below 0.01 with at most 2 hidden neurons: MSE ")

    other_way = set_params(w1=1.0, w2=1.0, b=-0.5)(load("perceptron-and"))  # OR, but not by b
    assert reason("perceptron-and", "or-by-bias", other_way) == (
        "FAIL  Make the perceptron compute OR by changing only the bias b: w1 changed (0.5 → 1) "
        "and 1 more — only b may change")
    assert reason("perceptron-and", "or-by-bias", set_params(b=-0.25)(load("perceptron-and"))) \
        == ("pass  Make the perceptron compute OR by changing only the bias b: all 4 rows of the "
            "table within ± 0; nothing but b changed")

    assert reason("dosage-backprop", "b3-by-hand", load("dosage-backprop")) == (
        "FAIL  Set b3 to 2.61 ± 0.01 by hand with the slider, changing nothing else: "
        "b3 = 0 — needs 2.61 ± 0.01")
    assert reason("dosage-backprop", "b3-by-hand", set_params(b3=2.615)(load("dosage-backprop"))) \
        == ("pass  Set b3 to 2.61 ± 0.01 by hand with the slider, changing nothing else: "
            "b3 = 2.615 (2.61 ± 0.01); nothing but b3 changed")


def solved(name: str) -> project.Project:
    """The fresh lesson with every goal's solution applied in order: a copy meeting them all
    (tests/cli/test_check.py grades it)."""
    p = load(name)
    for solve in SOLUTIONS[name].values():
        p = solve(p)
    return p


@pytest.mark.parametrize("name", NAMES)
def test_a_copy_with_every_solution_meets_every_goal(name):
    p = solved(name)
    assert p.challenges is not None     # the shipped file carries its challenges
    for r in Checker(p.challenges).check(p):
        assert r.passed, r.line()


def test_an_image_goal_names_its_row_rather_than_listing_its_pixels():
    """The lead saw the checklist print the shifted X's 36 pixels; the goal names the row,
    and a row of more than 6 inputs without a name is called by its number."""
    fresh = load("cnn-o-vs-x")
    (r,) = [r for r in Checker(lesson_challenges("cnn-o-vs-x")).check(fresh)
            if r.goal.id == "shifted-x"]
    assert "for the X shifted one pixel right the output is (" in r.line()
    assert "(0, 1, 0, 0" not in r.line()
    goal = {"id": "g", "require": [{"kind": "outputs", "X": [lesson_checks.SHIFTED_X],
                                    "Y": [[0, 1]], "tolerance": 0.4}]}
    (r,) = Checker(validate_challenges({"goals": [goal]})).check(fresh)
    assert "for row 1 of the table the output is (" in r.line()
    goal["require"][0]["names"] = ["the shifted X", "one too many"]
    with pytest.raises(project.ProjectError,
                       match=r"names: has 2 name\(s\) for the 1 row\(s\) of X"):
        validate_challenges({"goals": [goal]})

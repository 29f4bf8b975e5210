"""The checker: every requirement kind passing and failing with its one-line reason, goals that
cannot be measured, and the caches that make re-checking on every edit cheap."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.datasets import Dataset
from nnstudio.core.engine import Engine
from nnstudio.core.lessons.checker import Checker, check
from nnstudio.core.lessons.goals import Original
from nnstudio.core.project.challenges_section import validate_challenges


def load(name: str) -> project.Project:
    return project.load(paths.SAMPLES / f"{name}.nnproj")


def one(p, *require: dict, original=None) -> tuple[bool, str]:
    """Check one goal made of these requirements against project ``p``: (passed, reason)."""
    doc: dict = {"goals": [{"id": "g", "text": "The goal", "require": list(require)}]}
    if original is not None:
        doc["original"] = original
    (result,) = check(p, validate_challenges(doc))
    return result.passed, result.reason


# ---------------------------------------------------------------------- each kind
def test_loss():
    p = load("dosage-backprop")
    assert one(p, {"kind": "loss", "loss": "ssr", "below": 1}) == (False, "SSR 20.4 — needs < 1")
    p.network.set_param("b3", 2.61)
    assert one(p, {"kind": "loss", "loss": "ssr", "below": 1}) == (True, "SSR 6.48e−5 < 1")
    assert one(p, {"kind": "loss", "loss": "mse", "above": 0, "at_most": 1}) == \
        (True, "MSE 2.16e−5 (needs > 0 and ≤ 1)")


def test_shown_value_keeps_its_side_of_the_bound():
    """A value just under 0.01 is not shown as '0.01 < 0.01', nor one just over as '0.01'."""
    p = load("dosage-backprop")
    p.network.set_param("b3", 0.0099996)
    assert one(p, {"kind": "parameter", "id": "b3", "below": 0.01}) == \
        (True, "b3 = 0.0099996 < 0.01")
    p.network.set_param("b3", 0.0100004)
    assert one(p, {"kind": "parameter", "id": "b3", "below": 0.01}) == \
        (False, "b3 = 0.0100004 — needs < 0.01")
    p.network.set_param("b3", 0.0123456)
    assert one(p, {"kind": "parameter", "id": "b3", "at_most": 0.01}) == \
        (False, "b3 = 0.0123456 — needs ≤ 0.01")


def test_accuracy():
    p = load("perceptron-and")
    assert one(p, {"kind": "accuracy", "at_least": 1}) == (True, "accuracy 100% ≥ 100%")
    p.network.set_param("b", -0.25)
    assert one(p, {"kind": "accuracy", "at_least": 1}) == (False, "accuracy 50% — needs ≥ 100%")


def test_accuracy_needs_classes():
    assert one(load("dosage-backprop"), {"kind": "accuracy", "at_least": 0.5}) == \
        (False, "the dataset has no classes, so there is no accuracy")


def test_parameter_value_and_tolerance():
    p = load("dosage-backprop")
    r = {"kind": "parameter", "id": "b3", "value": 2.61, "tolerance": 0.01}
    assert one(p, r) == (False, "b3 = 0 — needs 2.61 ± 0.01")
    p.network.set_param("b3", 2.62)   # exactly on the edge, as a person reads it
    assert one(p, r) == (True, "b3 = 2.62 (2.61 ± 0.01)")
    p.network.set_param("b3", 2.6201)
    assert one(p, r) == (False, "b3 = 2.6201 — needs 2.61 ± 0.01")


def test_parameter_bounds_and_a_deleted_parameter():
    p = load("perceptron-and")
    assert one(p, {"kind": "parameter", "id": "w1", "above": 0}) == (True, "w1 = 0.5 > 0")
    assert one(p, {"kind": "parameter", "id": "b", "at_least": 0}) == \
        (False, "b = −0.75 — needs ≥ 0")
    p.network.disconnect("w1")
    assert one(p, {"kind": "parameter", "id": "w1", "above": 0}) == \
        (False, "there is no parameter 'w1' in the network")


def test_gradient():
    p = load("dosage-backprop")
    r = {"kind": "gradient", "id": "b3", "loss": "ssr", "below": 0.1}
    assert one(p, r) == (False, "|dSSR/db3| = 15.7 — needs < 0.1")
    p.network.set_param("b3", 2.61)
    passed, reason = one(p, r)
    assert passed and reason.startswith("|dSSR/db3| = 0.0") and reason.endswith("< 0.1")
    assert one(p, {"kind": "gradient", "id": "nope", "loss": "ssr", "below": 1}) == \
        (False, "there is no parameter 'nope' in the network")


@pytest.mark.parametrize("of, count", [
    ("neurons", 6), ("hidden_neurons", 3), ("connections", 9), ("parameters", 13),
    ("trainable_parameters", 13), ("hidden_layers", 1), ("rows", 4),
])
def test_count(of, count):
    p = load("xor")
    words = {"hidden_neurons": "hidden neurons", "trainable_parameters": "trainable parameters",
             "hidden_layers": "hidden layers", "rows": "dataset rows"}.get(of, of)
    assert one(p, {"kind": "count", "of": of, "at_most": count}) == \
        (True, f"{count} {words} ≤ {count}")
    assert one(p, {"kind": "count", "of": of, "below": count}) == \
        (False, f"{count} {words} — needs < {count}")


def test_count_follows_locks_and_layers():
    p = load("dosage-backprop")
    assert one(p, {"kind": "count", "of": "trainable_parameters", "at_most": 1})[0]
    p.network.set_trainable("w3", True)
    assert one(p, {"kind": "count", "of": "trainable_parameters", "at_most": 1}) == \
        (False, "2 trainable parameters — needs ≤ 1")
    assert one(load("three-layer"), {"kind": "count", "of": "hidden_layers", "at_least": 2}) == \
        (True, "2 hidden layers ≥ 2")


def test_activation():
    p = load("xor")
    assert one(p, {"kind": "activation", "role": "hidden", "none_of": ["identity"]}) == \
        (True, "the hidden neurons are tanh")
    for h in ("h1", "h2"):
        p.network.set_activation(h, "identity")
    assert one(p, {"kind": "activation", "role": "hidden", "none_of": ["identity"]}) == \
        (False, "h1 is identity, h2 is identity — needs not identity")
    assert one(p, {"kind": "activation", "neurons": ["h3"], "one_of": ["tanh", "relu"]}) == \
        (True, "h3 is tanh")
    assert one(p, {"kind": "activation", "neurons": ["h1", "h3"], "one_of": ["tanh"]}) == \
        (False, "h1 is identity — needs tanh")
    assert one(p, {"kind": "activation", "neurons": ["h9"], "one_of": ["tanh"]}) == \
        (False, "there is no neuron 'h9' in the network")
    assert one(load("perceptron-and"), {"kind": "activation", "role": "hidden",
                                        "one_of": ["tanh"]}) == \
        (False, "the network has no hidden neurons")


OR_TABLE = {"kind": "outputs", "X": [[0, 0], [0, 1], [1, 0], [1, 1]], "Y": [[0], [1], [1], [1]],
            "tolerance": 0}


def test_outputs_table():
    p = load("perceptron-and")
    assert one(p, OR_TABLE) == \
        (False, "for (0, 1) the output is 0 — needs 1 ± 0 (2 of 4 rows are off)")
    p.network.set_param("b", -0.25)
    assert one(p, OR_TABLE) == (True, "all 4 rows of the table within ± 0")


def test_outputs_with_several_columns_and_a_tolerance():
    p = load("three-layer")
    r = {"kind": "outputs", "X": [[1, 1, 0]], "Y": [[1, 1]], "tolerance": 0.1}
    passed, reason = one(p, r)
    assert not passed and reason.startswith("for (1, 1, 0) the output is (0.")
    assert reason.endswith("— needs (1, 1) ± 0.1")


def test_outputs_table_of_the_wrong_width():
    p = load("perceptron-and")
    assert one(p, {"kind": "outputs", "X": [[1, 1, 1]], "Y": [[1]], "tolerance": 0}) == \
        (False, "the table has 3 input(s) per row but the network has 2 input neuron(s)")
    assert one(p, {"kind": "outputs", "X": [[1, 1]], "Y": [[1, 0]], "tolerance": 0}) == \
        (False, "the table has 2 output(s) per row but the network has 1 output neuron(s)")


def test_changed_only():
    p = load("perceptron-and")
    orig = Original.of(p.network).to_dict()
    r = {"kind": "changed_only", "parameters": ["b"]}
    assert one(p, r, original=orig) == (True, "nothing but b changed")
    p.network.set_param("b", -0.25)
    assert one(p, r, original=orig) == (True, "nothing but b changed")
    p.network.set_param("w2", 0.75)
    p.network.set_param("w1", 0.7)
    assert one(p, r, original=orig) == \
        (False, "w1 changed (0.5 → 0.7) and 1 more — only b may change")
    assert one(p, {"kind": "changed_only", "parameters": []}, original=orig) == \
        (False, "w1 changed (0.5 → 0.7) and 2 more — nothing may change")
    assert one(p, {"kind": "changed_only", "parameters": ["b"], "tolerance": 0.3},
               original=orig) == (True, "nothing but b changed")


@pytest.mark.parametrize("edit, reason", [
    (lambda n: n.set_activation("b", "sigmoid"),
     "the activation of 'b' changed (binary_step → sigmoid)"),
    (lambda n: n.add_neuron("hidden", id="h1"), "neuron 'h1' is new"),
    (lambda n: n.disconnect("w2"), "the connection 'w2' (x2 → b) was removed"),
    (lambda n: n.remove_neuron("x2"), "neuron 'x2' was removed"),
    (lambda n: (n.disconnect("w1"), n.disconnect("w2"), n.connect("x2", "b", 0.5, id="w1"),
                n.connect("x1", "b", 0.5, id="w2")),
     "the connection 'w1' now runs x2 → b"),
])
def test_changed_only_names_the_structural_change(edit, reason):
    p = load("perceptron-and")
    orig = Original.of(p.network).to_dict()
    edit(p.network)
    assert one(p, {"kind": "changed_only", "parameters": ["b"]}, original=orig) == \
        (False, f"{reason} — only b may change")


def test_changed_only_sees_a_new_connection_and_a_leaky_slope():
    p = load("xor")
    p.network.set_activation("h1", "leaky_relu", slope=0.01)
    orig = Original.of(p.network).to_dict()
    r = {"kind": "changed_only", "parameters": []}
    p.network.set_activation("h1", "leaky_relu", slope=0.2)
    assert one(p, r, original=orig) == \
        (False, "the leaky slope of 'h1' changed (0.01 → 0.2) — nothing may change")
    p.network.set_activation("h1", "leaky_relu", slope=0.01)
    p.network.connect("x1", "y1", 1.0, id="skip")
    assert one(p, r, original=orig) == \
        (False, "the connection 'skip' (x1 → y1) is new — nothing may change")


# ---------------------------------------------------------------------- goals and reports
def test_a_goal_passes_only_when_every_requirement_does():
    p = load("xor")
    ch = validate_challenges({"goals": [{
        "id": "two-hidden", "text": "Reach MSE below 0.01 with at most 2 hidden neurons",
        "require": [{"kind": "loss", "loss": "mse", "below": 0.01},
                    {"kind": "count", "of": "hidden_neurons", "at_most": 2}]}]})
    (r,) = check(p, ch)
    assert not r.passed
    assert r.reason == "MSE 0.255 — needs < 0.01; 3 hidden neurons — needs ≤ 2"
    assert r.line() == ("FAIL  Reach MSE below 0.01 with at most 2 hidden neurons: "
                        "MSE 0.255 — needs < 0.01; 3 hidden neurons — needs ≤ 2")
    p.network.remove_neuron("h3")
    (r,) = check(p, ch)
    assert r.reason == "MSE 0.256 — needs < 0.01"
    assert [o.passed for o in r.outcomes] == [False, True]


def test_a_network_that_cannot_be_evaluated_fails_every_measured_goal():
    p = load("perceptron-and")
    p.network.remove_neuron("b")
    ch = validate_challenges({"goals": [
        {"id": "a", "require": [{"kind": "loss", "loss": "mse", "below": 1}]},
        {"id": "b", "require": [{"kind": "count", "of": "neurons", "at_most": 2}]}]})
    a, b = check(p, ch)
    assert (a.passed, a.reason) == (False, "the network cannot be evaluated: the network has "
                                           "no output neuron")
    assert (b.passed, b.reason) == (True, "2 neurons ≤ 2")


def test_empty_dataset():
    p = load("xor")
    p.dataset = Dataset(["x1", "x2"], ["y"], np.zeros((0, 2)), np.zeros((0, 1)))
    assert one(p, {"kind": "loss", "loss": "mse", "below": 1}) == \
        (False, "the dataset has no rows")


# ---------------------------------------------------------------------- caches
def test_checker_keeps_its_engine_until_the_structure_changes(monkeypatch):
    compiles = []
    real = Engine.compile
    monkeypatch.setattr(Engine, "compile", classmethod(
        lambda cls, net: compiles.append(net) or real(net)))
    p = load("xor")
    checker = Checker(validate_challenges({"goals": [
        {"id": "a", "require": [{"kind": "loss", "loss": "mse", "below": 0.01}]}]}))
    first = checker.check(p)[0].reason
    assert len(compiles) == 1
    p.network.set_param("h1", 0.3)   # a parameter edit: the same engine, new values
    second = checker.check(p)[0].reason
    assert len(compiles) == 1 and second != first
    monkeypatch.undo()
    assert second == one(p, {"kind": "loss", "loss": "mse", "below": 0.01})[1]
    monkeypatch.setattr(Engine, "compile", classmethod(
        lambda cls, net: compiles.append(net) or real(net)))
    p.network.set_activation("h1", "relu")   # the structure changed: compiled again
    third = checker.check(p)[0].reason
    assert len(compiles) == 2 and third != second


def test_checker_uses_an_engine_it_is_given(monkeypatch):
    p = load("xor")
    mine = Engine.compile(p.network)
    p.network.set_param("h1", 0.3)
    expected = one(p, {"kind": "loss", "loss": "mse", "below": 0.01})[1]
    compiles = []
    real = Engine.compile
    monkeypatch.setattr(Engine, "compile", classmethod(
        lambda cls, net: compiles.append(net) or real(net)))
    checker = Checker(validate_challenges({"goals": [
        {"id": "a", "require": [{"kind": "loss", "loss": "mse", "below": 0.01}]}]}))
    (r,) = checker.check(p, mine)
    assert compiles == [] and r.reason == expected
    assert mine.params[mine.param_index("h1")] == 0.3   # its values were brought up to date
    p.network.set_activation("h1", "relu")   # the offered engine is out of date: not used
    checker.check(p, mine)
    assert len(compiles) == 1


def test_checker_comparison_follows_structure_edits():
    p = load("perceptron-and")
    ch = validate_challenges({"original": Original.of(p.network).to_dict(), "goals": [
        {"id": "a", "require": [{"kind": "changed_only", "parameters": ["b"]}]}]})
    checker = Checker(ch)
    assert checker.check(p)[0].passed
    p.network.add_neuron("hidden", id="h1")
    assert checker.check(p)[0].reason == "neuron 'h1' is new — only b may change"
    p.network.remove_neuron("h1")
    assert checker.check(p)[0].passed
    p.network.set_param("w1", 1.0)
    assert not checker.check(p)[0].passed


def test_a_loss_the_outputs_cannot_have_fails_the_goal_and_never_raises():
    """The vanishing-gradients lesson's goal asks for BCE; a learner who makes the output tanh
    gets a failed goal saying why (the engine refuses BCE of a tanh output)."""
    p = project.load(paths.SAMPLES / "vanishing-gradients.nnproj")
    p.network.set_activation("y1", "tanh")
    (res,) = Checker(p.challenges).check(p)
    assert not res.passed and "binary cross-entropy" in res.reason
    grad = validate_challenges({"goals": [{"id": "g", "require": [
        {"kind": "gradient", "id": "y1", "loss": "bce", "below": 1}]}]})
    (res,) = Checker(grad).check(p)
    assert not res.passed and "binary cross-entropy" in res.reason

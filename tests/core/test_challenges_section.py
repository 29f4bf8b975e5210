"""The challenges section of the project format: validation of its JSON form, refusals that
name the place and the goal, and the round trip through to_dict."""

from __future__ import annotations

import copy
import json

import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.core.lessons.goals import (
    KINDS,
    Bounds,
    ChangedOnly,
    Count,
    Original,
    Outputs,
    Parameter,
    describe,
)
from nnstudio.core.network import Network
from nnstudio.core.project import ProjectError
from nnstudio.core.project.challenges_section import READERS, validate_challenges

EVERY_KIND = {
    "goals": [
        {"id": "g1", "text": "Everything at once", "require": [
            {"kind": "loss", "loss": "mse", "below": 0.01},
            {"kind": "accuracy", "at_least": 1.0},
            {"kind": "parameter", "id": "b", "value": -0.25, "tolerance": 0.01},
            {"kind": "parameter", "id": "w1", "above": 0, "at_most": 1},
            {"kind": "gradient", "id": "b", "loss": "ssr", "below": 0.1},
            {"kind": "count", "of": "hidden_neurons", "at_most": 2},
            {"kind": "activation", "role": "output", "one_of": ["binary_step", "sigmoid"]},
            {"kind": "activation", "neurons": ["b"], "none_of": ["identity"]},
            {"kind": "outputs", "X": [[0, 0], [1, 1]], "Y": [[0], [1]], "tolerance": 0.1},
            {"kind": "changed_only", "parameters": ["b"]},
            {"kind": "changed_only", "parameters": [], "tolerance": 1e-9},
        ]},
        {"id": "g2", "require": [{"kind": "count", "of": "rows", "at_least": 4}]},
    ],
}


def _perceptron() -> Network:
    return project.load(paths.SAMPLES / "perceptron-and.nnproj").network


@pytest.fixture
def doc() -> dict:
    d = copy.deepcopy(EVERY_KIND)
    d["original"] = Original.of(_perceptron()).to_dict()
    return d


def refused(doc: dict, message: str) -> str:
    with pytest.raises(ProjectError) as e:
        validate_challenges(doc)
    assert str(e.value) == message, str(e.value)
    return str(e.value)


# ---------------------------------------------------------------------- good input
def test_every_kind_reads_and_round_trips(doc):
    ch = validate_challenges(doc)
    kinds = [r.KIND for r in ch.goals[0].require]
    assert set(kinds) == set(KINDS)
    back = ch.to_dict()
    assert validate_challenges(json.loads(json.dumps(back))) == ch
    assert back["goals"][0] == doc["goals"][0]
    assert back["original"] == doc["original"]


def test_text_defaults_to_a_description(doc):
    ch = validate_challenges(doc)
    assert ch.goals[1].text == "dataset rows ≥ 4"
    assert ch.goals[1].to_dict()["text"] == "dataset rows ≥ 4"


def test_descriptions_say_what_is_asked(doc):
    reqs = validate_challenges(doc).goals[0].require
    assert [describe(r) for r in reqs] == [
        "MSE < 0.01", "accuracy ≥ 100%", "b = −0.25 ± 0.01", "w1 > 0 and ≤ 1",
        "|dSSR/db| < 0.1", "hidden neurons ≤ 2", "the output neurons: binary_step or sigmoid",
        "b: not identity", "the outputs of a 2-row table within ± 0.1", "only b changed",
        "only nothing changed",
    ]


def test_original_snapshot_of_a_network():
    net = _perceptron()
    net.set_activation("b", "leaky_relu", slope=0.2)
    o = Original.of(net)
    assert o.neurons["b"].slope == 0.2 and o.neurons["x1"].slope is None
    assert o.connections == {"w1": ("x1", "b"), "w2": ("x2", "b")}
    assert o.parameters == {"w1": 0.5, "w2": 0.5, "b": -0.75}
    back = validate_challenges({"goals": [{"id": "g", "require": [
        {"kind": "changed_only", "parameters": []}]}], "original": o.to_dict()})
    assert back.original == o


def test_bounds():
    b = Bounds(above=0.0, at_most=1.0)
    assert b.holds(1.0) and not b.holds(0.0) and b.holds(0.5)
    assert Bounds(below=0.01).holds(0.0099) and not Bounds(below=0.01).holds(0.01)


def test_what_the_loader_parses_is_accepted():
    """The project parser's output (its own dict and number types) goes straight in."""
    text = json.dumps({"goals": [{"id": "a", "require": [{"kind": "loss", "loss": "ssr",
                                                          "at_most": 2.41}]}]})
    ch = validate_challenges(project.parse(text))
    assert ch.goals[0].require[0].bounds == Bounds(at_most=2.41)


# ---------------------------------------------------------------------- refusals
def req(doc: dict, k: int) -> dict:
    return doc["goals"][0]["require"][k]


G = "$.challenges.goals[0]"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("goals"), "$.challenges: the key 'goals' is missing"),
    (lambda d: d.update(goals=[]), "$.challenges.goals: needs at least 1 goals"),
    (lambda d: d.update(extra=1),
     "$.challenges.extra: unknown key (allowed here: goals, original)"),
    (lambda d: d["goals"][1].update(id="g1"),
     "$.challenges.goals[1].id: duplicate goal id 'g1' (already used at $.challenges.goals[0].id)"),
    (lambda d: d["goals"][0].update(id="9 lives"),
     f"{G}.id: '9 lives' is not a valid id: use 1 to 64 letters, digits, '_', '.' or '-', "
     "starting with a letter or '_'"),
    (lambda d: d["goals"][0].update(text="two\nlines"),
     f"{G}.text: must be one line of text, without control characters such as line breaks "
     "(in goal 'g1')"),
    (lambda d: d["goals"][0].update(text="x" * 201),
     f"{G}.text: is 201 characters long, more than the limit of 200 (in goal 'g1')"),
    (lambda d: d["goals"][0].update(require=[]),
     f"{G}.require: needs at least 1 requirements (in goal 'g1')"),
    (lambda d: req(d, 0).update(kind="eval"),
     f"{G}.require[0].kind: unknown requirement kind 'eval' (known: loss, accuracy, parameter, "
     "gradient, count, activation, outputs, changed_only) (in goal 'g1')"),
    (lambda d: req(d, 0).pop("kind"), f"{G}.require[0]: the key 'kind' is missing (in goal 'g1')"),
    (lambda d: req(d, 0).update(loss="hinge"),
     f"{G}.require[0].loss: unknown loss 'hinge' (known: ssr, mse, mae, bce, cross_entropy) "
     "(in goal 'g1')"),
    (lambda d: req(d, 0).update(below="low"),
     f"{G}.require[0].below: must be a number, got the text 'low' (in goal 'g1')"),
    (lambda d: req(d, 0).update(below=True),
     f"{G}.require[0].below: must be a number, got true (in goal 'g1')"),
    (lambda d: req(d, 0).update(below=float("nan")),
     f"{G}.require[0].below: must be a finite number, got nan (in goal 'g1')"),
    (lambda d: req(d, 0).pop("below"),
     f"{G}.require[0]: needs a bound: 'below', 'at_most', 'above' or 'at_least' (in goal 'g1')"),
    (lambda d: req(d, 0).update(at_most=0.1),
     f"{G}.require[0].at_most: give one upper bound: 'below' or 'at_most', not both "
     "(in goal 'g1')"),
    (lambda d: req(d, 0).update(below=-1),
     f"{G}.require[0].below: must be at least 0, got -1 (in goal 'g1')"),
    (lambda d: req(d, 0).update(above=0.5),
     f"{G}.require[0]: the bounds leave no value that could pass (in goal 'g1')"),
    (lambda d: req(d, 0).update(tolerance=1),
     f"{G}.require[0].tolerance: unknown key (allowed here: above, at_least, at_most, below, "
     "kind, loss) (in goal 'g1')"),
    (lambda d: req(d, 1).update(at_least=1.5),
     f"{G}.require[1].at_least: must be at most 1, got 1.5 (in goal 'g1')"),
    (lambda d: req(d, 2).pop("tolerance"),
     f"{G}.require[2]: the key 'tolerance' is missing (how far from 'value' still passes) "
     "(in goal 'g1')"),
    (lambda d: req(d, 2).update(tolerance=-0.1),
     f"{G}.require[2].tolerance: must not be negative, got -0.1 (in goal 'g1')"),
    (lambda d: req(d, 2).update(below=3),
     f"{G}.require[2]: give either 'value' with 'tolerance' or bounds, not both (in goal 'g1')"),
    (lambda d: req(d, 3).update(tolerance=0.1),
     f"{G}.require[3].tolerance: a tolerance goes with a 'value' (in goal 'g1')"),
    (lambda d: req(d, 2).update(id="b9"),
     f"{G}.require[2].id: the original network has no parameter 'b9' (in goal 'g1')"),
    (lambda d: req(d, 2).update(id="x1"),
     f"{G}.require[2].id: the original network has no parameter 'x1' (in goal 'g1')"),
    (lambda d: req(d, 5).update(of="layers"),
     f"{G}.require[5].of: unknown thing to count 'layers' (known: neurons, hidden_neurons, "
     "connections, parameters, trainable_parameters, hidden_layers, rows) (in goal 'g1')"),
    (lambda d: req(d, 6).update(neurons=["b"]),
     f"{G}.require[6]: name the neurons: give 'neurons' (a list of ids) or 'role', one of them "
     "(in goal 'g1')"),
    (lambda d: req(d, 6).update(role="input"),
     f"{G}.require[6].role: unknown role 'input' (known: hidden, output) (in goal 'g1')"),
    (lambda d: req(d, 6).update(one_of=["swish"]),
     f"{G}.require[6].one_of[0]: unknown activation 'swish' (known: identity, binary_step, "
     "sigmoid, tanh, relu, leaky_relu, softplus, softmax) (in goal 'g1')"),
    (lambda d: req(d, 6).pop("one_of"),
     f"{G}.require[6]: needs 'one_of' or 'none_of' (a list of activation names) (in goal 'g1')"),
    (lambda d: req(d, 7).update(neurons=["b", "b"]),
     f"{G}.require[7].neurons[1]: 'b' is named twice (in goal 'g1')"),
    (lambda d: req(d, 7).update(neurons=["h9"]),
     f"{G}.require[7].neurons[0]: the original network has no neuron 'h9' (in goal 'g1')"),
    (lambda d: req(d, 8).update(Y=[[0]]),
     f"{G}.require[8].Y: has 1 rows but X has 2; each row of inputs needs its outputs "
     "(in goal 'g1')"),
    (lambda d: req(d, 8).update(X=[[0, 0], [1]]),
     f"{G}.require[8].X[1]: has 1 value(s), expected 2 like the rows above (in goal 'g1')"),
    (lambda d: req(d, 8).update(X=[[0, 0, 0], [1, 1, 1]]),
     f"{G}.require[8].X: rows have 3 value(s) but the network has 2 input neuron(s) "
     "(in goal 'g1')"),
    (lambda d: req(d, 8).update(Y=[[0, 1], [1, 0]]),
     f"{G}.require[8].Y: rows have 2 value(s) but the network has 1 output neuron(s) "
     "(in goal 'g1')"),
    (lambda d: req(d, 8).update(X=[[0, "a"], [1, 1]]),
     f"{G}.require[8].X[0][1]: must be a number, got the text 'a' (in goal 'g1')"),
    (lambda d: req(d, 8).update(X=[]),
     f"{G}.require[8].X: needs at least 1 rows (in goal 'g1')"),
    (lambda d: req(d, 9).update(parameters=["w9"]),
     f"{G}.require[9].parameters[0]: the original network has no parameter 'w9' (in goal 'g1')"),
    (lambda d: d.pop("original"),
     f"{G}.require[9]: 'changed_only' compares with the lesson's original network, but "
     "$.challenges.original is missing (in goal 'g1')"),
    (lambda d: d["original"]["parameters"].pop("w2"),
     "$.challenges.original.parameters: the value of 'w2' is missing (every original weight "
     "and bias has one)"),
    (lambda d: d["original"]["parameters"].update(x1=0.0),
     "$.challenges.original.parameters.x1: 'x1' is neither an original connection nor a "
     "non-input neuron"),
    (lambda d: d["original"]["parameters"].update(b=None),
     "$.challenges.original.parameters.b: must be a number, got null"),
    (lambda d: d["original"]["neurons"]["b"].update(activation="swish"),
     "$.challenges.original.neurons.b.activation: unknown activation 'swish' (known: identity, "
     "binary_step, sigmoid, tanh, relu, leaky_relu, softplus, softmax)"),
    (lambda d: d["original"]["neurons"]["b"].update(slope=0.1),
     "$.challenges.original.neurons.b.slope: only an activation with a slope has one, "
     "not 'binary_step'"),
    (lambda d: d["original"]["neurons"].update({"bad id": {"role": "hidden",
                                                           "activation": "relu"}}),
     "$.challenges.original.neurons[\"bad id\"]: 'bad id' is not a valid id: use 1 to 64 "
     "letters, digits, '_', '.' or '-', starting with a letter or '_'"),
    (lambda d: d["original"]["connections"]["w1"].update(source="h9"),
     "$.challenges.original.connections.w1.source: there is no neuron the text 'h9' among the "
     "original neurons"),
    (lambda d: d["original"]["connections"].update(b={"source": "x1", "target": "b"}),
     "$.challenges.original.connections.b: 'b' is also a neuron id; every id is unique"),
    (lambda d: d["original"].update(neurons=[]),
     "$.challenges.original.neurons: must be an object, got a list"),
])
def test_refusals_name_the_place_the_problem_and_the_goal(doc, change, message):
    change(doc)
    refused(doc, message)


def test_not_an_object():
    refused([], "$.challenges: must be an object, got a list")  # type: ignore[arg-type]


def test_duplicate_key_from_the_project_parser():
    text = '{"goals": [{"id": "a", "id": "b", "require": []}]}'
    refused(project.parse(text), "$.challenges.goals[0].id: the key appears more than once")


def test_nan_from_the_project_parser():
    text = '{"goals": [{"id": "a", "require": [{"kind": "loss", "loss": "mse", "below": NaN}]}]}'
    refused(project.parse(text),
            "$.challenges.goals[0].require[0].below: must be a finite number, got NaN "
            "(in goal 'a')")


def test_limits():
    many = {"goals": [{"id": f"g{i}", "require": [{"kind": "count", "of": "rows", "at_least": 1}]}
                      for i in range(101)]}
    refused(many, "$.challenges.goals: 101 goals is more than the limit of 100")
    rows = {"goals": [{"id": "t", "require": [{"kind": "outputs", "X": [[0]] * 1025,
                                               "Y": [[0]] * 1025, "tolerance": 0}]}]}
    refused(rows, "$.challenges.goals[0].require[0].X: 1025 rows is more than the limit of 1024 "
                  "(in goal 't')")


def test_without_original_ids_are_not_checked_against_a_network():
    """The learner's network is theirs to change: a goal naming a neuron they deleted fails
    when checked; it never makes the file unreadable."""
    ch = validate_challenges({"goals": [{"id": "a", "require": [
        {"kind": "parameter", "id": "anything", "value": 1, "tolerance": 0},
        {"kind": "outputs", "X": [[1, 2, 3]], "Y": [[1]], "tolerance": 0}]}]})
    assert isinstance(ch.goals[0].require[0], Parameter)
    assert isinstance(ch.goals[0].require[1], Outputs)


def test_one_reader_per_kind_of_the_language():
    assert set(READERS) == set(KINDS)


def test_requirement_classes_round_trip_alone():
    for r in (Count("rows", Bounds(at_least=1.0)), ChangedOnly(("b",), 0.5),
              Parameter("b", bounds=Bounds(below=0.0))):
        doc = {"goals": [{"id": "g", "require": [r.to_dict()]}],
               "original": Original.of(_perceptron()).to_dict()}
        assert validate_challenges(doc).goals[0].require[0] == r


# ---------------------------------------------------------------------- in the project file
def _lesson_with_challenges(doc: dict) -> project.Project:
    p = project.load(paths.SAMPLES / "perceptron-and.nnproj")
    p.challenges = validate_challenges(doc)
    return p


def test_a_project_file_carries_its_challenges_through_save_and_load(doc, tmp_path):
    p = _lesson_with_challenges(doc)
    text = project.dumps(p)
    assert '"challenges": {' in text
    back = project.loads(text)
    assert back.challenges == p.challenges
    assert project.dumps(back) == text
    assert p.copy().challenges is p.challenges     # immutable, so shared
    project.save(p, tmp_path / "lesson.nnproj")
    assert project.load(tmp_path / "lesson.nnproj").challenges == p.challenges


def test_the_section_is_laid_out_one_goal_and_one_original_entry_per_line(doc):
    lines = project.dumps(_lesson_with_challenges(doc)).splitlines()
    goal_lines = [ln for ln in lines if ln.lstrip().startswith('{"id": "g')]
    assert len(goal_lines) == len(doc["goals"])
    assert '        "w1": 0.5,' in lines                      # original.parameters
    assert any(ln.startswith('        "x1": {"role": "input"') for ln in lines)


def test_no_challenges_means_no_section_in_the_file():
    p = project.load(paths.SAMPLES / "xor.nnproj")
    p.challenges = None
    text = project.dumps(p)
    assert '"challenges"' not in text
    assert project.loads(text).challenges is None
    assert "challenges" not in project.to_dict(p)


def test_a_bad_section_in_a_file_is_refused_with_its_path(doc):
    full = project.to_dict(_lesson_with_challenges(doc))
    full["challenges"]["goals"][0]["require"][0]["below"] = "low"
    with pytest.raises(ProjectError, match=r"^\$\.challenges\.goals\[0\]\.require\[0\]\.below: "
                                           r"must be a number.*\(in goal 'g1'\)"):
        project.from_dict(full)
    full["challenges"] = None
    with pytest.raises(ProjectError, match=r"^\$\.challenges: must be an object, got null"):
        project.from_dict(full)

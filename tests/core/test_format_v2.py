"""Project format version 2: version-1 files load unchanged (every shipped sample, a
hand-written file), image layers and dataset images round-trip through a file, every refusal
names its JSON path, and the schema describes the image layers as the code checks them."""

from __future__ import annotations

import copy
import json
import re

import pytest

from nnstudio import paths
from nnstudio.core import activations, datasets, project
from nnstudio.core.engine import Engine
from nnstudio.core.network.image_layers import COMMON_KEYS, FILTER_KEYS, KINDS, SETTINGS
from nnstudio.core.trainer import TrainSettings
from tests.core.test_image_layers import cnn
from tests.core.test_project import check_schema, load_schema


def cnn_project() -> project.Project:
    return project.Project(cnn(), datasets.generate("o_vs_x"),
                           TrainSettings(loss="cross_entropy", learning_rate=0.05), "# O or X",
                           "O or X")


def cnn_doc() -> dict:
    return json.loads(project.dumps(cnn_project()))


def refused(doc: dict, message: str) -> None:
    with pytest.raises(project.ProjectError) as e:
        project.loads(json.dumps(doc))
    assert str(e.value).startswith(message), str(e.value)
    assert "\n" not in str(e.value)


# ---------------------------------------------------------------------- version 1 files
@pytest.mark.parametrize("path", paths.samples(), ids=lambda p: p.stem)
def test_every_shipped_sample_loads_unchanged_as_a_version_1_file(path):
    text = path.read_text(encoding="utf-8")
    assert '"format_version": 2,' in text
    v1 = text.replace('"format_version": 2,', '"format_version": 1,', 1)
    old, new = project.loads(v1), project.loads(text)
    assert project.to_dict(old) == project.to_dict(new)
    assert project.dumps(old) == text   # saved again, only the version number moved


HAND_WRITTEN_V1 = """{
  "format": "nnstudio-project",
  "format_version": 1,
  "name": "One neuron",
  "network": {
    "neurons": [
      {"id": "x", "role": "input", "activation": "identity"},
      {"id": "y", "role": "output", "activation": "sigmoid", "bias": -0.5}
    ],
    "connections": [{"id": "w", "source": "x", "target": "y", "weight": 2.0}]
  },
  "dataset": {"inputs": ["x"], "targets": ["y"], "X": [[0], [1]], "Y": [[0], [1]]}
}"""


def test_a_hand_written_version_1_file_loads_and_saves_as_version_2():
    p = project.loads(HAND_WRITTEN_V1)
    assert p.network.get_param("w") == 2.0 and p.network.get_param("y") == -0.5
    assert not p.network.image_layers and p.dataset.images == ()
    assert p.challenges is None
    doc = json.loads(project.dumps(p))
    assert doc["format_version"] == 2 == project.FORMAT_VERSION
    assert "image_layers" not in doc["network"] and doc["dataset"]["inputs"] == ["x"]
    assert project.versions.migrate(json.loads(HAND_WRITTEN_V1))["format_version"] == 2


# ---------------------------------------------------------------------- image layers in files
def test_a_cnn_project_round_trips_through_its_file(tmp_path):
    proj = cnn_project()
    text = project.dumps(proj)
    path = tmp_path / "cnn.nnproj"
    project.save(proj, path)
    again = project.load(path)
    assert project.dumps(again) == text
    assert again.network.to_dict() == proj.network.to_dict()
    assert again.dataset == proj.dataset and again.dataset.images[0].shape == (1, 6, 6)
    ds = again.dataset
    a = Engine.compile(proj.network).evaluate(ds.X, ds.Y, "cross_entropy")
    b = Engine.compile(again.network).evaluate(ds.X, ds.Y, "cross_entropy")
    assert a.loss == b.loss and (a.grad == b.grad).all()
    doc = json.loads(text)
    assert [d["kind"] for d in doc["network"]["image_layers"]] == list(KINDS)
    assert doc["dataset"]["inputs"] == [{"image": "pixels", "shape": [1, 6, 6]}]
    assert len(doc["dataset"]["X"][0]) == 36
    # one filter per line under its convolution, so a filter's edit is a one-line diff
    assert re.search(r'"filters": \[\n +\{"weights": \[\[\[0\.0, 0\.0, 1\.0\]', text)


def test_the_cnn_project_matches_the_schema():
    schema = load_schema()
    assert check_schema(cnn_doc(), schema, schema) == []
    bad = cnn_doc()
    bad["network"]["image_layers"][2]["kernel"] = 3
    assert check_schema(bad, schema, schema) != []


def test_the_schema_describes_the_image_layers_as_the_code_checks_them():
    d = load_schema()["$defs"]
    assert [b["$ref"].rsplit("/", 1)[1] for b in d["image_layer"]["oneOf"]] == list(KINDS)
    for kind in KINDS:
        props = d[kind]["properties"]
        assert props["kind"] == {"const": kind}
        assert set(props) == set(COMMON_KEYS) - ({"source"} if kind == "image_input" else set()) \
            | set(SETTINGS[kind]), kind
        assert d[kind]["additionalProperties"] is False
    assert set(d["filter"]["properties"]) == set(FILTER_KEYS)
    conv = d["convolution"]["properties"]
    assert conv["activation"]["enum"] == [a for a in activations.NAMES if a != "softmax"]
    assert conv["stride"]["maximum"] == 3 and conv["filters"]["maxItems"] == 64
    assert d["pooling"]["properties"]["window"]["maximum"] == 7
    assert d["network"]["properties"]["image_layers"]["maxItems"] == 64
    assert d["image_columns"]["properties"]["image"]["maxLength"] == \
        datasets.MAX_IMAGE_NAME_LENGTH


# ---------------------------------------------------------------------- refusals
def _edit(change):
    doc = cnn_doc()
    change(doc)
    return doc


def _layer(doc, i):
    return doc["network"]["image_layers"][i]


REFUSALS = {
    "a pooling window that does not fit": (
        lambda d: _layer(d, 2).update(window=3),
        "$.network.image_layers[2]: max pooling 'max pooling': stride 2 does not fit its 4 × 4 "
        "input with a 3 × 3 pooling window"),
    "a kernel larger than its input": (
        lambda d: _layer(d, 1)["filters"].__setitem__(slice(None), [
            {"weights": [[[0] * 7] * 7]}]),
        "$.network.image_layers[1]: convolution 'filters': its 7 × 7 kernel is larger than its "
        "6 × 6 input"),
    "an unknown kind": (lambda d: _layer(d, 0).update(kind="dense"),
                        "$.network.image_layers[0].kind: an image layer's kind must be one of"),
    "a setting of another kind": (
        lambda d: _layer(d, 1).update(window=2),
        "$.network.image_layers[1].window: convolution 'filters': 'window' is a setting of a "
        "pooling"),
    "a layer id that a neuron has": (
        lambda d: _layer(d, 0).update(id="o"),
        "$.network.image_layers[0].id: duplicate id 'o' (already used at "
        "$.network.neurons[0].id)"),
    "ragged filter weights": (
        lambda d: _layer(d, 1)["filters"][0].update(weights=[[[0, 1], [1]]]),
        "$.network.image_layers[1].filters[0].weights: convolution 'filters': the weights of "
        "filter 0 are ragged"),
    "a filter bias written as text": (
        lambda d: _layer(d, 1)["filters"][0].update(bias="0.5"),
        "$.network.image_layers[1].filters[0].bias: convolution 'filters': the bias of filter 0 "
        "must be a number, not '0.5'"),
    "a source that is not there": (
        lambda d: _layer(d, 2).update(source="nowhere"),
        "$.network.image_layers[2]: max pooling 'max pooling' takes its input from 'nowhere', "
        "which is not an image layer"),
    "a neuron as a source": (
        lambda d: _layer(d, 2).update(source="o"),
        "$.network.image_layers[2]: max pooling 'max pooling' takes its input from 'o', which "
        "is a neuron"),
    "softmax on a convolution": (
        lambda d: _layer(d, 1).update(activation="softmax"),
        "$.network.image_layers[1].activation: convolution 'filters': softmax works on the "
        "output neurons"),
    "a source for an image input": (
        lambda d: _layer(d, 0).update(source="conv"),
        "$.network.image_layers[0].source: image input 'image' takes its pixels from the "
        "dataset"),
    "a feature neuron listed as a neuron": (
        lambda d: d["network"]["neurons"].append({"id": "flat.9", "role": "feature",
                                                  "activation": "identity"}),
        "$.network.neurons[2].role: must be one of input, hidden, output"),
    "a neuron with a feature neuron's id": (
        lambda d: d["network"]["neurons"].append({"id": "flat.3", "role": "hidden",
                                                  "activation": "relu"}),
        "$.network.image_layers[3]: flatten 'flat' needs the ids flat.0 … flat.7 for its 8 "
        "feature neurons, but flat.3 is a neuron"),
    "a connection into a feature neuron": (
        lambda d: d["network"]["connections"][0].update(source="o", target="flat.0"),
        "$.network.connections[0]"),
    "a connection from an image layer": (
        lambda d: d["network"]["connections"][0].update(source="pool"),
        "$.network.connections[0].source: 'pool' is an image layer; connections join neurons"),
    "a connection with a layer's id": (
        lambda d: d["network"]["connections"][0].update(id="conv"),
        "$.network.connections[0].id: duplicate id 'conv' (already used at "
        "$.network.image_layers[1].id)"),
    "a dataset without the image": (
        lambda d: d["dataset"].update(inputs=[f"p{k}" for k in range(36)]),
        "$.dataset.inputs: the dataset has 0 image(s) but the network has 1 image input(s) "
        "('image' (1 × 6 × 6)); they must match one to one"),
    "a dataset image of another shape": (
        lambda d: d["dataset"].update(inputs=[{"image": "pixels", "shape": [1, 4, 9]}]),
        "$.dataset.inputs[0]: the dataset's image 'pixels' is 1 × 4 × 9 but image input "
        "'image' is 1 × 6 × 6; they must match"),
    "a dataset image after a named column": (
        lambda d: d["dataset"].update(inputs=["a", {"image": "pixels", "shape": [1, 5, 7]}]),
        "$.dataset.inputs[1]: the images come before the named input columns"),
    "a dataset image with a bad shape": (
        lambda d: d["dataset"]["inputs"][0].update(shape=[1, 6]),
        "$.dataset.inputs[0].shape: must be [channels, height, width]"),
    "a dataset image with an odd key": (
        lambda d: d["dataset"]["inputs"][0].update(colour="grey"),
        "$.dataset.inputs[0].colour: unknown key"),
    "rows too short for the image": (
        lambda d: d["dataset"]["X"][3].pop(),
        "$.dataset.X[3]: has 35 value(s), expected 36"),
    "an image layer whose id is a list": (
        lambda d: d["network"]["image_layers"][1].update(id=[]),
        "$.network.image_layers[1].id"),
    "an extra input neuron": (
        lambda d: d["network"]["neurons"].append({"id": "i", "role": "input",
                                                  "activation": "identity"}),
        "$.dataset.inputs: the dataset has 0 input column(s) besides its image but the network "
        "has 1 input neuron(s)"),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_a_bad_cnn_file_is_refused_naming_the_json_path(name):
    change, message = REFUSALS[name]
    refused(_edit(change), message)


def test_a_key_twice_in_an_image_layer_is_refused():
    text = project.dumps(cnn_project()).replace('"kind": "pooling",',
                                                 '"kind": "pooling", "kind": "pooling",', 1)
    with pytest.raises(project.ProjectError,
                       match=r"^\$\.network\.image_layers\[2\]\.kind: the key appears more "
                             r"than once"):
        project.loads(text)


def test_a_non_finite_number_in_an_image_layer_is_named_where_it_is():
    text = project.dumps(cnn_project())
    text = re.sub(r'(\{"weights": \[\[\[)0\.0', r"\g<1>NaN", text, count=1)
    with pytest.raises(project.ProjectError,
                       match=r"^\$\.network\.image_layers\[1\]\.filters\[0\]\.weights\[0\]"
                             r"\[0\]\[0\]: must be a finite number, got NaN$"):
        project.loads(text)


def test_feature_neurons_count_against_the_neuron_limit(monkeypatch):
    doc = cnn_doc()
    monkeypatch.setattr(project.network_section, "MAX_NEURONS", 9)
    refused(doc, "$.network.image_layers: 2 neurons and 8 feature neurons of flatten "
            "layers is more than the limit of 9 neurons")


def test_a_refused_file_builds_nothing():
    doc = cnn_doc()
    before = copy.deepcopy(doc)
    _layer(doc, 2)["window"] = 5
    with pytest.raises(project.ProjectError):
        project.from_dict(doc)
    _layer(doc, 2)["window"] = 2
    assert doc == before


def test_the_filters_of_a_file_have_a_weight_limit(monkeypatch):
    doc = cnn_doc()
    monkeypatch.setattr(project.network_section, "MAX_FILTER_WEIGHTS", 17)
    refused(doc, "$.network.image_layers[1].filters: the filters of the image layers up to "
            "here hold 18 weights, more than the limit of 17")


def _huge(doc: dict, side: int, filters: int, pool: int) -> dict:
    """The sample's layers asking for big maps: a side × side image, ``filters`` 1 × 1
    filters, a pooling of window and stride ``pool``, no connections and no rows."""
    _layer(doc, 0)["shape"] = [1, side, side]
    _layer(doc, 1)["filters"] = [{"weights": [[[1.0]]], "bias": 0.0}] * filters
    _layer(doc, 2).update(window=pool, stride=pool)
    doc["network"]["connections"] = []
    doc["dataset"]["inputs"][0]["shape"] = [1, side, side]
    doc["dataset"]["X"], doc["dataset"]["Y"] = [], []
    return doc


def test_a_file_asking_for_a_million_flatten_nodes_is_refused_before_making_any():
    import tracemalloc

    doc = _huge(cnn_doc(), 128, 64, 1)   # 64 maps of 128 × 128, each kept by the pooling
    tracemalloc.start()
    try:
        refused(doc, "$.network.image_layers[1]: the image layers' maps would hold 2,113,536 "
                "values per sample (convolution 'filters' alone 1,048,576), more than the "
                "limit of 1,000,000; use fewer filters, a stride, or pool earlier")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, f"refusing it took {peak / 1e6:.0f} MB"   # no node was ever made
    doc = _huge(cnn_doc(), 128, 1, 1)    # small maps, but a flatten of 16,384 nodes
    refused(doc, "$.network.image_layers[3]: flatten 'flat' would make 16,384 nodes (from "
            "1 map of 128 × 128), and a network's flatten layers make at most 10,000 in all")
    doc = _huge(cnn_doc(), 128, 1, 2)    # pooled first: 4,096 nodes are fine
    assert len(project.loads(json.dumps(doc)).network.feature_neurons("flat")) == 64 * 64

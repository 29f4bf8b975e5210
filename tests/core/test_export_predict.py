"""Headless predict: the outputs for every row of the project's dataset or of a CSV file, as
lines or JSON; a bad CSV is refused with its line and column."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnstudio.core.engine import Engine
from nnstudio.core.export import export
from nnstudio.core.export.predict import PredictError, parse_inputs, predict, read_inputs
from tests.core.export_cases import SAMPLES, sample


def _sample(stem):
    return sample(next(p for p in SAMPLES if p.stem == stem))


def test_the_dataset_rows_by_default():
    proj = _sample("xor")
    result = predict(proj)
    expected = Engine.compile(proj.network).predict(proj.dataset.X)
    np.testing.assert_array_equal(result.outputs, expected)
    lines = result.lines()
    assert len(lines) == len(proj.dataset)
    values, cls = lines[0].rsplit(", ", 1)
    assert float(values) == expected[0, 0]  # every digit (repr)
    assert cls in proj.dataset.class_names
    d = json.loads(json.dumps(result.to_json()))
    assert d["inputs"] == ["x1", "x2"] and d["outputs"] == proj.dataset.target_names
    assert d["rows"] == 4 and d["predictions"] == expected.tolist()
    assert d["classes"] == proj.dataset.class_names_of(expected)


def test_json_has_no_nan():
    proj = _sample("linear-regression")
    proj.network.set_param(next(iter(proj.network.connections)), 10.0)
    d = predict(proj, np.array([[1e308]])).to_json()  # 10 x 1e308 overflows
    assert d["predictions"] == [[None]]
    json.dumps(d, allow_nan=False)


def test_regression_has_no_classes():
    result = predict(_sample("linear-regression"))
    assert result.classes is None and "classes" not in result.to_json()
    assert all(", " not in line for line in result.lines())


def test_csv_columns_by_name_in_any_order_with_extras():
    proj = _sample("fruit-classifier")
    names = proj.dataset.input_names
    text = "note," + ",".join(reversed(names)) + "\n"
    for row in proj.dataset.X[:3]:
        text += "any," + ",".join(repr(float(v)) for v in reversed(row)) + "\n"
    X = parse_inputs(proj, text)
    np.testing.assert_array_equal(X, proj.dataset.X[:3])


def test_csv_columns_by_position_inputs_or_inputs_and_targets():
    proj = _sample("xor")
    assert parse_inputs(proj, "a,b\n1,0\n\n0,1\n").tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert parse_inputs(proj, "a,b,t\n1,0,1\n").tolist() == [[1.0, 0.0]]


@pytest.mark.parametrize("text, pattern", [
    ("", "empty"),
    ("a,b,c,d\n1,2,3,4\n", "not the network's 2 input"),
    ("x1,x2\n1,oops\n", r"line 2, column 2 \('x2'\): 'oops' is not a number"),
    ("x1,x2\n1\n", "line 2: expected 2 cells"),
    ("x1,x2\n1,nan\n", "not a finite number"),
])
def test_bad_csv_is_refused_with_where(text, pattern):
    with pytest.raises(PredictError, match=pattern):
        parse_inputs(_sample("xor"), text)


def test_a_csv_to_predict_has_the_dataset_imports_limits():
    """One CSV reader (datasets.CsvTable): a huge header or table is refused as the dataset
    import refuses it, before it is held."""
    from nnstudio.core import datasets

    wide = ",".join(f"c{k}" for k in range(2 * datasets.MAX_COLUMNS + 1))
    with pytest.raises(PredictError, match="columns is more than the limit"):
        parse_inputs(_sample("xor"), wide + "\n")
    header = "x1,x2," + ",".join(f"note{k}" for k in range(998))  # 1000 columns, by name
    rows = datasets.MAX_CELLS // 1000 + 1
    with pytest.raises(PredictError, match=f"line {rows + 1}: {rows} rows x 1000 columns is "
                                           "more than the limit"):
        parse_inputs(_sample("xor"), header + "\n" + ("0," * 999 + "0\n") * rows)


def test_read_inputs_from_a_file(tmp_path):
    proj = _sample("xor")
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbfx1,x2\n1,1\n")
    assert read_inputs(proj, path).tolist() == [[1.0, 1.0]]
    path.write_bytes(b"x1,x2\n1,\xff\n")
    with pytest.raises(PredictError, match="line 2: the file is not UTF-8"):
        read_inputs(proj, path)
    with pytest.raises(PredictError, match="cannot read"):
        read_inputs(proj, tmp_path / "missing.csv")


def test_rows_of_the_wrong_width_are_refused():
    with pytest.raises(PredictError, match="3 column"):
        predict(_sample("xor"), np.zeros((2, 3)))


def test_export_writes_each_format(tmp_path):
    proj = _sample("xor")
    assert export(proj, "numpy", tmp_path / "m.py") == [str(tmp_path / "m.py")]
    written = export(proj, "pytorch", tmp_path / "t.py")
    assert written == [str(tmp_path / "t.py"), str(tmp_path / "t.csv")]
    with pytest.raises(ValueError, match="unknown export format 'keras'"):
        export(proj, "keras", tmp_path / "k")


def _cnn_project(rows: int = 3):
    from nnstudio.core.datasets import Dataset
    from nnstudio.core.project import Project
    from nnstudio.core.trainer import TrainSettings
    from tests.core.test_image_layers import cnn

    net = cnn()
    X = np.random.default_rng(0).uniform(0, 1, size=(rows, 36))
    ds = Dataset([f"p{k}" for k in range(36)], ["O", "X"], X, np.eye(2)[[0, 1, 0][:rows]])
    return Project(net, ds, TrainSettings(loss="cross_entropy"), "", "cnn")


def test_predict_reads_an_image_inputs_pixels():
    proj = _cnn_project()
    result = predict(proj)
    np.testing.assert_array_equal(result.outputs,
                                  Engine.compile(proj.network).predict(proj.dataset.X))
    assert result.input_names == proj.dataset.input_names
    X = parse_inputs(proj, ",".join(f"c{k}" for k in range(36)) + "\n" + ",".join(["0.5"] * 36))
    assert X.shape == (1, 36)
    with pytest.raises(PredictError, match="the rows have 2 column"):
        predict(proj, np.zeros((1, 2)))

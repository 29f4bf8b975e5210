"""Datasets: construction checks, classes, generators, CSV import/export."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio.core import datasets
from nnstudio.core.datasets import Dataset, DatasetError


# ---------------------------------------------------------------------- construction
def test_dataset_basics_and_copy_is_independent():
    ds = Dataset(["a", "b"], ["y"], [[1, 2], [3, 4]], [[5], [6]])
    assert len(ds) == 2 and ds.n_inputs == 2 and ds.n_targets == 1
    assert ds.X.dtype == np.float64 and not ds.is_classification
    c = ds.copy()
    c.X[0, 0] = 99.0
    assert ds.X[0, 0] == 1.0
    assert Dataset.from_dict(ds.to_dict()) == ds


@pytest.mark.parametrize("bad, fragment", [
    ({"X": [[1.0, float("nan")]], "Y": [[0.0]]}, "row 1, column 2 is nan"),
    ({"X": [[1.0, 2.0]], "Y": [[float("inf")]]}, "row 1, column 1 is inf"),
    ({"X": [[1.0, 2.0], [3.0, 4.0]], "Y": [[0.0]]}, "1 row(s), expected 2"),
    ({"X": [[1.0]], "Y": [[0.0]]}, "1 column(s) but 2 name(s)"),
    ({"X": [["a", 2.0]], "Y": [[0.0]]}, "table of numbers"),
])
def test_dataset_refuses_bad_tables(bad, fragment):
    with pytest.raises(DatasetError) as e:
        Dataset(["a", "b"], ["y"], **bad)
    assert fragment in str(e.value)


def test_dataset_refuses_bad_names():
    with pytest.raises(DatasetError, match="used twice"):
        Dataset(["a", "a"], ["y"], [[1, 2]], [[0]])
    with pytest.raises(DatasetError, match="used twice"):
        Dataset(["a"], ["a"], [[1]], [[0]])
    with pytest.raises(DatasetError, match="empty"):
        Dataset([" "], ["y"], [[1]], [[0]])
    with pytest.raises(DatasetError, match="at least one input"):
        Dataset([], ["y"], np.zeros((1, 0)), [[0]])
    with pytest.raises(DatasetError, match="at least one target"):
        Dataset(["a"], [], [[1]], np.zeros((1, 0)))


def test_dataset_refuses_too_many_rows(monkeypatch):
    monkeypatch.setattr(datasets, "MAX_ROWS", 10)
    with pytest.raises(DatasetError, match="limit of 10"):
        Dataset(["a"], ["y"], np.zeros((11, 1)), np.zeros((11, 1)))


def test_empty_dataset_is_allowed():
    ds = Dataset(["a"], ["y"], [], [])
    assert len(ds) == 0 and ds.X.shape == (0, 1) and ds.Y.shape == (0, 1)


# ---------------------------------------------------------------------- classes
def test_softmax_outputs_map_to_class_names():
    Y = np.eye(3)[[0, 1, 2, 1]]
    ds = Dataset(["w"], ["apple", "banana", "orange"], [[1], [2], [3], [4]], Y,
                 ["apple", "banana", "orange"])
    outputs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    assert ds.classes_of(outputs).tolist() == [0, 1, 2, 0]
    assert ds.class_names_of(outputs) == ["apple", "banana", "orange", "apple"]
    assert ds.labels().tolist() == [0, 1, 2, 1]
    assert ds.accuracy(outputs) == 0.75
    assert ds.accuracy(Y) == 1.0


def test_single_output_classes_threshold_at_one_half():
    ds = Dataset(["x"], ["y"], [[0], [1], [2]], [[0], [1], [1]], ["no", "yes"])
    assert ds.classes_of([0.49, 0.5, 0.9]).tolist() == [0, 1, 1]
    assert ds.accuracy(np.array([[0.1], [0.2], [0.9]])) == pytest.approx(2 / 3)


def test_class_name_checks():
    with pytest.raises(DatasetError, match="exactly 2 class names"):
        Dataset(["x"], ["y"], [[0]], [[1]], ["a", "b", "c"])
    with pytest.raises(DatasetError, match="must be 0 or 1"):
        Dataset(["x"], ["y"], [[0]], [[0.5]], ["a", "b"])
    with pytest.raises(DatasetError, match="one-hot"):
        Dataset(["x"], ["a", "b"], [[0]], [[1, 1]], ["a", "b"])
    with pytest.raises(DatasetError, match="need 2 class names"):
        Dataset(["x"], ["a", "b"], [[0]], [[1, 0]], ["a"])
    with pytest.raises(DatasetError, match="unique"):
        Dataset(["x"], ["a", "b"], [[0]], [[1, 0]], ["a", "a"])
    with pytest.raises(DatasetError, match="regression"):
        Dataset(["x"], ["y"], [[0]], [[1]]).classes_of([[1]])


# ---------------------------------------------------------------------- generators
@pytest.mark.parametrize("name", datasets.NAMES)
def test_every_generator_is_seeded_sized_and_finite(name):
    a = datasets.generate(name, seed=3, size=40, noise=0.1)
    b = datasets.generate(name, seed=3, size=40, noise=0.1)
    c = datasets.generate(name, seed=4, size=40, noise=0.1)
    assert len(a) == 40 and a == b
    assert np.isfinite(a.X).all() and np.isfinite(a.Y).all()
    assert not (a == c), "a different seed gives different noise"
    d = datasets.generate(name)  # defaults
    assert len(d) == datasets.GENERATORS[name].size


@pytest.mark.parametrize("name, table", [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]),
])
def test_logic_gates_are_exact_truth_tables(name, table):
    ds = datasets.generate(name)
    assert ds.X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert ds.Y[:, 0].tolist() == table
    assert ds.class_names == ["0", "1"]


def test_dosage_and_line_match_seed_001():
    d = datasets.generate("dosage", seed=0, size=3, noise=0.0)
    assert d.X[:, 0].tolist() == [0.0, 0.5, 1.0]
    assert d.Y[:, 0].tolist() == [0.0, 1.0, 0.0]
    assert d.input_names == ["dosage"]
    line = datasets.generate("line")
    assert line.X[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert line.Y[:, 0].tolist() == [1, 3, 5, 7, 9]


def test_geometry_of_circles_gaussians_spiral_sine():
    c = datasets.generate("circles", noise=0.0, size=100)
    r = np.hypot(c.X[:, 0], c.X[:, 1])
    assert np.allclose(r[c.Y[:, 0] == 0], 0.5) and np.allclose(r[c.Y[:, 0] == 1], 1.0)
    g = datasets.generate("gaussians", size=400)
    assert g.X[g.Y[:, 0] == 0].mean() < -0.8 and g.X[g.Y[:, 0] == 1].mean() > 0.8
    s = datasets.generate("spiral", noise=0.0, size=200)
    assert s.Y.sum() == 100 and np.hypot(*s.X.T).max() == pytest.approx(1.0)
    sine = datasets.generate("sine", size=5)
    assert np.allclose(sine.Y[:, 0], np.sin(sine.X[:, 0]))


@pytest.mark.parametrize("kw, fragment", [
    ({"seed": -1}, "seed"), ({"size": 0}, "size"), ({"size": 10**9}, "size"),
    ({"noise": float("nan")}, "noise"), ({"noise": -1}, "noise"),
])
def test_generator_arguments_are_checked(kw, fragment):
    with pytest.raises(DatasetError, match=fragment):
        datasets.generate("circles", **kw)
    with pytest.raises(DatasetError, match="unknown generator 'moons'"):
        datasets.generate("moons")


# ---------------------------------------------------------------------- CSV
def test_csv_reads_header_and_last_columns_as_targets(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a, b ,c,t1,t2\n1,2,3,4,5\n\n6,7,8,9,10\n", encoding="utf-8")
    ds = datasets.read_csv(p, n_targets=2)
    assert ds.input_names == ["a", "b", "c"] and ds.target_names == ["t1", "t2"]
    assert ds.X.tolist() == [[1, 2, 3], [6, 7, 8]] and ds.Y.tolist() == [[4, 5], [9, 10]]


@pytest.mark.parametrize("text, fragment", [
    ("a,y\n1,2\n3,abc\n", "line 3, column 2 ('y'): 'abc' is not a number"),
    ("a,y\n1,2\nnan,3\n", "line 3, column 1 ('a'): 'nan' is not a finite number"),
    ("a,y\n1,2\n3,inf\n", "line 3, column 2 ('y'): 'inf' is not a finite number"),
    ("a,y\n1,2\n,3\n", "line 3, column 1 ('a'): the cell is empty"),
    ("a,y\n1,2,3\n", "line 2: expected 2 cells (as in the header), found 3"),
    ("a,,y\n1,2,3\n", "line 1, column 2: the header cell is empty"),
    ("a,a\n1,2\n", "used twice"),
    ("", "the CSV file is empty"),
    ("y\n1\n", "cannot hold 1 target column(s) and at least one input"),
    ('a,y\n"1,2\n', "line"),
])
def test_csv_bad_cells_name_line_and_column(tmp_path, text, fragment):
    p = tmp_path / "bad.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError) as e:
        datasets.read_csv(p)
    msg = str(e.value)
    assert fragment in msg and "\n" not in msg


def test_csv_not_utf8_and_missing_file(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes(b"a,y\n1,2\n\xff,3\n")
    with pytest.raises(DatasetError, match="line 3: the file is not UTF-8"):
        datasets.read_csv(p)
    with pytest.raises(DatasetError, match="cannot read"):
        datasets.read_csv(tmp_path / "nope.csv")
    with pytest.raises(DatasetError, match="cannot write .*No such file"):
        datasets.write_csv(datasets.generate("xor"), tmp_path / "no" / "dir.csv")


def test_csv_class_labels_become_one_hot(tmp_path):
    p = tmp_path / "fruit.csv"
    p.write_text("\ufeffweight,colour,fruit\n1.5,0,apple\n1.2,0.6,banana\n1.4,0.3,orange\n"
                 "1.6,0,apple\n", encoding="utf-8")
    ds = datasets.read_csv(p, labels=True)
    assert ds.input_names == ["weight", "colour"]
    assert ds.class_names == ["apple", "banana", "orange"] == ds.target_names
    assert ds.Y.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    out = tmp_path / "out.csv"
    datasets.write_csv(ds, out)  # writes a label column back
    assert out.read_text().splitlines()[0] == "weight,colour,class"
    assert datasets.read_csv(out, labels=True) == ds
    p.write_text("w,fruit\n1,apple\n2,apple\n")
    with pytest.raises(DatasetError, match="at least 2"):
        datasets.read_csv(p, labels=True)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 6).flatmap(lambda n: st.tuples(
    st.lists(st.lists(finite, min_size=2, max_size=2), min_size=n, max_size=n),
    st.lists(st.lists(finite, min_size=1, max_size=1), min_size=n, max_size=n))))
def test_csv_round_trip_is_exact(tmp_path_factory, data):
    X, Y = data
    ds = Dataset(["x1", "x 2"], ["y,1"], np.array(X).reshape(len(X), 2),
                 np.array(Y).reshape(len(Y), 1))
    path = tmp_path_factory.mktemp("csv") / "d.csv"
    datasets.write_csv(ds, path)
    back = datasets.read_csv(path)
    assert back == ds
    assert back.X.tobytes() == ds.X.tobytes() and back.Y.tobytes() == ds.Y.tobytes()
    assert [f for f in os.listdir(path.parent) if f.endswith(".tmp")] == []

"""Writing exported files: atomically, all or nothing, a disk problem named by its file."""

from __future__ import annotations

import os

import pytest

from nnstudio.core import export
from nnstudio.core.export import OutputError, pytorch
from nnstudio.core.export.output import write_files
from tests.core.export_cases import SAMPLES, sample


def _xor():
    return sample(next(p for p in SAMPLES if p.stem == "xor"))


def test_write_files_writes_each_in_order(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    assert write_files([(a, b"one"), (b, b"two")]) == [str(a), str(b)]
    assert a.read_bytes() == b"one" and b.read_bytes() == b"two"


def test_a_failed_second_file_removes_the_first_it_created(tmp_path):
    a = tmp_path / "a.txt"
    missing = tmp_path / "no such folder" / "b.txt"
    with pytest.raises(OutputError) as e:
        write_files([(a, b"one"), (missing, b"two")])
    assert not a.exists()
    assert e.value.path == str(missing)
    assert str(e.value) == f"cannot write {str(missing)!r}: No such file or directory"
    assert isinstance(e.value, export.ExportError)


def test_a_file_that_existed_is_kept_whole(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"old")
    with pytest.raises(OutputError):
        write_files([(a, b"new"), (tmp_path / "gone" / "b.txt", b"two")])
    assert a.read_bytes() == b"new"  # replaced whole, never removed or half-written


def test_a_pytorch_export_into_a_missing_folder_leaves_nothing(tmp_path):
    out = tmp_path / "missing" / "xor.py"
    with pytest.raises(OutputError, match="No such file or directory"):
        export.export(_xor(), "pytorch", out)
    assert not out.parent.exists()


def test_the_pytorch_csv_is_removed_when_the_script_cannot_be_written(tmp_path):
    out = tmp_path / "xor.py"
    out.mkdir()  # a folder where the script should go: the CSV beside it is written first
    with pytest.raises(OutputError) as e:
        pytorch.write(_xor(), out)
    assert e.value.path == str(out)
    assert not (tmp_path / "xor.csv").exists()
    assert os.listdir(tmp_path) == ["xor.py"]


@pytest.mark.parametrize("fmt, dtype, message", [
    ("keras", "float64", "unknown export format 'keras' (known: pytorch, numpy, onnx)"),
    ("onnx", "float16", "the number type must be one of float64, float32, not 'float16'"),
    ("numpy", "float32", "the numpy script computes in float64; only an ONNX model can be "
                         "float32"),
])
def test_bad_export_options_are_refused_before_anything_is_written(tmp_path, fmt, dtype,
                                                                   message):
    with pytest.raises(export.ExportError) as e:
        export.export(_xor(), fmt, tmp_path / "out", dtype)
    assert str(e.value) == message
    assert os.listdir(tmp_path) == []


def test_the_onnx_suffix_is_the_one_a_model_opens_by():
    from nnstudio.core import opening

    assert export.SUFFIXES["onnx"] == opening.MODEL_SUFFIX
    assert opening.is_model_file("A/Model.ONNX") and not opening.is_model_file("m.nnproj")

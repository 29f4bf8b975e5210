"""Hostile and careless project and CSV files: refused before they can block, exhaust memory
or produce a message too long to read; and the files the loader accepts can be saved."""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnstudio import paths
from nnstudio.core import datasets, files, messages, project
from nnstudio.core.project import ProjectError, parsing

XOR = paths.SAMPLES / "xor.nnproj"


def xor_doc() -> dict:
    return json.loads(XOR.read_text(encoding="utf-8"))


def refused(text: str | bytes, *parts: str) -> str:
    with pytest.raises(ProjectError) as e:
        project.loads(text)
    msg = str(e.value)
    assert "\n" not in msg and len(msg) <= messages.MAX_MESSAGE, msg
    for part in parts:
        assert part in msg, msg
    return msg


# ---------------------------------------------------------------------- not regular files
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("reader", ["project", "csv"])
def test_a_fifo_is_refused_without_blocking(tmp_path, reader):
    fifo = tmp_path / "f.nnproj"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading would block forever
    with pytest.raises(ValueError, match="named pipe"):
        if reader == "project":
            project.load(fifo)
        else:
            datasets.read_csv(fifo)


def test_a_device_is_refused(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    with pytest.raises(ProjectError, match="is a device, not a project file"):
        project.load("/dev/zero")


def test_a_folder_and_a_missing_file_are_refused(tmp_path):
    with pytest.raises(ProjectError, match="is a folder"):
        project.load(tmp_path)
    with pytest.raises(ProjectError, match="cannot read"):
        project.load(tmp_path / "missing.nnproj")


def test_a_long_path_is_clipped_in_the_message(tmp_path):
    deep = tmp_path / ("d" * 200) / ("e" * 200)
    deep.mkdir(parents=True)
    with pytest.raises(ProjectError) as e:
        project.load(deep / "missing.nnproj")
    assert len(str(e.value)) < 250 and "missing.nnproj" in str(e.value)


# ---------------------------------------------------------------------- counted before parsing
@pytest.mark.parametrize("item, what", [
    ("{}", "objects"), ("[0]", "lists"), ("0", "values"), ('""', "values"), ("[]", "lists"),
])
def test_many_tiny_items_are_refused_before_the_parser_builds_them(item, what):
    n = {"objects": parsing.MAX_OBJECTS, "lists": parsing.MAX_LISTS,
         "values": parsing.MAX_VALUES}[what] + 10
    text = '{"format": "nnstudio-project", "format_version": 1, "junk": [' \
        + ",".join([item] * n) + "]}"
    msg = refused(text, f"JSON {what}", "the largest project can have")
    assert msg.startswith("the file holds")


def test_the_limits_leave_room_for_the_largest_valid_project():
    """The counts a maximal project needs (every limit of the format at once) stay within
    the pre-parse limits, computed from a small project scaled up."""
    doc = xor_doc()
    text = json.dumps(doc)
    c = parsing.scan(text)
    n_neurons, n_conns = len(doc["network"]["neurons"]), len(doc["network"]["connections"])
    rows, cols = len(doc["dataset"]["X"]), 3
    per_neuron = 16  # fields of a neuron object, at most
    assert c.objects <= n_neurons + n_conns + 10
    need_values = (datasets.MAX_CELLS + 2 * datasets.MAX_ROWS + 6 * project.MAX_CONNECTIONS
                   + per_neuron * project.MAX_NEURONS)
    assert need_values <= parsing.MAX_VALUES
    assert project.MAX_NEURONS + project.MAX_CONNECTIONS <= parsing.MAX_OBJECTS
    assert 2 * datasets.MAX_ROWS <= parsing.MAX_LISTS
    assert rows * cols <= datasets.MAX_CELLS


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from('ab"\\[]{},\n\u00e9\U0001F600'), max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet=st.sampled_from('k"\\[]{},'), max_size=4), inner,
                      max_size=4),
    max_leaves=30)


def reference_counts(v, depth=1):
    """(depth, objects, lists, values + empty containers) by walking the parsed value."""
    if isinstance(v, dict):
        parts = [reference_counts(x, depth + 1) for x in v.values()]
        own = (depth, 1, 0, 1 + (not v))
    elif isinstance(v, list):
        parts = [reference_counts(x, depth + 1) for x in v]
        own = (depth, 0, 1, 1 + (not v))
    else:
        return (depth - 1, 0, 0, 1)
    return (max([own[0], *(p[0] for p in parts)]), own[1] + sum(p[1] for p in parts),
            own[2] + sum(p[2] for p in parts), own[3] + sum(p[3] for p in parts))


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_scan_counts_what_the_parser_builds(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    c = parsing.scan(text)
    assert (c.depth, c.objects, c.lists, c.values) == reference_counts(value)
    assert parsing.scan(text.encode("utf-8")) == c


def test_scan_works_across_chunks(monkeypatch):
    monkeypatch.setattr(parsing, "_CHUNK", 7)
    value = {"a[": ["x{,\\\"", [1, {"b": [2, 3]}], "]]"], "c": {}}
    text = json.dumps(value)
    c = parsing.scan(text)
    assert (c.depth, c.objects, c.lists, c.values) == reference_counts(value)


# ---------------------------------------------------------------------- short messages
def test_a_huge_activation_name_gives_a_short_message():
    doc = xor_doc()
    doc["network"]["neurons"][2]["activation"] = "x" * 1_000_000
    msg = refused(json.dumps(doc), "$.network.neurons[2].activation: unknown activation",
                  "1,000,000 characters")
    assert len(msg) < 300


@pytest.mark.parametrize("where", ["loss", "optimizer", "init"])
def test_a_huge_setting_gives_a_short_message(where):
    doc = xor_doc()
    doc["settings"][where] = "y" * 500_000
    assert len(refused(json.dumps(doc), f"$.settings.{where}")) < 300


def test_huge_ids_and_names_give_short_messages():
    doc = xor_doc()
    doc["network"]["connections"][0]["source"] = "n" * 100_000
    assert len(refused(json.dumps(doc), "$.network.connections[0].source")) < 300
    doc = xor_doc()
    doc["network"]["neurons"][0]["id"] = "i\n" * 50_000
    assert len(refused(json.dumps(doc), "$.network.neurons[0].id")) < 300


def test_a_huge_csv_header_gives_a_short_message():
    text = "x,y\n" + "0," + "z" * 100_000 + "\n"
    with pytest.raises(datasets.DatasetError) as e:
        datasets.parse_csv("a" * 100_000 + ",y\nq,1\n")
    assert len(str(e.value)) < 300
    with pytest.raises(datasets.DatasetError) as e:
        datasets.parse_csv(text)
    assert len(str(e.value)) < 300


def test_a_csv_with_too_many_cells_is_refused_while_reading():
    wide = ",".join(f"c{i}" for i in range(1000))
    row = ",".join(["0"] * 1000)
    rows = datasets.MAX_CELLS // 1000 + 5
    crossing = f"line {rows - 3}: {rows - 4} rows x 1000 columns is more than the limit"
    with pytest.raises(datasets.DatasetError, match=crossing):
        datasets.parse_csv(wide + "\n" + "\n".join([row] * rows))
    with pytest.raises(datasets.DatasetError, match="columns is more than the limit"):
        datasets.parse_csv(",".join(["a"] * (2 * datasets.MAX_COLUMNS + 1)) + "\n")


def test_messages_quote_and_clip():
    assert messages.quote("abc") == "'abc'"
    q = messages.quote("z" * 1000)
    assert q.startswith("'zzz") and q.endswith("(1,000 characters)") and len(q) < 100
    line = messages.one_line("a\nb\tc  d" + "e" * 10_000)
    assert line.startswith("a b c d") and len(line) == messages.MAX_MESSAGE
    assert messages.one_line("x\ud800") == "x\\ud800"
    assert len(str(ProjectError("w" * 10_000))) == messages.MAX_MESSAGE


# ---------------------------------------------------------------------- accepted means saveable
def test_an_id_ending_in_a_line_break_is_refused():
    doc = xor_doc()
    doc["network"]["neurons"][2]["id"] = "h1\n"
    refused(json.dumps(doc), "$.network.neurons[2].id", "is not a valid id")


@pytest.mark.parametrize("setter, path", [
    (lambda d: d["network"]["neurons"][2].__setitem__("label", "h\ud800"),
     "$.network.neurons[2].label"),
    (lambda d: d.__setitem__("name", "n\udfff"), "$.name"),
    (lambda d: d.__setitem__("description", "# lesson \ud83d"), "$.description"),
    (lambda d: d["dataset"]["inputs"].__setitem__(0, "x\ud800"), "$.dataset.inputs[0]"),
])
def test_a_lone_surrogate_is_refused_at_load_naming_the_field(setter, path):
    doc = xor_doc()
    setter(doc)
    text = json.dumps(doc)  # ensure_ascii: the surrogate travels as a \\udxxx escape
    refused(text, path, "lone UTF-16 surrogate")


def test_a_surrogate_pair_is_one_character_and_fine():
    doc = xor_doc()
    doc["name"] = "fruit \U0001F34E"
    p = project.loads(json.dumps(doc))
    assert p.name == "fruit \U0001F34E"
    assert project.loads(project.dumps(p)).name == p.name


def test_a_whole_number_too_long_for_exactness_is_read_like_its_float():
    doc = xor_doc()
    text = json.dumps(doc)
    w = doc["network"]["connections"][0]["weight"]
    big = text.replace(json.dumps(w), "100000000000000000000", 1)
    sci = text.replace(json.dumps(w), "1e20", 1)
    cid = doc["network"]["connections"][0]["id"]
    a, b = project.loads(big), project.loads(sci)
    assert a.network.get_param(cid) == b.network.get_param(cid) == 1e20
    assert project.loads(project.dumps(a)).network.get_param(cid) == 1e20


# ---------------------------------------------------------------------- stale temporaries
def test_a_save_removes_stale_temporaries_of_its_own_pattern_only(tmp_path):
    target = tmp_path / "p.nnproj"
    stale = tmp_path / ".p.nnproj.ab12cd_9.tmp"
    fresh = tmp_path / ".p.nnproj.zz12cd_9.tmp"
    other = tmp_path / ".q.nnproj.ab12cd_9.tmp"
    unlike = tmp_path / ".p.nnproj.backup.tmp"
    for f in (stale, fresh, other, unlike):
        f.write_bytes(b"x" * 100)
    old = time.time() - 3600
    for f in (stale, other, unlike):
        os.utime(f, (old, old))
    project.save(project.loads(XOR.read_bytes()), target)
    assert not stale.exists()
    assert fresh.exists() and other.exists() and unlike.exists()
    assert files.temporaries_of(target) == [str(fresh)]
    assert project.load(target).name == project.load(XOR).name

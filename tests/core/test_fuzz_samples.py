"""Fuzzing the loader with the shipped samples, mutated: every load either succeeds, and then
the project saves and loads back to the same text, or raises ProjectError with one short line.
Nothing else: no other exception, no hang, no message that quotes a whole huge value."""

from __future__ import annotations

import copy
import json
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio import paths
from nnstudio.core import messages, project

SAMPLES = [p.name for p in paths.samples()]


@cache
def sample_text(name: str) -> str:
    return (paths.SAMPLES / name).read_text(encoding="utf-8")


def check_load(data: str | bytes) -> None:
    try:
        proj = project.loads(data)
    except project.ProjectError as e:
        msg = str(e)
        assert msg and "\n" not in msg and len(msg) <= messages.MAX_MESSAGE, msg
        return
    text = project.dumps(proj)
    assert project.dumps(project.loads(text)) == text


# ---------------------------------------------------------------------- JSON-level mutations
hostile_values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.text(alphabet=st.sampled_from("\t\n\r\x00\x7f\u2028 a"), max_size=5),
    st.just("x" * 5000), st.just("h1\n"), st.just(""), st.just([]), st.just({}),
    st.just([[[[[[[[[[[]]]]]]]]]]]), st.just({"id": ["x"]}), st.just([1, "a", None]),
    st.sampled_from(["relu", "softmax", "identity", "input", "output", "hidden", "bce",
                     "cross_entropy", "gd", "adam"]),
)
RAW_TOKENS = ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 25, "-0.0", "1e-400",
              '"\\ud800"', '"\\udfff x"', '"a\\u0000b"', "[" * 70 + "]" * 70]


def paths_in(value, prefix=()):
    """Every (path, value) in a JSON document."""
    yield prefix, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths_in(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:6]):  # (the first rows stand for all)
            yield from paths_in(v, (*prefix, i))


def put(doc, path, value):
    if not path:
        return value
    target = doc
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    return doc


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_every_field_mutated_is_loaded_or_refused_in_one_line(name, data):
    doc = json.loads(sample_text(name))
    where = list(paths_in(doc))
    for _ in range(data.draw(st.integers(1, 3))):
        path, _old = where[data.draw(st.integers(0, len(where) - 1))]
        action = data.draw(st.sampled_from(["replace", "delete", "raw"]))
        if action == "delete" and path:
            parent = doc
            for k in path[:-1]:
                parent = parent[k]
            try:
                del parent[path[-1]]
            except (KeyError, IndexError, TypeError):
                pass
            where = list(paths_in(doc))
            continue
        if action == "raw":
            marker = "__RAW_TOKEN__"
            doc = put(doc, path, marker)
            text = json.dumps(doc).replace(json.dumps(marker), data.draw(st.sampled_from(
                RAW_TOKENS)), 1)
            check_load(text)
            return
        doc = put(doc, path, copy.deepcopy(data.draw(hostile_values)))  # (never share one)
        where = list(paths_in(doc))
    check_load(json.dumps(doc))


# ---------------------------------------------------------------------- byte-level mutations
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_truncated_flipped_and_junk_bytes_are_loaded_or_refused_in_one_line(name, data):
    raw = bytearray(sample_text(name).encode("utf-8"))
    kind = data.draw(st.sampled_from(["truncate", "flip", "insert", "junk"]))
    if kind == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    elif kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] = data.draw(st.integers(0, 255))
    elif kind == "insert":
        i = data.draw(st.integers(0, len(raw)))
        raw[i:i] = data.draw(st.binary(min_size=1, max_size=40))
    else:
        raw = bytearray(data.draw(st.binary(max_size=200)))
    check_load(bytes(raw))


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_round_trips(name):
    check_load(sample_text(name))

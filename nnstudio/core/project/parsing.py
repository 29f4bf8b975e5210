"""The first stage of loading: project-file text to plain Python values, strictly.

Strict JSON only: malformed text is refused with its line and column. Before the parser meets
the text, one cheap vectorised pass over its bytes (:func:`scan`) counts what the parser would
build, and a file larger than :data:`MAX_FILE_BYTES`, nested deeper than :data:`MAX_NESTING`,
or holding more objects, lists or values than the largest valid project can have
(:data:`MAX_OBJECTS`, :data:`MAX_LISTS`, :data:`MAX_VALUES`) is refused without building an
object tree of millions of items: any file that passes the size check is loaded or refused
in seconds and in bounded memory. NaN, Infinity and numbers too large for a float become
:class:`BadNumber` markers (a whole number too long for a float's exactness is read as the
float it is closest to, as ``1e21`` would be) and an object with a key twice becomes
:class:`DuplicateKeys`, so that validation can name where they occur. Nothing is ever
unpickled or evaluated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import datasets
from .checks import BadNumber, DuplicateKeys, ProjectError
from .network_section import MAX_CONNECTIONS, MAX_NEURONS

MAX_FILE_BYTES = 128 * 1024 * 1024
MAX_NESTING = 64             # JSON nesting depth
# What the largest valid project holds, with room for the small sections (settings, lessons'
# challenges, layers): one object per neuron and connection; one list per data row; one value
# per cell, per row, per neuron and connection field.
_ROOM = 100_000
MAX_OBJECTS = MAX_NEURONS + MAX_CONNECTIONS + _ROOM
MAX_LISTS = 2 * datasets.MAX_ROWS + _ROOM
MAX_VALUES = (datasets.MAX_CELLS + 2 * datasets.MAX_ROWS + 6 * MAX_CONNECTIONS
              + 16 * MAX_NEURONS + _ROOM)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        d = DuplicateKeys(d)
        d.duplicate = dup
    return d


def _parse_float(s: str) -> float | BadNumber:
    v = float(s)
    return v if math.isfinite(v) else BadNumber(s)


def _parse_int(s: str) -> int | float | BadNumber:
    if len(s) <= 20:
        return int(s)
    return _parse_float(s)  # as 1e21 would be read; too large for a float: a BadNumber


def parse(text: str | bytes) -> Any:
    """Strict JSON → Python values (NaN/Infinity kept as markers for validation to refuse)."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ProjectError(f"the file is {len(text)} bytes, more than the limit of "
                               f"{MAX_FILE_BYTES} bytes")
        check_counts(scan(text))  # before decoding: never the bytes, the text and the scan
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = e.object[:e.start].count(b"\n") + 1
            raise ProjectError(f"line {line}: the file is not UTF-8 text") from None
    else:
        if len(text) > MAX_FILE_BYTES:
            raise ProjectError(f"the text is {len(text)} characters, more than the limit of "
                               f"{MAX_FILE_BYTES}")
        check_counts(scan(text))
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ProjectError("the file is empty; expected a JSON object")
    try:
        return json.loads(text, parse_constant=BadNumber, parse_float=_parse_float,
                          parse_int=_parse_int, object_pairs_hook=_pairs)
    except json.JSONDecodeError as e:
        raise ProjectError(f"line {e.lineno}, column {e.colno}: malformed JSON: {e.msg}") from None
    except (RecursionError, ValueError) as e:
        raise ProjectError(f"malformed JSON: {e}") from None


@dataclass(frozen=True)
class Counts:
    """What the JSON parser would build from a text: the deepest nesting of ``[`` and ``{``,
    and how many objects, lists and values (every member and element) it holds."""

    depth: int
    objects: int
    lists: int
    values: int


_STRUCTURAL = b'"[]{},'
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in _STRUCTURAL)
_CHUNK = 1 << 22


def scan(text: str | bytes) -> Counts:
    """Count, outside strings, the brackets and commas of a (well-formed) JSON text, in one
    vectorised pass over its bytes in bounded chunks: escape sequences are dropped first (an
    escaped backslash, then an escaped quote; bytes.replace), then every byte but quotes,
    brackets and commas (``bytes.translate``), then numpy marks what lies inside strings.
    UTF-8 multi-byte characters never contain these bytes. For malformed text the counts are
    only an estimate, which is all a limit checked before the parser needs."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    a = np.frombuffer(data.translate(None, _NOT_STRUCTURAL), dtype=np.uint8)
    depth = objects = lists = values = 0
    deepest = 0
    inside_before = 0  # 1 while the chunk starts inside a string
    for start in range(0, a.size, _CHUNK):
        c = a[start:start + _CHUNK]
        quote = (c == ord('"')).view(np.uint8)
        inside = np.bitwise_xor.accumulate(quote)
        inside ^= inside_before
        inside_before = int(inside[-1])
        outside = ~inside.view(bool)
        opens_obj = (c == ord("{")) & outside
        opens_list = (c == ord("[")) & outside
        closes = ((c == ord("}")) | (c == ord("]"))) & outside
        objects += int(np.count_nonzero(opens_obj))
        lists += int(np.count_nonzero(opens_list))
        values += int(np.count_nonzero((c == ord(",")) & outside))
        step = opens_obj.view(np.int8) + opens_list.view(np.int8) - closes.view(np.int8)
        run = np.cumsum(step, dtype=np.int32)
        if run.size:
            deepest = max(deepest, depth + int(run.max()))
            depth += int(run[-1])
    # a container holds one value more than it has commas (an empty one: one fewer)
    return Counts(deepest, objects, lists, values + objects + lists + 1)


def check_counts(counts: Counts) -> None:
    """Refuse a text nested too deeply or holding more than a project can (see :func:`scan`),
    before the parser builds anything."""
    if counts.depth > MAX_NESTING:
        raise ProjectError(f"the JSON is nested more than {MAX_NESTING} levels deep")
    for n, limit, what in ((counts.objects, MAX_OBJECTS, "objects ({...})"),
                           (counts.lists, MAX_LISTS, "lists ([...])"),
                           (counts.values, MAX_VALUES, "values")):
        if n > limit:
            raise ProjectError(f"the file holds {n:,} JSON {what}, more than the {limit:,} "
                               "the largest project can have; it is not a project NN Studio "
                               "can open")


def nesting_depth(text: str | bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings (for well-formed JSON)."""
    return scan(text).depth

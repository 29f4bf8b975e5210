"""The first stage of loading: project-file text to plain Python values, strictly.

Strict JSON only: malformed text is refused with its line and column; a file larger than
:data:`MAX_FILE_BYTES` or nested deeper than :data:`MAX_NESTING` is refused before the parser
meets it; NaN, Infinity and numbers too large for a float become :class:`BadNumber` markers
and an object with a key twice becomes :class:`DuplicateKeys`, so that validation can name
where they occur. Nothing is ever unpickled or evaluated.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from .checks import BadNumber, DuplicateKeys, ProjectError

MAX_FILE_BYTES = 128 * 1024 * 1024
MAX_NESTING = 64             # JSON nesting depth


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


def _parse_int(s: str) -> int | BadNumber:
    if len(s) > 20:
        return BadNumber(s)
    return int(s)


def parse(text: str | bytes) -> Any:
    """Strict JSON → Python values (NaN/Infinity kept as markers for validation to refuse)."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ProjectError(f"the file is {len(text)} bytes, more than the limit of "
                               f"{MAX_FILE_BYTES} bytes")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = e.object[:e.start].count(b"\n") + 1
            raise ProjectError(f"line {line}: the file is not UTF-8 text") from None
    elif len(text) > MAX_FILE_BYTES:
        raise ProjectError(f"the text is {len(text)} characters, more than the limit of "
                           f"{MAX_FILE_BYTES}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ProjectError("the file is empty; expected a JSON object")
    if nesting_depth(text) > MAX_NESTING:
        raise ProjectError(f"the JSON is nested more than {MAX_NESTING} levels deep")
    try:
        return json.loads(text, parse_constant=BadNumber, parse_float=_parse_float,
                          parse_int=_parse_int, object_pairs_hook=_pairs)
    except json.JSONDecodeError as e:
        raise ProjectError(f"line {e.lineno}, column {e.colno}: malformed JSON: {e.msg}") from None
    except (RecursionError, ValueError) as e:
        raise ProjectError(f"malformed JSON: {e}") from None


_ESCAPE = re.compile(rb"\\.", re.S)
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'"[]{}')


def nesting_depth(text: str | bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings (for well-formed JSON), so that
    nesting too deep for the recursive parser is refused before it meets it. Vectorised: drop
    the escape sequences, keep only quotes and brackets (``bytes.translate``), then count with
    numpy. UTF-8 multi-byte characters never contain these bytes."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if b"\\" in data:
        data = _ESCAPE.sub(b"", data)
    a = np.frombuffer(data.translate(None, _NOT_STRUCTURAL), dtype=np.uint8)
    # 1 from an opening quote up to (not including) its closing quote
    inside = np.bitwise_xor.accumulate((a == ord('"')).view(np.uint8))
    step = (a == ord("[")).view(np.int8) + (a == ord("{")).view(np.int8) \
        - (a == ord("]")).view(np.int8) - (a == ord("}")).view(np.int8)
    step[inside.view(bool)] = 0
    return int(np.cumsum(step, dtype=np.int64).max(initial=0))

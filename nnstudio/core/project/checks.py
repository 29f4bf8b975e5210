"""The checks every field of a project file goes through, and the one error they raise.

Each check takes a value and its JSON path (``$.network.neurons[3].bias``) and either returns
the value or raises :class:`ProjectError` with one line naming the path and the problem:
``$.network.connections[3].weight: must be a finite number, got NaN``.

:class:`BadNumber` and :class:`DuplicateKeys` are what parsing leaves where the JSON text held a
number that is not a finite float, or an object with a key twice, so that the checks can name
the place they occur.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from ..messages import one_line, quote


class ProjectError(ValueError):
    """A project file that cannot be loaded or saved; one line naming the place and problem
    (however long the value it quotes, the message stays one short line:
    :func:`nnstudio.core.messages.one_line`)."""

    def __init__(self, message: object = "") -> None:
        super().__init__(one_line(message))


class BadNumber:
    """A JSON number that is not a finite float (NaN, Infinity, 1e999): kept as a marker so
    validation can name the place it occurs."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.shown

    @property
    def shown(self) -> str:
        """The number's text as a message shows it (clipped)."""
        t = self.text
        return t if len(t) <= 40 else f"{t[:30]}… ({len(t):,} characters)"


class DuplicateKeys(dict[str, Any]):
    """A JSON object that had a key more than once (the first duplicate is remembered)."""

    duplicate: str = ""


def describe(v: Any) -> str:
    """A value as a message shows it: ``null``, ``the text 'abc'``, ``a list``, ``NaN``."""
    if isinstance(v, BadNumber):
        return v.shown
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        s = v if len(v) <= 40 else v[:37] + "..."
        return f"the text {s!r}"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "a list"
    return repr(v)


def fail(path: str, msg: str) -> NoReturn:
    raise ProjectError(f"{path}: {msg}")


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def member_path(path: str, k: str) -> str:
    """The JSON path of an object member; odd keys are quoted (and kept on one line)."""
    return f"{path}.{k}" if _PLAIN_KEY.match(k) else f"{path}[{json.dumps(k[:40])}]"


def check_object(v: Any, path: str, required: tuple[str, ...],
                 optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with every ``required`` key, and no keys but those and ``optional``."""
    if not isinstance(v, dict):
        fail(path, f"must be an object, got {describe(v)}")
    if isinstance(v, DuplicateKeys):
        fail(member_path(path, v.duplicate), "the key appears more than once")
    for k in required:
        if k not in v:
            fail(path, f"the key {k!r} is missing")  # one of ours: short
    allowed = set(required) | set(optional)
    for k in v:
        if k not in allowed:
            fail(member_path(path, k), f"unknown key (allowed here: {', '.join(sorted(allowed))})")
    return v


def check_list(v: Any, path: str, limit: int, what: str) -> list[Any]:
    """A list of at most ``limit`` items (``what``: "neurons", for the message)."""
    if not isinstance(v, list):
        fail(path, f"must be a list, got {describe(v)}")
    if len(v) > limit:
        fail(path, f"{len(v)} {what} is more than the limit of {limit}")
    return v


def number(v: Any, path: str, lo: float | None = None, hi: float | None = None) -> float:
    """A finite number (not true/false), from ``lo`` to ``hi`` when given (both or neither)."""
    if isinstance(v, BadNumber):
        fail(path, f"must be a finite number, got {v.shown}")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        fail(path, f"must be a number, got {describe(v)}")
    f = float(v)
    if (lo is not None and f < lo) or (hi is not None and f > hi):
        fail(path, f"must be from {lo:g} to {hi:g}, got {quote(v)}")
    return f


def flag(v: Any, path: str) -> bool:
    """true or false."""
    if not isinstance(v, bool):
        fail(path, f"must be true or false, got {describe(v)}")
    return v


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(v: str, path: str) -> str:
    """Text that UTF-8 can write: JSON's ``\\ud800`` escapes can name half of a surrogate
    pair, which no file can hold (a pair is one character by the time the parser is done)."""
    if not v.isascii():
        m = _LONE_SURROGATE.search(v)
        if m:
            fail(path, f"holds a lone UTF-16 surrogate {m.group()!r} at character "
                 f"{m.start() + 1}, which is not a character any file can hold")
    return v


def text(v: Any, path: str, max_len: int, empty_ok: bool = False, one_line: bool = True) -> str:
    """Text of at most ``max_len`` characters that UTF-8 can write (:func:`encodable`); one
    line without control characters unless ``one_line`` is false; not blank unless
    ``empty_ok``."""
    if not isinstance(v, str):
        fail(path, f"must be text, got {describe(v)}")
    encodable(v, path)
    if one_line and any(ord(ch) < 32 or ord(ch) == 127 for ch in v):
        fail(path, "must be one line of text, without control characters such as line breaks")
    if not empty_ok and not v.strip():
        fail(path, "must not be empty")
    if len(v) > max_len:
        fail(path, f"is {len(v)} characters long, more than the limit of {max_len}")
    return v

"""Untrusted text inside messages: how a value from a file is quoted, and how long a message
may grow.

A message quotes what it refuses ("unknown activation 'relu6'"), and what it refuses came from
a stranger's file: a million-character name must not become a million-character line (or a
message box that takes seconds to lay out), a line break must not split a one-line message,
and a lone surrogate must not make printing the message fail. :func:`quote` shows a value
clipped to :data:`MAX_QUOTED` characters (its repr, so control characters and surrogates are
escaped); :func:`one_line` is the last guard on a whole message: whitespace runs collapsed to
one space and the whole clipped to :data:`MAX_MESSAGE` characters.

Pure Python; no NumPy, no Qt.
"""

from __future__ import annotations

MAX_QUOTED = 60      # characters of a quoted value
MAX_MESSAGE = 400    # characters of a whole one-line message


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[:max(limit - 1, 1)] + "…"


def quote(value: object, limit: int = MAX_QUOTED) -> str:
    """A value as a message quotes it: text as its repr (quotes, escapes), clipped to about
    ``limit`` characters; anything else as its repr, clipped the same way."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value):,} characters)"
    return clip(repr(value), limit + 20)


def one_line(text: object, limit: int = MAX_MESSAGE) -> str:
    """A message on one line: whitespace runs (line breaks included) become one space, lone
    surrogates are escaped, and the whole is clipped to ``limit`` characters."""
    s = str(text)
    if len(s) > 4 * limit:  # never split a huge text only to clip it
        s = s[:4 * limit]
    s = " ".join(s.split())
    if not s.isascii():
        s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return clip(s, limit)


__all__ = ["MAX_MESSAGE", "MAX_QUOTED", "clip", "one_line", "quote"]

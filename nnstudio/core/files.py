"""Reading and writing files safely: the one atomic writer and the one size-limited reader.

Every file NN Studio writes (projects, CSV exports, walkthroughs, the autosave) goes through
:func:`atomic_write`: the bytes go to a temporary file in the target's folder, which is flushed,
fsynced and then moved over the target with ``os.replace``, so a crash or a full disk leaves
either the old file or the new one, never a half-written mix. On any failure the temporary file
is removed and the target is untouched.

Every file NN Studio reads from a stranger (projects, CSV imports) goes through
:func:`read_limited`, which refuses a file larger than its format's limit before reading it, so
an oversized file cannot exhaust memory.

Pure Python, no NumPy and no Qt; nothing here knows about any file format.
"""

from __future__ import annotations

import os
import tempfile

PathLike = str | os.PathLike[str]


def atomic_write(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, flushed and
    fsynced, then ``os.replace``. An existing file keeps its permissions. On failure the
    temporary file is removed and ``path`` is left as it was. Raises OSError."""
    path = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(path)
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def read_limited(path: PathLike, limit: int, error: type[ValueError], what: str) -> bytes:
    """The bytes of the file ``path`` (``what``, e.g. "a CSV file"), refused with ``error``
    if it is larger than ``limit`` bytes, a folder or unreadable."""
    p = os.fspath(path)
    try:
        size = os.path.getsize(p)
        if size > limit:
            raise error(f"the file is {size} bytes, more than the limit of {limit} bytes")
        with open(p, "rb") as f:
            return f.read(limit + 1)
    except IsADirectoryError:
        raise error(f"{p!r} is a folder, not {what}") from None
    except OSError as e:
        raise error(f"cannot read {p!r}: {e.strerror or e}") from None


__all__ = ["atomic_write", "read_limited"]

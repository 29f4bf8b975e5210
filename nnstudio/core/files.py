"""Reading and writing files safely: the one atomic writer and the one size-limited reader.

Every file NN Studio writes (projects, CSV exports, walkthroughs, the autosave) goes through
:func:`atomic_write`: the bytes go to a temporary file in the target's folder, which is flushed,
fsynced and then moved over the target with ``os.replace``, so a crash or a full disk leaves
either the old file or the new one, never a half-written mix. On any failure the temporary file
is removed and the target is untouched.

A save killed mid-write (power cut, SIGKILL) leaves its temporary file behind: the next
successful write to the same target removes such leftovers of the target's own naming pattern
(``.NAME.XXXXXXXX.tmp``) once they are older than :data:`STALE_TEMP_SECONDS`, so a save in
progress in another process is never disturbed (:func:`remove_stale_temporaries`).

Every file NN Studio reads from a stranger (projects, CSV imports, the autosave) goes through
:func:`read_limited`, which refuses anything that is not a regular file (a FIFO, a device, a
socket, a folder) before opening it, so reading can never block, and a file larger than its
format's limit before reading it, so an oversized file cannot exhaust memory. A path shown in
a message is clipped (:func:`shown_path`), so a message stays one short line.

Pure Python, no NumPy and no Qt; nothing here knows about any file format.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time

PathLike = str | os.PathLike[str]

#: a temporary file of :func:`atomic_write` older than this is a leftover of a killed save
STALE_TEMP_SECONDS = 60.0
_TEMP_TAIL = re.compile(r"\.[A-Za-z0-9_]{8}\.tmp")  # what mkstemp adds after ".NAME"
MAX_SHOWN_PATH = 120


def shown_path(path: PathLike) -> str:
    """A path quoted for a message, clipped in the middle to at most about
    :data:`MAX_SHOWN_PATH` characters (so the file name at the end stays visible)."""
    p = os.fspath(path)
    if len(p) > MAX_SHOWN_PATH:
        half = MAX_SHOWN_PATH // 2
        p = p[:half] + "…" + p[-half:]
    return repr(p)


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
    remove_stale_temporaries(path)
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


def temporaries_of(path: PathLike) -> list[str]:
    """The temporary files :func:`atomic_write` makes for ``path`` that exist in its folder
    (``.NAME.XXXXXXXX.tmp``), whatever their age."""
    path = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(path)
    head = f".{base}"
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names
            if n.startswith(head) and _TEMP_TAIL.fullmatch(n, len(head))]


def remove_stale_temporaries(path: PathLike, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove the leftover temporary files of killed saves to ``path`` (regular files of
    :func:`atomic_write`'s naming pattern last written more than ``older_than`` seconds ago);
    returns how many were removed. Never raises."""
    removed = 0
    now = time.time()
    for tmp in temporaries_of(path):
        try:
            st = os.lstat(tmp)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > older_than:
                os.unlink(tmp)
                removed += 1
        except OSError:
            pass
    return removed


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_limited(path: PathLike, limit: int, error: type[ValueError], what: str) -> bytes:
    """The bytes of the file ``path`` (``what``, e.g. "a CSV file"), refused with ``error``
    if it is not a regular file (checked before opening it, and again on the open file, which
    is opened non-blocking), larger than ``limit`` bytes, or unreadable."""
    p = os.fspath(path)
    shown = shown_path(p)
    try:
        st = os.stat(p)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{shown} is a folder, not {what}")
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{shown} is {_kind(st.st_mode)}, not {what}; only regular files "
                        "are read")
        if st.st_size > limit:
            raise error(f"the file is {st.st_size} bytes, more than the limit of {limit} bytes")
        # O_NONBLOCK: should the path become a FIFO between the check and the open, the open
        # returns at once instead of waiting for a writer; fstat then refuses it
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise error(f"{shown} is {_kind(st.st_mode)}, not {what}; only regular files "
                            "are read")
            data = f.read(limit + 1)
    except IsADirectoryError:
        raise error(f"{shown} is a folder, not {what}") from None
    except OSError as e:
        raise error(f"cannot read {shown}: {e.strerror or e}") from None
    if len(data) > limit:
        raise error(f"the file is more than the limit of {limit} bytes")
    return data


__all__ = ["atomic_write", "read_limited", "remove_stale_temporaries", "shown_path",
           "temporaries_of", "STALE_TEMP_SECONDS"]

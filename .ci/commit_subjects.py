"""Check that every commit subject since this check arrived is at most 72 bytes of UTF-8.

The habit (a short subject saying what changed, the detail in the body) is the project's; this
script holds it in CI. It checks the commits from the one that added this file up to HEAD; in a
shallow clone that lacks that commit it checks the commits it has. Earlier history is left as
it is: main's history is never rewritten.
"""

from __future__ import annotations

import subprocess
import sys

LIMIT = 72
HERE = ".ci/commit_subjects.py"


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout


def main() -> int:
    added = git("log", "--format=%H", "--diff-filter=A", "--", HERE).split()
    if added:
        first = added[-1]
        parents = git("rev-list", "--parents", "-n", "1", first).split()[1:]
        span = [f"{parents[0]}..HEAD"] if parents else ["HEAD"]
    else:  # not committed yet, or a shallow clone without it: check the newest commit
        span = ["-n", "1", "HEAD"]
    bad = []
    for line in git("log", "--format=%h %s", *span).splitlines():
        sha, _, subject = line.partition(" ")
        size = len(subject.encode("utf-8"))   # bytes, as git tools and CI count them
        if size > LIMIT:
            bad.append(f"  {sha} ({size} bytes): {subject}")
    if bad:
        print(f"commit subjects over {LIMIT} bytes:", *bad, sep="\n", file=sys.stderr)
        return 1
    print(f"commit subjects: all at most {LIMIT} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

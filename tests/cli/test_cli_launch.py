"""`nnstudio` without a subcommand: refusals that must not try to open a window."""

import os
import subprocess
import sys

import pytest


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_unknown_word_is_neither_file_nor_subcommand():
    r = run("frobnicate")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "'frobnicate'" in lines[0] and "validate" in lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display check is Linux-only")
def test_no_display_gives_one_line_and_exit_2(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = run("samples/xor.nnproj", env=env)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0]


def test_too_many_arguments():
    r = run("a.nnproj", "b.nnproj")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1

"""Shared test set-up: Qt runs offscreen, and no test may leave a thread running."""

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NNSTUDIO_SETTINGS_DIR", os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"nnstudio-test-settings-{os.getpid()}"))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for t in left:
        t.join(timeout=2.0)
    left = [t for t in left if t.is_alive()]
    assert not left, f"test left threads running: {left}"

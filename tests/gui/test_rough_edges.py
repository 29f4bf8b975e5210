"""The rough edges a new user hit (issue 11), each held here: the status bar never shows a
stale epoch or loss, ..."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication


def test_the_status_bar_follows_undo_and_new_data(qtbot, window):
    doc = window.document
    ctl, st = window.training.controller, window.training.status
    for _ in range(3):
        ctl.step_epoch()
    QApplication.processEvents()
    assert st.bar.format().startswith("Epoch 3 /")
    doc.undo_stack.undo()                       # "Train 1 epoch" undone: not epoch 3's values
    qtbot.waitUntil(lambda: st.bar.format() == "Edited after epoch 3")
    assert st.text.text().startswith(f"loss {doc.loss():.5g}")
    doc.undo_stack.redo()                       # the trained values again
    qtbot.waitUntil(lambda: st.bar.format().startswith("Epoch 3 /"))
    ds = doc.dataset                            # a new point: the loss follows the data
    doc.set_dataset(ds.with_rows(np.vstack([ds.X, [[0.5, 0.5]]]),
                                 np.vstack([ds.Y, [[1.0]]])))
    qtbot.waitUntil(lambda: st.bar.format() == "Edited after epoch 3")
    assert st.text.text().startswith(f"loss {doc.loss():.5g}")


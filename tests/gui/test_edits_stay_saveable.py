"""Every edit the window accepts leaves a project that saves; what the file would refuse is
refused at the edit, with a message, and changes nothing (no undo step either)."""

from __future__ import annotations

import pytest

from nnstudio import paths
from nnstudio.core import project
from nnstudio.gui.document import Document
from nnstudio.gui.files import fit_dataset


@pytest.fixture
def doc(qtbot):
    return Document.open(paths.SAMPLES / "xor.nnproj")


def hidden(doc):
    return [n.id for n in doc.network.neurons.values() if n.role == "hidden"]


def refused(doc, edit, match: str) -> None:
    before, steps = project.dumps(doc.project), doc.undo_stack.count()
    with pytest.raises(ValueError, match=match):
        edit()
    assert project.dumps(doc.project) == before and doc.undo_stack.count() == steps


@pytest.mark.parametrize("label", ["a\tb", "line\nbreak", "bell\x07", "half \ud800"])
def test_a_label_a_file_cannot_hold_is_refused(doc, label):
    refused(doc, lambda: doc.set_label(hidden(doc)[0], label), "one line of text")


def test_positions_beyond_the_file_limit_are_refused_before_the_undo_step(doc):
    h = hidden(doc)[0]
    refused(doc, lambda: doc.move_items({h: (2e7, 0.0)}), "from -10,000,000 to 10,000,000")
    refused(doc, lambda: doc.add_neuron("hidden", 0.0, -1e8), "from -10,000,000")
    refused(doc, lambda: doc.paste([{"id": "a", "role": "hidden", "x": 9_999_990.0}], []),
            "not 10,000,030")
    doc.move_items({h: (1e7, -1e7)})  # the limit itself is fine
    project.dumps(doc.project)


def test_a_pasted_connection_whose_source_is_a_list_is_dropped_not_an_exception(doc):
    ids = doc.paste([{"id": "a", "role": "hidden"}, {"id": "b", "role": "hidden"}],
                    [{"source": ["a"], "target": "b", "weight": 1.0},
                     {"source": "a", "target": {"b": 1}, "weight": 1.0},
                     {"source": "a", "target": "b", "weight": 0.5}])
    assert len(ids) == 3  # two neurons and the one well-formed connection
    project.dumps(doc.project)


def test_a_64_character_output_label_still_gives_a_target_column_that_saves(doc):
    out = next(n.id for n in doc.network.neurons.values() if n.role == "output")
    doc.set_label(out, "y" * 64)
    doc.add_neuron("output", 300.0, 100.0)  # a second output: the dataset gains a column
    new = [n for n in doc.network.neurons.values() if n.role == "output"][-1]
    doc.set_label(new.id, "z" * 64)
    ds = fit_dataset(doc.dataset, doc.network)
    assert all(len(name) <= 64 for name in ds.target_names)
    assert ds.target_names[-1].endswith(" (target)")
    doc.set_dataset(ds)
    project.loads(project.dumps(doc.project))

"""What a project holds: :class:`Project` (network, dataset, settings, lesson text, name, the
lesson's challenges), its
document form (:func:`to_dict`), the empty project File ▸ New opens (:func:`empty_project`)
and the ready networks File ▸ New from Template offers (:data:`TEMPLATES`; :func:`new_project`
is the first of them, the 2-3-1 XOR network).

The fields of :class:`Project` are the sections of the file (:data:`~.sections.SECTIONS`), one
attribute per section key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import datasets
from ..datasets import Dataset
from ..lessons.goals import Challenges
from ..network import Network, dense
from ..trainer import TrainSettings
from . import versions
from .sections import SECTIONS
from .validation import validate_document


@dataclass
class Project:
    network: Network
    dataset: Dataset
    settings: TrainSettings = field(default_factory=TrainSettings)
    description: str = ""
    name: str = "Untitled"
    challenges: Challenges | None = None        # the lesson's goals; immutable, so shared

    def check(self) -> Project:
        """Raise ProjectError if the parts do not fit together (the checks a file gets)."""
        validate_document(to_dict(self))
        return self

    def copy(self) -> Project:
        return Project(self.network.copy(), self.dataset.copy(), self.settings,
                       self.description, self.name, self.challenges)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def to_dict(proj: Project) -> dict[str, Any]:
    """The project as a document (plain JSON values), in the current format version."""
    doc: dict[str, Any] = {"format": versions.FORMAT, "format_version": versions.FORMAT_VERSION}
    for s in SECTIONS:
        value = getattr(proj, s.key)
        if not s.absent(value):
            doc[s.key] = s.to_json(value)
    return doc


NEW_DESCRIPTION = """\
# A new network

Two inputs, three **tanh** hidden neurons and one **sigmoid** output, with the XOR truth table
as data. Press **Train** and watch the loss fall; then edit the network on the canvas, or pick
another dataset in the dataset panel.
"""


def _labelled(net: Network, names: list[str]) -> Network:
    for nid, lab in zip([n.id for n in net.inputs], names, strict=True):
        net.set_label(nid, lab)
    return net


def new_project() -> Project:
    """The "XOR" template: a 2-3-1 network (tanh hidden, sigmoid output) on the XOR table."""
    net = _labelled(dense([2, 3, 1], hidden="tanh", output="sigmoid", seed=0), ["x1", "x2"])
    ds = datasets.generate("xor")
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.05, epochs=500)
    return Project(net, ds, settings, NEW_DESCRIPTION, "Untitled")


def empty_project() -> Project:
    """File ▸ New: no neurons (the canvas shows how to start), no lesson text, and the XOR
    table as data to build a network for (the dataset panel offers the others)."""
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.05, epochs=500)
    return Project(Network(), datasets.generate("xor"), settings, "", "Untitled")


CLASSIFIER_DESCRIPTION = """# A classifier

Two inputs, two **tanh** hidden layers of 8 neurons and one **sigmoid** output, on two
circles: one class inside the other. Press **Train**: each hidden neuron draws a line, and
the output bends them into a ring.
"""

REGRESSION_DESCRIPTION = """# A curve fitter

One input, 8 **tanh** hidden neurons and an **identity** output, on a sine curve. Press
**Train** and watch the Output pane: the network's curve bends onto the points.
"""


def _classifier() -> Project:
    net = _labelled(dense([2, 8, 8, 1], hidden="tanh", output="sigmoid", seed=0),
                    ["x1", "x2"])
    settings = TrainSettings(loss="bce", optimizer="adam", learning_rate=0.03, epochs=300)
    return Project(net, datasets.generate("circles"), settings, CLASSIFIER_DESCRIPTION,
                   "Untitled")


def _regression() -> Project:
    net = _labelled(dense([1, 8, 1], hidden="tanh", output="identity", seed=0), ["x"])
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.03, epochs=1000)
    return Project(net, datasets.generate("sine"), settings, REGRESSION_DESCRIPTION,
                   "Untitled")


@dataclass(frozen=True)
class Template:
    """A ready network File ▸ New from Template offers: ``build()`` makes a fresh project."""

    title: str
    note: str
    build: Callable[[], Project]


#: the templates, in menu order
TEMPLATES: dict[str, Template] = {
    "xor": Template("XOR: 2-3-1", "Three tanh hidden neurons and a sigmoid output on the XOR "
                    "table", new_project),
    "classifier": Template("Classifier: 2-8-8-1 on two circles", "Two tanh hidden layers "
                           "and a sigmoid output, binary cross-entropy", _classifier),
    "regression": Template("Curve fit: 1-8-1 on a sine", "Eight tanh hidden neurons and an "
                           "identity output, mean squared error", _regression),
}

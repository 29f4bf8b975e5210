"""What a project holds: :class:`Project` (network, dataset, settings, lesson text, name, the
lesson's challenges), its
document form (:func:`to_dict`), and the small project File ▸ New opens (:func:`new_project`).

The fields of :class:`Project` are the sections of the file (:data:`~.sections.SECTIONS`), one
attribute per section key.
"""

from __future__ import annotations

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


def new_project() -> Project:
    """A small default: a 2-3-1 network (tanh hidden, sigmoid output) on the XOR table."""
    net = dense([2, 3, 1], hidden="tanh", output="sigmoid", seed=0)
    for nid, lab in zip([n.id for n in net.inputs], ["x1", "x2"], strict=True):
        net.set_label(nid, lab)
    ds = datasets.generate("xor")
    settings = TrainSettings(loss="mse", optimizer="adam", learning_rate=0.05, epochs=500)
    return Project(net, ds, settings, NEW_DESCRIPTION, "Untitled")

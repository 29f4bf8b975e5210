"""The parts a network is made of, and the rules each part obeys on its own.

- :class:`ParamStore`: every weight and bias of one network in one float64 array (with a
  trainable mask), indexed by slot, so the engine, the canvas and training snapshots read and
  write all parameters with one vectorised operation;
- :class:`Neuron` and :class:`Connection`: a bias and a weight are views into the store (and
  so is a leaky slope made trainable, "parametric ReLU": its parameter id is
  :func:`slope_param_id`, ``"h1:slope"``);
- the rules that need no network: what an id may look like (:func:`is_valid_id`), which
  activation a role may take (:func:`check_activation`), what counts as a number
  (:func:`finite_number`), the id prefix of each role (:data:`ID_PREFIX`);
- :class:`NetworkError`, the one error a refused edit raises, naming the item and the reason.

How the parts fit together (and every rule that needs the whole network) is the business of
:mod:`.graph` and :mod:`.model`.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple, TypeGuard

import numpy as np

from nnstudio.core import activations

ROLES = ("input", "hidden", "output")
#: the role of a flatten layer's derived neurons (never written to a file; see .image_layers)
FEATURE_ROLE = "feature"
#: roles whose neurons pass a value through: no bias, no incoming connection, identity
PASS_THROUGH_ROLES = frozenset({"input", FEATURE_ROLE})
ID_PREFIX = {"input": "x", "hidden": "h", "output": "y"}   # role -> prefix of its new ids
CONNECTION_ID_PREFIX = "c"
ID_RULE = "use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or '_'"
ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")
#: what a trainable leaky slope's parameter id adds to its neuron's id (":" is never in an id)
SLOPE_SUFFIX = ":slope"


def slope_param_id(nid: str) -> str:
    """The parameter id of neuron ``nid``'s trainable leaky slope."""
    return nid + SLOPE_SUFFIX


def slope_neuron(pid: str) -> str | None:
    """The neuron whose trainable leaky slope ``pid`` names, or None if it names none."""
    return pid[:-len(SLOPE_SUFFIX)] if pid.endswith(SLOPE_SUFFIX) else None


class NetworkError(ValueError):
    """A refused edit or an invalid network. The message names the neurons and the reason."""


def is_valid_id(value: object) -> TypeGuard[str]:
    """True if ``value`` is text that may be a neuron or connection id (see :data:`ID_RULE`)."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def check_role_name(role: object) -> None:
    """Raise NetworkError unless ``role`` is one of :data:`ROLES`."""
    if role not in ROLES:
        raise NetworkError(f"role {role!r} is not one of {', '.join(ROLES)}")


MAX_LABEL_LENGTH = 64
MAX_POSITION = 1e7           # |x|, |y| of a neuron on the canvas (what a project file allows)


def check_label_text(value: object, what: str) -> str:
    """``value`` as a neuron label (trimmed): one line of at most MAX_LABEL_LENGTH characters
    that a file can hold (no control characters, no lone surrogate), or NetworkError."""
    text = str(value).strip()
    if not text:
        raise NetworkError(f"{what} cannot be empty")
    if len(text) > MAX_LABEL_LENGTH:
        raise NetworkError(f"{what} is longer than {MAX_LABEL_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise NetworkError(f"{what} must be one line of text, without control characters "
                           "such as tabs or line breaks")
    return text


def position(value: Any, what: str) -> float:
    """``value`` as a canvas coordinate: finite and within +-MAX_POSITION, or NetworkError."""
    v = finite_number(value, what)
    if abs(v) > MAX_POSITION:
        raise NetworkError(f"{what} must be from {-MAX_POSITION:,.0f} to {MAX_POSITION:,.0f}, "
                           f"not {v:,.10g}")
    return v


def finite_number(value: Any, what: str) -> float:
    """``value`` as a finite float, or NetworkError saying that ``what`` must be one. True and
    False are not numbers here; text is refused unless it spells a number (``"1.5"``)."""
    if isinstance(value, bool):
        raise NetworkError(f"{what} must be a number, not {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise NetworkError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(v):
        shown = repr(value) if isinstance(value, str) else v
        raise NetworkError(f"{what} must be a finite number, not {shown}")
    return v


def check_activation(nid: str, role: str, name: str) -> None:
    """Raise NetworkError if neuron ``nid`` of ``role`` may not take activation ``name``: an
    input passes its value through (identity only), softmax works on the outputs as a group."""
    if name not in activations.ACTIVATIONS:
        raise NetworkError(
            f"unknown activation {name!r} for neuron {nid!r} "
            f"(known: {', '.join(activations.NAMES)})"
        )
    if role == "input" and name != "identity":
        raise NetworkError(
            f"input neuron {nid!r} passes its value through; it takes no activation")
    if name == "softmax" and role != "output":
        raise NetworkError(
            f"softmax works on the output neurons as a group; {nid!r} is a {role} neuron"
        )


def activation_allowed(role: str, name: str) -> bool:
    """Whether a neuron of ``role`` may take activation ``name`` (see :func:`check_activation`)."""
    try:
        check_activation("", role, name)
    except NetworkError:
        return False
    return True


class ParamStore:
    """All weights and biases of one network: ``values[slot]`` and ``trainable[slot]``."""

    def __init__(self, capacity: int = 16):
        self.values = np.zeros(capacity, dtype=np.float64)
        self.trainable = np.ones(capacity, dtype=bool)
        self._free: list[int] = []
        self._next = 0

    @property
    def free_slots(self) -> tuple[int, ...]:
        """The slots released and not yet taken again (the next allocations reuse them)."""
        return tuple(self._free)

    def allocate(self, value: float = 0.0, trainable: bool = True) -> int:
        if self._free:
            slot = self._free.pop()
        else:
            slot = self._next
            self._next += 1
            if slot >= self.values.size:
                n = max(16, self.values.size * 2)
                self.values = np.concatenate([self.values, np.zeros(n - self.values.size)])
                self.trainable = np.concatenate(
                    [self.trainable, np.ones(n - self.trainable.size, dtype=bool)]
                )
        self.values[slot] = value
        self.trainable[slot] = trainable
        return slot

    def extend(self, values: np.ndarray, trainable: np.ndarray | None = None) -> np.ndarray:
        """Allocate ``len(values)`` new slots at once (after the last used one; free slots are
        left for single allocations); returns them."""
        n = len(values)
        start = self._next
        need = start + n
        if need > self.values.size:
            size = max(16, self.values.size * 2, need)
            self.values = np.concatenate([self.values, np.zeros(size - self.values.size)])
            self.trainable = np.concatenate(
                [self.trainable, np.ones(size - self.trainable.size, dtype=bool)]
            )
        self.values[start:need] = values
        self.trainable[start:need] = True if trainable is None else trainable
        self._next = need
        return np.arange(start, need)

    def release(self, slot: int) -> None:
        self.values[slot] = 0.0
        self.trainable[slot] = True
        self._free.append(slot)

    def release_many(self, slots: list[int]) -> None:
        """``release`` each slot (the next allocations take them back in the same order)."""
        self.values[slots] = 0.0
        self.trainable[slots] = True
        self._free.extend(slots)


class Neuron:
    """A neuron: a = activation(sum of w * a_source + bias). Its bias lives in the store. An
    input neuron with a ``derive`` name takes no data column: its value is that formula of the
    data (:mod:`nnstudio.core.derived_inputs`). Its leaky slope is its own number, or, when
    made trainable (``slope_slot`` set: parametric ReLU), a parameter in the store that
    training moves like a bias."""

    __slots__ = ("id", "role", "label", "activation", "_slope", "x", "y", "_store", "slot",
                 "derive", "slope_slot")

    def __init__(self, store: ParamStore, id: str, role: str, label: str, activation: str,
                 slope: float, x: float, y: float, slot: int, derive: str | None = None,
                 slope_slot: int | None = None):
        self.id, self.role, self.label = id, role, label
        self.activation, self._slope, self.x, self.y = activation, slope, x, y
        self._store, self.slot = store, slot
        self.derive = derive
        self.slope_slot = slope_slot

    @property
    def slope(self) -> float:
        """The leaky slope (for z <= 0, a = slope × z): from the store when it is trainable."""
        if self.slope_slot is None:
            return self._slope
        return float(self._store.values[self.slope_slot])

    @slope.setter
    def slope(self, value: float) -> None:
        if self.slope_slot is None:
            self._slope = value
        else:
            self._store.values[self.slope_slot] = value

    @property
    def slope_trainable(self) -> bool:
        """Does training move the leaky slope (parametric ReLU)?"""
        return self.slope_slot is not None

    @property
    def slope_param(self) -> bool:
        """Is the slope a parameter of the network now (trainable, and the activation is
        leaky ReLU)? Only then is ``slope_param_id(id)`` one of the network's parameters."""
        return self.slope_slot is not None and self.activation == "leaky_relu"

    @property
    def bias(self) -> float:
        return float(self._store.values[self.slot])

    @property
    def bias_trainable(self) -> bool:
        return bool(self._store.trainable[self.slot])

    def to_dict(self) -> dict[str, Any]:
        return _neuron_dict(self)

    def __repr__(self) -> str:
        return f"Neuron({self.id!r}, {self.role}, {self.activation}, b={self.bias:g})"


class NeuronFields(NamedTuple):
    """The checked fields of a neuron about to be added (its bias then goes into the store)."""

    id: str
    role: str
    label: str
    activation: str
    slope: float
    x: float
    y: float
    bias: float
    bias_trainable: bool
    derive: str | None = None
    slope_trainable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The dict ``Neuron.to_dict`` will give for the neuron."""
        return _neuron_dict(self)


def _neuron_dict(n: Neuron | NeuronFields) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": n.id, "role": n.role, "label": n.label, "activation": n.activation,
        "bias": n.bias, "bias_trainable": n.bias_trainable, "x": n.x, "y": n.y,
    }
    if n.activation == "leaky_relu":
        d["slope"] = n.slope
        if n.slope_trainable:
            d["slope_trainable"] = True
    if n.derive is not None:
        d["derive"] = n.derive
    return d


class Connection:
    """A directed, weighted connection source -> target. Its weight lives in the store."""

    __slots__ = ("id", "source", "target", "_store", "slot")

    def __init__(self, store: ParamStore, id: str, source: str, target: str, slot: int):
        self.id, self.source, self.target = id, source, target
        self._store, self.slot = store, slot

    @property
    def weight(self) -> float:
        return float(self._store.values[self.slot])

    @property
    def trainable(self) -> bool:
        return bool(self._store.trainable[self.slot])

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.source, "target": self.target,
            "weight": self.weight, "trainable": self.trainable,
        }

    def __repr__(self) -> str:
        return f"Connection({self.id!r}, {self.source}->{self.target}, w={self.weight:g})"

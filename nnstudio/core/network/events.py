"""The change-notice contract of the network model: which events a listener hears, and what
each one means.

A listener registered with ``Network.subscribe`` is called as ``listener(event, ids)`` after a
change has been made, with ``event`` a :class:`NetworkEvent` (a ``str``, so it compares equal
to its value) and ``ids`` a tuple of the neuron, connection or parameter ids concerned (an
empty tuple: possibly every one of that kind).

Rules:

- an edit sends its notices after the network is consistent again; a refused edit sends none;
- a bulk edit sends one notice per kind of change, naming every item (not one per item);
- moves, renames and activation changes are distinct events, so a listener can tell a drag on
  the canvas (positions only: values, depths and the compiled engine stay valid) from an edit
  that changes what the network computes;
- after every event in :data:`RECOMPILES` the network's ``structure_version`` has moved (a
  compiled engine must be rebuilt); after ``PARAMS_CHANGED`` its ``param_version`` has.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class NetworkEvent(StrEnum):
    """What changed. The ids a notice names are given after each member."""

    NEURON_ADDED = "neuron_added"              # the new neurons
    NEURON_REMOVED = "neuron_removed"          # the removed neurons
    CONNECTION_ADDED = "connection_added"      # the new connections
    CONNECTION_REMOVED = "connection_removed"  # the removed connections
    ROLE_CHANGED = "role_changed"              # the neuron (its activation and bias may follow)
    ORDER_CHANGED = "order_changed"            # () : neurons or connections were reordered
    ACTIVATION_CHANGED = "activation_changed"  # the neurons (activation or leaky slope)
    NEURON_RENAMED = "neuron_renamed"          # the neuron whose label changed
    NEURON_MOVED = "neuron_moved"              # the neurons whose canvas position changed
    PARAMS_CHANGED = "params_changed"          # the parameters (weights, biases, locks); ()=all
    LAYER_ADDED = "layer_added"                # the new image layers
    LAYER_REMOVED = "layer_removed"            # the removed image layers
    LAYER_CHANGED = "layer_changed"            # the image layers whose settings or source changed
    LAYER_MOVED = "layer_moved"                # the image layers whose canvas position changed
    LAYER_RENAMED = "layer_renamed"            # the image layer whose label changed


STRUCTURAL: frozenset[NetworkEvent] = frozenset({
    NetworkEvent.NEURON_ADDED, NetworkEvent.NEURON_REMOVED, NetworkEvent.CONNECTION_ADDED,
    NetworkEvent.CONNECTION_REMOVED, NetworkEvent.ROLE_CHANGED, NetworkEvent.ORDER_CHANGED,
    NetworkEvent.LAYER_ADDED, NetworkEvent.LAYER_REMOVED, NetworkEvent.LAYER_CHANGED,
})
"""The graph changed: items appeared or went, a role changed (an input takes data, an output
gives a prediction), the order changed (it decides which data column feeds which input), or an
image layer's settings or source changed (its shape, and every shape after it, may differ).
Depths, layers and anything built per neuron, per connection or per image layer must be
rebuilt."""

RECOMPILES: frozenset[NetworkEvent] = STRUCTURAL | {NetworkEvent.ACTIVATION_CHANGED}
"""Events after which a compiled engine is out of date (it groups neurons by activation)."""

NEURON_LOOKS: frozenset[NetworkEvent] = frozenset({
    NetworkEvent.ACTIVATION_CHANGED, NetworkEvent.NEURON_RENAMED, NetworkEvent.NEURON_MOVED,
})
"""Events that change how the named neurons are drawn but not which neurons exist."""

LAYER_LOOKS: frozenset[NetworkEvent] = frozenset({
    NetworkEvent.LAYER_MOVED, NetworkEvent.LAYER_RENAMED,
})
"""Events that change how the named image layers are drawn, not what the network computes.
(Moving a flatten layer also moves its feature neurons: a ``NEURON_MOVED`` names them.)"""

Listener = Callable[[NetworkEvent, tuple[str, ...]], None]

"""The network model: neurons and directed connections forming a feed-forward DAG of any shape.

The package, from the bottom up (each module imports only the ones above it):

- :mod:`.events`: the change-notice contract (``NetworkEvent``, the structural events);
- :mod:`.parts`: ``ParamStore``, ``Neuron``, ``Connection``, ``NetworkError`` and the rules a
  part obeys on its own (ids, activations per role, numbers);
- :mod:`.graph`: ``NetworkGraph``, the state of a network (items in their order, the store,
  the listeners, the versions) and every query (lookups, depths and layers, paths, free ids);
- :mod:`.model`: ``NetworkModel``, the validated edits one item at a time, and the order;
- :mod:`.bulk`: the checks over whole columns and the bulk edits (``add_from_dicts``,
  ``add_connection_dicts``, ``disconnect_many``, ``from_dict``, ``from_columns``, ``copy``);
- :mod:`.shaping`: initialisation and layout (``INITS``, ``randomize``, ``auto_layout``, dense
  networks and layers, ``connect_fully``), with the pure computations behind them;
- :mod:`.image_layers`: the image layers (image input, convolution, pooling, flatten) and the
  rules each obeys on its own (its dict form, its shape, filter parameter ids);
  :mod:`.image_edits`: their edits in a network (sources, settings, filters, the feature
  neurons a flatten derives), on top of all the above.

:class:`Network` is the model with every set of operations; import everything from here.
"""

from __future__ import annotations

from .bulk import ConnectionColumns, connection_columns, find_cycle_ids, gc_paused
from .events import LAYER_LOOKS, NEURON_LOOKS, RECOMPILES, STRUCTURAL, Listener, NetworkEvent
from .image_edits import LAYER_ID_PREFIX, UPDATABLE, ImageEdits, RemovedLayers
from .image_layers import (
    KINDS,
    Convolution,
    Flatten,
    ImageInput,
    ImageLayer,
    ImageShape,
    LayerError,
    Pooling,
    filter_pid,
    parse_pid,
)
from .model import NetworkModel
from .parts import (
    CONNECTION_ID_PREFIX,
    FEATURE_ROLE,
    ID_PREFIX,
    ID_RULE,
    MAX_LABEL_LENGTH,
    MAX_POSITION,
    PASS_THROUGH_ROLES,
    ROLES,
    Connection,
    NetworkError,
    Neuron,
    ParamStore,
    activation_allowed,
    check_activation,
    check_label_text,
    finite_number,
    is_valid_id,
    position,
    slope_neuron,
    slope_param_id,
)
from .shaping import COLUMN_TOLERANCE, INITS, ConnectionPlan


class Network(ImageEdits):
    """A feed-forward DAG of neurons: the model (:class:`~.model.NetworkModel`) with its bulk
    edits (:class:`~.bulk.BulkEdits`), its initialisation and layout
    (:class:`~.shaping.Shaping`) and its image layers (:class:`~.image_edits.ImageEdits`).
    Every edit validates first and refuses with :class:`NetworkError`, changing nothing;
    listeners hear every change as ``(NetworkEvent, ids)``."""


dense = Network.dense

__all__ = [
    "COLUMN_TOLERANCE", "CONNECTION_ID_PREFIX", "FEATURE_ROLE", "ID_PREFIX", "ID_RULE", "INITS",
    "KINDS", "LAYER_ID_PREFIX", "LAYER_LOOKS", "NEURON_LOOKS", "PASS_THROUGH_ROLES",
    "RECOMPILES", "ROLES", "STRUCTURAL", "UPDATABLE", "Connection", "ConnectionColumns",
    "ConnectionPlan", "Convolution", "Flatten", "ImageInput", "ImageLayer", "ImageShape",
    "LayerError", "Listener", "Network", "NetworkError", "NetworkEvent", "NetworkModel",
    "Neuron", "ParamStore", "Pooling", "RemovedLayers", "activation_allowed",
    "check_activation", "connection_columns", "dense", "filter_pid", "find_cycle_ids",
    "finite_number", "position", "check_label_text", "MAX_LABEL_LENGTH", "MAX_POSITION",
    "gc_paused", "is_valid_id", "parse_pid", "slope_neuron", "slope_param_id",
]

"""The ``network`` section of a project file: its neurons, image layers and connections,
checked and built.

Every neuron is checked (id, role, activation, label, bias, position, leaky slope, and for a
derived input its formula: :mod:`nnstudio.core.derived_inputs`), then the image layers (format
version 2; optional): each layer's own fields by the model's own check
(:func:`~nnstudio.core.network.image_layers.layer_from_dict`), then the whole set as the model
would add it (sources, every shape with the kernels' own messages, the feature neurons each
flatten derives), the first problem named by the layer's JSON path. Then every connection (id,
endpoints, no self-connection, none into an input or a feature neuron or out of an output,
none from or to an image layer itself, no pair twice, a finite weight); then the whole for a
cycle. Ids are unique across neurons, image layers, feature neurons and connections, and a
duplicate names where the id was first used.

The connections of a big network are checked in bulk first
(:func:`~nnstudio.core.network.connection_columns`); only when that finds a problem (or unusual
input) are they checked one by one, to name the first problem. The bulk result is kept on the
checked section (:class:`CheckedNetwork`), so building does not check them again.
"""

from __future__ import annotations

from typing import Any

from .. import activations
from ..derived_inputs import check_derived
from ..messages import quote
from ..network import (
    FEATURE_ROLE,
    ID_RULE,
    ROLES,
    LayerError,
    Network,
    NetworkError,
    connection_columns,
    find_cycle_ids,
    is_valid_id,
)
from ..network.image_layers import MAX_IMAGE_LAYERS, layer_from_dict
from ..network.parts import MAX_LABEL_LENGTH, MAX_POSITION
from .checks import (
    BadNumber,
    DuplicateKeys,
    ProjectError,
    check_list,
    check_object,
    describe,
    fail,
    flag,
    member_path,
    number,
    text,
)

MAX_NEURONS = 10_000
MAX_CONNECTIONS = 500_000
#: every filter weight of a file's convolutions together (so a valid file stays within the
#: items parsing counts: one list per filter row)
MAX_FILTER_WEIGHTS = 40_000

NEURON_REQUIRED = ("id", "role", "activation")
NEURON_OPTIONAL = ("label", "bias", "bias_trainable", "x", "y", "slope", "slope_trainable",
                   "derive")
CONNECTION_REQUIRED = ("id", "source", "target", "weight")
CONNECTION_OPTIONAL = ("trainable",)


class CheckedNetwork(dict[str, Any]):
    """The network section as :func:`validate_network` returns it: normalised neuron and
    connection dicts (and the image layers' dicts, when there are any), and the connections as
    checked columns when the bulk check passed."""

    columns: tuple[Any, ...] | None = None  # as connection_columns returns them


def _check_id(v: Any, path: str) -> str:
    if not isinstance(v, str):
        fail(path, f"must be text, got {describe(v)}")
    if not is_valid_id(v):  # the whole text: "h1\n" is no id
        fail(path, f"{quote(v)} is not a valid id: {ID_RULE}")
    return v


def _item(v: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...],
          where: dict[str, str]) -> str:
    """A neuron or connection object: its keys and its id, which no earlier item used
    (``where``: id -> the JSON path of its definition, updated); returns the id."""
    check_object(v, path, required, optional)
    item_id = _check_id(v["id"], f"{path}.id")
    if item_id in where:
        fail(f"{path}.id", f"duplicate id {item_id!r} (already used at {where[item_id]})")
    where[item_id] = f"{path}.id"
    return item_id


def validate_network(net: Any, path: str) -> CheckedNetwork:
    """Check every neuron, image layer and connection; return the normalised network
    section."""
    check_object(net, path, ("neurons", "connections"), ("image_layers",))
    neurons = check_list(net["neurons"], f"{path}.neurons", MAX_NEURONS, "neurons")
    conns = check_list(net["connections"], f"{path}.connections", MAX_CONNECTIONS,
                       "connections")
    where: dict[str, str] = {}   # id -> JSON path where it was defined
    roles: dict[str, str] = {}
    labels: dict[str, str] = {}
    out_n = []
    for i, nd in enumerate(neurons):
        p = f"{path}.neurons[{i}]"
        nid = _item(nd, p, NEURON_REQUIRED, NEURON_OPTIONAL, where)
        role = nd["role"]
        if role not in ROLES:
            fail(f"{p}.role", f"must be one of {', '.join(ROLES)}, got {describe(role)}")
        act = nd["activation"]
        if not isinstance(act, str) or act not in activations.ACTIVATIONS:
            shown = quote(act) if isinstance(act, str) else describe(act)
            fail(f"{p}.activation", f"unknown activation {shown} (known: "
                 f"{', '.join(activations.NAMES)})")
        if role == "input" and act != "identity":
            fail(f"{p}.activation", f"an input neuron passes its value through, so its "
                 f"activation must be 'identity', got {act!r}")
        if act == "softmax" and role != "output":
            fail(f"{p}.activation", f"softmax works on the output neurons as a group; this is "
                 f"a {role} neuron")
        label = text(nd.get("label", nid), f"{p}.label", MAX_LABEL_LENGTH)
        bias = number(nd.get("bias", 0.0), f"{p}.bias")
        bias_tr = flag(nd.get("bias_trainable", role != "input"), f"{p}.bias_trainable")
        if role == "input" and (bias != 0.0 or bias_tr):
            fail(f"{p}.bias" if bias != 0.0 else f"{p}.bias_trainable",
                 "an input neuron has no bias (bias 0, bias_trainable false)")
        number(nd.get("x", 0.0), f"{p}.x", -MAX_POSITION, MAX_POSITION)
        number(nd.get("y", 0.0), f"{p}.y", -MAX_POSITION, MAX_POSITION)
        number(nd.get("slope", activations.DEFAULT_LEAKY_SLOPE), f"{p}.slope")
        roles[nid] = role
        labels[nid] = label
        d = {"id": nid, "role": role, "label": label, "activation": act,
             "bias": nd.get("bias", 0.0), "bias_trainable": bias_tr, "x": nd.get("x", 0.0),
             "y": nd.get("y", 0.0)}
        if "slope" in nd:
            d["slope"] = nd["slope"]
        if flag(nd.get("slope_trainable", False), f"{p}.slope_trainable"):
            if act != "leaky_relu":
                fail(f"{p}.slope_trainable", f"only a leaky ReLU has a slope to train; this "
                     f"neuron's activation is {act!r}")
            d["slope_trainable"] = True
        if "derive" in nd:
            problem = check_derived(nd["derive"])
            if problem:
                fail(f"{p}.derive", problem)
            if role != "input":
                fail(f"{p}.derive", f"only an input neuron is derived from the data; this is "
                     f"a {role} neuron")
            d["derive"] = nd["derive"]
        out_n.append(d)
    layers = net.get("image_layers", [])
    layer_ids: set[str] = set()
    if layers:
        features = _validate_image_layers(layers, f"{path}.image_layers", out_n, where)
        layer_ids = {d["id"] for d in layers}
        if len(neurons) + len(features) > MAX_NEURONS:
            fail(f"{path}.image_layers", f"{len(neurons)} neurons and {len(features)} feature "
                 f"neurons of flatten layers is more than the limit of {MAX_NEURONS} neurons")
        for fid, label in features.items():
            roles[fid] = FEATURE_ROLE
            labels[fid] = label
    cols = connection_columns(conns, roles)
    if cols is not None and not layer_ids.isdisjoint(cols[0]):
        cols = None   # a connection has a layer's id: one at a time names it
    if cols is not None:  # all fine (checked in bulk): keep them as they are
        sources, targets = cols[1], cols[2]
        out_c = conns if cols[4] is not None else [dict(cd, trainable=True) for cd in conns]
    else:  # one at a time, to name the first problem (or normalise unusual input)
        out_c = _validate_connections(conns, path, where, roles, layer_ids)
        sources = [c["source"] for c in out_c]
        targets = [c["target"] for c in out_c]
    cycle = find_cycle_ids(list(roles), sources, targets)
    if cycle:
        fail(f"{path}.connections", "the connections form a cycle: "
             + " → ".join(labels[n] for n in cycle) + "; a network must be feed-forward")
    checked = CheckedNetwork(neurons=out_n, connections=out_c)
    if "image_layers" in net:
        checked["image_layers"] = layers
    checked.columns = cols
    return checked


def _no_markers(value: Any, path: str) -> None:
    """No object in an image layer holds a key twice, and no number is NaN, infinite or too
    large (the parser's markers), each named by its JSON path."""
    if isinstance(value, BadNumber):
        fail(path, f"must be a finite number, got {value.text}")
    if isinstance(value, DuplicateKeys):
        fail(member_path(path, value.duplicate), "the key appears more than once")
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list, BadNumber)):
                _no_markers(v, member_path(path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list, BadNumber)):
                _no_markers(v, f"{path}[{i}]")


def _validate_image_layers(layers: Any, path: str, neurons: list[dict[str, Any]],
                           where: dict[str, str]) -> dict[str, str]:
    """Check the image layers (each on its own, then the whole set as the network would add
    it); returns every feature neuron's id and label. ``where`` gains the layers' and the
    feature neurons' ids."""
    check_list(layers, path, MAX_IMAGE_LAYERS, "image layers")
    taken = set(where)
    weights = 0
    for i, d in enumerate(layers):
        p = f"{path}[{i}]"
        _no_markers(d, p)
        try:
            layer, values, _ = layer_from_dict(d, taken)
        except LayerError as e:
            if (".id" == e.field and isinstance(d, dict) and isinstance(d.get("id"), str)
                    and d["id"] in where):
                fail(f"{p}.id", f"duplicate id {d['id']!r} (already used at {where[d['id']]})")
            fail(p + e.field, str(e))
        except NetworkError as e:
            fail(p, str(e))
        taken.add(layer.id)
        where[layer.id] = f"{p}.id"
        if values is not None:
            weights += values.size - len(values)
            if weights > MAX_FILTER_WEIGHTS:
                fail(f"{p}.filters", f"the filters of the image layers up to here hold {weights} "
                     f"weights, more than the limit of {MAX_FILTER_WEIGHTS}")
    net = Network.from_dict({"neurons": neurons, "connections": []})
    try:
        net.add_image_layer_dicts(layers)
    except NetworkError as e:
        fail(f"{path}[{_culprit(layers, neurons)}]", str(e))
    features: dict[str, str] = {}
    for i, d in enumerate(layers):
        if d["kind"] == "flatten":
            for fid in net.feature_neurons(d["id"]):
                features[fid] = net.neurons[fid].label
                where[fid] = f"{path}[{i}] (a feature neuron of {net.image_layers[d['id']].title})"
    return features


def _culprit(layers: list[dict[str, Any]], neurons: list[dict[str, Any]]) -> int:
    """The index of the first layer that cannot be added, adding each after its source."""
    net = Network.from_dict({"neurons": neurons, "connections": []})
    left = list(range(len(layers)))
    while left:
        ready = [i for i in left if layers[i].get("source") in (None, *net.image_layers)]
        if not ready:
            return left[0]   # a source that is missing, or sources in a cycle
        for i in ready:
            try:
                net.add_image_layer_dicts([layers[i]])
            except NetworkError:
                return i
            left.remove(i)
    return 0   # pragma: no cover  (the set was refused, so one of them fails)


def _validate_connections(conns: list[Any], path: str, where: dict[str, str],
                          roles: dict[str, str],
                          layer_ids: set[str] | frozenset[str] = frozenset()
                          ) -> list[dict[str, Any]]:
    """Check connections one by one (the first problem raises); return normalised dicts."""
    pairs: dict[tuple[str, str], str] = {}
    out_c = []
    for i, cd in enumerate(conns):
        p = f"{path}.connections[{i}]"
        cid = _item(cd, p, CONNECTION_REQUIRED, CONNECTION_OPTIONAL, where)
        src, tgt = cd["source"], cd["target"]
        for key, nid in (("source", src), ("target", tgt)):
            if not isinstance(nid, str):
                fail(f"{p}.{key}", f"must be a neuron id, got {describe(nid)}")
            if nid in layer_ids:
                fail(f"{p}.{key}", f"{quote(nid)} is an image layer; connections join neurons "
                     f"(a flatten's feature neurons, such as 'flat.0', feed the dense part)")
            if nid not in roles:
                fail(f"{p}.{key}", f"there is no neuron {quote(nid)} (a dangling connection)")
        if src == tgt:
            fail(p, f"connects neuron {src!r} to itself")
        if roles[tgt] == "input":
            fail(f"{p}.target", f"{tgt!r} is an input neuron and takes no incoming connections")
        if roles[tgt] == FEATURE_ROLE:
            fail(f"{p}.target", f"{tgt!r} is a feature neuron (at {where[tgt]}); it takes its "
                 f"value from the feature maps, not from connections")
        if roles[src] == "output":
            fail(f"{p}.source", f"{src!r} is an output neuron and feeds nothing")
        if (src, tgt) in pairs:
            fail(p, f"a second connection from {src!r} to {tgt!r} (the first is "
                 f"{pairs[(src, tgt)]})")
        pairs[(src, tgt)] = p
        number(cd["weight"], f"{p}.weight")
        tr = flag(cd.get("trainable", True), f"{p}.trainable")
        out_c.append({"id": cid, "source": src, "target": tgt, "weight": cd["weight"],
                      "trainable": tr})
    return out_c


def build_network(section: dict[str, Any]) -> Network:
    """The :class:`Network` of a checked section (from its checked columns when it has them)."""
    try:
        if isinstance(section, CheckedNetwork) and section.columns is not None \
                and not section.get("image_layers"):
            return Network.from_columns(section["neurons"], section.columns)
        return Network.from_dict(section)
    except NetworkError as e:  # validation should have caught it; keep the promise anyway
        raise ProjectError(f"$.network: {e}") from None

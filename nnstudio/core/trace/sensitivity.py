"""Sensitivity: how much an output changes per unit change of an input or of a neuron's
activation, for one sample, by the chain rule (seed 001 section 5: "multiply the derivatives
of the links").

A link from neuron s to neuron t has the slope w × f'(z_t): the connection's weight times the
target's activation slope at its z for the sample. d(output)/d(a_s) sums, over every path from
s to the output, the product of the links' slopes; :func:`sensitivities` computes it for every
neuron upstream of an output in one backward sweep, and keeps the slopes themselves when there
is exactly one path, so the readout can say "d(shoe size)/d(weight) = 2 × 0.25 = 0.5".

Softmax outputs share one normalisation (their Jacobian is not a single slope per link), so
they are refused with :class:`SensitivityError`. Pure Python + NumPy: no Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import activations
from ..network import Network
from .formatting import TIMES, num


class SensitivityError(ValueError):
    """The sensitivity cannot be written as link slopes (a softmax output)."""


@dataclass(frozen=True)
class Sensitivity:
    """d(output)/d(a of ``source``) for one sample."""

    source: str
    output: str
    value: float
    paths: int                               # how many paths lead from source to output
    slopes: tuple[float, ...] | None         # the link slopes, when there is one path

    def text(self, network: Network) -> str:
        """"d(shoe size)/d(weight) = 2 × 0.25 = 0.5", or "… = 0.31 (summed over 3 paths)"."""
        out, src = network.neurons[self.output].label, network.neurons[self.source].label
        head = f"d({out})/d({src}) = "
        if self.slopes is not None and len(self.slopes) > 1:
            return head + f" {TIMES} ".join(num(s) for s in self.slopes) + f" = {num(self.value)}"
        if self.paths > 1:
            return head + f"{num(self.value)} (summed over {self.paths} paths)"
        return head + num(self.value)


def link_slopes(network: Network, z: Mapping[str, float]) -> dict[str, float]:
    """Every connection's slope w × f'(z_target) at the sample's z."""
    out = {}
    for cid, c in network.connections.items():
        t = network.neurons[c.target]
        d = float(activations.derivative(t.activation, np.array([z[t.id]]), t.slope)[0])
        out[cid] = network.get_param(cid) * d
    return out


def sensitivities(network: Network, z: Mapping[str, float], output: str) -> dict[str, Sensitivity]:
    """d(output)/d(a) for every neuron with a path to ``output`` (and the output itself, 1),
    at the sample whose z values (by neuron id) are given; inputs first, in the network's
    order."""
    target = network.neurons[output]
    if target.activation == "softmax":
        raise SensitivityError(f"{target.label} is a softmax output: its sensitivity is not "
                               "one slope per link")
    slope = link_slopes(network, z)
    value = {output: 1.0}
    paths = {output: 1}
    chain: dict[str, tuple[float, ...] | None] = {output: ()}
    for nid in reversed(network.topological_order()):
        if nid == output:
            continue
        total, count = 0.0, 0
        single: tuple[float, ...] | None = None
        for c in network.outgoing(nid):
            if c.target not in value:
                continue
            total += slope[c.id] * value[c.target]
            count += paths[c.target]
            rest = chain[c.target]
            single = None if rest is None else (slope[c.id], *rest)
        if count:
            value[nid], paths[nid] = total, count
            chain[nid] = single if count == 1 else None
    return {nid: Sensitivity(nid, output, value[nid], paths[nid],
                             chain[nid] if paths[nid] == 1 else None)
            for nid in network.topological_order() if nid in value}   # inputs first

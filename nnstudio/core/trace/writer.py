"""The shared pen of the step writers: formatting helpers and :meth:`StepWriter.add`.

Every kind of step writer (the whole-iteration steps in :mod:`.builder`, the dense neuron's in
:mod:`.dense`, the image layers' in :mod:`.image`) subclasses :class:`StepWriter`. The
writers of one trace share one list of steps, so their steps are numbered in the order the walk
asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .. import losses as losses_mod
from .formatting import MAX_ROWS, MAX_TERMS, join_sum, num, term
from .steps import MapReveal, Revealed, Step, Trace

Array = np.ndarray


class StepWriter:
    """Writes steps of one trace into the shared ``steps`` list."""

    def __init__(self, tr: Trace, steps: list[Step]):
        self.tr = tr
        self.net = tr.network
        self.eng = tr.engine
        self.ev = tr.evaluation
        self.d = tr.digits
        self.col = self.eng.index
        self.out_pos = {o: k for k, o in enumerate(self.eng.output_ids)}
        self.steps = steps
        out_acts = [self.net.neurons[o].activation for o in self.eng.output_ids]
        self.fused = losses_mod.fused_form(tr.loss, out_acts)
        self.softmax_ids = [o for o in self.eng.output_ids
                            if self.net.neurons[o].activation == "softmax"]

    # helpers ---------------------------------------------------------------------
    def n(self, v: float) -> str:
        return num(v, self.d)

    def t(self, v: float) -> str:
        return term(v, self.d)

    def lbl(self, nid: str) -> str:
        return self.net.neurons[nid].label

    def col_of(self, arr: Array, nid: str) -> tuple[float, ...]:
        return tuple(float(x) for x in arr[:, self.col[nid]])

    def w(self, cid: str) -> float:
        return self.tr.params_before[cid]

    def sample_name(self, s: int) -> str:
        return f"sample {self.tr.samples[s]}"

    def per_sample(self, line: Callable[[int], str]) -> str:
        """One formula line per traced sample (the first MAX_ROWS), prefixed by the sample
        when there are several."""
        tr = self.tr
        if tr.n == 1:
            return line(0)
        lines = [f"{self.sample_name(s)}:  {line(s)}" for s in range(min(tr.n, MAX_ROWS))]
        if tr.n > MAX_ROWS:
            lines.append(f"\u2026 and {tr.n - MAX_ROWS} more samples")
        return "\n".join(lines)

    def add(self, phase: str, kind: str, title: str, explanation: str, formula: str, *,
            neurons: Iterable[str] = (), connections: Iterable[str] = (),
            params: Iterable[str] = (), reveals: Iterable[tuple[str, str, Revealed]] = (),
            value: float | None = None, layer: str | None = None, map: int | None = None,
            cells: Iterable[tuple[int, int]] = (),
            map_reveals: Iterable[MapReveal] = ()) -> None:
        self.steps.append(Step(len(self.steps), phase, kind, title, explanation, formula,
                               tuple(neurons), tuple(connections), tuple(params), tuple(reveals),
                               None if value is None else float(value), layer, map,
                               tuple(cells), tuple(map_reveals)))

    def sum_terms(self, values: Iterable[str]) -> str:
        vals = list(values)
        more = max(0, len(vals) - MAX_TERMS)
        return join_sum(vals[:MAX_TERMS], more)

    def sum_of(self, count: int, term_of: Callable[[int], str]) -> str:
        """A written-out sum of ``count`` terms; only the first MAX_TERMS are formatted."""
        parts = [term_of(i) for i in range(min(count, MAX_TERMS))]
        return join_sum(parts, max(0, count - MAX_TERMS))


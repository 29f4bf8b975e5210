"""The step-through walkthrough of one training iteration: forward, loss, backward and update.

:func:`build` turns a network, a batch and the training settings into a :class:`Trace`: an
ordered list of :class:`Step` objects, each one operation a learner can follow by hand

* **forward**: the inputs, then for every neuron in order its weighted sum
  ("z = 3.34 × 0.5 + (−1.43) = 0.24") and its activation ("a = softplus(0.24) = 0.826");
* **loss**: the residual of every prediction and the loss formula with its numbers;
* **backward**: from the outputs back, per neuron dL/da, da/dz and dL/dz (the chain rule
  written out), then dL/dw = dL/dz × a(source) for every incoming weight and dL/db = dL/dz for
  the bias (summed over the samples of a batch);
* **update**: per trainable parameter, one plain gradient-descent step
  "w_new = w_old − lr × gradient".

Every number comes from the engine's own :class:`~nnstudio.core.engine.Evaluation` of the
batch (z, a, dL/da, dL/dz, the loss and the gradient); the trace only formats them and writes
the arithmetic out. The one exception is da/dz, which the evaluation does not store: it is the
activation's own derivative function (the one the engine multiplies by) at the evaluated z.

Each step also *reveals* values (``Step.reveals``), so a player can show exactly what is known
after step k (:meth:`Trace.state_at`) and restore it when stepping back.

:func:`gradient_check` compares every backprop gradient with a central finite-difference
estimate, and :func:`worksheet` renders the whole walkthrough as a teacher's hand-out in plain
text or Markdown (what ``nnstudio trace`` prints and the GUI's "Export Walkthrough..." writes).

The package, one job per module:

* :mod:`.steps`: the step model (:class:`Step`, :class:`Trace`, :class:`TraceState`);
* :mod:`.builder`: :func:`build` and the walk, with the whole-iteration steps (inputs, loss,
  update); :mod:`.dense`: the dense neuron's forward and backward steps; :mod:`.image`: the
  image layers' (the sliding filter, pooling's winners, flattening, the filter gradients)
  and :func:`position_step`, their drill-down at any cell; :mod:`.writer`: the helpers every
  step writer shares;
* :mod:`.formatting`: how numbers, sums and parameter names are written;
* :mod:`.worksheet`: the hand-out; :mod:`.gradcheck`: the finite-difference check.

Pure NumPy: no Qt.
"""

from .builder import MAX_PARAMS, build, check_sample, from_project
from .formatting import num, param_name, term
from .gradcheck import GradCheck, gradient_check, gradient_check_trace
from .image import position_step
from .steps import PHASE_TITLES, PHASES, Step, Trace, TraceError, TraceState
from .worksheet import render, worksheet

__all__ = ["Step", "Trace", "TraceState", "TraceError", "GradCheck", "build", "from_project",
           "gradient_check", "gradient_check_trace", "worksheet", "render", "num", "term",
           "param_name", "check_sample", "PHASES", "PHASE_TITLES", "MAX_PARAMS",
           "position_step"]

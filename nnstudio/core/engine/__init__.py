"""The engine: a Network compiled into per-depth blocks, with forward and backward over a batch.

One job per module:

* :mod:`.layout`: compiling the model into blocks (which neurons are evaluated together, where
  each parameter sits in the flat parameter vector, where the outputs are);
* :mod:`.passes` and :mod:`.kernels`: the forward and backward math over the blocks, whole
  blocks at a time (matrix products and in-place elementwise kernels);
* :mod:`.outputs`: the output stage, the loss and its gradient, and per-block summaries;
* :mod:`.compiled`: :class:`Engine`, which holds a compiled network and its parameters and
  answers predict, loss, gradient and evaluate.

There is never a Python loop over neurons or samples in forward, backward or the update.
Convolution and pooling blocks are to be added as further vectorised block kinds beside the
dense ones (compiled in :mod:`.layout`, computed in :mod:`.passes`).
"""

from ..network import NetworkError
from .compiled import Engine, Evaluation, check_network
from .layout import EngineError

__all__ = ["Engine", "EngineError", "Evaluation", "check_network", "NetworkError"]

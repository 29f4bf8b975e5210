"""The engine: a network compiled into blocks, with forward and backward over a batch.

:class:`Engine` holds the compiled :class:`~.layout.Layout` and the flat parameter vector
``params`` (with ``trainable`` beside it); for a fully connected block the weight matrix is a
*view* of that vector, so the optimizer's in-place update is seen by the next forward pass
without any copy. Compilation happens once per structural change (:meth:`Engine.for_network`
caches on the network's ``structure_version``); parameter edits only reload the vector.

The engine's answers: :meth:`~Engine.predict` and :meth:`~Engine.activations` (forward only),
:meth:`~Engine.loss` (the loss over any number of rows, in chunks), :meth:`~Engine.gradient`
(the training hot path: loss and dL/dparams through reused arrays) and
:meth:`~Engine.evaluate` (everything about one batch, for the views and the walkthrough:
per neuron, and per image layer its maps as :class:`MapValues`).
Given a regularization :class:`~nnstudio.core.regularization.Penalty`, the gradients (of
:meth:`~Engine.gradient` and :meth:`~Engine.evaluate`) are those of the objective, loss plus
penalty; the loss they return stays the loss function's value, and :meth:`~Engine.penalty` and
``Evaluation.penalty`` give the penalty beside it.

The data's columns are the image inputs' pixels first (``image_columns`` of them, image after
image, each channel by channel and row by row), then one per input neuron.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
from numpy.typing import ArrayLike

from .. import losses
from ..conv import Pool2D, PoolState
from ..network import Network
from ..regularization import Penalty
from .layout import DenseBlock, EngineError, ImageBlock, ParamLayer, compile_layout
from .outputs import (
    check_loss,
    layer_grad_means,
    loss_value,
    output_grads,
    output_slope_grads,
    output_stage,
)
from .passes import Cache, Work, backward, bind_weights, forward

Array = np.ndarray


@dataclass
class MapValues:
    """One image layer's values for a batch: ``z`` and ``a`` (samples, maps, height, width; a
    convolution's before and after its activation, the same array otherwise; a flatten's are
    its samples × values), dL/da and dL/dz of the same shapes, and for max pooling the input
    position (rows, columns) that won each window (samples, maps, out height, out width)."""

    z: Array
    a: Array
    dl_da: Array
    dl_dz: Array
    winners: tuple[Array, Array] | None = None


@dataclass
class Evaluation:
    """Everything the visualizer shows for one batch, in engine neuron order
    (``engine.neuron_ids``): z and a per sample and neuron, dL/da and dL/dz, the loss and dL/dp
    for every parameter (in ``engine.param_ids`` order; locked parameters included); per
    connected image layer (by id) its :class:`MapValues`. With a regularization penalty,
    ``grad`` is the gradient of loss + penalty and ``penalty`` its value (else 0)."""

    z: Array
    a: Array
    dl_da: Array
    dl_dz: Array
    loss: float
    grad: Array
    outputs: Array
    targets: Array
    penalty: float = 0.0
    maps: dict[str, MapValues] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """What training minimises: the loss plus the regularization penalty."""
        return self.loss + self.penalty


class Engine:
    """A compiled network. Build with :meth:`compile` (or the cached :meth:`for_network`)."""

    LOSS_CHUNK = 1024

    def __init__(self, net: Network) -> None:
        layout = self.layout = compile_layout(net)
        self.blocks: list[DenseBlock] = layout.blocks
        self.neuron_ids: list[str] = layout.neuron_ids
        self.index: dict[str, int] = layout.index
        self.input_ids: list[str] = layout.input_ids
        self.output_ids: list[str] = layout.output_ids
        self.param_ids: list[str] = layout.param_ids
        self.slots: Array = layout.slots
        self.block_of_param: Array = layout.block_of_param
        self.depth_of_block: list[int] = layout.depth_of_block
        self.weight_mask: Array = layout.weight_mask
        self.image_blocks: list[ImageBlock] = layout.image_blocks
        self.image_columns: int = layout.image_columns
        self.param_layers: list[ParamLayer] = layout.param_layers
        self._param_pos = {p: i for i, p in enumerate(self.param_ids)}
        self.params: Array = np.zeros(len(self.param_ids))
        self.trainable: Array = np.ones(len(self.param_ids), dtype=bool)
        self._W: list[Array] = []
        self._works: dict[tuple[int, int], Work] = {}
        self._net_id = id(net)
        self.structure_version: int = net.structure_version
        self.param_version = -1
        self.load_params(net)

    # ------------------------------------------------------------------ compile
    @classmethod
    def compile(cls, net: Network) -> Engine:
        return cls(net)

    @staticmethod
    def for_network(net: Network, previous: Engine | None = None) -> Engine:
        """The previous engine if the structure has not changed (with parameters reloaded
        if they were edited), else a fresh compile."""
        if previous is not None and previous.structure_version == net.structure_version \
                and previous._net_id == id(net):
            previous.load_params(net)
            return previous
        return Engine.compile(net)

    # ------------------------------------------------------------------ parameters
    def load_params(self, net: Network) -> None:
        """Read every parameter value and trainable flag from the network (no recompile)."""
        self.params[:] = net.store.values[self.slots]
        self.trainable[:] = net.store.trainable[self.slots]
        self.param_version = net.param_version
        self._W = bind_weights(self.layout, self.params)

    def set_params(self, values: Array) -> None:
        """Replace the parameter vector's contents (keeps the views bound)."""
        self.params[:] = values

    def store_params(self, net: Network, values: Array | None = None) -> None:
        """Write parameters (default: the engine's own) back into the network."""
        net.set_param_vector(self.slots, self.params if values is None else values)
        self.param_version = net.param_version

    def param_index(self, pid: str) -> int:
        """Position of a parameter (connection or neuron id) in ``params`` (a dict look-up)."""
        if len(self._param_pos) != len(self.param_ids):
            self._param_pos = {p: i for i, p in enumerate(self.param_ids)}
        try:
            return self._param_pos[pid]
        except KeyError:
            raise EngineError(f"there is no parameter {pid!r}") from None

    @property
    def n_params(self) -> int:
        return self.params.size

    @property
    def n_input_columns(self) -> int:
        """The data columns the network reads: the image inputs' pixels, then one per data
        input neuron (a derived input takes none: :mod:`nnstudio.core.derived_inputs`)."""
        return self.image_columns + self.layout.data_input_pos.size

    def _columns_needed(self) -> str:
        """What the data's input columns must be, in words."""
        n_in = self.layout.data_input_pos.size
        derived = len(self.layout.derived)
        also = (f" (and {derived} derived input{'s' if derived != 1 else ''}, which take no "
                "column)") if derived else ""
        neurons = f"{n_in} input neuron{'s' if n_in != 1 else ''}{also}"
        if not self.layout.image_inputs:
            return f"the network has {n_in} input neuron(s){also}"
        images = ", ".join(f"image {lid!r} ({' × '.join(map(str, shape))})"
                           for lid, shape in self.layout.image_inputs)
        return f"the network needs {self.n_input_columns}: {images} and {neurons}"

    # ------------------------------------------------------------------ data checks
    @overload
    def check_data(self, X: ArrayLike, Y: None = None) -> tuple[Array, None]: ...
    @overload
    def check_data(self, X: ArrayLike, Y: ArrayLike) -> tuple[Array, Array]: ...
    @overload
    def check_data(self, X: ArrayLike, Y: ArrayLike | None) -> tuple[Array, Array | None]: ...

    def check_data(self, X: ArrayLike, Y: ArrayLike | None = None) -> tuple[Array, Array | None]:
        """X (and Y) as float64 tables whose columns fit the input (and output) neurons;
        raises EngineError saying what does not fit."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_input_columns:
            raise EngineError(
                f"the data has {X.shape[-1] if X.ndim == 2 else '?'} input column(s) but "
                f"{self._columns_needed()}"
            )
        if Y is None:
            return X, None
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim != 2 or Y.shape[1] != len(self.output_ids) or Y.shape[0] != X.shape[0]:
            raise EngineError(
                f"the data has {Y.shape[-1] if Y.ndim == 2 else '?'} target column(s) but "
                f"the network has {len(self.output_ids)} output neuron(s)"
            )
        return X, Y

    # ------------------------------------------------------------------ forward
    def _work(self, n: int) -> Work:
        """Reusable arrays of the training hot path for batches of ``n`` rows (per thread;
        a few batch sizes are kept: the mini-batch and the epoch's last, shorter one)."""
        key = (threading.get_ident(), n)
        w = self._works.get(key)
        if w is None:
            if len(self._works) >= 4:  # forget the oldest batch size
                try:
                    self._works.pop(next(iter(self._works)), None)
                except (StopIteration, RuntimeError):  # another thread changed it meanwhile
                    pass
            w = self._works[key] = Work(self.layout, n)
        return w

    def predict(self, X: Array) -> Array:
        """The output neurons' activations for each row of X."""
        X, _ = self.check_data(X)
        cache = Cache()
        forward(self.layout, self.params, self._W, X, cache)
        return output_stage(self.layout, cache)[1].copy()

    def activations(self, X: Array) -> tuple[Array, Array]:
        """(z, a) of every neuron for each row of X, samples x neurons in engine order
        (``engine.neuron_ids``), softmax applied: a forward pass only, no targets needed."""
        X, _ = self.check_data(X)
        cache = Cache()
        forward(self.layout, self.params, self._W, X, cache)
        output_stage(self.layout, cache)
        return np.concatenate(cache.zs, axis=1), np.concatenate(cache.as_, axis=1)

    def check_loss(self, loss: str) -> None:
        """Raise EngineError if ``loss`` cannot be computed exactly for this network's output
        activations (a cross-entropy over an output it has no exact form for)."""
        check_loss(self.layout, loss)

    def loss(self, X: Array, Y: Array, loss: str) -> float:
        """The loss over a batch at the current parameters (forward only).

        A big batch (such as a whole dataset, once per epoch) is evaluated in chunks of
        ``LOSS_CHUNK`` rows through reused arrays that stay in the processor's cache; every loss
        is a sum over samples (divided by their number for the mean losses), so the chunks'
        values combine exactly, up to rounding."""
        X, Y = self.check_data(X, Y)
        layout = self.layout
        n, c = X.shape[0], self.LOSS_CHUNK
        if n <= c:
            cache = Cache()
            forward(layout, self.params, self._W, X, cache)
            z_out, a_out = output_stage(layout, cache)
            return loss_value(layout, loss, z_out, a_out, Y)
        mean = losses.get(loss).mean
        total = 0.0
        for lo in range(0, n, c):
            hi = min(n, lo + c)
            work = self._work(c) if hi - lo == c else None
            cache = work.cache if work is not None else Cache()
            forward(layout, self.params, self._W, X[lo:hi], cache, work)
            z_out, a_out = output_stage(layout, cache)
            v = loss_value(layout, loss, z_out, a_out, Y[lo:hi])
            total += v * (hi - lo) / n if mean else v
        return total

    # ------------------------------------------------------------------ backward
    def penalty(self, penalty: Penalty | None) -> float:
        """The regularization penalty at the current parameters (0 without one)."""
        return 0.0 if penalty is None else penalty.value(self.params, self.weight_mask)

    def gradient(self, X: Array, Y: Array, loss: str, grad: Array | None = None,
                 penalty: Penalty | None = None) -> tuple[float, Array]:
        """(loss, dL/dparams) over a batch: the training hot path. It reuses its working
        arrays from call to call (keyed by batch size), so nothing big is allocated per step;
        pass ``grad`` to have the gradient written into that array. With ``penalty`` the
        gradient is that of loss + penalty (the loss returned is still the loss alone)."""
        layout = self.layout
        work = self._work(X.shape[0])
        cache = work.cache
        forward(layout, self.params, self._W, X, cache, work)
        z_out, a_out = output_stage(layout, cache)
        value, dl_da_out, dz_out = output_grads(layout, loss, z_out, a_out, Y, self.params)
        if grad is None:
            grad = np.empty_like(self.params)
        backward(layout, self._W, cache, dz_out, grad, work=work, params=self.params)
        output_slope_grads(layout, z_out, dl_da_out, grad)
        if penalty is not None:
            penalty.add_gradient(self.params, self.weight_mask, grad, work.params)
        return value, grad

    def evaluate(self, X: Array, Y: Array, loss: str,
                 penalty: Penalty | None = None) -> Evaluation:
        """Everything about one batch, for display: z, a, dL/da, dL/dz per neuron and sample
        (engine neuron order), the loss, and every parameter's gradient (of loss + penalty
        when a regularization ``penalty`` is given; its value is ``Evaluation.penalty``)."""
        X, Y = self.check_data(X, Y)
        layout = self.layout
        cache = Cache()
        forward(layout, self.params, self._W, X, cache)
        z_out, a_out = output_stage(layout, cache)
        value, dl_da_out, dz_out = output_grads(layout, loss, z_out, a_out, Y, self.params)
        grad = np.empty_like(self.params)
        result = backward(layout, self._W, cache, dz_out, grad, full=True, params=self.params)
        output_slope_grads(layout, z_out, dl_da_out, grad)
        assert result is not None  # full=True
        if penalty is not None:
            penalty.add_gradient(self.params, self.weight_mask, grad)
        dA, dZ = result
        # outputs: dL/da from the loss, dL/dz from the output stage
        for k, (b, i) in enumerate(layout.out_loc):
            dA_b = dA[b]
            assert dA_b is not None  # full=True: every block has one
            dA_b[:, i] = dl_da_out[:, k]
            dZ_b = dZ[b]
            if dZ_b is None:
                dZ_b = dZ[b] = np.zeros_like(cache.zs[b])
            dZ_b[:, i] = dz_out[:, k]
        dA_0 = dA[0]
        assert dA_0 is not None
        dZ[0] = dA_0.copy()  # inputs pass their value through: dL/dz = dL/da
        return Evaluation(
            z=_side_by_side(cache.zs), a=_side_by_side(cache.as_), dl_da=_side_by_side(dA),
            dl_dz=_side_by_side(dZ), loss=value, grad=grad, outputs=a_out.copy(), targets=Y,
            penalty=self.penalty(penalty), maps=self._maps(cache),
        )

    def _maps(self, cache: Cache) -> dict[str, MapValues]:
        """The image blocks' values of a full pass, by layer id (zeros where no gradient
        reaches)."""
        out: dict[str, MapValues] = {}
        for i, ib in enumerate(self.image_blocks):
            z, a = cache.image_z[i], cache.image_a[i]
            dl_da = cache.image_dl_da[i] if cache.image_dl_da else None
            dl_dz = cache.image_dl_dz[i] if cache.image_dl_dz else None
            zero = np.zeros_like(z)
            winners = None
            state = cache.image_states[i]
            if isinstance(ib.shape, Pool2D) and ib.shape.mode == "max":
                assert isinstance(state, PoolState)
                winners = ib.shape.winners(state)
            out[ib.id] = MapValues(z, a, zero if dl_da is None else dl_da.reshape(z.shape),
                                   zero if dl_dz is None else dl_dz.reshape(z.shape), winners)
        return out

    # ------------------------------------------------------------------ helpers for views
    def layer_grad_means(self, grad: Array) -> Array:
        """Mean |dL/dp| of each parameter layer (``param_layers``: one entry per convolution,
        then per dense depth >= 1)."""
        return layer_grad_means(self.layout, grad)

    def block_depths(self) -> list[int]:
        """The depth of each parameter layer (see :meth:`layer_grad_means`)."""
        return [pl.depth for pl in self.param_layers]

    def describe_param(self, net: Network, i: int) -> str:
        pid = self.param_ids[i]
        if pid in net.connections:
            c = net.connections[pid]
            return f"weight {pid!r} ({net.neurons[c.source].label} → {net.neurons[c.target].label})"
        return net.slope_param_name(pid) or net.filter_param_name(pid) \
            or f"bias of {net.name(pid)}"


def _side_by_side(blocks: Sequence[Array | None]) -> Array:
    """Per-block (samples x block neurons) arrays as one samples x neurons table."""
    arrays = [a for a in blocks if a is not None]
    assert len(arrays) == len(blocks), "every block has its array"
    return np.concatenate(arrays, axis=1)


def check_network(net: Network) -> None:
    """Raise NetworkError/EngineError if the network cannot be evaluated or trained."""
    Engine.compile(net)

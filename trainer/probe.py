"""The instrumented train step: per-layer norms from the very gradients the optimizer applies.

Keras 3 callbacks never see gradients, so `ProbedModel.train_step` does what Keras's own TF
train step does (forward pass under a GradientTape, loss with regularization, optimizer update)
and, inside the same traced function, reduces the gradients to a handful of numbers per layer.
They leave the step as one small vector in its logs (key `PROBE_KEY`). `make_chunk_function`
runs several steps per call of one traced function and returns their vectors stacked, so a
chunk of steps costs one call and one transfer to the host (see `trainer/loop.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from trainer.reductions import dead_fractions, half_squares, output_norms, per_layer_norms

PROBE_KEY = "_probe"


@dataclass(frozen=True)
class ProbeLayout:
    """Where each field lives in the probe vector a train step returns."""

    n_layers: int
    clipped: bool
    time_steps: int  # 0 when the model has no time axis
    # Per probed layer, for the diagnosis: its Keras kind, and how many numbers its output
    # holds per example (0 where the output is not tapped), so that backpropagated signals of
    # layers of different shapes compare per unit.
    names: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    units: tuple[int, ...] = ()

    def fields(self) -> list[str]:
        """Per-layer fields present, in vector order."""
        names = ["grad_norms", "clipped_grad_norms", "weight_norms", "update_ratios",
                 "output_grad_norms", "dead_fractions"]
        return [n for n in names if n != "clipped_grad_norms" or self.clipped]

    def records(self, matrix: np.ndarray) -> list[dict[str, Any]]:
        """Split probe vectors (one row per step) into {"loss", field: [per layer], ...} dicts.

        Vectorized over the rows, since it runs for every recorded step.
        """
        columns: dict[str, list[Any]] = {"loss": matrix[:, 0].tolist()}
        at, n = 1, self.n_layers
        for name in self.fields():
            columns[name] = matrix[:, at:at + n].tolist()
            at += n
        if self.time_steps:
            columns["time_grad_norms"] = matrix[:, at:at + self.time_steps].tolist()
        names = list(columns)
        return [dict(zip(names, row)) for row in zip(*columns.values())]

    @property
    def width(self) -> int:
        """Length of the probe vector: the loss, the per-layer fields, the time view."""
        return 1 + len(self.fields()) * self.n_layers + self.time_steps

    def grad_slice(self) -> slice:
        """Where the per-layer (unclipped) gradient norms sit in the vector."""
        return slice(1, 1 + self.n_layers)

    def field_slice(self, name: str) -> slice:
        """Where a per-layer field (one of `fields()`) sits in the vector."""
        at = 1 + self.fields().index(name) * self.n_layers
        return slice(at, at + self.n_layers)


class _Spec:
    """Probe wiring kept off Keras's attribute tracking (a plain object, not a Layer).

    `forward(x)` runs the model for training and returns (y_pred, outputs of the tapped
    layers); `tapped` says which probed layer each tap belongs to (None: all, in order).
    """

    def __init__(self, forward: Callable[[Any], tuple[Any, list[Any]]], layer_of_var: tf.Tensor,
                 layout: ProbeLayout, tapped: list[int] | None = None,
                 relu: list[int] | None = None) -> None:
        self.forward = forward
        self.layer_of_var = layer_of_var
        self.layout = layout
        self.tapped = tapped
        self.relu = relu or []  # probed layers whose ReLU output is tapped too (dead units)
        self.chunk: Any = None  # the traced loop of train steps, once built
        self.epoch_functions: Any = None  # traced (reset_metrics, get_metrics_result): loop.py
        self.traced = False  # whether `chunk` has been traced (a warm model from the cache)
        self.run: Any = None  # what trainer.models.prepare needs to start another run


def probe_spec(model: keras.Model, time_view: bool = False) -> _Spec:
    """The probe's wiring for a built, compiled model: per-layer groups of its variables (see
    `trainer.layerpaths`) and, where the graph allows, taps on the layers' outputs.

    A functional or Sequential model has its top-level layers' outputs tapped (for
    `output_grad_norms`); a subclassed one, or a layer inside a nested model, reports NaN there.
    """
    from trainer.layerpaths import kind_of, probed_layers

    probed = probed_layers(model)
    index = {id(v): i for i, (_, layer) in enumerate(probed) for v in layer.trainable_weights}
    fallback = len(probed) - 1  # a variable of no probed layer (rare) counts with the last
    layer_of_var = tf.constant([index.get(id(v), fallback) for v in model.trainable_variables],
                               tf.int32)
    clipped = bool(model.optimizer.clipnorm or model.optimizer.global_clipnorm
                   or model.optimizer.clipvalue)
    steps = int(model.inputs[0].shape[1]) if time_view else 0
    top = {id(layer) for layer in getattr(model, "layers", [])}
    tapped = [i for i, (path, layer) in enumerate(probed)
              if id(layer) in top and "/" not in path] if _is_graph(model) else []
    layout = ProbeLayout(len(probed), clipped, steps, tuple(path for path, _ in probed),
                         tuple(kind_of(layer) for _, layer in probed),
                         tuple(_units(probed[i][1]) if i in tapped else 0
                               for i in range(len(probed))))
    relu = [(i, out) for i in tapped if (out := _relu_output(probed[i][1])) is not None]
    if _is_graph(model) and tapped:
        taps = keras.Model(model.inputs, [model.outputs if len(model.outputs) > 1
                                          else model.outputs[0],
                                          [probed[i][1].output for i in tapped]
                                          + [out for _, out in relu]])

        def forward(x: Any) -> tuple[Any, list[Any]]:
            y_pred, outs = taps(x, training=True)
            return y_pred, outs
    else:
        def forward(x: Any) -> tuple[Any, list[Any]]:
            return (model(x, training=True) if model._call_has_training_arg
                    else model(x)), []
    return _Spec(forward, layer_of_var, layout,
                 None if tapped == list(range(len(probed))) else tapped, [i for i, _ in relu])


def _is_relu(activation: Any) -> bool:
    return getattr(activation, "__name__", "") == "relu"


def _relu_output(layer: Any) -> Any:
    """The ReLU output that follows a probed layer (its own activation, or an Activation layer
    after it with only normalization between), whose exact zeros are dead units; or None."""
    if _is_relu(getattr(layer, "activation", None)):
        return layer.output
    current = layer
    for _ in range(4):
        nodes = getattr(current, "_outbound_nodes", None) or []
        if len(nodes) != 1:
            return None
        current = nodes[0].operation
        if isinstance(current, keras.layers.ReLU) or (
                isinstance(current, keras.layers.Activation) and _is_relu(current.activation)):
            return current.output
        if not isinstance(current, (keras.layers.BatchNormalization,
                                    keras.layers.LayerNormalization)):
            return None
    return None


def _units(layer: Any) -> int:
    """Numbers per example in a layer's (first) output."""
    output = layer.output
    shape = (output[0] if isinstance(output, (list, tuple)) else output).shape
    return int(np.prod([d for d in shape[1:] if d is not None], dtype=np.int64)) or 1


def _is_graph(model: keras.Model) -> bool:
    """Whether the model is a graph of layers whose outputs can be tapped."""
    try:
        return bool(model.inputs) and bool(model.outputs)
    except (AttributeError, ValueError):
        return False


class ProbedModel(keras.Model):
    """A functional Keras model whose train step also reports per-layer gradient figures."""

    def attach_probe(self, time_view: bool = False) -> None:
        """Wire the probe; call after `compile`.

        Args:
            time_view: also report ‖∂L/∂x_t‖ for each time step t of the input sequence.
        """
        self._gradwatch = probe_spec(self, time_view)
        # Keras (TF backend, no distribution strategy) builds the optimizer inside the first
        # trace; a tf.function that creates variables is traced twice, which doubled the wait
        # for the first traced step.
        self.optimizer.build(self.trainable_variables)

    @property
    def probe_layout(self) -> ProbeLayout:
        """How to read the probe vector of this model's steps."""
        return self._gradwatch.layout

    def chunk_traced(self) -> bool:
        """Whether the chunk function is traced already (calling it will not trace)."""
        return self._gradwatch.traced

    def eager_steps_match_traced(self) -> bool:
        """Whether an eager train step is bit for bit the traced one (trainer/loop.py).

        Not with a recurrent layer: an eager `while_loop` sums the gradient of the shared
        weights over time steps in another order than the traced loop's accumulators do (a
        SimpleRNN on the adding problem: 2e-6 apart from its second step on, with Grappler
        entirely off), so such a model never mixes the two.
        """
        return not any(isinstance(layer, keras.layers.RNN)
                       for layer in self._flatten_layers(include_self=False))

    def mark_chunk_traced(self) -> None:
        self._gradwatch.traced = True

    def make_chunk_function(self) -> Callable[[Any, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
        """A traced loop of train steps: `chunk(iterator, n)` runs up to n of them.

        It returns each step's probe vector (one row per step) and the Unix time the step
        finished. It ends early when the iterator runs dry or after a step whose loss or
        gradient is not finite (training on from NaN weights would only waste time). Built and
        traced once per model, like Keras's own train function.
        """
        if self._gradwatch.chunk is not None:
            return self._gradwatch.chunk
        layout = self._gradwatch.layout
        checked = layout.grad_slice().stop  # the loss and the per-layer gradient norms

        @tf.function(reduce_retracing=True)
        def chunk(iterator: Any, n: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            rows = tf.TensorArray(tf.float32, size=0, dynamic_size=True,
                                  element_shape=[layout.width])
            times = tf.TensorArray(tf.float64, size=0, dynamic_size=True, element_shape=[])
            i, going = tf.constant(0), tf.constant(True)
            while going and i < n:
                batch = iterator.get_next_as_optional()
                if batch.has_value():
                    probe = self.train_step(batch.get_value())[PROBE_KEY]
                    with tf.control_dependencies([probe]):
                        finished = tf.timestamp()
                    rows = rows.write(i, probe)
                    times = times.write(i, finished)
                    going = tf.reduce_all(tf.math.is_finite(probe[:checked]))
                    i += 1
                else:
                    going = tf.constant(False)
            return rows.stack(), times.stack()

        self._gradwatch.chunk = chunk
        return chunk

    def train_step(self, data: Any) -> dict[str, Any]:
        """Keras's TF train step plus the probe (same gradients, same update).

        `gradwatch.GradWatchCallback` runs this very step on a user's own model (any
        `keras.Model` with its probe spec in `_gradwatch`)."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        spec = self._gradwatch
        n = spec.layout.n_layers
        variables = self.trainable_variables
        # Snapshots of the weights before the update (a read is a snapshot: the optimizer's
        # in-place update copies a buffer that is still being read).
        before = [tf.convert_to_tensor(v) for v in variables]
        with tf.GradientTape() as tape:
            if spec.layout.time_steps:
                tape.watch(x)
            y_pred, outputs = spec.forward(x)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
        n_grad_taps = len(outputs) - len(spec.relu)
        relu_outputs = outputs[n_grad_taps:]
        sources = {"vars": variables, "taps": outputs[:n_grad_taps]}
        if spec.layout.time_steps:
            sources["x"] = x
        grads = tape.gradient(loss, sources)
        self.optimizer.apply_gradients(zip(grads["vars"], variables))

        after = [tf.convert_to_tensor(v) for v in variables]
        columns = [half_squares(grads["vars"]), half_squares(after),
                   half_squares([a - b for a, b in zip(after, before)]), half_squares(before)]
        if spec.layout.clipped:
            # Keras's own clipping function, the one apply_gradients just used.
            columns.append(half_squares(self.optimizer._clip_gradients(grads["vars"])))
        norms = per_layer_norms(columns, spec.layer_of_var, n)
        parts = [tf.reshape(tf.cast(loss, tf.float32), [1]), norms[0]]
        if spec.layout.clipped:
            parts.append(norms[4])
        parts += [norms[1], norms[2] / norms[3], output_norms(grads["taps"], spec.tapped, n),
                  dead_fractions(relu_outputs, spec.relu, n)]
        if spec.layout.time_steps:
            gx = tf.cast(grads["x"], tf.float32)
            parts.append(tf.sqrt(tf.reduce_sum(tf.square(gx), axis=[0, 2])))
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(tf.nest.flatten(x)[0])[0])
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs[PROBE_KEY] = tf.concat(parts, axis=0)
        return logs


"""The instrumented train step: per-layer norms from the very gradients the optimizer applies.

Keras 3 callbacks never see gradients, so `ProbedModel.train_step` does what Keras's own TF
train step does (forward pass under a GradientTape, loss with regularization, optimizer update)
and, inside the same traced function, reduces the gradients to a handful of numbers per layer.
They leave the graph as one small vector in the step's logs (key `PROBE_KEY`), so the only host
transfer is the one Keras already makes for the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

PROBE_KEY = "_probe"
_TINY = 1e-30


@dataclass(frozen=True)
class ProbeLayout:
    """Where each field lives in the probe vector a train step returns."""

    n_layers: int
    clipped: bool
    time_steps: int  # 0 when the model has no time axis

    def fields(self) -> list[str]:
        """Per-layer fields present, in vector order."""
        names = ["grad_norms", "clipped_grad_norms", "weight_norms", "update_ratios",
                 "output_grad_norms"]
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

    def grad_slice(self) -> slice:
        """Where the per-layer (unclipped) gradient norms sit in the vector."""
        return slice(1, 1 + self.n_layers)


class _Spec:
    """Probe wiring kept off Keras's attribute tracking (a plain object, not a Layer)."""

    def __init__(self, taps: keras.Model, layer_of_var: tf.Tensor, layout: ProbeLayout) -> None:
        self.taps = taps
        self.layer_of_var = layer_of_var
        self.layout = layout


def _per_layer_norms(tensors: list[tf.Tensor], layer_of_var: tf.Tensor, n: int) -> tf.Tensor:
    squares = tf.stack([tf.reduce_sum(tf.square(tf.cast(t, tf.float32))) for t in tensors])
    return tf.sqrt(tf.math.unsorted_segment_sum(squares, layer_of_var, n))


class ProbedModel(keras.Model):
    """A functional Keras model whose train step also reports per-layer gradient figures."""

    def attach_probe(self, time_view: bool = False) -> None:
        """Wire the probe; call after `compile`.

        Args:
            time_view: also report ‖∂L/∂x_t‖ for each time step t of the input sequence.
        """
        probed = [layer for layer in self.layers if layer.trainable_weights]
        index = {id(v): i for i, layer in enumerate(probed) for v in layer.trainable_weights}
        layer_of_var = tf.constant([index[id(v)] for v in self.trainable_variables], tf.int32)
        taps = keras.Model(self.inputs, [layer.output for layer in probed])
        clipped = bool(self.optimizer.clipnorm or self.optimizer.global_clipnorm
                       or self.optimizer.clipvalue)
        steps = int(self.inputs[0].shape[1]) if time_view else 0
        self._gradwatch = _Spec(taps, layer_of_var, ProbeLayout(len(probed), clipped, steps))
        # Keras (TF backend, no distribution strategy) builds the optimizer inside the first
        # trace; a tf.function that creates variables is traced twice, which doubled the wait
        # for the first traced step.
        self.optimizer.build(self.trainable_variables)

    @property
    def probe_layout(self) -> ProbeLayout:
        """How to read the probe vector of this model's steps."""
        return self._gradwatch.layout

    def make_train_function(self, force: bool = False) -> Any:
        """Keras's traced train function, except that the first step runs eagerly.

        Tracing the step takes most of a second even for a small model; run eagerly, the very
        same step (same code, same gradients, same optimizer update) takes a tenth of that, so
        the first Step reaches the viewer while the traced function is still to be built.
        """
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force)
        traced = self.train_function
        if self.run_eagerly:
            return traced
        self.run_eagerly = True
        try:
            first = [self._make_function(self.train_step)]  # Keras's wrapper, built eager
        finally:
            self.run_eagerly = False

        def train_function(iterator: Any) -> Any:
            return first.pop()(iterator) if first else traced(iterator)

        self.train_function = train_function
        return train_function

    def train_step(self, data: Any) -> dict[str, Any]:
        """Keras's TF train step plus the probe (same gradients, same update)."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        spec = self._gradwatch
        n = spec.layout.n_layers
        variables = self.trainable_variables
        before = [tf.identity(v) for v in variables]
        with tf.GradientTape() as tape:
            if spec.layout.time_steps:
                tape.watch(x)
            outputs = spec.taps(x, training=True)
            y_pred = outputs[-1]
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
        sources = {"vars": variables, "taps": outputs}
        if spec.layout.time_steps:
            sources["x"] = x
        grads = tape.gradient(loss, sources)
        self.optimizer.apply_gradients(zip(grads["vars"], variables))

        parts = [tf.reshape(tf.cast(loss, tf.float32), [1]),
                 _per_layer_norms(grads["vars"], spec.layer_of_var, n)]
        if spec.layout.clipped:
            # Keras's own clipping function, the one apply_gradients just used.
            clipped = self.optimizer._clip_gradients(grads["vars"])
            parts.append(_per_layer_norms(clipped, spec.layer_of_var, n))
        weights = _per_layer_norms(variables, spec.layer_of_var, n)
        deltas = _per_layer_norms([v - b for v, b in zip(variables, before)],
                                  spec.layer_of_var, n)
        old = _per_layer_norms(before, spec.layer_of_var, n)
        parts += [weights, deltas / old,
                  tf.stack([tf.norm(tf.cast(g, tf.float32)) for g in grads["taps"]])]
        if spec.layout.time_steps:
            gx = tf.cast(grads["x"], tf.float32)
            parts.append(tf.sqrt(tf.reduce_sum(tf.square(gx), axis=[0, 2])))
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(y)[0])
        logs = self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        logs[PROBE_KEY] = tf.concat(parts, axis=0)
        return logs


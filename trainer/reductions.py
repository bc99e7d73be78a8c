"""The probe's reductions inside the traced train step: per-layer norms from per-variable
sums, the backpropagated signal per tapped layer, and the dead-unit fractions (TensorFlow ops
only; trainer/probe.py wires them into the step)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf


def dense_grad(t: Any) -> Any:
    """A gradient as a tensor; an Embedding's sparse one with its repeated rows summed (None,
    for a variable the loss does not reach, as zero)."""
    if t is None:
        return tf.zeros([])
    if isinstance(t, tf.IndexedSlices):
        rows, at = tf.unique(t.indices)
        return tf.math.unsorted_segment_sum(t.values, at, tf.size(rows))
    return t


def half_squares(tensors: list[Any]) -> tf.Tensor:
    """Σx²/2 of each tensor, one fused L2Loss op apiece (the graph's cost here is per op)."""
    if not tensors:
        return tf.zeros([0])
    return tf.stack([tf.nn.l2_loss(tf.cast(dense_grad(t), tf.float32)) for t in tensors])


def output_norms(grads: list[Any], tapped: list[int] | None, n: int) -> tf.Tensor:
    """‖∂L/∂output‖ per probed layer; NaN for a layer without a tap."""
    norms = tf.sqrt(2.0 * half_squares(grads))
    if tapped is None:
        return norms
    blank = tf.fill([n], float("nan"))
    if not tapped:
        return blank
    return tf.tensor_scatter_nd_update(blank, [[i] for i in tapped], norms)


def dead_fractions(outputs: list[Any], relu: list[int], n: int) -> tf.Tensor:
    """Per probed layer, the fraction of units whose ReLU output is zero for every example of
    the batch (NaN for a layer without a ReLU tap)."""
    blank = tf.fill([n], float("nan"))
    if not relu:
        return blank
    fractions = []
    for out in outputs:
        out = tf.convert_to_tensor(out)
        axes = list(range(len(out.shape) - 1))  # the batch and any spatial or time axes
        active = tf.reduce_any(out > 0, axis=axes)
        fractions.append(1.0 - tf.reduce_mean(tf.cast(active, tf.float32)))
    return tf.tensor_scatter_nd_update(blank, [[i] for i in relu], tf.stack(fractions))


def per_layer_norms(half_squares: list[tf.Tensor], layer_of_var: tf.Tensor,
                     n: int) -> tf.Tensor:
    """Per-layer L2 norms from per-variable Σx²/2: shape (len(half_squares), n)."""
    sums = tf.math.unsorted_segment_sum(tf.stack(half_squares, axis=1), layer_of_var, n)
    return tf.transpose(tf.sqrt(2.0 * sums))

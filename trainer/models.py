"""Builds the Keras model a RunConfig describes, with every remedy switched as configured."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from trainer import remedies as table
from trainer.contract.config import RunConfig, input_shape, n_classes
from trainer.contract.datasets import DATASET_SPECS, Task
from trainer.probe import ProbedModel

LOSSES = {"binary": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
          "multiclass": lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
          "regression": lambda: keras.losses.MeanSquaredError()}
ACCURACY = {"binary": lambda: keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0),
            "multiclass": lambda: keras.metrics.SparseCategoricalAccuracy(name="accuracy")}


def task_of(config: RunConfig) -> Task:
    """binary, multiclass or regression: the dataset's (trainer/contract/datasets.py)."""
    return DATASET_SPECS[config.dataset.name].task


class _Seeds:
    """Hands each layer its own initializer seed, so no two layers start identical."""

    def __init__(self, seed: int) -> None:
        self.next = seed * 1000

    def __call__(self) -> int:
        self.next += 1
        return self.next


def _dense(config: RunConfig, units: int, seeds: _Seeds, name: str) -> keras.layers.Dense:
    r = config.remedies
    return keras.layers.Dense(units, kernel_initializer=table.initializer(r, seeds()),
                              kernel_regularizer=table.regularizer(r), name=name)


def _conv(config: RunConfig, filters: int, seeds: _Seeds, name: str) -> keras.layers.Conv2D:
    r = config.remedies
    return keras.layers.Conv2D(filters, 3, padding="same",
                               kernel_initializer=table.initializer(r, seeds()),
                               kernel_regularizer=table.regularizer(r), name=name)


def _mlp_body(config: RunConfig, x: Any, seeds: _Seeds) -> Any:
    """Hidden blocks: Dense → [BatchNorm] → [LayerNorm] → activation, with optional skips."""
    return _blocks(config, x, lambda i: _dense(config, config.model.width, seeds, f"dense_{i}"))


def _cnn_body(config: RunConfig, x: Any, seeds: _Seeds) -> Any:
    """The same blocks with 3×3 convolutions ("same" padding), then global average pooling."""
    x = _blocks(config, x, lambda i: _conv(config, config.model.width, seeds, f"conv_{i}"))
    return keras.layers.GlobalAveragePooling2D(name="pool")(x)


def _blocks(config: RunConfig, x: Any, weighted: Any) -> Any:
    """`depth` blocks: weighted(i) → [BatchNorm] → [LayerNorm] → activation, optional skips."""
    r = config.remedies
    branch_scale = (1.0 / config.model.depth ** 0.5
                    if config.model.residual_scale == "inv_sqrt_depth" else 1.0)
    for i in range(1, config.model.depth + 1):
        h = weighted(i)(x)
        if r.batch_norm:
            h = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(h)
        if r.layer_norm:
            h = keras.layers.LayerNormalization(name=f"layer_norm_{i}")(h)
        h = table.activation_layer(r.activation, f"activation_{i}")(h)
        # A skip needs matching widths; the first block maps the input to `width`. By default
        # the branch is scaled by 1/sqrt(depth) so that many stacked additions keep the forward
        # signal's variance bounded (Hanin & Rolnick 2018; De & Smith 2020); residual_scale
        # "none" is He et al.'s identity mapping. The identity path carries the gradient back.
        if r.residual and x.shape[-1] == config.model.width:
            if branch_scale != 1.0:
                h = keras.layers.Rescaling(branch_scale, name=f"residual_scale_{i}")(h)
            h = keras.layers.Add(name=f"residual_{i}")([x, h])
        x = h
    return x


def _rnn_body(config: RunConfig, x: Any, seeds: _Seeds) -> Any:
    """Stacked recurrent layers; all but the top one return their whole sequence."""
    r, m = config.remedies, config.model
    cls = {"simple_rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM,
           "gru": keras.layers.GRU}[m.cell]
    for i in range(1, m.depth + 1):
        kwargs: dict[str, Any] = {}
        if m.cell == "simple_rnn":
            kwargs["activation"] = table.ACTIVATIONS[r.activation]
        x = cls(m.width, return_sequences=i < m.depth,
                kernel_initializer=table.initializer(r, seeds()),
                recurrent_initializer=table.recurrent_initializer(r, seeds()),
                kernel_regularizer=table.regularizer(r),
                recurrent_regularizer=table.regularizer(r),
                name=f"{m.cell}_{i}", **kwargs)(x)
        if r.layer_norm:
            x = keras.layers.LayerNormalization(name=f"layer_norm_{i}")(x)
    return x


def build_model(config: RunConfig) -> ProbedModel:
    """Build and compile the model for `config`; its train step reports per-layer gradients.

    Args:
        config: the run. `model` gives the shape, `remedies` the initializer, activation,
            regularizer, normalization, skips and clipping, `training` the optimizer.
    """
    keras.utils.set_random_seed(config.seed)
    seeds = _Seeds(config.seed)
    task = task_of(config)
    inputs = keras.Input(shape=input_shape(config), name="input")
    body = {"mlp": _mlp_body, "rnn": _rnn_body, "cnn": _cnn_body}[config.model.arch]
    x = body(config, inputs, seeds)
    # The model outputs logits and the loss applies sigmoid/softmax itself (from_logits): the
    # numerically stable form, and the one whose gradient does not die when an output
    # saturates (a clipped probability has zero gradient).
    outputs = _dense(config, n_classes(config), seeds, "output")(x)
    model = ProbedModel(inputs=inputs, outputs=outputs, name="gradwatch")
    model.compile(optimizer=table.optimizer(config.training, config.remedies),
                  loss=LOSSES[task](),
                  metrics=[ACCURACY[task]()] if task in ACCURACY else [])
    model.attach_probe(time_view=config.model.arch == "rnn")
    return model


def describe_layers(model: keras.Model) -> list[dict[str, Any]]:
    """CONTRACT §4 `layers`: every layer with trainable weights, input side first; a SimpleRNN
    also gets its recurrent weights' spectral radius (largest |eigenvalue|) as built."""
    out = []
    for layer in model.layers:
        if not layer.trainable_weights:
            continue
        entry = {"name": layer.name, "kind": type(layer).__name__,
                 "params": int(sum(w.numpy().size for w in layer.trainable_weights))}
        if isinstance(layer, keras.layers.SimpleRNN):
            recurrent = np.asarray(layer.cell.recurrent_kernel.numpy(), dtype=np.float64)
            entry["spectral_radius"] = float(np.max(np.abs(np.linalg.eigvals(recurrent))))
        out.append(entry)
    return out

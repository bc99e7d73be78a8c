"""Builds the Keras model a RunConfig describes, with every remedy switched as configured."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
from keras.src.random.seed_generator import SeedGenerator, make_default_seed

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


# What a run may change on a cached, traced model (see `graph_key` and `prepare`): the seed, the
# learning rate and the regularization factors (variables the graph reads), the
# initializer (weights are re-initialized), and what only sizes or fills the data. Every other
# field changes the graph and so is part of the key.
RUN_FIELDS = {"": ("name", "seed"), "training": ("learning_rate", "epochs"),
              "remedies": ("initializer", "init_std", "l1", "l2"),
              "dataset": ("n_samples", "noise")}


def graph_key(config: RunConfig) -> str:
    """What identifies a built, compiled and traced model: every field a run cannot change."""
    fields = config.model_dump()
    for section, names in RUN_FIELDS.items():
        for name in names:
            (fields[section] if section else fields).pop(name)
    fields["input_shape"] = list(input_shape(config))  # derived from the data, spelled out
    return json.dumps(fields, sort_keys=True)


class _Plan:
    """The run a model's weights are initialized for (a cached model's changes per run)."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.inits: list[tuple[Any, Any]] = []  # (variable, the initializer that fills it)
        # States of the layers' unseeded random generators (a SimpleRNN's, for its dropout),
        # in the order they drew their seed from Python's `random`.
        self.seed_states: list[Any] = []


class RunInitializer(keras.initializers.Initializer):
    """The run's initializer for one weight, looked up when called, so that a cached model's
    weights are re-initialized with the next run's initializer and seed.

    Each weight has its own slot: its seed is `seed * 1000 + slot`, so no two layers start
    identical and the same run always starts from the same weights.
    """

    def __init__(self, plan: _Plan, slot: int, recurrent: bool = False) -> None:
        self.plan, self.slot, self.recurrent = plan, slot, recurrent

    def current(self) -> keras.initializers.Initializer:
        """The Keras initializer this weight takes for the current run."""
        config = self.plan.config
        make = table.recurrent_initializer if self.recurrent else table.initializer
        return make(config.remedies, config.seed * 1000 + self.slot)

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        return self.current()(shape, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return keras.initializers.serialize(self.current())


class _Seeds:
    """Hands each weighted layer its own initializer slot."""

    def __init__(self, plan: _Plan, hyper: table.Hyper) -> None:
        self.plan, self.hyper, self.next = plan, hyper, 0

    def __call__(self, recurrent: bool = False) -> RunInitializer:
        self.next += 1
        return RunInitializer(self.plan, self.next, recurrent)


def _dense(config: RunConfig, units: int, seeds: _Seeds, name: str) -> keras.layers.Dense:
    return keras.layers.Dense(units, kernel_initializer=seeds(),
                              kernel_regularizer=table.regularizer(config.remedies, seeds.hyper),
                              name=name)


def _conv(config: RunConfig, filters: int, seeds: _Seeds, name: str) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=seeds(),
                               kernel_regularizer=table.regularizer(config.remedies, seeds.hyper),
                               name=name)


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
                kernel_initializer=seeds(), recurrent_initializer=seeds(recurrent=True),
                kernel_regularizer=table.regularizer(r, seeds.hyper),
                recurrent_regularizer=table.regularizer(r, seeds.hyper),
                name=f"{m.cell}_{i}", **kwargs)(x)
        if r.layer_norm:
            x = keras.layers.LayerNormalization(name=f"layer_norm_{i}")(x)
    return x


@contextlib.contextmanager
def _recording_initializers(plan: _Plan) -> Iterator[None]:
    """Note which initializer fills each weight any layer adds while building (Keras keeps
    none once a weight is filled), so that `prepare` can fill them again.

    Swaps `Layer.add_weight` and `SeedGenerator.__init__` for the duration: a worker builds
    one model at a time.
    """
    original = keras.layers.Layer.add_weight
    generator_init = SeedGenerator.__init__

    def seed_generator(generator: Any, seed: Any = None, *args: Any, **kwargs: Any) -> None:
        generator_init(generator, seed, *args, **kwargs)
        if seed is None:
            plan.seed_states.append(generator.state)

    def add_weight(layer: Any, *args: Any, **kwargs: Any) -> Any:
        variable = original(layer, *args, **kwargs)
        initializer = kwargs.get("initializer", args[1] if len(args) > 1 else None)
        plan.inits.append((variable, keras.initializers.get(initializer)))
        return variable

    keras.layers.Layer.add_weight = add_weight
    SeedGenerator.__init__ = seed_generator
    try:
        yield
    finally:
        keras.layers.Layer.add_weight = original
        SeedGenerator.__init__ = generator_init


def build_model(config: RunConfig) -> ProbedModel:
    """Build and compile the model for `config`; its train step reports per-layer gradients.

    The model is ready for `config` (and, through `prepare`, for any run of the same
    `graph_key`).

    Args:
        config: the run. `model` gives the shape, `remedies` the initializer, activation,
            regularizer, normalization, skips and clipping, `training` the optimizer.
    """
    keras.utils.set_random_seed(config.seed)
    plan, hyper = _Plan(config), table.Hyper()
    seeds = _Seeds(plan, hyper)
    task = task_of(config)
    with _recording_initializers(plan):
        inputs = keras.Input(shape=input_shape(config), name="input")
        body = {"mlp": _mlp_body, "rnn": _rnn_body, "cnn": _cnn_body}[config.model.arch]
        x = body(config, inputs, seeds)
        # The model outputs logits and the loss applies sigmoid/softmax itself (from_logits):
        # the numerically stable form, and the one whose gradient does not die when an
        # output saturates (a clipped probability has zero gradient).
        outputs = _dense(config, n_classes(config), seeds, "output")(x)
    model = ProbedModel(inputs=inputs, outputs=outputs, name="gradwatch")
    model.compile(optimizer=table.optimizer(config.training, config.remedies),
                  loss=LOSSES[task](),
                  metrics=[ACCURACY[task]()] if task in ACCURACY else [])
    model.attach_probe(time_view=config.model.arch == "rnn")
    model._gradwatch.run = _Run(plan, hyper, model)
    hyper.set(config.training, config.remedies, model.optimizer)
    return model


class _Run:
    """What `prepare` needs to make a built model start a new run (off Keras's tracking)."""

    def __init__(self, plan: _Plan, hyper: table.Hyper, model: ProbedModel) -> None:
        self.plan, self.hyper = plan, hyper
        recorded = {id(v) for v, _ in plan.inits} | {id(v) for v in plan.seed_states}
        missing = [v.path for v in model.variables if id(v) not in recorded]
        if missing:
            raise RuntimeError(f"no initializer recorded for {missing}")
        # The optimizer's state as built (its slots are zeros); its step count and learning
        # rate are set apart.
        optimizer = model.optimizer
        self.optimizer_start = [(v, np.array(v.numpy())) for v in optimizer.variables
                                if v is not optimizer._learning_rate]


def prepare(model: ProbedModel, config: RunConfig) -> None:
    """Make a built model (of `config`'s `graph_key`) start `config`'s run afresh: every
    weight from the run's initializer and seed, the optimizer's state as new, the run's
    learning rate and regularization factors, the metrics reset, and the global
    seeds set as `build_model` sets them. Its traced functions stay.

    Args:
        model: a model from `build_model`, trained or not.
        config: the next run.
    """
    run = model._gradwatch.run
    keras.utils.set_random_seed(config.seed)
    for state in run.plan.seed_states:  # the seeds they drew after build_model's reseeding
        state.assign([make_default_seed(), 0])
    run.plan.config = config
    for variable, initializer in run.plan.inits:
        variable.assign(initializer(variable.shape, dtype=variable.dtype))
    for variable, value in run.optimizer_start:
        variable.assign(value)
    run.hyper.set(config.training, config.remedies, model.optimizer)
    model.reset_metrics()


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

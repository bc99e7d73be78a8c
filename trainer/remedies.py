"""The one table from a RunConfig remedy name to its Keras object."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from trainer.contract.config import RemediesConfig, TrainingConfig

ACTIVATIONS = {
    "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "elu": "elu", "selu": "selu",
    "gelu": "gelu", "swish": "silu", "linear": "linear",
    "leaky_relu": "leaky_relu",  # Keras's default negative slope, 0.2
}

INITIALIZERS = {
    "glorot_uniform": lambda r, seed: keras.initializers.GlorotUniform(seed=seed),
    "glorot_normal": lambda r, seed: keras.initializers.GlorotNormal(seed=seed),
    "he_uniform": lambda r, seed: keras.initializers.HeUniform(seed=seed),
    "he_normal": lambda r, seed: keras.initializers.HeNormal(seed=seed),
    "lecun_normal": lambda r, seed: keras.initializers.LecunNormal(seed=seed),
    "orthogonal": lambda r, seed: keras.initializers.Orthogonal(seed=seed),
    "random_normal": lambda r, seed: keras.initializers.RandomNormal(
        stddev=r.init_std, seed=seed),
    "random_uniform": lambda r, seed: keras.initializers.RandomUniform(
        minval=-r.init_std, maxval=r.init_std, seed=seed),
    "zeros": lambda r, seed: keras.initializers.Zeros(),
}

REGULARIZERS = {  # which factors the penalty has (their values live in Hyper's variables)
    "none": (), "l1": ("l1",), "l2": ("l2",), "l1_l2": ("l1", "l2"),
}

CLIPPING = {  # Keras's own optimizer arguments
    "none": lambda r: {},
    "norm": lambda r: {"clipnorm": r.clip_value},
    "global_norm": lambda r: {"global_clipnorm": r.clip_value},
    "value": lambda r: {"clipvalue": r.clip_value},
}

OPTIMIZERS = {
    "sgd": lambda lr, clip: keras.optimizers.SGD(learning_rate=lr, **clip),
    "momentum": lambda lr, clip: keras.optimizers.SGD(learning_rate=lr, momentum=0.9, **clip),
    "adam": lambda lr, clip: keras.optimizers.Adam(learning_rate=lr, **clip),
    "rmsprop": lambda lr, clip: keras.optimizers.RMSprop(learning_rate=lr, **clip),
}


def activation_layer(name: str, layer_name: str | None = None) -> keras.layers.Layer:
    """A separate activation layer (so batch/layer norm can sit between Dense and it)."""
    return keras.layers.Activation(ACTIVATIONS[name], name=layer_name)


class _Scaled(keras.initializers.Initializer):
    """Another initializer's draw times a gain."""

    def __init__(self, inner: keras.initializers.Initializer, gain: float) -> None:
        self.inner, self.gain = inner, gain

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        return self.inner(shape, dtype=dtype) * self.gain

    def get_config(self) -> dict[str, Any]:
        return {"inner": keras.initializers.serialize(self.inner), "gain": self.gain}


def recurrent_initializer(remedies: RemediesConfig, seed: int) -> keras.initializers.Initializer:
    """The recurrent weights' initializer: orthogonal × gain has spectral radius = gain."""
    if remedies.recurrent_initializer == "orthogonal":
        return keras.initializers.Orthogonal(gain=remedies.recurrent_gain, seed=seed)
    inner = INITIALIZERS[remedies.recurrent_initializer](remedies, seed)
    return inner if remedies.recurrent_gain == 1.0 else _Scaled(inner, remedies.recurrent_gain)


def initializer(remedies: RemediesConfig, seed: int) -> keras.initializers.Initializer:
    """A fresh initializer; each layer needs its own seed or all layers start identical."""
    return INITIALIZERS[remedies.initializer](remedies, seed)


class Hyper:
    """A model's hyper-parameters that a cached, traced model takes from each new run.

    The traced graph reads them from variables (Python floats would be baked into it), so a
    warm model trains with the next run's values without tracing again. The learning rate is
    the optimizer's own variable already. The clip value is not here: it is part of the graph
    key, since Keras's clipping with a variable threshold trained the clipping preset
    differently in the last bit (and, over ten chaotic epochs, to another end).
    A plain object, off Keras's attribute tracking: these are not weights of the model.
    """

    def __init__(self) -> None:
        self.l1 = tf.Variable(0.0, trainable=False, dtype=tf.float32, name="l1")
        self.l2 = tf.Variable(0.0, trainable=False, dtype=tf.float32, name="l2")

    def set(self, training: TrainingConfig, remedies: RemediesConfig,
            optimizer: keras.optimizers.Optimizer) -> None:
        """Take a run's learning rate and regularization factors."""
        optimizer.learning_rate = training.learning_rate
        self.l1.assign(remedies.l1)
        self.l2.assign(remedies.l2)


class Penalty(keras.regularizers.Regularizer):
    """Keras's L1/L2/L1L2 penalty, with its factors read from Hyper's variables."""

    def __init__(self, hyper: Hyper, kinds: tuple[str, ...]) -> None:
        self.hyper, self.kinds = hyper, kinds

    def __call__(self, x: Any) -> Any:
        ops = keras.ops
        total = ops.convert_to_tensor(0.0, dtype=x.dtype)
        if "l1" in self.kinds:
            total += ops.cast(self.hyper.l1, x.dtype) * ops.sum(ops.absolute(x))
        if "l2" in self.kinds:
            total += ops.cast(self.hyper.l2, x.dtype) * ops.sum(ops.square(x))
        return total

    def get_config(self) -> dict[str, Any]:
        return {kind: float(getattr(self.hyper, kind).numpy()) for kind in self.kinds}


def regularizer(remedies: RemediesConfig, hyper: Hyper) -> keras.regularizers.Regularizer | None:
    """The weight penalty (factors from `hyper`), or None."""
    kinds = REGULARIZERS[remedies.regularizer]
    return Penalty(hyper, kinds) if kinds else None


def clipping_arguments(remedies: RemediesConfig) -> dict[str, Any]:
    """Keras optimizer keyword arguments for the chosen clipping."""
    return CLIPPING[remedies.clipping](remedies)


def optimizer(training: TrainingConfig, remedies: RemediesConfig) -> keras.optimizers.Optimizer:
    """The optimizer with Keras's own clipping switched on as configured."""
    return OPTIMIZERS[training.optimizer](training.learning_rate, clipping_arguments(remedies))

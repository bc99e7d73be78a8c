"""The one table from a RunConfig remedy name to its Keras object."""

from __future__ import annotations

from typing import Any

import keras

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

REGULARIZERS = {
    "none": lambda r: None,
    "l1": lambda r: keras.regularizers.L1(r.l1),
    "l2": lambda r: keras.regularizers.L2(r.l2),
    "l1_l2": lambda r: keras.regularizers.L1L2(l1=r.l1, l2=r.l2),
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


def regularizer(remedies: RemediesConfig) -> keras.regularizers.Regularizer | None:
    """The weight penalty, or None."""
    return REGULARIZERS[remedies.regularizer](remedies)


def clipping_arguments(remedies: RemediesConfig) -> dict[str, Any]:
    """Keras optimizer keyword arguments for the chosen clipping."""
    return CLIPPING[remedies.clipping](remedies)


def optimizer(training: TrainingConfig, remedies: RemediesConfig) -> keras.optimizers.Optimizer:
    """The optimizer with Keras's own clipping switched on as configured."""
    return OPTIMIZERS[training.optimizer](training.learning_rate, clipping_arguments(remedies))

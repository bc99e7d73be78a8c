"""What a RunConfig actually trains, with the settings that change nothing left out (TF-free).

Two configs with the same `effective` dict build the same model the same way: a field that the
builder ignores (`activation` of an LSTM or GRU, `init_std` of He initialization, `l1` with the
l2 regularizer, `clip_value` without clipping, ...) is dropped, and initializers with the same
distribution family and variance (he_normal and he_uniform, glorot_normal and glorot_uniform)
count as one. The diagnosis offers a remedy only when it changes this (docs/diagnosis.md).
"""

from __future__ import annotations

import math
from typing import Any

from trainer.contract.config import RunConfig, input_shape

# Initializers that differ only in the shape of the distribution, not in its variance.
VARIANCE_FAMILY = {"he_normal": "he", "he_uniform": "he", "glorot_normal": "glorot",
                   "glorot_uniform": "glorot"}
FIXED_SCALE = ("random_normal", "random_uniform")

# How each activation scales a signal's standard deviation at initialization, for zero-mean
# inputs in its linear range (the factor the initializers are derived with): ReLU keeps half
# the variance (He et al. 2015), sigmoid's slope at 0 is 1/4, tanh's and linear's are 1.
ACTIVATION_GAIN = {"relu": math.sqrt(0.5), "leaky_relu": math.sqrt((1 + 0.2 ** 2) / 2),
                   "elu": math.sqrt(0.5), "gelu": math.sqrt(0.5), "swish": math.sqrt(0.5),
                   "selu": 1.0, "tanh": 1.0, "linear": 1.0, "sigmoid": 0.25}


def uses_activation(config: RunConfig) -> bool:
    """Whether `remedies.activation` reaches the model (LSTM and GRU cells keep their own)."""
    return config.model.arch != "rnn" or config.model.cell == "simple_rnn"


def effective(config: RunConfig) -> dict[str, Any]:
    """The config as the builder and the trainer see it: ignored fields dropped."""
    d, m, r, t = config.dataset, config.model, config.remedies, config.training
    dataset: dict[str, Any] = {"name": d.name, "n_samples": d.n_samples}
    if d.name == "random":
        dataset["n_features"] = d.n_features
    if d.name in ("spirals", "circles", "moons", "xor"):
        dataset["noise"] = d.noise
    if d.name == "adding":
        dataset["seq_len"] = d.seq_len
    model: dict[str, Any] = {"arch": m.arch, "depth": m.depth, "width": m.width}
    if m.arch == "rnn":
        model["cell"] = m.cell
    remedies: dict[str, Any] = {
        "initializer": VARIANCE_FAMILY.get(r.initializer, r.initializer),
        "layer_norm": r.layer_norm}
    if r.initializer in FIXED_SCALE:
        remedies["init_std"] = r.init_std
    if uses_activation(config):
        remedies["activation"] = r.activation
    if r.regularizer in ("l1", "l1_l2") and r.l1 > 0:
        remedies["l1"] = r.l1
    if r.regularizer in ("l2", "l1_l2") and r.l2 > 0:
        remedies["l2"] = r.l2
    if m.arch != "rnn":
        remedies["batch_norm"] = r.batch_norm
        # The first block maps the input to `width`; it gets a skip only when they match.
        remedies["residual"] = r.residual and (m.depth > 1 or input_shape(config)[-1] == m.width)
        if remedies["residual"]:
            remedies["residual_scale"] = m.residual_scale
    else:
        remedies["recurrent"] = (r.recurrent_initializer, r.recurrent_gain)
    if r.clipping != "none":
        remedies["clipping"] = (r.clipping, r.clip_value)
    return {"seed": config.seed, "dataset": dataset, "model": model, "remedies": remedies,
            "training": t.model_dump()}


# Each initializer's variance × fan-in for a layer with fan_in inputs and fan_out outputs: the
# variance table follows the layer's shape, not the initializer's name (Glorot on a square layer
# has LeCun's variance).
def _variance_times_fan_in(config: RunConfig, fan_in: int, fan_out: int) -> float:
    r = config.remedies
    name = r.initializer
    if name.startswith("glorot"):
        return 2 * fan_in / (fan_in + fan_out)
    if name.startswith("he"):
        return 2.0
    if name in ("lecun_normal", "orthogonal"):
        return 1.0
    if name == "random_normal":
        return r.init_std ** 2 * fan_in
    if name == "random_uniform":
        return r.init_std ** 2 / 3 * fan_in
    return 0.0  # zeros


def init_gain(config: RunConfig) -> float:
    """Each hidden layer's gain at initialization: how much it scales the signal's standard
    deviation, √(variance × fan-in) × the activation's factor, for a hidden layer of the
    configured width (a cnn's 3×3 kernel has 9 × width inputs)."""
    m = config.model
    fan = m.width * (9 if m.arch == "cnn" else 1)
    factor = ACTIVATION_GAIN[config.remedies.activation] if uses_activation(config) else 1.0
    return math.sqrt(_variance_times_fan_in(config, fan, fan)) * factor

"""Figures derived from a RunConfig without TensorFlow: shapes, sizes, steps, parameters.

The server reads them to check limits before a run is queued, the trainer to build and report
the run; a test checks `trainable_params` against the models Keras builds.
"""

from __future__ import annotations

import math
from typing import Any

from trainer.contract.datasets import DATASET_SPECS

# A trainer.contract.config.RunConfig; not imported, as config imports this module.
RunConfig = Any

VALIDATION_FRACTION = 0.2
# Validation runs at least this many examples a batch, whatever the training batch size: it
# does not train, so the batch changes nothing but speed (trainer/job.py).
VALIDATION_BATCH = 256


def input_shape(config: RunConfig) -> tuple[int, ...]:
    """Shape of one example: (features,) for MLPs, (time steps, features) for sequences,
    (height, width, channels) for a cnn."""
    spec = DATASET_SPECS[config.dataset.name]
    if config.model.arch == "cnn" and spec.image:
        return spec.image
    features = spec.features or config.dataset.n_features
    return (config.dataset.seq_len, features) if spec.sequence else (features,)


def n_classes(config: RunConfig) -> int:
    """Output units: 1 for binary and regression tasks, 10 for digits."""
    return DATASET_SPECS[config.dataset.name].classes


def n_samples(config: RunConfig) -> int:
    """Examples actually generated (digits cannot have more than scikit-learn ships)."""
    cap = DATASET_SPECS[config.dataset.name].max_samples
    return min(config.dataset.n_samples, cap) if cap else config.dataset.n_samples


def n_train(config: RunConfig) -> int:
    """Training examples after the validation split."""
    total = n_samples(config)
    return total - int(total * VALIDATION_FRACTION)


def steps_per_epoch(config: RunConfig) -> int:
    """Optimizer updates per epoch."""
    return math.ceil(n_train(config) / config.training.batch_size)


def total_steps(config: RunConfig) -> int:
    """Optimizer updates in the whole run."""
    return steps_per_epoch(config) * config.training.epochs


def trainable_params(config: RunConfig) -> int:
    """Trainable parameters of the model `trainer.models.build_model` makes for this config."""
    m, r = config.model, config.remedies
    width, features = m.width, input_shape(config)[-1]
    per_norm = 2 * width * (int(r.batch_norm) + int(r.layer_norm))
    total, fan_in = 0, features
    for _ in range(m.depth):
        if m.arch == "rnn":
            gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[m.cell]
            biases = 2 if m.cell == "gru" else 1  # Keras GRU: reset_after=True
            total += gates * (width * (fan_in + width) + biases * width)
            total += 2 * width * int(r.layer_norm)
        else:  # a Dense layer, or a 3×3 Conv2D (9 weights per input channel and filter)
            kernel = 9 if m.arch == "cnn" else 1
            total += kernel * fan_in * width + width + per_norm
        fan_in = width
    return total + fan_in * n_classes(config) + n_classes(config)

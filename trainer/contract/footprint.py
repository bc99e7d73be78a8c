"""A run's peak memory in its worker, estimated without TensorFlow.

A worker holds TensorFlow (about 0.6 GiB, docs/hosting.md) and one run at a time; what the run
adds on top is its data, its model and the work of a batch. The server refuses a run whose
estimate is past `GRADWATCH_MAX_RUN_MEMORY_MIB` (422), so one student's config cannot push a
worker into swap or the out-of-memory killer. tests/test_footprint.py checks that the estimate
bounds the peak measured in a worker-like process for a spread of configs.

What the estimate counts, in bytes (E: input numbers of all examples, P: trainable parameters):
- building the data: the generator's float64 arrays, their shuffled float64 copy and the
  float32 result live at once: 20·E at the peak (trainer/datasets.py);
- then, for training: the float32 arrays (4·E), tf.data's copy of them (4·E) and its shuffle
  buffer of every training example (3.2·E plus a small cost per example);
- the model: weights, gradients, the probe's copies and the optimizer's slots, 4 bytes each;
- a batch's activations, kept for the backward pass: per layer, batch × units × reuse (time
  steps of an rnn, times its gates; 8×8 positions of a cnn), with room for the gradients (and
  validation's larger batches, forward only);
- tracing and Keras's objects: a fixed amount plus some per layer.
"""

from __future__ import annotations

from trainer.contract.config import CombinationError, RunConfig
from trainer.contract.figures import (
    VALIDATION_BATCH,
    input_shape,
    n_samples,
    n_train,
    trainable_params,
)

MIB = 2**20
# A tiny run adds ~5 MiB to a warm worker; tracing a deep model, Keras objects and the
# allocator's slack add more (issue 12 measured 3,958 MiB for a run estimated at 3,972).
FIXED_MIB = 64
PER_LAYER_MIB = 1.5
BUILD_BYTES = 20       # per input number, while the data is generated
HELD_BYTES = 11.2      # per input number, while training (see the module docstring)
PER_EXAMPLE_BYTES = 512  # tf.data's shuffle buffer holds each training example as tensors
SLOTS = {"sgd": 0, "momentum": 1, "adam": 2, "rmsprop": 1}
COPIES = 4             # weights, gradients, the probe's weights before the step, clipping's
ACTIVATION_COPIES = 10  # per unit and example: outputs, pre-activations, norms, gradients, slack
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
# Default limit per run, on top of the warm worker: a class plans ~0.7 GiB a worker plus this.
DEFAULT_MAX_RUN_MEMORY_MIB = 512


def input_numbers(config: RunConfig) -> int:
    """E: the numbers of all examples' inputs (the generated arrays' size)."""
    size = 1
    for dim in input_shape(config):
        size *= dim
    return n_samples(config) * size


def activation_numbers(config: RunConfig) -> int:
    """Numbers a batch's forward pass keeps for the backward pass (all layers)."""
    m = config.model
    per_example = m.width * m.depth
    if m.arch == "rnn":
        per_example *= config.dataset.seq_len * (GATES[m.cell] + 1)
    elif m.arch == "cnn":
        height, width, _ = input_shape(config)
        per_example *= height * width
    if config.remedies.batch_norm:  # a normalized copy of every output, and its gradient:
        per_example *= 2             # the 6×96 cnn peaked at 171-289 MiB against 264 without
    inputs = input_numbers(config) // max(1, n_samples(config))
    # Validation's forward pass, at VALIDATION_BATCH or more, keeps about a quarter of what a
    # training step keeps per example (no gradients, no tape).
    batch = max(config.training.batch_size, VALIDATION_BATCH // 4)
    return batch * (per_example + inputs)


def peak_memory_mib(config: RunConfig) -> float:
    """The run's estimated peak memory on top of a warm worker, in MiB."""
    data = input_numbers(config)
    building = BUILD_BYTES * data
    params = trainable_params(config) * 4 * (COPIES + SLOTS[config.training.optimizer])
    training = (HELD_BYTES * data + PER_EXAMPLE_BYTES * n_train(config) + params
                + 4 * ACTIVATION_COPIES * activation_numbers(config))
    return FIXED_MIB + PER_LAYER_MIB * config.model.depth + max(building, training) / MIB


def check_memory(config: RunConfig, max_mib: float) -> None:
    """Raise CombinationError if the run's estimated peak memory is past `max_mib`."""
    mib = peak_memory_mib(config)
    if mib > max_mib:
        raise CombinationError(
            "dataset", f"this run would need about {mib:,.0f} MiB of memory in its worker "
            f"(its data, model and a batch's activations), more than this server's limit of "
            f"{max_mib:,.0f} MiB per run; use fewer n_samples or n_features, a smaller "
            "batch_size, or a smaller model")

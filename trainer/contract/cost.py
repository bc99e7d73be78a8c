"""A run's cost: the work a worker does to train it, estimated without TensorFlow.

A worker is busy with one run at a time, so in a class the cost of each run is everyone's wait.
The server refuses a run whose estimate is past `GRADWATCH_MAX_RUN_COST` (docs/hosting.md).

The unit is a multiply-add of the forward pass: every trainable weight is used once per example
in a Dense layer, once per time step in a recurrent layer and once per position (8×8) in a 3×3
convolution; the backward pass costs about twice the forward one whatever the model, so it
changes the scale, not the order, of runs. Each optimizer step also has a fixed cost (the call,
the input pipeline, the probe's norms) that a tiny model at batch size 1 pays millions of times:
it is charged as `STEP_OVERHEAD` multiply-adds.
"""

from __future__ import annotations

from trainer.contract.config import CombinationError, RunConfig
from trainer.contract.figures import input_shape, total_steps, trainable_params

# A step's fixed cost in multiply-adds: about 0.1 ms of a core, as the chunked loop measures
# on this project's machine (docs/performance.md), at ~10⁹ multiply-adds a second.
STEP_OVERHEAD = 100_000
# The default limit: about four times the costliest preset (the 20-layer cnn, 2.3×10¹⁰), a
# minute or two of one core.
DEFAULT_MAX_RUN_COST = 100_000_000_000


def weight_reuse(config: RunConfig) -> int:
    """How many times each weight is used per example: time steps (rnn), positions (cnn)."""
    if config.model.arch == "rnn":
        return config.dataset.seq_len
    if config.model.arch == "cnn":
        height, width, _ = input_shape(config)
        return height * width
    return 1


def run_cost(config: RunConfig) -> int:
    """The run's estimated work in multiply-adds (see the module's docstring)."""
    per_example = trainable_params(config) * weight_reuse(config)
    return total_steps(config) * (config.training.batch_size * per_example + STEP_OVERHEAD)


def check_cost(config: RunConfig, max_cost: int) -> int:
    """The run's estimated work (`run_cost`); CombinationError if it is past `max_cost`."""
    cost = run_cost(config)
    if cost > max_cost:
        raise CombinationError(
            "training", f"this run would cost about {_short(cost)} multiply-adds of training "
            f"({total_steps(config):,} steps of batch {config.training.batch_size}), more than "
            f"this server's limit of {_short(max_cost)} per run; use fewer epochs or "
            "n_samples, a larger batch_size, or a smaller model")
    return cost


def _short(n: int) -> str:
    """1.2×10¹¹ as '1.2e11'."""
    mantissa, exponent = f"{n:.2g}".split("e+") if n >= 1000 else (str(n), "")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa

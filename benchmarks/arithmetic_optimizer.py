"""What turning Grappler's arithmetic optimizer off costs a run: steps/s of the run's own loop on
the 20-layer MLP with it off (as `trainer.loop` sets it in every worker) and on, in one process.

The setting is read when a traced function is first run, so each side's model is built and its
chunk function traced under its own setting (which is then put back to off); the timed rounds
alternate between the two traced models. That the setting took effect is checked, not assumed:
both models start from the same weights (same seed) and train the same batches in their first
pass, and with the optimizer on, the traced steps differ from the eager ones in the last bits,
so the two models' weights differ afterwards (`weights_differ`).
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
import tensorflow as tf

from benchmarks.probe_overhead import _gradwatch_loop
from trainer.contract.config import RunConfig
from trainer.datasets import make_dataset
from trainer.models import build_model

CONFIG = {"model": {"depth": 20, "width": 64}, "dataset": {"n_features": 32}}
ROUNDS = 7
STEPS_PER_ROUND = 1000
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"ROUNDS": 1, "STEPS_PER_ROUND": 50, "CONFIG": {}}


def _traced(cfg: RunConfig, data: Any, arithmetic: bool) -> Any:
    """A run's model, its first pass trained (and its chunk function traced) with Grappler's
    arithmetic optimizer `arithmetic`."""
    tf.config.optimizer.set_experimental_options({"arithmetic_optimization": arithmetic})
    try:
        model = build_model(cfg)
        _gradwatch_loop(model, data, cfg, STEPS_PER_ROUND)  # returns once the trace is done
    finally:
        tf.config.optimizer.set_experimental_options({"arithmetic_optimization": False})
    return model


def run() -> list[dict[str, Any]]:
    """Steps/s with the arithmetic optimizer off and on (medians of alternating rounds)."""
    cfg = RunConfig.model_validate(CONFIG)
    data = make_dataset(cfg)
    models = {"off": _traced(cfg, data, False), "on": _traced(cfg, data, True)}
    differ = any(not np.array_equal(a.numpy(), b.numpy()) for a, b in
                 zip(models["off"].weights, models["on"].weights, strict=True))
    rates: dict[str, list[float]] = {side: [] for side in models}
    for _ in range(ROUNDS):
        for side, model in models.items():
            rates[side].append(_gradwatch_loop(model, data, cfg, STEPS_PER_ROUND))
    off, on = (statistics.median(rates[side]) for side in ("off", "on"))
    return [{"bench": "arithmetic_optimizer", "model": "20-layer MLP (width 64)"
             if CONFIG.get("model") else "seed", "steps_per_round": STEPS_PER_ROUND,
             "rounds": ROUNDS, "steps_per_s_off": round(off, 1), "steps_per_s_on": round(on, 1),
             "off_over_on": round(off / on, 3), "weights_differ": differ}]

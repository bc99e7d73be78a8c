"""Probe overhead: steps/s of a GradWatch run ÷ steps/s of plain `model.fit`, same process.

All sides train the same model (layers, optimizer, loss, metrics) on the same batches (the job's
own tf.data pipeline). `gradwatch` is what a run does: the probed train step in the chunked loop
of `trainer.loop`, every step recorded by `StepRecorder` (events dropped). `plain_fit` is
Keras's `model.fit` on the same model without the probe, at its default `steps_per_execution`
(1); `plain_fit_best` is the same at its fastest `steps_per_execution` for that model (1, 4, 8,
16 or 32, picked by a first pass: issue 16's fair baseline). `probed_step_in_fit` runs the
probed train step under Keras's own `fit`, one step per call like the default baseline, so its
ratio isolates what the probe's reductions cost inside the graph. Every side is traced first,
then timed over alternating rounds; the median is kept.
"""
from __future__ import annotations

import statistics
import time
from typing import Any

import keras
import tensorflow as tf

from trainer import loop
from trainer.contract.config import RunConfig, steps_per_epoch
from trainer.datasets import make_dataset
from trainer.job import _batches
from trainer.models import ACCURACY, LOSSES, build_model, task_of
from trainer.probe import ProbedModel
from trainer.recorder import StepRecorder

ROUNDS = 7
STEPS_PER_ROUND = 1000  # about 1–5 s a round here: long enough to be steady on a shared machine


def _plain(config: RunConfig) -> keras.Model:
    """The same model as build_model (layers, optimizer, loss and metrics), as an ordinary
    keras.Model with Keras's own train step."""
    probed = build_model(config)
    task = task_of(config)
    plain = keras.Model(probed.inputs, probed.outputs)
    plain.compile(optimizer=type(probed.optimizer).from_config(probed.optimizer.get_config()),
                  loss=LOSSES[task](), metrics=[ACCURACY[task]()] if task in ACCURACY else [])
    return plain


def _round(config: RunConfig, steps: int) -> tuple[int, int]:
    """Whole epochs making up a round of about `steps` steps, and steps per epoch."""
    per_epoch = steps_per_epoch(config)
    return -(-steps // per_epoch), per_epoch


def _keras_fit(model: keras.Model, data: Any, config: RunConfig,
               steps: int = STEPS_PER_ROUND) -> float:
    """Steps/s of `model.fit` at the model's own `steps_per_execution`."""
    epochs, per_epoch = _round(config, steps)
    start = time.perf_counter()
    model.fit(_batches(data, config), epochs=epochs, verbose=0, shuffle=False)
    return epochs * per_epoch / (time.perf_counter() - start)


def _gradwatch_loop(model: ProbedModel, data: Any, config: RunConfig,
                    steps: int = STEPS_PER_ROUND) -> float:
    """Steps/s of a run's own loop: every step probed, recorded and streamed (to nowhere)."""
    epochs, per_epoch = _round(config, steps)
    recorder = StepRecorder(config, model.probe_layout, lambda event: None, lambda: None,
                            1e18, 1e18)
    start = time.perf_counter()
    loop.fit(model, _batches(data, config), epochs, per_epoch, recorder)
    recorder.flush()
    return epochs * per_epoch / (time.perf_counter() - start)


def _plain_at(cfg: RunConfig, size: int) -> keras.Model:
    model = _plain(cfg)
    model.steps_per_execution = size
    return model


def fastest_size(cfg: RunConfig, data: Any, steps: int) -> tuple[int, dict[int, float]]:
    """Plain `fit`'s fastest `steps_per_execution` for this model, and its steps/s at each
    size (one traced pass, then the best of two timed ones)."""
    rates = {}
    for size in SIZES:
        model = _plain_at(cfg, size)
        _keras_fit(model, data, cfg, steps)  # trace
        rates[size] = max(_keras_fit(model, data, cfg, steps) for _ in range(2))
    return max(rates, key=rates.__getitem__), rates


def measure(name: str, config: dict[str, Any], steps: int = STEPS_PER_ROUND,
            rounds: int | None = None) -> dict[str, Any]:
    """One JSON-able figure: a run's steps/s against plain `model.fit` at its default and at
    its best `steps_per_execution`, and the probe's own in-graph cost."""
    cfg = RunConfig.model_validate(config)
    data = make_dataset(cfg)
    best, by_size = fastest_size(cfg, data, steps)
    sides = {
        "gradwatch": (build_model(cfg), _gradwatch_loop),        # what a run does
        "plain_fit": (_plain(cfg), _keras_fit),                  # Keras's default
        "plain_fit_best": (_plain_at(cfg, best), _keras_fit),    # Keras at its best
        "probed_step_in_fit": (build_model(cfg), _keras_fit),    # the probe's in-graph cost
    }
    for model, rate in sides.values():  # trace everything first
        rate(model, data, cfg, steps)
    rates: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(rounds or ROUNDS):
        for side, (model, rate) in sides.items():
            rates[side].append(rate(model, data, cfg, steps))
    median = {side: statistics.median(values) for side, values in rates.items()}
    return {"bench": "probe_overhead", "model": name, "steps_per_round": steps,
            "probed_steps_per_s": round(median["gradwatch"], 1),
            "plain_fit_steps_per_s": round(median["plain_fit"], 1),
            "ratio": round(median["gradwatch"] / median["plain_fit"], 3),
            "best_steps_per_execution": best,
            "plain_fit_best_steps_per_s": round(median["plain_fit_best"], 1),
            "ratio_vs_best": round(median["gradwatch"] / median["plain_fit_best"], 3),
            "target_vs_best": 0.95,
            "plain_fit_steps_per_s_by_steps_per_execution": {
                size: round(rate, 1) for size, rate in by_size.items()},
            "probed_step_in_fit_steps_per_s": round(median["probed_step_in_fit"], 1),
            "in_graph_ratio": round(median["probed_step_in_fit"] / median["plain_fit"], 3)}


SIZES = (1, 4, 8, 16, 32)


def per_call_profile(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """What one call per step costs: ms a step of plain `fit` by `steps_per_execution`, and of
    the run's chunk function by chunk size (median of 3 passes of ~400 steps each); and what
    the chunk function costs to trace (its first call) against Keras's own train function."""
    cfg = RunConfig.model_validate(config)
    data = make_dataset(cfg)
    plain_ms = {}
    for size in SIZES:
        model = _plain_at(cfg, size)
        _keras_fit(model, data, cfg)  # trace
        plain_ms[size] = round(1000 / statistics.median(
            _keras_fit(model, data, cfg) for _ in range(3)), 3)
    model = build_model(cfg)
    batches = iter(_batches(data, cfg).repeat())
    model.train_step(next(batches))  # eager, as the loop's first step
    chunk = model.make_chunk_function()
    start = time.perf_counter()
    chunk(batches, tf.constant(1))  # the one trace
    trace_s = {"run_chunk_function": round(time.perf_counter() - start, 3)}
    keras_own = build_model(cfg)
    keras_own.train_step(next(batches))
    keras.Model.make_train_function(keras_own)
    start = time.perf_counter()
    keras_own.train_function(batches)
    trace_s["keras_train_function"] = round(time.perf_counter() - start, 3)
    chunk_ms = {}
    for size in SIZES:
        chunk(batches, tf.constant(size))  # warm
        calls = max(1, 400 // size)
        passes = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(calls):
                chunk(batches, tf.constant(size))[0].numpy()
            passes.append((time.perf_counter() - start) * 1000 / (calls * size))
        chunk_ms[size] = round(statistics.median(passes), 3)
    return {"bench": "probe_overhead_per_call", "model": name,
            "plain_fit_ms_per_step_by_steps_per_execution": plain_ms,
            "run_chunk_ms_per_step_by_chunk_size": chunk_ms, "first_call_trace_s": trace_s}


def _preset(id_: str) -> dict[str, Any]:
    from trainer.contract.presets import PRESETS_BY_ID
    return PRESETS_BY_ID[id_]["config"]


# name -> (config, steps a round): the slower models get shorter rounds (each still 2–5 s).
CASES = {
    "seed (Dense 64 relu → Dense 1)": ({}, STEPS_PER_ROUND),
    "20-layer MLP (width 64)": ({"model": {"depth": 20, "width": 64},
                                 "dataset": {"n_features": 32}}, STEPS_PER_ROUND),
    "batch-norm net (preset fixed-batchnorm)": (_preset("fixed-batchnorm"), 500),
    "LSTM, adding problem T=50 (preset fixed-lstm)": (_preset("fixed-lstm"), 150),
    "20-layer conv net (preset vanishing-cnn)": (_preset("vanishing-cnn"), 150),
}
PROFILED = {"seed (Dense 64 relu → Dense 1)": {},
            "20-layer MLP (width 64)": CASES["20-layer MLP (width 64)"][0],
            "10-layer MLP (width 64)": {"model": {"depth": 10, "width": 64}}}
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"ROUNDS": 1, "STEPS_PER_ROUND": 30, "SIZES": (1, 4), "CASES": {"seed": ({}, 30)},
         "PROFILED": {"seed": {}}}


def run() -> list[dict[str, Any]]:
    """All probe-overhead figures, then the per-call profile behind them."""
    figures = [measure(name, config, steps) for name, (config, steps) in CASES.items()]
    return figures + [per_call_profile(name, config) for name, config in PROFILED.items()]

"""Runs one RunConfig end to end: data, model, instrumented training, events out."""

from __future__ import annotations

import time
import traceback
from typing import Any

import keras
import tensorflow as tf
from tensorflow.python.framework import ops

from trainer import loop
from trainer.contract import protocol
from trainer.contract.config import RunConfig, steps_per_epoch, total_steps
from trainer.contract.figures import VALIDATION_BATCH
from trainer.datasets import Dataset, make_dataset
from trainer.modelcache import CACHE
from trainer.models import build_model, describe_layers, graph_key, prepare
from trainer.recorder import Emit, Outcome, ShouldStop, StepRecorder


def _no_background_threads() -> tf.data.Options:
    """tf.data options for arrays already in memory: no prefetch thread, no autotuning thread.

    A run stopped mid-epoch (its wall-time limit, a stop request) drops its iterator with a
    prefetch under way; tearing that down waited seconds for tf.data's background threads, and
    sometimes for ever (issue 12, B9). Slicing arrays in memory needs no background work.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.inject_prefetch = False
    return options


_NO_BACKGROUND_THREADS = _no_background_threads()


def _batches(data: Dataset, config: RunConfig) -> tf.data.Dataset:
    """Training batches in a new order every epoch, the same orders for the same seed.

    (Keras's own `shuffle=True` on arrays draws the same permutation every epoch once a global
    seed is set, so a run would see identical batches each epoch.)
    """
    return (tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train))
            .shuffle(len(data.x_train), seed=config.seed, reshuffle_each_iteration=True)
            .batch(config.training.batch_size)
            .with_options(_NO_BACKGROUND_THREADS))


def _train(config: RunConfig, emit: Emit, should_stop: ShouldStop, max_seconds: float,
           started_at: float) -> Outcome | None:
    data = make_dataset(config)
    key = graph_key(config)
    model = CACHE.take(key)
    if model is None:
        _fresh_session()
        model = build_model(config)
    else:  # traced already: only the run's weights, state and hyper-parameters are new
        prepare(model, config)
    emit(protocol.started(describe_layers(model), total_steps(config),
                          steps_per_epoch(config), time.time()))
    recorder = StepRecorder(config, model.probe_layout, emit, should_stop,
                            started_at + max_seconds, max_seconds)
    # Validation does not train, so its batch size changes nothing but speed: at batch size 1
    # it took hundreds of Keras steps per epoch, during which the run could not stop.
    val_batch = max(config.training.batch_size, VALIDATION_BATCH)
    validation = (tf.data.Dataset.from_tensor_slices((data.x_val, data.y_val))
                  .batch(val_batch).with_options(_NO_BACKGROUND_THREADS))
    loop.fit(model, _batches(data, config), config.training.epochs, steps_per_epoch(config),
             recorder, validation)
    recorder.flush()
    if recorder.outcome is None or recorder.outcome.status == "diverged":
        recorder.update_diagnosis()
    CACHE.give_back(key, model)  # only after a run that raised nothing
    return recorder.outcome


def run_job(config: dict[str, Any], emit: Emit, should_stop: ShouldStop = lambda: None,
            max_seconds: float = 600.0) -> None:
    """Train one run and report it; always ends with exactly one `finished` event, never raises.

    Args:
        config: a RunConfig as a dict (validated again here).
        emit: receives the events of `trainer.contract.protocol`, in order.
        should_stop: polled after every chunk of steps (~30 ms); a non-None answer stops the
            run with that reason.
        max_seconds: wall-time limit; past it the run ends `stopped`.
    """
    started_at = time.monotonic()
    gradients_before = set(_GRADIENTS)
    try:
        outcome = _train(RunConfig.model_validate(config), emit, should_stop, max_seconds,
                         started_at)
        if outcome is None:
            emit(protocol.finished("completed"))
        else:
            emit(protocol.finished(outcome.status, outcome.reason))
    except Exception as exc:  # a worker never swallows an error: it becomes the run's error
        detail = traceback.format_exc(limit=-3)
        emit(protocol.finished("failed", f"{type(exc).__name__}: {exc}\n{detail}"[:4000]))
    finally:
        loop.settle()  # a trace the run's stop cut short: waited for after the run is reported
        _forget_custom_gradients(gradients_before)


def _fresh_session() -> None:
    """Before a model is built: Keras's global state reset (layer names count from 1 again),
    the previous runs' garbage collected, and TensorFlow's kernel cache emptied.

    Done before a build, not after every run: emptying the kernel cache makes the next call of
    every traced function instantiate its kernels again, 0.19 s for a 10-layer MLP's chunk
    function (and the collection takes 0.18 s), which a warm run from the worker's cache would
    pay before its first step for nothing. A run whose model is built anew pays it once, as
    every run did before.
    """
    keras.backend.clear_session()


# TensorFlow's registry of gradient functions (op type → function). Tracing a train step under a
# distribution strategy's replica context (Keras's optimizer does, even with the default one)
# registers a `tf.custom_gradient` under a new unique name each time, and nothing removes it:
# its closure keeps the traced graphs alive, about 8 MB a run here, so a worker training run
# after run grew without bound. Once a run's model is gone, nothing can use those entries.
# (A private table: should a TensorFlow upgrade move it, this does nothing, and the test that
# no traced graph outlives its run fails.)
_GRADIENTS: dict[str, Any] = getattr(getattr(ops, "_gradient_registry", None), "_registry", {})


def _forget_custom_gradients(before: set[str]) -> None:
    for name in set(_GRADIENTS) - before:
        if name.startswith("CustomGradient-"):
            del _GRADIENTS[name]

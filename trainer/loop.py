"""The training loop: several train steps per call of one traced function, every step kept.

Keras's `fit` calls its traced train function once per step, and each call costs a fixed few
tenths of a millisecond on the host (the call itself, the input iterator, Keras's per-step
bookkeeping): on a small CPU model that is a quarter to half of the step. Like Keras's own
`steps_per_execution`, this loop runs a chunk of steps inside one call, but unlike it, keeps every
step's probe row and finishing time, so a run still records every step. Chunks are sized to take
about `CHUNK_SECONDS`, which keeps the live view, the stop button and the NaN check prompt.

Tracing the chunk function takes 0.7–1.4 s on an idle machine (more on a busy one). So that the
viewer sees steps flow from step 0 on, a model whose chunk function is not traced yet (not one
from the worker's cache) traces it in a background thread while this thread keeps training with
eager steps, and switches to the chunks when the trace is ready. The switch changes no figure:
Grappler's arithmetic optimizer, which reorders floating-point sums in traced graphs, is turned
off in this process (`tf.config.optimizer`), and with it a traced step is bit for bit the eager
step (`tests/test_probe.py` checks it on every step of a run). A recurrent model is the
exception (`ProbedModel.eager_steps_match_traced`): it waits for its trace, as before.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from trainer.probe import PROBE_KEY, ProbedModel
from trainer.recorder import StepRecorder

CHUNK_SECONDS = 0.03   # aim for chunks about this long...
MAX_CHUNK_STEPS = 32   # ...of at most this many steps (the saving is flat well before)

# Bit-for-bit equal eager and traced steps (see the module's docstring). Measured cost on the
# traced steps: docs/performance.md, "no stall while tracing".
tf.config.optimizer.set_experimental_options({"arithmetic_optimization": False})


class _Tracer:
    """The chunk function's first trace, in a background thread.

    `ready()` says whether it is done (re-raising the trace's error, if any). `hold`, for tests,
    delays the trace until it is set.
    """

    def __init__(self, chunk: Any, batches: Any, hold: threading.Event | None = None) -> None:
        self._error: BaseException | None = None

        def trace() -> None:
            try:
                if hold is not None:
                    hold.wait()
                chunk(batches, tf.constant(0, tf.int32))  # traces; runs no step
            except BaseException as exc:  # handed to the training thread by ready()
                self._error = exc

        self._thread = threading.Thread(target=trace, name="gradwatch-trace", daemon=True)
        self._thread.start()

    def ready(self) -> bool:
        if self._thread.is_alive():
            return False
        if self._error is not None:
            raise self._error
        return True

    def join(self) -> None:
        self._thread.join()


def _next_chunk_size(size: int, count: int, seconds: float) -> int:
    """How many steps to ask for next, from how long the last `count` steps took."""
    if count < size or seconds <= 0:
        return size
    fits = int(CHUNK_SECONDS * count / seconds)
    return max(1, min(MAX_CHUNK_STEPS, 2 * size, fits))


def fit(model: ProbedModel, train: tf.data.Dataset, epochs: int, steps_per_epoch: int,
        recorder: StepRecorder, validation: tf.data.Dataset | None = None,
        on_trace: Callable[[], threading.Event | None] | None = None) -> None:
    """Train `model` for `epochs` passes over `train`, handing every step to `recorder`.

    The very first step runs eagerly (it also builds the metrics' variables, which a traced
    loop cannot), except on a model whose chunk function is traced already (a warm model from
    the worker's cache, whose metrics exist): an eager step of a 20-layer MLP takes tenths of a
    second, a chunk of one step milliseconds, and both give the same figures. A recurrent model
    (`eager_steps_match_traced` False) keeps its eager first step, warm or cold, so that a warm
    run stays bit for bit the cold one. Until the chunk function is traced, in the background,
    steps go on eagerly.

    Args:
        model: a compiled ProbedModel with its probe attached.
        train: batches, in a new order each time it is iterated.
        epochs: passes over `train`.
        steps_per_epoch: batches in one pass.
        recorder: receives the rows and the epoch figures; its `outcome` ends training early.
        validation: batches to evaluate on after each epoch (`val_` figures).
        on_trace: for tests: called when a background trace starts; the Event it returns
            holds the trace back until set.
    """
    chunk = model.make_chunk_function()
    traced = model.chunk_traced()
    tracer: _Tracer | None = None
    size, first = 1, True
    try:
        for epoch in range(epochs):
            _epoch_functions(model)[0]()  # reset_metrics
            recorder.on_epoch_begin(epoch)
            batches = iter(train)
            done = 0
            if first and traced and model.eager_steps_match_traced():
                first = False  # a traced model's metrics exist: its first step is a chunk's
            if first:
                _eager_step(model, batches, recorder)
                done, first = 1, False
                if not traced and model.eager_steps_match_traced():
                    tracer = _Tracer(chunk, batches, on_trace() if on_trace else None)
            while (done < steps_per_epoch and recorder.outcome is None and tracer is not None
                   and not tracer.ready()):
                if not _eager_step(model, batches, recorder):
                    break
                done += 1
            if tracer is not None and tracer.ready():
                model.mark_chunk_traced()
                tracer = None
            if tracer is None:
                done, size = _chunks(chunk, batches, done, steps_per_epoch, recorder, size)
            if recorder.outcome is not None:
                return
            logs = {name: float(value)
                    for name, value in _epoch_functions(model)[1]().items()}
            if validation is not None:
                scores = model.evaluate(validation, verbose=0, return_dict=True)
                logs.update({f"val_{name}": float(value) for name, value in scores.items()})
            recorder.on_epoch_end(epoch, logs)
    finally:
        if tracer is not None:  # a run that ended before its trace
            if recorder.outcome is not None and not _raising():
                _PENDING.append((model, tracer))  # its job reports it first, then `settle()`
            else:
                _finish_trace(model, tracer)


def _epoch_functions(model: ProbedModel) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """Keras's `reset_metrics` and `get_metrics_result` as traced functions, for the epoch
    boundaries (kept with the model's probe wiring, so a warm model has them).

    Eagerly, each metric variable's reset and each result's read is an op of its own (15 % of
    the seed model's 25-step epochs in a profile, docs/performance.md); traced, each is one
    call. The ops are the same, so are the figures.
    """
    spec = model._gradwatch
    if spec.epoch_functions is None:
        compiled = model._compile_metrics
        if compiled is not None and not compiled.built:
            # Keras builds them at the first step: a trace now would leave them out.
            return model.reset_metrics, model.get_metrics_result
        spec.epoch_functions = (tf.function(model.reset_metrics),
                                tf.function(model.get_metrics_result))
    return spec.epoch_functions


# Traces still running when their run was stopped (its wall-time limit, a stop request): the
# job reports the run's end at once (issue 12, B9) and then waits for them (`settle`), before
# the worker takes another job or gives the model to another run.
_PENDING: list[tuple[ProbedModel, _Tracer]] = []


def _raising() -> bool:
    return sys.exc_info()[0] is not None


def _finish_trace(model: ProbedModel, tracer: _Tracer) -> None:
    tracer.join()
    if tracer.ready():
        model.mark_chunk_traced()


def settle() -> None:
    """Wait for the traces of stopped runs (see `_PENDING`)."""
    while _PENDING:
        _finish_trace(*_PENDING.pop())


def _eager_step(model: ProbedModel, batches: Any, recorder: StepRecorder) -> bool:
    """One eager train step, recorded; False when the data has run out."""
    batch = next(batches, None)
    if batch is None:
        return False
    row = model.train_step(batch)[PROBE_KEY].numpy()
    recorder.record(row[None, :], np.array([time.time()]))
    return True


def _chunks(chunk: Any, batches: Any, done: int, steps_per_epoch: int,
            recorder: StepRecorder, size: int) -> tuple[int, int]:
    """The rest of an epoch in chunks of traced steps; returns the steps done and the next
    chunk size."""
    while done < steps_per_epoch and recorder.outcome is None:
        left = steps_per_epoch - done
        # The epoch's rest in one call when it is less than half a chunk more (25 steps in
        # chunks of 12 would be 12, 12 and a call for one step).
        wanted = left if left <= size + size // 2 else size
        began = time.perf_counter()
        rows, finished_at = chunk(batches, tf.constant(wanted, tf.int32))
        rows = rows.numpy()
        if not len(rows):  # the data ran short of steps_per_epoch
            break
        recorder.record(rows, finished_at.numpy())
        done += len(rows)
        if wanted >= size:
            size = _next_chunk_size(size, len(rows), time.perf_counter() - began)
    return done, size

"""The training loop: several train steps per call of one traced function, every step kept.

Keras's `fit` calls its traced train function once per step, and each call costs a fixed few
tenths of a millisecond on the host (the call itself, the input iterator, Keras's per-step
bookkeeping): on a small CPU model that is a quarter to half of the step. Like Keras's own
`steps_per_execution`, this loop runs a chunk of steps inside one call, but unlike it, keeps every
step's probe row and finishing time, so a run still records every step. Chunks are sized to take
about `CHUNK_SECONDS`, which keeps the live view, the stop button and the NaN check prompt.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from trainer.probe import PROBE_KEY, ProbedModel
from trainer.recorder import StepRecorder

CHUNK_SECONDS = 0.01   # aim for chunks about this long...
MAX_CHUNK_STEPS = 32   # ...of at most this many steps (the saving is flat well before)


def _next_chunk_size(size: int, count: int, seconds: float) -> int:
    """How many steps to ask for next, from how long the last `count` steps took."""
    if count < size or seconds <= 0:
        return size
    fits = int(CHUNK_SECONDS * count / seconds)
    return max(1, min(MAX_CHUNK_STEPS, 2 * size, fits))


def fit(model: ProbedModel, train: tf.data.Dataset, epochs: int, steps_per_epoch: int,
        recorder: StepRecorder, validation: tf.data.Dataset | None = None) -> None:
    """Train `model` for `epochs` passes over `train`, handing every step to `recorder`.

    The very first step runs eagerly: its figures reach the viewer while the chunk function is
    still being traced (it also builds the metrics' variables, which a traced loop cannot).

    Args:
        model: a compiled ProbedModel with its probe attached.
        train: batches, in a new order each time it is iterated.
        epochs: passes over `train`.
        steps_per_epoch: batches in one pass.
        recorder: receives the rows and the epoch figures; its `outcome` ends training early.
        validation: batches to evaluate on after each epoch (`val_` figures).
    """
    chunk = model.make_chunk_function()
    size, first = 1, True
    for epoch in range(epochs):
        model.reset_metrics()
        recorder.on_epoch_begin(epoch)
        batches = iter(train)
        done = 0
        if first:
            row = model.train_step(next(batches))[PROBE_KEY].numpy()
            recorder.record(row[None, :], np.array([time.time()]))
            done, first = 1, False
        while done < steps_per_epoch and recorder.outcome is None:
            wanted = min(size, steps_per_epoch - done)
            began = time.perf_counter()
            rows, finished_at = chunk(batches, tf.constant(wanted, tf.int32))
            rows = rows.numpy()
            if not len(rows):  # the data ran short of steps_per_epoch
                break
            recorder.record(rows, finished_at.numpy())
            done += len(rows)
            if wanted == size:
                size = _next_chunk_size(size, len(rows), time.perf_counter() - began)
        if recorder.outcome is not None:
            return
        logs = {name: float(value) for name, value in model.get_metrics_result().items()}
        if validation is not None:
            scores = model.evaluate(validation, verbose=0, return_dict=True)
            logs.update({f"val_{name}": float(value) for name, value in scores.items()})
        recorder.on_epoch_end(epoch, logs)

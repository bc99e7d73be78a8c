"""Runs one RunConfig end to end: data, model, instrumented training, events out."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from trainer import protocol
from trainer.config import RunConfig, steps_per_epoch, total_steps
from trainer.datasets import Dataset, make_dataset
from trainer.diagnose import WINDOW, diagnose
from trainer.models import build_model, describe_layers
from trainer.probe import PROBE_KEY

Emit = Callable[[dict[str, Any]], None]
ShouldStop = Callable[[], str | None]

FLUSH_SECONDS = 0.02   # steps reach the server in batches at most this old...
FLUSH_STEPS = 256      # ...or of at most this many steps
DIAGNOSE_SECONDS = 1.0
TIME_VIEW_EVERY = 10   # record the per-time-step gradient every this many steps


@dataclass(frozen=True)
class Outcome:
    """Why training ended early: a final status and a reason."""

    status: str
    reason: str


class StreamCallback(keras.callbacks.Callback):
    """Turns each step's probe vector into a Step record and streams them in batches."""

    def __init__(self, config: RunConfig, emit: Emit, should_stop: ShouldStop,
                 deadline: float, max_seconds: float) -> None:
        super().__init__()
        self.config, self.emit, self.should_stop = config, emit, should_stop
        self.deadline, self.max_seconds = deadline, max_seconds
        self.epoch_steps = steps_per_epoch(config)
        self.step, self.epoch = 0, 0
        self.raw: list[np.ndarray] = []  # probe vectors not sent yet
        self.stamps: list[tuple[int, int, float]] = []  # their (step, epoch, t)
        self.last_flush = 0.0
        self.grads: list[list[float]] = []
        self.losses: list[float] = []
        self.time_ratios: list[float] = []
        self.last_diagnosis: dict[str, Any] | None = None
        self.last_diagnosed = time.monotonic()
        self.outcome: Outcome | None = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # Per step only the cheap part: keep the vector, check it; records are built in
        # batches at flush time.
        vector = logs[PROBE_KEY]
        self.raw.append(vector)
        self.stamps.append((self.step, self.epoch, time.time()))
        self.step += 1
        self._check(vector)
        now = time.monotonic()
        # The first step goes at once (the viewer's first frame), the epoch's last before
        # validation runs (else its steps would wait for it).
        if (self.outcome or len(self.raw) >= FLUSH_STEPS or self.step == 1
                or batch + 1 >= self.epoch_steps or now - self.last_flush >= FLUSH_SECONDS):
            self.flush()
        if now - self.last_diagnosed >= DIAGNOSE_SECONDS:
            self.update_diagnosis()

    def _check(self, vector: np.ndarray) -> None:
        layout = self.model.probe_layout
        if not np.isfinite(vector[:layout.grad_slice().stop]).all():
            what = "gradient" if np.isfinite(vector[0]) else "loss"
            step, epoch, _ = self.stamps[-1]
            self.outcome = Outcome("diverged", f"the {what} became NaN or infinite at step "
                                               f"{step} (epoch {epoch + 1})")
        elif (reason := self.should_stop()) is not None:
            self.outcome = Outcome("stopped", reason)
        elif time.monotonic() > self.deadline:
            self.outcome = Outcome("stopped", f"the run reached the wall-time limit of "
                                              f"{self.max_seconds:g} s")
        if self.outcome:
            self.model.stop_training = True

    def flush(self) -> None:
        """Send the steps not sent yet as one metrics event."""
        self.last_flush = time.monotonic()
        if not self.raw:
            return
        layout = self.model.probe_layout
        matrix = np.stack(self.raw)
        items = layout.records(matrix)
        for item, (step, epoch, t) in zip(items, self.stamps):
            item.update(step=step, epoch=epoch, t=t)
            if "time_grad_norms" in item and step % TIME_VIEW_EVERY:
                del item["time_grad_norms"]
        if layout.time_steps:
            first, last = matrix[:, -layout.time_steps], matrix[:, -1]
            with np.errstate(divide="ignore", invalid="ignore"):
                self.time_ratios.extend(np.where(last > 0, first / last, np.nan).tolist())
        self.grads.extend(matrix[:, layout.grad_slice()].tolist())
        self.losses.extend(matrix[:, 0].tolist())
        del self.grads[:-WINDOW], self.losses[:-WINDOW], self.time_ratios[:-WINDOW]
        self.raw, self.stamps = [], []
        self.emit(protocol.metrics(items))

    def update_diagnosis(self, force: bool = False) -> None:
        """Re-diagnose from recent steps; emit when the state or the advice changes."""
        self.last_diagnosed = time.monotonic()
        diag = diagnose(self.config, self.grads, self.losses, self.time_ratios)
        last = self.last_diagnosis
        if force or last is None or (last["state"], last["suggestions"]) != (
                diag["state"], diag["suggestions"]):
            self.flush()
            self.emit(protocol.diagnosis(diag))
            self.last_diagnosis = diag

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.flush()
        self.emit(protocol.epoch(epoch, logs or {}))
        self.update_diagnosis(force=True)


def _batches(data: Dataset, config: RunConfig) -> tf.data.Dataset:
    """Training batches in a new order every epoch, the same orders for the same seed.

    (Keras's own `shuffle=True` on arrays draws the same permutation every epoch once a global
    seed is set, so a run would see identical batches each epoch.)
    """
    return (tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train))
            .shuffle(len(data.x_train), seed=config.seed, reshuffle_each_iteration=True)
            .batch(config.training.batch_size)
            .prefetch(2))


def _train(config: RunConfig, emit: Emit, should_stop: ShouldStop, max_seconds: float,
           started_at: float) -> Outcome | None:
    data = make_dataset(config)
    model = build_model(config)
    emit(protocol.started(describe_layers(model), total_steps(config),
                          steps_per_epoch(config), time.time()))
    callback = StreamCallback(config, emit, should_stop, started_at + max_seconds, max_seconds)
    model.fit(_batches(data, config), validation_data=(data.x_val, data.y_val),
              epochs=config.training.epochs, verbose=0, callbacks=[callback],
              shuffle=False)  # _batches shuffles
    callback.flush()
    if callback.outcome is None or callback.outcome.status == "diverged":
        callback.update_diagnosis()
    return callback.outcome


def run_job(config: dict[str, Any], emit: Emit, should_stop: ShouldStop = lambda: None,
            max_seconds: float = 600.0) -> None:
    """Train one run and report it; always ends with exactly one `finished` event, never raises.

    Args:
        config: a RunConfig as a dict (validated again here).
        emit: receives the events of `trainer.protocol`, in order.
        should_stop: polled after every step; a non-None answer stops the run with that reason.
        max_seconds: wall-time limit; past it the run ends `stopped`.
    """
    started_at = time.monotonic()
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
        keras.backend.clear_session()

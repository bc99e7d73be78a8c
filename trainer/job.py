"""Runs one RunConfig end to end: data, model, instrumented training, events out."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from trainer import protocol
from trainer.config import RunConfig, steps_per_epoch, total_steps
from trainer.datasets import make_dataset
from trainer.diagnose import WINDOW, diagnose
from trainer.models import build_model, describe_layers
from trainer.probe import PROBE_KEY

Emit = Callable[[dict[str, Any]], None]
ShouldStop = Callable[[], str | None]

FLUSH_SECONDS = 0.05   # steps reach the server in batches at most this old...
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
        self.step, self.epoch = 0, 0
        self.pending: list[dict[str, Any]] = []
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
        record = self.model.probe_layout.unpack(logs[PROBE_KEY])
        time_grads = record.pop("time_grad_norms", None)
        if time_grads is not None:
            last = time_grads[-1]
            self.time_ratios.append(time_grads[0] / last if last > 0 else float("nan"))
            del self.time_ratios[:-WINDOW]
            if self.step % TIME_VIEW_EVERY == 0:
                record["time_grad_norms"] = time_grads
        step = {"step": self.step, "epoch": self.epoch, "t": time.time(), **record}
        self.pending.append(step)
        self.grads.append(record["grad_norms"])
        self.losses.append(record["loss"])
        del self.grads[:-WINDOW], self.losses[:-WINDOW]
        self.step += 1
        self._check(step)
        now = time.monotonic()
        if (self.outcome or len(self.pending) >= FLUSH_STEPS or self.step == 1
                or now - self.last_flush >= FLUSH_SECONDS):
            self.flush()
        if now - self.last_diagnosed >= DIAGNOSE_SECONDS:
            self.update_diagnosis()

    def _check(self, step: dict[str, Any]) -> None:
        values = [step["loss"], *step["grad_norms"]]
        if any(v != v or v in (float("inf"), float("-inf")) for v in values):
            what = "loss" if step["loss"] != step["loss"] else "gradient"
            self.outcome = Outcome("diverged", f"the {what} became NaN or infinite at step "
                                             f"{step['step']} (epoch {step['epoch'] + 1})")
        elif (reason := self.should_stop()) is not None:
            self.outcome = Outcome("stopped", reason)
        elif time.monotonic() > self.deadline:
            self.outcome = Outcome("stopped", f"the run reached the wall-time limit of "
                                            f"{self.max_seconds:g} s")
        if self.outcome:
            self.model.stop_training = True

    def flush(self) -> None:
        """Send the steps not sent yet as one metrics event."""
        if self.pending:
            self.emit(protocol.metrics(self.pending))
            self.pending = []
        self.last_flush = time.monotonic()

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


def _train(config: RunConfig, emit: Emit, should_stop: ShouldStop, max_seconds: float,
           started_at: float) -> Outcome | None:
    data = make_dataset(config)
    model = build_model(config)
    emit(protocol.started(describe_layers(model), total_steps(config),
                          steps_per_epoch(config), time.time()))
    callback = StreamCallback(config, emit, should_stop, started_at + max_seconds, max_seconds)
    model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
              epochs=config.training.epochs, batch_size=config.training.batch_size,
              shuffle=True, verbose=0, callbacks=[callback])
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

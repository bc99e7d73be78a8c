"""Turns the probe rows of the training loop into Step records and streams them in batches."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainer.contract import protocol
from trainer.contract.config import RunConfig, steps_per_epoch
from trainer.contract.thresholds import WINDOW
from trainer.diagnose import Layers, Recent, diagnose
from trainer.probe import ProbeLayout

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


class StepRecorder:
    """Keeps every step's probe row, checks it, and sends Step records as metrics events.

    The loop hands over rows a chunk at a time (`record`); records are built vectorized at flush
    time, at most `FLUSH_SECONDS` after the oldest unsent step finished.
    """

    def __init__(self, config: RunConfig, layout: ProbeLayout, emit: Emit,
                 should_stop: ShouldStop, deadline: float, max_seconds: float) -> None:
        self.config, self.layout, self.emit, self.should_stop = config, layout, emit, should_stop
        self.deadline, self.max_seconds = deadline, max_seconds
        self.epoch_steps = steps_per_epoch(config)
        self.step, self.epoch = 0, 0
        self.raw: list[np.ndarray] = []  # probe rows not sent yet, a chunk per entry
        self.stamps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (steps, epochs, t)
        self.last_flush = 0.0
        self.recent = Recent([], [])
        self.layers = Layers(layout.names, layout.kinds, layout.units)
        self.last_diagnosis: dict[str, Any] | None = None
        self.last_diagnosed = time.monotonic()
        self.outcome: Outcome | None = None

    def on_epoch_begin(self, epoch: int) -> None:
        """Steps recorded from now on belong to this (0-based) epoch."""
        self.epoch = epoch

    def record(self, rows: np.ndarray, finished_at: np.ndarray) -> None:
        """Take the next steps' probe rows and finishing times (Unix seconds); may set `outcome`.

        Args:
            rows: one probe vector per step, in step order (the layout's format).
            finished_at: when each of those steps finished.
        """
        bad = ~np.isfinite(rows[:, :self.layout.grad_slice().stop]).all(axis=1)
        if bad.any():  # the run diverged: keep its history up to and including that step
            first = int(bad.argmax())
            rows, finished_at = rows[:first + 1], finished_at[:first + 1]
            what = "gradient" if np.isfinite(rows[-1, 0]) else "loss"
            self.outcome = Outcome("diverged", f"the {what} became NaN or infinite at step "
                                               f"{self.step + first} (epoch {self.epoch + 1})")
        count = len(rows)
        self.raw.append(rows)
        self.stamps.append((np.arange(self.step, self.step + count), np.full(count, self.epoch),
                            finished_at))
        self.step += count
        if self.outcome is None:
            if (reason := self.should_stop()) is not None:
                self.outcome = Outcome("stopped", reason)
            elif time.monotonic() > self.deadline:
                self.outcome = Outcome("stopped", f"the run reached the wall-time limit of "
                                                  f"{self.max_seconds:g} s")
        now = time.monotonic()
        # The first step goes at once (the viewer's first frame), the epoch's last before
        # validation runs (else its steps would wait for it).
        unsent = sum(map(len, self.raw))
        if (self.outcome or self.step == count or self.step % self.epoch_steps == 0
                or unsent >= FLUSH_STEPS or now - self.last_flush >= FLUSH_SECONDS):
            self.flush()
        if now - self.last_diagnosed >= DIAGNOSE_SECONDS:
            self.update_diagnosis()

    def flush(self) -> None:
        """Send the steps not sent yet as one metrics event."""
        self.last_flush = time.monotonic()
        if not self.raw:
            return
        layout = self.layout
        matrix = np.concatenate(self.raw)
        steps, epochs, times = (np.concatenate(part).tolist() for part in zip(*self.stamps))
        items = layout.records(matrix)
        for item, step, epoch, t in zip(items, steps, epochs, times):
            item.update(step=step, epoch=epoch, t=t)
            if "time_grad_norms" in item and step % TIME_VIEW_EVERY:
                del item["time_grad_norms"]
        if layout.time_steps:
            first, last = matrix[:, -layout.time_steps], matrix[:, -1]
            with np.errstate(divide="ignore", invalid="ignore"):
                self.recent.time_ratios.extend(np.where(last > 0, first / last, np.nan).tolist())
        recent = self.recent
        recent.losses.extend(matrix[-WINDOW:, 0].tolist())
        for name in ("grad_norms", "output_grad_norms", "weight_norms", "update_ratios"):
            kept = getattr(recent, name)
            kept.extend(matrix[-WINDOW:, layout.field_slice(name)].tolist())
            del kept[:-WINDOW]
        del recent.losses[:-WINDOW], recent.time_ratios[:-WINDOW]
        self.raw, self.stamps = [], []
        self.emit(protocol.metrics(items))

    def update_diagnosis(self, force: bool = False) -> None:
        """Re-diagnose from recent steps; emit when the state or the advice changes."""
        self.last_diagnosed = time.monotonic()
        last = self.last_diagnosis
        diag = diagnose(self.config, self.recent, self.layers, last)
        if force or last is None or (last["state"], last["suggestions"]) != (
                diag["state"], diag["suggestions"]):
            self.flush()
            self.emit(protocol.diagnosis(diag))
            self.last_diagnosis = diag

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """The epoch's figures (training and validation), after its last step was recorded."""
        self.flush()
        self.emit(protocol.epoch(epoch, logs))
        self.update_diagnosis(force=True)

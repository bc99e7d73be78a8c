"""Turns the probe rows of the training loop into Step records and streams them in batches.

The stop policy (trainer/stoppolicy.py) decides whether the run goes on, the diagnoser
(trainer/diagnoser.py) keeps the recent window and re-diagnoses; the recorder wires them to the
loop and the emitted events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from trainer.contract import protocol
from trainer.contract.config import RunConfig, steps_per_epoch
from trainer.diagnoser import Diagnoser
from trainer.probe import ProbeLayout
from trainer.stoppolicy import Outcome, ShouldStop, StopPolicy

Emit = Callable[[dict[str, Any]], None]
__all__ = ["Emit", "Outcome", "ShouldStop", "StepRecorder"]

FLUSH_SECONDS = 0.02   # steps reach the server in batches at most this old...
FLUSH_STEPS = 256      # ...or of at most this many steps
TIME_VIEW_EVERY = 10   # record the per-time-step gradient every this many steps


class StepRecorder:
    """Keeps every step's probe row, checks it, and sends Step records as metrics events.

    The loop hands over rows a chunk at a time (`record`); records are built vectorized at flush
    time, at most `FLUSH_SECONDS` after the oldest unsent step finished.
    """

    def __init__(self, config: RunConfig, layout: ProbeLayout, emit: Emit,
                 should_stop: ShouldStop, deadline: float, max_seconds: float) -> None:
        self.config, self.layout, self.emit = config, layout, emit
        self.stops = StopPolicy(should_stop, deadline, max_seconds)
        self.diagnoser = Diagnoser(config, layout, emit)
        self.epoch_steps = steps_per_epoch(config)
        self.step, self.epoch = 0, 0
        self.raw: list[np.ndarray] = []  # probe rows not sent yet, a chunk per entry
        self.stamps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (steps, epochs, t)
        self.last_flush = 0.0

    @property
    def outcome(self) -> Outcome | None:
        """Why the run ended early, once it has."""
        return self.stops.outcome

    def on_epoch_begin(self, epoch: int) -> None:
        """Steps recorded from now on belong to this (0-based) epoch."""
        self.epoch = epoch

    def record(self, rows: np.ndarray, finished_at: np.ndarray) -> None:
        """Take the next steps' probe rows and finishing times (Unix seconds); may set `outcome`.

        Args:
            rows: one probe vector per step, in step order (the layout's format).
            finished_at: when each of those steps finished.
        """
        # a diverged run keeps its history up to and including the non-finite step
        kept = self.stops.keep_finite(rows, self.layout.grad_slice().stop, self.step, self.epoch)
        rows, finished_at = rows[:kept], finished_at[:kept]
        count = len(rows)
        self.raw.append(rows)
        self.stamps.append((np.arange(self.step, self.step + count), np.full(count, self.epoch),
                            finished_at))
        self.step += count
        self.stops.check()
        now = time.monotonic()
        # The first step goes at once (the viewer's first frame), the epoch's last before
        # validation runs (else its steps would wait for it).
        unsent = sum(map(len, self.raw))
        if (self.outcome or self.step == count or self.step % self.epoch_steps == 0
                or unsent >= FLUSH_STEPS or now - self.last_flush >= FLUSH_SECONDS):
            self.flush()
        if self.diagnoser.due():
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
        self.diagnoser.take(matrix)
        self.raw, self.stamps = [], []
        self.emit(protocol.metrics(items))

    def update_diagnosis(self, force: bool = False) -> None:
        """Re-diagnose from recent steps; emit when the state or the advice changes."""
        self.diagnoser.update(self.flush, force)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """The epoch's figures (training and validation), after its last step was recorded."""
        self.flush()
        self.emit(protocol.epoch(epoch, logs))
        self.update_diagnosis(force=True)

"""When a run stops early: a non-finite step, a stop request, or the wall-time limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ShouldStop = Callable[[], str | None]


@dataclass(frozen=True)
class Outcome:
    """Why training ended early: a final status and a reason."""

    status: str
    reason: str


class StopPolicy:
    """Decides, chunk by chunk, whether the run goes on; the first reason found is kept."""

    def __init__(self, should_stop: ShouldStop, deadline: float, max_seconds: float) -> None:
        self.should_stop, self.deadline, self.max_seconds = should_stop, deadline, max_seconds
        self.outcome: Outcome | None = None

    def keep_finite(self, rows: np.ndarray, checked: int, step: int, epoch: int) -> int:
        """How many of `rows` to keep: all, or up to the first whose loss or a gradient norm
        (its first `checked` numbers) is not finite, which ends the run `diverged`."""
        bad = ~np.isfinite(rows[:, :checked]).all(axis=1)
        if not bad.any():
            return len(rows)
        first = int(bad.argmax())
        what = "gradient" if np.isfinite(rows[first, 0]) else "loss"
        self.outcome = self.outcome or Outcome(
            "diverged", f"the {what} became NaN or infinite at step {step + first} "
                        f"(epoch {epoch + 1})")
        return first + 1

    def check(self) -> None:
        """After a chunk: a stop request or the wall-time limit ends the run `stopped`."""
        if self.outcome is not None:
            return
        if (reason := self.should_stop()) is not None:
            self.outcome = Outcome("stopped", reason)
        elif time.monotonic() > self.deadline:
            self.outcome = Outcome("stopped", f"the run reached the wall-time limit of "
                                              f"{self.max_seconds:g} s")

"""Dropping what a source of events delivers twice, in the one layer that knows it can.

A worker's stream is at-least-once (a batch whose XADD reply timed out is sent again), a
resumed stream is re-read from the last position stored, which may be before the last step
stored, and a script posts a batch again when its answer was lost. Steps and epochs are
numbered and a run is dispatched once, so the copies are recognized here, before the events
reach RunEvents, which applies whatever it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredTail:
    """How far a run's stored record goes: its last stored step and epoch (-1: none)."""

    step: int = -1
    epoch: int = -1


class ReplayFilter:
    """Passes each step, each epoch and the first `dispatched` of one run once."""

    def __init__(self, tail: StoredTail = StoredTail(), running: bool = False) -> None:
        self.last_step = tail.step
        self.last_epoch = tail.epoch
        self.running = running

    def admit(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """The event without what was delivered before, or None if nothing of it is new."""
        kind = event.get("type")
        if kind == "dispatched":
            if self.running:
                return None
            self.running = True
        elif kind == "metrics":
            items = [it for it in event.get("items") or [] if it["step"] > self.last_step]
            if not items:
                return None
            self.last_step = items[-1]["step"]
            if len(items) != len(event.get("items") or []):
                event = {**event, "items": items}
        elif kind == "epoch":
            if event["epoch"] <= self.last_epoch:
                return None
            self.last_epoch = event["epoch"]
        return event

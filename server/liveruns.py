"""The runs of this process that have not ended, kept in memory: their History is the snapshot
source for viewers, so a late viewer gets every step recorded before it subscribed and the hub
delivers every step after, with no gap and no duplicate.

`RunEvents` owns the registry: it is the one that applies events to these states and the one
that removes a run when it ends. Everyone else reads it, and the service adds a run it starts.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from server.thinning import Thinner
from trainer.contract.protocol import empty_history


@dataclass
class LiveState:
    """What is kept in memory about a run that has not ended."""

    status: str
    progress: dict[str, Any]
    thinner: Thinner
    history: dict[str, list[Any]] = field(default_factory=empty_history)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: dict[str, Any] | None = None
    diagnoses: list[dict[str, Any]] = field(default_factory=list)  # {step, diagnosis}, as made


class LiveRuns:
    """Run id → LiveState of every run of this process that has not ended."""

    def __init__(self) -> None:
        self._states: dict[str, LiveState] = {}

    def get(self, run_id: str) -> LiveState | None:
        return self._states.get(run_id)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._states

    def __len__(self) -> int:
        return len(self._states)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._states))

    def items(self) -> list[tuple[str, LiveState]]:
        return list(self._states.items())

    def add(self, run_id: str, state: LiveState) -> None:
        """A run starts (or a previous process's run is taken over)."""
        self._states[run_id] = state

    def remove(self, run_id: str) -> LiveState | None:
        """A run has ended (or could not be queued after all)."""
        return self._states.pop(run_id, None)


def new_run_id() -> str:
    """A short, unguessable run id (it appears in shareable links)."""
    return secrets.token_hex(6)

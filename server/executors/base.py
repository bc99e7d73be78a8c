"""The one small interface every executor (local processes, Redis workers) implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from server.executors.replay import StoredTail

# Called on the server's event loop, in order per run: (run_id, event). Events are those of
# contract.protocol plus {"type": "dispatched"} when a worker takes the run, and, from executors
# that resume runs, {"type": "position", "stream_id": str} after the events up to that entry of
# the run's stream (to be stored with them: a restarted server resumes after it).
EventCallback = Callable[[str, dict[str, Any]], None]


class ExecutorUnavailable(RuntimeError):
    """The executor cannot take runs now (e.g. Redis is down); the API answers 503."""


class Executor(ABC):
    """Queues runs, hands them to workers, and reports their events."""

    kind: str = "abstract"
    # Whether runs outlive this server process (workers elsewhere): a restarted server then
    # resumes the runs a previous one left active instead of failing them.
    resumes_runs: bool = False

    @abstractmethod
    async def start(self, on_event: EventCallback) -> None:
        """Start workers (or connect to them); events go to `on_event` from now on."""

    async def resume(self, run_id: str, owner: str, status: str, position: str | None,
                     stored: StoredTail) -> None:
        """Follow a run a previous server process left queued or running (`resumes_runs`).

        `position` is the last `position` event stored for it (None: from the beginning);
        `stored` its last stored step and epoch: what the stream replays up to them is
        dropped here (see server/executors/replay.py), not handed on.
        """
        raise NotImplementedError(f"the {self.kind} executor does not resume runs")

    @abstractmethod
    async def submit(self, run_id: str, owner: str, config: dict[str, Any],
                     max_seconds: float, cost: int = 1) -> None:
        """Queue a validated run. `cost`: its estimated multiply-adds (`run_cost`, computed
        when the server checked the config against its limit), which the queue's fairness
        weighs. Raises ExecutorUnavailable when it cannot."""

    @abstractmethod
    async def stop(self, run_id: str, reason: str = "stopped by its owner") -> bool:
        """Stop a queued or running run; False if the executor does not know it.

        A queued run is dropped and reported `finished(stopped)` at once; a running one stops
        after its current step.
        """

    @abstractmethod
    def waiting(self) -> list[tuple[str, str]]:
        """(run_id, owner) of every run waiting for a worker, oldest first."""

    @abstractmethod
    def queue_position(self, run_id: str) -> int | None:
        """1-based position of a queued run (1 = next to start), None if not queued."""

    @abstractmethod
    def health(self) -> dict[str, Any]:
        """{"kind", "state": "ok" | "starting" | "degraded", "workers", "busy", "queued"}."""

    @abstractmethod
    async def close(self) -> None:
        """Stop every worker; runs still going end `failed` (reported before returning).

        An executor that `resumes_runs` leaves its runs to their workers instead.
        """

"""FairQueue: the runs waiting for a worker, handed out fairly across visitors.

The next run comes from the visitor with the fewest runs started while their oldest waiting run
waited (and at least their runs on workers right now); among equals the one that has waited
longest goes first. So one visitor who queues many runs cannot starve a classmate who queues
one: everyone's first run starts before anyone's second, also when the first visitor's run ends
before the classmate's starts (counting only the runs on workers, their second run, older,
would then go first).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(eq=False)
class Pending:
    """A run waiting for a worker."""

    run_id: str
    owner: str
    config: dict[str, Any]
    max_seconds: float
    seq: int = 0


class FairQueue:
    """Waiting runs; `order` is the projected dispatch order given who is running what."""

    def __init__(self) -> None:
        self._waiting: dict[str, Pending] = {}  # insertion order = arrival order
        self._clock = itertools.count()  # orders pushes and hand-outs
        self._cache: tuple[tuple[Any, ...], list[Pending]] | None = None
        # When each visitor's runs were handed out, while they had runs waiting.
        self._handed_out: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._waiting

    def push(self, job: Pending) -> None:
        """Add a run at the back."""
        job.seq = next(self._clock)
        self._waiting[job.run_id] = job
        self._cache = None

    def remove(self, run_id: str) -> Pending | None:
        """Take a run out of the queue (stopped, or dispatched); None if it was not waiting."""
        self._cache = None
        job = self._waiting.pop(run_id, None)
        if job is not None:
            self._forget_before_oldest(job.owner)
        return job

    def waiting(self) -> list[tuple[str, str]]:
        """(run_id, owner) of the waiting runs in arrival order."""
        return [(job.run_id, job.owner) for job in self._waiting.values()]

    def drain(self) -> list[Pending]:
        """Empty the queue, returning what waited (in arrival order)."""
        jobs = list(self._waiting.values())
        self._waiting.clear()
        self._handed_out.clear()
        self._cache = None
        return jobs

    def order(self, running_owners: list[str]) -> list[Pending]:
        """The projected dispatch order, as if each run kept its worker until all had one."""
        key = tuple(sorted(running_owners))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        started = self._started(running_owners)
        waiting = list(self._waiting.values())
        order = []
        while waiting:
            job = min(waiting, key=lambda p: (started[p.owner], p.seq))
            waiting.remove(job)
            order.append(job)
            started[job.owner] += 1
        self._cache = (key, order)
        return order

    def pop_next(self, running_owners: list[str]) -> Pending | None:
        """Take out the run that goes to the next free worker."""
        order = self.order(running_owners)
        if not order:
            return None
        self._handed_out.setdefault(order[0].owner, []).append(next(self._clock))
        return self.remove(order[0].run_id)

    def _started(self, running_owners: list[str]) -> Counter[str]:
        """Per visitor: runs handed out since their oldest waiting run came, at least their
        runs on workers now."""
        started = Counter(running_owners)
        for owner, ticks in self._handed_out.items():
            started[owner] = max(started[owner], len(ticks))
        return started

    def _forget_before_oldest(self, owner: str) -> None:
        """Drop the hand-outs of `owner` that came before their oldest waiting run."""
        oldest = min((job.seq for job in self._waiting.values() if job.owner == owner),
                     default=None)
        ticks = [t for t in self._handed_out.get(owner, []) if oldest is not None and t > oldest]
        if ticks:
            self._handed_out[owner] = ticks
        else:
            self._handed_out.pop(owner, None)

    def position(self, run_id: str, running_owners: list[str]) -> int | None:
        """1-based place of a waiting run in the projected order, None if not waiting."""
        if run_id not in self._waiting:
            return None
        for i, job in enumerate(self.order(running_owners), start=1):
            if job.run_id == run_id:
                return i
        return None

"""FairQueue: the runs waiting for a worker, handed out fairly across visitors, by cost.

Each waiting run has an estimated cost (multiply-adds, `trainer/contract/cost.py`). A visitor's
share is the cost of their runs started while their oldest waiting run waited (and at least of
their runs on workers right now). The next run is the one that would leave its visitor with the
smallest share, its own cost included; among equals the one that has waited longest goes first.
So one visitor who queues many runs cannot starve a classmate who queues one (with runs of equal
cost, everyone's first run starts before anyone's second, also when the first visitor's run
ends before the classmate's starts), and a visitor's costly run, or a flood of them under many
cookies, waits behind classmates' cheap runs instead of holding the workers for minutes ahead
of them.
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
    cost: int = 1  # estimated multiply-adds of training (`run_cost`), as the server checked it


class FairQueue:
    """Waiting runs; `order` is the projected dispatch order given who is running what."""

    def __init__(self) -> None:
        self._waiting: dict[str, Pending] = {}  # insertion order = arrival order
        self._clock = itertools.count()  # orders pushes and hand-outs
        self._cache: tuple[tuple[Any, ...], list[Pending]] | None = None
        # When each visitor's runs were handed out, and their cost, while they had runs waiting.
        self._handed_out: dict[str, list[tuple[int, int]]] = {}

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

    def order(self, running: list[tuple[str, int]]) -> list[Pending]:
        """The projected dispatch order, as if each run kept its worker until all had one;
        `running`: (owner, cost) of the runs on workers now."""
        key = tuple(sorted(running))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        started = self._started(running)
        waiting = list(self._waiting.values())
        order = []
        while waiting:
            job = min(waiting, key=lambda p: (started[p.owner] + p.cost, p.seq))
            waiting.remove(job)
            order.append(job)
            started[job.owner] += job.cost
        self._cache = (key, order)
        return order

    def pop_next(self, running: list[tuple[str, int]]) -> Pending | None:
        """Take out the run that goes to the next free worker."""
        order = self.order(running)
        if not order:
            return None
        job = order[0]
        self._handed_out.setdefault(job.owner, []).append((next(self._clock), job.cost))
        return self.remove(job.run_id)

    def _started(self, running: list[tuple[str, int]]) -> Counter[str]:
        """Per visitor: the cost of the runs handed out since their oldest waiting run came,
        at least that of their runs on workers now."""
        started: Counter[str] = Counter()
        for owner, cost in running:
            started[owner] += cost
        for owner, handed in self._handed_out.items():
            started[owner] = max(started[owner], sum(cost for _, cost in handed))
        return started

    def _forget_before_oldest(self, owner: str) -> None:
        """Drop the hand-outs of `owner` that came before their oldest waiting run."""
        oldest = min((job.seq for job in self._waiting.values() if job.owner == owner),
                     default=None)
        handed = [(tick, cost) for tick, cost in self._handed_out.get(owner, [])
                  if oldest is not None and tick > oldest]
        if handed:
            self._handed_out[owner] = handed
        else:
            self._handed_out.pop(owner, None)

    def position(self, run_id: str, running: list[tuple[str, int]]) -> int | None:
        """1-based place of a waiting run in the projected order, None if not waiting."""
        if run_id not in self._waiting:
            return None
        for i, job in enumerate(self.order(running), start=1):
            if job.run_id == run_id:
                return i
        return None


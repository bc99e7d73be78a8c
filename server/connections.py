"""Slots for client connections, so slow and idle ones cannot deny real users (issue 12, B4).

Every connection holds a slot from the moment it is accepted until it closes. A slot is
*waiting* while the server waits for its client: for a request head (from the connection's
start, or the end of the previous answer on a keep-alive connection) and then for that
request's body. It is *busy* while the server works for it: a request being handled, an
answer being written (a long download included), a websocket. Only waiting slots have
deadlines and only they are given up for a newcomer: at the limit, the connection that has
waited longest for its client is closed to make room. When every slot is busy the newcomer is
refused (503). The same holds per client address with a lower cap, so one address cannot hold
every slot with busy connections.

No uvicorn here: `server/protocol.py` drives these slots from uvicorn's HTTP protocol.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
# Files the server keeps open besides its client connections (SQLite and its WAL, the
# listening socket, the event loop, logs, imports), and per local worker (its pipes).
RESERVED_FILES = 64
FILES_PER_WORKER = 8
MIN_CONNECTIONS = 16
WARN_EVERY_SECONDS = 60.0


def connection_limit(wanted: int, workers: int = 0, open_files: int | None = None) -> int:
    """Client connections the server may hold: `wanted`, but fewer than it may open files.

    A connection accepted past the limit of open files fails in accept(), before the server
    could close an idle one to make room, so the limit stays below it.
    """
    if open_files is None:
        open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if open_files == resource.RLIM_INFINITY:
        return wanted
    room = open_files - RESERVED_FILES - FILES_PER_WORKER * workers
    return max(MIN_CONNECTIONS, min(wanted, room))


def raise_file_limit(ceiling: int = 65536) -> int:
    """Raise the soft limit of open files towards the hard one (up to `ceiling`); the new soft."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = ceiling if hard == resource.RLIM_INFINITY else min(hard, ceiling)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            pass
    return soft


@dataclass(eq=False)
class Slot:
    """One client connection: its address, whether it waits for its client, its deadline."""

    address: str
    close: Callable[[], None]  # ends the connection (the owner decides what to answer first)
    waiting_since: float | None = None
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class ConnectionGuard:
    """The slots of all client connections, longest-waiting first (see the module's doc).

    Args:
        limit: connections held at most (see `connection_limit`).
        per_address: connections one client address may hold at most.
        header_seconds: time a request head may take, from the connection's start or the end of
            the previous answer.
        body_seconds: time a request body may take, from the end of its head.
    """

    def __init__(self, limit: int, per_address: int, header_seconds: float,
                 body_seconds: float) -> None:
        self.limit = limit
        self.per_address = min(per_address, limit)
        self.header_seconds = header_seconds
        self.body_seconds = body_seconds
        self.slots: set[Slot] = set()
        self.held: Counter[str] = Counter()
        self.waiting: OrderedDict[Slot, None] = OrderedDict()
        self.waiting_at: dict[str, OrderedDict[Slot, None]] = {}
        self.counts: Counter[str] = Counter()  # closed and refused since the last warning
        self.warned_at = float("-inf")

    def admit(self, address: str, close: Callable[[], None]) -> Slot | None:
        """A slot for a new connection, making room if needed; None when it must be refused."""
        if self.held[address] >= self.per_address and not self._evict(
                self.waiting_at.get(address)):
            return self._refused()
        if len(self.slots) >= self.limit and not self._evict(self.waiting):
            return self._refused()
        slot = Slot(address, close)
        self.slots.add(slot)
        self.held[address] += 1
        self.wait(slot)
        return slot

    def wait(self, slot: Slot) -> None:
        """The slot now waits for its client (it becomes the newest waiting one)."""
        if slot not in self.slots:
            return
        slot.waiting_since = time.monotonic()
        self.waiting[slot] = None
        self.waiting.move_to_end(slot)
        at = self.waiting_at.setdefault(slot.address, OrderedDict())
        at[slot] = None
        at.move_to_end(slot)

    def busy(self, slot: Slot) -> None:
        """The server works for this slot's connection: no deadline, never evicted."""
        slot.cancel_timer()
        slot.waiting_since = None
        self.waiting.pop(slot, None)
        at = self.waiting_at.get(slot.address)
        if at is not None:
            at.pop(slot, None)
            if not at:
                del self.waiting_at[slot.address]

    def release(self, slot: Slot) -> None:
        """The connection closed: its slot is free (safe to call more than once)."""
        if slot not in self.slots:
            return
        self.busy(slot)
        self.slots.discard(slot)
        self.held[slot.address] -= 1
        if self.held[slot.address] <= 0:
            del self.held[slot.address]

    def count(self, what: str) -> None:
        """Counts a connection closed for `what`; a warning says how many, once a minute."""
        self.counts[what] += 1
        now = time.monotonic()
        if now - self.warned_at >= WARN_EVERY_SECONDS:
            self.warned_at = now
            summary = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
            self.counts.clear()
            log.warning("slow or idle clients (issue 12, B4): %s; holding %d of %d connections",
                        summary, len(self.slots), self.limit)

    def _evict(self, waiting: OrderedDict[Slot, None] | None) -> bool:
        if not waiting:
            return False
        oldest = next(iter(waiting))
        self.release(oldest)
        oldest.close()
        self.count("closed to make room")
        return True

    def _refused(self) -> None:
        self.count("refused with every slot busy")
        return None

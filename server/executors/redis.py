"""RedisExecutor: runs trained by workers on any machine, via Redis (`GRADWATCH_EXECUTOR=redis`).

A run is an RQ job called by name (`trainer.worker.train`, JSON-serialized, no pickles) on one
of the priority queues of `contract.redisnames`; the worker that takes it writes its events to
the run's capped stream, which one reader task here follows for every active run (XREAD with a
bounded block) and hands to the event callback in order. After each batch the callback also gets
`{"type": "position", "stream_id": ...}`, which the service stores with the events, so a
restarted server resumes each stream right after the last entry it recorded.

RQ's API is synchronous and runs in threads (`server.executors.rqjobs`); streams, stop and
heartbeat keys use redis.asyncio. Nothing here waits on Redis for longer than a few seconds, and
nothing imports TensorFlow.

Fairness: RQ hands out jobs strictly by queue order, first-in first-out within a queue, and
cannot reorder a waiting job. So a run goes to the queue of its owner's number of active runs
(first run: queue 0, second: queue 1, ...): everyone's first run starts before anyone's second.
A costly run goes further back, one queue per factor of ten its estimated work is past
`COSTLY` (`rqjobs.fairness_level`): the local executor's queue weighs runs by cost exactly,
and this is the same rule in the coarse steps that a fixed set of FIFO queues allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from server.executors.base import EventCallback, Executor, ExecutorUnavailable
from server.executors.redislink import ERRORS, READ_BLOCK_MS, RedisLink
from server.executors.replay import ReplayFilter, StoredTail
from server.executors.rqjobs import Snapshot, fairness_level
from trainer.contract.protocol import finished
from trainer.contract.redisnames import (
    HEARTBEAT_TTL,
    STOP_TTL,
    alive_key,
    decode_event,
    events_key,
    stop_key,
)

log = logging.getLogger(__name__)

READ_COUNT = 1000     # entries per stream per read (a new stream joins within READ_BLOCK_MS)
MONITOR_SECONDS = 1.0
RETRY_SECONDS = 1.0
KEEP_READ_MS = 60_000  # entries are trimmed this long after the one last read (long stored)
UNREACHABLE = ("the run queue (Redis) cannot be reached right now, so new runs cannot start; "
               "try again in a minute")


@dataclass(eq=False)
class Tracked:
    """A run this server follows: how far its stream was read, and what it is doing."""

    owner: str
    status: str             # queued | running
    last_id: str = "0-0"    # the last stream entry handed on
    replay: ReplayFilter = field(default_factory=ReplayFilter)  # what was handed on already
    worker: str | None = None
    stop_reason: str | None = None
    lost: str | None = None  # set by the monitor: why the run seems gone; the reader settles it


class RedisExecutor(Executor):
    """Queues runs in RQ and follows their event streams; workers run `python -m trainer.worker`."""

    kind = "redis"
    resumes_runs = True

    def __init__(self, url: str) -> None:
        self.link = RedisLink(url)
        self.jobs, self.r = self.link.jobs, self.link.r
        self.runs: dict[str, Tracked] = {}
        self.snapshot = Snapshot()
        self._positions: dict[str, int] = {}
        self._on_event: EventCallback | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._closing = False

    # -- the Executor interface ------------------------------------------------------------

    async def start(self, on_event: EventCallback) -> None:
        self._on_event = on_event
        self._tasks = [asyncio.create_task(self._read_loop(), name="redis-executor-reader"),
                       asyncio.create_task(self._monitor_loop(), name="redis-executor-monitor")]

    async def resume(self, run_id: str, owner: str, status: str, position: str | None,
                     stored: StoredTail) -> None:
        self.runs[run_id] = Tracked(owner, status, position or "0-0",
                                    ReplayFilter(stored, running=status == "running"))
        self._wake.set()

    async def submit(self, run_id: str, owner: str, config: dict[str, Any],
                     max_seconds: float, cost: int = 1) -> None:
        level = fairness_level(sum(t.owner == owner for t in self.runs.values()), cost)
        try:
            await self.link.in_thread(self.jobs.enqueue, run_id, config, max_seconds, level)
        except ERRORS as exc:
            self.link.down(exc)
            raise ExecutorUnavailable(UNREACHABLE) from exc
        self.runs[run_id] = Tracked(owner, "queued")
        self.snapshot.queued[level].append(run_id)
        self._set_snapshot(self.snapshot)
        self._wake.set()

    async def stop(self, run_id: str, reason: str = "stopped by its owner") -> bool:
        tracked = self.runs.get(run_id)
        if tracked is None:
            return False
        try:
            # The key first: a worker taking the run right now sees it before its first step.
            await self.link.call(self.r.set(stop_key(run_id), reason, ex=STOP_TTL))
            taken_back = (tracked.status == "queued"
                          and await self.link.in_thread(self.jobs.take_back, run_id))
        except ERRORS as exc:
            self.link.down(exc)
            raise ExecutorUnavailable("the run queue (Redis) cannot be reached right now, so "
                                      "the stop could not be sent; try again in a minute") from exc
        tracked.stop_reason = reason
        if taken_back:
            self._settle(run_id, finished("stopped", reason))
        return True

    def waiting(self) -> list[tuple[str, str]]:
        # self.runs keeps submission order (resumed runs first)
        return [(run_id, t.owner) for run_id, t in self.runs.items() if t.status == "queued"]

    def queue_position(self, run_id: str) -> int | None:
        tracked = self.runs.get(run_id)
        if tracked is None or tracked.status != "queued":
            return None
        return self._positions.get(run_id)

    def health(self) -> dict[str, Any]:
        snap, error = self.snapshot, self.link.error
        up = error is None
        health = {"kind": self.kind, "state": "ok" if up and snap.workers else "degraded",
                  "workers": snap.workers, "busy": snap.busy, "queued": len(snap.order()),
                  "redis": "ok" if up else "unreachable"}
        if not up:
            health["error"] = error
        return health

    async def close(self) -> None:
        """Stop following streams; the runs go on on their workers and a new server resumes them."""
        self._closing = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        await self.link.close()

    # -- reading the streams ---------------------------------------------------------------

    async def _read_loop(self) -> None:
        """Hand every stream entry to the callback, in order, as soon as it is written."""
        while not self._closing:
            if not self.runs:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self._wake.wait()
                continue
            streams = {events_key(run_id): t.last_id for run_id, t in self.runs.items()}
            try:
                reply = await self.r.xread(streams, count=READ_COUNT, block=READ_BLOCK_MS)
                self.link.up()
                self._deliver_all(reply)
                await self._settle_lost()
            except ERRORS as exc:
                self.link.down(exc)
                await asyncio.sleep(RETRY_SECONDS)
            except Exception:  # a bug must not silently end the reading of every run
                log.exception("reading the run streams failed")
                await asyncio.sleep(RETRY_SECONDS)

    def _deliver_all(self, reply: Any) -> None:
        items = reply.items() if isinstance(reply, dict) else (reply or [])
        for key, entries in items:
            key = key.decode() if isinstance(key, bytes) else key
            self._deliver(key.rsplit(":", 1)[1], entries)

    def _deliver(self, run_id: str, entries: list[tuple[Any, Any]]) -> None:
        tracked = self.runs.get(run_id)
        if tracked is None:
            return
        for entry_id, fields in entries:
            if self.runs.get(run_id) is not tracked:
                return  # settled (finished) by an earlier entry
            tracked.last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            try:
                event = decode_event(fields)
            except (ValueError, TypeError, AttributeError):
                log.error("run %s: unreadable stream entry %s", run_id, tracked.last_id)
                continue
            self._apply(run_id, tracked, event)
        if self.runs.get(run_id) is tracked:
            self._emit(run_id, {"type": "position", "stream_id": tracked.last_id})

    def _apply(self, run_id: str, tracked: Tracked, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "dispatched":
            tracked.status, tracked.worker = "running", event.get("worker")
            self._set_snapshot(self.snapshot)  # every run behind it moves up
        if kind == "finished":
            self._settle(run_id, event)
            return
        # Delivery from a worker is at least once (when the reply to its XADD batch times out,
        # a worker busy tracing can miss it, it sends the batch again), and a resumed stream
        # replays what was stored after its last stored position: copies are dropped here.
        if (new := tracked.replay.admit(event)) is not None:
            self._emit(run_id, new)

    async def _settle_lost(self) -> None:
        """Read a lost run's stream one last time; if it has not ended there, end it here."""
        for run_id, tracked in list(self.runs.items()):
            if tracked.lost is None:
                continue
            reply = await self.r.xread({events_key(run_id): tracked.last_id}, count=10 ** 6)
            self._deliver_all(reply)
            if self.runs.get(run_id) is tracked:
                self._settle(run_id, finished("stopped", tracked.stop_reason) if
                             tracked.stop_reason else finished("failed", tracked.lost))

    def _settle(self, run_id: str, event: dict[str, Any]) -> None:
        """The run has ended: forget it, report it, and drop its keys."""
        self.runs.pop(run_id, None)
        self._positions.pop(run_id, None)
        self._emit(run_id, event)
        self.link.chore(lambda: self.r.delete(events_key(run_id), stop_key(run_id)))

    # -- watching workers and queues -------------------------------------------------------

    async def _monitor_loop(self) -> None:
        """Refresh the queue and worker snapshot, and look for runs whose worker is gone."""
        while not self._closing:
            try:
                self._set_snapshot(await self.link.in_thread(self.jobs.snapshot))
                self.link.up()
                # After an outage, give workers time to renew heartbeats that lapsed meanwhile.
                if self.link.up_for() >= HEARTBEAT_TTL:
                    await self._find_lost()
                await self._trim()
            except ERRORS as exc:
                self.link.down(exc)
            except Exception:
                log.exception("watching the queues and workers failed")
            await asyncio.sleep(MONITOR_SECONDS)

    async def _find_lost(self) -> None:
        running = [r for r, t in self.runs.items() if t.status == "running" and not t.lost]
        if running:
            async with self.r.pipeline(transaction=False) as pipe:
                for run_id in running:
                    pipe.exists(alive_key(run_id))
                alive = await self.link.call(pipe.execute())
            for run_id, beating in zip(running, alive):
                tracked = self.runs.get(run_id)
                if not beating and tracked is not None:
                    tracked.lost = (f"the worker training it ({tracked.worker}) stopped sending "
                                    f"heartbeats for {HEARTBEAT_TTL} s: it died, or lost its "
                                    "connection to Redis")
        waiting = set(self.snapshot.order())
        vanished = [r for r, t in self.runs.items()
                    if t.status == "queued" and not t.lost and r not in waiting]
        if vanished:
            for run_id, why in (await self.link.in_thread(self.jobs.lost_jobs, vanished)).items():
                if (tracked := self.runs.get(run_id)) is not None and tracked.status == "queued":
                    tracked.lost = why

    async def _trim(self) -> None:
        """Drop stream entries read (and so stored) a while ago; MAXLEN only caps the rest."""
        async with self.r.pipeline(transaction=False) as pipe:
            for run_id, tracked in self.runs.items():
                read_ms = int(tracked.last_id.split("-")[0])
                if read_ms > KEEP_READ_MS:
                    pipe.xtrim(events_key(run_id), minid=str(read_ms - KEEP_READ_MS),
                               approximate=True)
            await self.link.call(pipe.execute())

    def _set_snapshot(self, snap: Snapshot) -> None:
        self.snapshot = snap
        order = [r for r in snap.order() if r in self.runs and self.runs[r].status == "queued"]
        self._positions = {run_id: i for i, run_id in enumerate(order, start=1)}

    # -- plumbing --------------------------------------------------------------------------

    def _emit(self, run_id: str, event: dict[str, Any]) -> None:
        try:
            self._on_event(run_id, event)
        except Exception:  # a bug in a consumer must not stop the reader
            log.exception("handling %s of run %s failed", event.get("type"), run_id)


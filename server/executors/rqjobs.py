"""RQJobs: the server's side of RQ: enqueue a run by name, take a waiting one back, read queues.

RQ's API is synchronous, so `RedisExecutor` calls these methods in a thread, never on the event
loop. The client has short timeouts and no retry back-off: when Redis is down a call fails in
about a second instead of hanging a request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue, worker_registration
from rq.job import Job
from rq.serializers import JSONSerializer

from trainer.contract.redisnames import JOB_FUNCTION, JOB_TIMEOUT_GRACE, QUEUE_NAMES

COSTLY = 10**9  # multiply-adds (`run_cost`): every MLP preset is below, the conv and RNN ones above

CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 3.0
RESULT_TTL = 600        # s an RQ job hash is kept after the run (the stream has the events)
FAILURE_TTL = 24 * 3600
LOST_STATUSES = ("failed", "stopped", "canceled")


@dataclass
class Snapshot:
    """What Redis said about the queues and workers at one moment."""

    queued: list[list[str]] = field(default_factory=lambda: [[] for _ in QUEUE_NAMES])
    workers: int = 0
    busy: int = 0

    def order(self) -> list[str]:
        """Waiting run ids in the order workers will take them (priority queues, then FIFO)."""
        return [run_id for level in self.queued for run_id in level]


def client(url: str, **overrides: Any) -> redis.Redis:
    """A synchronous Redis client that fails fast."""
    options: dict[str, Any] = {"socket_connect_timeout": CONNECT_TIMEOUT,
                               "socket_timeout": SOCKET_TIMEOUT, "retry": Retry(NoBackoff(), 1)}
    return redis.Redis.from_url(url, **{**options, **overrides})


class RQJobs:
    """Runs as RQ jobs (JSON-serialized, called by name) on the GradWatch priority queues."""

    def __init__(self, url: str) -> None:
        self.conn = client(url)
        self.queues = [Queue(name, connection=self.conn, serializer=JSONSerializer)
                       for name in QUEUE_NAMES]

    def enqueue(self, run_id: str, config: dict[str, Any], max_seconds: float,
                level: int) -> None:
        """Queue a run at a fairness level (0 = taken first); the job id is the run id."""
        queue = self.queues[min(level, len(self.queues) - 1)]
        queue.enqueue_call(JOB_FUNCTION, kwargs={"run_id": run_id, "config": config,
                                                 "max_seconds": max_seconds},
                           job_id=run_id, description=f"gradwatch run {run_id}",
                           timeout=int(max_seconds) + JOB_TIMEOUT_GRACE,
                           result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL)

    def take_back(self, run_id: str) -> bool:
        """Remove a run that still waits; False if a worker has it already (or it is gone)."""
        for queue in self.queues:
            if queue.remove(run_id):  # LREM: atomic, so a worker and we never both get it
                self.conn.delete(Job.key_for(run_id))
                return True
        return False

    def snapshot(self) -> Snapshot:
        """Waiting runs per queue, and the workers in RQ's registry (alive ones only)."""
        queued = [q.get_job_ids() for q in self.queues]
        keys = sorted(set().union(*(worker_registration.get_keys(q) for q in self.queues)))
        with self.conn.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "state")
            states = pipe.execute()
        # An entry whose hash has expired is a dead worker RQ has not swept from the set yet.
        alive = [s.decode() for s in states if s is not None]
        return Snapshot(queued, len(alive), alive.count("busy"))

    def lost_jobs(self, run_ids: list[str]) -> dict[str, str]:
        """Of these runs (believed waiting), those RQ no longer has or gave up on, with why."""
        with self.conn.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.hget(Job.key_for(run_id), "status")
            statuses = pipe.execute()
        lost = {}
        for run_id, status in zip(run_ids, statuses):
            if status is None:
                lost[run_id] = "its job vanished from Redis (was Redis restarted without its data?)"
            elif status.decode() in LOST_STATUSES:
                lost[run_id] = f"RQ reports its job {status.decode()} before it could start"
        return lost

    def close(self) -> None:
        """Close the connections."""
        self.conn.close()


def fairness_level(active: int, cost: int) -> int:
    """The queue (index in `QUEUE_NAMES`) of a run whose owner has `active` runs queued or
    running and whose estimated work is `cost`: one level per active run, plus one per factor
    of ten past `COSTLY` (10⁹ → +0, 10¹⁰ → +1, 10¹¹ → +2), the last queue at most."""
    costly = 0
    while cost > COSTLY * 10**costly and costly < len(QUEUE_NAMES):
        costly += 1
    return min(active + costly, len(QUEUE_NAMES) - 1)

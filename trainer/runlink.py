"""RunLink: a run's line to the server through Redis, on a scale-out worker.

It writes the run's events to its capped stream, keeps its heartbeat key alive and polls its
stop key (names and timings in `contract.redisnames`). The polling happens on a thread, so the
per-step `stop_reason()` the trainer calls costs nothing. When Redis cannot be reached, events
wait in memory and go out, in order, once it answers again; a run cut off for longer than
`LOST_AFTER` seconds stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from trainer.contract.redisnames import (
    HEARTBEAT_EVERY,
    HEARTBEAT_TTL,
    STOP_POLL_SECONDS,
    STREAM_MAXLEN,
    STREAM_TTL,
    alive_key,
    encode_event,
    events_key,
    stop_key,
)

log = logging.getLogger(__name__)

LOST_AFTER = 30.0   # seconds without Redis before the run stops (and before giving up at the end)
RETRY_EVERY = 1.0   # while Redis is unreachable, try to send waiting events this often


class RunLink:
    """One run's event stream, heartbeat and stop key, as seen from the worker training it."""

    def __init__(self, conn: redis.Redis, run_id: str, worker_name: str,
                 extra_stop: Callable[[], str | None] = lambda: None) -> None:
        self.conn, self.run_id, self.worker_name = conn, run_id, worker_name
        self.extra_stop = extra_stop
        self._pending: list[dict[str, str]] = []
        self._lost_since: float | None = None
        self._next_try = 0.0
        self._stop: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=f"run-{run_id}-link",
                                        daemon=True)

    def open(self) -> None:
        """Set the heartbeat and read the stop key once (raises if Redis is unreachable)."""
        self._beat()
        self._read_stop()
        self._thread.start()

    def emit(self, event: dict[str, Any]) -> None:
        """Queue an event for the stream and send whatever waits (unless Redis is away)."""
        self._pending.append(encode_event(event))
        self._send()

    def stop_reason(self) -> str | None:
        """Why the run should stop now, or None: asked to, shut down, or cut off from Redis."""
        if self._stop is not None:
            return self._stop
        if self._lost_since is not None and time.monotonic() - self._lost_since > LOST_AFTER:
            return f"the worker lost its connection to Redis for more than {LOST_AFTER:g} s"
        return self.extra_stop()

    def close(self) -> None:
        """Deliver what waits (for up to LOST_AFTER s), then drop the heartbeat.

        The heartbeat goes last: a server that finds it gone finds the `finished` entry first.
        """
        deadline = time.monotonic() + LOST_AFTER
        while self._pending and time.monotonic() < deadline:
            self._send(force=True)
            if self._pending:
                time.sleep(RETRY_EVERY)
        self._done.set()
        self._thread.join(timeout=5)
        if self._pending:
            log.error("run %s: %d events could not reach Redis and are lost", self.run_id,
                      len(self._pending))
            return
        try:
            with self.conn.pipeline(transaction=True) as pipe:
                pipe.expire(events_key(self.run_id), STREAM_TTL)
                pipe.delete(alive_key(self.run_id), stop_key(self.run_id))
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("run %s: could not clear its heartbeat: %s", self.run_id, exc)

    # -- internals -------------------------------------------------------------------------

    def _send(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self._pending or (not force and self._lost_since is not None
                                 and now < self._next_try):
            return
        try:
            # MULTI/EXEC: a batch lands whole or not at all, so a retry cannot leave a hole.
            with self.conn.pipeline(transaction=True) as pipe:
                for fields in self._pending:
                    pipe.xadd(events_key(self.run_id), fields, maxlen=STREAM_MAXLEN,
                              approximate=True)
                pipe.execute()
        except redis.RedisError as exc:
            if self._lost_since is None:
                self._lost_since = now
                log.warning("run %s: Redis unreachable (%s); keeping its events", self.run_id,
                            exc)
            self._next_try = now + RETRY_EVERY
            return
        self._pending.clear()
        if self._lost_since is not None:
            log.info("run %s: Redis is back; events sent", self.run_id)
        self._lost_since = None

    def _beat(self) -> None:
        self.conn.set(alive_key(self.run_id), self.worker_name, ex=HEARTBEAT_TTL)

    def _read_stop(self) -> None:
        value = self.conn.get(stop_key(self.run_id))
        if value is not None and self._stop is None:
            self._stop = value.decode("utf-8", "replace") or "stopped by request"

    def _poll(self) -> None:
        next_beat = time.monotonic() + HEARTBEAT_EVERY
        while not self._done.wait(STOP_POLL_SECONDS):
            try:
                if self._stop is None:
                    self._read_stop()
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + HEARTBEAT_EVERY
                    self._beat()
            except redis.RedisError:
                pass  # emit() notices and reports the outage; the next beat retries

"""RedisLink: how the Redis executor reaches Redis, and whether Redis answers right now.

Every call is bounded: short connect and socket timeouts, no retry back-off, and
`CALL_TIMEOUT` around whatever runs in a thread. So when Redis is down a request gets its
answer (503) in about a second, and the executor's loops carry on and notice when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from server.executors.rqjobs import CONNECT_TIMEOUT, RQJobs
from trainer.contract.redisnames import redacted

log = logging.getLogger(__name__)

ERRORS = (redis.RedisError, OSError, TimeoutError)
CALL_TIMEOUT = 5.0     # no Redis call holds a request or a loop longer than this
READ_BLOCK_MS = 250    # the longest blocking read (XREAD BLOCK)


class RedisLink:
    """The async client (streams, keys), the RQ side (in threads), and Redis's state."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.jobs = RQJobs(url)
        self.r = aioredis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT,
                                         socket_timeout=READ_BLOCK_MS / 1000 + 3,
                                         retry=Retry(NoBackoff(), 1))
        self.error: str | None = "not contacted yet"
        self._up_since: float | None = None
        self._chores: set[asyncio.Task[Any]] = set()

    def up_for(self) -> float:
        """Seconds Redis has answered without a failure in between (0 while it does not)."""
        return 0.0 if self._up_since is None else time.monotonic() - self._up_since

    def up(self) -> None:
        """A call succeeded."""
        if self.error is not None:
            log.info("Redis at %s answers", redacted(self.url))
        self.error = None
        if self._up_since is None:
            self._up_since = time.monotonic()

    def down(self, exc: BaseException) -> None:
        """A call failed: Redis is unreachable (or too slow) now."""
        if self.error is None:
            log.warning("Redis at %s is unreachable: %s", redacted(self.url), exc)
        self.error = f"Redis at {redacted(self.url)}: {exc or type(exc).__name__}"
        self._up_since = None

    async def call(self, awaitable: Awaitable[Any]) -> Any:
        """Await a redis.asyncio call, for at most CALL_TIMEOUT seconds."""
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation.
        async with asyncio.timeout(CALL_TIMEOUT):
            return await awaitable

    async def in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a synchronous (RQ) call in a thread, for at most CALL_TIMEOUT seconds."""
        async with asyncio.timeout(CALL_TIMEOUT):
            return await asyncio.to_thread(fn, *args)

    def chore(self, call: Callable[[], Awaitable[Any]]) -> None:
        """Run a best-effort call in the background (cleanup that may fail harmlessly)."""
        async def quietly() -> None:
            with contextlib.suppress(*ERRORS):
                await self.call(call())

        task = asyncio.create_task(quietly())
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def close(self) -> None:
        """Drop pending chores and close the connections."""
        for task in list(self._chores):
            task.cancel()
        with contextlib.suppress(*ERRORS):
            await self.r.aclose()
        await asyncio.to_thread(self.jobs.close)

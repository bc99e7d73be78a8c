"""Retention: finished runs past `keep_runs`, or older than `keep_days`, are deleted with history.

Runs queued or running are never touched. Pruning happens when the server starts, shortly after
a run ends, and every hour (for the age limit). The deletes run in a thread, off the event loop;
viewers of a deleted run are closed with 4404, as if its owner had deleted it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from server.hub import Hub
from server.store import RunStore, StoreError
from trainer.contract.protocol import GONE_CODE

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600.0
DAY = 86400.0


class Retention:
    """Keeps the store to the newest `keep_runs` finished runs and to `keep_days` of them."""

    def __init__(self, store: RunStore, hub: Hub, keep_runs: int, keep_days: float) -> None:
        self.store = store
        self.hub = hub
        self.keep_runs = keep_runs
        self.keep_days = keep_days
        self._pending: asyncio.Task[list[str]] | None = None
        self._again = False
        self._ticker: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.keep_runs > 0 or self.keep_days > 0

    def prune(self) -> list[str]:
        """Delete what is past the limits now (blocking); the ids deleted."""
        before = time.time() - self.keep_days * DAY if self.keep_days > 0 else None
        deleted = []
        for run_id in self.store.expired_runs(self.keep_runs, before):
            if self.store.delete_run(run_id):
                deleted.append(run_id)
        if deleted:
            log.info("retention: deleted %d finished runs", len(deleted))
        return deleted

    async def prune_now(self) -> list[str]:
        """Prune in a thread, then close the sockets of runs that are gone."""
        if not self.enabled:
            return []
        try:
            deleted = await asyncio.to_thread(self.prune)
        except StoreError as exc:
            log.error("retention: %s", exc)
            return []
        for run_id in deleted:
            self.hub.close_run(run_id, GONE_CODE, "the run was deleted (retention limit)")
        return deleted

    def soon(self) -> None:
        """Prune in the background (a run just ended); calls while one runs are folded."""
        if not self.enabled:
            return
        if self._pending is not None and not self._pending.done():
            self._again = True
            return
        self._pending = asyncio.create_task(self._prune_until_settled(), name="retention")

    async def _prune_until_settled(self) -> list[str]:
        deleted = await self.prune_now()
        while self._again:
            self._again = False
            deleted += await self.prune_now()
        return deleted

    async def start(self) -> None:
        """Prune once now, then every PRUNE_EVERY_SECONDS until `close`."""
        await self.prune_now()
        if self.enabled:
            self._ticker = asyncio.create_task(self._tick(), name="retention-ticker")

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_EVERY_SECONDS)
            await self.prune_now()

    async def close(self) -> None:
        """Stop pruning; a prune under way finishes first, so the store can close after it."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._pending is not None:
            self._again = False
            with contextlib.suppress(Exception):
                await self._pending

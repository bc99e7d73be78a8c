"""The encoded History and epochs of ended runs, so a class opening one run reads it once.

A run that has ended never changes, but its snapshot frame costs a read of every stored step,
a parse and an encode: 130-160 ms for a 10-layer run of 12,500 steps. This keeps the encoded
part of the frame that is the same for every viewer, encoded off the event loop as soon as the
run ends (`keep_soon`, called by RunEvents), least recently used dropped first past a total
size; the `run` part (which says whether the viewer owns it) is encoded per viewer.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from trainer.contract.protocol import FINAL_STATUSES, dumps

Row = dict[str, Any]
Encoding = asyncio.Future[tuple[Row | None, str]]


def encode_members(history: dict[str, list[Any]], epochs: list[dict[str, Any]]) -> str:
    """The `"history": ..., "epochs": ...` members of a snapshot frame, encoded."""
    return dumps({"history": history, "epochs": epochs})[1:-1]


class SnapshotCache:
    """Encoded `"history": ..., "epochs": ...` JSON members of ended runs, LRU by bytes."""

    def __init__(self, max_bytes: int, on_encoded: Callable[[], None] | None = None) -> None:
        self.max_bytes = max_bytes
        # Called after each encoding: what it read and built, or the ended run's History it
        # encoded, is freed then (server/memory.py gives that back to the system).
        self.on_encoded = on_encoded
        self._members: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0
        self._encoding: dict[str, Encoding] = {}

    async def members(self, run_id: str, read: Callable[[], tuple[Row, str]]
                      ) -> tuple[Row | None, str]:
        """A run's encoded members: kept ones (row None), or `read` off the loop (row, members)
        once for all the viewers asking at the same time; an ended run's are then kept."""
        members = self.get(run_id)
        if members is not None:
            return None, members
        encoding = self._encoding.get(run_id)
        if encoding is None:
            encoding = self._encode_soon(run_id, read)
        return await asyncio.shield(encoding)

    def keep_soon(self, run_id: str, history: dict[str, list[Any]],
                  epochs: list[dict[str, Any]]) -> None:
        """Encode a run that just ended, from the History it had in memory, for its next
        viewers (a class opening it at once); the caller must not change them any more."""
        if self.max_bytes and run_id not in self._encoding:
            self._encode_soon(run_id, lambda: (None, encode_members(history, epochs)))

    def _encode_soon(self, run_id: str, encode: Callable[[], tuple[Row | None, str]]
                     ) -> Encoding:
        """Run `encode` off the loop, once for everyone asking meanwhile; keep what an ended
        run's encoding gives (a row of None means: encoded as the run ended)."""
        encoding = asyncio.ensure_future(asyncio.to_thread(encode))
        self._encoding[run_id] = encoding

        def done(future: Encoding) -> None:
            self._encoding.pop(run_id, None)
            if not future.cancelled() and future.exception() is None:
                row, members = future.result()
                if row is None or row["status"] in FINAL_STATUSES:
                    self.put(run_id, members)
            if self.on_encoded is not None:
                self.on_encoded()

        encoding.add_done_callback(done)
        return encoding

    def get(self, run_id: str, count: bool = True) -> str | None:
        """The run's encoded members, if kept (`count`: a viewer's lookup, for the stats)."""
        members = self._members.get(run_id)
        if members is None:
            self.misses += count
            return None
        self.hits += count
        self._members.move_to_end(run_id)
        return members

    def put(self, run_id: str, members: str) -> None:
        """Keep a run's encoded members (an ended run's: they must never change)."""
        if len(members) > self.max_bytes:
            return
        self.drop(run_id)
        self._members[run_id] = members
        self._bytes += len(members)
        while self._bytes > self.max_bytes:
            _, evicted = self._members.popitem(last=False)
            self._bytes -= len(evicted)

    def drop(self, run_id: str) -> None:
        """Forget a run (it was deleted), its bounded snapshots (`<id>?buckets=...`) too."""
        for key in [k for k in self._members if k == run_id or k.startswith(f"{run_id}?")]:
            self._bytes -= len(self._members.pop(key))

    def stats(self) -> dict[str, int]:
        """Figures for GET /api/health."""
        return {"runs": len(self._members), "bytes": self._bytes, "hits": self.hits,
                "misses": self.misses}

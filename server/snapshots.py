"""The encoded History and epochs of ended runs, so a class opening one run reads it once.

A run that has ended never changes, but its snapshot frame costs a read of every stored step,
a parse and an encode: 130-160 ms for a 10-layer run of 12,500 steps. This keeps the encoded
part of the frame that is the same for every viewer, encoded off the event loop as soon as the
run ends (`RunService.keep_snapshot`), least recently used dropped first past a total size; the
`run` part (which says whether the viewer owns it) is encoded per viewer.
"""

from __future__ import annotations

from collections import OrderedDict


class SnapshotCache:
    """Encoded `"history": ..., "epochs": ...` JSON members of ended runs, LRU by bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._members: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

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
        """Forget a run (it was deleted)."""
        members = self._members.pop(run_id, None)
        if members is not None:
            self._bytes -= len(members)

    def stats(self) -> dict[str, int]:
        """Figures for GET /api/health."""
        return {"runs": len(self._members), "bytes": self._bytes, "hits": self.hits,
                "misses": self.misses}

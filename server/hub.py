"""Hub: fans each run's frames out to every websocket watching it.

A frame is encoded once (`contract.protocol.dumps`) and the same string goes to every watcher's
queue. A watcher that reads too slowly does not hold up the others: while its queue is full, new
metrics are merged into the metrics frame already waiting (no step is lost), a newer `run` or
`diagnosis` frame replaces the waiting one, and past a byte budget the watcher is evicted (its
socket is closed with EVICTED_CODE; the page reconnects and gets a fresh snapshot).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from typing import Any

from trainer.contract.protocol import EVICTED_CODE, GONE_CODE, dumps

METRICS_PREFIX = '{"type":"metrics","items":['
REPLACEABLE = ("run", "diagnosis")  # only the newest of these matters


class Subscriber:
    """One watcher's bounded queue of encoded frames."""

    def __init__(self, max_frames: int = 256, max_bytes: int = 16 * 2**20,
                 counts: Counter[str] | None = None) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.counts = Counter() if counts is None else counts  # shared with the Hub
        self.close_code: int | None = None
        self.close_reason = ""
        # [type, texts]: a frame waiting to be sent; a merged metrics frame keeps the frames
        # it was merged from and joins them once, when sent (merging stays O(1) per frame, so
        # a stalled viewer costs the event loop no more than a healthy one).
        self._frames: deque[list[Any]] = deque()
        self._bytes = 0
        self._ready = asyncio.Event()
        self._closed = asyncio.Event()

    def offer(self, kind: str, text: str) -> None:
        """Queue an encoded frame, merging or replacing waiting ones when the queue is full."""
        if self.close_code is not None:
            return
        if len(self._frames) < self.max_frames or not self._squeeze(kind, text):
            self._frames.append([kind, [text]])
        self._bytes += len(text)
        if self._bytes > self.max_bytes:
            self.close(EVICTED_CODE, "this viewer fell too far behind; reconnect for a snapshot")
        self._ready.set()

    def _squeeze(self, kind: str, text: str) -> bool:
        """Fold a frame into one already waiting; False if it has to be queued after all."""
        for i in range(len(self._frames) - 1, -1, -1):
            waiting_kind, texts = self._frames[i]
            if kind == "metrics" and waiting_kind == "metrics":
                texts.append(text)
                return True
            if kind in REPLACEABLE and waiting_kind == kind:
                del self._frames[i]
                self._bytes -= sum(map(len, texts))
                return False
        return False

    def close(self, code: int, reason: str = "") -> None:
        """Stop delivering; `get` answers None from now on."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self._frames.clear()
            self._bytes = 0
        self._ready.set()
        self._closed.set()

    async def wait_closed(self) -> None:
        """Return once the subscriber is closed (evicted, or its run deleted)."""
        await self._closed.wait()

    async def get(self) -> str | None:
        """The next frame to send, or None once the subscriber is closed."""
        while not self._frames:
            if self.close_code is not None:
                return None
            self._ready.clear()
            await self._ready.wait()
        if self.close_code is not None:
            return None
        kind, texts = self._frames.popleft()
        self._bytes -= sum(map(len, texts))
        # A sender that fell behind (a busy event loop) catches up with one send, not many:
        # what each viewer costs shrinks as the load grows.
        while kind == "metrics" and self._frames and self._frames[0][0] == "metrics":
            more = self._frames.popleft()[1]
            self._bytes -= sum(map(len, more))
            texts.extend(more)
        self.counts["sent"] += 1
        if len(texts) == 1:
            return texts[0]
        # Each text is '{"type":"metrics","items":[...]}' from dumps: join the item lists.
        return METRICS_PREFIX + ",".join(t[len(METRICS_PREFIX):-2] for t in texts) + "]}"

    def pending(self) -> int:
        """Frames waiting to be sent."""
        return len(self._frames)


class Hub:
    """Per-run sets of subscribers; publish encodes a frame once for all of them."""

    def __init__(self, max_frames: int = 256, max_bytes: int = 16 * 2**20) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self._runs: dict[str, set[Subscriber]] = defaultdict(set)
        # Fan-out work since start (GET /api/health): frames encoded (once per frame, for all
        # viewers), copies queued to viewers, and sends (fewer when waiting frames merge).
        self.counts: Counter[str] = Counter(encoded=0, queued=0, sent=0)

    def subscribe(self, run_id: str) -> Subscriber:
        """A new subscriber to a run's frames."""
        sub = Subscriber(self.max_frames, self.max_bytes, self.counts)
        self._runs[run_id].add(sub)
        return sub

    def unsubscribe(self, run_id: str, sub: Subscriber) -> None:
        """Forget a subscriber (its socket closed)."""
        subs = self._runs.get(run_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._runs[run_id]

    def watched(self, run_id: str) -> bool:
        """Whether anyone watches the run (so building a frame for it is worth it)."""
        return bool(self._runs.get(run_id))

    def watchers(self) -> int:
        """Open subscriptions over all runs."""
        return sum(len(s) for s in self._runs.values())

    def publish(self, run_id: str, frame: dict[str, Any]) -> str | None:
        """Send a frame to the run's subscribers; returns the encoded text (None if unwatched)."""
        subs = self._runs.get(run_id)
        if not subs:
            return None
        text = dumps(frame)
        kind = frame["type"]
        self.counts["encoded"] += 1
        self.counts["queued"] += len(subs)
        for sub in list(subs):
            sub.offer(kind, text)
            if sub.close_code is not None:
                subs.discard(sub)
        return text

    def close_run(self, run_id: str, code: int = GONE_CODE, reason: str = "") -> None:
        """Close every subscriber of a run, e.g. when it is deleted."""
        for sub in self._runs.pop(run_id, set()):
            sub.close(code, reason)

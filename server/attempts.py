"""Limits wrong access-code guesses per client address, so a class code cannot be brute-forced."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque


class FailedAttempts:
    """Sliding one-minute window of failed `/join` attempts per client address."""

    WINDOW = 60.0
    MAX_CLIENTS = 10_000  # the oldest addresses are forgotten past this, so memory is bounded

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str, now: float | None = None) -> int:
        """Seconds until `client` may try again (0: it may try now)."""
        now = time.monotonic() if now is None else now
        times = self._recent(client, now)
        if len(times) < self.per_minute:
            return 0
        return max(1, math.ceil(times[0] + self.WINDOW - now))

    def record_failure(self, client: str, now: float | None = None) -> None:
        """Count one wrong code from `client`."""
        now = time.monotonic() if now is None else now
        self._recent(client, now).append(now)
        self._seen.move_to_end(client)
        while len(self._seen) > self.MAX_CLIENTS:
            self._seen.popitem(last=False)

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - self.WINDOW:
            times.popleft()
        return times

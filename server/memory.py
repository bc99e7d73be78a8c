"""Gives the memory a run's history used back to the system once it is freed (issue 12).

While a long run is live its History is tens of MiB of Python numbers; reading or encoding an
ended one (a snapshot, a Summary, a download) allocates buffers of MiB in whichever thread does
it. glibc's malloc keeps what is freed: it raises its mmap threshold to the largest buffer freed
so far (up to 32 MiB), so later large buffers land in the heaps instead of mappings of their own,
and each thread's heap (up to 8 a core) stays as large as its largest burst. Measured before
this module, the server grew from 80 MiB idle to 370 MiB over 7 runs of 30,000 steps with only
87 MiB of it in use (docs/hosting.md, Sizing). So:

- at start (`tune_malloc`): a fixed mmap threshold, so a buffer of MMAP_THRESHOLD or more is a
  mapping of its own that goes back to the system when freed, and at most ARENA_MAX heaps;
- after large frees (a run ended, a snapshot or download read): `Trimmer.soon` runs
  `malloc_trim(0)`, which gives back the free pages inside every heap, off the event loop and
  at most once every TRIM_INTERVAL seconds.

Elsewhere than glibc (musl, macOS) both do nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import time

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameters, from glibc's malloc.h
M_ARENA_MAX = -8
MMAP_THRESHOLD = 256 * 1024
ARENA_MAX = 2
TRIM_INTERVAL = 1.0
SETTLE_SECONDS = 0.2


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 (glibc only)
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_libc = _glibc()
GLIBC = _libc is not None  # whether there is anything to tune and trim


def tune_malloc() -> bool:
    """Set glibc's mmap threshold and arena count (see the module); False if not glibc."""
    if _libc is None:
        return False
    return bool(_libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and _libc.mallopt(M_ARENA_MAX, ARENA_MAX))


def trim() -> None:
    """Give the free pages of malloc's heaps back to the system (blocking; a few ms)."""
    if _libc is not None:
        _libc.malloc_trim(0)


class Trimmer:
    """Runs `trim` in a thread soon after large frees, at most once every `interval` s."""

    def __init__(self, interval: float = TRIM_INTERVAL) -> None:
        self.interval = interval
        self.trims = 0
        self._last = 0.0
        self._pending: asyncio.TimerHandle | asyncio.Task[None] | None = None

    def soon(self) -> None:
        """Memory was just freed (call on the event loop): trim within `interval` s."""
        if _libc is None or self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a download's generator closed after the loop (shutting down)
            return
        # Not at once: what was freed is often still held until the caller's frame ends.
        wait = max(SETTLE_SECONDS, self._last + self.interval - time.monotonic())
        self._pending = loop.call_later(wait, self._start)

    def _start(self) -> None:
        self._pending = asyncio.ensure_future(self._trim())

    async def _trim(self) -> None:
        try:
            await asyncio.to_thread(trim)
            self.trims += 1
        finally:
            self._last = time.monotonic()
            self._pending = None

    def close(self) -> None:
        """Cancel a trim not started yet (the server stops)."""
        if isinstance(self._pending, asyncio.TimerHandle):
            self._pending.cancel()
            self._pending = None

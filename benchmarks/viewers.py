"""Many websocket viewers of one run in one asyncio process, recording every frame's arrival.

A viewer keeps each frame's text with its arrival time (time.time(), the clock a Step's `t` is
taken with, on the same machine) and parses nothing until the run is over, so the client
process spends as little CPU as it can while the server is measured.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

FINAL_PREFIX = '{"type":"status","status":"'
FINAL = ("completed", "stopped", "failed", "diverged")


@dataclass
class Viewer:
    """What one websocket received: (arrival time, text) per frame, and how it ended."""

    frames: list[tuple[float, str]] = field(default_factory=list)
    connected_at: float = 0.0
    close_code: int | None = None

    def steps(self) -> list[int]:
        """Every step number received: the snapshot's history, then the metrics frames."""
        out: list[int] = []
        for _, text in self.frames:
            frame = json.loads(text)
            if frame["type"] == "snapshot":
                out += frame["history"]["step"]
            elif frame["type"] == "metrics":
                out += [item["step"] for item in frame["items"]]
        return out

    def latencies(self, since: float = 0.0) -> list[float]:
        """Seconds from each live Step's `t` to its arrival, for steps taken after `since`."""
        out = []
        for arrived, text in self.frames:
            if text.startswith('{"type":"metrics"'):
                out += [arrived - item["t"] for item in json.loads(text)["items"]
                        if item["t"] >= since]
        return out


async def watch(server: Any, run_id: str, http: Any, viewer: Viewer,
                connected: asyncio.Event | None = None) -> None:
    """Record a run's frames until its final status frame (or the socket closes)."""
    async with server.ws(run_id, http) as ws:
        viewer.connected_at = time.time()
        if connected is not None:
            connected.set()
        try:
            async for text in ws:
                viewer.frames.append((time.time(), text))
                if _is_final(text) or _ended_before(text):
                    return
        finally:
            viewer.close_code = ws.close_code


def _ended_before(text: str) -> bool:
    """Whether this is the snapshot of a run that had ended when the viewer connected (no
    status frame follows it)."""
    return text.startswith('{"type":"snapshot"') and json.loads(text)["run"]["status"] in FINAL


def _is_final(text: str) -> bool:
    return text.startswith(FINAL_PREFIX) and text[len(FINAL_PREFIX):].split('"')[0] in FINAL


async def watch_many(server: Any, run_id: str, http: Any, count: int,
                     batch: int = 50) -> tuple[list[Viewer], list[asyncio.Task[None]], float]:
    """Open `count` viewers of a run (`batch` handshakes at a time); returns them, their tasks
    and the time the last one was connected."""
    viewers = [Viewer() for _ in range(count)]
    tasks: list[asyncio.Task[None]] = []
    for start in range(0, count, batch):
        events = []
        for viewer in viewers[start:start + batch]:
            event = asyncio.Event()
            events.append(event)
            tasks.append(asyncio.create_task(watch(server, run_id, http, viewer, event)))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 60)
    return viewers, tasks, time.time()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def gaps_and_duplicates(steps: list[int], expected: int) -> tuple[int, int]:
    """How many of 0..expected-1 are missing, and how many step numbers came twice."""
    return len(set(range(expected)) - set(steps)), len(steps) - len(set(steps))

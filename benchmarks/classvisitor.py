"""One student of the classroom benchmark: joins, starts runs from presets, watches each over
the websocket as the page does, exports one as CSV and restarts one with its diagnosis's first
suggestion. What each watched run showed is kept for the report (benchmarks/classroom.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.students import student_config
from tests.helpers import frames_until_final, open_ws, steps_of

PAGE_QUERY = "?buckets=625&metrics=grad_norms"  # what the page's socket asks (docs/protocol.md)
WATCH_TIMEOUT = 3600.0
MAX_RETRY_AFTER = 5.0  # seconds a visitor waits, at most, before asking again after a 429


@dataclass
class Watched:
    """A run a visitor started and watched to its end."""

    run_id: str
    kind: str  # "start" or "restart"
    retries: int  # 429s before it was accepted
    wait_s: float | None  # from the first POST to the first step received
    status: str = ""
    steps_ws: list[int] = field(default_factory=list)
    steps_stored: list[int] = field(default_factory=list)
    steps_csv: list[int] | None = None
    suggestions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Student:
    """What one visitor needs: the server, the access code and its place in the class."""

    url: str
    index: int
    http: httpx.AsyncClient

    async def post_run(self, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """POST a run (or a restart), asking again after each 429; the Run and the 429s."""
        retries = 0
        while True:
            answer = await self.http.post(path, json=body)
            if answer.status_code != 429:
                answer.raise_for_status()
                return answer.json(), retries
            retries += 1
            await asyncio.sleep(min(MAX_RETRY_AFTER, float(answer.headers.get("Retry-After", 1))))

    async def watch(self, path: str, body: dict[str, Any], kind: str) -> Watched:
        """Start a run and watch it over its websocket until its final status."""
        posted = time.monotonic()
        run, retries = await self.post_run(path, body)
        first_step: list[float] = []

        async def on_frame(frame: dict[str, Any]) -> None:
            if not first_step and steps_of([frame]):
                first_step.append(time.monotonic())

        async with open_ws(self.url, run["id"], self.http, query=PAGE_QUERY) as ws:
            frames = await frames_until_final(ws, WATCH_TIMEOUT, on_frame)
        watched = Watched(run["id"], kind, retries,
                          first_step[0] - posted if first_step else None,
                          frames[-1]["status"], steps_of(frames))
        ended = (await self.http.get(f"/api/runs/{run['id']}")).json()
        watched.suggestions = (ended.get("diagnosis") or {}).get("suggestions") or []
        stored = await self.http.get(f"/api/runs/{run['id']}/metrics")
        watched.steps_stored = stored.json()["step"]
        return watched

    async def export_csv(self, run_id: str) -> list[int]:
        """The step column of the run's CSV export, downloaded as a stream."""
        chunks = []
        async with self.http.stream("GET", f"/api/runs/{run_id}/metrics?format=csv") as answer:
            answer.raise_for_status()
            async for chunk in answer.aiter_text():
                chunks.append(chunk)
        return [int(row["step"]) for row in csv.DictReader(io.StringIO("".join(chunks)))]


def preset_run(preset: dict[str, Any], index: int, k: int, epochs: int | None
               ) -> dict[str, Any]:
    """Visitor `index`'s k-th run of a preset: its own seed and learning rate."""
    return student_config(preset, 1000 * index + k, 1 + 0.1 * ((index + k) % 5), epochs,
                          name=f"student {index}, {preset['id']}")


async def lesson(student: Student, configs: list[dict[str, Any]], into: list[Watched]) -> None:
    """Start and watch the runs, export the first, restart the first that has a suggestion
    with it (and watch that too); each run is added to `into` once watched to its end, so a
    lesson cut short keeps what it saw."""
    async def watch(path: str, body: dict[str, Any], kind: str) -> Watched:
        watched = await student.watch(path, body, kind)
        into.append(watched)
        return watched

    runs = await asyncio.gather(*(watch("/api/runs", config, "start") for config in configs))
    runs[0].steps_csv = await student.export_csv(runs[0].run_id)
    advised = next((run for run in runs if run.suggestions), None)
    if advised is not None:
        await watch(f"/api/runs/{advised.run_id}/restart", advised.suggestions[0]["overrides"],
                    "restart")


def lost_steps(run: Watched) -> bool:
    """Whether a step was lost: the socket's steps, the stored history's and the export's
    (when exported) differ, or the steps are not 0, 1, 2, ... without a gap."""
    exported = run.steps_csv if run.steps_csv is not None else run.steps_stored
    return not (run.steps_ws == run.steps_stored == exported
                == list(range(len(run.steps_stored))))

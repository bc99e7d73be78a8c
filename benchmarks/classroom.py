"""A class under load (issue 12): `VISITORS` students behind one address while a flooder, a slow
websocket reader and slowloris connections attack, against a real server.

The server is `python -m server` on loopback with 2 local workers, an access code, an admin
token (the harness's, as the teacher's console) and `MAX_RUN_SECONDS` lowered to what a class
of presets needs (docs/hosting.md section 5); every other limit is the default. Students arrive
over `ARRIVAL_SECONDS`, each with its own cookie, all from 127.0.0.1; each joins with the code,
starts `RUNS_EACH` runs from a mix of presets (its own seed and learning rate), watches them
over the websocket as the page does, exports one as CSV and restarts one with its diagnosis's
suggestion (benchmarks/classvisitor.py). The attackers (benchmarks/attackers.py) start with the
first student and stop when the last student is done, or when the lesson ends
(`LESSON_SECONDS`: on a slow or busy machine the class may not get through its runs); the
teacher then stops every run still queued or running (the flood's leftovers, and the students'
unfinished runs, which the report counts apart). A prober in its own thread, as one more
student, asks for /api/health, /api/presets and /api/runs in turn every `PROBE_SECONDS` and
reads the server's VmRSS.

Figures: every run's final status (students' and flooder's apart) with what the attackers were
answered; the p95 wait from a student's POST to its first step on the socket; the p95 latency
of the probed requests; the server's RSS idle, at its peak (VmHWM, and the largest sample) and
at the end; and whether any recorded step was lost (socket = stored history = CSV export,
steps 0..n-1 without a gap, for every run a student watched to its end).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import Counter
from typing import Any

import httpx

from benchmarks import attackers
from benchmarks.classvisitor import Student, Watched, lesson, lost_steps, preset_run
from benchmarks.live import LiveServer, join, live_server
from benchmarks.viewers import percentile
from tests.helpers import async_client
from trainer.contract.cost import DEFAULT_MAX_RUN_COST

VISITORS = 40
RUNS_EACH = 3
ARRIVAL_SECONDS = 300.0
EPOCHS: int | None = None  # the presets' own
PRESET_IDS = ("vanishing-sigmoid", "fixed-relu-he", "fixed-batchnorm", "vanishing-relu-30",
              "fixed-residual", "exploding-init", "tamed-clipping", "dying-relu",
              "pascanu-rho3", "seed")
MAX_RUN_SECONDS = 120
FLOOD_COOKIES = 10
FLOOD_COST = DEFAULT_MAX_RUN_COST  # the flood's runs: as costly as the server accepts
SLOW_SOCKETS = 10
SLOWLORIS = 20
PROBE_SECONDS = 0.5
PROBED = ("/api/health", "/api/presets", "/api/runs")
CODE = "k7q2-owl-9m4x"
TOKEN = "classroom-bench-token"
LESSON_SECONDS = 900.0
END_SECONDS = 600.0  # for the runs stopped at the end to end
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"VISITORS": 3, "RUNS_EACH": 1, "ARRIVAL_SECONDS": 2.0, "EPOCHS": 1,
         "PRESET_IDS": ("fixed-relu-he", "dying-relu"), "FLOOD_COOKIES": 2,
         "FLOOD_COST": 3_000_000_000, "SLOW_SOCKETS": 2, "SLOWLORIS": 3,
         "LESSON_SECONDS": 600.0}


class Prober:
    """One more student in a thread of its own: the probed requests' latencies and the
    server's RSS, sampled until `stop`."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.latencies: dict[str, list[float]] = {path: [] for path in PROBED}
        self.failures: Counter[str] = Counter()
        self.rss: list[float] = []
        self.runs_listed = 0  # the most runs `/api/runs` listed
        self.done = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._probe()))

    async def _probe(self) -> None:
        async with async_client(self.server.url, timeout=60) as http:
            await join(http, CODE)
            while not self.done.is_set():
                for path in PROBED:
                    started = time.perf_counter()
                    answer = await http.get(path)
                    self.latencies[path].append((time.perf_counter() - started) * 1000)
                    if answer.status_code != 200:
                        self.failures[f"{path} {answer.status_code}"] += 1
                    elif path == "/api/runs":
                        self.runs_listed = max(self.runs_listed, len(answer.json()))
                    self.rss.append(self.server.rss_mib())
                    await asyncio.sleep(PROBE_SECONDS)

    def figures(self) -> dict[str, Any]:
        every = [ms for values in self.latencies.values() for ms in values]
        return {"samples": len(every), "p95_ms": round(percentile(every, 95), 1),
                "max_ms": round(max(every), 1), "failures": dict(self.failures),
                "runs_listed_max": self.runs_listed,
                **{f"{path.removeprefix('/api/')}_p50_p95_max_ms":
                   [round(percentile(v, q), 1) for q in (50, 95)] + [round(max(v), 1)]
                   for path, v in self.latencies.items()}}


async def _student(url: str, index: int, into: list[Watched]) -> None:
    await asyncio.sleep(index * ARRIVAL_SECONDS / VISITORS)
    async with async_client(url, timeout=120) as http:
        await join(http, CODE)
        presets = {p["id"]: p for p in (await http.get("/api/presets")).json()}
        configs = [preset_run(presets[PRESET_IDS[(index * RUNS_EACH + k) % len(PRESET_IDS)]],
                              index, k, EPOCHS) for k in range(RUNS_EACH)]
        await lesson(Student(url, index, http), configs, into)


async def _class(server: LiveServer, report: attackers.AttackReport, watched: list[Watched]
                 ) -> tuple[list[str], int]:
    """The students and the attackers until the students are done or the lesson ends; the
    errors that ended students, and how many were still at it when the lesson ended."""
    stop = asyncio.Event()
    attacks = [
        asyncio.create_task(attackers.flood(server.url, CODE, FLOOD_COST, FLOOD_COOKIES, stop,
                                            report)),
        asyncio.create_task(attackers.slow_reader(server.url, CODE, SLOW_SOCKETS, stop, report)),
        asyncio.create_task(attackers.slowloris(server.url, SLOWLORIS, stop, report))]
    students = [asyncio.create_task(_student(server.url, i, watched)) for i in range(VISITORS)]
    done, unfinished = await asyncio.wait(students, timeout=LESSON_SECONDS)
    for task in unfinished:
        task.cancel()
    stop.set()
    await asyncio.gather(*attacks, *unfinished, return_exceptions=True)
    errors = [_failure(t.exception()) for t in done if t.exception() is not None]
    return errors, len(unfinished)


def _failure(error: BaseException) -> str:
    """What ended a student: the error, and the request it came from if it was one."""
    where = ""
    if isinstance(error, httpx.RequestError):
        with contextlib.suppress(RuntimeError):  # raised when the error has no request
            where = f" ({error.request.method} {error.request.url.path})"
    return f"{type(error).__name__}{where}: {error}"[:200]


async def _end_the_lesson(server: LiveServer) -> tuple[list[str], list[dict]]:
    """The teacher stops every run still queued or running; those runs' ids, and every run
    once all have ended."""
    async with async_client(server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as admin:
        runs = (await admin.get("/api/runs?limit=5000")).json()
        leftover = [r["id"] for r in runs if r["status"] in ("queued", "running")]
        for run_id in leftover:
            await admin.post(f"/api/runs/{run_id}/stop")
        deadline = time.monotonic() + END_SECONDS
        while any(r["status"] in ("queued", "running") for r in runs):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
            runs = (await admin.get("/api/runs?limit=5000")).json()
    return leftover, runs


def _outcomes(runs: list[dict], flood_ids: list[str], leftover: list[str]) -> dict[str, Any]:
    """Final statuses and the worker time they took, the students' and the flood's apart
    (every run not the flood's is a student's: the prober and the slow reader start none)."""
    flood = set(flood_ids)
    count: dict[str, Counter[str]] = {"students": Counter(), "flood": Counter()}
    seconds: Counter[str] = Counter()
    stopped_at_end: Counter[str] = Counter()
    for r in runs:
        group = "flood" if r["id"] in flood else "students"
        count[group][r["status"]] += 1
        stopped_at_end[group] += r["id"] in leftover
        if r["started_at"] and r["finished_at"]:
            seconds[group] += r["finished_at"] - r["started_at"]
    return {**{f"{group}_runs": dict(c) for group, c in count.items()},
            **{f"{group}_stopped_by_the_teacher_at_the_end": n
               for group, n in stopped_at_end.items()},
            **{f"{group}_worker_seconds": round(s) for group, s in seconds.items()}}


def _steps_figure(watched: list[Watched]) -> dict[str, Any]:
    ended = [w for w in watched if w.status in ("completed", "stopped", "diverged")]
    lost = [w.run_id for w in ended if lost_steps(w)]
    return {"bench": "classroom", "figure": "steps", "runs_checked": len(ended),
            "steps_checked": sum(len(w.steps_stored) for w in ended),
            "csv_exports_checked": sum(w.steps_csv is not None for w in ended),
            "runs_with_a_lost_step": len(lost), "lost_in": lost[:5]}


def _wait_figure(watched: list[Watched]) -> dict[str, Any]:
    waits = [w.wait_s for w in watched if w.wait_s is not None]
    by_kind = {kind: [w.wait_s for w in watched if w.kind == kind and w.wait_s is not None]
               for kind in ("start", "restart")}
    return {"bench": "classroom", "figure": "first_step_wait", "runs": len(waits),
            "p50_s": round(percentile(waits, 50), 2), "p95_s": round(percentile(waits, 95), 2),
            "max_s": round(max(waits), 2),
            **{f"{kind}_p95_s": round(percentile(v, 95), 2) for kind, v in by_kind.items() if v},
            "posts_answered_429": sum(w.retries for w in watched)}


def run() -> list[dict[str, Any]]:
    """The classroom figures."""
    load_before = os.getloadavg()
    report = attackers.AttackReport()
    began = time.monotonic()
    with live_server(workers=2, ACCESS_CODE=CODE, ADMIN_TOKEN=TOKEN,
                     MAX_RUN_SECONDS=str(MAX_RUN_SECONDS), MAX_ACTIVE_PER_VISITOR="3",
                     MAX_SOCKETS_PER_VISITOR="20") as server:
        time.sleep(1.0)
        idle = server.rss_mib()
        prober = Prober(server)
        prober.thread.start()
        watched: list[Watched] = []
        try:
            failures, unfinished = asyncio.run(_class(server, report, watched))
        finally:
            prober.done.set()
            prober.thread.join()
        leftover, runs = asyncio.run(_end_the_lesson(server))
        time.sleep(1.0)
        end, hwm = server.rss_mib(), server.rss_mib("VmHWM")
    return [
        {"bench": "classroom", "figure": "runs", "visitors": VISITORS, "runs_each": RUNS_EACH,
         "minutes": round((time.monotonic() - began) / 60, 1),
         "load_average_before": [round(x, 2) for x in load_before],
         "load_average_after": [round(x, 2) for x in os.getloadavg()],
         "lesson_seconds": LESSON_SECONDS, "students_unfinished_at_the_end": unfinished,
         "students_failed": len(failures), "student_failures": failures[:3],
         **_outcomes(runs, report.flood_run_ids, leftover), **attackers.attack_figures(report)},
        _wait_figure(watched),
        {"bench": "classroom", "figure": "other_requests", **prober.figures()},
        {"bench": "classroom", "figure": "server_rss", "idle_mib": round(idle, 1),
         "peak_hwm_mib": round(hwm, 1), "peak_sampled_mib": round(max(prober.rss), 1),
         "end_mib": round(end, 1)},
        _steps_figure(watched),
    ]

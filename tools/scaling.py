"""Measure the scale-out path on this machine: Redis workers, the web server's cost, viewers.

`.venv/bin/python -m tools.scaling` starts a throw-away redis-server, one `python -m
trainer.worker` per core and a `python -m server` with GRADWATCH_EXECUTOR=redis, all on loopback,
and prints one JSON object with the figures docs/scaling.md quotes. It takes two or three
minutes and uses every core.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tools.sizing import LESSON, memory, seconds, train

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "scaling"
# The watched run: long enough (8,000 steps) that 300 viewers connect while it trains; at 4,000
# steps the chunked loop ends it in a few seconds.
VIEWED = {"dataset": {"n_samples": 1000}, "training": {"epochs": 80, "batch_size": 8}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """A child process in its own session, ended (SIGTERM, then SIGKILL) afterwards."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRADWATCH_")}
    proc = subprocess.Popen(args, cwd=ROOT, env={**clean, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError):
            if value := check():
                return value
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not happen in {timeout} s")


def cold_run_seconds() -> float:
    """What a fresh work horse per run would add: a new process importing TensorFlow and
    training the seed example once, end to end."""
    code = ("import time; t = time.monotonic(); from trainer.job import run_job; "
            "run_job({}, lambda e: None); print(time.monotonic() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
                                         "TF_NUM_INTRAOP_THREADS": "1"}, check=True)
    return float(out.stdout.split()[-1])


async def watch(base: str, run_id: str, viewers: int) -> list[int]:
    """`viewers` websocket viewers of one run until it ends; the steps each one received."""
    async def one() -> int:
        steps = 0
        # No keepalive pings: under load this one client process, reading 300 sockets, answered
        # them too late and lost viewers (1011 keepalive ping timeout) that were still reading.
        async with connect(base.replace("http", "ws") + f"/ws/runs/{run_id}", max_size=None,
                           proxy=None, open_timeout=60, ping_interval=None) as ws:
            async for text in ws:
                frame = json.loads(text)
                if frame["type"] == "snapshot":
                    steps += len(frame["history"]["step"])
                elif frame["type"] == "metrics":
                    steps += len(frame["items"])
                elif frame["type"] == "status" and frame["status"] not in ("queued", "running"):
                    return steps
        return steps

    return await asyncio.gather(*(one() for _ in range(viewers)))


def viewers_cost(http: httpx.Client, base: str, server_pid: int, viewers: int) -> dict[str, Any]:
    """The server's CPU share while `viewers` watch one run trained by a worker."""
    run_id = http.post("/api/runs", json=VIEWED).json()["id"]
    wait(lambda: http.get(f"/api/runs/{run_id}").json()["status"] == "running", 60, "start")
    cpu, started = cpu_seconds(server_pid), time.monotonic()
    received = asyncio.run(watch(base, run_id, viewers)) if viewers else []
    if not viewers:
        wait(lambda: http.get(f"/api/runs/{run_id}").json()["status"] == "completed", 300, "end")
    elapsed = time.monotonic() - started
    run = http.get(f"/api/runs/{run_id}").json()
    total = run["progress"]["total_steps"]
    return {"viewers": viewers, "seconds": round(elapsed, 1), "steps": total,
            "run_steps_per_s": round(total / (run["finished_at"] - run["started_at"])),
            "server_cpu_share": round((cpu_seconds(server_pid) - cpu) / elapsed, 3),
            "every_viewer_got_every_step": all(r == total for r in received)}


def measure(result: dict[str, Any]) -> int:
    """Fill `result` with the figures, one part after another."""
    cores = os.cpu_count() or 1
    result.update({
        "date": datetime.date.today().isoformat(), "machine": platform.machine(), "cores": cores,
        "python": platform.python_version(), "load_before": round(os.getloadavg()[0], 2)})
    redis_port, port = free_port(), free_port()
    url, base = f"redis://127.0.0.1:{redis_port}/0", f"http://127.0.0.1:{port}"
    env = {"GRADWATCH_REDIS_URL": url, "GRADWATCH_TF_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        stack.enter_context(process([shutil.which("redis-server"), "--port", str(redis_port),
                                     "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]))
        workers = [stack.enter_context(process([sys.executable, "-m", "trainer.worker"], env))
                   for _ in range(cores)]
        server = stack.enter_context(process([sys.executable, "-m", "server"], {
            **env, "GRADWATCH_EXECUTOR": "redis", "GRADWATCH_PORT": str(port),
            "GRADWATCH_DATA_DIR": tmp, "GRADWATCH_ADMIN_TOKEN": TOKEN,
            "GRADWATCH_LOG_LEVEL": "warning"}))
        http = stack.enter_context(httpx.Client(base_url=base, timeout=30, trust_env=False,
                                                headers={"Authorization": f"Bearer {TOKEN}"}))
        wait(lambda: http.get("/api/health").json()["executor"]["workers"] == cores, 300,
             "the workers' warm-up")
        result["server_idle"] = memory(server.pid)
        result["worker_warm_idle"] = memory(workers[0].pid)
        alone = [train(http, ["seed"])[0] for _ in range(3)]  # one at a time, workers idle
        result["seed_run_alone_s"] = round(min(seconds(r) for r in alone), 2)
        result["post_to_worker_s"] = round(statistics.median(
            r["started_at"] - r["created_at"] for r in alone), 3)
        cpu, started = cpu_seconds(server.pid), time.monotonic()
        runs = train(http, LESSON * 2)
        makespan = time.monotonic() - started
        result["redis_concurrent"] = {
            "workers": cores, "runs": len(runs), "makespan_s": round(makespan, 1),
            "runs_per_minute": round(len(runs) / makespan * 60, 1),
            "runs_per_minute_per_core": round(len(runs) / makespan * 60 / cores, 1),
            "median_run_s": round(statistics.median(seconds(r) for r in runs), 2),
            "server_cpu_share": round((cpu_seconds(server.pid) - cpu) / makespan, 3)}
        result["worker_after_runs"] = [memory(w.pid) for w in workers]
        result["server_after_runs"] = memory(server.pid)
        result["viewers"] = []
        for viewers in (0, 100, 300):
            result["viewers"].append(viewers_cost(http, base, server.pid, viewers))
    result["cold_process_seed_run_s"] = round(cold_run_seconds(), 2)
    return 0


def main() -> int:
    """Measure, and print what was measured even when a later step fails."""
    result: dict[str, Any] = {}
    try:
        return measure(result)
    finally:
        result["load_after"] = round(os.getloadavg()[0], 2)
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    sys.exit(main())

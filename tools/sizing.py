"""Measure what a class costs on this machine: memory per worker and runs per core.

`.venv/bin/python -m tools.sizing` starts real servers (`python -m server`) on loopback with a
throw-away data folder, trains the presets students start from, and prints one JSON object with
the figures docs/hosting.md quotes. It takes a few minutes and uses every core; run it on an
otherwise idle machine.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from trainer.contract.presets import PRESETS_BY_ID

ROOT = Path(__file__).resolve().parents[1]
LESSON = ["seed", "vanishing-sigmoid", "vanishing-relu-30", "vanishing-rnn"]


@contextlib.contextmanager
def server(data_dir: Path, workers: int, **env: str) -> Iterator[httpx.Client]:
    """A `python -m server` with `workers` local workers; yields an admin client once warm."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GRADWATCH_")},
           "GRADWATCH_DATA_DIR": str(data_dir), "GRADWATCH_PORT": str(port),
           "GRADWATCH_WORKERS": str(workers), "GRADWATCH_ADMIN_TOKEN": "sizing",
           "GRADWATCH_LOG_LEVEL": "warning", **env}
    proc = subprocess.Popen([sys.executable, "-m", "server"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False,
                        headers={"Authorization": "Bearer sizing"})  # no per-visitor limit
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {proc.returncode} ({env=})")
            with contextlib.suppress(httpx.HTTPError):
                if http.get("/api/health").json()["executor"]["ready"] == workers:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the workers did not warm up in 180 s")
        yield http
    finally:
        http.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def memory(pid: int) -> dict[str, float]:
    """Resident (RSS), peak resident (HWM) and proportional (PSS) memory of a process, MiB."""
    out = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1]) / 1024
    return {"rss_mib": round(out["VmRSS"]), "peak_rss_mib": round(out["VmHWM"]),
            "pss_mib": round(out["Pss"])}


def train(http: httpx.Client, preset_ids: list[str]) -> list[dict[str, Any]]:
    """Queue the presets at once; wait for all; their runs (every one must complete)."""
    ids = [http.post("/api/runs", json=PRESETS_BY_ID[p]["config"]).json()["id"]
           for p in preset_ids]
    runs: list[dict[str, Any]] = []
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        runs = [http.get(f"/api/runs/{i}").json() for i in ids]
        if all(r["status"] not in ("queued", "running") for r in runs):
            break
        time.sleep(0.2)
    bad = [(r["name"], r["status"], r["error"]) for r in runs if r["status"] != "completed"]
    assert not bad, bad
    return runs


def db_bytes(data_dir: Path) -> int:
    """The SQLite file's size once its write-ahead log is checkpointed into it."""
    with contextlib.closing(sqlite3.connect(data_dir / "gradwatch.db", timeout=30)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return (data_dir / "gradwatch.db").stat().st_size


def seconds(run: dict[str, Any]) -> float:
    return run["finished_at"] - run["started_at"]


def main() -> int:
    cores = os.cpu_count() or 1
    result: dict[str, Any] = {
        "date": datetime.date.today().isoformat(), "machine": platform.machine(),
        "cores": cores, "python": platform.python_version(),
        "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp, server(Path(tmp) / "one", 1) as http:
        stored = db_bytes(Path(tmp) / "one")
        health = http.get("/api/health").json()
        (worker,) = health["executor"]["pids"]
        result["server_idle"] = memory(health["pid"])
        result["worker_warm_idle"] = memory(worker)
        per_run = {}
        for preset in LESSON:  # one at a time: the time a run takes on one core
            durations = [seconds(train(http, [preset])[0]) for _ in range(2)]
            per_run[preset] = round(min(durations), 2)
        result["seconds_per_run_alone"] = per_run
        time.sleep(1)  # the writer thread commits every 100 ms
        result["db_kib_per_run"] = round(
            (db_bytes(Path(tmp) / "one") - stored) / 1024 / (2 * len(LESSON)))
        result["worker_after_runs"] = memory(worker)
        result["server_after_runs"] = memory(health["pid"])
    lesson = LESSON * 2
    for threads in ("0", "1"):  # TensorFlow's default thread pools, then one thread a worker
        with tempfile.TemporaryDirectory() as tmp, \
                server(Path(tmp) / "all", cores, GRADWATCH_TF_THREADS=threads) as http:
            started = time.monotonic()
            runs = train(http, lesson)
            makespan = time.monotonic() - started
            result[f"concurrent_tf_threads_{threads if threads != '0' else 'default'}"] = {
                "workers": cores, "runs": len(runs), "makespan_s": round(makespan, 1),
                "runs_per_minute": round(len(runs) / makespan * 60, 1),
                "runs_per_minute_per_core": round(len(runs) / makespan * 60 / cores, 1),
                "median_run_s": round(statistics.median(seconds(r) for r in runs), 2),
                "worker_rss_mib": [memory(p)["rss_mib"] for p in
                                   http.get("/api/health").json()["executor"]["pids"]]}
    result["load_after"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

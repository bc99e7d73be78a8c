"""A real GradWatch server for the benchmarks: `python -m server` on loopback, its own data dir.

The server side is exactly what `make run` starts (warm local worker processes, SQLite); the
clients are httpx (one cookie jar per visitor) and the `websockets` client, as in the tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import client, open_ws, server_process

READY_SECONDS = 120
FINAL = ("completed", "stopped", "failed", "diverged")


@dataclass
class LiveServer:
    """A started server: its base URL and process id (and the admin token, if it has one)."""

    url: str
    pid: int
    token: str | None = None

    def rss_mib(self, field: str = "VmRSS") -> float:
        """The server process's resident memory (its workers not included), in MiB; `field`
        "VmHWM" for its peak so far."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} line")

    def health(self) -> dict[str, Any]:
        """GET /api/health (as the admin where there is an access code)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.get(f"{self.url}/api/health", headers=headers, timeout=10,
                         trust_env=False).json()

    def visitor(self) -> httpx.Client:
        """An HTTP client with its own cookie jar: a visitor (its first answer sets the cookie)."""
        return client(self.url)

    def start_run(self, http: httpx.Client, config: dict[str, Any]) -> str:
        """POST /api/runs as `http`'s visitor; the new run's id."""
        response = http.post("/api/runs", json=config)
        response.raise_for_status()
        return response.json()["id"]

    def wait_final(self, http: httpx.Client, run_id: str, timeout: float = 900) -> dict:
        """Poll a run until its status is final; the Run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = http.get(f"/api/runs/{run_id}").json()
            if run["status"] in FINAL:
                return run
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} did not end in {timeout} s")

    def ws(self, run_id: str, http: httpx.Client | None = None) -> Any:
        """A websocket to the run (async context manager), as `http`'s visitor."""
        return open_ws(self.url, run_id, http)


@contextlib.contextmanager
def live_server(workers: int = 1, **env: str) -> Iterator[LiveServer]:
    """Start a server with `workers` warm workers and wait until they are all ready.

    Args:
        workers: GRADWATCH_WORKERS.
        **env: more GRADWATCH_* variables (names without the prefix), e.g. TF_THREADS="1".
    """
    settings = {"GRADWATCH_WORKERS": str(workers), "GRADWATCH_MAX_SOCKETS_PER_VISITOR": "2000",
                "GRADWATCH_MAX_ACTIVE_PER_VISITOR": "100",
                **{f"GRADWATCH_{k.upper()}": v for k, v in env.items()}}
    with tempfile.TemporaryDirectory(prefix="gradwatch-bench-") as folder, \
            server_process(Path(folder), **settings) as (url, proc):
        server = LiveServer(url, proc.pid, settings.get("GRADWATCH_ADMIN_TOKEN"))
        deadline = time.monotonic() + READY_SECONDS
        while server.health()["executor"].get("ready", 0) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} workers were not ready in {READY_SECONDS} s")
            time.sleep(0.05)
        yield server


async def join(http: httpx.AsyncClient, code: str) -> None:
    """POST /join with the access code, as a script does: the answer sets `http`'s cookie."""
    answer = await http.post("/join", json={"code": code})
    if answer.status_code != 303:
        raise RuntimeError(f"/join answered {answer.status_code}: {answer.text[:200]}")


def cold_import_seconds(module: str = "tensorflow") -> float:
    """Seconds a fresh interpreter of this venv takes to `import module` (the import alone)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return float(out.stdout.strip().splitlines()[-1])


def loads(text: str) -> Any:
    """A frame's JSON."""
    return json.loads(text)

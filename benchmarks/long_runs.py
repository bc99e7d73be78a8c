"""Long and deep runs (issue 18): what a late viewer, an export and the disk cost as a run grows.

Runs of 1k, 10k and 50k recorded steps at 11 layers and 10k at 64 layers, written as synthetic
stored steps (benchmarks/synthetic.py: the storage and snapshot costs depend on the shape of the
numbers, not on their values) into a fresh data folder, then served by a real `python -m server`
on loopback with no workers. Per size:

- `disk_per_layer_step`: the database (with its write-ahead log) per recorded layer-step;
- `snapshot_bytes`: the snapshot frame a late websocket viewer receives (the whole history);
  `snapshot_bytes_bounded`: the same asked with `?buckets=625`, what the page displays;
- `csv_first_byte_s`, `csv_s`: a CSV export's first byte and whole download;
- `health_p95_ms_during_exports`: /api/health's p95 latency while 4 CSV exports stream;
- `rss_above_idle_mib`: the server's peak memory above idle while 10 late viewers open the run
  (with `?buckets=625`) and one CSV export streams;
- `thin_given_back`, `delete_given_back`: the share of the run's disk given back when its
  history is thinned to the default cap (20,000 steps) and when it is deleted;
- `link_to_heatmap_s`, `socket_to_heatmap_s`, `page_pulled_bytes`: the run's link opened in
  Chromium, until its heatmap is drawn (from the link, and from the page opening the run's
  socket), and the bytes the page pulled for the history (benchmarks/pagelink.py);
  `link_to_heatmap_ratio` the time ÷ the first size's, in the same run of the suite.

`SMOKE` is the same at one small size, for the test suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from benchmarks.live import LiveServer
from benchmarks.pagelink import link_to_heatmap
from benchmarks.synthetic import disk_bytes, write_run
from server.store import RunStore
from server.thinning import Thinner
from tests.helpers import client, cookie_header, server_process, ws_url

SIZES = ((1000, 11), (10000, 11), (50000, 11), (10000, 64))
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"SIZES": ((2000, 11),)}
TOKEN = "bench-admin-token"
THIN_CAP = 20000
# What the page asks for (docs/protocol.md); a server before issue 18 ignores it.
BOUNDED = "?buckets=625"


def _store(folder: Path) -> RunStore:
    store = RunStore(folder / "gradwatch.db")
    store.open()
    return store


def _thinned_share(n_steps: int, n_layers: int) -> float | None:
    """Share of a run's disk given back when its history is thinned to THIN_CAP steps."""
    if n_steps <= THIN_CAP:
        return None
    with tempfile.TemporaryDirectory(prefix="gradwatch-bench-") as name:
        folder = Path(name)
        store = _store(folder)
        empty = disk_bytes(folder)
        write_run(store, "r", n_steps, n_layers)
        full = disk_bytes(folder)
        history = store.history("r")
        store.drop_steps("r", Thinner(THIN_CAP).thin(history))
        store.flush()
        store.close()
        kept = len(history["step"])
        thinned = disk_bytes(folder)
        # What thinning should give back: the dropped steps' share of the run's bytes.
        due = (full - empty) * (1 - kept / n_steps)
        return round((full - thinned) / due, 3) if due > 0 else None


def _csv(url: str, run_id: str) -> tuple[float, float, int]:
    start = time.perf_counter()
    first = None
    size = 0
    with httpx.stream("GET", f"{url}/api/runs/{run_id}/metrics?format=csv", timeout=300,
                      trust_env=False) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            if first is None:
                first = time.perf_counter() - start
            size += len(chunk)
    return first or 0.0, time.perf_counter() - start, size


def _health_during_exports(url: str, run_id: str, exports: int = 4) -> float:
    """p95 ms of /api/health while `exports` CSV exports stream at once."""
    threads = [threading.Thread(target=_csv, args=(url, run_id)) for _ in range(exports)]
    for t in threads:
        t.start()
    latencies = []
    with httpx.Client(base_url=url, timeout=120, trust_env=False) as http:
        while any(t.is_alive() for t in threads) or len(latencies) < 20:
            start = time.perf_counter()
            with contextlib.suppress(httpx.HTTPError):  # counted at the time it took to fail
                http.get("/api/health")
            latencies.append((time.perf_counter() - start) * 1000)
            time.sleep(0.02)
    for t in threads:
        t.join()
    return statistics.quantiles(latencies, n=20)[-1]


async def _late_viewers(url: str, run_id: str, http: httpx.Client, count: int,
                        query: str = "") -> list[int]:
    async def one() -> int:
        async with connect(ws_url(url, run_id) + query, max_size=None, proxy=None, open_timeout=120,
                           additional_headers={"Cookie": cookie_header(http)}) as ws:
            return len((await ws.recv()).encode())

    return list(await asyncio.gather(*(one() for _ in range(count))))


def _peak_rss(server: LiveServer, work: Any) -> float:
    """The server's peak RSS (MiB) while `work()` runs, sampled every 10 ms."""
    peak = server.rss_mib()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server.rss_mib())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        work()
    finally:
        done.set()
        sampler.join()
    return peak


def _measure(n_steps: int, n_layers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gradwatch-bench-") as name:
        folder = Path(name)
        store = _store(folder)
        empty = disk_bytes(folder)
        write_run(store, "r", n_steps, n_layers)
        store.close()
        stored = disk_bytes(folder) - empty
        env = {"GRADWATCH_WORKERS": "0", "GRADWATCH_ADMIN_TOKEN": TOKEN,
               "GRADWATCH_MAX_SOCKETS_PER_VISITOR": "100"}
        with server_process(folder, **env) as (url, proc):
            server = LiveServer(url, proc.pid)
            with client(url) as http:
                http.get("/api/health")
                sizes = asyncio.run(_late_viewers(url, "r", http, 1))
                bounded = asyncio.run(_late_viewers(url, "r", http, 1, BOUNDED))
                first_byte, csv_s, csv_bytes = _csv(url, "r")
                health_p95 = _health_during_exports(url, "r")
                time.sleep(0.5)
                idle = server.rss_mib()

                def crowd() -> None:
                    export = threading.Thread(target=_csv, args=(url, "r"))
                    export.start()
                    asyncio.run(_late_viewers(url, "r", http, 10, BOUNDED))
                    export.join()

                peak = _peak_rss(server, crowd)
                page = link_to_heatmap(url, "r", n_layers)
                before_delete = disk_bytes(folder)
                answer = http.delete("/api/runs/r", headers={"Authorization": f"Bearer {TOKEN}"})
                answer.raise_for_status()
                time.sleep(1.0)
                after_delete = disk_bytes(folder)
        return {"bench": "long_runs", "steps": n_steps, "layers": n_layers,
                "synthetic_steps": True,
                "disk_bytes": stored, "disk_per_layer_step": round(stored / n_steps / n_layers, 1),
                "snapshot_bytes": sizes[0], "snapshot_bytes_bounded": bounded[0],
                "csv_bytes": csv_bytes,
                "csv_first_byte_s": round(first_byte, 3), "csv_s": round(csv_s, 3),
                "health_p95_ms_during_exports": round(health_p95, 1),
                "rss_idle_mib": round(idle, 1), "rss_above_idle_mib": round(peak - idle, 1),
                "delete_given_back": round((before_delete - after_delete) / stored, 3),
                "thin_given_back": _thinned_share(n_steps, n_layers), **page}


def run() -> Iterator[dict[str, Any]]:
    """The long-run figures, one object per size (printed as each is measured)."""
    first = None
    for n, layers in SIZES:
        figures = _measure(n, layers)
        first = first or figures["link_to_heatmap_s"]
        if first and figures["link_to_heatmap_s"]:
            figures["link_to_heatmap_ratio"] = round(figures["link_to_heatmap_s"] / first, 2)
        yield figures

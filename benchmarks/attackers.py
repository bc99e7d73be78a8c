"""The classroom benchmark's attackers (issue 12): a queue flooder, a slow websocket reader and
slowloris connections, all from the class's own address (loopback), as asyncio tasks that run
until `stop` is set. Each counts what it was answered in its report.

- Flooder: joins with a fresh cookie again and again (up to `cookies`); each new cookie first
  tries the run of issue 12's flood (20 M steps: past `MAX_RUN_COST`, a 422), then every cookie
  queues the costliest run the server accepts (the same 4×1024 model, as many epochs as the
  cost limit allows), as fast as it is accepted (429s from the per-visitor cap and the full
  queue).
- Slow reader: one visitor holding websockets it never reads (a receive buffer of 4 KiB) on up
  to `sockets` running runs; a socket whose run has ended is closed and another running run is
  watched instead.
- Slowloris: `count` connections that send a partial request head and a header line every
  `TRICKLE_SECONDS`, never its end; each one the server closes is opened again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from benchmarks.live import join
from tests.helpers import async_client, cookie_header
from trainer.contract.config import RunConfig
from trainer.contract.cost import run_cost

FLOOD_PAUSE_SECONDS = 1.0  # between rounds in which no cookie's run was accepted
FLOOD_MODEL = {"model": {"depth": 4, "width": 1024}}
# Issue 12's flood: 4×1024 units at batch size 1, 50,000 samples for 500 epochs.
OVER_LIMIT = {"name": "flood (over the limit)", "dataset": {"n_samples": 50_000},
              **FLOOD_MODEL, "training": {"epochs": 500, "batch_size": 1}}
SLOW_ROTATE_SECONDS = 5.0
TRICKLE_SECONDS = 2.0
PARTIAL_HEAD = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@dataclass
class AttackReport:
    """What the attackers did and were answered."""

    flood_answers: Counter[int] = field(default_factory=Counter)
    flood_cookies: int = 0
    flood_run_ids: list[str] = field(default_factory=list)
    slow_handshakes: Counter[int] = field(default_factory=Counter)
    slowloris_opened: int = 0
    slowloris_held_s: list[float] = field(default_factory=list)  # until the server closed it


def costliest_run(max_cost: int) -> dict[str, Any]:
    """The flood model with as many epochs as a run within `max_cost` may have."""
    one_epoch = run_cost(RunConfig.model_validate({**FLOOD_MODEL, "training": {"epochs": 1}}))
    return {"name": "flood", **FLOOD_MODEL,
            "training": {"epochs": max(1, min(500, max_cost // one_epoch))}}


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def flood(url: str, code: str, max_cost: int, cookies: int, stop: asyncio.Event,
                report: AttackReport) -> None:
    """Queue the costliest runs within `max_cost` under up to `cookies` fresh cookies, as fast
    as they are accepted, until `stop`."""
    run = costliest_run(max_cost)
    async with contextlib.AsyncExitStack() as stack:
        joined: list[Any] = []
        while not stop.is_set():
            if len(joined) < cookies:
                http = await stack.enter_async_context(async_client(url))
                await join(http, code)
                joined.append(http)
                report.flood_cookies += 1
                answer = await http.post("/api/runs", json=OVER_LIMIT)
                report.flood_answers[answer.status_code] += 1
            accepted = False
            for http in joined:
                answer = await http.post("/api/runs", json=run)
                report.flood_answers[answer.status_code] += 1
                if answer.status_code == 201:
                    report.flood_run_ids.append(answer.json()["id"])
                    accepted = True
            if not accepted:
                await pause(stop, FLOOD_PAUSE_SECONDS)


async def _never_reading_socket(url: str, run_id: str, cookie: str) -> tuple[socket.socket, int]:
    """A websocket to the run whose client never reads a frame; the handshake's status."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, (host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        f"GET /ws/runs/{run_id} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Cookie: {cookie}\r\n\r\n").encode())
    head = await asyncio.wait_for(loop.sock_recv(sock, 64), 10)  # the status line, no more
    return sock, int(head.split(b" ", 2)[1])


async def slow_reader(url: str, code: str, sockets: int, stop: asyncio.Event,
                      report: AttackReport) -> None:
    """Hold up to `sockets` never-read websockets on running runs until `stop`."""
    held: dict[str, socket.socket] = {}
    async with async_client(url) as http:
        await join(http, code)
        try:
            while not stop.is_set():
                runs = (await http.get("/api/runs")).json()
                running = [r["id"] for r in runs if r["status"] == "running"]
                for run_id in [r for r in held if r not in running]:
                    held.pop(run_id).close()
                for run_id in running:
                    if len(held) < sockets and run_id not in held:
                        sock, status = await _never_reading_socket(url, run_id,
                                                                   cookie_header(http))
                        report.slow_handshakes[status] += 1
                        held[run_id] = sock
                await pause(stop, SLOW_ROTATE_SECONDS)
        finally:
            for sock in held.values():
                sock.close()


async def _one_slowloris(url: str, stop: asyncio.Event, report: AttackReport) -> None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    while not stop.is_set():
        reader, writer = await asyncio.open_connection(host, int(port))
        report.slowloris_opened += 1
        opened = time.monotonic()
        try:
            writer.write(PARTIAL_HEAD)
            while not stop.is_set():
                try:
                    await asyncio.wait_for(reader.read(1024), TRICKLE_SECONDS)
                    report.slowloris_held_s.append(time.monotonic() - opened)  # 408 or EOF
                    break
                except TimeoutError:
                    writer.write(b"X-a: b\r\n")  # one more header line, never the end
                    await writer.drain()
        except OSError:  # reset by the server
            report.slowloris_held_s.append(time.monotonic() - opened)
        finally:
            writer.close()


async def slowloris(url: str, count: int, stop: asyncio.Event, report: AttackReport) -> None:
    """`count` half-open requests, each opened again when the server closes it."""
    await asyncio.gather(*(_one_slowloris(url, stop, report) for _ in range(count)))


def attack_figures(report: AttackReport) -> dict[str, Any]:
    """The attackers' side of the report."""
    held = sorted(report.slowloris_held_s)
    return {
        "flood_cookies": report.flood_cookies,
        "flood_answers": {str(k): v for k, v in sorted(report.flood_answers.items())},
        "slow_reader_handshakes": {str(k): v for k, v in sorted(report.slow_handshakes.items())},
        "slowloris_opened": report.slowloris_opened,
        "slowloris_closed_by_server": len(held),
        "slowloris_held_median_s": round(held[len(held) // 2], 1) if held else None,
        "slowloris_held_max_s": round(held[-1], 1) if held else None,
    }

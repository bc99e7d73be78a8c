"""deploy/nginx.conf in front of a real server on loopback: TLS, the websocket upgrade, the
forwarded scheme and the Host with its port (skipped where nginx is not installed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.helpers import free_port, run_server, strict_loads
from tests.nginxconf import local_nginx_conf


@contextlib.contextmanager
def nginx_in_front(folder: Path, upstream_url: str) -> Iterator[tuple[str, str]]:
    """nginx with the repo's config before `upstream_url`; yields its http and https URLs."""
    binary = shutil.which("nginx")
    if binary is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    http_port, https_port = free_port(), free_port()
    conf = local_nginx_conf(folder, upstream_url.removeprefix("http://"), http_port, https_port)
    if os.geteuid() == 0:  # its workers would run as nobody, who cannot enter pytest's folders
        conf.write_text("user root;\n" + conf.read_text())
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(folder), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    https = f"https://127.0.0.1:{https_port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{https}/api/health", verify=False, timeout=2, trust_env=False)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{http_port}", https
    finally:
        proc.terminate()
        proc.wait(10)


def test_nginx_serves_the_dashboard_over_tls_with_websockets(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", GRADWATCH_WORKERS="0") as upstream, \
            nginx_in_front(tmp_path, upstream) as (plain, https), \
            httpx.Client(base_url=https, verify=False, timeout=10, trust_env=False) as http:
        redirect = httpx.get(f"{plain}/api/health", trust_env=False)
        assert redirect.status_code == 301
        assert redirect.headers["location"].startswith("https://127.0.0.1")
        health = http.get("/api/health")
        assert health.status_code == 200
        # nginx said the scheme was https: the visitor's cookie is Secure.
        assert "secure" in health.headers["set-cookie"].lower()
        # A page's POST: its Origin carries the port, and so does the Host nginx passes on.
        run = http.post("/api/runs", json={}, headers={"Origin": https})
        assert run.status_code == 201, run.text
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

        async def watch() -> str:
            url = https.replace("https://", "wss://") + f"/ws/runs/{run.json()['id']}"
            async with connect(url, ssl=context, origin=https,  # type: ignore[arg-type]
                               additional_headers={"Cookie": cookie}, proxy=None) as ws:
                return strict_loads(await asyncio.wait_for(ws.recv(), 10))["type"]

        assert asyncio.run(watch()) == "snapshot"

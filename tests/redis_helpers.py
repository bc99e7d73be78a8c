"""What the scale-out tests share: a real redis-server and real `python -m trainer.worker`s."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from server.executors.rqjobs import RQJobs
from tests.helpers import ROOT, free_port

STARTUP_SECONDS = 15
WORKER_STARTUP_SECONDS = 120  # TensorFlow's import and warm-up, with other tests on the cores


def require_redis_server() -> str:
    """The redis-server binary; skips the test without one, but fails it under CI=true."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = ("redis-server is not installed (Debian: apt-get install redis-server; "
                   ".ci/run installs it): the scale-out tests need a real one")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


class RedisServer:
    """A redis-server on a loopback port, without persistence, that a test may stop and start."""

    def __init__(self, folder: Path) -> None:
        self.binary = require_redis_server()
        self.port = free_port()
        self.log_path = folder / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """Its URL, with a database number (each test takes its own: separate keys)."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start it (again, on the same port) and wait until it answers PING."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop it, as an outage would (its data is gone: no persistence)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextlib.contextmanager
def running_redis(folder: Path) -> Iterator[RedisServer]:
    """A RedisServer started now and stopped at the end."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Workers:
    """`python -m trainer.worker` processes started by a test, ended with it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, url: str, count: int = 1) -> list[subprocess.Popen[bytes]]:
        """Start `count` workers on `url` and wait until RQ's registry lists them all."""
        jobs = RQJobs(url)
        before = jobs.snapshot().workers
        new = []
        env = {**os.environ, "GRADWATCH_REDIS_URL": url, "GRADWATCH_TF_THREADS": "1",
               "GRADWATCH_LOG_LEVEL": "info"}
        for _ in range(count):
            log = open(self.folder / f"worker{len(self.procs)}.log", "ab")  # noqa: SIM115
            proc = subprocess.Popen([sys.executable, "-m", "trainer.worker"], cwd=ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            log.close()
            self.procs.append(proc)
            new.append(proc)
        deadline = time.monotonic() + WORKER_STARTUP_SECONDS
        try:
            while jobs.snapshot().workers < before + count:
                dead = [p for p in new if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(f"workers did not start:\n{self.logs()}")
                time.sleep(0.2)
        finally:
            jobs.close()
        return new

    def logs(self) -> str:
        """Every worker's log, for a failure message."""
        return "\n".join(p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.folder.glob("worker*.log")))

    def end(self) -> None:
        """SIGTERM every worker (it stops its run and exits), SIGKILL what is left."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

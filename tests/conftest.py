"""Fixtures shared by the test modules: real servers on loopback ports."""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server.store import RunStore
from tests.helpers import run_server
from tests.redis_helpers import RedisServer, Workers, running_redis


@pytest.fixture
def v1_store(tmp_path: Path) -> Iterator[RunStore]:
    """An open RunStore over a copy of tests/fixtures/store-v1.db: runs written by the code
    before packed chunks (a real MLP run with clipping, a real RNN run, a script's ragged run,
    a thinned run), migrated on open."""
    shutil.copy(Path(__file__).parent / "fixtures" / "store-v1.db", tmp_path / "gradwatch.db")
    store = RunStore(tmp_path / "gradwatch.db")
    store.open()
    yield store
    store.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `python -m server` (one warm local worker) on a free port; yields its base URL.

    One per test module; tests in a module share it, so each should use its own visitor
    (its own cookie jar).
    """
    with run_server(tmp_path_factory.mktemp("live")) as url:
        yield url


@pytest.fixture(scope="module")
def workerless_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `python -m server` with no workers (runs stay queued): for what the server
    decides by itself, such as validation and limits. One per test module; yields its URL."""
    with run_server(tmp_path_factory.mktemp("workerless"), GRADWATCH_WORKERS="0") as url:
        yield url


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start servers with particular GRADWATCH_* settings: `server_factory(WORKERS="0")`."""
    started = itertools.count()
    with contextlib.ExitStack() as stack:
        def start(data_dir: Path | None = None, **settings: str) -> str:
            env = {f"GRADWATCH_{k.upper()}": v for k, v in settings.items()}
            folder = data_dir or tmp_path / f"server{next(started)}"
            return stack.enter_context(run_server(folder, **env))

        yield start


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, one per module (tests take their own db).

    Skips where redis-server is missing, fails under CI=true.
    """
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for one test, which it may stop and start again."""
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    """Start `python -m trainer.worker` processes: `workers.start(url, count)`; ended after."""
    started = Workers(tmp_path)
    try:
        yield started
    finally:
        started.end()

"""Settings from GRADWATCH_* variables, the secret key, and when `python -m server` refuses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.settings import (
    Settings,
    executor_problem,
    exposure_problem,
    is_loopback,
    load_secret_key,
)
from tests.helpers import ROOT


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("GRADWATCH_")]:
        monkeypatch.delenv(key)
    s = Settings()
    assert (s.host, s.port, s.executor) == ("127.0.0.1", 8000, "local")
    assert s.workers == (os.cpu_count() or 1) and s.data_dir == Path("./data")
    assert (s.max_active_per_visitor, s.max_queue, s.max_params, s.max_run_seconds,
            s.max_body_bytes) == (3, 100, 5_000_000, 600, 65536)
    monkeypatch.setenv("GRADWATCH_PORT", "9001")
    monkeypatch.setenv("GRADWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRADWATCH_ALLOW_OPEN", "1")
    s = Settings()
    assert s.port == 9001 and s.data_dir == tmp_path and s.allow_open is True
    assert s.db_path == tmp_path / "gradwatch.db"
    for key in ("TF_THREADS", "ADMIN_TOKEN", "ACCESS_CODE", "WORKERS"):
        monkeypatch.setenv(f"GRADWATCH_{key}", "")  # empty is unset: the default
    s = Settings()
    assert s.tf_threads is None and s.admin_token is None and s.access_code is None
    assert s.workers == (os.cpu_count() or 1)


def test_worker_threads_share_the_cores_out_among_the_workers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("GRADWATCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert Settings(workers=2).worker_threads == 4
    assert Settings(workers=3).worker_threads == 2
    assert Settings(workers=16).worker_threads == 1  # never fewer than one
    assert Settings(workers=0).worker_threads == 8
    monkeypatch.setenv("GRADWATCH_TF_THREADS", "3")
    assert Settings(workers=2).worker_threads == 3  # the setting wins
    monkeypatch.setenv("GRADWATCH_TF_THREADS", "0")
    assert Settings(workers=2).worker_threads == 0  # TensorFlow's own default


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False), ("::", False)])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_open_host_needs_a_code_or_allow_open() -> None:
    assert "GRADWATCH_ACCESS_CODE" in exposure_problem(Settings(host="0.0.0.0"))
    assert exposure_problem(Settings(host="0.0.0.0", access_code="owl")) is None
    assert exposure_problem(Settings(host="0.0.0.0", allow_open=True)) is None
    assert exposure_problem(Settings(host="127.0.0.1")) is None


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    key = load_secret_key(settings)
    assert len(key) >= 32 and load_secret_key(settings) == key
    assert (tmp_path / "d" / "secret.key").stat().st_mode & 0o777 == 0o600
    assert load_secret_key(Settings(data_dir=tmp_path, secret_key="given")) == "given"


def start_server(env: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRADWATCH_")}
    return subprocess.run([sys.executable, "-m", "server"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60,
                          env={**clean, "GRADWATCH_DATA_DIR": str(data_dir), **env})


@pytest.mark.parametrize(("env", "says"), [
    ({"GRADWATCH_HOST": "0.0.0.0"}, "GRADWATCH_ACCESS_CODE"),
    ({"GRADWATCH_PORT": "eighty"}, "GRADWATCH_* setting is invalid"),
])
def test_server_refuses_to_start_with_exit_2(env: dict[str, str], says: str,
                                             tmp_path: Path) -> None:
    result = start_server(env, tmp_path)
    assert result.returncode == 2
    assert says in result.stderr


def test_redis_executor_needs_a_redis_url(tmp_path: Path) -> None:
    assert executor_problem(Settings(executor="redis")) is None
    assert executor_problem(Settings(executor="local", redis_url="nonsense")) is None
    result = start_server({"GRADWATCH_EXECUTOR": "redis", "GRADWATCH_REDIS_URL": "localhost:6379"},
                          tmp_path)
    assert result.returncode == 2 and "GRADWATCH_REDIS_URL must start with redis://" in (
        result.stderr)

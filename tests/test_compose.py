"""docker-compose.yml: valid for Debian's docker-compose, with the services a hosted class needs."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import ROOT

CODE = "owl-42"


def compose(*args: str, code: str | None = CODE,
            extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `docker-compose <args>` on the project's file (no Docker engine needed for config)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose is not installed (Debian: apt-get install docker-compose)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADWATCH_")}
    if code is not None:
        env["GRADWATCH_ACCESS_CODE"] = code
    env.update(extra or {})
    return subprocess.run([binary, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_compose_file_validates() -> None:
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_has_web_scalable_workers_and_redis_with_settings_from_the_environment() -> None:
    result = compose("config")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    web, worker, redis = (config["services"][s] for s in ("web", "worker", "redis"))
    assert web["command"] == ["python", "-m", "server"]
    assert web["environment"]["GRADWATCH_EXECUTOR"] == "redis"
    assert web["environment"]["GRADWATCH_HOST"] == "0.0.0.0"
    assert web["environment"]["GRADWATCH_ACCESS_CODE"] == CODE
    # Students reach the web service by whatever name the host has: any, unless one is given.
    assert web["environment"]["GRADWATCH_ALLOWED_HOSTS"] == "*"
    assert any(v.startswith("gradwatch-data:/data") for v in web["volumes"])
    assert web["environment"]["GRADWATCH_DATA_DIR"] == "/data"
    assert worker["command"] == ["python", "-m", "trainer.worker"]
    # --scale worker=N needs a worker without a fixed name or published port.
    assert "container_name" not in worker and "ports" not in worker
    for service in (web, worker):
        assert service["environment"]["GRADWATCH_REDIS_URL"] == "redis://redis:6379/0"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert redis["image"] == "redis:7"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "ports" not in redis  # not reachable from outside unless one says so
    assert {"gradwatch-data", "redis-data"} <= set(config["volumes"])


def test_compose_passes_the_allowed_hosts_through() -> None:
    env = {"GRADWATCH_ALLOWED_HOSTS": "gradwatch.example.edu"}
    result = compose("config", extra=env)
    assert result.returncode == 0, result.stderr
    web = yaml.safe_load(result.stdout)["services"]["web"]
    assert web["environment"]["GRADWATCH_ALLOWED_HOSTS"] == "gradwatch.example.edu"


def test_compose_refuses_to_start_an_open_instance_without_an_access_code() -> None:
    result = compose("config", "-q", code=None)
    assert result.returncode != 0 and "GRADWATCH_ACCESS_CODE" in result.stderr

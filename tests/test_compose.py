"""docker-compose.yml: valid for Debian's docker-compose, with the services a hosted class needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from server.settings import Settings
from tests.helpers import ROOT
from tests.nginxconf import NGINX_CONF, local_nginx_conf, parse

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


def test_compose_puts_nginx_in_front_and_publishes_only_it() -> None:
    result = compose("config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    nginx, web = services["nginx"], services["web"]
    assert nginx["build"]["dockerfile"] == "deploy/nginx.Dockerfile"
    assert {int(p["target"]) for p in nginx["ports"]} == {80, 443}
    assert nginx["depends_on"]["web"]["condition"] == "service_healthy"
    assert any(v.split(":")[1:] == ["/etc/gradwatch/tls", "ro"] for v in nginx["volumes"])
    assert "https://127.0.0.1/join" in " ".join(nginx["healthcheck"]["test"])
    # Only nginx reaches web: no published port, and nginx's forwarded headers are trusted.
    for name, service in services.items():
        assert name == "nginx" or "ports" not in service, name
    assert web["expose"] == ["8000"]
    assert web["environment"]["FORWARDED_ALLOW_IPS"] == "*"
    assert web["environment"]["GRADWATCH_MAX_CONNECTIONS_PER_ADDRESS"] == "1000"


def test_compose_passes_the_connection_settings_through() -> None:
    env = {"GRADWATCH_HEADER_TIMEOUT_SECONDS": "7", "GRADWATCH_BODY_TIMEOUT_SECONDS": "20",
           "GRADWATCH_IDLE_TIMEOUT_SECONDS": "3", "GRADWATCH_MAX_CONNECTIONS": "300"}
    result = compose("config", extra=env)
    assert result.returncode == 0, result.stderr
    web = yaml.safe_load(result.stdout)["services"]["web"]["environment"]
    assert {k: web[k] for k in env} == env
    assert web["GRADWATCH_MAX_CONNECTIONS_PER_ADDRESS"] == "300"


def duration(value: str) -> float:
    """An nginx time (`10s`, `1h`, `500ms`, `60`) in seconds."""
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", value).groups()  # type: ignore[union-attr]
    return int(number) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[unit]


def test_nginx_conf_passes_tls_websockets_and_bounds_slow_clients() -> None:
    http = parse(NGINX_CONF.read_text()).child("http")
    defaults = {name: f.default for name, f in Settings.model_fields.items()}
    upstream = http.child("upstream")
    assert upstream.arg("server") == "web:8000"
    # nginx drops an idle kept-alive connection before the server would close it under it.
    assert duration(upstream.arg("keepalive_timeout")) < defaults["idle_timeout_seconds"]
    # Slow clients wait in nginx, no longer than they could at the server itself.
    assert duration(http.arg("client_header_timeout")) <= defaults["header_timeout_seconds"]
    assert duration(http.arg("client_body_timeout")) <= defaults["body_timeout_seconds"]
    assert duration(http.arg("keepalive_timeout")) <= 75
    assert duration(http.arg("send_timeout")) >= 10  # between writes: slow downloads go on
    assert http.arg("client_max_body_size") == f"{defaults['max_body_bytes'] // 1024}k"
    assert http.arg("limit_conn_zone").startswith("$binary_remote_addr zone=per_address:")
    assert http.child("limit_conn").args[0] == "per_address"
    assert [d.args for d in http.child("map").block or []] == [["upgrade"], [""]]

    servers = http.children("server")
    plain = next(s for s in servers if s.child("listen").args[0] == "80")
    assert plain.child("location").arg("return") == "301 https://$host$request_uri"
    tls = next(s for s in servers if s.child("listen").args[:2] == ["443", "ssl"])
    start = (ROOT / "deploy" / "nginx-start.sh").read_text()
    for name in ("ssl_certificate", "ssl_certificate_key"):
        assert tls.arg(name) in start  # where the start script puts the certificate
    location = tls.child("location")
    assert location.args == ["/"] and location.arg("proxy_pass") == "http://gradwatch"
    assert location.arg("proxy_http_version") == "1.1"
    headers = {d.args[0].lower(): " ".join(d.args[1:])
               for d in location.children("proxy_set_header")}
    assert headers == {"host": "$http_host", "x-forwarded-for": "$remote_addr",
                       "x-forwarded-proto": "$scheme", "upgrade": "$http_upgrade",
                       "connection": "$connection_upgrade"}
    # A run's socket may be quiet for a long while (its run waits in the queue).
    assert duration(location.arg("proxy_read_timeout")) >= 3600


def test_the_hosting_docs_nginx_example_passes_the_same_headers_and_timeouts() -> None:
    """docs/hosting.md §4 (nginx on the host) forwards as deploy/nginx.conf does: the client's
    own address, not a list it could start, and Host with its port (compared with Origin)."""
    text = (ROOT / "docs" / "hosting.md").read_text()
    example = parse(text.split("```nginx\n", 1)[1].split("```", 1)[0])
    tls = next(s for s in example.children("server")
               if s.child("listen").args[:2] == ["443", "ssl"])
    headers = {d.args[0].lower(): " ".join(d.args[1:])
               for d in tls.child("location").children("proxy_set_header")}
    deployed = parse(NGINX_CONF.read_text()).child("http")
    deployed_tls = next(s for s in deployed.children("server")
                        if s.child("listen").args[:2] == ["443", "ssl"])
    assert headers == {d.args[0].lower(): " ".join(d.args[1:])
                       for d in deployed_tls.child("location").children("proxy_set_header")}
    for name in ("client_header_timeout", "client_body_timeout", "keepalive_timeout",
                 "send_timeout"):
        assert tls.arg(name) == deployed.arg(name), name


def test_nginx_image_is_debian_nginx_with_the_repo_config() -> None:
    dockerfile = (ROOT / "deploy" / "nginx.Dockerfile").read_text()
    app_base = re.search(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert app_base and f"FROM {app_base[1]}" in dockerfile  # no other image to pull
    assert re.search(r"apt-get install .*\bnginx\b", dockerfile)
    assert "COPY deploy/nginx.conf /etc/nginx/nginx.conf" in dockerfile
    assert "COPY deploy/nginx-start.sh /usr/local/bin/gradwatch-nginx" in dockerfile
    assert subprocess.run(["sh", "-n", str(ROOT / "deploy" / "nginx-start.sh")]).returncode == 0


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    """`nginx -t` where nginx is installed (the host name `web` and the paths made local)."""
    binary = shutil.which("nginx")
    if binary is None:
        pytest.skip("nginx is not installed; the parsed checks above still ran")
    conf = local_nginx_conf(tmp_path, upstream="127.0.0.1:8000", http_port=8080,
                            https_port=8443)
    result = subprocess.run([binary, "-t", "-c", str(conf), "-p", str(tmp_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr

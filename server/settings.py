"""Server settings, read from `GRADWATCH_*` environment variables (CONTRACT §2 and §7)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from trainer.contract.config import MAX_TRAINABLE_PARAMS
from trainer.contract.cost import DEFAULT_MAX_RUN_COST
from trainer.contract.footprint import DEFAULT_MAX_RUN_MEMORY_MIB

LOOPBACK_NAMES = ("localhost",)
ANY_ADDRESS = ("0.0.0.0", "::", "[::]", "")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class Settings(BaseSettings):
    """Where the server listens, what it keeps, who may use it, and the limits it enforces."""

    # An empty variable (`GRADWATCH_TF_THREADS=` in a compose file or a shell) means unset:
    # the default, never an empty access code or admin token.
    model_config = SettingsConfigDict(env_prefix="GRADWATCH_", extra="ignore",
                                      env_ignore_empty=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = Path("./data")
    executor: Literal["local", "redis"] = "local"
    # 0 is allowed: runs are accepted and wait in the queue (useful for API-only tests).
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=0, le=256)
    # TensorFlow threads per local worker; unset, the cores are shared out among the workers
    # (see worker_threads and docs/performance.md); 0, TensorFlow's default (all cores each).
    tf_threads: int | None = Field(None, ge=0, le=256)
    redis_url: str = "redis://127.0.0.1:6379/0"
    admin_token: str | None = None
    access_code: str | None = None
    allow_open: bool = False
    secret_key: str | None = None
    # Host names the server answers to, comma-separated ("*": any), besides the loopback
    # names and the address it listens on; others are a 400 (DNS rebinding, server/guards.py).
    allowed_hosts: str | None = None
    log_level: str = "info"

    max_active_per_visitor: int = Field(3, ge=1)
    max_queue: int = Field(100, ge=1)
    # RunConfig itself refuses more than MAX_TRAINABLE_PARAMS; this setting can only lower it.
    max_params: int = Field(MAX_TRAINABLE_PARAMS, ge=1)
    max_run_seconds: float = Field(600, gt=0)
    # A run's estimated work (trainer/contract/cost.py) and peak worker memory
    # (trainer/contract/footprint.py); past either, the run is refused with a 422.
    max_run_cost: int = Field(DEFAULT_MAX_RUN_COST, ge=1)
    max_run_memory_mib: int = Field(DEFAULT_MAX_RUN_MEMORY_MIB, ge=16)
    # A script's run (GradWatchCallback) with no post for this long ends failed (server/ingest.py).
    script_idle_seconds: float = Field(120, gt=0)
    max_body_bytes: int = Field(65536, ge=1024)
    # Slow and idle connections (server/connections.py, issue 12 B4): a request head must be
    # complete this long after the connection opens or the previous answer ends, a body this
    # long after its head (else 408); a keep-alive connection idle this long is closed.
    # Answers being written and websockets have no deadline.
    header_timeout_seconds: float = Field(10, gt=0)
    body_timeout_seconds: float = Field(30, gt=0)
    idle_timeout_seconds: float = Field(5, gt=0)
    # Client connections held at once (fewer when the limit of open files is lower); at the
    # limit the one that has waited longest for its client is closed for a newcomer, and with
    # every one busy the newcomer gets a 503. One client address may hold at most the second.
    max_connections: int = Field(1000, ge=16)
    max_connections_per_address: int = Field(500, ge=1)
    max_sockets_per_visitor: int = Field(20, ge=1)
    # Wrong access codes a minute allowed per student; one address (a class behind one NAT
    # address) may make class_size × this before /join answers 429 (server/attempts.py).
    join_attempts_per_minute: int = Field(3, ge=1)
    class_size: int = Field(40, ge=1)
    # A viewer whose unsent frames pass this many bytes is disconnected (see server/hub.py).
    viewer_max_bytes: int = Field(16 * 2**20, ge=65536)
    # Encoded snapshots of ended runs kept in memory (see server/snapshots.py); 0 keeps none.
    snapshot_cache_bytes: int = Field(64 * 2**20, ge=0)
    # Recorded steps kept per run; past it the history is thinned (see server/thinning.py).
    history_max_steps: int = Field(20000, ge=16)
    # Retention of finished runs (with their history); 0 turns a limit off.
    keep_runs: int = Field(1000, ge=0)
    keep_days: float = Field(0, ge=0)

    @property
    def worker_threads(self) -> int:
        """TensorFlow threads for each local worker: the setting, else cores ÷ workers (≥ 1).

        Two workers on two cores with TensorFlow's default (a pool as large as the machine in
        each) oversubscribe the cores; one thread each keeps concurrent runs from slowing each
        other down.
        """
        if self.tf_threads is not None:
            return self.tf_threads
        return max(1, (os.cpu_count() or 1) // max(1, self.workers))

    @property
    def host_names(self) -> frozenset[str]:
        """The Host names allowed besides loopback ones: the setting's and the bound address."""
        names = {n.strip().lower().rstrip(".") for n in (self.allowed_hosts or "").split(",")}
        if self.host not in ANY_ADDRESS:
            names.add(self.host.strip("[]").lower())
        return frozenset(names - {""})

    @property
    def join_budget(self) -> int:
        """Wrong access codes one client address may send a minute."""
        return self.join_attempts_per_minute * self.class_size

    @property
    def db_path(self) -> Path:
        """The SQLite file that holds every run and its history."""
        return self.data_dir / "gradwatch.db"


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name we cannot vouch for


def executor_problem(settings: Settings) -> str | None:
    """Why the chosen executor cannot be used, or None when it can."""
    if settings.executor == "redis" and not settings.redis_url.startswith(REDIS_SCHEMES):
        return (f"GRADWATCH_REDIS_URL must start with {', '.join(REDIS_SCHEMES)} "
                "(e.g. redis://127.0.0.1:6379/0)")
    return None


def exposure_problem(settings: Settings) -> str | None:
    """Why the server must not start on this address, or None when it may."""
    if is_loopback(settings.host) or settings.access_code or settings.allow_open:
        return None
    return (
        f"refusing to listen on {settings.host}, which other machines can reach, without an "
        "access code: set GRADWATCH_ACCESS_CODE to a class join code, or GRADWATCH_ALLOW_OPEN=1 "
        "to let anyone who can reach it start training runs"
    )


def load_secret_key(settings: Settings) -> str:
    """The key that signs visitor cookies: the setting, else one generated once and kept.

    Keeping it in data_dir means visitors keep their identity (and their runs) across restarts.
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret.key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # O_EXCL: if two processes race, the loser reads the winner's key instead of replacing it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key

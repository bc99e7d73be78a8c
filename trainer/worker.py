"""The scale-out worker: `python -m trainer.worker` takes runs from Redis (RQ) and trains them.

Settings come from the environment: `GRADWATCH_REDIS_URL` (default redis://127.0.0.1:6379/0),
`GRADWATCH_TF_THREADS` (TensorFlow threads per worker) and `GRADWATCH_MODEL_CACHE`,
`GRADWATCH_MODEL_CACHE_MIB` (traced models each worker keeps, see `trainer.modelcache`). One
process trains one run at a time; start one per run slot you want on a machine
(`docker compose up --scale worker=N`).

It runs RQ's `SimpleWorker`: the job runs in this process, nothing ever forks. TensorFlow is
imported and warmed up once, before the worker registers, so a run starts training at once
instead of paying a cold TensorFlow import per job, as a fresh work horse would (docs/scaling.md
has the numbers). The price, a run that crashes the process takes the worker with it, is what
the heartbeat covers: the server fails that run, and a supervisor (compose's `restart`) starts a
new worker.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import SimpleWorker, worker_registration
from rq.serializers import JSONSerializer
from rq.utils import now

from trainer.contract.protocol import finished
from trainer.contract.redisnames import DEFAULT_URL, HEARTBEAT_EVERY, QUEUE_NAMES, redacted
from trainer.localworker import configure_threads, warm_up
from trainer.runlink import RunLink

log = logging.getLogger("trainer.worker")

WORKER_TTL = 10      # s: a dead worker leaves RQ's worker registry this soon (see WorkerBeat)
RQ_WORKER_TTL = 40   # rq's own idle heartbeat; its blocking dequeue waits this minus 15 s
RECONNECT_MAX = 30.0


@dataclass
class ProcessState:
    """What the RQ job function needs of the process it runs in (RQ calls it by name only)."""

    url: str = os.environ.get("GRADWATCH_REDIS_URL", DEFAULT_URL)
    name: str = f"{socket.gethostname()}.{os.getpid()}"
    shutdown_reason: str | None = None
    _conn: redis.Redis | None = None

    def connection(self) -> redis.Redis:
        """A client with short timeouts for the run's stream (not RQ's long blocking one)."""
        if self._conn is None:
            self._conn = link_client(self.url)
        return self._conn


PROCESS = ProcessState()


def link_client(url: str) -> redis.Redis:
    """A Redis client that fails fast instead of stalling training when Redis is away."""
    return redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5,
                                retry=Retry(NoBackoff(), 1))


def train(run_id: str, config: dict[str, Any], max_seconds: float) -> str | None:
    """The RQ job: train one run, streaming its events to Redis; returns its final status.

    Args:
        run_id: the run's id (also the RQ job id).
        config: a validated RunConfig as a dict.
        max_seconds: wall-time limit; past it the run ends `stopped`.
    """
    from trainer.job import run_job  # TensorFlow: warm already in `python -m trainer.worker`

    link = RunLink(PROCESS.connection(), run_id, PROCESS.name,
                   extra_stop=lambda: PROCESS.shutdown_reason)
    link.open()
    final: dict[str, Any] = {}

    def emit(event: dict[str, Any]) -> None:
        if event.get("type") == "finished":
            final.update(event)
        link.emit(event)

    try:
        emit({"type": "dispatched", "worker": PROCESS.name, "t": time.time()})
        reason = link.stop_reason()
        if reason is not None:  # stopped while it was being handed over
            emit(finished("stopped", reason))
        else:
            run_job(config, emit, link.stop_reason, max_seconds)
    except Exception as exc:  # run_job never raises; this is a failure around it
        if not final:
            emit(finished("failed", f"{type(exc).__name__}: {exc}\n"
                                    f"{traceback.format_exc(limit=-3)}"[:4000]))
    finally:
        link.close()
    return final.get("status")


class GradWatchWorker(SimpleWorker):
    """RQ's SimpleWorker that stops its run on SIGTERM and leaves the registry soon if killed."""

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        # RQ would keep a SimpleWorker's entry for the whole job timeout; WorkerBeat renews a
        # short one every HEARTBEAT_EVERY s instead, so a killed worker is forgotten quickly.
        super().heartbeat(min(timeout or WORKER_TTL, WORKER_TTL), pipeline)

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()
        PROCESS.shutdown_reason = "the worker training it was shut down"


class WorkerBeat(threading.Thread):
    """Renews the worker's entry in RQ's registry, WORKER_TTL s at a time, while it trains too.

    (RQ's SimpleWorker does not heartbeat during a job.) So the registry, and the server's
    health, lose a killed worker within WORKER_TTL s.
    """

    def __init__(self, worker: GradWatchWorker, conn: redis.Redis) -> None:
        super().__init__(name="worker-beat", daemon=True)
        self.worker, self.conn = worker, conn
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(HEARTBEAT_EVERY):
            if self.worker.birth_date is None:
                continue  # not registered yet
            # Redis away: the next beat re-registers the worker if its entry was lost.
            with contextlib.suppress(redis.RedisError):
                self.beat()

    def beat(self) -> None:
        worker, key = self.worker, self.worker.key
        with self.conn.pipeline() as pipe:
            worker.heartbeat(WORKER_TTL, pipeline=pipe)  # HSET last_heartbeat, EXPIREs
            pipe.sismember(worker.redis_workers_keys, key)
            registered = pipe.execute()[-1]
        if not registered:  # Redis lost the entry (restarted, or a long outage): register again
            worker.last_heartbeat = now()
            with self.conn.pipeline() as pipe:
                pipe.hset(key, mapping={**worker.serialize(), "state": worker.get_state()})
                worker_registration.register(worker, pipe)
                pipe.expire(key, WORKER_TTL)
                pipe.execute()


def serve(url: str, name: str, log_level: str) -> int:
    """Work until SIGTERM/SIGINT, reconnecting (with back-off) when Redis goes away."""
    wait, attempt = 1.0, 0
    while True:
        attempt += 1
        conn = redis.Redis.from_url(url, socket_connect_timeout=5)
        worker = GradWatchWorker(list(QUEUE_NAMES), connection=conn, serializer=JSONSerializer,
                                 name=f"{name}.{attempt}", worker_ttl=RQ_WORKER_TTL)
        PROCESS.name = worker.name
        beat = WorkerBeat(worker, link_client(url))
        beat.start()
        try:
            worked = worker.work(logging_level=log_level.upper())
        except redis.RedisError as exc:
            worked = False
            log.warning("Redis at %s: %s", redacted(url), exc)
        finally:
            beat.done.set()
            # rq's handlers belong to this worker object; a signal from now on just ends us.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if PROCESS.shutdown_reason is not None:
            return 0
        wait = 1.0 if worked else min(RECONNECT_MAX, wait * 2)
        log.warning("the worker loop ended; reconnecting to %s in %.0f s", redacted(url), wait)
        time.sleep(wait)


def main(argv: list[str] | None = None) -> int:
    """`python -m trainer.worker`: warm TensorFlow up, then take runs from Redis."""
    parser = argparse.ArgumentParser(prog="python -m trainer.worker", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--url", default=PROCESS.url,
                        help="Redis URL (default: $GRADWATCH_REDIS_URL or %(default)s)")
    parser.add_argument("--name", default=PROCESS.name, help="worker name (default: host.pid)")
    parser.add_argument("--log-level", default=os.environ.get("GRADWATCH_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    PROCESS.url = args.url
    configure_threads()
    started = time.monotonic()
    warm_up()
    from trainer import modelcache  # TensorFlow's side: imported once it is warm

    modelcache.configure_from_env()
    log.info("TensorFlow warm in %.1f s; taking runs from %s", time.monotonic() - started,
             redacted(args.url))
    return serve(args.url, args.name, args.log_level)


if __name__ == "__main__":
    # Run the module RQ imports the job from (trainer.worker), not this __main__ copy of it:
    # the worker and the job function must share one PROCESS.
    from trainer import worker

    sys.exit(worker.main())

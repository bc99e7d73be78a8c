"""LocalExecutor: trains runs on worker processes of this host (`GRADWATCH_EXECUTOR=local`).

Each worker is a `spawn`ed process running `trainer.localworker.serve` (see docs/architecture.md)
with its own task queue, event queue and stop flag; one reader thread per worker carries its
events to the event loop. Everything else (who is idle, who runs what, the queue) is touched only
on the event loop, so it needs no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import itertools
import logging
import multiprocessing
import os
import queue
import threading
import time
from typing import Any

from server.executors.base import EventCallback, Executor
from server.executors.fairqueue import FairQueue, Pending
from server.executors.processes import WorkerProcess
from trainer.contract.protocol import finished

log = logging.getLogger(__name__)

WORKER_TARGET = "trainer.localworker:serve"
POLL_SECONDS = 0.25
DRAIN_SECONDS = 2.0  # after a worker dies, how long its last events may take to arrive
STOP_GRACE = 15.0  # a stopped run that has not ended by then gets its worker killed
DEADLINE_GRACE = 30.0  # past max_seconds, the job's own limit has failed: kill the worker


def worker_main(target: str, *args: Any, tf_threads: int | None = None) -> None:
    """Entry point of a worker process: the trainer is imported here, never in the server."""
    if tf_threads:
        # Read by trainer.localworker.configure_threads before TensorFlow loads.
        os.environ["GRADWATCH_TF_THREADS"] = str(tf_threads)
    module, _, name = target.partition(":")
    getattr(importlib.import_module(module), name)(*args)


class LocalExecutor(Executor):
    """Queues runs and trains them on `workers` local processes kept warm."""

    kind = "local"

    def __init__(self, workers: int, target: str | None = None,
                 tf_threads: int | None = None) -> None:
        self.n_workers = workers
        self.target = target or WORKER_TARGET  # "module:function" run in each worker
        self.tf_threads = tf_threads  # TensorFlow threads per worker; None: TensorFlow's own
        self._ctx = multiprocessing.get_context("spawn")
        self._ids = itertools.count(1)
        self._workers: dict[int, WorkerProcess] = {}
        self._queue = FairQueue()
        self._failed_starts = 0
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_event: EventCallback | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # -- the Executor interface ------------------------------------------------------------

    async def start(self, on_event: EventCallback) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_event = on_event
        for _ in range(self.n_workers):
            self._spawn()
        self._watchdog = asyncio.create_task(self._watch(), name="local-executor-watchdog")

    async def submit(self, run_id: str, owner: str, config: dict[str, Any],
                     max_seconds: float, cost: int = 1) -> None:
        self._queue.push(Pending(run_id, owner, config, max_seconds, cost=max(1, cost)))
        self._dispatch()

    async def stop(self, run_id: str, reason: str = "stopped by its owner") -> bool:
        if self._queue.remove(run_id) is not None:
            self._emit(run_id, finished("stopped", reason))
            return True
        worker = self._worker_of(run_id)
        if worker is None:
            return False
        worker.request_stop(reason, time.monotonic() + STOP_GRACE)
        return True

    def waiting(self) -> list[tuple[str, str]]:
        return self._queue.waiting()

    def queue_position(self, run_id: str) -> int | None:
        return self._queue.position(run_id, self._running_owners())

    def health(self) -> dict[str, Any]:
        states = [w.state for w in self._workers.values()]
        ready, busy = states.count("ready"), states.count("busy")
        if ready or busy:
            state = "ok"
        elif states and not self._failed_starts:
            state = "starting"
        else:
            state = "degraded"
        alive = [w for w in self._workers.values() if w.died_at is None]
        return {"kind": self.kind, "state": state, "workers": len(states), "ready": ready,
                "busy": busy, "queued": len(self._queue), "pids": [w.process.pid for w in alive],
                "tf_threads": [w.tf_threads for w in alive]}

    async def close(self) -> None:
        self._closing = True
        if self._watchdog:
            self._watchdog.cancel()
        for job in self._queue.drain():
            self._emit(job.run_id, finished("failed", "the server shut down before the run "
                                                       "started"))
        workers = list(self._workers.values())
        for worker in workers:
            worker.ask_to_exit()
        await asyncio.gather(*(asyncio.to_thread(w.end, 5.0) for w in workers))
        for worker in workers:
            if worker.job is not None:
                self._emit(worker.job.run_id, finished("failed", "the server shut down during "
                                                                 "the run"))
                worker.job = None
        self._workers.clear()

    # -- workers ---------------------------------------------------------------------------

    def _spawn(self) -> None:
        if self._closing:
            return
        wid = next(self._ids)
        main = functools.partial(worker_main, tf_threads=self.tf_threads)
        worker = WorkerProcess.spawn(self._ctx, wid, main, self.target)
        self._workers[wid] = worker
        threading.Thread(target=self._read, args=(worker,), name=f"worker-{wid}-events",
                         daemon=True).start()

    def _read(self, worker: WorkerProcess) -> None:
        """Reader thread: carry one worker's events to the loop until it is dead and drained."""
        while True:
            try:
                wid, run_id, event = worker.events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if worker.died_at is not None or self._closing:
                    break
                continue
            except (EOFError, OSError, ValueError):
                break
            self._post(self._handle, worker, wid, run_id, event)
        worker.drained = True

    def _post(self, fn: Any, *args: Any) -> None:
        # RuntimeError: the loop is closed, the server is shutting down.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(fn, *args)

    def _handle(self, worker: WorkerProcess, wid: int, run_id: str | None,
                event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "ready":
            worker.state = "ready"
            worker.tf_threads = event.get("tf_threads")
            self._failed_starts = 0
            self._dispatch()
            return
        if worker.job is None or run_id != worker.job.run_id:
            log.warning("worker %s sent %s for run %s it is not running", wid, kind, run_id)
            return
        if kind == "started" and worker.stop_reason:
            worker.stop_flag.value = 1  # a stop that came before the job reset the flag
        if kind == "finished":
            if self._closing and event.get("status") == "stopped":
                return  # stopped by close(), which reports the run failed itself
            if event.get("status") == "stopped" and worker.stop_reason:
                event = finished("stopped", worker.stop_reason)
            worker.release()
            self._emit(run_id, event)
            self._dispatch()
            return
        self._emit(run_id, event)

    async def _watch(self) -> None:
        """Notice dead workers and runs past their deadline, a few times a second."""
        while not self._closing:
            await asyncio.sleep(POLL_SECONDS)
            now = time.monotonic()
            for worker in list(self._workers.values()):
                worker.check(now)
                if worker.died_at is not None and (
                        worker.drained or now - worker.died_at > DRAIN_SECONDS):
                    self._bury(worker)

    def _bury(self, worker: WorkerProcess) -> None:
        """A worker process ended: fail (or stop) its run and start a replacement."""
        del self._workers[worker.id]
        if worker.job is not None:
            code = worker.process.exitcode
            event = (finished("stopped", worker.kill_reason) if worker.kill_reason else
                     finished("failed", f"the worker process died (exit code {code})"))
            run_id = worker.job.run_id
            worker.job = None
            self._emit(run_id, event)
        if worker.state == "starting":
            self._failed_starts += 1
            log.error("worker %s died while starting (exit code %s)", worker.id,
                      worker.process.exitcode)
        delay = min(30.0, 0.5 * 2 ** self._failed_starts) if self._failed_starts else 0.0
        self._loop.call_later(delay, self._spawn)
        self._dispatch()

    # -- the queue -------------------------------------------------------------------------

    def _running_owners(self) -> list[tuple[str, int]]:
        """(owner, cost) of the runs on workers now."""
        return [(w.job.owner, w.job.cost) for w in self._workers.values() if w.job is not None]

    def _worker_of(self, run_id: str) -> WorkerProcess | None:
        return next((w for w in self._workers.values()
                     if w.job is not None and w.job.run_id == run_id), None)

    def _dispatch(self) -> None:
        """Give waiting runs to idle workers, fairly across visitors."""
        while len(self._queue) and not self._closing:
            idle = next((w for w in self._workers.values() if w.state == "ready"), None)
            if idle is None:
                return
            job = self._queue.pop_next(self._running_owners())
            idle.take(job, time.monotonic() + job.max_seconds + DEADLINE_GRACE)
            self._emit(job.run_id, {"type": "dispatched", "worker": idle.id})

    def _emit(self, run_id: str, event: dict[str, Any]) -> None:
        try:
            self._on_event(run_id, event)
        except Exception:  # a bug in a consumer must not stop the executor
            log.exception("handling %s of run %s failed", event.get("type"), run_id)

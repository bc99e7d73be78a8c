"""WorkerProcess: one local worker process with its queues, its stop flag and what it is doing.

(The process itself runs trainer/localworker.py; this is the server's handle on it.)
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

from server.executors.fairqueue import Pending

log = logging.getLogger(__name__)


@dataclass(eq=False)
class WorkerProcess:
    """A worker process as the executor sees it: starting, ready (idle) or busy with a job."""

    id: int
    process: BaseProcess
    tasks: Queue
    events: Queue
    stop_flag: Any  # multiprocessing.Value("i")
    state: str = "starting"
    job: Pending | None = None
    deadline: float = math.inf
    stop_reason: str | None = None
    kill_reason: str | None = None
    died_at: float | None = None
    drained: bool = False
    tf_threads: int | None = None  # TensorFlow's intra-op threads, as the worker reported

    @classmethod
    def spawn(cls, ctx: BaseContext, wid: int, main: Callable[..., None],
              target: str) -> WorkerProcess:
        """Start a worker process running `main(target, wid, tasks, events, stop_flag)`."""
        tasks, events, stop_flag = ctx.Queue(), ctx.Queue(), ctx.Value("i", 0)
        process = ctx.Process(target=main, args=(target, wid, tasks, events, stop_flag),
                              name=f"gradwatch-worker-{wid}", daemon=True)
        process.start()
        return cls(wid, process, tasks, events, stop_flag)

    def take(self, job: Pending, deadline: float) -> None:
        """Hand the worker a run."""
        self.state, self.job, self.deadline = "busy", job, deadline
        self.stop_reason = self.kill_reason = None
        # The job resets the flag itself too; clearing it here first means a stop can only be
        # lost in the gap before `started`, which the executor covers by setting it again then.
        self.stop_flag.value = 0
        self.tasks.put({"run_id": job.run_id, "config": job.config,
                        "max_seconds": job.max_seconds})

    def release(self) -> None:
        """The run ended; the worker is idle again."""
        self.state, self.job, self.deadline = "ready", None, math.inf
        self.stop_reason = self.kill_reason = None

    def request_stop(self, reason: str, deadline: float) -> None:
        """Ask the job to stop after its current step; kill the process if it has not by then."""
        self.stop_reason = reason
        self.stop_flag.value = 1
        self.deadline = min(self.deadline, deadline)

    def check(self, now: float) -> None:
        """Notice the process ending, and kill it if its run is past its deadline."""
        if self.died_at is None and self.process.exitcode is not None:
            self.died_at = now
            return
        if self.died_at is None and self.job is not None and now > self.deadline:
            self.kill_reason = self.stop_reason or (
                f"the run went past its wall-time limit of {self.job.max_seconds:g} s")
            log.warning("worker %s: %s; killing it", self.id, self.kill_reason)
            self.process.kill()

    def ask_to_exit(self) -> None:
        """Stop the current job and tell the process to exit after it."""
        self.stop_flag.value = 1
        with contextlib.suppress(OSError, ValueError):  # the process is already gone
            self.tasks.put(None)

    def end(self, timeout: float) -> None:
        """Wait for the process to exit, terminating (then killing) it if it does not."""
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.process.terminate()
            self.process.join(2.0)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(2.0)
        for q in (self.tasks, self.events):
            q.cancel_join_thread()
            q.close()

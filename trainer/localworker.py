"""Main function of a local worker process: TensorFlow loaded and warm before a run arrives.

Started by `server.executors.local.LocalExecutor` from the `spawn` context (never `fork`: a
forked copy of TensorFlow's thread pools deadlocks). See docs/architecture.md for the protocol.
"""

from __future__ import annotations

import os
import time
from typing import Any

WARMUP_CONFIG = {"dataset": {"n_samples": 64, "n_features": 4},
                 "model": {"depth": 2, "width": 4}, "training": {"epochs": 1}}


def configure_threads() -> None:
    """Keep a worker's TensorFlow to its share of the cores (set before TensorFlow loads)."""
    threads = os.environ.get("GRADWATCH_TF_THREADS")
    if threads:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", threads)
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def warm_up() -> None:
    """Import TensorFlow and Keras and train a tiny model once, so the first run starts fast."""
    from trainer.job import run_job

    run_job(WARMUP_CONFIG, lambda event: None)


def serve(worker_id: int, tasks: Any, events: Any, stop_flag: Any) -> None:
    """Run tasks from `tasks` one at a time until a None task arrives.

    Args:
        worker_id: this worker's number, echoed in every event tuple.
        tasks: a multiprocessing Queue of {"run_id", "config", "max_seconds"} dicts or None.
        events: a multiprocessing Queue receiving (worker_id, run_id, event) tuples.
        stop_flag: a multiprocessing Value; 1 asks the current run to stop.
    """
    configure_threads()
    warm_up()
    from trainer.job import run_job

    events.put((worker_id, None, {"type": "ready", "pid": os.getpid(), "t": time.time()}))
    while True:
        task = tasks.get()
        if task is None:
            return
        run_id = task["run_id"]
        stop_flag.value = 0

        def should_stop() -> str | None:
            return "stopped by request" if stop_flag.value else None

        run_job(task["config"], lambda event, rid=run_id: events.put((worker_id, rid, event)),
                should_stop, float(task.get("max_seconds", 600.0)))

"""Main function of a local worker process: TensorFlow loaded and warm before a run arrives.

Started by `server.executors.local.LocalExecutor` from the `spawn` context (never `fork`: a
forked copy of TensorFlow's thread pools deadlocks). See docs/architecture.md for the protocol.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable
from typing import Any

PARENT_CHECK_SECONDS = 1.0
WARMUP_CONFIG = {"dataset": {"n_samples": 64, "n_features": 4},
                 "model": {"depth": 2, "width": 4}, "training": {"epochs": 1}}


def configure_threads() -> None:
    """Keep a worker's TensorFlow to its share of the cores (call before TensorFlow runs).

    GRADWATCH_TF_THREADS intra-op threads and one inter-op thread; unset, TensorFlow's default
    (pools as large as the machine). The local executor sets it for the workers it spawns.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    threads = int(os.environ.get("GRADWATCH_TF_THREADS") or 0)
    if threads > 0:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)


def tf_threads() -> int:
    """TensorFlow's intra-op threads in this process (0: its default, as many as cores)."""
    import tensorflow as tf

    return tf.config.threading.get_intra_op_parallelism_threads()


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
    from trainer import modelcache
    from trainer.job import run_job

    modelcache.configure_from_env()  # after the warm-up: its tiny model takes no place

    events.put((worker_id, None, {"type": "ready", "pid": os.getpid(), "t": time.time(),
                                  "tf_threads": tf_threads()}))
    parent = multiprocessing.parent_process()
    while True:
        try:
            task = tasks.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                # The server is gone (killed): do not linger as an orphan. Nobody reads
                # `events` any more, so exit without waiting for its feeder thread, which
                # may be blocked writing into a full pipe.
                events.cancel_join_thread()
                return
            continue
        if task is None:
            return
        run_id = task["run_id"]
        # The executor clears stop_flag before it hands over a task; clearing it here too
        # could swallow a stop that arrived in between.
        run_job(task["config"], lambda event, rid=run_id: events.put((worker_id, rid, event)),
                _stop_check(stop_flag, parent), float(task.get("max_seconds", 600.0)))


def _stop_check(stop_flag: Any, parent: Any) -> Callable[[], str | None]:
    """The job's per-step stop poll: the executor's flag, or the server having died."""
    next_parent_check = [time.monotonic() + PARENT_CHECK_SECONDS]

    def should_stop() -> str | None:
        if stop_flag.value:
            return "stopped by request"
        now = time.monotonic()
        if parent is not None and now > next_parent_check[0]:
            next_parent_check[0] = now + PARENT_CHECK_SECONDS
            if not parent.is_alive():
                return "the server process died"
        return None

    return should_stop

"""RunEvents: applies a run's events to its live state, the store and its viewers.

Events arrive on the event loop, in order per run, each delivered once (the executors and the
script ingest drop replayed copies; see server/executors/replay.py). Each one updates the run
and publishes the frames of CONTRACT §5, plus a `{"type": "run", "run": Run}` frame whenever the
run's metadata changes (a `run` frame goes to every viewer at once, so it has no `owned`: a
viewer takes that from its snapshot).

RunEvents owns the LiveRuns registry: a run that ends leaves it here, and only here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from server.hub import Hub
from server.liveruns import LiveRuns, LiveState
from server.memory import Trimmer
from server.publicerror import is_private, public_error
from server.retention import Retention
from server.snapshots import SnapshotCache
from server.store import RunStore, StoreError
from server.views import run_view
from trainer.contract.protocol import append_steps, metrics

log = logging.getLogger(__name__)

Handler = Callable[["RunEvents", str, LiveState, dict[str, Any]], None]


class RunEvents:
    """The executors' event callback (`apply`) and the end of every run (`end`)."""

    def __init__(self, store: RunStore, hub: Hub, queue_position: Callable[[str], int | None],
                 retention: Retention, snapshots: SnapshotCache,
                 time_limit: float | None = None, trimmer: Trimmer | None = None) -> None:
        self.live = LiveRuns()
        self.time_limit = time_limit  # the server's wall-time cap, shown in every Run
        self.store = store
        self.hub = hub
        self.queue_position = queue_position
        self.retention = retention
        self.snapshots = snapshots
        self.trimmer = trimmer

    def apply(self, run_id: str, event: dict[str, Any]) -> None:
        """Apply one event; events of runs that are no longer live are ignored."""
        live = self.live.get(run_id)
        handler = HANDLERS.get(event.get("type"))  # type: ignore[arg-type]
        if live is None or handler is None:
            log.debug("ignoring %s event of run %s", event.get("type"), run_id)
            return
        try:
            handler(self, run_id, live, event)
        except StoreError as exc:
            log.error("run %s: %s", run_id, exc)

    def end(self, run_id: str, status: str, error: str | None) -> None:
        """End a live run here (stopped before a worker had it, or its script went silent)."""
        live = self.live.get(run_id)
        if live is not None:
            self._finished(run_id, live, {"status": status, "error": error})

    # -- one method per event type (HANDLERS below) ---------------------------------------

    def _dispatched(self, run_id: str, live: LiveState, event: dict[str, Any]) -> None:
        live.status = "running"
        self.store.update_run(run_id, status="running", started_at=time.time())
        self._publish_status(run_id, "running", None)
        # Every run still waiting has moved up the queue.
        for other, other_live in self.live.items():
            if other_live.status == "queued":
                self._publish_run(other)

    def _started(self, run_id: str, live: LiveState, event: dict[str, Any]) -> None:
        live.progress["total_steps"] = event.get("total_steps", live.progress["total_steps"])
        self.store.update_run(run_id, layers=event.get("layers") or [],
                              progress=live.progress)
        self._publish_run(run_id)

    def _metrics(self, run_id: str, live: LiveState, event: dict[str, Any]) -> None:
        items = event.get("items") or []
        if not items:
            return
        last = items[-1]
        live.progress.update(step=last["step"] + 1, epoch=last.get("epoch", 0))
        self.store.set_later(run_id, progress=dict(live.progress))
        kept = [it for it in items if live.thinner.admit(it)]
        if kept:
            self._record(run_id, live, kept)

    def _epoch(self, run_id: str, live: LiveState, event: dict[str, Any]) -> None:
        live.epochs.append(event)
        self.store.append_epoch(run_id, event)
        self.hub.publish(run_id, event)

    def _diagnosis(self, run_id: str, live: LiveState, event: dict[str, Any]) -> None:
        live.diagnosis = event.get("diagnosis")
        self.store.set_later(run_id, diagnosis=live.diagnosis)
        if live.diagnosis is not None:  # the timeline replay reads: made after the steps sent
            step = max(0, live.progress.get("step", 0) - 1)  # before it (trainer/recorder.py)
            live.diagnoses.append({"step": step, "diagnosis": live.diagnosis})
            self.store.append_diagnosis(run_id, step, live.diagnosis)
        self.hub.publish(run_id, event)

    def _position(self, run_id: str, live: LiveState, event: dict[str, Any]) -> None:
        # Buffered after the records of the events before it: stored with them or after them.
        self.store.set_stream_position(run_id, event["stream_id"])

    def _finished(self, run_id: str, live: LiveState, event: dict[str, Any]) -> None:
        status, error = event["status"], event.get("error")
        if error is not None and is_private(error):  # a traceback: for the log, not visitors
            log.warning("run %s %s:\n%s", run_id, status, error)
            error = public_error(error)
        try:
            tail = live.thinner.tail()
            if tail is not None:
                self._record(run_id, live, [tail])
            self.store.flush()  # a viewer who connects next reads the whole history from disk
            self.store.forget_tail(run_id)
            self.store.update_run(run_id, status=status, error=error, finished_at=time.time(),
                                  progress=live.progress, diagnosis=live.diagnosis)
        finally:
            live.status = status
            self.live.remove(run_id)
            self._publish_status(run_id, status, error)
            self.retention.soon()
            self.snapshots.keep_soon(run_id, live.history, live.epochs)
            if self.trimmer is not None:  # its History is freed (once encoded, if it is kept)
                self.trimmer.soon()

    # -- helpers ---------------------------------------------------------------------------

    def _record(self, run_id: str, live: LiveState, items: list[dict[str, Any]]) -> None:
        append_steps(live.history, items)
        self.store.append_steps(run_id, items)
        self.hub.publish(run_id, metrics(items))
        if live.thinner.over_limit(live.history):
            self.store.drop_steps(run_id, live.thinner.thin(live.history))

    def _publish_status(self, run_id: str, status: str, error: str | None) -> None:
        # The run frame first, so the status frame stays the last frame of a finished run.
        self._publish_run(run_id)
        self.hub.publish(run_id, {"type": "status", "status": status, "error": error})

    def _publish_run(self, run_id: str) -> None:
        if not self.hub.watched(run_id):
            return
        try:
            row = self.store.get_run(run_id)
        except StoreError as exc:
            log.error("run %s: %s", run_id, exc)
            return
        if row is not None:
            run = run_view(row, self.live.get(run_id), self.queue_position, None,
                           self.time_limit)
            self.hub.publish(run_id, {"type": "run", "run": run})


# The event types of contract.protocol (plus the executors' dispatched and position) and what
# applies each; an event of another type is ignored.
HANDLERS: dict[str, Handler] = {
    "dispatched": RunEvents._dispatched,
    "started": RunEvents._started,
    "metrics": RunEvents._metrics,
    "epoch": RunEvents._epoch,
    "diagnosis": RunEvents._diagnosis,
    "position": RunEvents._position,
    "finished": RunEvents._finished,
}

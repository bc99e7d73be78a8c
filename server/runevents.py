"""RunEvents: applies an executor's events to a live run: store, in-memory History, viewers.

Events arrive on the event loop, in order per run (see server/executors/base.py). Each one
updates the run and publishes the frames of CONTRACT §5, plus a `{"type": "run", "run": Run}`
frame whenever the run's metadata changes (a `run` frame goes to every viewer at once, so it has
no `owned`: a viewer takes that from its snapshot).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from server.store import StoreError
from trainer.contract.protocol import append_steps, metrics

if TYPE_CHECKING:
    from server.service import LiveRun, RunService

log = logging.getLogger(__name__)


class RunEvents:
    """The executor's event callback for a RunService."""

    def __init__(self, service: RunService) -> None:
        self.service = service
        self.store = service.store
        self.hub = service.hub

    def on_event(self, run_id: str, event: dict[str, Any]) -> None:
        """Apply one event; events of runs that are no longer live are ignored."""
        live = self.service.live.get(run_id)
        handler = getattr(self, f"_on_{event.get('type')}", None)
        if live is None or handler is None:
            log.debug("ignoring %s event of run %s", event.get("type"), run_id)
            return
        try:
            handler(run_id, live, event)
        except StoreError as exc:
            log.error("run %s: %s", run_id, exc)

    def _on_dispatched(self, run_id: str, live: LiveRun, event: dict[str, Any]) -> None:
        if live.status == "running":
            return  # replayed by a resumed stream
        live.status = "running"
        self.store.update_run(run_id, status="running", started_at=time.time())
        self._publish_status(run_id, "running", None)
        # Every run still waiting has moved up the queue.
        for other, other_live in self.service.live.items():
            if other_live.status == "queued":
                self._publish_run(other)

    def _on_started(self, run_id: str, live: LiveRun, event: dict[str, Any]) -> None:
        live.progress["total_steps"] = event.get("total_steps", live.progress["total_steps"])
        self.store.update_run(run_id, layers=event.get("layers") or [],
                              progress=live.progress)
        self._publish_run(run_id)

    def _on_metrics(self, run_id: str, live: LiveRun, event: dict[str, Any]) -> None:
        items = event.get("items") or []
        seen = live.thinner.last_seen
        if seen is not None:  # a resumed stream may replay steps already stored: skip them
            items = [it for it in items if it["step"] > seen["step"]]
        if not items:
            return
        last = items[-1]
        live.progress.update(step=last["step"] + 1, epoch=last.get("epoch", 0))
        self.store.set_later(run_id, progress=dict(live.progress))
        kept = [it for it in items if live.thinner.admit(it)]
        if kept:
            self._record(run_id, live, kept)

    def _record(self, run_id: str, live: LiveRun, items: list[dict[str, Any]]) -> None:
        append_steps(live.history, items)
        self.store.append_steps(run_id, items)
        self.hub.publish(run_id, metrics(items))
        if live.thinner.over_limit(live.history):
            self.store.drop_steps(run_id, live.thinner.thin(live.history))

    def _on_epoch(self, run_id: str, live: LiveRun, event: dict[str, Any]) -> None:
        if live.epochs and event["epoch"] <= live.epochs[-1]["epoch"]:
            return  # replayed by a resumed stream
        live.epochs.append(event)
        self.store.append_epoch(run_id, event)
        self.hub.publish(run_id, event)

    def _on_diagnosis(self, run_id: str, live: LiveRun, event: dict[str, Any]) -> None:
        live.diagnosis = event.get("diagnosis")
        self.store.set_later(run_id, diagnosis=live.diagnosis)
        self.hub.publish(run_id, event)

    def _on_position(self, run_id: str, live: LiveRun, event: dict[str, Any]) -> None:
        # Buffered after the records of the events before it: stored with them or after them.
        self.store.set_stream_position(run_id, event["stream_id"])

    def _on_finished(self, run_id: str, live: LiveRun, event: dict[str, Any]) -> None:
        status, error = event["status"], event.get("error")
        try:
            tail = live.thinner.tail()
            if tail is not None:
                self._record(run_id, live, [tail])
            self.store.flush()  # a viewer who connects next reads the whole history from disk
            self.store.update_run(run_id, status=status, error=error, finished_at=time.time(),
                                  progress=live.progress, diagnosis=live.diagnosis)
        finally:
            live.status = status
            del self.service.live[run_id]
            self._publish_status(run_id, status, error)
            self.service.retention.soon()
            self.service.keep_snapshot_soon(run_id, live.history, live.epochs)

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
            self.hub.publish(run_id, {"type": "run", "run": self.service.run_json(row, None)})

"""Runs that a user's own script streams in (`gradwatch.GradWatchCallback` around `model.fit`).

Such a run has no worker: the script opens it (it is `running` at once, owned by the caller),
posts the events a worker would emit, and ends it with a `finished` event. The same RunEvents
apply them, so storage, thinning, viewers, export and comparison work as for any run. Stop from
the page ends the run on the server at once; the script learns it from the answer to its next
post (409 with the status) and stops `fit`. A script that goes silent for `script_idle_seconds`
(killed, or its machine asleep) has its run ended `failed`, so it stops counting against the
owner's limit.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from server.errors import Forbidden, InvalidInput, TooMany
from server.identity import Visitor
from server.ingestbody import Event, MetricsEvent, NewScriptRun, check_steps, script_config
from server.store import ACTIVE
from server.thinning import Thinner
from trainer.contract.protocol import finished, started

if TYPE_CHECKING:
    from server.service import RunService

SCRIPT_KEY = "script"  # in a run's config: what the script said about itself; marks the source


def is_script_run(row: dict[str, Any]) -> bool:
    """Whether the run was streamed in by a script (not trained by a worker)."""
    return isinstance(row.get("config"), dict) and SCRIPT_KEY in row["config"]


class ScriptRuns:
    """Opens script runs and applies their posted events."""

    def __init__(self, service: RunService, idle_seconds: float) -> None:
        self.service = service
        self.idle_seconds = idle_seconds
        self.last_post: dict[str, float] = {}  # run id -> time.monotonic() of its last post

    async def open(self, visitor: Visitor, new: NewScriptRun) -> dict[str, Any]:
        """A new running run of the caller's, with the script's layers."""
        from server.service import LiveRun, new_run_id  # circular at import time

        service = self.service
        self.expire_idle()
        limit = service.settings.max_active_per_visitor
        if not visitor.admin and service.store.count_active(visitor.id) >= limit:
            raise TooMany(f"you already have {limit} runs queued or running, the most one "
                          "visitor may have; stop one or wait for one to finish", retry_after=15)
        params = sum(layer.params for layer in new.layers)
        if params > service.settings.max_params:
            raise InvalidInput([{"loc": ["layers"], "path": "layers", "type": "value_error",
                                 "msg": f"layers: this model has {params:,} trainable "
                                        f"parameters, more than this server's limit of "
                                        f"{service.settings.max_params:,}"}])
        config = script_config(new.config, new.name)
        config[SCRIPT_KEY] = new.script
        now = time.time()
        progress = {"step": 0, "epoch": 0, "total_steps": new.total_steps or 0}
        run_id = new_run_id()
        service.store.insert_run({
            "id": run_id, "owner": visitor.id, "name": new.name, "status": "running",
            "config": config, "parent_id": None, "created_at": now, "progress": progress})
        service.store.update_run(run_id, started_at=now)
        service.live[run_id] = LiveRun("running", dict(progress),
                                       Thinner(service.settings.history_max_steps))
        self.last_post[run_id] = time.monotonic()
        layers = [layer.model_dump() for layer in new.layers]
        service.on_event(run_id, started(layers, new.total_steps or 0, 0, now))
        return service.get(run_id, visitor)

    def post(self, visitor: Visitor, run_id: str,
             events: list[Event]) -> tuple[int, dict[str, Any]]:
        """Apply the posted events; (200, {status}) or, for a run that has ended, (409, ...)."""
        service = self.service
        row = service.row(run_id)
        if not is_script_run(row):
            raise Forbidden(f"run '{run_id}' is trained by a worker, not by a script: only "
                            "its worker reports its steps")
        if not (visitor.admin or row["owner"] == visitor.id):
            raise Forbidden(f"run '{run_id}' is not yours: only the script that opened it "
                            "may report its steps")
        live = service.live.get(run_id)
        if live is None or row["status"] not in ACTIVE:
            self.last_post.pop(run_id, None)
            return 409, {"detail": f"run '{run_id}' has ended ({row['status']}): stop fit",
                         "status": row["status"], "error": row["error"]}
        n_layers = len(row["layers"] or [])
        for event in events:
            if isinstance(event, MetricsEvent):
                check_steps(event.items, n_layers)
        self.last_post[run_id] = time.monotonic()
        for event in events:
            service.on_event(run_id, event.model_dump(exclude_none=isinstance(
                event, MetricsEvent)))
            if run_id not in service.live:  # the script ended it
                self.last_post.pop(run_id, None)
                break
        return 200, {"status": service.live[run_id].status if run_id in service.live
                     else service.row(run_id)["status"]}

    def expire_idle(self) -> None:
        """End the script runs whose script has been silent too long."""
        cutoff = time.monotonic() - self.idle_seconds
        for run_id, seen in list(self.last_post.items()):
            if seen < cutoff:
                del self.last_post[run_id]
                if run_id in self.service.live:
                    self.service.on_event(run_id, finished(
                        "failed", f"the script stopped reporting (nothing for "
                                  f"{self.idle_seconds:g} s): it was killed or lost its "
                                  "connection"))

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
from typing import Any

from server.errors import Forbidden, InvalidInput
from server.executors.replay import ReplayFilter
from server.identity import Visitor
from server.ingestbody import Event, MetricsEvent, NewScriptRun, check_steps, script_config
from server.liveruns import LiveState, new_run_id
from server.quotas import check_active
from server.runevents import RunEvents
from server.settings import Settings
from server.store import ACTIVE, RunStore
from server.thinning import Thinner
from server.views import SCRIPT_KEY, is_script_run, stored_row
from trainer.contract.protocol import started


class ScriptRuns:
    """Opens script runs and applies their posted events."""

    def __init__(self, settings: Settings, store: RunStore, events: RunEvents,
                 idle_seconds: float) -> None:
        self.settings = settings
        self.store = store
        self.events = events
        self.idle_seconds = idle_seconds
        self.last_post: dict[str, float] = {}  # run id -> time.monotonic() of its last post
        # A script posts a batch again when the answer to it was lost: copies are dropped here.
        self.replays: dict[str, ReplayFilter] = {}

    def open(self, visitor: Visitor, new: NewScriptRun) -> str:
        """A new running run of the caller's, with the script's layers; its id."""
        self.expire_idle()
        check_active(self.store, visitor, self.settings.max_active_per_visitor)
        params = sum(layer.params for layer in new.layers)
        if params > self.settings.max_params:
            raise InvalidInput([{"loc": ["layers"], "path": "layers", "type": "value_error",
                                 "msg": f"layers: this model has {params:,} trainable "
                                        f"parameters, more than this server's limit of "
                                        f"{self.settings.max_params:,}"}])
        config = script_config(new.config, new.name)
        config[SCRIPT_KEY] = new.script
        now = time.time()
        progress = {"step": 0, "epoch": 0, "total_steps": new.total_steps or 0}
        run_id = new_run_id()
        self.store.insert_run({
            "id": run_id, "owner": visitor.id, "name": new.name, "status": "running",
            "config": config, "parent_id": None, "created_at": now, "progress": progress})
        self.store.update_run(run_id, started_at=now)
        self.events.live.add(run_id, LiveState("running", dict(progress),
                                               Thinner(self.settings.history_max_steps)))
        self.last_post[run_id] = time.monotonic()
        self.replays[run_id] = ReplayFilter(running=True)
        layers = [layer.model_dump() for layer in new.layers]
        self.events.apply(run_id, started(layers, new.total_steps or 0, 0, now))
        return run_id

    def post(self, visitor: Visitor, run_id: str,
             events: list[Event]) -> tuple[int, dict[str, Any]]:
        """Apply the posted events; (200, {status}) or, for a run that has ended, (409, ...)."""
        row = stored_row(self.store, run_id)
        if not is_script_run(row):
            raise Forbidden(f"run '{run_id}' is trained by a worker, not by a script: only "
                            "its worker reports its steps")
        if not (visitor.admin or row["owner"] == visitor.id):
            raise Forbidden(f"run '{run_id}' is not yours: only the script that opened it "
                            "may report its steps")
        live = self.events.live
        if run_id not in live or row["status"] not in ACTIVE:
            self._forget(run_id)
            return 409, {"detail": f"run '{run_id}' has ended ({row['status']}): stop fit",
                         "status": row["status"], "error": row["error"]}
        n_layers = len(row["layers"] or [])
        for event in events:
            if isinstance(event, MetricsEvent):
                check_steps(event.items, n_layers)
        self.last_post[run_id] = time.monotonic()
        replay = self.replays.setdefault(run_id, ReplayFilter(running=True))
        for event in events:
            new = replay.admit(event.model_dump(exclude_none=isinstance(event, MetricsEvent)))
            if new is not None:
                self.events.apply(run_id, new)
            if run_id not in live:  # the script ended it
                self._forget(run_id)
                break
        state = live.get(run_id)
        return 200, {"status": state.status if state else stored_row(self.store,
                                                                      run_id)["status"]}

    def expire_idle(self) -> None:
        """End the script runs whose script has been silent too long."""
        cutoff = time.monotonic() - self.idle_seconds
        for run_id, seen in list(self.last_post.items()):
            if seen < cutoff:
                self._forget(run_id)
                self.events.end(run_id, "failed", (
                    f"the script stopped reporting (nothing for {self.idle_seconds:g} s): it "
                    "was killed or lost its connection"))

    def _forget(self, run_id: str) -> None:
        self.last_post.pop(run_id, None)
        self.replays.pop(run_id, None)

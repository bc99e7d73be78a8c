"""RunService: what happens to a run, from the request that creates it to its final status.

Commands (create, restart, stop, delete) come from the routes; the executors' events go to
RunEvents (server/runevents.py), which owns the runs of this process that have not ended
(LiveRuns) and ends them. The service reads that registry for its views and snapshots.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import ValidationError

from server.errors import Conflict, Forbidden, InvalidInput
from server.executors.base import Executor
from server.executors.replay import StoredTail
from server.export import Pages, Widths, memory_pages
from server.hub import Hub
from server.identity import Visitor
from server.ingest import ScriptRuns
from server.liveruns import LiveRuns, LiveState, new_run_id
from server.memory import Trimmer
from server.quotas import check_active, make_room
from server.retention import Retention
from server.runevents import RunEvents
from server.settings import Settings
from server.snapshots import SnapshotCache, encode_members
from server.store import ACTIVE, RunStore
from server.thinning import Thinner
from server.views import is_script_run, may_manage, run_view, stored_row
from trainer.contract.config import (
    CombinationError,
    RunConfig,
    check_size,
    deep_merge,
    total_steps,
)
from trainer.contract.configerrors import explain_combination, explain_errors
from trainer.contract.cost import check_cost
from trainer.contract.footprint import check_memory
from trainer.contract.protocol import GONE_CODE, dumps


class RunService:
    """Creates, restarts, stops and deletes runs, and builds their views and snapshots."""

    def __init__(self, settings: Settings, store: RunStore, hub: Hub, executor: Executor) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub
        self.executor = executor
        self.retention = Retention(store, hub, settings.keep_runs, settings.keep_days)
        self.trimmer = Trimmer()
        self.snapshots = SnapshotCache(settings.snapshot_cache_bytes, self.trimmer.soon)
        self.events = RunEvents(store, hub, executor.queue_position, self.retention,
                                self.snapshots, settings.max_run_seconds, self.trimmer)
        self.scripts = ScriptRuns(settings, store, self.events, settings.script_idle_seconds)

    @property
    def live(self) -> LiveRuns:
        """The runs of this process that have not ended (owned by `events`)."""
        return self.events.live

    # -- views -----------------------------------------------------------------------------

    def run_json(self, row: dict[str, Any], visitor: Visitor | None) -> dict[str, Any]:
        """A Run (CONTRACT §4) plus `queue_position`; without `owned` when visitor is None."""
        return run_view(row, self.live.get(row["id"]), self.executor.queue_position, visitor,
                        self.settings.max_run_seconds)

    def row(self, run_id: str) -> dict[str, Any]:
        """A run's stored row, or NotFound."""
        return stored_row(self.store, run_id)

    def get(self, run_id: str, visitor: Visitor) -> dict[str, Any]:
        """One Run as the visitor sees it."""
        return self.run_json(self.row(run_id), visitor)

    async def list(self, visitor: Visitor, limit: int) -> list[dict[str, Any]]:
        """Runs, newest first (read off the loop, as there may be thousands)."""
        self.scripts.expire_idle()
        rows = await asyncio.to_thread(self.store.list_runs, limit)
        return [self.run_json(r, visitor) for r in rows]

    def live_snapshot(self, run_id: str, visitor: Visitor) -> dict[str, Any] | None:
        """The snapshot frame of a live run, copied now (call with no await since subscribing)."""
        live = self.live.get(run_id)
        if live is None:
            return None
        return {"type": "snapshot", "run": self.get(run_id, visitor),
                "history": {k: list(v) for k, v in live.history.items()},
                "epochs": list(live.epochs)}

    async def stored_snapshot(self, run_id: str, visitor: Visitor) -> str:
        """The snapshot frame of a run that is not live, encoded.

        History and epochs are read from the store and encoded off the loop, once for all the
        viewers asking at the same time; an ended run's are kept encoded (they never change), so
        later viewers only get their `run` encoded.
        """
        row, members = await self._stored_members(run_id)
        if row is None:
            row = self.row(run_id)
        return f'{{"type":"snapshot","run":{dumps(self.run_json(row, visitor))},{members}}}'

    async def _stored_members(self, run_id: str) -> tuple[dict[str, Any] | None, str]:
        return await self.snapshots.members(run_id, lambda: self._encode_stored(run_id))

    def _encode_stored(self, run_id: str) -> tuple[dict[str, Any], str]:
        # The row first: a final status there means every step was flushed before it.
        row, history, epochs = self._read_all(run_id)
        return row, encode_members(history, epochs)

    def export_pages(self, run_id: str) -> tuple[dict[str, Any], Pages, Widths | None]:
        """A run's row and its History's pages for a download: a live run's copied now, from
        memory; another's read from the store page by page as the download is written (with
        its rows' widths read from the chunks' headers)."""
        live = self.live.get(run_id)
        row = self.row(run_id)
        if live is not None:
            return row, memory_pages({k: list(v) for k, v in live.history.items()}), None
        return (row, lambda fields: self.store.history_pages(run_id, fields),
                lambda: self.store.history_widths(run_id))

    async def diagnoses(self, run_id: str) -> list[dict[str, Any]]:
        """The run's diagnoses as they changed, `{step, diagnosis}` in step order: the stored
        ones, with those this process received and has not written yet."""
        self.row(run_id)  # 404 first
        live = self.live.get(run_id)
        made = list(live.diagnoses) if live is not None else []
        stored = await asyncio.to_thread(self.store.diagnoses, run_id)
        return sorted({d["step"]: d for d in [*stored, *made]}.values(),
                      key=lambda d: d["step"])

    def _read_all(self, run_id: str) -> tuple[dict[str, Any], dict[str, list[Any]], list[Any]]:
        return self.row(run_id), self.store.history(run_id), self.store.epochs(run_id)

    # -- commands --------------------------------------------------------------------------

    async def create(self, visitor: Visitor, config: RunConfig) -> dict[str, Any]:
        """Queue a run of a validated RunConfig (the route's typed body)."""
        return await self._launch(visitor, config, self._cost_within_limit(config),
                                  parent_id=None)

    async def restart(self, visitor: Visitor, run_id: str,
                      overrides: dict[str, Any]) -> dict[str, Any]:
        """Queue a new run of the caller's: run_id's config with a partial one merged over it."""
        parent = self.row(run_id)
        if is_script_run(parent):
            raise Conflict(f"run '{run_id}' came from a script, which GradWatch cannot run "
                           "again: make the suggested change in your script and run it")
        try:
            config = RunConfig.model_validate(deep_merge(parent["config"], overrides))
        except ValidationError as exc:
            raise InvalidInput(explain_errors(exc)) from None
        return await self._launch(visitor, config, self._cost_within_limit(config),
                                  parent_id=run_id)

    def _cost_within_limit(self, config: RunConfig) -> int:
        """The run's estimated work (multiply-adds, which the fair queue weighs), if the config
        is within this server's limits (settings): parameters, estimated work and estimated
        peak memory of the worker; InvalidInput if not."""
        try:
            check_size(config, self.settings.max_params)
            check_memory(config, self.settings.max_run_memory_mib)
            return check_cost(config, self.settings.max_run_cost)
        except CombinationError as exc:
            raise InvalidInput([explain_combination(exc)]) from None

    async def _launch(self, visitor: Visitor, run_config: RunConfig, cost: int,
                      parent_id: str | None) -> dict[str, Any]:
        check_active(self.store, visitor, self.settings.max_active_per_visitor)
        evict = make_room(self.executor.waiting(), visitor, self.settings.max_queue)
        if evict is not None:
            await self.executor.stop(*evict)
        run_id = new_run_id()
        config = run_config.model_dump(mode="json")
        row = {"id": run_id, "owner": visitor.id, "name": run_config.name, "status": "queued",
               "config": config, "parent_id": parent_id, "created_at": time.time(),
               "progress": {"step": 0, "epoch": 0, "total_steps": total_steps(run_config)}}
        self.store.insert_run(row)
        self.live.add(run_id, LiveState("queued", dict(row["progress"]),
                                        Thinner(self.settings.history_max_steps)))
        try:
            await self.executor.submit(run_id, visitor.id, config,
                                       self.settings.max_run_seconds, cost)
        except Exception:
            self.live.remove(run_id)
            self.store.delete_run(run_id)
            raise
        return self.get(run_id, visitor)

    def revive(self, row: dict[str, Any]) -> StoredTail:
        """Make a run a previous server process left active live again, from what is stored;
        how far that goes (its resumed stream replays what is after its stored position)."""
        history, epochs = self.store.history(row["id"]), self.store.epochs(row["id"])
        self.live.add(row["id"], LiveState(
            row["status"], dict(row["progress"] or {}),
            Thinner.resume(self.settings.history_max_steps, history), history, epochs,
            row["diagnosis"]))
        return StoredTail(history["step"][-1] if history["step"] else -1,
                          epochs[-1]["epoch"] if epochs else -1)

    async def stop(self, visitor: Visitor, run_id: str) -> dict[str, Any]:
        """Stop a queued or running run of the visitor's (or any, for the admin)."""
        row = self._managed_row(visitor, run_id)
        live = self.live.get(run_id)
        if live is None or row["status"] not in ACTIVE:
            raise Conflict(f"run '{run_id}' has already ended ({row['status']})")
        reason = ("stopped by its owner" if row["owner"] == visitor.id
                  else "stopped by the admin")
        if is_script_run(row):  # ended here; the script stops fit on its next post's answer
            self.events.end(run_id, "stopped", reason)
        elif not await self.executor.stop(run_id, reason):
            # The executor lost track of it (e.g. its worker just died): settle it here.
            self.events.end(run_id, "stopped", reason)
        return self.get(run_id, visitor)

    def delete(self, visitor: Visitor, run_id: str) -> None:
        """Delete a run that has ended, with its history; its viewers' sockets close (4404)."""
        row = self._managed_row(visitor, run_id)
        if run_id in self.live or row["status"] in ACTIVE:
            raise Conflict(f"run '{run_id}' is still {row['status']}; stop it first")
        self.store.delete_run(run_id)
        self.snapshots.drop(run_id)
        self.hub.close_run(run_id, GONE_CODE, "the run was deleted")

    def _managed_row(self, visitor: Visitor, run_id: str) -> dict[str, Any]:
        row = self.row(run_id)
        if not may_manage(row, visitor):
            raise Forbidden(f"run '{run_id}' is not yours: only its owner or the admin may stop "
                            "or delete it (you may restart it as a run of your own)")
        return row

"""RunService: what happens to a run, from the request that creates it to its final status.

Commands (create, restart, stop, delete) come from the routes; events come from the executor
(see `server.runevents`). A run of this process that has not ended is *live*: its History is kept
in memory and is the snapshot source for its viewers, so a late viewer gets every step recorded
before it subscribed and the hub delivers every step after, with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.errors import Conflict, Forbidden, NotFound, TooMany
from server.executors.base import Executor
from server.hub import Hub
from server.identity import Visitor
from server.ingest import SCRIPT_KEY, ScriptRuns, is_script_run
from server.inputs import parse_object, validate_config
from server.retention import Retention
from server.runevents import RunEvents
from server.settings import Settings
from server.snapshots import SnapshotCache
from server.store import ACTIVE, RunStore
from server.thinning import Thinner
from trainer.contract.config import RunConfig, deep_merge, total_steps
from trainer.contract.protocol import FINAL_STATUSES, GONE_CODE, dumps, empty_history, finished


@dataclass
class LiveRun:
    """What is kept in memory about a run that has not ended."""

    status: str
    progress: dict[str, Any]
    thinner: Thinner
    history: dict[str, list[Any]] = field(default_factory=empty_history)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: dict[str, Any] | None = None


def new_run_id() -> str:
    """A short, unguessable run id (it appears in shareable links)."""
    return secrets.token_hex(6)


class RunService:
    """Creates, stops and deletes runs, applies executor events, and builds Run views."""

    def __init__(self, settings: Settings, store: RunStore, hub: Hub, executor: Executor) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub
        self.executor = executor
        self.live: dict[str, LiveRun] = {}
        self.on_event = RunEvents(self).on_event
        self.retention = Retention(store, hub, settings.keep_runs, settings.keep_days)
        self.snapshots = SnapshotCache(settings.snapshot_cache_bytes)
        self._encoding: dict[str, asyncio.Future[tuple[dict[str, Any] | None, str]]] = {}
        self.scripts = ScriptRuns(self, settings.script_idle_seconds)

    # -- views -----------------------------------------------------------------------------

    def run_json(self, row: dict[str, Any], visitor: Visitor | None) -> dict[str, Any]:
        """A Run (CONTRACT §4) plus `queue_position`; without `owned` when visitor is None."""
        live = self.live.get(row["id"])
        status = live.status if live else row["status"]
        config, script = row["config"], None
        if is_script_run(row):
            config = {k: v for k, v in config.items() if k != SCRIPT_KEY}
            script = row["config"][SCRIPT_KEY]
        run = {
            "id": row["id"], "name": row["name"], "status": status, "config": config,
            "parent_id": row["parent_id"], "created_at": row["created_at"],
            "started_at": row["started_at"], "finished_at": row["finished_at"],
            "layers": row["layers"] or [],
            "progress": dict(live.progress) if live else row["progress"],
            "diagnosis": live.diagnosis if live else row["diagnosis"],
            "error": row["error"],
            "source": "script" if script is not None else "server", "script": script,
            "queue_position": (self.executor.queue_position(row["id"])
                               if status == "queued" else None),
            "owner_label": owner_label(row["owner"]),
            # A script's fit runs on its own machine: the server's wall-time cap is not its.
            "time_limit": None if script is not None else self.settings.max_run_seconds,
        }
        if visitor is not None:
            run["owned"] = may_manage(row, visitor)
        return run

    def row(self, run_id: str) -> dict[str, Any]:
        """A run's stored row, or NotFound."""
        row = self.store.get_run(run_id)
        if row is None:
            raise NotFound(f"there is no run with id '{run_id}'")
        return row

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
        members = self.snapshots.get(run_id)
        if members is not None:
            return None, members
        encoding = self._encoding.get(run_id)
        if encoding is None:
            encoding = self._encode_soon(run_id, lambda: self._encode_stored(run_id))
        return await asyncio.shield(encoding)

    def keep_snapshot_soon(self, run_id: str, history: dict[str, list[Any]],
                           epochs: list[dict[str, Any]]) -> None:
        """Encode a run that just ended, from the History it had in memory, for its next
        viewers (a class opening it at once); the caller must not change them any more."""
        if self.settings.snapshot_cache_bytes and run_id not in self._encoding:
            self._encode_soon(run_id, lambda: (None, _members(history, epochs)))

    def _encode_soon(self, run_id: str, encode: Callable[[], tuple[dict[str, Any] | None, str]]
                     ) -> asyncio.Future[tuple[dict[str, Any] | None, str]]:
        """Run `encode` off the loop, once for everyone asking meanwhile; keep what an ended
        run's encoding gives (a row of None means: encoded as the run ended)."""
        encoding = asyncio.ensure_future(asyncio.to_thread(encode))
        self._encoding[run_id] = encoding

        def done(future: asyncio.Future[tuple[dict[str, Any] | None, str]]) -> None:
            self._encoding.pop(run_id, None)
            if not future.cancelled() and future.exception() is None:
                row, members = future.result()
                if row is None or row["status"] in FINAL_STATUSES:
                    self.snapshots.put(run_id, members)

        encoding.add_done_callback(done)
        return encoding

    def _encode_stored(self, run_id: str) -> tuple[dict[str, Any] | None, str]:
        # The row first: a final status there means every step was flushed before it.
        row, history, epochs = self._read_all(run_id)
        return row, _members(history, epochs)

    async def history(self, run_id: str) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        """A run's row and its recorded History, from memory if live, else from the store."""
        live = self.live.get(run_id)
        if live is not None:
            return self.row(run_id), {k: list(v) for k, v in live.history.items()}
        row, history, _ = await asyncio.to_thread(self._read_all, run_id)
        return row, history

    def _read_all(self, run_id: str) -> tuple[dict[str, Any], dict[str, list[Any]], list[Any]]:
        return self.row(run_id), self.store.history(run_id), self.store.epochs(run_id)

    # -- commands --------------------------------------------------------------------------

    async def create(self, visitor: Visitor, body: bytes) -> dict[str, Any]:
        """Queue a run of the RunConfig in `body`."""
        config = validate_config(parse_object(body), self.settings.max_params)
        return await self._launch(visitor, config, parent_id=None)

    async def restart(self, visitor: Visitor, run_id: str, body: bytes) -> dict[str, Any]:
        """Queue a new run of the caller's: run_id's config with a partial body merged over it."""
        parent = self.row(run_id)
        if is_script_run(parent):
            raise Conflict(f"run '{run_id}' came from a script, which GradWatch cannot run "
                           "again: make the suggested change in your script and run it")
        overrides = parse_object(body)
        config = validate_config(deep_merge(parent["config"], overrides),
                                 self.settings.max_params)
        return await self._launch(visitor, config, parent_id=run_id)

    async def _launch(self, visitor: Visitor, run_config: RunConfig,
                      parent_id: str | None) -> dict[str, Any]:
        self._check_limits(visitor)
        run_id = new_run_id()
        config = run_config.model_dump(mode="json")
        row = {"id": run_id, "owner": visitor.id, "name": run_config.name, "status": "queued",
               "config": config, "parent_id": parent_id, "created_at": time.time(),
               "progress": {"step": 0, "epoch": 0, "total_steps": total_steps(run_config)}}
        self.store.insert_run(row)
        self.live[run_id] = LiveRun("queued", dict(row["progress"]),
                                    Thinner(self.settings.history_max_steps))
        try:
            await self.executor.submit(run_id, visitor.id, config, self.settings.max_run_seconds)
        except Exception:
            self.live.pop(run_id, None)
            self.store.delete_run(run_id)
            raise
        return self.get(run_id, visitor)

    def revive(self, row: dict[str, Any]) -> None:
        """Make a run a previous server process left active live again, from what is stored."""
        history = self.store.history(row["id"])
        self.live[row["id"]] = LiveRun(
            row["status"], dict(row["progress"] or {}),
            Thinner.resume(self.settings.history_max_steps, history), history,
            self.store.epochs(row["id"]), row["diagnosis"])

    def _check_limits(self, visitor: Visitor) -> None:
        limit = self.settings.max_active_per_visitor
        if not visitor.admin and self.store.count_active(visitor.id) >= limit:
            raise TooMany(f"you already have {limit} runs queued or running, the most one "
                          "visitor may have; stop one or wait for one to finish", retry_after=15)
        if self.store.count_queued() >= self.settings.max_queue:
            raise TooMany(f"the queue is full ({self.settings.max_queue} runs waiting); "
                          "try again in a minute", retry_after=60)

    async def stop(self, visitor: Visitor, run_id: str) -> dict[str, Any]:
        """Stop a queued or running run of the visitor's (or any, for the admin)."""
        row = self._managed_row(visitor, run_id)
        live = self.live.get(run_id)
        if live is None or row["status"] not in ACTIVE:
            raise Conflict(f"run '{run_id}' has already ended ({row['status']})")
        reason = ("stopped by its owner" if row["owner"] == visitor.id
                  else "stopped by the admin")
        if is_script_run(row):  # ended here; the script stops fit on its next post's answer
            self.on_event(run_id, finished("stopped", reason))
        elif not await self.executor.stop(run_id, reason):
            # The executor lost track of it (e.g. its worker just died): settle it here.
            self.on_event(run_id, finished("stopped", reason))
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


def _members(history: dict[str, list[Any]], epochs: list[dict[str, Any]]) -> str:
    """The `"history": ..., "epochs": ...` members of a snapshot frame, encoded."""
    return dumps({"history": history, "epochs": epochs})[1:-1]


def owner_label(owner: str) -> str:
    """A short label that tells a class's visitors apart ("visitor 3f9a") without showing
    their id, which signs their cookie's claim."""
    return "visitor " + hashlib.sha256(f"gradwatch-owner:{owner}".encode()).hexdigest()[:4]


def may_manage(row: dict[str, Any], visitor: Visitor) -> bool:
    """Whether the visitor may stop or delete the run."""
    return visitor.admin or row["owner"] == visitor.id

"""A Run as the API and the viewers see it (CONTRACT §4), made from its stored row.

The Run's fields are named once, by `trainer.contract.schemas.Run`; the store keeps those that
are not derived (server/store/rows.py), and a view adds the derived ones: the live status,
progress and diagnosis of a run that has not ended, its place in the queue, where it came from,
and whether the caller may manage it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from server.errors import NotFound
from server.identity import Visitor
from server.liveruns import LiveState
from server.publicerror import public_error
from server.store import RUN_COLUMNS, RunStore

SCRIPT_KEY = "script"  # in a run's config: what the script said about itself; marks the source


def is_script_run(row: dict[str, Any]) -> bool:
    """Whether the run was streamed in by a script (not trained by a worker)."""
    return isinstance(row.get("config"), dict) and SCRIPT_KEY in row["config"]


def stored_row(store: RunStore, run_id: str) -> dict[str, Any]:
    """A run's stored row, or NotFound."""
    row = store.get_run(run_id)
    if row is None:
        raise NotFound(f"there is no run with id '{run_id}'")
    return row


def may_manage(row: dict[str, Any], visitor: Visitor) -> bool:
    """Whether the visitor may stop or delete the run."""
    return visitor.admin or row["owner"] == visitor.id


def owner_label(owner: str) -> str:
    """A short label that tells a class's visitors apart ("visitor 3f9a") without showing
    their id, which signs their cookie's claim."""
    return "visitor " + hashlib.sha256(f"gradwatch-owner:{owner}".encode()).hexdigest()[:4]


def run_view(row: dict[str, Any], live: LiveState | None,
             queue_position: Callable[[str], int | None], visitor: Visitor | None,
             time_limit: float | None = None) -> dict[str, Any]:
    """A Run plus `queue_position` (of a queued run); without `owned` when visitor is None.

    Args:
        row: the run's stored row.
        live: its state in memory, if it has not ended.
        queue_position: the executor's, asked only for a queued run.
        visitor: the caller, or None for a frame every viewer gets.
        time_limit: the server's wall-time cap on its own runs (a script's fit runs on its
            own machine, so it has none here).
    """
    run = {column: row[column] for column in RUN_COLUMNS if column != "owner"}
    config, script = row["config"], None
    if is_script_run(row):
        config = {k: v for k, v in config.items() if k != SCRIPT_KEY}
        script = row["config"][SCRIPT_KEY]
    status = live.status if live else row["status"]
    run.update(
        status=status, config=config, layers=row["layers"] or [],
        progress=dict(live.progress) if live else row["progress"],
        diagnosis=live.diagnosis if live else row["diagnosis"],
        source="script" if script is not None else "server", script=script,
        queue_position=queue_position(row["id"]) if status == "queued" else None,
        owner_label=owner_label(row["owner"]),
        time_limit=None if script is not None else time_limit,
        error=public_error(row["error"]))  # a run stored before errors were made public

    if visitor is not None:
        run["owned"] = may_manage(row, visitor)
    return run

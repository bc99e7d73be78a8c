"""The SQLite schema of the run store, and how a run's row is stored and read back."""

from __future__ import annotations

import json
from typing import Any

from trainer.contract.protocol import dumps

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    config TEXT NOT NULL, parent_id TEXT, created_at REAL NOT NULL, started_at REAL,
    finished_at REAL, layers TEXT, progress TEXT, diagnosis TEXT, error TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
CREATE INDEX IF NOT EXISTS runs_owner_status ON runs (owner, status);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL, epoch INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_positions (
    run_id TEXT PRIMARY KEY, entry_id TEXT NOT NULL
) WITHOUT ROWID;
"""
JSON_COLUMNS = ("config", "layers", "progress", "diagnosis")
RUN_COLUMNS = ("id", "owner", "name", "status", "config", "parent_id", "created_at",
               "started_at", "finished_at", "layers", "progress", "diagnosis", "error")


def encode_column(column: str, value: Any) -> Any:
    """A run column's value as stored (the JSON columns as text)."""
    return dumps(value) if column in JSON_COLUMNS and value is not None else value


def decode_run(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored runs row (RUN_COLUMNS, in order) as a dict with the JSON columns parsed."""
    run = dict(zip(RUN_COLUMNS, row, strict=True))
    for column in JSON_COLUMNS:
        if run[column] is not None:
            run[column] = json.loads(run[column])
    return run

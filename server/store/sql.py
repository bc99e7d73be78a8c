"""Every SQL statement of the run store: the schema, the reads, the writes, the batched writes.

The runs table's columns are RUN_COLUMNS (server/store/rows.py); a test checks the schema
below creates exactly those.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from server.store.rows import ACTIVE, RUN_COLUMNS, encode_column

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

_COLUMNS = ", ".join(RUN_COLUMNS)
IS_ACTIVE = f"status IN ({', '.join(repr(s) for s in ACTIVE)})"  # constants, not user input
ENDED_AT = "COALESCE(finished_at, created_at)"

# -- reads ---------------------------------------------------------------------------------------
GET_RUN = f"SELECT {_COLUMNS} FROM runs WHERE id = ?"
LIST_RUNS = f"SELECT {_COLUMNS} FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?"
ACTIVE_RUNS = f"SELECT {_COLUMNS} FROM runs WHERE {IS_ACTIVE} ORDER BY created_at, rowid"
COUNT_ACTIVE = f"SELECT COUNT(*) FROM runs WHERE {IS_ACTIVE}"
COUNT_ACTIVE_OF = f"{COUNT_ACTIVE} AND owner = ?"
COUNT_QUEUED = "SELECT COUNT(*) FROM runs WHERE status = 'queued'"
ENDED_BEYOND = (f"SELECT id FROM runs WHERE NOT {IS_ACTIVE} "
                f"ORDER BY {ENDED_AT} DESC, rowid DESC LIMIT -1 OFFSET ?")
ENDED_BEFORE = f"SELECT id FROM runs WHERE NOT {IS_ACTIVE} AND {ENDED_AT} < ?"
STREAM_POSITION = "SELECT entry_id FROM stream_positions WHERE run_id = ?"
STEPS = "SELECT data FROM steps WHERE run_id = ? ORDER BY step"
STEPS_PAGE = "SELECT step, data FROM steps WHERE run_id = ? AND step > ? ORDER BY step LIMIT ?"
EPOCHS = "SELECT data FROM epochs WHERE run_id = ? ORDER BY epoch"

# -- immediate writes ----------------------------------------------------------------------------
INSERT_RUN = f"INSERT INTO runs ({_COLUMNS}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})"
FAIL_ACTIVE = f"UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE {IS_ACTIVE}"
DELETE_RUN = ("DELETE FROM steps WHERE run_id = ?", "DELETE FROM epochs WHERE run_id = ?",
              "DELETE FROM stream_positions WHERE run_id = ?", "DELETE FROM runs WHERE id = ?")

# -- buffered writes, by kind --------------------------------------------------------------------
BUFFERED = {
    "steps": "INSERT OR REPLACE INTO steps (run_id, step, data) VALUES (?, ?, ?)",
    "drop": "DELETE FROM steps WHERE run_id = ? AND step = ?",
    "epochs": "INSERT OR REPLACE INTO epochs (run_id, epoch, data) VALUES (?, ?, ?)",
    "position": "INSERT OR REPLACE INTO stream_positions (run_id, entry_id) VALUES (?, ?)",
}


def run_values(run: dict[str, Any]) -> tuple[Any, ...]:
    """INSERT_RUN's parameters for a run given as RUN_COLUMNS (JSON ones as Python values)."""
    return tuple(encode_column(c, run.get(c)) for c in RUN_COLUMNS)


def update_run(run_id: str, fields: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE of some run columns, with its parameters."""
    assert fields and set(fields) <= set(RUN_COLUMNS), fields
    sets = ", ".join(f"{c} = ?" for c in fields)
    values = tuple(encode_column(c, v) for c, v in fields.items())
    return f"UPDATE runs SET {sets} WHERE id = ?", (*values, run_id)


class transaction:
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection, ROLLBACK on error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is None:
            try:
                self.conn.execute("COMMIT")
                return
            except sqlite3.Error:
                self.conn.execute("ROLLBACK")
                raise
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


def write_batch(conn: sqlite3.Connection, pending: list[tuple[str, tuple[Any, ...]]],
                fields: dict[str, dict[str, Any]]) -> None:
    """Apply buffered rows (kind, params) in order, then the latest run fields."""
    # Consecutive rows of one kind go in one executemany; order across kinds is kept so a drop
    # never runs before the insert it undoes.
    start = 0
    for i in range(1, len(pending) + 1):
        if i == len(pending) or pending[i][0] != pending[start][0]:
            conn.executemany(BUFFERED[pending[start][0]], [row for _, row in pending[start:i]])
            start = i
    for run_id, values in fields.items():
        conn.execute(*update_run(run_id, values))


def delete_run(conn: sqlite3.Connection, run_id: str) -> int:
    """Delete a run with its steps, epochs and stream position, in one transaction."""
    with transaction(conn):
        *records, runs = DELETE_RUN
        for statement in records:
            conn.execute(statement, (run_id,))
        return conn.execute(runs, (run_id,)).rowcount

"""Every SQL statement of the run store: the schema, the reads, the writes, the batched writes.

The runs table's columns are RUN_COLUMNS (server/store/rows.py); a test checks the schema
below creates exactly those.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import server.store.chunks as chunks
from server.store.rows import ACTIVE, RUN_COLUMNS, encode_column
from trainer.contract.protocol import loads

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    config TEXT NOT NULL, parent_id TEXT, created_at REAL NOT NULL, started_at REAL,
    finished_at REAL, layers TEXT, progress TEXT, diagnosis TEXT, error TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
CREATE INDEX IF NOT EXISTS runs_owner_status ON runs (owner, status);
CREATE TABLE IF NOT EXISTS step_chunks (
    run_id TEXT NOT NULL, first_step INTEGER NOT NULL, last_step INTEGER NOT NULL,
    count INTEGER NOT NULL, data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS step_chunks_run ON step_chunks (run_id, first_step);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL, epoch INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS diagnoses (
    run_id TEXT NOT NULL, step INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
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
CHUNKS = "SELECT data FROM step_chunks WHERE run_id = ? ORDER BY first_step"
CHUNKS_PAGE = ("SELECT first_step, data FROM step_chunks WHERE run_id = ? AND first_step > ? "
               "ORDER BY first_step LIMIT ?")
CHUNKS_IN_RANGE = ("SELECT data FROM step_chunks WHERE run_id = ? AND first_step <= ? "
                   "AND last_step >= ? ORDER BY first_step")
_CHUNK_KEY = "first_step, last_step, count, data"
CHUNKS_OVERLAPPING = (f"SELECT {_CHUNK_KEY} FROM step_chunks WHERE run_id = ? "
                      "AND first_step <= ? AND last_step >= ?")
LAST_CHUNK = (f"SELECT {_CHUNK_KEY} FROM step_chunks WHERE run_id = ? "
              "ORDER BY first_step DESC LIMIT 1")
EPOCHS = "SELECT data FROM epochs WHERE run_id = ? ORDER BY epoch"
DIAGNOSES = "SELECT step, data FROM diagnoses WHERE run_id = ? ORDER BY step"

# -- immediate writes ----------------------------------------------------------------------------
INSERT_RUN = f"INSERT INTO runs ({_COLUMNS}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})"
FAIL_ACTIVE = f"UPDATE runs SET status = 'failed', error = ?, finished_at = ? WHERE {IS_ACTIVE}"
DELETE_RUN = ("DELETE FROM step_chunks WHERE run_id = ?", "DELETE FROM epochs WHERE run_id = ?",
              "DELETE FROM diagnoses WHERE run_id = ?",
              "DELETE FROM stream_positions WHERE run_id = ?", "DELETE FROM runs WHERE id = ?")

# -- buffered writes, by kind --------------------------------------------------------------------
INSERT_CHUNK = ("INSERT INTO step_chunks (run_id, first_step, last_step, count, data) "
                "VALUES (?, ?, ?, ?, ?)")
DELETE_CHUNK = "DELETE FROM step_chunks WHERE run_id = ? AND first_step = ?"
STEP_KINDS = ("steps", "drop")  # buffered per run, applied to its chunks (write_steps)
BUFFERED = {
    "epochs": "INSERT OR REPLACE INTO epochs (run_id, epoch, data) VALUES (?, ?, ?)",
    "diagnoses": "INSERT OR REPLACE INTO diagnoses (run_id, step, data) VALUES (?, ?, ?)",
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
                fields: dict[str, dict[str, Any]], tails: chunks.Tails) -> bool:
    """Apply buffered rows (kind, params), then the latest run fields; True if steps were
    dropped (their space may be given back)."""
    # Steps and drops are applied per run, in order, so a drop never runs before the insert
    # it undoes; the other kinds are independent rows, consecutive ones in one executemany.
    steps: dict[str, list[tuple[str, Any]]] = {}
    others = []
    for kind, row in pending:
        if kind == "steps":
            steps.setdefault(row[0], []).append(("put", row[1]))
        elif kind == "drop":
            steps.setdefault(row[0], []).append(("drop", row[1]))
        else:
            others.append((kind, row))
    start = 0
    for i in range(1, len(others) + 1):
        if i == len(others) or others[i][0] != others[start][0]:
            conn.executemany(BUFFERED[others[start][0]], [row for _, row in others[start:i]])
            start = i
    for run_id, ops in steps.items():
        write_steps(conn, run_id, ops, tails)
    for run_id, values in fields.items():
        conn.execute(*update_run(run_id, values))
    return any(kind == "drop" for kind, _ in pending)


def write_steps(conn: sqlite3.Connection, run_id: str, ops: list[tuple[str, Any]],
                tails: chunks.Tails) -> None:
    """Apply a run's buffered step writes to its chunks: the chunks they touch (and a last
    chunk not yet full, which new steps fill up) are read, changed and written again. A
    live run's last chunk is taken from `tails` (what this writer last wrote), not decoded."""
    touched = [value["step"] if kind == "put" else value for kind, value in ops]
    lo, hi = min(touched), max(touched)
    rows = conn.execute(CHUNKS_OVERLAPPING, (run_id, hi, lo)).fetchall()
    last = conn.execute(LAST_CHUNK, (run_id,)).fetchone()
    if last is not None and last[1] < lo and last[2] < chunks.CHUNK_STEPS:
        rows.append(last)
    stored = [item for row in rows for item in tails.items(run_id, row[0], row[2], row[3])]
    conn.executemany(DELETE_CHUNK, [(run_id, row[0]) for row in rows])
    parts = chunks.split(chunks.apply(stored, ops))
    conn.executemany(INSERT_CHUNK, [
        (run_id, part[0]["step"], part[-1]["step"], len(part), chunks.encode(part))
        for part in parts])
    if parts and (last is None or parts[-1][-1]["step"] >= last[1]):
        tails.keep(run_id, parts[-1])


def delete_run(conn: sqlite3.Connection, run_id: str) -> int:
    """Delete a run with its steps, epochs, diagnoses and stream position, in one transaction."""
    with transaction(conn):
        *records, runs = DELETE_RUN
        for statement in records:
            conn.execute(statement, (run_id,))
        return conn.execute(runs, (run_id,)).rowcount


# -- opening: the file's settings, and databases of earlier versions ----------------------------
HAS_STEP_ROWS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'steps'"
STEP_ROW_RUNS = "SELECT DISTINCT run_id FROM steps"
STEP_ROWS = "SELECT data FROM steps WHERE run_id = ? ORDER BY step"


def prepare(conn: sqlite3.Connection) -> int:
    """Set up a database file: WAL, incremental auto-vacuum, the schema, and the steps of an
    earlier version (one JSON row per step) moved into chunks; returns how many runs moved."""
    if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect before the first table
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA journal_size_limit=16777216")  # the log shrinks back after a burst
    conn.executescript(SCHEMA)
    moved = _move_step_rows(conn)
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
        # A file made before: auto-vacuum can only be turned on by rewriting it, once.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")
    return moved


def _move_step_rows(conn: sqlite3.Connection) -> int:
    if conn.execute(HAS_STEP_ROWS).fetchone() is None:
        return 0
    with transaction(conn):
        runs = [r[0] for r in conn.execute(STEP_ROW_RUNS).fetchall()]
        for run_id in runs:
            rows = conn.execute(STEP_ROWS, (run_id,))
            while batch := rows.fetchmany(chunks.CHUNK_STEPS):
                items = [loads(r[0]) for r in batch]
                conn.execute(INSERT_CHUNK, (run_id, items[0]["step"], items[-1]["step"],
                                            len(items), chunks.encode(items)))
        conn.execute("DROP TABLE steps")
    return len(runs)


RECLAIM_PAGES = 4096  # pages given back per call: the writer's lock is held meanwhile


def give_back_space(conn: sqlite3.Connection, busy_timeout_ms: int) -> tuple[bool, bool]:
    """Return up to RECLAIM_PAGES free pages to the file system, then empty the write-ahead
    log (which is when the file shrinks) if no reader holds it. Returns (free pages left,
    log not emptied): either means "call again"."""
    conn.execute(f"PRAGMA incremental_vacuum({RECLAIM_PAGES})").fetchall()
    if conn.execute("PRAGMA freelist_count").fetchone()[0] > 0:
        return True, True
    # Not waiting for readers: a later call empties the log if one holds it now.
    conn.execute("PRAGMA busy_timeout=0")
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    return False, bool(busy)

"""SQLite helpers of RunStore: an explicit transaction and the batched statements it writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any


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
                fields: dict[str, dict[str, Any]], encode: Callable[[str, Any], Any]) -> None:
    """Apply buffered rows (kind, params) in order, then the latest run fields."""
    sql = {
        "steps": "INSERT OR REPLACE INTO steps (run_id, step, data) VALUES (?, ?, ?)",
        "drop": "DELETE FROM steps WHERE run_id = ? AND step = ?",
        "epochs": "INSERT OR REPLACE INTO epochs (run_id, epoch, data) VALUES (?, ?, ?)",
        "position": "INSERT OR REPLACE INTO stream_positions (run_id, entry_id) VALUES (?, ?)",
    }
    # Consecutive rows of one kind go in one executemany; order across kinds is kept so a drop
    # never runs before the insert it undoes.
    start = 0
    for i in range(1, len(pending) + 1):
        if i == len(pending) or pending[i][0] != pending[start][0]:
            conn.executemany(sql[pending[start][0]], [row for _, row in pending[start:i]])
            start = i
    for run_id, values in fields.items():
        sets = ", ".join(f"{c} = ?" for c in values)
        params = tuple(encode(c, v) for c, v in values.items())
        conn.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*params, run_id))

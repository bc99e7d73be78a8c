"""What the store raises when SQLite fails."""

from __future__ import annotations

import sqlite3


class StoreError(RuntimeError):
    """The database could not be read or written (disk full, locked, unreadable)."""


def describe(exc: sqlite3.Error) -> StoreError:
    return StoreError(f"the run database could not be written or read: {exc}")

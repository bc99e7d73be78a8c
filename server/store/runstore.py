"""RunStore: every run, its recorded steps and epochs, in one SQLite file (WAL mode).

Run metadata is written at once (a few rows, and a reader must see a new run right away);
steps, epochs and progress arrive many times a second per run, so they are buffered and a writer
thread commits them together every `flush_interval` seconds, or sooner when many are waiting.
Each thread reads through its own connection, so reads never wait for the writer.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import server.store.chunks as chunks
import server.store.sql as sql
from server.store.errors import StoreError, describe
from server.store.reads import RunReads
from server.store.rows import RUN_COLUMNS
from trainer.contract.protocol import dumps

log = logging.getLogger(__name__)

T = TypeVar("T")


class RunStore(RunReads):
    """Runs and their histories in SQLite, with batched writes for the per-step records (the
    reads: `RunReads`)."""

    def __init__(self, path: Path, flush_interval: float = 0.1, flush_items: int = 2000,
                 busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.flush_interval = flush_interval
        self.flush_items = flush_items
        self.busy_timeout_ms = busy_timeout_ms
        self.last_error: str | None = None
        self._lock = threading.Lock()  # guards the write connection and the buffers
        self._pending: list[tuple[str, tuple[Any, ...]]] = []
        self._fields: dict[str, dict[str, Any]] = {}  # run_id -> latest coalesced fields
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._local = threading.local()
        self._writer: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._reclaim = False  # space was freed: give it back at the next flush
        self._tails = chunks.Tails()  # live runs' last chunks, used under the lock only

    # -- life cycle ------------------------------------------------------------------------

    def open(self) -> None:
        """Create the file and tables if needed and start the writer thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = self._connect()
            if moved := sql.prepare(self._writer):
                log.info("run store: moved the steps of %d runs into packed chunks", moved)
        except sqlite3.Error as exc:
            raise describe(exc) from exc
        self._thread = threading.Thread(target=self._flush_loop, name="runstore-writer",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Write what is buffered and close the write connection."""
        self._closed.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.flush()
        for _ in range(10_000):  # the rest of the space to give back (bounded: never hang)
            if not self._reclaim or self._writer is None:
                break
            self.flush()
        with self._lock:
            if self._writer:
                self._writer.close()
                self._writer = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000,
                               isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        # WAL + NORMAL: a commit does not wait for fsync; a power cut may lose the last
        # fraction of a second of steps, never corrupt the file.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    # -- immediate writes ------------------------------------------------------------------

    def _writing(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the write connection, holding the lock; SQLite errors → StoreError."""
        with self._lock:
            if self._writer is None:
                raise StoreError("the run database is closed")
            try:
                return work(self._writer)
            except sqlite3.Error as exc:
                self.last_error = str(exc)
                raise describe(exc) from exc

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        count = self._writing(lambda conn: conn.execute(sql, params).rowcount)
        self.last_error = None  # a write went through: the database takes writes again
        return count

    def insert_run(self, run: dict[str, Any]) -> None:
        """Add a new run; `run` has the RUN_COLUMNS (JSON ones as Python values)."""
        self._write(sql.INSERT_RUN, sql.run_values(run))

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Set some columns of a run now, e.g. status, started_at, layers."""
        self._write(*sql.update_run(run_id, fields))

    def delete_run(self, run_id: str) -> bool:
        """Remove a run with its steps and epochs; False if there was none."""
        self.flush()  # so no buffered step of this run lands after the delete
        deleted = self._writing(lambda conn: sql.delete_run(conn, run_id)) > 0
        self._tails.forget(run_id)
        if deleted:
            self._reclaim = True
            self._wake.set()  # the writer thread gives the space back, off the caller's thread
        return deleted

    def forget_tail(self, run_id: str) -> None:
        """A run has ended and its steps are flushed: drop the writer's copy of its last chunk
        (up to CHUNK_STEPS Step records, kept otherwise until 64 other runs have written)."""
        with self._lock:
            self._tails.forget(run_id)

    def fail_interrupted(self, error: str) -> int:
        """Mark runs a previous process left queued or running as failed; returns how many."""
        return self._write(sql.FAIL_ACTIVE, (error, time.time()))

    # -- buffered writes -------------------------------------------------------------------

    def append_steps(self, run_id: str, items: list[dict[str, Any]]) -> None:
        """Buffer Step records of a run for the next flush."""
        self._buffer("steps", [(run_id, it) for it in items])

    def drop_steps(self, run_id: str, steps: list[int]) -> None:
        """Buffer the removal of thinned steps (applied after the steps buffered before it)."""
        self._buffer("drop", [(run_id, s) for s in steps])

    def append_epoch(self, run_id: str, event: dict[str, Any]) -> None:
        """Buffer an epoch event of a run."""
        self._buffer("epochs", [(run_id, event["epoch"], dumps(event))])

    def append_diagnosis(self, run_id: str, step: int, diagnosis: dict[str, Any]) -> None:
        """Buffer a diagnosis of a run, made when `step` was its last recorded step."""
        self._buffer("diagnoses", [(run_id, step, dumps(diagnosis))])

    def set_stream_position(self, run_id: str, entry_id: str) -> None:
        """Buffer the last stream entry handled for a run; it is written after (or with) the
        records buffered before it, so it never claims events that are not stored."""
        self._buffer("position", [(run_id, entry_id)])

    def set_later(self, run_id: str, **fields: Any) -> None:
        """Buffer frequent run columns (progress, diagnosis); only the latest value is written."""
        assert set(fields) <= set(RUN_COLUMNS), fields  # checked here, written at the flush
        with self._lock:
            self._fields.setdefault(run_id, {}).update(fields)

    def _buffer(self, kind: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self._lock:
            self._pending.extend((kind, row) for row in rows)
            if len(self._pending) >= self.flush_items:
                self._wake.set()

    def _flush_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except StoreError as exc:
                log.error("%s; the buffered records are dropped", exc)

    def flush(self) -> None:
        """Write everything buffered in one transaction now."""

        def write(conn: sqlite3.Connection) -> None:
            pending, self._pending = self._pending, []
            fields, self._fields = self._fields, {}
            if pending or fields:
                try:
                    with sql.transaction(conn):
                        dropped = sql.write_batch(conn, pending, fields, self._tails)
                except BaseException:
                    self._tails = chunks.Tails()  # it may hold what was rolled back
                    raise
                self._reclaim = self._reclaim or dropped
                self.last_error = None
            if self._reclaim:
                pages_left, log_held = sql.give_back_space(conn, self.busy_timeout_ms)
                self._reclaim = pages_left or log_held  # a reader holds the log: next flush
                if pages_left:
                    self._wake.set()  # more to give back: again right away

        if self._writer is not None:
            self._writing(write)

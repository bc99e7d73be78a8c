"""A new server process taking over runs: resumed (workers behind Redis) or failed (local)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from server.app import INTERRUPTED, take_over
from server.executors.base import Executor
from server.executors.replay import ReplayFilter, StoredTail
from server.hub import Hub
from server.service import RunService
from server.settings import Settings
from server.store import RunStore
from tests.test_store import make_run, step


class StubExecutor(Executor):
    """Records what the service asks of it; never runs anything. `deliver` hands a run's
    events on the way a resuming executor does: what was stored already is dropped."""

    kind = "stub"

    def __init__(self, resumes: bool) -> None:
        self.resumes_runs = resumes
        self.resumed: list[tuple[str, str, str, str | None]] = []
        self.replays: dict[str, ReplayFilter] = {}
        self.on_event: Any = None

    async def resume(self, run_id: str, owner: str, status: str, position: str | None,
                     stored: StoredTail) -> None:
        self.resumed.append((run_id, owner, status, position))
        self.replays[run_id] = ReplayFilter(stored, running=status == "running")

    def deliver(self, run_id: str, event: dict[str, Any]) -> None:
        replay = self.replays.setdefault(run_id, ReplayFilter())
        if (new := replay.admit(event)) is not None:
            self.on_event(run_id, new)

    async def start(self, on_event: Any) -> None:
        self.on_event = on_event

    async def submit(self, *args: Any) -> None: ...
    async def stop(self, run_id: str, reason: str = "") -> bool: return False
    def waiting(self) -> list[tuple[str, str]]: return []
    def queue_position(self, run_id: str) -> int | None: return None
    def health(self) -> dict[str, Any]: return {}
    async def close(self) -> None: ...


def service_on(path: Path, resumes: bool) -> RunService:
    store = RunStore(path / "gradwatch.db")
    store.open()
    return RunService(Settings(data_dir=path), store, Hub(), StubExecutor(resumes))


def epoch(i: int) -> dict[str, Any]:
    return {"type": "epoch", "epoch": i, "loss": 0.5, "accuracy": None, "val_loss": None,
            "val_accuracy": None}


def test_a_resumed_run_skips_what_the_stream_replays_and_carries_on(tmp_path: Path) -> None:
    asyncio.run(resume_with_replay(tmp_path))


async def resume_with_replay(tmp_path: Path) -> None:
    first = service_on(tmp_path, resumes=True)
    first.store.insert_run(make_run("r", status="queued"))
    await take_over(first)
    await first.executor.start(first.events.apply)
    emit = first.executor.deliver
    emit("r", {"type": "dispatched", "worker": "w1"})
    emit("r", {"type": "metrics", "items": [step(i) for i in range(10)]})
    emit("r", epoch(0))
    emit("r", {"type": "position", "stream_id": "5-0"})
    emit("r", {"type": "metrics", "items": [step(i) for i in range(10, 12)]})
    started_at = first.store.get_run("r")["started_at"]
    first.store.close()  # flushes: steps 0..11 are stored, the position says 5-0

    second = service_on(tmp_path, resumes=True)
    await take_over(second)
    await second.executor.start(second.events.apply)
    assert second.executor.resumed == [("r", "v1", "running", "5-0")]
    # The stream is read again after 5-0: it replays steps 10 and 11, then goes on.
    emit = second.executor.deliver
    emit("r", {"type": "metrics", "items": [step(i) for i in range(10, 15)]})
    emit("r", epoch(0))
    emit("r", epoch(1))
    emit("r", {"type": "dispatched", "worker": "w1"})
    live = second.live.get("r")  # what viewers' snapshots are made of
    assert live.history["step"] == list(range(15)) and len(live.epochs) == 2
    emit("r", {"type": "finished", "status": "completed", "error": None})
    store = second.store
    assert store.history("r")["step"] == list(range(15))
    assert [e["epoch"] for e in store.epochs("r")] == [0, 1]
    run = store.get_run("r")
    assert run["status"] == "completed" and run["started_at"] == started_at
    assert run["progress"]["step"] == 15
    store.close()


def test_local_runs_left_by_a_previous_process_are_failed(tmp_path: Path) -> None:
    service = service_on(tmp_path, resumes=False)
    service.store.insert_run(make_run("q", status="queued"))
    service.store.insert_run(make_run("c", status="completed"))
    asyncio.run(take_over(service))
    assert service.executor.resumed == [] and not service.live
    assert service.store.get_run("q")["status"] == "failed"
    assert service.store.get_run("q")["error"] == INTERRUPTED
    assert service.store.get_run("c")["status"] == "completed"
    service.store.close()

"""LocalExecutor with real spawned workers (trainer.localworker) training tiny Keras models."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from server.executors.base import Executor
from server.executors.fairqueue import FairQueue, Pending
from server.executors.local import LocalExecutor
from tests.helpers import tiny_run
from trainer.contract.config import RunConfig

LONG = RunConfig.model_validate({"training": {"epochs": 300}}).model_dump()
TINY = RunConfig.model_validate(tiny_run()).model_dump()


class Recorder:
    """The executor's event callback: keeps (run_id, event) pairs and wakes waiters."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Event()

    def __call__(self, run_id: str, event: dict[str, Any]) -> None:
        self.events.append((run_id, event))
        self._changed.set()

    def of(self, run_id: str) -> list[dict[str, Any]]:
        return [e for r, e in self.events if r == run_id]

    async def until(self, check: Callable[[], Any], timeout: float = 60) -> Any:
        async with asyncio.timeout(timeout):
            while not (value := check()):
                self._changed.clear()
                await self._changed.wait()
            return value

    async def finished(self, run_id: str, timeout: float = 60) -> dict[str, Any]:
        return await self.until(lambda: next(
            (e for e in self.of(run_id) if e["type"] == "finished"), None), timeout)

    async def training(self, run_id: str) -> None:
        await self.until(lambda: any(e["type"] == "metrics" for e in self.of(run_id)))


async def ready(executor: LocalExecutor, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while executor.health()["ready"] < 1:
            await asyncio.sleep(0.05)


def run(test: Callable[[LocalExecutor, Recorder], Any], workers: int = 1,
        tf_threads: int | None = None) -> None:
    async def main() -> None:
        executor, recorder = LocalExecutor(workers, tf_threads=tf_threads), Recorder()
        await executor.start(recorder)
        try:
            await test(executor, recorder)
        finally:
            await executor.close()

    asyncio.run(main())


@pytest.mark.slow
def test_a_run_reports_its_events_in_order() -> None:
    async def test(executor: LocalExecutor, rec: Recorder) -> None:
        assert executor.health()["state"] == "starting"
        await executor.submit("r1", "alice", TINY, 60)
        assert executor.queue_position("r1") == 1
        done = await rec.finished("r1")
        assert done == {"type": "finished", "status": "completed", "error": None}
        kinds = [e["type"] for e in rec.of("r1")]
        assert kinds[:2] == ["dispatched", "started"] and kinds[-1] == "finished"
        steps = [it["step"] for e in rec.of("r1") if e["type"] == "metrics" for it in e["items"]]
        assert steps == [0, 1]
        health = executor.health()
        (pid,) = health.pop("pids")
        assert pid == next(iter(executor._workers.values())).process.pid
        assert health == {"kind": "local", "state": "ok", "workers": 1, "ready": 1, "busy": 0,
                          "queued": 0, "tf_threads": [0]}  # 0: TensorFlow's default

    run(test)


async def stop_a_queued_and_a_running_run(executor: Executor, rec: Recorder,
                                          timeout: float) -> float:
    """The stop scenario every executor must pass; returns seconds from stop to `finished`."""
    await executor.submit("long", "alice", LONG, 60)
    await executor.submit("waiting", "bob", TINY, 60)
    await rec.training("long")
    assert executor.queue_position("waiting") == 1
    assert await executor.stop("waiting", "changed my mind")
    assert rec.of("waiting") == [{"type": "finished", "status": "stopped",
                                  "error": "changed my mind"}]
    assert executor.queue_position("waiting") is None
    asked = time.monotonic()
    assert await executor.stop("long", "stopped by its owner")
    done = await rec.finished("long", timeout=timeout)
    took = time.monotonic() - asked
    assert done == {"type": "finished", "status": "stopped", "error": "stopped by its owner"}
    assert not await executor.stop("long")  # it is over: the executor no longer knows it
    return took


@pytest.mark.slow
def test_stop_a_queued_and_a_running_run() -> None:
    async def test(executor: LocalExecutor, rec: Recorder) -> None:
        await ready(executor)
        await stop_a_queued_and_a_running_run(executor, rec, timeout=15)

    run(test)


@pytest.mark.slow
def test_a_dead_worker_fails_its_run_and_is_replaced() -> None:
    async def test(executor: LocalExecutor, rec: Recorder) -> None:
        await executor.submit("doomed", "alice", LONG, 60)
        await rec.training("doomed")
        (worker,) = executor._workers.values()
        os.kill(worker.process.pid, signal.SIGKILL)
        done = await rec.finished("doomed", timeout=5)
        assert done == {"type": "finished", "status": "failed",
                        "error": "the worker process died (exit code -9)"}
        await ready(executor)
        await executor.submit("after", "alice", TINY, 60)
        assert (await rec.finished("after"))["status"] == "completed"

    run(test)


@pytest.mark.slow
def test_wall_time_limit_stops_the_run() -> None:
    async def test(executor: LocalExecutor, rec: Recorder) -> None:
        await executor.submit("slowpoke", "alice", LONG, 1.0)
        done = await rec.finished("slowpoke", timeout=30)
        assert done["status"] == "stopped" and "1" in done["error"]

    run(test)


@pytest.mark.slow
def test_close_fails_a_running_run_before_returning() -> None:
    async def main() -> None:
        executor, rec = LocalExecutor(1), Recorder()
        await executor.start(rec)
        await executor.submit("cut-short", "alice", LONG, 60)
        await rec.training("cut-short")
        (worker,) = executor._workers.values()
        await executor.close()
        assert rec.of("cut-short")[-1] == {"type": "finished", "status": "failed",
                                           "error": "the server shut down during the run"}
        assert worker.process.exitcode is not None

    asyncio.run(main())


def test_queue_order_is_fair_across_visitors() -> None:
    async def test(executor: LocalExecutor, rec: Recorder) -> None:
        for run_id in ("a1", "a2", "a3", "b1", "c1"):
            await executor.submit(run_id, run_id[0], TINY, 60)
        order = {r: executor.queue_position(r) for r in ("a1", "a2", "a3", "b1", "c1")}
        assert order == {"a1": 1, "b1": 2, "c1": 3, "a2": 4, "a3": 5}
        assert executor.health()["queued"] == 5 and executor.health()["state"] == "degraded"

    run(test, workers=0)


def test_visitors_already_training_wait_behind_the_others() -> None:
    queue = FairQueue()
    for run_id in ("a1", "b1", "a2"):
        queue.push(Pending(run_id, run_id[0], {}, 60))
    # a has two runs on workers and b none: b goes first although a1 came first.
    assert [p.run_id for p in queue.order([("a", 1), ("a", 1)])] == ["b1", "a1", "a2"]
    assert queue.pop_next([("a", 1), ("a", 1)]).run_id == "b1"
    assert queue.position("a2", []) == 2 and queue.position("b1", []) is None


def test_a_newcomer_starts_before_a_second_run_whose_first_has_ended() -> None:
    # The classroom benchmark's flood: a's second run, queued first, used to take the worker
    # as soon as a's first run ended, although b's place said 1 while a's run trained.
    queue = FairQueue()
    for run_id in ("a1", "a2", "a3"):
        queue.push(Pending(run_id, "a", {}, 60))
    assert queue.pop_next([]).run_id == "a1"
    queue.push(Pending("b1", "b", {}, 60))
    assert queue.position("b1", [("a", 1)]) == 1
    assert queue.pop_next([]).run_id == "b1"  # a1 has ended, nobody trains
    assert queue.pop_next([("b", 1)]).run_id == "a2"
    # A visitor with nothing waiting and nothing training starts afresh.
    queue.remove("a3")
    queue.push(Pending("c1", "c", {}, 60))
    queue.push(Pending("a4", "a", {}, 60))
    assert [p.run_id for p in queue.order([("b", 1)])] == ["c1", "a4"]  # c1 came first
    assert [p.run_id for p in queue.order([("b", 1), ("a", 1)])] == ["c1", "a4"]
    queue.remove("c1")
    queue.push(Pending("c2", "c", {}, 60))
    assert [p.run_id for p in queue.order([])] == ["a4", "c2"]


def test_costly_runs_under_many_cookies_wait_behind_a_classs_cheap_runs() -> None:
    # The classroom benchmark's flood: 10 cookies, each with a run of 10^11 multiply-adds
    # queued first; then students' preset runs (10^8). By count every cookie's first run went
    # ahead of every student's; by cost the students' runs go first, and the flood's second
    # run waits behind the students' third.
    flood, preset = 10**11, 10**8
    queue = FairQueue()
    for i in range(8):  # cookies 8 and 9 got the two workers first (`running`)
        queue.push(Pending(f"f{i}", f"flood{i}", {}, 600, cost=flood))
    queue.push(Pending("f0b", "flood0", {}, 600, cost=flood))
    for student in ("s", "t"):
        for n in range(3):
            queue.push(Pending(f"{student}{n}", student, {}, 60, cost=preset))
    running = [("flood8", flood), ("flood9", flood)]
    order = [p.run_id for p in queue.order(running)]
    assert order[:6] == ["s0", "t0", "s1", "t1", "s2", "t2"]
    assert order[6:] == [f"f{i}" for i in range(8)] + ["f0b"]
    assert queue.position("s0", running) == 1 and queue.position("f0", running) == 7
    # A visitor whose run started while the others waited has used their share: s1, older,
    # goes after t0.
    assert queue.pop_next(running).run_id == "s0"
    assert [p.run_id for p in queue.order(running)][:3] == ["t0", "s1", "t1"]


def test_the_local_executor_weighs_a_run_by_the_cost_it_is_given() -> None:
    async def main() -> None:
        executor = LocalExecutor(1)  # not started: no worker, so the runs stay queued
        await executor.submit("costly", "alice", TINY, 60, cost=100)
        await executor.submit("cheap", "bob", TINY, 60, cost=1)
        await executor.submit("unweighed", "carol", TINY, 60)  # cost 1 when not given
        # By count alice's run (the oldest) would go first; by cost both cheap ones do.
        assert [executor.queue_position(r) for r in ("cheap", "unweighed", "costly")] == [1, 2, 3]

    asyncio.run(main())


@pytest.mark.slow
def test_the_thread_setting_reaches_the_workers_tensorflow() -> None:
    async def test(executor: LocalExecutor, rec: Recorder) -> None:
        await ready(executor)
        # Reported by the worker from TensorFlow's own configuration, once it is warm.
        assert executor.health()["tf_threads"] == [1]
        await executor.submit("r1", "alice", TINY, 60)
        assert (await rec.finished("r1"))["status"] == "completed"

    run(test, tf_threads=1)

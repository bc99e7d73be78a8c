"""RedisExecutor with a real redis-server and real `python -m trainer.worker` processes."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from server.executors.base import ExecutorUnavailable
from server.executors.redis import RedisExecutor
from server.executors.rqjobs import COSTLY, fairness_level
from tests.redis_helpers import RedisServer, Workers
from tests.test_local_executor import LONG, TINY, Recorder, stop_a_queued_and_a_running_run
from trainer.contract.config import RunConfig, total_steps
from trainer.contract.redisnames import HEARTBEAT_TTL, QUEUE_NAMES, encode_event, events_key

pytestmark = pytest.mark.redis
SMALL = RunConfig.model_validate({"dataset": {"n_samples": 128},
                                  "training": {"epochs": 2, "batch_size": 16}}).model_dump()


def run(url: str, test: Callable[[RedisExecutor, Recorder], Any]) -> None:
    async def main() -> None:
        executor, recorder = RedisExecutor(url), Recorder()
        await executor.start(recorder)
        try:
            await until(lambda: executor.health()["redis"] == "ok", 10)
            await test(executor, recorder)
        finally:
            await executor.close()

    asyncio.run(main())


async def until(check: Callable[[], Any], timeout: float) -> Any:
    async with asyncio.timeout(timeout):
        while not (value := check()):
            await asyncio.sleep(0.05)
        return value


async def signal_mid_run(executor: RedisExecutor, rec: Recorder, worker: Any, run_id: str,
                         signum: int) -> float:
    """Start a long run, send its worker `signum` once it trains; when the signal went."""
    await executor.submit(run_id, "alice", LONG, 60)
    await rec.training(run_id)
    worker.send_signal(signum)
    return time.monotonic()


def steps(rec: Recorder, run_id: str) -> list[int]:
    return [it["step"] for e in rec.of(run_id) if e["type"] == "metrics" for it in e["items"]]


@pytest.mark.slow
def test_two_workers_share_runs_and_each_stream_arrives_whole_and_in_order(
        redis_server: RedisServer, workers: Workers) -> None:
    url = redis_server.url(1)
    workers.start(url, 2)
    runs = {"a1": "alice", "a2": "alice", "b1": "bob", "b2": "bob"}

    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        await until(lambda: executor.health()["workers"] == 2, 10)
        for run_id, owner in runs.items():
            await executor.submit(run_id, owner, SMALL, 60)
        for run_id in runs:
            assert (await rec.finished(run_id, timeout=120))["status"] == "completed"
        dispatched = {}
        for run_id in runs:
            events = [e for e in rec.of(run_id) if e["type"] != "position"]
            assert [e["type"] for e in events[:2]] == ["dispatched", "started"]
            assert events[-1] == {"type": "finished", "status": "completed", "error": None}
            assert steps(rec, run_id) == list(range(total_steps(RunConfig(**SMALL))))
            assert [e["epoch"] for e in events if e["type"] == "epoch"] == [0, 1]
            dispatched[run_id] = events[0]
        assert len({e["worker"] for e in dispatched.values()}) == 2, dispatched
        async with asyncio.timeout(5):  # once stored, a finished run's stream is dropped
            while await executor.r.exists(*(events_key(r) for r in runs)):
                await asyncio.sleep(0.05)
        await until(lambda: executor.health()["busy"] == 0, 10)  # RQ's registry, polled

    run(url, test)


@pytest.mark.slow
def test_stop_reaches_a_running_run_within_a_step_and_drops_a_queued_one(
        redis_server: RedisServer, workers: Workers) -> None:
    url = redis_server.url(2)
    workers.start(url, 1)

    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        took = await stop_a_queued_and_a_running_run(executor, rec, timeout=10)
        assert took < 3  # polled every 0.1 s, checked after every step
        await executor.submit("after", "alice", TINY, 60)
        assert (await rec.finished("after", timeout=60))["status"] == "completed"

    run(url, test)


@pytest.mark.slow
def test_a_worker_killed_mid_run_fails_its_run_within_a_bounded_time(
        redis_server: RedisServer, workers: Workers) -> None:
    url = redis_server.url(3)
    (worker,) = workers.start(url, 1)

    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        killed = await signal_mid_run(executor, rec, worker, "doomed", signal.SIGKILL)
        done = await rec.finished("doomed", timeout=HEARTBEAT_TTL + 15)
        waited = time.monotonic() - killed
        assert done["status"] == "failed" and "stopped sending heartbeats" in done["error"]
        assert waited < HEARTBEAT_TTL + 5, waited
        # And RQ's registry forgets the dead worker, so health no longer counts it.
        await until(lambda: executor.health()["workers"] == 0, 20)
        assert executor.health()["state"] == "degraded"

    run(url, test)


@pytest.mark.slow
def test_a_worker_told_to_shut_down_stops_its_run_within_a_step_and_exits(
        redis_server: RedisServer, workers: Workers) -> None:
    url = redis_server.url(6)
    (worker,) = workers.start(url, 1)

    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        # SIGTERM is what `docker compose stop` or scaling down sends.
        await signal_mid_run(executor, rec, worker, "cut", signal.SIGTERM)
        done = await rec.finished("cut", timeout=10)
        assert done == {"type": "finished", "status": "stopped",
                        "error": "the worker training it was shut down"}
        assert await asyncio.to_thread(worker.wait, 15) == 0
        await until(lambda: executor.health()["workers"] == 0, 5)

    run(url, test)


@pytest.mark.slow
def test_a_run_trains_on_through_a_short_redis_outage(own_redis: RedisServer,
                                                      workers: Workers) -> None:
    url = own_redis.url()
    workers.start(url, 1)
    config = RunConfig.model_validate({"dataset": {"n_samples": 256},
                                       "training": {"epochs": 8, "batch_size": 1}}).model_dump()

    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        await executor.submit("brave", "alice", config, 60)
        await rec.training("brave")
        own_redis.stop()  # and its data with it: no persistence here
        await asyncio.sleep(2)
        own_redis.start()
        done = await rec.finished("brave", timeout=60)
        assert done["status"] == "completed"  # the worker kept the events and sent them later
        got = steps(rec, "brave")
        assert got == sorted(set(got)) and got[-1] == total_steps(RunConfig(**config)) - 1
        # The worker registers again with the Redis that lost its entry.
        await until(lambda: executor.health()["workers"] == 1, 10)

    run(url, test)


def test_queue_positions_are_fair_across_visitors(redis_server: RedisServer) -> None:
    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        for run_id in ("a1", "a2", "a3", "b1", "c1"):
            await executor.submit(run_id, run_id[0], TINY, 60)
        order = {r: executor.queue_position(r) for r in ("a1", "a2", "a3", "b1", "c1")}
        assert order == {"a1": 1, "b1": 2, "c1": 3, "a2": 4, "a3": 5}
        assert await executor.stop("b1")
        assert rec.of("b1")[-1]["status"] == "stopped"
        await until(lambda: executor.queue_position("c1") == 2, 5)  # from RQ's queues again
        health = executor.health()
        assert (health["state"], health["workers"], health["queued"]) == ("degraded", 0, 4)

    run(redis_server.url(4), test)


def test_a_costly_run_waits_behind_other_visitors_cheap_runs(redis_server: RedisServer) -> None:
    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        await executor.submit("flood", "f", TINY, 60, cost=5 * 10**10)  # two queues back
        await executor.submit("a1", "a", TINY, 60, cost=10**8)
        await executor.submit("a2", "a", TINY, 60, cost=10**8)
        await executor.submit("b1", "b", TINY, 60, cost=10**8)
        await until(lambda: executor.queue_position("flood") == 4, 5)
        assert [executor.queue_position(r) for r in ("a1", "b1", "a2")] == [1, 2, 3]

    run(redis_server.url(10), test)


def test_the_fairness_level_adds_a_queue_per_factor_of_ten_past_costly() -> None:
    assert [fairness_level(0, c) for c in (1, COSTLY, COSTLY + 1, 10 * COSTLY,
                                            10 * COSTLY + 1, 100 * COSTLY)] == [0, 0, 1, 1, 2, 2]
    assert fairness_level(1, 1) == 1 and fairness_level(2, 10**12) == len(QUEUE_NAMES) - 1


def test_redis_down_refuses_runs_quickly_and_recovers(own_redis: RedisServer) -> None:
    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        own_redis.stop()
        asked = time.monotonic()
        with pytest.raises(ExecutorUnavailable, match="Redis"):
            await executor.submit("r1", "alice", TINY, 60)
        assert time.monotonic() - asked < 3
        health = await until(lambda: (h := executor.health())["redis"] != "ok" and h, 5)
        assert health["state"] == "degraded" and "Redis at redis://127.0.0.1" in health["error"]
        own_redis.start()
        await until(lambda: executor.health()["redis"] == "ok", 10)
        await executor.submit("r2", "alice", TINY, 60)
        assert executor.queue_position("r2") == 1

    run(own_redis.url(), test)


def test_a_batch_a_worker_sent_twice_is_handed_on_once(redis_server: RedisServer) -> None:
    # A worker whose XADD reply timed out sends the batch again: the stream then holds it
    # twice, and the executor must still hand each step on exactly once.
    import redis

    url = redis_server.url(9)

    async def test(executor: RedisExecutor, rec: Recorder) -> None:
        await executor.submit("twice", "alice", SMALL, 60)  # no worker: it stays queued
        conn = redis.Redis.from_url(url)
        batch = {"type": "metrics", "items": [{"step": 0, "loss": 1.0}, {"step": 1, "loss": 0.9}]}
        later = {"type": "metrics", "items": [{"step": 1, "loss": 0.9}, {"step": 2, "loss": 0.8}]}
        for event in (batch, batch, later, {"type": "finished", "status": "completed",
                                           "error": None}):
            conn.xadd(events_key("twice"), encode_event(event))
        await rec.finished("twice", timeout=10)
        assert steps(rec, "twice") == [0, 1, 2]

    run(url, test)

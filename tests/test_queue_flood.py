"""A script that floods the queue under many cookies cannot shut a classmate out (issue 12, B1).

The attack: one script joined 34 times with fresh cookies and queued 100 runs (the queue's
limit) of 4×1024 units at batch size 1, each a worker's full 600 s; the next student got
`429 … the queue is full`. Here the same flood, scaled to a queue of 12, from one address (as a
class behind one NAT address is), with no worker so that everything stays queued.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.helpers import client, run_server, tiny_run
from trainer.contract.config import RunConfig
from trainer.contract.cost import DEFAULT_MAX_RUN_COST, run_cost
from trainer.contract.presets import PRESETS
from trainer.contract.redisnames import QUEUE_NAMES

QUEUE = 12
PER_VISITOR = 3
# The flood's runs: 4×1024 units, batch size 1, 50,000 samples for 500 epochs (20 M steps).
FLOOD_RUN = {"dataset": {"n_samples": 50_000}, "model": {"depth": 4, "width": 1024},
             "training": {"epochs": 500, "batch_size": 1}}


def flood(url: str, stack: ExitStack, cookies: int) -> list[tuple[httpx.Client, list[str]]]:
    """`cookies` fresh visitors, each queueing PER_VISITOR tiny runs while there is room."""
    flooders = []
    for _ in range(cookies):
        http = stack.enter_context(client(url))
        ids = []
        for _ in range(PER_VISITOR):
            answer = http.post("/api/runs", json=tiny_run())
            if answer.status_code != 201:
                break
            ids.append(answer.json()["id"])
        flooders.append((http, ids))
    return flooders


def positions(http: httpx.Client) -> dict[str, int]:
    return {r["id"]: r["queue_position"] for r in http.get("/api/runs").json()
            if r["status"] == "queued"}


def check_newcomer_gets_in_ahead_of_the_surplus(url: str) -> None:
    with ExitStack() as stack:
        flooders = flood(url, stack, cookies=QUEUE // PER_VISITOR)
        assert sum(len(ids) for _, ids in flooders) == QUEUE  # the queue is full
        late = stack.enter_context(client(url))  # one more cookie of the flooder's
        assert late.post("/api/runs", json=tiny_run()).status_code == 201
        again = late.post("/api/runs", json=tiny_run())  # it has a run waiting: no more
        assert again.status_code == 429 and "queue is full" in again.json()["detail"]

        newcomer = stack.enter_context(client(url))
        answer = newcomer.post("/api/runs", json=tiny_run())
        assert answer.status_code == 201, answer.text
        mine = answer.json()["id"]

        # Each arrival took the place of the newest run of a flooder with the most waiting.
        stopped = [r for r in newcomer.get("/api/runs").json() if r["status"] == "stopped"]
        assert len(stopped) == 2
        assert all("make room for a classmate's first run" in r["error"] for r in stopped)
        assert {r["id"] for r in stopped} == {flooders[-1][1][-1], flooders[-2][1][-1]}

        # The newcomer's run starts before every flooder's second or third run.
        place = positions(newcomer)
        surplus = [rid for _, ids in flooders for rid in ids[1:] if rid in place]
        assert surplus and all(place[mine] < place[rid] for rid in surplus), place
        assert place[mine] <= len(flooders) + 2


def test_a_cookie_flood_cannot_shut_out_a_newcomer(tmp_path: Path) -> None:
    with run_server(tmp_path, GRADWATCH_WORKERS="0", GRADWATCH_MAX_QUEUE=str(QUEUE),
                    GRADWATCH_MAX_ACTIVE_PER_VISITOR=str(PER_VISITOR)) as url:
        check_newcomer_gets_in_ahead_of_the_surplus(url)


@pytest.mark.redis
def test_a_cookie_flood_cannot_shut_out_a_newcomer_with_redis(redis_server: object,
                                                               tmp_path: Path) -> None:
    with run_server(tmp_path, GRADWATCH_EXECUTOR="redis",
                    GRADWATCH_REDIS_URL=redis_server.url(7), GRADWATCH_MAX_QUEUE=str(QUEUE),
                    GRADWATCH_MAX_ACTIVE_PER_VISITOR=str(PER_VISITOR)) as url:
        assert len(QUEUE_NAMES) >= PER_VISITOR
        check_newcomer_gets_in_ahead_of_the_surplus(url)


# A run within the cost limit but about 50 seed runs' work (7.3e9 multiply-adds).
COSTLY_RUN = {"model": {"depth": 4, "width": 256}, "training": {"epochs": 40}}


def check_a_cheap_run_goes_ahead_of_an_earlier_costly_one(url: str) -> None:
    with client(url) as costly, client(url) as cheap:
        first = costly.post("/api/runs", json=COSTLY_RUN)
        assert first.status_code == 201, first.text
        second = cheap.post("/api/runs", json=tiny_run())
        assert second.status_code == 201, second.text
        place = positions(cheap)
        # By count the older run would go first: the server handed each run's cost on.
        assert place[second.json()["id"]] < place[first.json()["id"]], place
        for http, answer in ((costly, first), (cheap, second)):
            http.post(f"/api/runs/{answer.json()['id']}/stop")


def test_the_queue_weighs_each_run_by_the_cost_the_server_estimated(url: str) -> None:
    check_a_cheap_run_goes_ahead_of_an_earlier_costly_one(url)


@pytest.mark.redis
def test_the_redis_queue_weighs_each_run_by_its_cost_too(redis_server: object,
                                                        tmp_path: Path) -> None:
    with run_server(tmp_path, GRADWATCH_EXECUTOR="redis",
                    GRADWATCH_REDIS_URL=redis_server.url(8)) as url:
        check_a_cheap_run_goes_ahead_of_an_earlier_costly_one(url)


@pytest.fixture(scope="module")
def url(workerless_server: str) -> str:
    return workerless_server


def test_a_run_costlier_than_the_limit_is_422_with_the_estimate_and_the_limit(url: str) -> None:
    with client(url) as http:
        answer = http.post("/api/runs", json=FLOOD_RUN)
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["detail"]
        assert error["path"] == "training"
        assert "6.7e13 multiply-adds" in error["msg"] and "limit of 1e11" in error["msg"]
        # The same through a restart of a run that is within the limit.
        rid = http.post("/api/runs", json=tiny_run()).json()["id"]
        restarted = http.post(f"/api/runs/{rid}/restart", json=FLOOD_RUN)
        assert restarted.status_code == 422 and "multiply-adds" in restarted.text
        http.post(f"/api/runs/{rid}/stop")


def test_the_cost_limit_is_a_setting(tmp_path: Path) -> None:
    with run_server(tmp_path, GRADWATCH_WORKERS="0", GRADWATCH_MAX_RUN_COST="1000000") as base, \
            client(base) as http:
        answer = http.post("/api/runs", json={"training": {"epochs": 1}})
        assert answer.status_code == 422 and "limit of 1e6" in answer.text


def test_every_preset_is_within_the_default_cost() -> None:
    costs = {p["id"]: run_cost(RunConfig.model_validate(p["config"])) for p in PRESETS}
    assert max(costs.values()) < DEFAULT_MAX_RUN_COST / 2, costs

"""`WS /ws/runs/{id}` against a real server training real (tiny) Keras models."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.helpers import (
    client,
    frames_until_final,
    open_ws,
    steps_of,
    strict_loads,
    tiny_run,
    wait_for,
)


def final_status(frames: list[dict]) -> dict:
    statuses = [f for f in frames if f["type"] == "status"]
    assert statuses, [f["type"] for f in frames]
    return statuses[-1]


@pytest.mark.slow
def test_default_run_streams_every_step_with_two_grad_norms(live_server: str) -> None:
    with client(live_server) as http:
        run = http.post("/api/runs", json={}).json()

        async def watch() -> list[dict]:
            async with open_ws(live_server, run["id"], http) as ws:
                return await frames_until_final(ws)

        frames = asyncio.run(watch())
    assert frames[0]["type"] == "snapshot" and frames[0]["run"]["id"] == run["id"]
    assert frames[0]["run"]["owned"] is True
    assert final_status(frames) == {"type": "status", "status": "completed", "error": None}
    n = run["progress"]["total_steps"]
    assert n == 500  # the seed's example: 800 training samples / 32, 20 epochs
    assert steps_of(frames) == list(range(n))
    items = [it for f in frames if f["type"] == "metrics" for it in f["items"]]
    assert all(len(it["grad_norms"]) == 2 and all(g > 0 for g in it["grad_norms"])
               for it in items)
    epochs = [f["epoch"] for f in frames if f["type"] == "epoch"]
    assert epochs == list(range(20))
    layer_frames = [f["run"]["layers"] for f in frames if f["type"] == "run"]
    assert any(len(layers) == 2 for layers in layer_frames)
    assert all("owned" not in f["run"] for f in frames if f["type"] == "run")


@pytest.mark.slow
def test_a_viewer_joining_mid_run_gets_every_earlier_step_once(live_server: str) -> None:
    with client(live_server) as alice, client(live_server) as bob:
        run = alice.post("/api/runs", json={"training": {"epochs": 30}}).json()
        n = run["progress"]["total_steps"]
        late: list[list[dict]] = []

        async def join_late() -> None:
            async with open_ws(live_server, run["id"], bob) as ws:
                late.append(await frames_until_final(ws))

        async def watch() -> list[dict]:
            joined: list[asyncio.Task] = []
            seen = 0

            async def maybe_join(frame: dict) -> None:
                nonlocal seen
                seen += len(frame["items"]) if frame["type"] == "metrics" else 0
                if not joined and seen >= 100:
                    joined.append(asyncio.create_task(join_late()))

            async with open_ws(live_server, run["id"], alice) as ws:
                first = await frames_until_final(ws, on_frame=maybe_join)
            await asyncio.wait_for(joined[0], 60)
            return first

        early = asyncio.run(watch())
    snapshot = late[0][0]
    assert snapshot["type"] == "snapshot" and snapshot["run"]["owned"] is False
    assert 100 <= len(snapshot["history"]["step"]) < n  # it really joined mid-run
    assert snapshot["history"]["step"] == list(range(len(snapshot["history"]["step"])))
    assert steps_of(late[0]) == list(range(n))  # no gap, no duplicate
    assert steps_of(early) == list(range(n))
    assert final_status(late[0])["status"] == "completed"


@pytest.mark.slow
def test_stop_ends_the_run_stopped(live_server: str) -> None:
    with client(live_server) as http:
        run = http.post("/api/runs", json={"training": {"epochs": 200}}).json()

        async def watch() -> list[dict]:
            async def stop_once_training(frame: dict) -> None:
                if frame["type"] == "metrics" and not stopped:
                    stopped.append(http.post(f"/api/runs/{run['id']}/stop").status_code)

            stopped: list[int] = []
            async with open_ws(live_server, run["id"], http) as ws:
                frames = await frames_until_final(ws, timeout=60, on_frame=stop_once_training)
            assert stopped == [202]
            return frames

        frames = asyncio.run(watch())
        assert final_status(frames) == {"type": "status", "status": "stopped",
                                         "error": "stopped by its owner"}
        stored = http.get(f"/api/runs/{run['id']}").json()
        assert stored["status"] == "stopped" and stored["finished_at"] is not None
        assert 0 < len(steps_of(frames)) < run["progress"]["total_steps"]


def test_missing_run_closes_4404(live_server: str) -> None:
    async def watch() -> int:
        async with open_ws(live_server, "no-such-run") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert asyncio.run(watch()) == 4404


@pytest.mark.slow
def test_finished_run_snapshot_comes_from_the_store_and_delete_closes_viewers(
        live_server: str) -> None:
    with client(live_server) as http:
        run = http.post("/api/runs", json=tiny_run(epochs=2)).json()

        async def watch_to_end() -> None:
            async with open_ws(live_server, run["id"], http) as ws:
                await frames_until_final(ws)

        async def view_then_delete() -> tuple[dict, int]:
            async with open_ws(live_server, run["id"], http) as ws:
                snapshot = strict_loads(await asyncio.wait_for(ws.recv(), 10))
                assert http.delete(f"/api/runs/{run['id']}").status_code == 204
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
                return snapshot, closed.value.rcvd.code

        asyncio.run(watch_to_end())
        snapshot, code = asyncio.run(view_then_delete())
    assert snapshot["run"]["status"] == "completed"
    assert snapshot["history"]["step"] == [0, 1, 2, 3]  # 2 epochs of 2 steps
    assert [e["epoch"] for e in snapshot["epochs"]] == [0, 1]
    assert code == 4404


@pytest.mark.slow
def test_an_ended_runs_snapshot_is_encoded_once_and_each_viewer_gets_their_own_run(
        live_server: str) -> None:
    with client(live_server) as alice, client(live_server) as bob:
        run = alice.post("/api/runs", json=tiny_run(epochs=3)).json()

        async def snapshot(http) -> dict:
            async with open_ws(live_server, run["id"], http) as ws:
                first = strict_loads(await asyncio.wait_for(ws.recv(), 10))
                if first["run"]["status"] in ("queued", "running"):
                    await frames_until_final(ws)
                return first

        asyncio.run(snapshot(alice))  # watch it to the end
        before = alice.get("/api/health").json()["snapshot_cache"]
        mine, theirs, again = (asyncio.run(snapshot(http)) for http in (alice, bob, alice))
        after = alice.get("/api/health").json()["snapshot_cache"]
        stored = alice.get(f"/api/runs/{run['id']}/metrics").json()  # read from SQLite
        assert alice.delete(f"/api/runs/{run['id']}").status_code == 204

        async def gone() -> int:
            with pytest.raises(ConnectionClosed) as closed:
                async with open_ws(live_server, run["id"], bob) as ws:
                    await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

        code = asyncio.run(gone())
    assert mine["run"]["owned"] is True and theirs["run"]["owned"] is False
    # Kept encoded from the run's in-memory History as it ended: the same as what was stored.
    assert mine["history"] == theirs["history"] == again["history"] == stored
    assert mine["history"]["step"] == list(range(6)) and len(mine["epochs"]) == 3
    assert mine["epochs"] == theirs["epochs"] and mine["run"] == again["run"]
    assert after["hits"] - before["hits"] >= 2 and after["runs"] >= 1
    assert code == 4404


def test_sockets_per_visitor_are_limited(server_factory) -> None:
    url = server_factory(WORKERS="0", MAX_SOCKETS_PER_VISITOR="2")
    with client(url) as http, client(url) as other:
        rid = http.post("/api/runs", json=tiny_run()).json()["id"]

        async def open_three() -> tuple[list[dict], int, dict]:
            async with open_ws(url, rid, http) as a, open_ws(url, rid, http) as b:
                snapshots = [strict_loads(await asyncio.wait_for(ws.recv(), 10))
                             for ws in (a, b)]
                with pytest.raises(InvalidStatus) as refused:
                    async with open_ws(url, rid, http):
                        pass
                async with open_ws(url, rid, other) as c:  # another visitor is not counted
                    theirs = strict_loads(await asyncio.wait_for(c.recv(), 10))
                return snapshots, refused.value.response.status_code, theirs

        snapshots, status, theirs = asyncio.run(open_three())
        assert status == 429
        assert all(s["run"]["status"] == "queued" for s in snapshots + [theirs])
        assert snapshots[0]["run"]["queue_position"] == 1
        http.post(f"/api/runs/{rid}/stop")


@pytest.mark.slow
def test_a_queued_viewer_sees_its_run_start_when_the_worker_frees_up(live_server: str) -> None:
    with client(live_server) as alice, client(live_server) as bob:
        first = alice.post("/api/runs", json={"training": {"epochs": 200}}).json()
        wait_for(lambda: alice.get(f"/api/runs/{first['id']}").json()["status"] == "running")
        second = bob.post("/api/runs", json=tiny_run()).json()

        async def watch() -> list[dict]:
            async with open_ws(live_server, second["id"], bob) as ws:
                snapshot = strict_loads(await asyncio.wait_for(ws.recv(), 10))
                assert snapshot["run"]["status"] == "queued"
                assert snapshot["run"]["queue_position"] == 1
                assert alice.post(f"/api/runs/{first['id']}/stop").status_code == 202
                return [snapshot, *await frames_until_final(ws)]

        frames = asyncio.run(watch())
    statuses = [f["status"] for f in frames if f["type"] == "status"]
    assert statuses == ["running", "completed"]
    assert steps_of(frames) == [0, 1]
    run_frames = [f["run"] for f in frames if f["type"] == "run"]
    assert run_frames[-1]["status"] == "completed" and run_frames[-1]["queue_position"] is None


def test_frames_are_not_compressed_once_per_viewer(live_server: str) -> None:
    # permessage-deflate would compress every frame again for each viewer (see
    # docs/performance.md); the client offers it, the server declines.
    with client(live_server) as http:
        run = http.post("/api/runs", json=tiny_run()).json()

        async def handshake() -> None:
            async with open_ws(live_server, run["id"], http) as ws:
                assert "Sec-WebSocket-Extensions" in ws.request.headers
                assert "Sec-WebSocket-Extensions" not in ws.response.headers
                await frames_until_final(ws)

        asyncio.run(handshake())

"""Hub: encode once, send to many; a slow viewer is merged, then evicted, others unaffected."""

from __future__ import annotations

import asyncio
import json

from server.hub import Hub
from trainer.contract.protocol import EVICTED_CODE, GONE_CODE, metrics


def step(i: int) -> dict:
    return {"step": i, "epoch": 0, "loss": float("nan") if i == 1 else 0.5, "grad_norms": [1.0]}


def drain(sub) -> list[str]:
    out = []
    while sub.pending():
        out.append(asyncio.run(sub.get()))
    return out


def test_frame_is_encoded_once_and_shared() -> None:
    hub = Hub()
    a, b = hub.subscribe("r"), hub.subscribe("r")
    other = hub.subscribe("elsewhere")
    text = hub.publish("r", metrics([step(0), step(1)]))
    got_a, got_b = drain(a), drain(b)
    assert got_a == [text] and got_a[0] is got_b[0]  # the very same string object
    assert json.loads(text)["items"][1]["loss"] is None  # strict JSON: NaN -> null
    assert other.pending() == 0
    assert hub.publish("nobody-watches", metrics([step(0)])) is None


def test_slow_subscriber_gets_merged_metrics_and_no_step_is_lost() -> None:
    hub = Hub(max_frames=4)
    slow, fast = hub.subscribe("r"), hub.subscribe("r")
    received_fast = []
    for i in range(50):
        hub.publish("r", metrics([step(i)]))
        received_fast += drain(fast)
    hub.publish("r", {"type": "status", "status": "completed", "error": None})
    frames = [json.loads(t) for t in drain(slow)]
    assert len(frames) <= 5
    steps = [it["step"] for f in frames if f["type"] == "metrics" for it in f["items"]]
    assert steps == list(range(50))
    assert frames[-1] == {"type": "status", "status": "completed", "error": None}
    assert len(received_fast) == 50  # the fast one got every frame as it came


def test_newer_run_frame_replaces_a_waiting_one() -> None:
    hub = Hub(max_frames=2)
    sub = hub.subscribe("r")
    hub.publish("r", {"type": "epoch", "epoch": 0})
    for i in range(5):
        hub.publish("r", {"type": "run", "run": {"progress": i}})
    frames = [json.loads(t) for t in drain(sub)]
    assert [f["type"] for f in frames] == ["epoch", "run"]
    assert frames[-1]["run"]["progress"] == 4


def test_subscriber_past_its_byte_budget_is_evicted_alone() -> None:
    hub = Hub(max_frames=2, max_bytes=10_000)
    stuck, healthy = hub.subscribe("r"), hub.subscribe("r")
    for i in range(500):
        hub.publish("r", metrics([step(i)]))
        drain(healthy)
    assert stuck.close_code == EVICTED_CODE
    assert asyncio.run(stuck.get()) is None
    assert healthy.close_code is None and hub.watched("r")
    hub.publish("r", metrics([step(500)]))
    assert json.loads(drain(healthy)[0])["items"][0]["step"] == 500


def test_close_run_ends_every_subscriber() -> None:
    hub = Hub()
    sub = hub.subscribe("r")

    async def wait_then_close() -> str | None:
        getter = asyncio.create_task(sub.get())
        await asyncio.sleep(0.01)
        hub.close_run("r")
        return await asyncio.wait_for(getter, 1)

    assert asyncio.run(wait_then_close()) is None
    assert sub.close_code == GONE_CODE and not hub.watched("r")


def test_a_sender_behind_by_several_metrics_frames_sends_them_as_one() -> None:
    hub = Hub()
    sub = hub.subscribe("r")
    for i in range(3):
        hub.publish("r", metrics([step(i)]))
    hub.publish("r", {"type": "epoch", "epoch": 0})
    hub.publish("r", metrics([step(3)]))
    frames = [json.loads(t) for t in drain(sub)]
    assert [f["type"] for f in frames] == ["metrics", "epoch", "metrics"]  # order kept
    assert [it["step"] for it in frames[0]["items"]] == [0, 1, 2]
    assert [it["step"] for it in frames[2]["items"]] == [3]


def test_counts_show_one_encode_per_frame_and_one_copy_per_viewer() -> None:
    hub = Hub()
    subs = [hub.subscribe("r") for _ in range(3)]
    hub.publish("r", metrics([step(0)]))
    hub.publish("r", metrics([step(1)]))
    for sub in subs:
        drain(sub)
    # Two frames encoded once each, six copies queued, and each viewer's two waiting
    # metrics frames went out in one send.
    assert hub.counts == {"encoded": 2, "queued": 6, "sent": 3}

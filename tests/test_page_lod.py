"""A long run's link in a real Chromium (issue 18): the page asks for the history at the detail it
shows, not the whole run, and still shows every layer's maximum of the whole run; a metric it
did not have and a zoomed range are fetched when chosen, the range exact."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from benchmarks.synthetic import write_run
from server.store import RunStore
from tests.helpers import run_server
from tests.pagekit import trace, wait_heatmap_rows

pytest_plugins = ("tests.pagefixtures",)
pytestmark = pytest.mark.browser

STEPS, LAYERS, SPIKE = 5000, 11, 3217


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server without workers holding one completed run of 5,000 recorded steps × 11 layers
    with a ×1000 spike of every layer's gradient at one step (benchmarks/synthetic.py)."""
    folder = tmp_path_factory.mktemp("long")
    store = RunStore(folder / "gradwatch.db")
    store.open()
    write_run(store, "long", STEPS, LAYERS, seed=3, spike=SPIKE)
    store.close()
    with run_server(folder, GRADWATCH_WORKERS="0") as url:
        yield url


class Traffic:
    """What the page pulls: its run sockets' addresses and frames, and its /history answers."""

    def __init__(self, page) -> None:
        self.sockets: list[str] = []
        self.frames: list[str] = []
        self.responses: list[Any] = []
        self.read: list[tuple[str, bytes]] = []
        page.on("websocket", self._socket)
        page.on("response", self._response)

    def _socket(self, ws) -> None:
        self.sockets.append(ws.url)
        ws.on("framereceived", lambda payload: self.frames.append(payload))

    def _response(self, response) -> None:
        if "/history" in response.url:
            self.responses.append(response)

    @property
    def history(self) -> list[tuple[str, bytes]]:
        """The /history answers so far: address and body (each read once: Chromium forgets
        a body when the page navigates)."""
        self.read.extend((r.url, r.body()) for r in self.responses[len(self.read):])
        return list(self.read)

    def snapshot(self) -> dict[str, Any]:
        return next(json.loads(f) for f in self.frames if '"type":"snapshot"' in f[:40])


def log_max(full: dict[str, Any], field: str) -> list[float]:
    """Per layer, log10 of the whole run's largest value, as the page encodes it (float32)."""
    return [float(np.float32(math.log10(v))) for v in np.max(full[field], axis=0)]


def row_max(figure: dict[str, Any]) -> list[float]:
    return [max(v for v in row if v is not None) for row in figure["z"]]


def test_a_long_runs_link_pulls_what_it_shows_and_keeps_every_layers_maximum(page, context):
    traffic = Traffic(page)
    full_answer = context.request.get("/api/runs/long/metrics?format=json")
    full, full_bytes = full_answer.json(), len(full_answer.body())
    assert len(full["step"]) == STEPS

    page.goto("/#run=long")
    wait_heatmap_rows(page, "heatmap", LAYERS)
    [url] = traffic.sockets
    assert url.endswith("/ws/runs/long?buckets=625&metrics=grad_norms")
    snapshot = traffic.snapshot()
    frame_bytes = len(next(f for f in traffic.frames if '"type":"snapshot"' in f[:40]))
    assert len(snapshot["history"]["step"]) == 200 and sum(snapshot["summary"]["count"]) == 4800
    # Bounded by the columns shown: less than 825 of the download's steps would weigh.
    assert frame_bytes < full_bytes * 825 / STEPS, (frame_bytes, full_bytes)
    assert traffic.history == []  # the whole run is shown at the snapshot's detail

    figure = trace(page)
    assert len(figure["z"][0]) <= 800
    assert row_max(figure) == pytest.approx(log_max(full, "grad_norms"), rel=1e-6, abs=1e-6)
    assert all(v is not None for row in figure["z"] for v in row), "no grey gap between buckets"

    # A metric the snapshot did not summarize: fetched, as buckets, when chosen.
    page.select_option("#metric", "weight_norms")
    page.wait_for_function("() => location.hash.includes('metric=weight_norms')")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=heatmap]').data[0].z[0].length > 100")
    [(asked, body)] = traffic.history
    assert "first=0&last=4799&buckets=625&metrics=weight_norms" in asked
    assert len(body) < full_bytes * 625 / STEPS
    assert row_max(trace(page)) == pytest.approx(log_max(full, "weight_norms"), rel=1e-6,
                                                 abs=1e-6)

    # A zoomed range (a shared link's zoom) comes exact: the spike in its own column.
    page.goto(f"/#run=long&zoom={SPIKE - 20}_{SPIKE + 20}")
    page.reload()
    wait_heatmap_rows(page, "heatmap", LAYERS)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=heatmap]').data[0].dx === 1")
    asked, body = traffic.history[-1]
    query = dict(part.split("=") for part in asked.split("?")[1].split("&"))
    assert int(query["first"]) <= SPIKE - 20 and SPIKE + 20 <= int(query["last"]) < SPIKE + 40
    answer = json.loads(body)
    assert "history" in answer and SPIKE in answer["history"]["step"]  # exact steps
    figure = trace(page)
    column = round((SPIKE - figure["x0"]) / figure["dx"])
    exact = [float(np.float32(math.log10(v))) for v in full["grad_norms"][SPIKE]]
    assert [row[column] for row in figure["z"]] == pytest.approx(exact, rel=1e-6, abs=1e-6)

    # Replay to a step (a shared link's step=N) asks for the steps up to it the same way.
    page.goto("/#run=long&step=400")
    page.reload()
    wait_heatmap_rows(page, "heatmap", LAYERS)
    page.wait_for_function("() => document.querySelector('[data-testid=heatmap]').data[0].dx === 1")
    asked, body = traffic.history[-1]
    assert "first=0&" in asked and "history" in json.loads(body)
    figure = trace(page)
    assert figure["x0"] == 0 and len(figure["z"][0]) == 401
    assert row_max(figure) == pytest.approx(
        [float(np.float32(math.log10(v))) for v in np.max(full["grad_norms"][:401], axis=0)],
        rel=1e-6, abs=1e-6)

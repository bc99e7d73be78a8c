"""Downloads (GET /api/runs/{id}/metrics): streamed, complete, byte-identical, off the loop."""

from __future__ import annotations

import shutil
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from benchmarks.synthetic import write_run
from server.export import history_csv, history_json, memory_pages, widths_of
from server.store import RunStore
from tests.helpers import client, run_server

FIXTURES = Path(__file__).parent / "fixtures"
# Runs of a database written by the code before streaming (tests/fixtures/store-v1.db), with
# their downloads as that code wrote them: a real MLP run with clipping, a real RNN run, a
# script's ragged run with nulls and non-finite figures, and a thinned run.
RUNS = ("mlp", "rnn", "ragged", "thinned")


@pytest.mark.parametrize("run_id", RUNS)
def test_streamed_downloads_are_byte_identical_to_the_whole_ones(v1_store: RunStore,
                                                                 run_id: str) -> None:
    layers = v1_store.get_run(run_id)["layers"]

    def pages(fields: tuple[str, ...]):
        return v1_store.history_pages(run_id, fields, page=7)  # many pages, a short last one

    assert "".join(history_json(pages)) == (FIXTURES / f"store-v1-{run_id}.json").read_text()
    assert "".join(history_csv(pages, layers)) == (FIXTURES / f"store-v1-{run_id}.csv").read_text()
    widths = v1_store.history_widths(run_id)  # read from the chunks' headers
    assert widths == widths_of(pages)
    assert "".join(history_csv(pages, layers, lambda: widths)) == \
        (FIXTURES / f"store-v1-{run_id}.csv").read_text()
    history = v1_store.history(run_id)  # a live run's copy is sliced the same way
    assert "".join(history_csv(memory_pages(history, 5), layers)) == \
        (FIXTURES / f"store-v1-{run_id}.csv").read_text()


def test_an_empty_history_downloads_as_before() -> None:
    pages = memory_pages({f: [] for f in ("step", "epoch", "loss", "t", "grad_norms",
                                          "clipped_grad_norms", "weight_norms", "update_ratios",
                                          "output_grad_norms", "dead_fractions",
                                          "time_grad_norms")})
    assert "".join(history_csv(pages, [{"name": "d"}])) == "step,epoch,loss,t\n"
    assert "".join(history_json(pages)).startswith('{"step":[],"epoch":[]')


def test_downloads_over_http_are_the_same_bytes(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "store-v1.db", tmp_path / "gradwatch.db")
    with run_server(tmp_path, GRADWATCH_WORKERS="0") as url, client(url) as http:
        for run_id in RUNS:
            answer = http.get(f"/api/runs/{run_id}/metrics", params={"format": "csv"})
            assert answer.headers["content-type"].startswith("text/csv")
            assert answer.text == (FIXTURES / f"store-v1-{run_id}.csv").read_text()
            answer = http.get(f"/api/runs/{run_id}/metrics")
            assert answer.headers["content-type"] == "application/json"
            assert answer.text == (FIXTURES / f"store-v1-{run_id}.json").read_text()
        assert http.get("/api/runs/nope/metrics").status_code == 404
        assert http.get("/api/runs/nope/metrics", params={"format": "csv"}).status_code == 404
        assert http.get("/api/runs/mlp/metrics", params={"format": "xml"}).status_code == 422


def _export(url: str, run_id: str, fmt: str, sizes: list[int]) -> None:
    with httpx.stream("GET", f"{url}/api/runs/{run_id}/metrics", params={"format": fmt},
                      timeout=300, trust_env=False) as answer:
        sizes.append(sum(len(chunk) for chunk in answer.iter_bytes()))


@pytest.mark.slow
def test_four_exports_of_a_long_run_leave_other_requests_fast(tmp_path: Path) -> None:
    # Issue 12 B3: a 19,843-step 17-layer run; four exports took /api/presets to 6 s.
    store = RunStore(tmp_path / "gradwatch.db")
    store.open()
    write_run(store, "long", 20000, 17)
    store.close()
    with run_server(tmp_path, GRADWATCH_WORKERS="0") as url, client(url) as http:
        http.get("/api/presets")
        sizes: list[int] = []
        exports = [threading.Thread(target=_export, args=(url, "long", fmt, sizes))
                   for fmt in ("csv", "csv", "csv", "json")]
        for t in exports:
            t.start()
        latencies = []
        while any(t.is_alive() for t in exports):
            start = time.perf_counter()
            assert http.get("/api/presets").status_code == 200
            latencies.append(time.perf_counter() - start)
            time.sleep(0.01)
        for t in exports:
            t.join()
    assert len(sizes) == 4 and min(sizes) > 10_000_000  # they did stream the whole run
    assert len(latencies) >= 20, "the exports ended before they could be measured"
    p95 = statistics.quantiles(latencies, n=20)[-1]
    assert p95 < 0.1, f"/api/presets p95 {p95 * 1000:.0f} ms while 4 exports stream"

"""Heatmap update time in Chromium at 64 layers × 20,000 steps, against a full Plotly.newPlot.

The page's own modules (frontend/series.js, heatmap.js, bands.js) run in Debian's
Chromium, served by the real server (so a module it generates is served as the page gets
it; a file server of the benchmark's own once missed one and the suite broke unseen);
synthetic Step records go straight into a RunSeries, as the websocket's metrics frames
would. One update is what the page does per (coalesced) frame: append a frame of new steps,
then redraw the heatmap from the decimated grid with Plotly.react. The baseline is what a
page without decimation would do per frame: Plotly.newPlot of the same heatmap at full
resolution (64 × 20,000 cells).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.helpers import server_process

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
LAYERS = 64
STEPS = 20_000
FRAME_STEPS = 10   # steps per metrics frame (a worker flushes about every 50 ms)
UPDATES = 40       # timed updates; the last one brings the run to exactly STEPS steps
BASELINE_ROUNDS = 5
TARGET_MS = 50
# The small size `make test` runs (tests/test_benchmarks.py): module constants overridden.
SMOKE = {"LAYERS": 8, "STEPS": 2000, "UPDATES": 5, "BASELINE_ROUNDS": 1}

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="/static/plotly.min.js"></script></head>
<body><figure style="position: relative; margin: 0">
<div id="heatmap" style="width: 900px; height: 420px"></div></figure></body></html>"""

# Runs in the page: fill a RunSeries, then time updates and the baseline.
SCRIPT = """async ([layers, steps, frameSteps, updates, rounds]) => {
  const { RunSeries } = await import('/static/series.js');
  const { Heatmap } = await import('/static/heatmap.js');
  const { sharedRange } = await import('/static/colours.js');
  const { bands } = await import('/static/bands.js');
  const { rowLabels } = await import('/static/metrics.js');
  // Gradients that shrink towards the input side, with noise and a one-step spike.
  const spikeStep = Math.floor(steps * 0.6);
  const spikeLayer = Math.min(7, layers - 1);
  const step = (i) => ({ step: i, epoch: Math.floor(i / 1000), loss: 0.7, t: i / 200,
    grad_norms: Array.from({ length: layers }, (_, l) =>
      (i === spikeStep && l === spikeLayer) ? 1e6
        : 10 ** (-6 + 6 * l / layers + Math.sin(i / 97 + l) * 0.3)) });
  const frame = (from) => Array.from({ length: frameSteps }, (_, k) => step(from + k));
  const series = new RunSeries();
  const start = steps - updates * frameSteps;
  let t0 = performance.now();
  for (let i = 0; i < start; i += 500) {
    series.append(Array.from({ length: 500 }, (_, k) => step(i + k)));
  }
  const fillMs = performance.now() - t0;
  const element = document.getElementById('heatmap');
  const heatmap = new Heatmap(element);
  const layers_ = Array.from({ length: layers }, (_, l) => ({ name: `dense_${l + 1}` }));
  const draw = () => {
    const store = series.store('grad_norms');
    return heatmap.draw({ store, field: 'grad_norms', layers: layers_, scale: 'viridis',
      labels: rowLabels('grad_norms', layers_, store.rows), zrange: sharedRange([store.range()]),
      bands: bands('grad_norms', store) });
  };
  t0 = performance.now();
  await draw();
  const firstMs = performance.now() - t0;
  const times = [];
  for (let u = 0; u < updates; u += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    t0 = performance.now();
    series.append(frame(start + u * frameSteps));
    await draw();
    times.push(performance.now() - t0);
  }
  const grid = heatmap.grid;
  const shown = { columns: grid.columns, bucket: grid.bucket,
    stored: series.store('grad_norms').length, spike: Math.max(...grid.z[spikeLayer]) };
  // One more frame past the cap: the store merges its columns and the grid is rebuilt.
  t0 = performance.now();
  series.append(frame(steps));
  await draw();
  const mergeMs = performance.now() - t0;
  // The baseline: a new figure with every one of the cells, as a page without decimation.
  const store = series.store('grad_norms');
  const full = { z: [], x: [] };
  for (let c = 0; c < steps; c += 1) full.x.push(c);
  for (let l = 0; l < layers; l += 1) full.z.push(Array.from({ length: steps }, (_, c) =>
    Math.log10(step(c).grad_norms[l])));
  const baseline = [];
  for (let r = 0; r < rounds; r += 1) {
    Plotly.purge(element);
    await new Promise((resolve) => setTimeout(resolve, 20));
    t0 = performance.now();
    await Plotly.newPlot(element, [{ type: 'heatmap', z: full.z, x: full.x,
      y: rowLabels('grad_norms', layers_, layers), colorscale: 'Viridis', zmin: -7, zmax: 6,
      hoverinfo: 'none' }], { margin: { l: 10, r: 10, t: 10, b: 44 } });
    baseline.push(performance.now() - t0);
  }
  return { fillMs, firstMs, times, mergeMs, baseline, shown, storedAfterMerge: store.length };
}"""


@contextlib.contextmanager
def _page_server() -> Iterator[str]:
    """The real server (no workers), so the page's modules are served exactly as the page gets
    them, generated ones (/static/contract.js) included; the bench page itself is handed to
    the browser by Playwright (`_serve_bench_page`)."""
    with tempfile.TemporaryDirectory(prefix="gradwatch-bench-") as folder, \
            server_process(Path(folder), GRADWATCH_WORKERS="0") as (url, _):
        yield url


def _serve_bench_page(route: Any) -> None:
    route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)


def measure() -> dict[str, Any]:
    """Update and baseline times at LAYERS × STEPS, in milliseconds."""
    from playwright.sync_api import sync_playwright

    with _page_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route(f"{url}/bench", _serve_bench_page)
            page.goto(f"{url}/bench")
            result = page.evaluate(SCRIPT, [LAYERS, STEPS, FRAME_STEPS, UPDATES, BASELINE_ROUNDS])
            if errors:
                raise RuntimeError(f"the benchmark page failed: {errors}")
        finally:
            browser.close()
    return result


def run() -> list[dict[str, Any]]:
    """The heatmap_browser figures: one JSON-able dict per line of `make bench`."""
    if not os.path.exists(CHROMIUM):
        return [{"bench": "heatmap_browser", "skipped": "Chromium not found at " + CHROMIUM}]
    r = measure()
    times = sorted(r["times"])
    update = statistics.median(times)
    baseline = statistics.median(r["baseline"])
    return [{
        "bench": "heatmap_browser", "layers": LAYERS, "steps": STEPS,
        "steps_per_frame": FRAME_STEPS, "updates": len(times),
        "update_ms": round(update, 1), "update_p90_ms": round(times[int(0.9 * len(times))], 1),
        "update_max_ms": round(times[-1], 1),
        "baseline_newplot_full_ms": round(baseline, 1), "ratio": round(update / baseline, 3),
        "target_ms": TARGET_MS,
        "first_draw_ms": round(r["firstMs"], 1), "merge_update_ms": round(r["mergeMs"], 1),
        "columns_drawn": r["shown"]["columns"], "steps_per_column": r["shown"]["bucket"],
        "spike_kept": r["shown"]["spike"] >= 5.9,
    }]

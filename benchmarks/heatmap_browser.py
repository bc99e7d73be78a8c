"""Heatmap update time in Chromium at 64 layers × 20,000 steps, against a full Plotly.newPlot.

The page's own modules (frontend/series.js, heatmap.js, bands.js) run in Debian's
Chromium, served from frontend/ by a small static server; synthetic Step records go straight
into a RunSeries, as the websocket's metrics frames would. One update is what the page does
per (coalesced) frame: append a frame of new steps, then redraw the heatmap from the
decimated grid with Plotly.react. The baseline is what a page without decimation would do per
frame: Plotly.newPlot of the same heatmap at full resolution (64 × 20,000 cells).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import os
import statistics
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.contract import pagecontract

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
LAYERS = 64
STEPS = 20_000
FRAME_STEPS = 10   # steps per metrics frame (a worker flushes about every 50 ms)
UPDATES = 40       # timed updates; the last one brings the run to exactly STEPS steps
BASELINE_ROUNDS = 5
TARGET_MS = 50

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
  const step = (i) => ({ step: i, epoch: Math.floor(i / 1000), loss: 0.7, t: i / 200,
    grad_norms: Array.from({ length: layers }, (_, l) =>
      (i === 12345 && l === 7) ? 1e6 : 10 ** (-6 + 6 * l / layers + Math.sin(i / 97 + l) * 0.3)) });
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
    stored: series.store('grad_norms').length, spike: Math.max(...grid.z[7]) };
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


class _Handler(http.server.SimpleHTTPRequestHandler):
    plotly: Path

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path in ("/", "/bench", "/static/contract.js"):
            # The page's contract.js is generated, as the server does (server/routes/pages.py).
            page = self.path != "/static/contract.js"
            body = (PAGE if page else pagecontract.render()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8" if page
                             else "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/static/plotly.min.js":
            self.path = "/__plotly__"
        elif self.path.startswith("/static/"):
            self.path = self.path.removeprefix("/static")
        super().do_GET()

    def translate_path(self, path: str) -> str:
        if path == "/__plotly__":
            return str(self.plotly)
        return super().translate_path(path)

    def log_message(self, *args: Any) -> None:
        pass


def _plotly_js() -> Path:
    spec = importlib.util.find_spec("plotly")
    assert spec and spec.submodule_search_locations, "plotly is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


@contextlib.contextmanager
def _static_server() -> Iterator[str]:
    handler = functools.partial(type("Handler", (_Handler,), {"plotly": _plotly_js()}),
                                directory=str(FRONTEND))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def measure() -> dict[str, Any]:
    """Update and baseline times at LAYERS × STEPS, in milliseconds."""
    from playwright.sync_api import sync_playwright

    with _static_server() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
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

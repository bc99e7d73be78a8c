"""A run's link opened in Chromium: how long until its heatmap is drawn, of which the part from
the page opening the run's socket (the history's share: the rest is the page's own start, the
same for every run), and how many bytes the page pulls for the run's history (its socket's
frames and its /history answers).

Used by the long_runs suite (issue 18). The browser is warmed first on the page without a run
(its modules and Plotly cached), then the link is opened in a fresh tab, `ROUNDS` times; the
median is reported.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from tests.pagekit import CHROMIUM, CHROMIUM_ARGS, wait_js

ROUNDS = 3
TIMEOUT_MS = 300_000
DRAWN = ("rows => { const d = document.querySelector('[data-testid=heatmap]');"
         " const z = d && d.data && d.data[0] && d.data[0].z;"
         " return Boolean(z && z.length === rows && z[0].length > 0); }")


def _open(context: Any, url: str, run_id: str, layers: int) -> tuple[float, float, int]:
    page = context.new_page()
    pulled: list[Any] = []
    opened: list[float] = []

    def socket(ws: Any) -> None:
        opened.append(time.perf_counter())
        ws.on("framereceived", lambda p: pulled.append(len(p)))

    page.on("websocket", socket)
    page.on("response", lambda r: pulled.append(r) if "/history" in r.url else None)
    start = time.perf_counter()
    page.goto(f"{url}/#run={run_id}")
    wait_js(page, DRAWN, layers, timeout=TIMEOUT_MS)
    drawn = time.perf_counter()
    time.sleep(0.5)  # a fetch the drawn heatmap starts is the page's too
    size = sum(p if isinstance(p, int) else len(p.body()) for p in pulled)
    page.close()
    return drawn - start, drawn - opened[0], size


def link_to_heatmap(url: str, run_id: str, layers: int) -> dict[str, Any]:
    """`link_to_heatmap_s` and `socket_to_heatmap_s` (medians of ROUNDS) and
    `page_pulled_bytes`; None without Chromium."""
    if not os.path.exists(CHROMIUM):
        return {"link_to_heatmap_s": None, "socket_to_heatmap_s": None,
                "page_pulled_bytes": None}
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            warm = context.new_page()
            warm.goto(f"{url}/")
            warm.wait_for_load_state("networkidle")
            warm.close()
            rounds = [_open(context, url, run_id, layers) for _ in range(ROUNDS)]
        finally:
            browser.close()
    return {"link_to_heatmap_s": round(statistics.median(r[0] for r in rounds), 3),
            "socket_to_heatmap_s": round(statistics.median(r[1] for r in rounds), 3),
            "page_pulled_bytes": max(r[2] for r in rounds)}

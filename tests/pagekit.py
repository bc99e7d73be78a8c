"""What the browser tests of the page share: helpers that read the page's plots and drive the
real server's API. The fixtures are in tests/pagefixtures.py."""

from __future__ import annotations

import functools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
RUN_TIMEOUT_MS = 120_000
FINAL = ("completed", "stopped", "failed", "diverged")
# axe-core, pinned in package.json and installed by `npm ci` (tests only; the page never loads it).
AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"


class Console:
    """Collects the page's console errors and uncaught exceptions; `csp` holds those that
    report something the Content-Security-Policy refused (the page fixture fails on any).
    It also gives the page a `wait_for_function` that the page's CSP cannot refuse (wait_js)."""

    def __init__(self, page):
        page.wait_for_function = functools.partial(wait_js, page)
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    @property
    def csp(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]


DEFAULT_WAIT_MS = 20_000


def wait_js(page, expression: str, arg: Any = None, timeout: float | None = None,
            polling: Any = None) -> Any:
    """Playwright's `wait_for_function`, polled from Python: evaluates `expression` (an
    expression, or a function of `arg`) every 50 ms until it is truthy and returns its value.

    Playwright's own polling re-runs the predicate from a requestAnimationFrame callback in the
    page, where Chromium applies the page's `script-src 'self'` and refuses the predicate as
    eval ("EvalError ... 'unsafe-eval'"); each `page.evaluate` is a DevTools call, which the
    policy does not govern. An exception (a plot not drawn yet, a page reloading) counts as
    "not yet"; at the timeout the last one is raised."""
    deadline = time.monotonic() + (DEFAULT_WAIT_MS if timeout is None else timeout) / 1000
    while True:
        error: Exception | None = None
        try:
            value = page.evaluate(expression, arg)
            if value:
                return value
        except Exception as e:  # noqa: BLE001 — retried until the deadline
            error = e
        if time.monotonic() > deadline:
            if error is not None:
                raise error
            raise TimeoutError(f"wait_js: not true within {timeout} ms: {expression}")
        time.sleep(0.05)


def field(page, path: str):
    """A form field by its RunConfig path, e.g. "model.depth"."""
    return page.locator(f'[data-testid="run-form"] [name="{path}"]')


def wait_form(page) -> None:
    """The form is built once /api/schema has answered."""
    field(page, "remedies.activation").wait_for(state="attached")


def trace(page, testid: str = "heatmap") -> dict[str, Any] | None:
    """The heatmap trace of a plot: z, x0, dx, y, zmin, zmax, colorscale, colour-bar ticks."""
    return page.evaluate(
        "id => { const d = document.querySelector(`[data-testid=${id}]`);"
        " const t = d && d.data && d.data[0]; if (!t) return null;"
        " return {z: t.z.map(r => Array.from(r, v => Number.isFinite(v) ? v : null)),"
        " x0: t.x0, dx: t.dx, y: t.y, zmin: t.zmin, zmax: t.zmax, colorscale: t.colorscale,"
        " title: t.colorbar.title.text, ticks: t.colorbar.ticktext,"
        " shapes: (d.layout.shapes || []).map(s => s.name)}; }", testid)


def wait_heatmap_rows(page, testid: str, rows: int) -> None:
    page.wait_for_function(
        "([id, rows]) => { const d = document.querySelector(`[data-testid=${id}]`);"
        " const z = d && d.data && d.data[0] && d.data[0].z;"
        " return Boolean(z && z.length === rows && z[0].length > 0); }",
        arg=[testid, rows], timeout=RUN_TIMEOUT_MS)


def loss_steps(page) -> list[int]:
    """The steps of the watched run's loss line (every step while the run is short)."""
    return page.evaluate("document.getElementById('loss-chart').data[0].x")


def wait_status(page, prefix: str) -> None:
    page.wait_for_function(
        "p => document.querySelector('[data-testid=run-status]').textContent.startsWith(p)",
        arg=prefix, timeout=RUN_TIMEOUT_MS)


def hash_state(page) -> dict[str, str]:
    """The URL hash as a dict (run, compare, metric, ..., f.<path>)."""
    text = page.evaluate("location.hash").lstrip("#")
    return dict(pair.split("=", 1) for pair in text.split("&") if "=" in pair)


def create_run(context, config: dict) -> dict:
    response = context.request.post("/api/runs", data=json.dumps(config),
                                    headers={"Content-Type": "application/json"})
    assert response.status == 201, response.text()
    return response.json()


def restart_run(context, run_id: str, overrides: dict) -> dict:
    response = context.request.post(f"/api/runs/{run_id}/restart", data=json.dumps(overrides),
                                    headers={"Content-Type": "application/json"})
    assert response.status == 201, response.text()
    return response.json()


def wait_run(context, run_id: str, statuses=FINAL, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = context.request.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not reach {statuses} within {timeout} s")


def recorded_steps(context, run_id: str) -> list[int]:
    return context.request.get(f"/api/runs/{run_id}/metrics?format=json").json()["step"]


def no_errors(page, allowed: str | None = None) -> list[str]:
    """The console errors, less those matching `allowed` (e.g. a 422 Chromium logs itself)."""
    return [e for e in page.console.errors if not (allowed and re.search(allowed, e))]


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each
    ("rule (impact): target ..."). Skips without node_modules/ (`npm ci`), fails under CI."""
    import pytest

    if not AXE.is_file():
        message = f"{AXE} is missing: run npm ci (package.json pins axe-core)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # From a URL of the page's own origin: the page's CSP refuses inline scripts, which is
        # what add_script_tag(path=...) would add.
        page.route("**/__axe.min.js", lambda route: route.fulfill(
            path=str(AXE), content_type="text/javascript"))
        page.add_script_tag(url="/__axe.min.js")
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)")
    return found

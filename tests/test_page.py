"""The dashboard page in a real Chromium against the real server, with real Keras training.

Uses the `live_server` fixture of tests/conftest.py (the server on a loopback port, one
worker). Each test trains tiny models, so the whole module takes tens of seconds.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
RUN_TIMEOUT_MS = 120_000

# A tiny version of the vanishing preset: 200 samples, 2 epochs of 5 optimizer steps each.
SMALL = {"n_samples": "200", "epochs": "2"}
SHALLOW = 3  # sigmoid layers in most tests; the preset's 10 where the gradient must vanish


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        message = "Chromium not found at /usr/bin/chromium: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Console:
    """Collects the page's console errors and uncaught exceptions."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.console = Console(page)
    return page


def field(page, path: str):
    return page.locator(f'[data-testid="run-form"] [name="{path}"]')


def heatmap_z(page, testid: str = "heatmap"):
    return page.evaluate(
        "id => { const d = document.querySelector(`[data-testid=${id}]`);"
        " return d && d.data && d.data[0] ? d.data[0].z : null; }", testid)


def wait_heatmap_rows(page, testid: str, rows: int):
    page.wait_for_function(
        "([id, rows]) => { const d = document.querySelector(`[data-testid=${id}]`);"
        " const z = d && d.data && d.data[0] && d.data[0].z;"
        " return Boolean(z && z.length === rows && z[0].length > 0); }",
        arg=[testid, rows], timeout=RUN_TIMEOUT_MS)


def wait_status(page, prefix: str):
    page.wait_for_function(
        "p => document.querySelector('[data-testid=run-status]').textContent.startsWith(p)",
        arg=prefix, timeout=RUN_TIMEOUT_MS)


def hash_state(page) -> dict[str, str]:
    return dict(re.findall(r"(run|compare)=([^&]+)", page.evaluate("location.hash")))


def start_small_vanishing_run(page, depth: int | None = SHALLOW) -> str:
    """Fill the form from the vanishing preset, shrink it, start it; returns the run id."""
    page.goto("/")
    page.select_option('[data-testid="preset"]', "vanishing-sigmoid")
    field(page, "dataset.n_samples").fill(SMALL["n_samples"])
    field(page, "training.epochs").fill(SMALL["epochs"])
    if depth is not None:
        field(page, "model.depth").fill(str(depth))
    page.click('[data-testid="start-run"]')
    page.wait_for_function("location.hash.includes('run=')")
    return hash_state(page)["run"]


def create_run(context, config: dict) -> dict:
    response = context.request.post("/api/runs", data=json.dumps(config),
                                    headers={"Content-Type": "application/json"})
    assert response.status == 201, response.text()
    return response.json()


def wait_run_final(context, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = context.request.get(f"/api/runs/{run_id}").json()
        if run["status"] in ("completed", "stopped", "failed", "diverged"):
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


def recorded_steps(context, run_id: str) -> list[int]:
    body = context.request.get(f"/api/runs/{run_id}/metrics?format=json").json()
    rows = body["rows"] if isinstance(body, dict) and "rows" in body else body
    if isinstance(rows, dict):  # a History of parallel lists
        return list(rows["step"])
    return [row["step"] for row in rows]


def test_form_comes_from_the_schema_and_a_preset_fills_it(page, context):
    schema = context.request.get("/api/schema").json()
    presets = context.request.get("/api/presets").json()
    page.goto("/")
    # Every choice of the schema is offered, e.g. all the activations.
    activation = schema["$defs"]["RemediesConfig"]["properties"]["activation"]
    select = field(page, "remedies.activation")
    select.wait_for(state="attached")  # the form is built once /api/schema has answered
    options = select.locator("option").all_inner_texts()
    assert options == activation["enum"]
    assert field(page, "model.depth").input_value() == str(
        schema["$defs"]["ModelConfig"]["properties"]["depth"]["default"])

    preset = next(p for p in presets if p["id"] == "vanishing-sigmoid")
    page.select_option('[data-testid="preset"]', preset["id"])
    assert page.locator("#look-for").inner_text() == f"What to look for: {preset['look_for']}"
    selected = field(page, "remedies.activation").evaluate("s => s.selectedOptions[0].text")
    assert selected == preset["config"]["remedies"]["activation"]
    assert field(page, "model.depth").input_value() == str(preset["config"]["model"]["depth"])
    assert page.console.errors == []


def test_invalid_input_shows_the_servers_sentence_next_to_the_field(page):
    page.goto("/")
    field(page, "dataset.n_samples").fill("3")
    page.click('[data-testid="start-run"]')
    error = page.locator("#field-dataset-n_samples-error")
    error.wait_for()
    assert "n_samples" in error.inner_text()
    assert field(page, "dataset.n_samples").get_attribute("aria-invalid") == "true"
    assert "run=" not in page.evaluate("location.hash")
    # Chromium logs the 422 response itself; nothing else may fail.
    assert [e for e in page.console.errors if "422" not in e] == []


def test_a_small_run_streams_into_the_heatmap_and_completes(page, context):
    run_id = start_small_vanishing_run(page)
    depth = SHALLOW
    wait_heatmap_rows(page, "heatmap", depth + 1)  # hidden layers and the output layer
    wait_status(page, "completed")

    run = context.request.get(f"/api/runs/{run_id}").json()
    assert len(run["layers"]) == depth + 1
    figure = page.evaluate("() => { const d = document.querySelector('[data-testid=heatmap]');"
                           " return {x: d.data[0].x, y: d.data[0].y, zmin: d.data[0].zmin,"
                           " zmax: d.data[0].zmax, ticks: d.data[0].colorbar.ticktext}; }")
    # One column per recorded step, each exactly once, in order.
    assert figure["x"] == recorded_steps(context, run_id)
    # Rows are layers, input side first (Plotly draws the first row at the bottom).
    assert run["layers"][0]["name"] in figure["y"][0]
    assert run["layers"][-1]["name"] in figure["y"][-1]
    assert figure["zmin"] < figure["zmax"] and float(figure["zmin"]).is_integer()
    assert figure["ticks"] and all(t.startswith("10") for t in figure["ticks"])

    diagnosis = page.inner_text('[data-testid="diagnosis"]')
    assert diagnosis.split(" ")[0] in ("healthy", "vanishing", "exploding", "diverged", "unknown")
    item = page.locator(f'[data-testid="runs-list"] li[data-run-id="{run_id}"]')
    item.locator(".badge", has_text="completed").wait_for(timeout=10_000)
    assert page.console.errors == []


def test_reloading_restores_the_watched_and_compared_runs(page, context):
    tiny = {"dataset": {"name": "moons", "n_samples": 100}, "model": {"depth": 2, "width": 8},
            "training": {"epochs": 1}}
    first = create_run(context, {**tiny, "name": "first"})
    second = create_run(context, {**tiny, "name": "second", "seed": 1})
    wait_run_final(context, first["id"])
    wait_run_final(context, second["id"])

    page.goto(f"/#run={second['id']}&compare={first['id']}")
    for _ in range(2):  # as opened, then after a reload
        wait_status(page, "completed")
        wait_heatmap_rows(page, "heatmap", 3)
        wait_heatmap_rows(page, "compare-heatmap", 3)
        assert hash_state(page) == {"run": second["id"], "compare": first["id"]}
        assert "second" in page.inner_text("#watch-title")
        ranges = page.evaluate("['heatmap', 'compare-heatmap'].map(id => {"
                               " const t = document.querySelector(`[data-testid=${id}]`).data[0];"
                               " return [t.zmin, t.zmax]; })")
        assert ranges[0] == ranges[1], "both heatmaps must share one colour scale"
        page.reload()
    assert page.console.errors == []


def test_apply_suggestion_restarts_the_run_and_compares_with_its_parent(page, context):
    parent_id = start_small_vanishing_run(page, depth=None)  # the preset's 10 layers
    button = page.locator('[data-testid="apply-suggestion"]')
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=apply-suggestion]').disabled",
        timeout=RUN_TIMEOUT_MS)
    assert page.inner_text('[data-testid="diagnosis"]').startswith("vanishing")
    button.click()
    page.wait_for_function(
        "parent => location.hash.includes('compare=' + parent) && !location.hash.includes("
        "'run=' + parent)", arg=parent_id)
    child_id = hash_state(page)["run"]
    child = context.request.get(f"/api/runs/{child_id}").json()
    assert child["parent_id"] == parent_id
    wait_status(page, "completed")
    parent = context.request.get(f"/api/runs/{parent_id}").json()
    wait_heatmap_rows(page, "compare-heatmap", len(parent["layers"]))
    assert page.console.errors == []


def test_a_dropped_socket_reconnects_without_doubling_steps(page, context):
    connections = []

    def route(ws):
        server = ws.connect_to_server()
        connections.append(ws)
        if len(connections) > 1:
            return  # later connections pass through untouched

        def from_server(message):
            ws.send(message)
            if '"type":"metrics"' in message.replace(" ", ""):
                ws.close(code=1011, reason="dropped by the test")
                server.close()

        server.on_message(from_server)

    page.route_web_socket(re.compile(r".*/ws/runs/.*"), route)
    run_id = start_small_vanishing_run(page)
    wait_status(page, "completed")
    wait_heatmap_rows(page, "heatmap", SHALLOW + 1)
    assert len(connections) >= 2, "the page did not reconnect"
    x = page.evaluate("document.querySelector('[data-testid=heatmap]').data[0].x")
    assert x == recorded_steps(context, run_id)
    assert page.console.errors == []


def test_page_modules_keep_long_runs_bounded_and_the_hash_round_trips(page):
    page.goto("/")
    result = page.evaluate("""async () => {
        const { RunSeries } = await import('/static/series.js');
        const { parseHash, formatHash } = await import('/static/state.js');
        const { colourTicks, sharedRange } = await import('/static/heatmap.js');
        const series = new RunSeries(100);
        const step = (i) => ({ step: i, epoch: 0, loss: 1 / (i + 1),
                               grad_norms: [10 ** -(i % 7), 0, null, Infinity] });
        for (let i = 0; i < 1000; i += 10) {
            series.append(Array.from({ length: 10 }, (_, k) => step(i + k)));
        }
        const steps = series.steps;
        const thinned = { columns: steps.length, rows: series.z.grad_norms.length,
                          increasing: steps.every((s, i) => i === 0 || s > steps[i - 1]),
                          first: series.z.grad_norms.map((row) => row[0]) };
        series.load({ step: [0, 1], loss: [1, 0.5], grad_norms: [[1, 1e-3], [1, 1e-4]] });
        return {
            thinned, reloaded: { steps: series.steps, z: series.z.grad_norms },
            hash: parseHash(formatHash({ run: 'a1', compare: 'b2' })),
            empty: parseHash(''),
            ticks: colourTicks(-6, 0).ticktext,
            range: sharedRange([[-5.5, -1.2], [-3, 0.4]]),
        };
    }""")
    thinned = result["thinned"]
    assert 50 <= thinned["columns"] <= 100 and thinned["increasing"]
    assert thinned["rows"] == 4
    # log10 of each norm; 0, null and Infinity have no finite logarithm and become gaps.
    assert thinned["first"] == [0, None, None, None]
    # A snapshot replaces what was there.
    assert result["reloaded"] == {"steps": [0, 1], "z": [[0, 0], [-3, -4]]}
    assert result["hash"] == {"run": "a1", "compare": "b2"}
    assert result["empty"] == {"run": None, "compare": None}
    assert result["ticks"] == ["10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"]
    assert result["range"] == [-6, 1]
    assert page.console.errors == []

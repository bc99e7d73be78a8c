"""The watch panel in a real Chromium against the real server: names with markup shown as plain
text in every plot (issue 12 B11), exact zeros drawn apart from gaps and dead units on a linear
scale (issue 19), layers matched by name when comparing (issue 13, item 5), and replay at a
pace a student can follow (issue 13, item 1).
"""

from __future__ import annotations

import json

import pytest

from tests.pagekit import (
    axe_violations,
    create_run,
    hash_state,
    recorded_steps,
    restart_run,
    trace,
    wait_form,
    wait_heatmap_rows,
    wait_run,
    wait_status,
)

pytest_plugins = ("tests.pagefixtures",)
pytestmark = pytest.mark.browser

LINK_NAME = '<a href="https://example.org/x">CLICK ME</a>'
BIG_NAME = '<span style="font-size:60px">BIG</span> %{x} &amp;'
TINY = {"dataset": {"name": "spirals", "n_samples": 64}, "model": {"depth": 2, "width": 8},
        "training": {"epochs": 2, "batch_size": 16}}


def plot_texts(page) -> dict:
    """What the plots rendered: links and styled text in their SVG, and the legend's text."""
    return page.evaluate("""() => {
      const plots = [...document.querySelectorAll('.js-plotly-plot')];
      const svg = plots.flatMap(p => [...p.querySelectorAll('svg')]);
      return {
        links: svg.flatMap(s => [...s.querySelectorAll('a')]).length,
        styled: svg.flatMap(s => [...s.querySelectorAll('tspan[style]')])
          .map(t => t.getAttribute('style')).filter(s => /font-size: *60px/.test(s)),
        legend: [...document.querySelectorAll('#loss-chart .legendtext')].map(t => t.textContent),
      };
    }""")


def test_names_with_markup_are_plain_text_in_every_plot(page, context):
    parent = create_run(context, {**TINY, "name": LINK_NAME})
    child = restart_run(context, parent["id"], {"name": BIG_NAME})
    wait_run(context, parent["id"])
    wait_run(context, child["id"])
    page.goto(f"/#run={child['id']}&compare={parent['id']}&row=0")
    wait_heatmap_rows(page, "compare-heatmap", 3)
    page.wait_for_function("document.querySelectorAll('#loss-chart .legendtext').length === 2")
    page.wait_for_function("document.getElementById('row-chart').data.length === 2")
    found = plot_texts(page)
    assert found["links"] == 0 and found["styled"] == []
    assert any(text.startswith(LINK_NAME) for text in found["legend"]), found["legend"]
    assert any(text.startswith(BIG_NAME) for text in found["legend"]), found["legend"]
    # A name is never read as a template: hovering the loss shows it as typed.
    hover = page.evaluate("""() => { const el = document.getElementById('loss-chart');
      const i = el.data.findIndex(t => t.name.includes('BIG'));
      Plotly.Fx.hover(el, [{curveNumber: i, pointNumber: 0}]);
      return el.querySelector('.hoverlayer').textContent; }""")
    assert "%{x}" in hover and "&amp;" in hover and "BIG" in hover
    assert plot_texts(page)["styled"] == []
    # The PNG's title names the run as plain text too.
    page.evaluate("() => { const draw = Plotly.toImage; window.pngLayouts = [];"
                  " Plotly.toImage = (fig, opts) => { window.pngLayouts.push(fig.layout);"
                  " return draw(fig, opts); }; }")
    with page.expect_download():
        page.click("#download-png")
    [layout] = page.evaluate("window.pngLayouts")
    assert "&lt;span style" in layout["title"]["text"] and "<span" not in layout["title"]["text"]
    assert page.console.errors == []


def test_an_exact_zero_is_not_a_gap_and_dead_units_are_a_fraction(page, context):
    # Zero weights: the hidden layers' units all output 0 and their gradients are exactly 0.
    run = create_run(context, {**TINY, "remedies": {"initializer": "zeros"}})
    page.goto(f"/#run={run['id']}")
    wait_status(page, "completed")
    wait_heatmap_rows(page, "heatmap", 3)
    overlay = page.evaluate("""() => { const t = document.getElementById('heatmap').data[1];
      return t && {name: t.name, z: t.z.map(r => Array.from(r, v => v === 0))}; }""")
    assert overlay and overlay["name"] == "exactly 0"
    assert all(overlay["z"][0]) and all(overlay["z"][1]) and not any(overlay["z"][2])
    legend = page.inner_text('[data-testid="cell-legend"]')
    assert "Black: exactly 0" in legend and "Grey: no data" in legend
    assert page.locator('[data-testid="cell-legend"] .swatch.zero').count() == 1
    page.evaluate("() => { const draw = Plotly.toImage; window.pngLayouts = [];"
                  " Plotly.toImage = (fig, opts) => { window.pngLayouts.push(fig);"
                  " return draw(fig, opts); }; }")
    with page.expect_download():
        page.click("#download-png")
    [figure] = page.evaluate("window.pngLayouts")
    assert len(figure["data"]) == 2
    assert any("Black: exactly 0" in a["text"] for a in figure["layout"]["annotations"])

    page.select_option("#metric", "dead_fractions")
    page.wait_for_function(
        "document.querySelector('[data-testid=heatmap]').data[0].colorbar.title.text === 'dead'")
    dead = trace(page)
    assert (dead["zmin"], dead["zmax"]) == (0, 1) and dead["ticks"][-1] == "100 %"
    assert dead["z"][0][0] == 1 and dead["z"][1][0] == 1  # every unit dead: a value, not a gap
    assert page.evaluate("document.getElementById('heatmap').data.length") == 1
    assert "linear scale" in page.inner_text('[data-testid="cell-legend"]')
    assert page.console.errors == []


def test_a_recurrent_runs_layers_show_its_spectral_radius(page, context):
    run = create_run(context, {
        "dataset": {"name": "adding", "n_samples": 32, "seq_len": 6},
        "model": {"arch": "rnn", "depth": 1, "width": 8},
        "remedies": {"activation": "tanh", "recurrent_gain": 2.0}, "training": {"epochs": 1}})
    page.goto(f"/#run={run['id']}")
    box = page.locator('[data-testid="layers-info"]')
    box.wait_for()
    box.locator("summary").click()
    text = box.inner_text()
    assert "SimpleRNN" in text and "ρ = 2.00" in text
    assert "ρ > 1 (explodes across time)" in text
    assert box.locator('a[href="https://arxiv.org/abs/1211.5063"]').count() == 1
    assert page.console.errors == []


def columns(page) -> int:
    return page.evaluate("document.querySelector('[data-testid=heatmap]').data[0].z[0].length")


def test_replay_a_preset_run_at_a_students_pace_and_scrub_it_by_keyboard(page, context):
    page.goto("/")
    wait_form(page)
    page.select_option('[data-testid="preset"]', "vanishing-sigmoid")
    page.fill('[data-testid="run-form"] [name="dataset.n_samples"]', "400")
    page.fill('[data-testid="run-form"] [name="training.epochs"]', "3")
    page.fill('[data-testid="run-form"] [name="model.depth"]', "3")
    page.click('[data-testid="start-run"]')
    page.wait_for_function("location.hash.includes('run=')")
    run_id = hash_state(page)["run"]
    wait_status(page, "completed")
    steps = recorded_steps(context, run_id)
    last = steps[-1]
    page.wait_for_function("n => document.querySelector('[data-testid=heatmap]')"
                           ".data[0].z[0].length === n", arg=last + 1)
    assert page.get_attribute('[data-testid="replay-step"]', "max") == str(last)

    # Replay from step 0 over 10 s: the heatmap fills in column by column.
    page.select_option('[data-testid="replay-speed"]', "10")
    page.click('[data-testid="replay"]')
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data[0].z[0].length"
                           " < 8")
    assert page.inner_text('[data-testid="replay-play"]') == "Pause"
    page.wait_for_function("n => { const z = document.querySelector('[data-testid=heatmap]')"
                           ".data[0].z[0].length; return z > 8 && z < n; }", arg=last + 1)
    page.click('[data-testid="replay-play"]')  # pause
    shown = int(page.input_value('[data-testid="replay-step"]'))
    assert hash_state(page)["step"] == str(shown)
    page.wait_for_function("n => document.querySelector('[data-testid=heatmap]')"
                           ".data[0].z[0].length === n", arg=shown + 1)
    assert max(page.evaluate("document.getElementById('loss-chart').data[0].x")) <= shown
    assert f"steps 0–{shown} of {last}" in page.inner_text('[data-testid="replay-position"]')

    # The slider by keyboard: Home is step 0, each arrow one step on.
    slider = page.locator('[data-testid="replay-step"]')
    slider.focus()
    page.keyboard.press("Home")
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data[0].z[0].length"
                           " === 1")
    # The diagnosis is the one the run had at the replayed step, not the newest.
    timeline = context.request.get(f"/api/runs/{run_id}/diagnoses").json()["diagnoses"]

    def state_at(step: int) -> str:
        made = [d["diagnosis"]["state"] for d in timeline if d["step"] <= step]
        return made[-1] if made else "unknown"

    page.wait_for_function("s => document.querySelector('[data-testid=diagnosis-step]')"
                           ".textContent.includes(s)", arg="as it was at step 0")
    assert page.inner_text('[data-testid="diagnosis"]').split(" —")[0] == state_at(0)
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data[0].z[0].length"
                           " === 6")
    assert hash_state(page)["step"] == "5"
    page.wait_for_function("s => document.querySelector('[data-testid=diagnosis-step]')"
                           ".textContent.includes(s)", arg="as it was at step 5")
    assert page.inner_text('[data-testid="diagnosis"]').split(" —")[0] == state_at(5)
    assert slider.get_attribute("aria-valuetext") == f"step 5 of {last}"
    assert "up to step 5" in page.inner_text("#heatmap-caption")
    assert axe_violations(page) == []

    # The link keeps the step; "Show the whole run" goes back to every step.
    page.reload()
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data"
                           " && document.querySelector('[data-testid=heatmap]').data[0]"
                           " && document.querySelector('[data-testid=heatmap]').data[0].z[0]"
                           ".length === 6")
    page.click('[data-testid="replay-live"]')
    page.wait_for_function("n => document.querySelector('[data-testid=heatmap]')"
                           ".data[0].z[0].length === n", arg=last + 1)
    assert "step" not in hash_state(page)
    assert page.locator('[data-testid="replay-live"]').is_hidden()
    assert page.inner_text('[data-testid="diagnosis-step"]') == ""
    assert page.inner_text('[data-testid="diagnosis"]').split(" —")[0] == state_at(10**9)
    assert page.console.errors == []


def test_compared_runs_line_up_by_layer_name_before_left_after_right(page, context):
    parent = create_run(context, {**TINY, "name": "plain parent", "model": {"depth": 2, "width": 8},
                                  "remedies": {"activation": "sigmoid"}})
    child = restart_run(context, parent["id"], {"name": "deeper with batch norm",
                                                "model": {"depth": 12},
                                                "remedies": {"batch_norm": True}})
    parent, child = wait_run(context, parent["id"]), wait_run(context, child["id"])
    names = [layer["name"] for layer in child["layers"]]
    parent_names = [layer["name"] for layer in parent["layers"]]
    assert set(parent_names) < set(names) and len(names) > len(parent_names) + 2
    page.goto(f"/#run={child['id']}&compare={parent['id']}")
    wait_heatmap_rows(page, "heatmap", len(names))
    wait_heatmap_rows(page, "compare-heatmap", len(names))
    watched, compared = trace(page), trace(page, "compare-heatmap")
    assert watched["y"] == names and compared["y"] == names  # the same rows, by name
    for row, name in enumerate(names):
        filled = any(v is not None for v in compared["z"][row])
        assert filled == (name in parent_names), name  # a layer it lacks is absent
    # Every row is labelled, batch-norm layers included, in both heatmaps.
    for testid in ("heatmap", "compare-heatmap"):
        ticks = page.locator(f'[data-testid="{testid}"] .ytick text').evaluate_all(
            "ts => ts.map(t => t.textContent)")
        assert ticks == names, (testid, ticks)
        # 25 rows: the plot grows so that no two labels overlap.
        gaps = page.locator(f'[data-testid="{testid}"] .ytick text').evaluate_all(
            "ts => { const ys = ts.map(t => t.getBoundingClientRect().y).sort((a, b) => a - b);"
            " return ys.slice(1).map((y, i) => y - ys[i]); }")
        heights = page.locator(f'[data-testid="{testid}"] .ytick text').evaluate_all(
            "ts => ts.map(t => t.getBoundingClientRect().height)")
        assert len(names) > 20 and min(gaps) >= max(heights) * 0.9, (gaps, heights)
    # Before (the parent) left, after (the restart) right, as in the table and the legend.
    left = page.locator('[data-testid="compare-heatmap"]').bounding_box()["x"]
    right = page.locator('[data-testid="heatmap"]').bounding_box()["x"]
    assert left < right
    assert page.inner_text("#compare-caption").startswith("Before (compared): plain parent")
    assert page.inner_text("#heatmap-caption").startswith("After (watched): deeper with")
    page.wait_for_function("document.querySelectorAll('#loss-chart .legendtext').length === 2")
    order = page.locator("#loss-chart .legendtext").evaluate_all(
        "ts => ts.map(t => [t.getBoundingClientRect().x, t.textContent])"
        ".sort((a, b) => a[0] - b[0]).map(p => p[1])")
    assert order[0].startswith("plain parent") and order[1].startswith("deeper with")

    # The row chart matches by name: the parent's own row of that layer, or none.
    shared = parent_names[1]
    page.evaluate("row => { location.hash += `&row=${row}`; }", names.index(shared))
    page.wait_for_function("document.getElementById('row-chart').data.length === 2")
    lines = page.evaluate("document.getElementById('row-chart').data.map(t => t.name)")
    assert f"{shared} (layer {names.index(shared) + 1} of {len(names)})" in lines[0]
    assert f"{shared} (layer 2 of {len(parent_names)})" in lines[1]
    only = next(n for n in names if n not in parent_names)
    page.select_option("#row-select", str(names.index(only)))
    page.wait_for_function("document.getElementById('row-chart').data.length === 1")
    assert page.evaluate("document.getElementById('row-chart').data[0].name").startswith("deeper")
    assert page.console.errors == []


def post_events(context, run_id: str, events: list) -> None:
    answer = context.request.post(f"/api/ingest/runs/{run_id}/events",
                                  data=json.dumps({"events": events}),
                                  headers={"Content-Type": "application/json"})
    assert answer.status == 200, answer.text()


def steps_between(first: int, end: int) -> list[dict]:
    return [{"step": i, "epoch": 0, "loss": 1.0 / (i + 1), "t": 1.0 + i,
             "grad_norms": [0.1, 10.0 ** -i], "weight_norms": [1.0, 1.0],
             "update_ratios": [1e-3, 1e-3]} for i in range(first, end)]


def test_a_live_run_scrubbed_back_stays_there_and_goes_back_to_live(page, context):
    # A script's run: its steps arrive exactly when the test posts them.
    opened = context.request.post("/api/ingest/runs", data=json.dumps({
        "name": "live one", "total_steps": 100,
        "layers": [{"name": "hidden", "kind": "Dense", "params": 80},
                   {"name": "out", "kind": "Dense", "params": 11}]}),
        headers={"Content-Type": "application/json"})
    assert opened.status == 201, opened.text()
    run_id = opened.json()["id"]
    post_events(context, run_id, [{"type": "metrics", "items": steps_between(0, 10)}])
    page.goto(f"/#run={run_id}")
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data"
                           " && document.querySelector('[data-testid=heatmap]').data[0]"
                           " && document.querySelector('[data-testid=heatmap]').data[0].z[0]"
                           ".length === 10")
    slider = page.locator('[data-testid="replay-step"]')
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data[0].z[0].length"
                           " === 4")
    assert page.inner_text('[data-testid="replay-live"]') == "Back to live"
    post_events(context, run_id, [{"type": "metrics", "items": steps_between(10, 20)}])
    page.wait_for_function("document.querySelector('[data-testid=replay-step]').max === '19'")
    assert columns(page) == 4  # the scrubbed step stays while the run goes on
    assert slider.input_value() == "3"
    page.click('[data-testid="replay-live"]')
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data[0].z[0].length"
                           " === 20")
    post_events(context, run_id, [{"type": "metrics", "items": steps_between(20, 25)},
                                  {"type": "finished", "status": "completed", "error": None}])
    page.wait_for_function("document.querySelector('[data-testid=heatmap]').data[0].z[0].length"
                           " === 25")
    assert page.console.errors == []

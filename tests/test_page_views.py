"""The page's views of finished runs, in a real Chromium against the real server: comparing a
run with its remedy, switching the metric and the colours, the raw value on hover, a layer's
chart, the shared link that restores the whole view, downloads, the time-step view of an RNN
and the large-text mode.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.helpers import client
from tests.pagekit import (
    Console,
    axe_violations,
    field,
    hash_state,
    trace,
    wait_form,
    wait_heatmap_rows,
    wait_status,
)

pytest_plugins = ("tests.pagefixtures",)
pytestmark = pytest.mark.browser

# Four sigmoid layers on the spirals (5 steps an epoch), and the same restarted with ReLU + He.
PARENT = {"name": "sigmoid parent", "dataset": {"name": "spirals", "n_samples": 200},
          "model": {"depth": 4, "width": 16},
          "remedies": {"activation": "sigmoid"},
          "training": {"optimizer": "sgd", "learning_rate": 0.05, "epochs": 2}}
REMEDY = {"remedies": {"activation": "relu", "initializer": "he_normal"}}
SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def finished(http, run_id: str) -> dict:
    from tests.helpers import wait_for

    return wait_for(lambda: (r := http.get(f"/api/runs/{run_id}").json())["status"]
                    in ("completed", "stopped", "failed", "diverged") and r, timeout=120)


@pytest.fixture(scope="module")
def pair(live_server):
    """A finished parent run and its finished restart with a remedy (another visitor's)."""
    with client(live_server) as http:
        parent = http.post("/api/runs", json=PARENT).json()
        child = http.post(f"/api/runs/{parent['id']}/restart", json=REMEDY).json()
        parent, child = finished(http, parent["id"]), finished(http, child["id"])
        history = http.get(f"/api/runs/{child['id']}/metrics?format=json").json()
    return {"parent": parent, "child": child, "history": history}


def parse_number(text: str) -> float:
    """ "3.07" or "1.23×10⁻⁴" as a float."""
    if "×10" in text:
        mantissa, exponent = text.split("×10")
        return float(mantissa) * 10 ** int(exponent.translate(SUPERSCRIPT))
    return float(text)


def open_pair(page, pair, extra: str = "") -> None:
    page.goto(f"/#run={pair['child']['id']}&compare={pair['parent']['id']}{extra}")
    wait_heatmap_rows(page, "heatmap", len(pair["child"]["layers"]))
    wait_heatmap_rows(page, "compare-heatmap", len(pair["parent"]["layers"]))


def test_switch_metric_colours_hover_for_the_raw_value_and_click_a_layer(page, pair):
    open_pair(page, pair)
    options = page.locator("#metric option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["grad_norms", "weight_norms", "update_ratios", "output_grad_norms",
                       "dead_fractions"]
    before = trace(page)
    page.select_option("#metric", "weight_norms")
    page.wait_for_function(
        "document.querySelector('[data-testid=heatmap]').data[0].colorbar.title.text === '‖W‖'")
    after, compared = trace(page), trace(page, "compare-heatmap")
    assert hash_state(page)["metric"] == "weight_norms"
    assert after["z"] != before["z"] and compared["title"] == "‖W‖"
    assert (after["zmin"], after["zmax"]) == (compared["zmin"], compared["zmax"])
    page.select_option("#scale", "cividis")
    page.wait_for_function(
        "document.querySelector('[data-testid=heatmap]').data[0].colorscale === 'Cividis'")
    assert trace(page, "compare-heatmap")["colorscale"] == "Cividis"

    # Hover a cell: its layer, step and raw value (not the logarithm), as the API recorded it.
    page.locator("#heatmap").scroll_into_view_if_needed()
    box = page.locator("#heatmap .nsewdrag").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.4)
    tooltip = page.locator(".heatmap-figure:not(.compare) .plot-tooltip")
    tooltip.wait_for()
    lines = tooltip.inner_text().splitlines()
    layer = re.match(r"(\S+) \(layer (\d+) of (\d+)\)", lines[0])
    step = int(re.match(r"step (\d+)$", lines[1]).group(1))
    value = parse_number(re.match(r"‖W‖ = (\S+)", lines[2]).group(1))
    row = int(layer.group(2)) - 1
    assert layer.group(1) == pair["child"]["layers"][row]["name"]
    recorded = pair["history"]["weight_norms"][pair["history"]["step"].index(step)][row]
    assert value == pytest.approx(recorded, rel=5e-3)

    # Click it: that layer's chart over the steps, for both runs.
    page.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.4)
    page.locator("#row-section").wait_for()
    assert hash_state(page)["row"] == str(row)
    assert page.inner_text("#row-title").startswith(pair["child"]["layers"][row]["name"])
    page.wait_for_function("document.getElementById('row-chart').data.length === 2")
    line = page.evaluate("document.getElementById('row-chart').data[0]")
    assert line["x"] == pair["history"]["step"]
    assert line["y"] == pytest.approx([w[row] for w in pair["history"]["weight_norms"]], rel=1e-5)
    # The row can be picked by keyboard too.
    page.select_option("#row-select", "0")
    assert hash_state(page)["row"] == "0"
    assert page.console.errors == []


def test_a_shared_link_restores_exactly_that_view(browser, live_server, pair):
    parent, child = pair["parent"], pair["child"]
    link = (f"/#run={child['id']}&compare={parent['id']}&metric=update_ratios&scale=cividis"
            f"&row=1&log=1&zoom=2_7&from={parent['id']}&f.remedies.batch_norm=true")

    def check(page):
        wait_heatmap_rows(page, "heatmap", len(child["layers"]))
        wait_heatmap_rows(page, "compare-heatmap", len(parent["layers"]))
        wait_form(page)
        page.wait_for_function("document.getElementById('form-base').hidden === false")
        assert page.input_value("#metric") == "update_ratios"
        assert page.input_value("#scale") == "cividis"
        assert trace(page)["title"] == "‖ΔW‖/‖W‖"
        assert page.inner_text("#row-title").startswith(child["layers"][1]["name"])
        assert page.is_checked("#loss-log")
        page.wait_for_function("document.getElementById('loss-chart').layout.yaxis.type === 'log'")
        ranges = page.evaluate("['heatmap', 'compare-heatmap'].map(id =>"
                               " document.getElementById(id).layout.xaxis.range)")
        assert ranges == [[2, 7], [2, 7]]
        # The form: the parent's settings with batch norm switched on, ready to restart it.
        assert field(page, "remedies.batch_norm").is_checked()
        assert field(page, "remedies.activation").evaluate(
            "s => s.selectedOptions[0].dataset.value") == "sigmoid"
        assert "changed" in field(page, "remedies.batch_norm").evaluate(
            "el => el.closest('.field').className")
        assert "sigmoid parent" in page.inner_text("#form-base")
        assert page.inner_text('[data-testid="start-run"]') == "Restart with these changes"
        assert page.console.errors == []

    for _ in range(2):  # a classmate opening the link, then after a reload
        context = browser.new_context(base_url=live_server, viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.console = Console(page)
        page.goto(link)
        check(page)
        page.reload()
        check(page)
        context.close()


def test_download_a_run_as_csv_and_json_and_its_heatmap_as_png(page, pair):
    open_pair(page, pair)
    history = pair["history"]
    with page.expect_download() as info:
        page.click("#download-csv")
    with open(info.value.path(), encoding="utf-8") as text:
        rows = list(csv.reader(io.StringIO(text.read())))
    assert rows[0][:4] == ["step", "epoch", "loss", "t"]
    assert f"grad_norm[{pair['child']['layers'][0]['name']}]" in rows[0]
    assert [int(r[0]) for r in rows[1:]] == history["step"]
    with page.expect_download() as info:
        page.click("#download-json")
    with open(info.value.path(), encoding="utf-8") as text:
        assert json.load(text)["step"] == history["step"]
    # The PNG says what it shows: the run (name and id) and the view, as its title.
    page.evaluate("() => { const draw = Plotly.toImage; window.pngTitles = [];"
                  " Plotly.toImage = (fig, opts) => { window.pngTitles.push(fig.layout.title.text);"
                  " return draw(fig, opts); }; }")
    with page.expect_download() as info:
        page.click("#download-png")
    assert info.value.suggested_filename.endswith(".png")
    [title] = page.evaluate("window.pngTitles")
    assert title.startswith("GradWatch · ") and pair["child"]["id"][:8] in title
    with open(info.value.path(), "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    assert page.console.errors == []


def test_the_time_step_view_of_a_recurrent_run(page, context):
    response = context.request.post("/api/runs", data=json.dumps({
        "dataset": {"name": "adding", "n_samples": 64, "seq_len": 12},
        "model": {"arch": "rnn", "depth": 1, "width": 8},
        "remedies": {"activation": "tanh"}, "training": {"epochs": 2}}),
        headers={"Content-Type": "application/json"})
    run = response.json()
    page.goto(f"/#run={run['id']}&metric=time_grad_norms")
    wait_status(page, "completed")
    wait_heatmap_rows(page, "heatmap", 12)
    figure = trace(page)
    assert figure["y"] == [f"t={t}" for t in range(1, 13)]
    assert figure["title"] == "‖∂L/∂xₜ‖"
    assert all(v is not None for v in [row[0] for row in figure["z"]])  # step 0 is sampled
    options = page.locator("#metric option").evaluate_all("os => os.map(o => o.value)")
    assert "time_grad_norms" in options
    assert page.locator("#time-section").is_visible()
    assert "across time" in page.inner_text("#bands-legend")
    assert page.console.errors == []


def test_large_text_mode_for_a_projector(page, pair):
    open_pair(page, pair)
    size = page.evaluate("document.getElementById('heatmap').layout.font.size")
    page.check("#large-text")
    page.wait_for_function("s => document.getElementById('heatmap').layout.font.size > s",
                           arg=size)
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    page.reload()
    assert page.is_checked("#large-text")
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    assert page.console.errors == []


@pytest.mark.parametrize("viewport", [(390, 844), (1440, 900)])
def test_comparing_fits_a_phone_and_axe_finds_nothing_serious(page, pair, viewport):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    open_pair(page, pair)
    page.locator("#summary").filter(has_text="after (watched)").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
    assert axe_violations(page) == []
    # Plotly's toolbar sits above the colour bar, not over it.
    for testid in ("heatmap", "compare-heatmap"):
        toolbar = page.locator(f'[data-testid="{testid}"] .modebar').bounding_box()
        bar = page.locator(f'[data-testid="{testid}"] .colorbar').bounding_box()
        assert toolbar["y"] + toolbar["height"] <= bar["y"], (testid, toolbar, bar)
    assert page.console.errors == []

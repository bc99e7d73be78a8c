"""The watch panel in a real Chromium against the real server: names with markup shown as plain
text in every plot (issue 12 B11), exact zeros drawn apart from gaps and dead units on a linear
scale (issue 19), layers matched by name when comparing (issue 13, item 5), and replay at a
pace a student can follow (issue 13, item 1).
"""

from __future__ import annotations

import pytest

from tests.pagekit import create_run, restart_run, trace, wait_heatmap_rows, wait_run, wait_status

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

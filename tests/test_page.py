"""The dashboard page in a real Chromium against the real server, with real Keras training:
the form, a preset run streamed to completion, the vanishing diagnosis and its "why", applying
the suggestion and both heatmaps side by side, reconnecting, and the generated contract.js in
the page. The pure modules have their unit tests under node (frontend/tests/, run by
tests/test_frontend_js.py).

Uses the `live_server` fixture of tests/conftest.py (the server on a loopback port, one
worker). Each test trains tiny models, so the whole module takes tens of seconds.
"""

from __future__ import annotations

import re

import pytest

from tests.pagekit import (
    RUN_TIMEOUT_MS,
    create_run,
    field,
    hash_state,
    loss_steps,
    no_errors,
    recorded_steps,
    restart_run,
    trace,
    wait_form,
    wait_heatmap_rows,
    wait_run,
    wait_status,
)

pytest_plugins = ("tests.pagefixtures",)  # the browser, context and page fixtures
pytestmark = pytest.mark.browser

# A tiny version of the vanishing preset: 200 samples, 2 epochs of 5 optimizer steps each.
SMALL = {"n_samples": "200", "epochs": "2"}
SHALLOW = 3  # sigmoid layers in most tests; the preset's 10 where the gradient must vanish


def start_small_vanishing_run(page, depth: int | None = SHALLOW) -> str:
    """Fill the form from the vanishing preset, shrink it, start it; returns the run id."""
    page.goto("/")
    wait_form(page)
    page.select_option('[data-testid="preset"]', "vanishing-sigmoid")
    field(page, "dataset.n_samples").fill(SMALL["n_samples"])
    field(page, "training.epochs").fill(SMALL["epochs"])
    if depth is not None:
        field(page, "model.depth").fill(str(depth))
    page.click('[data-testid="start-run"]')
    page.wait_for_function("location.hash.includes('run=')")
    return hash_state(page)["run"]


def test_form_comes_from_the_schema_and_a_preset_fills_it(page, context):
    schema = context.request.get("/api/schema").json()
    presets = context.request.get("/api/presets").json()
    page.goto("/")
    wait_form(page)
    # Every choice of the schema is offered, e.g. all the activations.
    remedies = schema["$defs"]["RemediesConfig"]["properties"]
    options = field(page, "remedies.activation").locator("option")
    assert [o.get_attribute("data-value") for o in options.all()] == remedies["activation"]["enum"]
    # ... in words, not identifiers.
    assert "Leaky ReLU" in options.all_inner_texts()
    initializers = field(page, "remedies.initializer").locator("option").all_inner_texts()
    assert "Glorot uniform" in initializers and "glorot_uniform" not in initializers
    assert "L1 + L2" in field(page, "remedies.regularizer").locator("option").all_inner_texts()
    assert field(page, "model.depth").input_value() == str(
        schema["$defs"]["ModelConfig"]["properties"]["depth"]["default"])

    preset = next(p for p in presets if p["id"] == "vanishing-sigmoid")
    page.select_option('[data-testid="preset"]', preset["id"])
    assert page.locator("#look-for").inner_text() == f"What to look for: {preset['look_for']}"
    selected = field(page, "remedies.activation").evaluate(
        "s => s.selectedOptions[0].dataset.value")
    assert selected == preset["config"]["remedies"]["activation"]
    assert field(page, "model.depth").input_value() == str(preset["config"]["model"]["depth"])
    # The hash records the preset and only what was changed from it.
    field(page, "model.depth").fill("4")
    assert hash_state(page) == {"preset": "vanishing-sigmoid", "f.model.depth": "4"}
    assert page.console.errors == []


def test_every_remedy_explains_itself_and_fields_that_do_not_apply_are_greyed(page, context):
    schema = context.request.get("/api/schema").json()
    page.goto("/")
    wait_form(page)
    # Each remedy's help says what it does and links its paper, and shows on demand.
    help_text = page.locator("#field-remedies-batch_norm-help")
    assert not help_text.is_visible()
    page.get_by_role("button", name="Explain Batch norm").click()
    assert help_text.is_visible()
    assert help_text.locator("a", has_text="Ioffe & Szegedy 2015").get_attribute(
        "href").startswith("https://arxiv.org/")
    for name, node in schema["$defs"]["RemediesConfig"]["properties"].items():
        text = page.locator(f"#field-remedies-{name}-help").inner_text()
        assert node["description"] in text

    # Fields that the other choices make irrelevant are disabled, with the reason.
    def disabled(path):
        return field(page, path).is_disabled()

    assert disabled("model.cell") and disabled("remedies.init_std")
    assert disabled("remedies.l1") and disabled("remedies.l2") and disabled("remedies.clip_value")
    assert disabled("dataset.seq_len") and not disabled("dataset.n_features")
    assert "only with arch rnn" in page.inner_text("#field-model-cell-note")
    field(page, "remedies.initializer").select_option(label="Random normal")
    field(page, "remedies.regularizer").select_option(label="L2")
    field(page, "remedies.clipping").select_option(label="Global norm")
    assert not disabled("remedies.init_std") and not disabled("remedies.l2")
    assert disabled("remedies.l1") and not disabled("remedies.clip_value")
    field(page, "dataset.name").select_option(label="Adding")
    field(page, "model.arch").select_option(label="RNN (recurrent)")
    assert not disabled("model.cell") and not disabled("dataset.seq_len")
    assert disabled("remedies.batch_norm") and disabled("remedies.residual")
    assert disabled("dataset.n_features")
    # Every control has a label a screen reader announces, and the form works by keyboard.
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid=run-form] input, [data-testid=run-form] select')]
        .filter(el => !(el.labels && el.labels.length)).map(el => el.name || el.id)""")
    assert unlabelled == []
    field(page, "model.depth").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Explain Width"
    assert page.console.errors == []


def test_invalid_input_shows_a_plain_sentence_next_to_the_field_and_start(page):
    page.goto("/")
    wait_form(page)
    field(page, "dataset.n_samples").fill("3")
    page.click('[data-testid="start-run"]')
    error = page.locator("#field-dataset-n_samples-error")
    error.wait_for()
    assert error.inner_text() == "N samples must be at least 16."
    assert field(page, "dataset.n_samples").get_attribute("aria-invalid") == "true"
    form_error = page.locator('[data-testid="form-error"]').inner_text()
    assert form_error == "N samples must be at least 16."
    assert page.evaluate("document.activeElement.name") == "dataset.n_samples"
    assert "run" not in hash_state(page)
    # Chromium logs the 422 response itself; nothing else may fail.
    assert no_errors(page, allowed="422") == []


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 720), (1440, 900)])
def test_a_whole_form_error_is_shown_beside_start_in_view(page, viewport):
    """Over the parameter limit: no single field is wrong, yet the sentence is on screen."""
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto("/")
    wait_form(page)
    field(page, "model.depth").fill("64")
    field(page, "model.width").fill("1024")
    page.click('[data-testid="start-run"]')
    alert = page.locator('[data-testid="form-error"]')
    alert.wait_for()
    assert alert.get_attribute("role") == "alert"
    assert "more than the limit of 5,000,000" in alert.inner_text()
    assert not alert.inner_text().startswith("model:")
    box, start = alert.bounding_box(), page.locator('[data-testid="start-run"]').bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport[1]
    assert start["y"] >= 0 and start["y"] + start["height"] <= viewport[1]
    # The first field of the model's part of the form has the focus, not the page's body.
    assert page.evaluate("document.activeElement.name").startswith("model.")
    assert no_errors(page, allowed="422") == []


def test_a_run_from_a_preset_streams_into_the_heatmap_and_completes(page, context):
    run_id = start_small_vanishing_run(page)
    wait_heatmap_rows(page, "heatmap", SHALLOW + 1)  # hidden layers and the output layer
    wait_status(page, "completed")

    run = context.request.get(f"/api/runs/{run_id}").json()
    steps = recorded_steps(context, run_id)
    assert len(run["layers"]) == SHALLOW + 1
    page.wait_for_function("n => document.getElementById('loss-chart').data[0].x.length === n",
                           arg=len(steps))
    figure = trace(page)
    # A short run: one column per step, each recorded step exactly once, in order.
    assert (figure["x0"], figure["dx"]) == (0, 1)
    assert len(figure["z"][0]) == steps[-1] + 1
    assert loss_steps(page) == steps
    assert all(v is not None for row in figure["z"] for v in row)
    # Rows are layers, input side first (Plotly draws the first row at the bottom).
    assert figure["y"] == [layer["name"] for layer in run["layers"]]
    assert figure["zmin"] < figure["zmax"] and float(figure["zmin"]).is_integer()
    assert figure["ticks"] and all(t.startswith("10") for t in figure["ticks"])

    diagnosis = page.inner_text('[data-testid="diagnosis"]')
    assert diagnosis.split(" ")[0] in ("healthy", "vanishing", "exploding", "diverged", "unknown")
    item = page.locator(f'[data-testid="runs-list"] li[data-run-id="{run_id}"]')
    item.locator(".badge", has_text="completed").wait_for(timeout=10_000)
    assert page.console.errors == []


def test_vanishing_is_diagnosed_explained_and_fixed_side_by_side(page, context):
    parent_id = start_small_vanishing_run(page, depth=None)  # the preset's 10 layers
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=apply-suggestion]').disabled",
        timeout=RUN_TIMEOUT_MS)
    assert page.inner_text('[data-testid="diagnosis"]').startswith("vanishing")
    # The "why" uses this run's numbers and the true cause, and links the papers.
    why = page.locator("#why")
    assert why.is_visible()
    text = why.inner_text()
    assert "at most 1/4" in text and re.search(r"about 0\.\d\d per layer", text)
    assert "backpropagated signal" in text and "comparable pace" not in text
    assert "exponential average" not in text
    assert why.locator("a", has_text="Glorot & Bengio 2010").count() >= 1
    assert why.locator("li").count() >= 2  # every suggestion, with what it does

    page.click('[data-testid="apply-suggestion"]')
    page.wait_for_function(
        "parent => location.hash.includes('compare=' + parent) && !location.hash.includes("
        "'run=' + parent)", arg=parent_id)
    child_id = hash_state(page)["run"]
    child = context.request.get(f"/api/runs/{child_id}").json()
    assert child["parent_id"] == parent_id
    assert child["config"]["remedies"]["activation"] == "relu"
    assert child["name"] == "Vanishing: 10 sigmoid layers → ReLU with He initialization"
    wait_status(page, "completed")
    child = context.request.get(f"/api/runs/{child_id}").json()
    parent = context.request.get(f"/api/runs/{parent_id}").json()
    wait_heatmap_rows(page, "heatmap", len(child["layers"]))
    wait_heatmap_rows(page, "compare-heatmap", len(parent["layers"]))
    # Side by side on one colour scale, the vanishing range marked on the parent's bar.
    watched, compared = trace(page, "heatmap"), trace(page, "compare-heatmap")
    assert (watched["zmin"], watched["zmax"]) == (compared["zmin"], compared["zmax"])
    # The diagnosis's ranges are marked on the view it reads, the backpropagated signal.
    assert compared["shapes"] == []
    page.select_option("#metric", "output_grad_norms")
    page.wait_for_function(
        "document.querySelector('[data-testid=compare-heatmap]').data[0].colorbar.title.text"
        " === '‖∂L/∂s‖'")
    compared = trace(page, "compare-heatmap")
    assert "vanishing" in compared["shapes"]
    boxes = [page.locator(f'[data-testid="{t}"]').bounding_box()
             for t in ("heatmap", "compare-heatmap")]
    # Before (the parent, compared) left, after (the restart, watched) right, as in the table.
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 5 and boxes[1]["x"] < boxes[0]["x"]
    # Both loss curves overlaid, and the before → after summary.
    page.wait_for_function("document.getElementById('loss-chart').data.length === 2")
    page.wait_for_function(
        "() => /vanishing\\s*→\\s*healthy/.test(document.getElementById('summary').innerText)",
        timeout=10_000)
    summary = page.inner_text("#summary")
    assert "final loss" in summary and "backpropagated signal, input side ÷ output side" in summary
    assert "final validation loss" in summary
    # The runs list links the child to its parent.
    link = page.locator(f'li[data-run-id="{child_id}"] .parent-link')
    link.wait_for()
    assert "restart of" in link.inner_text()
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
    steps = recorded_steps(context, run_id)
    page.wait_for_function("n => document.getElementById('loss-chart').data[0].x.length === n",
                           arg=len(steps))
    assert loss_steps(page) == steps
    assert page.console.errors == []


def test_the_colour_bar_marks_use_the_diagnosis_thresholds(page):
    # One source: the page's contract.js is generated from trainer/contract/thresholds.py, as
    # diagnose uses it.
    from trainer.contract import thresholds as source

    page.goto("/")
    thresholds = page.evaluate(
        "async () => (await import('/static/bands.js')).THRESHOLDS")
    assert thresholds == {
        "vanishingRatio": source.VANISHING_RATIO,
        "timeVanishingRatio": source.TIME_VANISHING_RATIO,
        "explodingRatio": source.EXPLODING_RATIO,
        "timeExplodingRatio": source.TIME_EXPLODING_RATIO,
        "explodingNorm": source.EXPLODING_NORM,
        "window": source.WINDOW,
    }


# A minute of training (tests/test_presets.py checks the same learning in `make test`).
@pytest.mark.extended
def test_the_lstm_learns_what_the_simple_rnn_cannot_in_the_before_after_table(page, context):
    # The two presets as they are (≈ 15 s and 45 s of training here): the SimpleRNN's
    # validation MSE stays near 0.167 (always answering 1), the LSTM's falls to ~10⁻³.
    presets = {p["id"]: p for p in context.request.get("/api/presets").json()}
    parent = create_run(context, presets["vanishing-rnn"]["config"])
    parent = wait_run(context, parent["id"], timeout=240)
    assert parent["diagnosis"]["state"] == "vanishing"
    assert parent["diagnosis"]["axis"] == "time"
    assert parent["diagnosis"]["suggestions"][0]["overrides"] == {"model": {"cell": "lstm"}}
    child = restart_run(context, parent["id"], {"model": {"cell": "lstm"}})
    wait_run(context, child["id"], timeout=300)
    page.goto(f"/#run={child['id']}&compare={parent['id']}")
    wait_status(page, "completed")
    page.wait_for_function(
        "() => /vanishing\\s*→\\s*healthy/.test(document.getElementById('summary').innerText)",
        timeout=30_000)
    rows = {}
    for line in page.inner_text("#summary").splitlines():
        cells = [c.strip() for c in line.split("\t") if c.strip()]
        if len(cells) == 4:
            rows[cells[0]] = (cells[1], cells[3])
    before, after = rows["final validation loss"]
    assert parse_value(before) > 0.12 and parse_value(after) < 0.02, rows
    assert no_errors(page) == []


def parse_value(text: str) -> float:
    """ "0.163" or "1.2×10⁻³" as a float."""
    if "×10" in text:
        mantissa, exponent = text.split("×10")
        return float(mantissa) * 10 ** int(exponent.translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹",
                                                                            "-0123456789")))
    return float(text)

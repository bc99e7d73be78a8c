"""Runs on the page while they happen, in a real Chromium against the real server: the queue
position and a moving progress bar with the time left, stopping, a restart with a remedy
changed in the form (a child run linked to its parent), and the runs list's "mine" filter and
delete.
"""

from __future__ import annotations

import pytest

from tests.pagekit import (
    Console,
    create_run,
    field,
    hash_state,
    wait_form,
    wait_run,
    wait_status,
)

pytest_plugins = ("tests.pagefixtures",)
pytestmark = pytest.mark.browser

TINY = {"dataset": {"name": "moons", "n_samples": 64}, "model": {"depth": 2, "width": 8},
        "training": {"epochs": 1}}
# Thousands of one-example steps: long enough to watch the bar move (the test stops it).
LONG = {"name": "long", "dataset": {"name": "moons", "n_samples": 3000},
        "model": {"depth": 1, "width": 8}, "training": {"epochs": 10, "batch_size": 1}}


def test_queue_position_then_a_moving_progress_bar_with_time_left(page, context):
    long_run = create_run(context, LONG)
    queued = create_run(context, {**TINY, "name": "waiting"})
    # While the long run holds the only worker, the other waits with its place in the queue.
    page.goto(f"/#run={queued['id']}")
    page.wait_for_function(
        "/^queued — position \\d+ in the queue/.test("
        "document.querySelector('[data-testid=run-status]').textContent)")
    assert page.locator("#run-progress").is_hidden()

    page.goto(f"/#run={long_run['id']}")
    wait_status(page, "running — step")
    page.evaluate("""() => {
        window.seen = [];
        const bar = document.getElementById('run-progress');
        const eta = document.getElementById('run-eta');
        window.watcher = setInterval(() => window.seen.push(
            [bar.hidden, bar.value, bar.max, eta.textContent]), 50);
    }""")
    page.wait_for_function(
        "() => new Set(window.seen.filter(s => !s[0] && s[1] > 0).map(s => s[1])).size >= 3",
        timeout=60_000)
    seen = page.evaluate("clearInterval(window.watcher) || window.seen")
    values = [s[1] for s in seen if not s[0]]
    assert values == sorted(values) and len(set(values)) >= 3  # it moves, and only forwards
    assert all(0 <= s[1] <= s[2] for s in seen if not s[0])
    assert any(s[3].endswith("left") for s in seen)
    assert "epoch" in page.inner_text('[data-testid="run-status"]')

    page.click("#stop-run")  # its owner may stop it; the queued one runs next
    wait_status(page, "stopped")
    assert page.locator("#run-progress").is_hidden()
    wait_run(context, queued["id"])
    assert page.console.errors == []


def test_restart_with_a_remedy_changed_in_the_form(page, context):
    base = create_run(context, {**TINY, "name": "base", "remedies": {"activation": "sigmoid"}})
    wait_run(context, base["id"])
    page.goto(f"/#run={base['id']}")
    wait_form(page)
    wait_status(page, "completed")
    page.click("#copy-config")
    page.locator("#form-base").wait_for()
    assert "base" in page.inner_text("#form-base")
    assert field(page, "model.depth").input_value() == "2"
    field(page, "remedies.batch_norm").check()
    assert hash_state(page)["from"] == base["id"]
    assert hash_state(page)["f.remedies.batch_norm"] == "true"
    start = page.locator('[data-testid="start-run"]')
    assert start.inner_text() == "Restart with these changes"
    start.click()
    page.wait_for_function("b => location.hash.includes('compare=' + b)", arg=base["id"])
    child = context.request.get(f"/api/runs/{hash_state(page)['run']}").json()
    assert child["parent_id"] == base["id"]
    changed = {(section, key) for section in base["config"]
               if isinstance(base["config"][section], dict)
               for key, value in base["config"][section].items()
               if child["config"][section][key] != value}
    assert changed == {("remedies", "batch_norm")}
    assert child["name"] == "base → + batch norm"  # what changed, in words, for the runs list
    wait_status(page, "completed")
    assert page.console.errors == []


def test_the_runs_list_filters_mine_and_deletes_my_own(browser, live_server):
    contexts = [browser.new_context(base_url=live_server, viewport={"width": 1400, "height": 900})
                for _ in range(2)]
    try:
        theirs = create_run(contexts[0], {**TINY, "name": "theirs"})
        mine = create_run(contexts[1], {**TINY, "name": "mine"})
        wait_run(contexts[1], theirs["id"])
        wait_run(contexts[1], mine["id"])
        page = contexts[1].new_page()
        page.console = Console(page)
        page.goto("/")
        item = {run["id"]: page.locator(f'[data-testid="runs-list"] li[data-run-id="{run["id"]}"]')
                for run in (theirs, mine)}
        item[theirs["id"]].wait_for()
        item[mine["id"]].locator(".badge", has_text="completed").wait_for()
        assert item[theirs["id"]].locator(".delete-button").is_hidden()
        page.check('input[name="runs-filter"][value="mine"]')
        assert item[theirs["id"]].is_hidden() and item[mine["id"]].is_visible()
        assert hash_state(page)["runs"] == "mine"
        page.reload()
        assert page.is_checked('input[name="runs-filter"][value="mine"]')

        delete = item[mine["id"]].locator(".delete-button")
        delete.click()
        assert delete.inner_text() == "really delete?"
        delete.click()
        item[mine["id"]].wait_for(state="detached")
        assert contexts[1].request.get(f"/api/runs/{mine['id']}").status == 404
        assert contexts[1].request.get(f"/api/runs/{theirs['id']}").status == 200
        assert page.console.errors == []
    finally:
        for context in contexts:
            context.close()

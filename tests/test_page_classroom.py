"""The classroom around the dashboard, in a real Chromium against a real server: the
access-code page keeps the link a student was sent, and the teacher's console in the page
(the admin token entered once, Stop on any run, the runs list filtered), a phone's screen,
axe-core's accessibility check, and a server restart as the page lives through it.

The servers here have no worker (GRADWATCH_WORKERS=0), so runs stay queued while the page is
looked at: nothing depends on how fast training is.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_server
from tests.pagekit import Console, axe_violations, hash_state, no_errors

pytest_plugins = ("tests.pagefixtures",)  # the browser fixture
pytestmark = pytest.mark.browser

CODE = "owl-42"
TOKEN = "teacher-secret-1"
QUEUED = {"name": "queued", "training": {"epochs": 3}}


def new_page(browser, url, width=1280, height=720):
    context = browser.new_context(base_url=url, viewport={"width": width, "height": height})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.console = Console(page)
    return context, page


def joined(browser, url):
    """A visitor who joined with the code through the API (a cookie jar of their own)."""
    context = browser.new_context(base_url=url)
    assert context.request.post("/join", data=json.dumps({"code": CODE}),
                                headers={"Content-Type": "application/json"},
                                max_redirects=0).status == 303
    return context


def create(context, config):
    response = context.request.post("/api/runs", data=json.dumps(config),
                                    headers={"Content-Type": "application/json"})
    assert response.status == 201, response.text()
    return response.json()


def test_the_join_page_says_what_gradwatch_is_and_keeps_the_shared_link(browser, server_factory):
    url = server_factory(WORKERS="0", ACCESS_CODE=CODE)
    owner = joined(browser, url)
    run = create(owner, QUEUED)
    context, page = new_page(browser, url, 390, 844)
    try:
        page.goto(f"/#run={run['id']}&metric=grad_norms")
        form = page.locator('[data-testid="join-form"]')
        form.wait_for()
        assert page.url.endswith(f"/join#run={run['id']}&metric=grad_norms")
        assert "GradWatch trains small neural networks" in page.locator("main").inner_text()
        code = page.get_by_label("Class access code")
        assert code.get_attribute("name") == "code"
        # Styled like the dashboard, and nothing wider than a phone.
        assert page.evaluate("getComputedStyle(document.querySelector('.top')).display") == "flex"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert axe_violations(page) == []

        code.fill("owl-41")
        form.locator("button[type=submit]").click()
        alert = page.locator('[role="alert"]')
        assert "not right" in alert.inner_text()
        assert page.get_by_label("Class access code").get_attribute("aria-invalid") == "true"

        page.get_by_label("Class access code").fill(CODE)
        form.locator("button[type=submit]").click()
        page.locator('[data-testid="run-status"]').filter(has_text="queued").wait_for()
        assert hash_state(page) == {"run": run["id"], "metric": "grad_norms"}
        assert no_errors(page, allowed="401") == []  # Chromium logs the wrong code's 401
    finally:
        context.close()
        owner.close()


def test_the_teacher_enters_the_admin_token_in_the_page_filters_and_stops_a_students_run(
        browser, server_factory):
    url = server_factory(WORKERS="0", ADMIN_TOKEN=TOKEN)
    students = [browser.new_context(base_url=url) for _ in range(3)]
    context, page = new_page(browser, url)
    try:
        runs = [create(student, {**QUEUED, "name": name})
                for student, name in zip(students, ("deep tanh", "relu fix", "lstm"), strict=True)]
        page.goto("/")
        items = page.locator('[data-testid="runs-list"] li')
        item = {run["name"]: items.and_(page.locator(f'li[data-run-id="{run["id"]}"]'))
                for run in runs}
        item["lstm"].wait_for()
        # A student's view: no Stop on a classmate's run.
        assert page.locator('[data-testid="stop-run"]:visible').count() == 0

        token = page.locator('[data-testid="admin-token"]')
        page.locator("#teacher summary").click()
        token.fill("not-the-token")
        token.press("Enter")
        page.locator("#teacher-state", has_text="not this server's admin token").wait_for()
        assert page.locator('[data-testid="stop-run"]:visible').count() == 0

        token.fill(TOKEN)
        token.press("Enter")
        item["deep tanh"].locator('[data-testid="stop-run"]').wait_for()
        assert "?" not in page.url and TOKEN not in page.url
        # Each run shows its owner's short label, three different students.
        labels = {run["name"]: item[run["name"]].locator(".run-meta").inner_text().split(" · ")[0]
                  for run in runs}
        assert len(set(labels.values())) == 3
        assert all(label.startswith("visitor ") for label in labels.values())

        page.locator('[data-testid="runs-filter"]').fill("relu")
        assert item["relu fix"].is_visible()
        assert item["deep tanh"].is_hidden() and item["lstm"].is_hidden()
        page.locator('[data-testid="runs-filter"]').fill(labels["lstm"])
        assert item["lstm"].is_visible() and item["relu fix"].is_hidden()
        page.locator('[data-testid="runs-filter"]').fill("")

        item["deep tanh"].locator('[data-testid="stop-run"]').click()
        item["deep tanh"].locator(".badge", has_text="stopped").wait_for()
        stopped = students[0].request.get(f"/api/runs/{runs[0]['id']}").json()
        assert stopped["status"] == "stopped" and stopped["error"] == "stopped by the admin"
        page.select_option("#runs-status", "active")
        assert item["deep tanh"].is_hidden() and item["lstm"].is_visible()
        assert items.count() == 3

        # Kept for the tab's session: a reload is still in teacher mode.
        page.reload()
        item["lstm"].locator('[data-testid="stop-run"]').wait_for()
        assert page.console.errors == []
    finally:
        context.close()
        for student in students:
            student.close()


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 720)])
def test_the_dashboard_fits_the_screen_and_axe_finds_nothing_serious(browser, server_factory,
                                                                     viewport):
    url = server_factory(WORKERS="0")
    context, page = new_page(browser, url, *viewport)
    try:
        page.goto("/")
        page.locator('[data-testid="run-form"] [name="remedies.activation"]').wait_for(
            state="attached")
        page.locator("#loss-chart .main-svg").first.wait_for(state="attached")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        assert axe_violations(page) == []
        # Watching a (queued) run: the plots with their toolbars are drawn.
        run = create(context, QUEUED)
        page.goto(f"/#run={run['id']}")
        page.locator('[data-testid="run-status"]').filter(has_text="queued").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        assert axe_violations(page) == []
        # The runs list is two Tab presses away (the skip links), not behind the form.
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the runs list"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "runs"
        assert page.console.errors == []
    finally:
        context.close()


def test_on_a_phone_start_brings_the_watched_run_to_the_top(browser, server_factory):
    url = server_factory(WORKERS="0")
    context, page = new_page(browser, url, 390, 844)
    try:
        page.goto("/")
        page.locator('[data-testid="run-form"] [name="remedies.activation"]').wait_for(
            state="attached")
        start = page.locator('[data-testid="start-run"]').bounding_box()
        assert start["y"] >= 0 and start["y"] + start["height"] <= 844  # Start is on screen
        assert page.locator("#watch").bounding_box()["y"] > 844  # below the form at first
        page.locator('[data-testid="start-run"]').click()
        page.locator('[data-testid="run-status"]').filter(has_text="queued").wait_for()
        top = page.locator("#watch").bounding_box()["y"]
        assert -2 <= top < 100  # scrolled to the top (sub-pixel rounding either way)
        assert page.evaluate("document.activeElement.id") == "watch"
        assert page.console.errors == []
    finally:
        context.close()


def test_a_server_restart_is_said_while_it_lasts_and_the_cut_run_can_start_again(browser,
                                                                                 tmp_path):
    data = tmp_path / "data"
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(20_000)
    try:
        with run_server(data, GRADWATCH_WORKERS="0") as url:
            run = create_at(context, url, QUEUED)
            page = context.new_page()
            page.console = Console(page)
            page.goto(f"{url}/#run={run['id']}")
            stop = page.locator('#watch [data-testid="stop-run"]')
            stop.wait_for()
            assert stop.is_enabled()
        # The server is gone: the page says so and offers no Stop it cannot send.
        page.locator('[data-testid="run-status"]').filter(
            has_text="the server cannot be reached").wait_for()
        assert stop.is_disabled()
        with run_server(data, GRADWATCH_WORKERS="0") as url:
            page.goto(f"{url}/#run={run['id']}")
            page.locator('[data-testid="run-status"]').filter(has_text="failed").wait_for()
            again = page.get_by_role("button", name="Start it again")
            again.click()
            page.wait_for_function(
                "id => new URLSearchParams(location.hash.slice(1)).get('run') !== id",
                arg=run["id"])
            restarted = context.request.get(f"{url}/api/runs/{hash_state(page)['run']}").json()
            assert restarted["parent_id"] == run["id"] and restarted["status"] == "queued"
            assert restarted["config"]["training"] == run["config"]["training"]
    finally:
        context.close()


def create_at(context, url, config):
    response = context.request.post(f"{url}/api/runs", data=json.dumps(config),
                                    headers={"Content-Type": "application/json"})
    assert response.status == 201, response.text()
    return response.json()

"""The browser tests' fixtures: Chromium through Playwright, one browser per module, and per
test a context (its own visitor: a cookie jar) and a page whose console errors are collected;
a test whose page logged a Content-Security-Policy violation fails at teardown.

Test modules load them with `pytest_plugins = ("tests.pagefixtures",)`; each module gets its
own `live_server` (tests/conftest.py).
"""

from __future__ import annotations

import os

import pytest

from tests.pagekit import CHROMIUM, CHROMIUM_ARGS, Console


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


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1400, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.console = Console(page)
    yield page
    assert page.console.csp == [], "the page broke its Content-Security-Policy"

"""Re-take the README's screenshots: `make screenshots` (`.venv/bin/python -m tools.screenshots`).

Starts a real server on a loopback port (a temporary data dir, an access code and an admin
token, one worker), trains real preset runs and drives Debian's Chromium through them, writing
into docs/ (1400×900 PNGs but the phone's):

    screenshot.png          the vanishing sigmoid preset watched to completion
    screenshot-compare.png  "Apply suggestion" on it: before (left) and after (right)
    screenshot-replay.png   the completed run replayed, paused partway
    screenshot-phone.png    a phone (390×844 at 2×: 780×1688) watching the run
    screenshot-teacher.png  the teacher console: the admin token entered, students' runs
    screenshot-script.png   examples/watch_my_cnn.py streamed in with GradWatchCallback

`python -m tools.screenshots replay phone` takes only some of them (the vanishing run is always
trained, and each shot trains what it needs). The page's CSP refuses Playwright's in-page
polling, so every wait is polled from Python (tests/pagekit.py's wait_js). Takes a few minutes
on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers import run_server
from tests.pagekit import CHROMIUM, CHROMIUM_ARGS, Console, hash_state, wait_js

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CODE = "gradients-101"
# A 1400×900 screen at 85 % zoom: the page laid out for 1647×1059 CSS pixels, so that the
# diagnosis and the heatmap under it fit on one screen; the PNGs are 1400×900.
ZOOM = 0.85
DESKTOP = {"viewport": {"width": 1647, "height": 1059}, "device_scale_factor": ZOOM}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
# The teacher at 784×504 CSS pixels (175 %; the PNG is 1400×900): one column, so the runs list
# spans the screen, one line a run with its owner's label. (Between 801 and 1200 pixels the
# sticky form covers the full-width runs list when the page is scrolled down to it.)
TEACHER = {"viewport": {"width": 784, "height": 504}, "device_scale_factor": 1400 / 784}
RUN_WAIT_MS = 180_000
SHOTS = ("watch", "compare", "replay", "phone", "teacher", "script")
# What each student starts in the teacher's shot: preset ids, small runs (250 steps each).
STUDENTS = (("vanishing-sigmoid", "fixed-relu-he"), ("exploding-init", "tamed-clipping"),
            ("fixed-batchnorm",))
# A longer run (1500 steps, minutes here), still training when the teacher looks: the LSTM on
# the adding problem. It is stopped once the teacher's shot is taken.
LONG_PRESET = "fixed-lstm"


def log(message: str) -> None:
    print(f"[screenshots {time.strftime('%H:%M:%S')}] {message}", flush=True)


def visitor(browser, url: str, **options):
    """A new browser context (a visitor of its own) that joined the class with the code."""
    context = browser.new_context(base_url=url, **(DESKTOP | options))
    context.set_default_timeout(30_000)
    answer = context.request.post("/join", data=json.dumps({"code": CODE}),
                                  headers={"Content-Type": "application/json"}, max_redirects=0)
    if answer.status != 303:
        raise RuntimeError(f"/join answered {answer.status}: {answer.text()}")
    return context


def open_page(context, path: str = "/"):
    page = context.new_page()
    page.console = Console(page)
    page.goto(path)
    return page


def wait(page, expression: str, arg=None, timeout: float = RUN_WAIT_MS):
    return wait_js(page, expression, arg, timeout=timeout)


def wait_status(page, prefix: str) -> None:
    wait(page, "p => document.querySelector('[data-testid=run-status]').textContent"
               ".startsWith(p)", prefix)


def wait_columns(page, testid: str, last: int) -> None:
    """The heatmap `testid` has drawn every step up to `last` (a column may cover several
    steps when the plot is narrower than the run is long)."""
    wait(page, "([id, last]) => { const d = document.querySelector(`[data-testid=${id}]`);"
               " const t = d && d.data && d.data[0]; return Boolean(t && t.z.length"
               " && t.x0 + t.dx * t.z[0].length > last); }", [testid, last])


def api(context, method: str, path: str, body: dict | None = None, **headers: str) -> dict:
    call = getattr(context.request, method)
    kwargs = {"headers": {"Content-Type": "application/json", **headers}}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    answer = call(path, **kwargs)
    if not answer.ok:
        raise RuntimeError(f"{method.upper()} {path}: {answer.status} {answer.text()}")
    return answer.json() if answer.status != 204 else {}


def wait_run(context, run_id: str, statuses=("completed", "stopped", "failed", "diverged"),
             timeout: float = RUN_WAIT_MS / 1000) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api(context, "get", f"/api/runs/{run_id}")
        if run["status"] in statuses:
            return run
        time.sleep(0.3)
    raise TimeoutError(f"run {run_id} is not {statuses} after {timeout} s")


def last_step(context, run_id: str) -> int:
    return api(context, "get", f"/api/runs/{run_id}/metrics?format=json")["step"][-1]


def scroll_to(page, selector: str, offset: int = 0) -> None:
    """Scroll the window so that `selector`'s top is `offset` px below the viewport's top."""
    page.evaluate("([s, o]) => window.scrollTo(0, window.scrollY"
                  " + document.querySelector(s).getBoundingClientRect().top - o)",
                  [selector, offset])


def tidy(page) -> None:
    """No hover label, and the form scrolled to its top."""
    page.mouse.move(0, 0)
    page.evaluate("document.getElementById('new-run').scrollTop = 0")


def save(page, name: str, **options) -> None:
    """The viewport as docs/<name>, after the page's pending redraws."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    path = DOCS / name
    page.screenshot(path=str(path), animations="disabled", caret="hide", **options)
    errors = [e for e in page.console.errors if "Content Security Policy" in e]
    if errors:
        raise RuntimeError(f"the page broke its Content-Security-Policy: {errors}")
    log(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


class Shots:
    """The screenshots, in the order that reuses runs: each method takes one."""

    def __init__(self, browser, url: str, token: str, wanted: set[str]) -> None:
        self.browser, self.url, self.token, self.wanted = browser, url, token, wanted
        self.me = visitor(browser, url)
        self.page = open_page(self.me)
        self.parent: str | None = None

    def watch(self) -> None:
        """The vanishing sigmoid preset, started from the form and watched to its end."""
        page = self.page
        page.locator('[data-testid="run-form"] [name="remedies.activation"]').wait_for(
            state="attached")
        page.select_option('[data-testid="preset"]', "vanishing-sigmoid")
        page.click('[data-testid="start-run"]')
        wait(page, "location.hash.includes('run=')")
        self.parent = hash_state(page)["run"]
        log(f"training the vanishing sigmoid preset ({self.parent[:8]})")
        wait_status(page, "completed")
        wait(page, "() => !document.querySelector('[data-testid=apply-suggestion]').disabled")
        wait_columns(page, "heatmap", last_step(self.me, self.parent))
        # The view the diagnosis reads (the preset's "what to look for" says to switch to it),
        # and the "why" folded so that the heatmap is on screen under the diagnosis.
        page.select_option("#metric", "output_grad_norms")
        wait(page, "document.querySelector('[data-testid=heatmap]').data[0].colorbar.title.text"
                   " === '‖∂L/∂s‖'")
        page.click("#why summary")
        tidy(page)
        scroll_to(page, "#watch", 8)
        if "watch" in self.wanted:
            save(page, "screenshot.png")

    def compare(self) -> None:
        """Apply suggestion: the restart (after, right) beside its parent (before, left)."""
        page = self.page
        page.click('[data-testid="apply-suggestion"]')
        wait(page, "p => location.hash.includes('compare=' + p)"
                   " && !location.hash.includes('run=' + p)", self.parent)
        child = hash_state(page)["run"]
        log(f"training the suggested restart ({child[:8]})")
        wait_status(page, "completed")
        wait_columns(page, "heatmap", last_step(self.me, child))
        wait_columns(page, "compare-heatmap", last_step(self.me, self.parent))
        wait(page, "() => /→/.test(document.getElementById('summary').innerText)"
                   " && document.querySelectorAll('#loss-chart .legendtext').length === 2")
        tidy(page)
        scroll_to(page, "#metric", 12)  # the heatmaps and the whole before → after table
        if "compare" in self.wanted:
            save(page, "screenshot-compare.png")

    def replay(self) -> None:
        """The completed vanishing run replayed from step 0 at 10 s, paused at 40 %."""
        page = self.page
        page.goto(f"/#run={self.parent}")
        last = last_step(self.me, self.parent)
        wait_columns(page, "heatmap", last)
        page.select_option('[data-testid="replay-speed"]', "10")
        page.click('[data-testid="replay"]')
        shown = round(last * 0.4)
        wait(page, "n => Number(document.querySelector('[data-testid=replay-step]').value) >= n",
             shown - 20)
        page.click('[data-testid="replay-play"]')  # pause
        wait(page, "() => document.querySelector('[data-testid=replay-play]').textContent"
                   " === 'Play'")
        # Onto a round step, as dragging the slider would (the clock stops between ticks).
        page.evaluate("n => { const s = document.querySelector('[data-testid=replay-step]');"
                      " s.value = String(n); s.dispatchEvent(new Event('input')); }", shown)
        wait(page, "n => document.querySelector('[data-testid=heatmap]').data[0].z[0].length"
                   " === n", shown + 1)
        tidy(page)
        scroll_to(page, "#metric", 10)  # as far as the page scrolls: to the loss chart's end
        if "replay" in self.wanted:
            save(page, "screenshot-replay.png")

    def phone(self) -> None:
        """A phone watching the vanishing run: the page's own one-column layout."""
        context = visitor(self.browser, self.url, **PHONE)
        try:
            page = open_page(context, f"/#run={self.parent}")
            wait_status(page, "completed")
            wait_columns(page, "heatmap", last_step(context, self.parent))
            scroll_to(page, "#heatmap-caption", 8)
            if "phone" in self.wanted:
                save(page, "screenshot-phone.png")
        finally:
            context.close()

    def teacher(self) -> None:
        """Three students start runs from their own browsers; the teacher enters the token."""
        students = [visitor(self.browser, self.url) for _ in STUDENTS]
        teacher = visitor(self.browser, self.url, **TEACHER)
        try:
            presets = {p["id"]: p for p in api(students[0], "get", "/api/presets")}
            started = []
            for student, ids in zip(students, STUDENTS, strict=True):
                page = open_page(student)
                page.locator('[data-testid="run-form"] [name="remedies.activation"]').wait_for(
                    state="attached")
                for preset in ids:
                    page.select_option('[data-testid="preset"]', preset)
                    before = page.evaluate("location.hash")
                    page.click('[data-testid="start-run"]')
                    wait(page, "h => location.hash !== h && location.hash.includes('run=')",
                         before)
                    started.append((student, hash_state(page)["run"]))
                page.close()
            log(f"{len(started)} students' runs started")
            for student, run_id in started:
                wait_run(student, run_id)
            # One more, long enough to be still training when the teacher looks.
            long_run = api(students[-1], "post", "/api/runs", presets[LONG_PRESET]["config"])
            wait_run(students[-1], long_run["id"], statuses=("running",))

            page = open_page(teacher, f"/#run={long_run['id']}")
            wait(page, "n => document.querySelectorAll('[data-testid=runs-list] li').length"
                       " >= n", len(started) + 2)
            page.locator("#teacher summary").click()
            token = page.locator('[data-testid="admin-token"]')
            token.fill(self.token)
            token.press("Enter")
            page.locator("#teacher-state", has_text="Teacher mode").wait_for()
            page.locator(f'li[data-run-id="{long_run["id"]}"] [data-testid="stop-run"]'
                         ).wait_for()
            wait(page, "() => document.querySelector('[data-testid=heatmap]').data"
                       " && document.querySelector('[data-testid=heatmap]').data[0].z[0].length"
                       " > 20")
            tidy(page)
            scroll_to(page, "#runs", 8)
            if "teacher" in self.wanted:
                save(page, "screenshot-teacher.png")
            api(students[-1], "post", f"/api/runs/{long_run['id']}/stop")
            wait_run(students[-1], long_run["id"])
        finally:
            teacher.close()
            for student in students:
                student.close()

    def script(self) -> None:
        """examples/watch_my_cnn.py, with this visitor's token, streamed into the page."""
        page = self.page
        page.goto("/")
        page.locator("#script-help summary").click()
        wait(page, "document.getElementById('script-snippet').textContent.includes('token=')")
        snippet = page.locator("[data-testid=script-snippet]").text_content()
        visitor_token = snippet.split('token="')[1].split('"')[0]
        page.locator("#script-help summary").click()  # folded again: no token in the PNG
        log("running examples/watch_my_cnn.py")
        script = subprocess.run(
            [sys.executable, "examples/watch_my_cnn.py", "--url", self.url,
             "--token", visitor_token, "--epochs", "6"], cwd=ROOT, capture_output=True,
            text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
        if script.returncode != 0:
            raise RuntimeError(f"watch_my_cnn.py failed:\n{script.stderr[-3000:]}")
        run_id = json.loads(script.stdout.strip().splitlines()[-1])["run"]
        page.goto(f"/#run={run_id}")
        wait_status(page, "completed")
        wait_columns(page, "heatmap", last_step(self.me, run_id))
        tidy(page)
        scroll_to(page, "#watch", 8)
        if "script" in self.wanted:
            save(page, "screenshot-script.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shots", nargs="*", metavar="SHOT",
                        help=f"only these ({', '.join(SHOTS)}); all by default")
    args = parser.parse_args()
    wanted = set(args.shots or SHOTS)
    if wanted - set(SHOTS):
        parser.error(f"unknown shots {sorted(wanted - set(SHOTS))}: choose from {SHOTS}")
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    token = secrets.token_hex(16)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gradwatch-shots-") as tmp, \
            run_server(Path(tmp) / "data", GRADWATCH_ACCESS_CODE=CODE,
                       GRADWATCH_ADMIN_TOKEN=token) as url, sync_playwright() as playwright:
        log(f"server at {url}")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            shots = Shots(browser, url, token, wanted)
            shots.watch()
            if "compare" in wanted:
                shots.compare()
            if "replay" in wanted:
                shots.replay()
            if "phone" in wanted:
                shots.phone()
            if "teacher" in wanted:
                shots.teacher()
            if "script" in wanted:
                shots.script()
        finally:
            browser.close()
    log(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()

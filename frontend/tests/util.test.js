import assert from "node:assert/strict";
import { test } from "node:test";

import { FINAL_STATUSES, STATUSES } from "../contract.js";
import {
  DrawScheduler, isActive, isFinal, ownerText, runLabel, runMatches, within,
} from "../util.js";

test("a status is final or active, never both, and every status is one of them", () => {
  for (const status of STATUSES) assert.notEqual(isFinal(status), isActive(status), status);
  assert.deepEqual(STATUSES.filter(isFinal), FINAL_STATUSES);
  assert.equal(isFinal("running"), false);
  assert.equal(isFinal(undefined), false);
  assert.equal(isActive(undefined), false);
});

test("a run's label is its name and short id, from the run, its config or the id alone", () => {
  assert.equal(runLabel({ id: "abcdef123456", name: "deep sigmoid" }), "deep sigmoid · abcdef12");
  assert.equal(runLabel({ id: "abcdef123456", config: { name: "from config" } }),
    "from config · abcdef12");
  assert.equal(runLabel(null, "0123456789"), "run 01234567");
  assert.equal(runLabel({ id: "abc", name: "" }), "run abc");
});

test("within() finds elements inside a component's root and names the missing one", () => {
  const found = { id: "metric" };
  const root = { querySelector: (selector) => (selector === "#metric" ? found : null) };
  const find = within(/** @type {any} */ (root));
  assert.equal(find("metric"), found);
  assert.throws(() => find("scale"), /#scale/);
});

test("however fast requests come, each key's latest draw runs at most once per interval",
  async () => {
    const scheduler = new DrawScheduler(50);
    const drawn = [];
    let requests = 0;
    const start = performance.now();
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        requests += 1;
        scheduler.request("plots", () => drawn.push(["plots", requests]));
        if (performance.now() - start > 500) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    await new Promise((resolve) => setTimeout(resolve, 80));
    const seconds = (performance.now() - start) / 1000;
    assert.ok(requests > 50, `only ${requests} requests`);
    assert.ok(drawn.length >= 1 && drawn.length <= 20 * seconds + 1, `${drawn.length} draws`);
    assert.equal(drawn.at(-1)[1], requests, "the last request is drawn");
  });

test("a draw that throws does not stop the others", async () => {
  const scheduler = new DrawScheduler(0);
  const warn = console.warn;
  console.warn = () => {};
  try {
    let drawn = false;
    scheduler.request("a", () => { throw new Error("boom"); });
    scheduler.request("b", () => { drawn = true; });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(drawn, true);
  } finally {
    console.warn = warn;
  }
});

test("the runs list's filters: words over name, status and owner, and a status group", () => {
  const [running, queued, done] = ["running", "queued", "completed"];
  const mine = { name: "deep tanh", status: running, owner_label: "visitor 3f9a", owned: true };
  const theirs = { name: "LSTM fix", status: done, owner_label: "visitor 07bc", owned: false };
  const waiting = { name: "relu", status: queued, owner_label: "visitor 07bc", owned: false };
  const runs = [mine, theirs, waiting];
  const names = (...args) => runs.filter((r) => runMatches(r, ...args)).map((r) => r.name);
  assert.deepEqual(names(""), ["deep tanh", "LSTM fix", "relu"]);
  assert.deepEqual(names("lstm"), ["LSTM fix"]);
  assert.deepEqual(names("07bc"), ["LSTM fix", "relu"]);
  assert.deepEqual(names("yours"), ["deep tanh"]);
  assert.deepEqual(names("07bc queued"), ["relu"]);
  assert.deepEqual(names("", "active"), ["deep tanh", "relu"]);
  assert.deepEqual(names("", "ended"), ["LSTM fix"]);
  assert.deepEqual(names("", queued), ["relu"]);
  // The admin owns every run: the owner's label is shown, never "yours".
  assert.equal(ownerText(mine), "yours");
  assert.equal(ownerText(mine, true), "visitor 3f9a");
  assert.deepEqual(names("yours", "", true), []);
});

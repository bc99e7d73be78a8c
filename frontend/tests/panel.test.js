import assert from "node:assert/strict";
import { test } from "node:test";

import { mayStartAgain, statusText, timeLeftText } from "../panel.js";

const live = (run, extra = {}) => ({ run, gone: false, connection: "open",
  lastStep: null, series: { pace: null }, ...extra });

test("the status line says where a run is", () => {
  assert.equal(statusText(null), "Start a run or pick one from the list.");
  assert.match(statusText(live(null, { gone: true })), /does not exist/);
  assert.equal(statusText(live(null)), "connecting…");
  assert.equal(statusText(live({ status: "queued", queue_position: 2 })),
    "queued — position 2 in the queue");
  const running = { status: "running", progress: { step: 3, epoch: 0, total_steps: 20 },
    config: { training: { epochs: 2 } } };
  assert.equal(statusText(live(running)), "running — step 3 of 20, epoch 1 of 2");
  assert.equal(statusText(live(running, { lastStep: { step: 14, epoch: 1 } })),
    "running — step 15 of 20, epoch 2 of 2");
  // Before the second step, the wait for the traced step is said.
  assert.equal(statusText(live({ ...running, progress: { step: 1, epoch: 0, total_steps: 20 } })),
    "running — step 1 of 20, epoch 1 of 2 — preparing the first steps (tracing the model)…");
  assert.equal(statusText(live({ ...running, progress: { step: 0, total_steps: 0 } })),
    "running — building the model");
  assert.equal(statusText(live({ ...running, status: "stopped", source: "script" },
    { connection: "retrying" })), "stopped — 3 steps · from a script");
  assert.equal(statusText(live({ ...running, progress: { step: 1 } }, { connection: "retrying" })),
    "running — building the model (the server cannot be reached; reconnecting…)");
});

test("the time left comes from the worker's pace", () => {
  const run = { status: "running", progress: { step: 10, total_steps: 1010 } };
  assert.equal(timeLeftText(live(run, { series: { pace: 20 } })), "about 50 s left");
  assert.equal(timeLeftText(live(run, { series: { pace: 2 } })), "about 8 min left");
  assert.equal(timeLeftText(live({ ...run, progress: { step: 1010, total_steps: 1010 } },
    { series: { pace: 2 } })), "finishing");
  assert.equal(timeLeftText(live(run)), "");
  assert.equal(timeLeftText(live({ ...run, status: "completed" }, { series: { pace: 2 } })), "");
});

test("the time left never passes the run's time limit", () => {
  // 200,000 steps at 22 a second would take 151 min; the server stops the run at 600 s.
  const run = { status: "running", progress: { step: 0, total_steps: 200000 },
    started_at: 1000, time_limit: 600 };
  assert.equal(timeLeftText(live(run, { series: { pace: 22 } }), 1060),
    "its time limit (10 min) ends it before its last step: about 9 min left");
  assert.equal(timeLeftText(live(run, { series: { pace: 22 } }), 1590),
    "its time limit (10 min) ends it before its last step: about 10 s left");
  assert.equal(timeLeftText(live(run, { series: { pace: 22 } }), 1700),
    "stopping at its time limit (10 min)");
  // A run that ends before its limit is told by its pace.
  assert.equal(timeLeftText(live({ ...run, progress: { step: 0, total_steps: 1000 } },
    { series: { pace: 20 } }), 1060), "about 50 s left");
});

test("a server run that ended with an error is offered again; a script's or a clean one not", () => {
  assert.equal(mayStartAgain({ status: "failed", error: "interrupted by a server restart" }), true);
  assert.equal(mayStartAgain({ status: "failed", error: "x", source: "script" }), false);
  assert.equal(mayStartAgain({ status: "completed", error: null }), false);
  assert.equal(mayStartAgain({ status: "running", error: null }), false);
  assert.equal(mayStartAgain(null), false);
});

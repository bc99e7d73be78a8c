import assert from "node:assert/strict";
import { test } from "node:test";

import { formatHash, parseHash } from "../state.js";

const EMPTY = { run: null, compare: null, metric: null, scale: null, row: null, log: null,
  runs: null, zoom: null, step: null, preset: null, from: null, form: {} };

test("the hash round-trips the view and the form's changed fields", () => {
  const state = { run: "a1", compare: "b2", metric: "weight_norms", row: 3, log: true,
    zoom: [10, 200], step: 0, form: { "model.depth": "4" } };
  assert.deepEqual(parseHash(formatHash(state)), { ...EMPTY, ...state });
});

test("an empty hash is the empty state, and formats back to nothing", () => {
  assert.deepEqual(parseHash(""), EMPTY);
  assert.deepEqual(parseHash("#"), EMPTY);
  assert.equal(formatHash(EMPTY), "");
});

test("values of the wrong type and unknown keys are dropped", () => {
  const state = parseHash("#row=-1&zoom=5_2&log=yes&nonsense=1&f.=x&run=r");
  assert.deepEqual(state, { ...EMPTY, run: "r" });
  assert.deepEqual(parseHash("#zoom=1.4_20.6").zoom, [1.4, 20.6]);
  assert.equal(formatHash({ zoom: [1.4, 20.6] }), "#zoom=1_21");
});

test("form fields are written in a stable order, after the view's keys", () => {
  const hash = formatHash({ preset: "p", form: { "training.epochs": "3", "model.depth": "4" } });
  assert.equal(hash, "#preset=p&f.model.depth=4&f.training.epochs=3");
});

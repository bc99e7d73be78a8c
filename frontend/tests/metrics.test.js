import assert from "node:assert/strict";
import { test } from "node:test";

import { METRICS as CONTRACT } from "../contract.js";
import { DEFAULT_FIELD, FIELDS, METRICS, metricOf, rowLabels, rowName } from "../metrics.js";

test("the heatmap offers the contract's fields, the default first", () => {
  assert.equal(METRICS, CONTRACT);
  assert.deepEqual(FIELDS, Object.keys(CONTRACT));
  assert.equal(FIELDS[0], DEFAULT_FIELD);
  assert.equal(metricOf("no_such_list").label, "no_such_list");
});

test("rows are named by layer (unique names) or by time step", () => {
  const layers = [{ name: "dense" }, { name: "dense" }, {}];
  assert.deepEqual(rowLabels(DEFAULT_FIELD, layers, 4), ["dense", "layer 2", "layer 3", "layer 4"]);
  const time = FIELDS.find((f) => METRICS[f].rows === "time");
  assert.deepEqual(rowLabels(time, layers, 3), ["t=1", "t=2", "t=3"]);
  assert.equal(rowName(DEFAULT_FIELD, layers, 0, 3), "dense (layer 1 of 3)");
  assert.equal(rowName(DEFAULT_FIELD, layers, 2, 3), "(layer 3 of 3)");
  assert.equal(rowName(time, layers, 3, 100), "time step 4 of 100");
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { DisplayGrid } from "../decimate.js";
import { rangeQuery, snapshotQuery, spliceRange, SUMMARY_FIELDS } from "../lod.js";
import { RunSeries } from "../series.js";
import { history, LAYERS, SPIKE, steps, summary } from "./longrun.js";

const rowMax = (grid) => grid.z.map((row) => Math.max(...row.filter(Number.isFinite)));
const fullMax = (field) => steps(0, LAYERS - 1).map((l) => Math.fround(Math.log10(Math.max(
  ...history(0, 4999)[field].map((r) => r[l])))));

/** A 5,000-step run as a bounded snapshot: 625 buckets of the first 4,800, the last 200 exact. */
function summarizedSeries() {
  const series = new RunSeries();
  series.load(history(4800, 4999), [], summary(0, 4799, 625, ["grad_norms"]));
  return series;
}

test("the queries ask for the columns the page shows and the metric shown", () => {
  assert.equal(snapshotQuery("weight_norms"), "buckets=625&metrics=weight_norms");
  assert.equal(snapshotQuery("time_grad_norms"), "buckets=625&metrics=grad_norms");
  assert.ok(!SUMMARY_FIELDS.includes("time_grad_norms"));
  assert.equal(rangeQuery(10.4, 99.2, ["grad_norms", "weight_norms"]),
    "first=10&last=100&buckets=625&metrics=grad_norms,weight_norms");
});

test("a summarized run's heatmap keeps every layer's maximum of the whole run", () => {
  const series = summarizedSeries();
  const store = series.store("grad_norms");
  assert.equal(store.length, 625 + 200);
  assert.equal(series.count, 5000);
  assert.deepEqual(series.summarized.fields, new Set(["grad_norms"]));
  const grid = new DisplayGrid().update(store);
  assert.ok(grid.columns <= 800);
  assert.deepEqual(rowMax(grid), fullMax("grad_norms"));
  assert.equal(Math.max(...rowMax(grid)), 3); // the spike, 1e3, at layer 1
  assert.equal(series.loss.length, 825);
  assert.ok(grid.filled.subarray(0, grid.columns).every(Boolean), "no grey gap between buckets");
  // A metric not summarized has only the exact steps, until it is fetched (ensure).
  assert.equal(series.store("weight_norms").length, 200);
  assert.ok(!series.summarized.fields.has("weight_norms"));
});

test("a zoomed range fetched exact replaces its buckets, whole buckets, and only them", () => {
  const series = summarizedSeries();
  const [lo, hi] = series.widen(3200, 3230);
  assert.ok(lo <= 3200 && hi >= 3230 && hi - lo < 3230 - 3200 + 2 * 8);
  spliceRange(series, { first: lo, last: hi, count: hi - lo + 1, history: history(lo, hi) },
    ["grad_norms"], true);
  const store = series.store("grad_norms");
  const inside = steps(store.lowerBound(lo), store.lowerBound(hi + 1) - 1).map((c) => store.step(c));
  assert.deepEqual(inside, steps(lo, hi));
  assert.ok(!series.coarse.some(([first]) => first >= lo && first <= hi));
  const zoomed = new DisplayGrid();
  zoomed.configure(600, [3200, 3230]);
  zoomed.update(store);
  assert.equal(zoomed.bucket, 1); // exact steps, one column each
  assert.equal(zoomed.rows[1][SPIKE - zoomed.origin], 3);
  assert.deepEqual(rowMax(new DisplayGrid().update(store)), fullMax("grad_norms"));
});

test("a metric the snapshot lacked is spliced in before the exact steps it had", () => {
  const series = summarizedSeries();
  spliceRange(series, { first: 0, last: 4799, count: 4800,
    summary: summary(0, 4799, 625, ["weight_norms"]) }, ["weight_norms"], false);
  const store = series.store("weight_norms");
  assert.equal(store.length, 825);
  assert.equal(store.step(0), 0);
  assert.equal(store.step(825 - 1), 4999);
  assert.deepEqual(rowMax(new DisplayGrid().update(store)), fullMax("weight_norms"));
  assert.equal(series.loss.length, 825); // the loss was not asked for again
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { bands, bandsLegend, THRESHOLDS } from "../bands.js";
import { THRESHOLDS as CONTRACT } from "../contract.js";
import { RunSeries } from "../series.js";

const round = (v) => (v === null ? null : Math.round(v * 100) / 100);

function run(items) {
  const series = new RunSeries();
  series.append(items);
  return series;
}

test("the marks are the diagnosis's thresholds, from the contract", () => {
  assert.equal(THRESHOLDS, CONTRACT);
});

test("the signal view marks vanishing and exploding around the compared layer's signal", () => {
  const series = run([0, 1, 2].map((i) => ({ step: i, loss: 1,
    output_grad_norms: [1e-5, 1e4, 0.5, 3] })));
  const store = series.store("output_grad_norms");
  const marked = (reference) => bands("output_grad_norms", store, reference)
    .map((b) => [b.kind, round(b.from), round(b.to)]);
  // Compared with row 2 (0.5): vanishing below 10⁻² × 0.5, exploding above 10² × 0.5.
  assert.deepEqual(marked(2), [["vanishing", null, -2.3], ["exploding", 1.7, null]]);
  // Without a reference the last row (3) is used.
  assert.deepEqual(marked(null), [["vanishing", null, -1.52], ["exploding", 2.48, null]]);
  assert.deepEqual(bands("grad_norms", store), []);
  assert.deepEqual(bands("weight_norms", store), []);
  assert.deepEqual(bands("output_grad_norms", null), []);
});

test("the time view marks vanishing relative to the last time step", () => {
  const series = run([{ step: 0, loss: 1, time_grad_norms: [1e-9, 1e-3, 1] }]);
  const [band] = bands("time_grad_norms", series.store("time_grad_norms"));
  assert.deepEqual([band.kind, band.from, round(band.to)], ["vanishing", null, -2]);
  assert.match(band.text, /across time/);
});

test("the legend says which ranges are marked", () => {
  assert.match(bandsLegend("output_grad_norms"), /vanishing.*exploding toward the input/);
  assert.match(bandsLegend("grad_norms"), /backpropagated-signal view/);
  assert.match(bandsLegend("time_grad_norms"), /ranges across time/);
  assert.match(bandsLegend("update_ratios"), /no range is marked/);
});

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

test("vanishing is marked below the output layer's recent norm × the ratio; exploding above", () => {
  const series = run([0, 1, 2].map((i) => ({ step: i, loss: 1, grad_norms: [1e-5, 1e4, 0.5] })));
  const marked = bands("grad_norms", series.store("grad_norms"))
    .map((b) => [b.kind, round(b.from), round(b.to)]);
  // Vanishing: below 10⁻² × the output layer's 0.5; exploding: above 10³ (diagnose.py).
  assert.deepEqual(marked, [["vanishing", null, -2.3], ["exploding", 3, null]]);
  assert.deepEqual(bands("weight_norms", series.store("grad_norms")), []);
  assert.deepEqual(bands("grad_norms", null), []);
});

test("the time view marks vanishing relative to the last time step", () => {
  const series = run([{ step: 0, loss: 1, time_grad_norms: [1e-9, 1e-3, 1] }]);
  const [band] = bands("time_grad_norms", series.store("time_grad_norms"));
  assert.deepEqual([band.kind, band.from, round(band.to)], ["vanishing", null, -6]);
  assert.match(band.text, /across time/);
});

test("the legend says which ranges are marked", () => {
  assert.match(bandsLegend("grad_norms"), /vanishing.*exploding \(above 10³\)/);
  assert.match(bandsLegend("time_grad_norms"), /vanishing across time/);
  assert.match(bandsLegend("update_ratios"), /no range is marked/);
});

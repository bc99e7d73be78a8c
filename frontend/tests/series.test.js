import assert from "node:assert/strict";
import { test } from "node:test";

import { RunSeries } from "../series.js";

const step = (i) => ({ step: i, epoch: 0, loss: 1 / (i + 1), t: i,
  grad_norms: [i === 777 ? 1e4 : 10 ** -(i % 7), 0, null, Infinity] });

test("a long run keeps bounded memory, and its spike, in every per-layer store", () => {
  // 4 layers × 1000 steps in a store capped at 100 columns, one spike at step 777.
  const series = new RunSeries({ maxColumns: 100 });
  for (let i = 0; i < 1000; i += 10) series.append(Array.from({ length: 10 }, (_, k) => step(i + k)));
  const store = series.store("grad_norms");
  assert.ok(store.length >= 50 && store.length <= 100);
  assert.equal(store.rows, 4);
  assert.equal(Math.max(...store.data[0].subarray(0, store.length)), 4);
  assert.equal(series.count, 1000);
  assert.equal(series.pace, 1);
  assert.equal(series.nonFinite, 0); // null and Infinity gradients from step 0
  assert.deepEqual(series.present, ["grad_norms"]);
  assert.equal(series.store("weight_norms"), null);
  assert.equal(series.layerCount, 4);
});

test("a step is never taken twice, and a snapshot replaces what was there", () => {
  const series = new RunSeries();
  series.append([step(0), step(1)]);
  series.append([step(1), step(2)]);
  assert.equal(series.count, 3);
  assert.equal(series.loss.length, 3);
  const revision = series.revision;
  series.load({ step: [0, 1], loss: [1, 0.5], grad_norms: [[1, 1e-3], [1, 1e-4]] },
    [{ epoch: 0, loss: 0.7 }]);
  const store = series.store("grad_norms");
  assert.equal(store.length, 2);
  assert.deepEqual(Array.from(store.data[1].subarray(0, 2), (v) => Math.round(v)), [-3, -4]);
  assert.ok(series.revision > revision);
  assert.deepEqual(series.lastEpoch, { epoch: 0, loss: 0.7 });
});

test("epochs are replaced by index; the time view keeps the newest sample", () => {
  const series = new RunSeries();
  series.addEpoch({ epoch: 0, loss: 1 });
  series.addEpoch({ epoch: 0, loss: 0.5 });
  assert.deepEqual(series.epochs, [{ epoch: 0, loss: 0.5 }]);
  series.append([{ step: 0, loss: 1, time_grad_norms: [1e-6, 1] },
    { step: 5, loss: NaN }, { step: 10, loss: 1, time_grad_norms: [1e-3, 1] }]);
  assert.deepEqual([series.timeStep, series.timeNorms], [10, [1e-3, 1]]);
  assert.equal(series.nonFinite, 5);
  assert.equal(series.store("time_grad_norms").length, 2);
  assert.equal(series.pace, null); // no clock
});

test("dead-unit fractions are kept as they are, so a 0 is a value and not a gap", () => {
  const series = new RunSeries();
  series.append([{ step: 0, loss: 1, t: 0, grad_norms: [0, 1], dead_fractions: [0, 0.5] },
    { step: 1, loss: 1, t: 1, grad_norms: [0, 1], dead_fractions: [1, null] }]);
  const dead = series.store("dead_fractions");
  assert.deepEqual([dead.value(0, 0), dead.value(1, 0), dead.value(0, 1)], [0, 0.5, 1]);
  assert.ok(Number.isNaN(dead.value(1, 1)));
  assert.deepEqual(dead.range(), [0, 1]);
  assert.equal(series.store("grad_norms").value(0, 0), -Infinity); // log10 of an exact 0
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { ColumnStore, encodeLog, encodePlain, mergeMax } from "../columns.js";

test("norms are stored as log10; 0 is -Infinity and a non-finite value a gap (NaN)", () => {
  assert.equal(encodeLog(1e-3), -3);
  assert.equal(encodeLog(0), -Infinity);
  for (const value of [NaN, Infinity, null, undefined, "1"]) assert.ok(Number.isNaN(encodeLog(value)));
  assert.equal(encodePlain(0.5), 0.5);
  assert.ok(Number.isNaN(encodePlain(Infinity)));
});

test("merging keeps the larger value, and a non-finite one wins", () => {
  assert.equal(mergeMax(-3, -1), -1);
  assert.equal(mergeMax(-Infinity, -7), -7);
  assert.ok(Number.isNaN(mergeMax(NaN, 5)));
  assert.ok(Number.isNaN(mergeMax(5, NaN)));
});

test("past its cap a store merges neighbouring columns, keeping a one-step spike", () => {
  const store = new ColumnStore({ maxColumns: 16 });
  for (let step = 0; step < 100; step += 1) store.push(step, [step === 37 ? 1e4 : 1e-2, 1]);
  assert.ok(store.length <= 16 && store.length >= 8, `${store.length} columns`);
  assert.equal(store.stride, 8);
  assert.equal(Math.max(...store.data[0].subarray(0, store.length)), 4);
  assert.deepEqual(store.range(), [-2, 4]);
  assert.equal(store.lastPushed, 99);
  // Evenly spaced: each column starts a stride after the previous one.
  for (let c = 1; c < store.length; c += 1) assert.equal(store.step(c) - store.step(c - 1), 8);
});

test("a step already taken in is ignored, and rows added later are gaps before", () => {
  const store = new ColumnStore();
  store.push(0, [1]);
  store.push(0, [1e9]);
  store.push(1, [10, 100]);
  assert.equal(store.length, 2);
  assert.equal(store.value(0, 0), 0);
  assert.equal(store.rows, 2);
  assert.ok(Number.isNaN(store.value(1, 0)));
  assert.equal(store.value(1, 1), 2);
});

test("lowerBound finds steps, recentMedian takes the finite values of the last columns", () => {
  const store = new ColumnStore();
  [0, 10, 20, 30].forEach((step, i) => store.push(step, [[1, 10, NaN, 1000][i]]));
  assert.deepEqual([0, 1, 10, 11, 31].map((s) => store.lowerBound(s)), [0, 1, 1, 2, 4]);
  assert.equal(store.recentMedian(0, 4), 1);    // median of 0, 1, 3
  assert.equal(store.recentMedian(0, 2), 3);    // only 1000 is finite
  assert.equal(new ColumnStore().recentMedian(0, 5), null);
  assert.equal(new ColumnStore().range(), null);
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { ColumnStore } from "../columns.js";
import { DisplayGrid, envelope, powerOfTwoAtLeast } from "../decimate.js";
import { RunSeries } from "../series.js";

function longRun() {
  const series = new RunSeries({ maxColumns: 100 });
  const step = (i) => ({ step: i, loss: 1, t: i,
    grad_norms: [i === 777 ? 1e4 : 10 ** -(i % 7), 0, null, Infinity] });
  for (let i = 0; i < 1000; i += 10) series.append(Array.from({ length: 10 }, (_, k) => step(i + k)));
  return series.store("grad_norms");
}

test("powers of two", () => {
  assert.deepEqual([0, 1, 2, 3, 64, 65].map(powerOfTwoAtLeast), [1, 1, 2, 4, 64, 128]);
});

test("the display grid shows each bucket's largest value: the spike survives", () => {
  const grid = new DisplayGrid(50).update(longRun());
  const columns = Array.from(grid.z[0]);
  assert.ok(columns.length <= 50 && grid.bucket > 1);
  assert.equal(Math.max(...columns), 4);
  // 0 has no logarithm and NaN/∞ are not finite: both are gaps, told apart by the tooltip.
  assert.ok(Array.from(grid.z[1]).every((v) => v === -Infinity));
  assert.ok(Array.from(grid.z[2]).every((v) => Number.isNaN(v)));
});

test("a short run has one column per step, updated in place as steps arrive", () => {
  const store = new ColumnStore();
  const grid = new DisplayGrid(100);
  for (let s = 0; s < 10; s += 1) {
    store.push(s, [10 ** -s]);
    grid.update(store);
  }
  assert.deepEqual([grid.x0, grid.bucket, grid.columns], [0, 1, 10]);
  assert.deepEqual(Array.from(grid.z[0], Math.round), [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
  assert.deepEqual(grid.span(3), [3, 4]);
});

test("zooming shows only the chosen steps", () => {
  const store = new ColumnStore();
  for (let s = 0; s < 1000; s += 1) store.push(s, [s]);
  const grid = new DisplayGrid();
  grid.configure(100, [200, 299]);
  grid.update(store);
  assert.equal(grid.origin, 200);
  assert.ok(grid.columns <= 102);
  const [first] = grid.span(0);
  assert.equal(store.step(first), 200);
});

test("the line envelope keeps the extremes of each bucket, in step order", () => {
  const store = longRun();
  const line = envelope(store, 0, 40, (v) => 10 ** v);
  assert.ok(line.x.length <= 40);
  assert.ok(Math.abs(Math.max(...line.y) - 1e4) < 10);
  assert.deepEqual(line.x, [...line.x].sort((a, b) => a - b));
  assert.deepEqual(envelope(null, 0, 10), { x: [], y: [] });
  // A row of gaps is a line of nulls, not dropped points.
  assert.ok(envelope(store, 2, 40).y.every((v) => v === null));
});

test("an exact 0 is told apart from a column without steps, also after the buckets widen", () => {
  const store = new ColumnStore();
  // Steps 0-9 and 30-39 recorded (10-29 missing): row 0 is 0 from step 5, row 1 never is.
  for (let s = 0; s < 40; s += 1) {
    if (s < 10 || s >= 30) store.push(s, [s >= 5 ? 0 : 1, 1]);
  }
  const grid = new DisplayGrid(100).update(store);
  const { rows, count } = grid.zeros();
  const zeroAt = (row) => Array.from(row).flatMap((v, k) => (v === 0 ? [k] : []));
  assert.deepEqual(zeroAt(rows[0]), [5, 6, 7, 8, 9, ...Array.from({ length: 10 }, (_, i) => 30 + i)]);
  assert.deepEqual(zeroAt(rows[1]), []);
  assert.equal(count, 15);
  // Steps 10-29 are gaps in both rows: -Infinity in z, but not zeros.
  assert.equal(grid.z[0][20], -Infinity);
  assert.ok(Number.isNaN(rows[0][20]));

  // Fed step by step, the grid widens its buckets (4 steps each at the end); 0s stay 0s.
  const later = new ColumnStore();
  const grid4 = new DisplayGrid(50);
  for (let s = 0; s < 200; s += 1) {
    if (s >= 10 && s < 30) continue;
    later.push(s, [s < 10 ? 1 : 0]);
    grid4.update(later);
  }
  assert.equal(grid4.bucket, 4);
  const kinds = Array.from(grid4.zeros().rows[0], (v, k) => (v === 0 ? "0"
    : grid4.filled[k] ? "v" : "-")).join("");
  assert.equal(kinds, `vvv----${"0".repeat(43)}`);
});

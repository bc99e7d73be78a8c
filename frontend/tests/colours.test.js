import assert from "node:assert/strict";
import { test } from "node:test";

import { colourTicks, DEFAULT_SCALE, powerOfTen, SCALES, scientific, sharedRange }
  from "../colours.js";

test("colour-bar ticks are whole powers of ten, at most about eight", () => {
  assert.deepEqual(colourTicks(-6, 0).ticktext,
    ["10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"]);
  assert.deepEqual(colourTicks(-6, 0).tickvals, [-6, -5, -4, -3, -2, -1, 0]);
  assert.ok(colourTicks(-40, 10).tickvals.length <= 9);
  assert.equal(powerOfTen(12), "10¹²");
});

test("the shared range covers every run's range, widened to integers", () => {
  assert.deepEqual(sharedRange([[-5.5, -1.2], [-3, 0.4]]), [-6, 1]);
  assert.deepEqual(sharedRange([null, [-2, -2]]), [-2, -1]);
  assert.deepEqual(sharedRange([]), [-6, 0]);
});

test("numbers read as a student writes them", () => {
  assert.deepEqual([scientific(0.00032), scientific(12345), scientific(0.5)],
    ["3.2×10⁻⁴", "1.2×10⁴", "0.5"]);
  assert.equal(scientific(9.99e-5), "1×10⁻⁴");
  assert.equal(scientific(0), "0");
  assert.equal(scientific(NaN), "not a number");
  assert.equal(scientific(-Infinity), "−∞");
});

test("the default scale is one of the scales", () => {
  assert.ok(DEFAULT_SCALE in SCALES);
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { cellLegend, cellLegendText, FRACTION_TICKS, GAP_COLOUR, ZERO_COLOUR } from "../cellkey.js";

test("a norm's legend tells an exact 0 (black) from a gap (grey); fractions are linear", () => {
  assert.notEqual(ZERO_COLOUR, GAP_COLOUR);
  const norms = cellLegend("grad_norms");
  assert.deepEqual(norms.map(([swatch]) => swatch), [null, "zero", "gap"]);
  assert.match(cellLegendText("grad_norms"), /Black: exactly 0.*Grey: no data/);
  const dead = cellLegend("dead_fractions");
  assert.deepEqual(dead.map(([swatch]) => swatch), [null, "gap"]);
  assert.match(dead[0][1], /linear scale from 0/);
  assert.deepEqual([FRACTION_TICKS.tickvals.at(0), FRACTION_TICKS.tickvals.at(-1)], [0, 1]);
});

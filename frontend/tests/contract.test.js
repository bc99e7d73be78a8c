// contract.js is generated from trainer/contract/ (tests/test_contract_js.py checks the
// generator); this checks what the page relies on when it imports it.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as contract from "../contract.js";

test("the contract is frozen, so no module can change it for the others", () => {
  assert.ok(Object.isFrozen(contract.STATUSES));
  assert.ok(Object.isFrozen(contract.METRICS.grad_norms));
  assert.throws(() => { contract.CLOSE_CODES.gone = 1000; }, TypeError);
});

test("final and active statuses split the statuses", () => {
  assert.deepEqual([...contract.ACTIVE_STATUSES, ...contract.FINAL_STATUSES], contract.STATUSES);
});

test("the default metric is the first per-layer field, with the page's words", () => {
  assert.equal(Object.keys(contract.METRICS)[0], contract.DEFAULT_METRIC);
  for (const words of Object.values(contract.METRICS)) {
    assert.equal(typeof words.label, "string");
    assert.ok(["layer", "time"].includes(words.rows));
  }
  assert.ok(contract.THRESHOLDS.vanishingRatio < 1 && contract.THRESHOLDS.explodingNorm > 1);
});

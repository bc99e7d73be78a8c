import assert from "node:assert/strict";
import { test } from "node:test";

import { changesText, childName } from "../formpanel.js";

test("a restart is named after its parent and what changed, within the limit", () => {
  assert.equal(childName("deep sigmoid", "ReLU"), "deep sigmoid → ReLU");
  assert.equal(childName("", "again"), "run → again");
  const long = childName("x".repeat(30), "y".repeat(30), 20);
  assert.equal(long.length, 20);
  assert.ok(long.endsWith("…"));
});

test("a restart's name says its changes in words", () => {
  assert.equal(changesText({ "remedies.batch_norm": true, "remedies.clipping": "global_norm",
    "model.depth": 12 }), "+ batch norm, clipping Global norm, depth 12");
  assert.equal(changesText({ "remedies.residual": false, "model.cell": "lstm" }),
    "no residual, cell LSTM");
});

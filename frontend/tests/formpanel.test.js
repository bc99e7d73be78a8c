import assert from "node:assert/strict";
import { test } from "node:test";

import { childName } from "../formpanel.js";

test("a restart is named after its parent and what changed, within the limit", () => {
  assert.equal(childName("deep sigmoid", "ReLU"), "deep sigmoid → ReLU");
  assert.equal(childName("", "again"), "run → again");
  const long = childName("x".repeat(30), "y".repeat(30), 20);
  assert.equal(long.length, 20);
  assert.ok(long.endsWith("…"));
});

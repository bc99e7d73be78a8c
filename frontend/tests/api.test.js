import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, metricsUrl } from "../api.js";

test("an API error says what the server said, and where to wait", () => {
  const fields = [{ loc: ["body", "model", "depth"], msg: "depth must be 1 to 64" },
    { loc: ["body"], msg: "unknown field remedy" }];
  const invalid = new ApiError(422, fields);
  assert.equal(invalid.message, "depth must be 1 to 64; unknown field remedy");
  assert.deepEqual(invalid.fieldErrors, fields);
  const busy = new ApiError(429, "you have 3 runs going", "7");
  assert.equal(busy.message, "you have 3 runs going (try again in 7 s)");
  assert.deepEqual(busy.fieldErrors, []);
  assert.equal(new ApiError(500, null).message, "the server answered 500");
});

test("downloads address the run's metrics", () => {
  assert.equal(metricsUrl("a/b", "csv"), "/api/runs/a%2Fb/metrics?format=csv");
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, listRuns, metricsUrl, useAdminToken } from "../api.js";

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

test("the admin token, once given, goes with every call as a bearer token, and can be dropped", async (t) => {
  const sent = [];
  t.mock.method(globalThis, "fetch", async (path, init) => {
    sent.push(init.headers.Authorization);
    return new Response("[]", { status: 200 });
  });
  await listRuns();
  useAdminToken("teach-1");
  await listRuns();
  useAdminToken(null);
  await listRuns();
  assert.deepEqual(sent, [undefined, "Bearer teach-1", undefined]);
});

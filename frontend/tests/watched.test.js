import assert from "node:assert/strict";
import { test } from "node:test";

import { CLOSE_CODES } from "../contract.js";
import { WatchedRun } from "../watched.js";
import { installFakes } from "./fakesocket.js";

test("a watched run follows its socket and says which part changed", (t) => {
  const { sockets } = installFakes(t);
  const parts = [];
  const live = new WatchedRun("abcdef123456", (part) => parts.push(part));
  assert.equal(live.label, "run abcdef12");
  sockets[0].send({ type: "snapshot", run: { id: "abcdef123456", name: "deep", status: "running",
    owned: true, diagnosis: null }, history: { step: [0], loss: [1], grad_norms: [[1, 2]] },
  epochs: [] });
  assert.deepEqual(parts, ["run", "data", "diagnosis", "epoch"]);
  assert.equal(live.label, "deep · abcdef12");
  assert.equal(live.series.count, 1);
  sockets[0].send({ type: "metrics", items: [{ step: 1, loss: 0.5, t: 1 }] });
  assert.equal(live.lastStep.step, 1);
  // The shared run frame has no `owned`: the snapshot's stays.
  sockets[0].send({ type: "run", run: { id: "abcdef123456", status: "running", layers: [1] } });
  assert.equal(live.run.owned, true);
  sockets[0].send({ type: "status", status: "completed", error: null });
  assert.equal(live.status, "completed");
  sockets[0].send({ type: "diagnosis", diagnosis: { state: "vanishing" } });
  assert.equal(live.run.diagnosis.state, "vanishing");
  live.close();
  assert.equal(sockets[0].closedWith, 1000);
});

test("a run that does not exist is gone", (t) => {
  const { sockets } = installFakes(t);
  const live = new WatchedRun("nope", () => {});
  sockets[0].drop(CLOSE_CODES.gone);
  assert.equal(live.gone, true);
  assert.equal(live.connection, "closed");
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { CLOSE_CODES } from "../contract.js";
import { WatchedRun } from "../watched.js";
import { installFakes } from "./fakesocket.js";
import { history, SPIKE, summary } from "./longrun.js";

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

/** A server for /history: answers `respond(params)`, recording each query asked. */
function fakeHistory(t, respond) {
  const asked = [];
  t.mock.method(globalThis, "fetch", async (path) => {
    const params = Object.fromEntries(new URL(path, "https://x").searchParams);
    asked.push(params);
    return { ok: true, status: 200, text: async () => JSON.stringify(respond(params)),
      headers: new Map() };
  });
  return asked;
}

const settle = () => new Promise((resolve) => { setImmediate(resolve); });

test("a long run comes bounded, and a metric or a zoomed range is fetched when shown", async (t) => {
  const { sockets } = installFakes(t);
  const asked = fakeHistory(t, ({ first, last, metrics }) => {
    const [lo, hi] = [Number(first), Number(last)];
    return hi - lo + 1 <= 625 ? { first: lo, last: hi, count: hi - lo + 1, history: history(lo, hi) }
      : { first: lo, last: hi, count: hi - lo + 1, summary: summary(lo, hi, 625, metrics.split(",")) };
  });
  const parts = [];
  const live = new WatchedRun("long", (part) => parts.push(part), "grad_norms");
  assert.equal(sockets[0].url, "wss://gradwatch.example/ws/runs/long?buckets=625&metrics=grad_norms");
  sockets[0].send({ type: "snapshot", run: { id: "long", status: "completed" },
    history: history(4800, 4999), summary: summary(0, 4799, 625, ["grad_norms"]), epochs: [] });
  assert.equal(live.series.count, 5000);
  assert.equal(live.refine(0, 4999), null, "the whole run is shown at its snapshot's detail");
  assert.equal(live.ensure("grad_norms"), null, "the snapshot has it");

  await live.ensure("weight_norms");
  assert.deepEqual(asked.at(-1), { first: "0", last: "4799", buckets: "625",
    metrics: "weight_norms" });
  assert.equal(live.series.store("weight_norms").length, 825);
  assert.ok(parts.includes("detail"));
  assert.equal(live.ensure("weight_norms"), null, "fetched once");

  await live.refine(3200, 3230);
  const zoom = asked.at(-1);
  assert.equal(zoom.metrics, "grad_norms,weight_norms");
  assert.ok(Number(zoom.first) <= 3200 && Number(zoom.last) >= 3230 && Number(zoom.last) < 3250);
  const store = live.series.store("grad_norms");
  assert.equal(store.value(1, store.lowerBound(SPIKE)), 3, "the spike, exact");
  assert.equal(store.step(store.lowerBound(SPIKE)), SPIKE);
  assert.equal(live.refine(3200, 3230), null, "exact now: not asked again");
  const count = asked.length;

  // An answer that comes after a new snapshot is for the old series: dropped.
  const late = live.refine(100, 130);
  sockets[0].send({ type: "snapshot", run: { id: "long", status: "completed" },
    history: history(4800, 4999), summary: summary(0, 4799, 625, ["grad_norms"]), epochs: [] });
  await late;
  await settle();
  assert.equal(asked.length, count + 1);
  assert.equal(live.series.store("grad_norms").length, 825);
});

test("a short run's snapshot is whole: nothing is fetched", (t) => {
  const { sockets } = installFakes(t);
  const asked = fakeHistory(t, () => ({}));
  const live = new WatchedRun("short", () => {}, "grad_norms");
  sockets[0].send({ type: "snapshot", run: { id: "short", status: "completed" },
    history: history(0, 99), epochs: [] });
  assert.equal(live.ensure("weight_norms"), null);
  assert.equal(live.refine(10, 20), null);
  assert.equal(asked.length, 0);
  assert.equal(live.series.store("weight_norms").length, 100);
});

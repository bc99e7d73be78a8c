import assert from "node:assert/strict";
import { test } from "node:test";

import { CLOSE_CODES } from "../contract.js";
import { RunStream, socketUrl } from "../stream.js";
import { installFakes } from "./fakesocket.js";

function watch(t) {
  const { sockets, clock } = installFakes(t);
  const events = [];
  const record = (name) => (...args) => events.push([name, ...args]);
  const names = ["snapshot", "metrics", "epoch", "diagnosis", "status", "run", "gone", "connection"];
  const stream = new RunStream("run/1", Object.fromEntries(names.map((n) => [n, record(n)])));
  return { sockets, clock, events, stream };
}

test("the socket's address follows the page's scheme and host", () => {
  assert.equal(socketUrl("a b", { protocol: "http:", host: "localhost:8000" }),
    "ws://localhost:8000/ws/runs/a%20b");
  assert.equal(socketUrl("x", { protocol: "https:", host: "h" }), "wss://h/ws/runs/x");
});

test("frames reach their handlers; unreadable and unknown ones are skipped", (t) => {
  const { sockets, events } = watch(t);
  const [socket] = sockets;
  assert.equal(socket.url, "wss://gradwatch.example/ws/runs/run%2F1");
  socket.open();
  socket.send({ type: "snapshot", run: { status: "running" }, history: { step: [] } });
  socket.send("{not json");
  socket.send({ type: "later-addition" });
  socket.send({ type: "metrics", items: [{ step: 0 }] });
  socket.send({ type: "epoch", epoch: 0, loss: 1 });
  socket.send({ type: "diagnosis", diagnosis: { state: "healthy" } });
  socket.send({ type: "status", status: "completed" });
  assert.deepEqual(events.map((e) => e[0]),
    ["connection", "snapshot", "metrics", "epoch", "diagnosis", "status"]);
  assert.deepEqual(events[1].slice(1), [{ status: "running" }, { step: [] }, [], null]);
  assert.deepEqual(events.at(-1), ["status", "completed", null]);
});

test("a dropped socket of a running run reconnects, waiting longer each time until one opens",
  (t) => {
    const { sockets, clock, events } = watch(t);
    t.mock.method(Math, "random", () => 0.5); // no jitter: waits of 500 ms, 1 s, 2 s...
    sockets[0].send({ type: "snapshot", run: { status: "running" }, history: {} });
    sockets[0].drop(1011);
    assert.deepEqual(events.at(-1), ["connection", "retrying"]);
    clock.tick(499);
    assert.equal(sockets.length, 1);
    clock.tick(1);
    assert.equal(sockets.length, 2);
    sockets[1].drop(CLOSE_CODES.evicted);
    clock.tick(999);
    assert.equal(sockets.length, 2);
    clock.tick(1);
    assert.equal(sockets.length, 3);
    sockets[2].open();
    sockets[2].drop(1006);
    clock.tick(500);
    assert.equal(sockets.length, 4, "an open socket resets the wait");
  });

test("a bounded snapshot's query is asked afresh on every (re)connect", (t) => {
  const { sockets, clock } = installFakes(t);
  t.mock.method(Math, "random", () => 0.5);
  let metric = "grad_norms";
  const stream = new RunStream("r", {}, () => `buckets=625&metrics=${metric}`);
  assert.ok(stream);
  assert.equal(sockets[0].url, "wss://gradwatch.example/ws/runs/r?buckets=625&metrics=grad_norms");
  metric = "weight_norms";
  sockets[0].drop(1011);
  clock.tick(500);
  assert.equal(sockets[1].url,
    "wss://gradwatch.example/ws/runs/r?buckets=625&metrics=weight_norms");
});

test("once the run is final the socket is not reopened", (t) => {
  const { sockets, clock, events } = watch(t);
  sockets[0].send({ type: "run", run: { status: "failed" } });
  sockets[0].drop(1000);
  clock.tick(60_000);
  assert.equal(sockets.length, 1);
  assert.deepEqual(events.at(-1), ["connection", "closed"]);
});

test("a run that does not exist is gone, and not asked for again", (t) => {
  const { sockets, clock, events } = watch(t);
  sockets[0].drop(CLOSE_CODES.gone);
  clock.tick(60_000);
  assert.equal(sockets.length, 1);
  assert.deepEqual(events.map((e) => e[0]), ["gone", "connection"]);
});

test("close() ends the socket and any pending retry", (t) => {
  const { sockets, clock, stream } = watch(t);
  sockets[0].drop(1006);
  stream.close();
  clock.tick(60_000);
  assert.equal(sockets.length, 1);
});

test("close() closes an open socket normally", (t) => {
  const { sockets, stream } = watch(t);
  stream.close();
  assert.equal(sockets[0].closedWith, 1000);
});

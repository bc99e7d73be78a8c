import assert from "node:assert/strict";
import { test } from "node:test";

import { ReplayClock, diagnosisAt, seriesUpTo, storeUpTo } from "../replay.js";
import { RunSeries } from "../series.js";

const steps = (n, every = 1) => Array.from({ length: n }, (_, k) => ({
  step: k * every, epoch: 0, loss: 1 / (k + 1), t: k, grad_norms: [10 ** -k, 1],
}));

test("a store cut at a step shows the steps up to it, on the whole run's colour range", () => {
  const series = new RunSeries();
  series.append(steps(50, 2)); // steps 0, 2, ..., 98
  const store = series.store("grad_norms");
  const cut = storeUpTo(store, 9);
  assert.equal(cut.length, 5); // 0, 2, 4, 6, 8
  assert.equal(cut.lastStep, 8);
  assert.equal(cut.value(0, 4), -4);
  assert.deepEqual(cut.range(), store.range());
  assert.equal(store.length, 50); // the store itself is untouched
  assert.equal(storeUpTo(store, 1000).length, 50);
  assert.equal(storeUpTo(store, -1).length, 0);
});

test("a series cut at a step: loss, stores and a fresh revision for the plots", () => {
  const series = new RunSeries();
  series.append(steps(20));
  const cut = seriesUpTo(series, 4);
  assert.equal(cut.loss.length, 5);
  assert.equal(cut.store("grad_norms").length, 5);
  assert.equal(cut.count, 5);
  assert.notEqual(cut.revision, seriesUpTo(series, 5).revision);
  assert.equal(seriesUpTo(series, -1).store("grad_norms"), null);
  assert.equal(cut.timeNorms, null);
});

test("the clock replays a whole run in its duration, whatever the run's length", () => {
  const clock = new ReplayClock(10);
  clock.play(0);
  assert.equal(clock.advance(1, 999), 100);
  assert.equal(clock.advance(4, 999), 500);
  clock.duration = 60; // slower from here, from where it is
  assert.equal(clock.advance(6, 999), 600);
  assert.equal(clock.playing, true);
  assert.equal(clock.advance(100, 999), 999);
  assert.equal(clock.playing, false);
  clock.pause();
  assert.equal(clock.advance(5, 999), 999);
});

test("the diagnosis at a step is the last one made at or before it", () => {
  const timeline = [
    { step: 9, diagnosis: { state: "healthy" } },
    { step: 24, diagnosis: { state: "vanishing" } },
    { step: 39, diagnosis: { state: "vanishing", ratio: 1e-6 } },
  ];
  assert.equal(diagnosisAt(timeline, 0), null); // before the first: none yet
  assert.equal(diagnosisAt(timeline, 9).state, "healthy");
  assert.equal(diagnosisAt(timeline, 23).state, "healthy");
  assert.equal(diagnosisAt(timeline, 24).state, "vanishing");
  assert.equal(diagnosisAt(timeline, 1000).ratio, 1e-6);
  assert.equal(diagnosisAt([], 5), null);
});

import assert from "node:assert/strict";
import { test } from "node:test";

import { DiagnosisTimeline } from "../timeline.js";

const diagnosis = (state) => ({ state, summary: state });
const run = (id, status, step, state) => ({
  id, run: { status }, diagnosis: diagnosis(state), series: { last: { step } },
});

function serve(t, answers) {
  const asked = [];
  t.mock.method(globalThis, "fetch", async (path) => {
    asked.push(String(path));
    const answer = answers[asked.length - 1];
    return answer instanceof Response ? answer : new Response(JSON.stringify(answer), {
      status: 200, headers: { "Content-Type": "application/json" } });
  });
  return asked;
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

test("a replayed step shows the diagnosis the run had then, once the timeline is read", async (t) => {
  const asked = serve(t, [{ run_id: "r1", diagnoses: [
    { step: 9, diagnosis: diagnosis("vanishing") }, { step: 40, diagnosis: diagnosis("healthy") }] }]);
  let loaded = 0;
  const timeline = new DiagnosisTimeline(() => { loaded += 1; });
  const live = run("r1", "finished", 99, "healthy");
  assert.equal(timeline.at(live, null), live, "not replaying: the run as it is, nothing asked");
  assert.equal(asked.length, 0);
  assert.equal(timeline.at(live, 20), live, "until the timeline comes: the newest");
  assert.equal(timeline.knows("r1"), false);
  await settled();
  assert.deepEqual(asked, ["/api/runs/r1/diagnoses"]);
  assert.equal(loaded, 1);
  assert.equal(timeline.knows("r1"), true);
  assert.equal(timeline.at(live, 20).diagnosis.state, "vanishing");
  assert.equal(timeline.at(live, 40).diagnosis.state, "healthy");
  assert.equal(timeline.at(live, 3).diagnosis, null, "before the first diagnosis: none (the box says unknown)");
  assert.equal(live.diagnosis.state, "healthy", "the run itself is not changed");
  assert.equal(asked.length, 1, "read once per run");
});

test("a running run's new diagnosis joins the timeline; an ended run's does not", async (t) => {
  serve(t, [{ diagnoses: [{ step: 5, diagnosis: diagnosis("vanishing") }] },
    { diagnoses: [{ step: 5, diagnosis: diagnosis("vanishing") }] }]);
  const timeline = new DiagnosisTimeline(() => {});
  const live = run("r2", "running", 10, "vanishing");
  timeline.at(live, 0);
  await settled();
  timeline.note(live); // the same diagnosis again: nothing new
  timeline.note({ ...live, diagnosis: diagnosis("healthy"), series: { last: { step: 30 } } });
  assert.equal(timeline.at(live, 29).diagnosis.state, "vanishing");
  assert.equal(timeline.at(live, 30).diagnosis.state, "healthy");
  const ended = run("r3", "finished", 50, "healthy");
  timeline.at(ended, 0);
  await settled();
  timeline.note({ ...ended, diagnosis: diagnosis("exploding") });
  assert.equal(timeline.at(ended, 50).diagnosis.state, "vanishing");
});

test("an unreadable timeline leaves the newest diagnosis, and says it is not known", async (t) => {
  serve(t, [new Response("{}", { status: 500 })]);
  const timeline = new DiagnosisTimeline(() => assert.fail("nothing loaded"));
  const live = run("r4", "finished", 9, "healthy");
  assert.equal(timeline.at(live, 2), live);
  await settled();
  assert.equal(timeline.knows("r4"), false);
  assert.equal(timeline.knows(undefined), false);
  assert.equal(timeline.at(live, 2), live);
});

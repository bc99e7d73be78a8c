// @ts-check
// The watched run's diagnoses as they changed (GET /api/runs/{id}/diagnoses), for replay:
// fetched once per run when replay first needs them, with a running run's new diagnoses
// joining them as they come (docs/protocol.md).

import * as api from "./api.js";
import { diagnosisAt } from "./replay.js";
import { isActive } from "./util.js";

export class DiagnosisTimeline {
  /** `onLoaded()` when a fetched timeline arrives. */
  constructor(onLoaded) {
    this.onLoaded = onLoaded;
    // {id, entries: [{step, diagnosis}] or null while loading or when it could not be read}.
    this.current = null;
  }

  /** Whether the timeline of run `id` has been read. */
  knows(id) {
    return Boolean(this.current?.id === id && this.current?.entries);
  }

  /**
   * The run `live` as the diagnosis box shows it at replayed `step`: with the diagnosis it had
   * then (until the timeline comes, the newest).
   * @param {number | null} step
   */
  at(live, step) {
    if (!live || step === null) return live;
    if (this.current?.id !== live.id) this.load(live.id);
    const entries = this.current?.entries;
    if (!entries) return live;
    const shown = Object.create(live);
    shown.diagnosis = diagnosisAt(entries, step);
    return shown;
  }

  /**
   * A running run's new diagnosis joins its timeline (an ended run's, read from the server,
   * is whole; the page re-announces the newest on every run update).
   */
  note(live) {
    const entries = this.current?.id === live?.id ? this.current?.entries : null;
    const newest = entries?.[entries.length - 1];
    const step = live?.series.last?.step;
    if (entries && live?.diagnosis && isActive(live.run?.status) && step !== undefined
        && (!newest || (step > newest.step
          && JSON.stringify(newest.diagnosis) !== JSON.stringify(live.diagnosis)))) {
      entries.push({ step, diagnosis: live.diagnosis });
    }
  }

  load(id) {
    const timeline = { id, entries: null };
    this.current = timeline;
    api.getDiagnoses(id).then((answer) => {
      if (this.current !== timeline) return;
      timeline.entries = Array.isArray(answer?.diagnoses) ? answer.diagnoses : null;
      this.onLoaded();
    }, () => {}); // unreadable: the newest diagnosis stays, and the box says so
  }
}

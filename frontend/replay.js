// @ts-check
// Replay: a run's recorded steps shown up to a chosen step, so a run that trained in three
// seconds can be watched at a student's pace, or scrubbed to any step. It draws from the history
// the page already holds: each ColumnStore is cut at the step (a view over the same arrays, no
// copy), so the colour scale stays the whole run's. A long run that came summarized fetches
// the steps up to the replayed step at the detail shown (watched.js refine, lod.js). The
// diagnosis shown is the one the run had at that step (`diagnosisAt`, from
// GET /api/runs/{id}/diagnoses).

import { FIELDS, metricOf } from "./metrics.js";

/**
 * How long the whole run takes to replay, in seconds, and the words for it.
 * @type {[number, string][]}
 */
export const SPEEDS = [[10, "whole run in 10 s"], [30, "whole run in 30 s"],
  [60, "whole run in 1 min"], [180, "whole run in 3 min"]];
export const DEFAULT_SPEED = 30;

/**
 * `store` (a ColumnStore) as it was after `step`: the same data, fewer columns.
 * @param {any} store
 * @param {number} step
 */
export function storeUpTo(store, step) {
  if (!store) return store;
  const view = Object.create(store);
  view.length = store.lowerBound(step + 1);
  view.lastPushed = view.length ? Math.min(step, store.lastPushed) : null;
  return view;
}

const TIME_FIELD = FIELDS.find((field) => metricOf(field).rows === "time");

/**
 * What plots.js reads of a RunSeries, as it was after `step`.
 * @param {any} series a RunSeries
 * @param {number} step
 */
export function seriesUpTo(series, step) {
  const cut = {};
  for (const field of FIELDS) cut[field] = storeUpTo(series.stores[field], step);
  const time = TIME_FIELD ? cut[TIME_FIELD] : null;
  const last = time?.length ? time.length - 1 : -1;
  return {
    revision: `${series.revision}@${step}`,
    loss: storeUpTo(series.loss, step),
    count: cut[FIELDS[0]]?.length ?? 0,
    present: series.present,
    store: (field) => (cut[field]?.length ? cut[field] : null),
    timeNorms: last >= 0 ? Array.from(time.data, (row) => 10 ** row[last]) : null,
    timeStep: last >= 0 ? time.step(last) : null,
  };
}

/**
 * The diagnosis a run had when `step` was its newest step: the last of `timeline` (its
 * diagnoses as they changed, `{step, diagnosis}` in step order) made at or before `step`, or
 * null before the first.
 * @param {{step: number, diagnosis: any}[]} timeline
 * @param {number} step
 */
export function diagnosisAt(timeline, step) {
  let found = null;
  for (const entry of timeline) {
    if (entry.step > step) break;
    found = entry.diagnosis;
  }
  return found;
}

/**
 * The replay's clock: where the replay is, and how fast it moves. `advance(seconds, last)`
 * moves it on by that much wall time, over a run whose newest step is `last`, so the whole run
 * takes `duration` seconds whatever its length.
 */
export class ReplayClock {
  constructor(duration = DEFAULT_SPEED) {
    this.duration = duration;
    this.position = 0;   // a step, fractional while playing
    this.playing = false;
  }

  /** Play from `step`. */
  play(step) {
    this.position = step;
    this.playing = true;
  }

  pause() {
    this.playing = false;
  }

  /** Move on; returns the step to show. At `last` it stops playing. */
  advance(seconds, last) {
    if (this.playing) {
      this.position += (seconds * (last + 1)) / this.duration;
      if (this.position >= last) {
        this.position = last;
        this.playing = false;
      }
    }
    return Math.floor(this.position);
  }
}

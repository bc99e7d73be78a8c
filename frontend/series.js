// @ts-check
// A run's recorded steps, kept for drawing: one ColumnStore per per-step list (every per-layer
// metric, the time-step view, the loss), plus what the text panels need (the newest step, the
// first non-finite one, the epoch figures, the pace of training).

import { FIELDS, isFraction } from "./metrics.js";
import { ColumnStore, encodePlain } from "./columns.js";
import { spliceSummary } from "./lod.js";

function isNonFinite(value) {
  return value === null || (typeof value === "number" && !Number.isFinite(value));
}

export class RunSeries {
  constructor(limits = {}) {
    this.limits = limits; // {maxCells, maxColumns} for tests of long runs
    this.revision = 0;
    this.reset();
  }

  reset() {
    this.stores = {};
    // Norms are kept as log10; fractions (dead units) as they are, so a 0 is a value, not -∞.
    for (const field of FIELDS) {
      this.stores[field] = new ColumnStore(isFraction(field)
        ? { ...this.limits, encode: encodePlain } : this.limits);
    }
    this.loss = new ColumnStore({ ...this.limits, encode: encodePlain });
    this.count = 0;          // steps received (kept or merged)
    this.first = null;       // the first Step received, and the newest
    this.last = null;
    this.nonFinite = null;   // the first step with a NaN or infinite loss or gradient
    this.timeNorms = null;   // the newest ‖∂L/∂x_t‖ per time step, and its step
    this.timeStep = null;
    this.epochs = [];
    // A summarized run (lod.js): its columns before `summarized.last` are buckets of steps,
    // `coarse` their [first, last] steps; `summarized.fields` the metrics summarized so far.
    this.summarized = null;
    this.coarse = [];
    this.revision += 1;
  }

  /**
   * Replace everything with a History (parallel lists) and the snapshot's epoch frames; a
   * bounded snapshot's `summary` (of the steps before the History's) comes first.
   */
  load(history, epochs = [], summary = null) {
    this.reset();
    const steps = history?.step || [];
    const keys = Object.keys(history || {});
    const items = steps.map((step, i) => {
      const item = {};
      for (const key of keys) item[key] = history[key]?.[i];
      return item;
    });
    this.append(items);
    this.epochs = Array.isArray(epochs) ? [...epochs] : [];
    const ends = summary?.last_step;
    if (Array.isArray(ends) && ends.length) {
      const fields = FIELDS.filter((field) => summary[field]);
      this.summarized = { first: summary.first_step[0], last: ends[ends.length - 1],
        fields: new Set(FIELDS.filter((field) => field in summary)) };
      spliceSummary(this, summary, this.summarized.first, this.summarized.last, fields, true);
      this.count += summary.count.reduce((a, b) => a + b, 0);
    }
  }

  /** The steps `lo`..`hi` are now the columns `spans` ([first, last] of each bucket). */
  coarsen(lo, hi, spans) {
    const kept = this.coarse.filter(([first]) => first < lo || first > hi);
    this.coarse = [...kept, ...spans.filter(([a, b]) => b > a)].sort((a, b) => a[0] - b[0]);
    this.revision += 1;
  }

  /** The [first, last] step bounds that `lo`..`hi` cover, widened to whole buckets. */
  widen(lo, hi) {
    let [a, b] = [lo, hi];
    for (const [first, last] of this.coarse) {
      if (first <= a && a <= last) a = first;
      if (first <= b && b <= last) b = last;
    }
    return [a, b];
  }

  append(items) {
    for (const item of items) {
      if (typeof item?.step !== "number") continue;
      if (this.last && item.step <= this.last.step) continue; // never the same step twice
      this.first = this.first || item;
      this.last = item;
      this.count += 1;
      this.loss.push(item.step, [item.loss]);
      for (const field of FIELDS) {
        const values = item[field];
        if (Array.isArray(values)) this.stores[field].push(item.step, values);
      }
      if (Array.isArray(item.time_grad_norms)) {
        this.timeNorms = item.time_grad_norms;
        this.timeStep = item.step;
      }
      if (this.nonFinite === null && (isNonFinite(item.loss)
          || (Array.isArray(item.grad_norms) && item.grad_norms.some(isNonFinite)))) {
        this.nonFinite = item.step;
      }
    }
    this.revision += 1;
  }

  addEpoch(frame) {
    this.epochs = this.epochs.filter((e) => e.epoch !== frame.epoch);
    this.epochs.push(frame);
  }

  /** The store of a field, or null when no step had it. */
  store(field) {
    const store = this.stores[field];
    return store && store.length ? store : null;
  }

  /** The fields some step had, in the order of METRICS. */
  get present() {
    return FIELDS.filter((field) => this.stores[field].length > 0);
  }

  get layerCount() {
    return this.stores.grad_norms.rows;
  }

  /** Optimizer steps per second of the worker's clock, from the first and newest step. */
  get pace() {
    if (!this.first || !this.last || this.last.step <= this.first.step) return null;
    const seconds = this.last.t - this.first.t;
    return seconds > 0 ? (this.last.step - this.first.step) / seconds : null;
  }

  get lastEpoch() {
    return this.epochs.length ? this.epochs[this.epochs.length - 1] : null;
  }
}

// @ts-check
// A run's recorded steps, kept for drawing: one ColumnStore per per-step list (every per-layer
// metric, the time-step view, the loss), plus what the text panels need (the newest step, the
// first non-finite one, the epoch figures, the pace of training).

import { FIELDS, isFraction } from "./metrics.js";
import { ColumnStore, encodePlain } from "./columns.js";

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
    this.revision += 1;
  }

  /** Replace everything with a History (parallel lists) and the snapshot's epoch frames. */
  load(history, epochs = []) {
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

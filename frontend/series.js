// A run's recorded steps as columns, ready for Plotly: x (steps), loss, and for every per-layer
// field a z matrix of log10 norms with layers as rows. Memory stays bounded on long runs: past
// MAX_COLUMNS it keeps every other column and from then on records every 2nd, 4th, ... step.

export const LAYER_FIELDS = ["grad_norms", "clipped_grad_norms", "weight_norms",
  "update_ratios", "output_grad_norms"];
const MAX_COLUMNS = 2000;

// log10 of a norm, or null (a gap in the heatmap) where there is no finite logarithm.
export function log10OrNull(value) {
  return typeof value === "number" && value > 0 && Number.isFinite(value)
    ? Math.log10(value) : null;
}

export class RunSeries {
  constructor(maxColumns = MAX_COLUMNS) {
    this.maxColumns = maxColumns;
    this.reset();
  }

  reset() {
    this.steps = [];
    this.loss = [];
    this.z = {};          // field -> [layer][column] of log10 values or null
    this.present = new Set(); // fields some step actually had
    this.stride = 1;
    this.last = null;      // the newest Step seen, kept or not
    this.timeNorms = null; // the newest ‖∂L/∂x_t‖ per time step (sequence models), and its step
    this.timeStep = null;
    this.revision = (this.revision || 0) + 1;
  }

  /** Replace everything with a History (parallel lists) from a snapshot. */
  load(history) {
    this.reset();
    const steps = history?.step || [];
    const items = steps.map((step, i) => {
      const item = { step };
      for (const key of Object.keys(history)) item[key] = history[key]?.[i];
      return item;
    });
    this.append(items);
  }

  append(items) {
    for (const item of items) {
      if (typeof item?.step !== "number") continue;
      this.last = item;
      if (Array.isArray(item.time_grad_norms)) {
        this.timeNorms = item.time_grad_norms;
        this.timeStep = item.step;
      }
      const previous = this.steps.length ? this.steps[this.steps.length - 1] : null;
      if (previous !== null && item.step <= previous) continue; // never the same step twice
      if (previous !== null && item.step - previous < this.stride) continue;
      this.push(item);
      if (this.steps.length > this.maxColumns) this.halve();
    }
    this.revision += 1;
  }

  push(item) {
    const column = this.steps.length;
    this.steps.push(item.step);
    this.loss.push(Number.isFinite(item.loss) ? item.loss : null);
    for (const field of LAYER_FIELDS) {
      const values = item[field];
      if (!Array.isArray(values)) {
        if (this.z[field]) for (const row of this.z[field]) row.push(null);
        continue;
      }
      this.present.add(field);
      const rows = this.z[field] || (this.z[field] = []);
      while (rows.length < values.length) rows.push(new Array(column).fill(null));
      rows.forEach((row, layer) => row.push(log10OrNull(values[layer])));
    }
  }

  halve() {
    const keep = (_, i) => i % 2 === 0;
    this.steps = this.steps.filter(keep);
    this.loss = this.loss.filter(keep);
    for (const field of Object.keys(this.z)) {
      this.z[field] = this.z[field].map((row) => row.filter(keep));
    }
    this.stride *= 2;
  }

  get layerCount() {
    return Math.max(0, ...Object.values(this.z).map((rows) => rows.length));
  }

  /** [min, max] of the finite log10 values of `field`, or null when there are none. */
  range(field) {
    let min = Infinity;
    let max = -Infinity;
    for (const row of this.z[field] || []) {
      for (const v of row) {
        if (v === null) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    return min <= max ? [min, max] : null;
  }
}

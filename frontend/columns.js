// @ts-check
// One per-step list of a run (a per-layer metric, the time-step view or the loss) as columns:
// the step of each column and, per row, a Float32Array of encoded values. Memory stays bounded
// on long runs: past the cap, neighbouring columns are merged keeping the LARGER value, and
// from then on each column takes in `stride` steps the same way, so a one-step spike is never
// thinned away and the columns stay evenly spaced.

// Cells per store before columns are merged (64 layers × 20,000 steps fit).
export const MAX_CELLS = 1_400_000;
export const MAX_COLUMNS = 20_000;
const FIRST_CAPACITY = 256;

/** A norm as log10: a gap (NaN) where it is not finite, -Infinity for an exact 0. */
export function encodeLog(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return NaN;
  return value > 0 ? Math.log10(value) : -Infinity;
}

/** A plain value (the loss): NaN where it is not finite. */
export function encodePlain(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : NaN;
}

/**
 * The larger of two encoded values, where a non-finite one (NaN) wins: a step whose gradient
 * overflowed must stay visible. -Infinity (a zero, or nothing yet) loses to everything.
 */
export function mergeMax(a, b) {
  if (a !== a || b !== b) return NaN; // eslint-disable-line no-self-compare
  return a > b ? a : b;
}

export class ColumnStore {
  constructor({ encode = encodeLog, maxCells = MAX_CELLS, maxColumns = MAX_COLUMNS } = {}) {
    this.encode = encode;
    this.maxCells = maxCells;
    this.maxColumns = maxColumns;
    this.length = 0;
    this.capacity = 0;
    this.stepsArray = new Float64Array(0);
    this.data = []; // per row
    this.stride = 1;     // steps per column: doubles at every merge
    this.lastPushed = null; // the newest step taken in (the last column may hold several)
    this.generation = 0; // changes whenever existing columns change (a merge, a new row)
    this.min = Infinity;
    this.max = -Infinity;
  }

  get rows() {
    return this.data.length;
  }

  get lastStep() {
    return this.length ? this.stepsArray[this.length - 1] : null;
  }

  step(column) {
    return this.stepsArray[column];
  }

  value(row, column) {
    return this.data[row]?.[column];
  }

  /** The most columns this store keeps before merging: bounded by cells and by columns. */
  get cap() {
    const byCells = Math.floor(this.maxCells / Math.max(1, this.rows));
    return Math.max(16, Math.min(this.maxColumns, byCells) & ~1);
  }

  /**
   * Add one step; `values` are raw numbers (or null), one per row. It becomes a new column,
   * or, within `stride` steps of the last column's first step, is merged into that column.
   */
  push(step, values) {
    const last = this.length ? this.stepsArray[this.length - 1] : null;
    if (last !== null && step <= this.lastPushed) return;
    this.lastPushed = step;
    if (values.length > this.rows) this.addRows(values.length);
    let column = this.length - 1;
    const merge = last !== null && step - last < this.stride;
    if (!merge) {
      while (this.length >= this.cap) this.halve();
      if (this.length >= this.capacity) this.grow();
      column = this.length;
      this.stepsArray[column] = step;
      this.length += 1;
    }
    for (let row = 0; row < this.data.length; row += 1) {
      let v = this.encode(values[row]);
      if (merge) v = mergeMax(this.data[row][column], v);
      this.data[row][column] = v;
      if (v < this.min && v !== -Infinity) this.min = v;
      if (v > this.max) this.max = v;
    }
  }

  addRows(count) {
    while (this.data.length < count) {
      const row = new Float32Array(this.capacity);
      row.fill(NaN, 0, this.length);
      this.data.push(row);
    }
    this.generation += 1;
  }

  grow() {
    const capacity = Math.min(this.cap, Math.max(FIRST_CAPACITY, this.capacity * 2));
    const steps = new Float64Array(capacity);
    steps.set(this.stepsArray.subarray(0, this.length));
    this.stepsArray = steps;
    this.data = this.data.map((old) => {
      const row = new Float32Array(capacity);
      row.set(old.subarray(0, this.length));
      return row;
    });
    this.capacity = capacity;
  }

  /**
   * Replace the columns whose steps lie in [lo, hi] by `steps` (ascending, inside [lo, hi]),
   * `values[k]` the raw numbers of column k, one per row: a finer level of detail fetched for
   * a range (the server's bucket maxima, or exact steps). Columns outside the range stay.
   */
  splice(lo, hi, steps, values) {
    const start = this.lowerBound(lo);
    const end = this.lowerBound(hi + 1);
    const rows = Math.max(this.rows, ...values.map((v) => (Array.isArray(v) ? v.length : 0)));
    const length = this.length - (end - start) + steps.length;
    const capacity = Math.max(FIRST_CAPACITY, length);
    const stepsArray = new Float64Array(capacity);
    stepsArray.set(this.stepsArray.subarray(0, start));
    stepsArray.set(steps, start);
    stepsArray.set(this.stepsArray.subarray(end, this.length), start + steps.length);
    const data = [];
    for (let row = 0; row < rows; row += 1) {
      const old = this.data[row];
      const out = new Float32Array(capacity).fill(NaN, 0, length);
      if (old) out.set(old.subarray(0, start));
      for (let k = 0; k < steps.length; k += 1) out[start + k] = this.encode(values[k]?.[row]);
      if (old) out.set(old.subarray(end, this.length), start + steps.length);
      data.push(out);
    }
    this.stepsArray = stepsArray;
    this.data = data;
    this.length = length;
    this.capacity = capacity;
    if (length && this.lastPushed === null) this.lastPushed = this.stepsArray[length - 1];
    this.generation += 1;
    this.recomputeRange();
  }

  /** Merge neighbouring columns pairwise (the step of the first, the larger value). */
  halve() {
    const half = Math.floor(this.length / 2);
    for (let c = 0; c < half; c += 1) this.stepsArray[c] = this.stepsArray[2 * c];
    for (const row of this.data) {
      for (let c = 0; c < half; c += 1) row[c] = mergeMax(row[2 * c], row[2 * c + 1]);
    }
    if (this.length % 2) {
      this.stepsArray[half] = this.stepsArray[this.length - 1];
      for (const row of this.data) row[half] = row[this.length - 1];
      this.length = half + 1;
    } else {
      this.length = half;
    }
    this.stride *= 2;
    this.generation += 1;
    this.recomputeRange();
  }

  recomputeRange() {
    this.min = Infinity;
    this.max = -Infinity;
    for (const row of this.data) {
      for (let c = 0; c < this.length; c += 1) {
        const v = row[c];
        if (v < this.min && v !== -Infinity) this.min = v;
        if (v > this.max) this.max = v;
      }
    }
  }

  /** [min, max] of the finite encoded values, or null when there are none. */
  range() {
    return this.min <= this.max ? [this.min, this.max] : null;
  }

  /** Index of the first column whose step is >= `step` (binary search). */
  lowerBound(step) {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.stepsArray[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Median of a row's finite values over its last `count` columns, or null. */
  recentMedian(row, count) {
    const values = [];
    const data = this.data[row];
    for (let c = Math.max(0, this.length - count); c < this.length && data; c += 1) {
      if (Number.isFinite(data[c])) values.push(data[c]);
    }
    if (!values.length) return null;
    values.sort((a, b) => a - b);
    const mid = values.length >> 1;
    return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  }
}

// @ts-check
// The columns a heatmap draws: a ColumnStore cut into buckets of equal width in steps (the
// spacing of the recorded steps times a power of two), at most about one bucket per pixel,
// each showing the LARGEST value of its steps (a non-finite one wins), so a one-step spike
// stays visible however long the run. Equal widths let Plotly draw the heatmap as one scaled
// image, its fast path. Updated incrementally: a new step touches only the last bucket; the
// whole grid is rebuilt only when the store merges columns or the zoomed range changes, and
// neighbouring columns are merged when the bucket width doubles.

import { mergeMax } from "./columns.js";

const EMPTY = -Infinity; // a bucket without steps: a gap in the heatmap, and max's identity

/** The smallest power of two >= value (and >= 1). */
export function powerOfTwoAtLeast(value) {
  let p = 1;
  while (p < value) p *= 2;
  return p;
}

const SPACING_SAMPLE = 65; // columns whose gaps decide the spacing

/**
 * The typical distance between recorded steps from column `from` on (the time view samples
 * every 10th step). The largest gap when the gaps are alike: a summarized run's buckets
 * (lod.js) start 7 or 8 steps apart, and display columns of 7 would leave some empty (grey);
 * the median when a few gaps are far larger (steps missing), so they do not coarsen the grid.
 */
function typicalSpacing(store, from = 0) {
  const start = Math.max(0, Math.min(from, store.length - 2));
  const n = Math.min(store.length - start, SPACING_SAMPLE);
  if (n < 2) return 1;
  const gaps = [];
  for (let c = start + 1; c < start + n; c += 1) gaps.push(store.step(c) - store.step(c - 1));
  gaps.sort((a, b) => a - b);
  const median = gaps[gaps.length >> 1];
  const largest = gaps[gaps.length - 1];
  return Math.max(1, Math.round(largest <= 1.5 * median ? largest : median));
}

export class DisplayGrid {
  constructor(maxColumns = 800) {
    this.maxColumns = maxColumns;
    this.store = null;
    this.generation = -1;
    this.range = null;   // [firstStep, lastStep] when zoomed in, else null
    this.spacing = 1;    // the typical distance between recorded steps
    this.bucket = 1;     // steps per display column: spacing × a power of two
    this.origin = 0;     // the first step of column 0
    this.columns = 0;
    this.folded = 0;     // store columns folded in so far
    this.rows = [];
    this.filled = new Uint8Array(0); // 1 where a display column holds at least one step
    this.capacity = 0;
  }

  /** Fit the grid to a plot `pixels` wide and to the zoomed step `range` (or null). */
  configure(pixels, range = null) {
    const maxColumns = Math.max(50, Math.floor(pixels));
    const same = (a, b) => (a === null && b === null) || (a && b && a[0] === b[0] && a[1] === b[1]);
    if (maxColumns !== this.maxColumns || !same(range, this.range)) {
      this.maxColumns = maxColumns;
      this.range = range ? [Math.floor(range[0]), Math.ceil(range[1])] : null;
      this.store = null; // rebuild on the next update
    }
  }

  /** Bring the grid up to date with `store`; returns this. */
  update(store) {
    if (store !== this.store || store.generation !== this.generation
        || store.rows !== this.rows.length
        || (store.length <= SPACING_SAMPLE && typicalSpacing(store) !== this.spacing)) {
      this.rebuild(store);
    } else {
      // The last column may have taken in more steps since (a store past its cap merges).
      this.fold(Math.max(0, this.folded - 1), store.length);
    }
    return this;
  }

  rebuild(store) {
    this.store = store;
    this.generation = store.generation;
    // Zoomed, the spacing of the columns in the range: a summarized run's range fetched
    // exact (lod.js) is finer than its bucket columns before it.
    this.spacing = typicalSpacing(store, this.range ? store.lowerBound(this.range[0]) : 0);
    const first = this.range ? this.range[0] : 0;
    const last = this.range ? this.range[1] : (store.lastStep ?? 0);
    this.bucket = this.spacing
      * powerOfTwoAtLeast((last - first + 1) / (this.maxColumns * this.spacing));
    this.origin = Math.floor(Math.max(0, first) / this.bucket) * this.bucket;
    this.capacity = this.maxColumns + 2;
    this.rows = Array.from({ length: store.rows }, () => new Float32Array(this.capacity).fill(EMPTY));
    this.filled = new Uint8Array(this.capacity);
    this.columns = 0;
    const start = this.range ? store.lowerBound(this.range[0]) : 0;
    this.folded = start;
    this.fold(start, store.length);
  }

  fold(from, to) {
    const store = this.store;
    const end = this.range ? Math.min(to, store.lowerBound(this.range[1] + 1)) : to;
    for (let c = from; c < end; c += 1) {
      let k = Math.floor((store.step(c) - this.origin) / this.bucket);
      while (k >= this.maxColumns && !this.range) {
        this.widen();
        k = Math.floor((store.step(c) - this.origin) / this.bucket);
      }
      if (k < 0 || k >= this.capacity) continue;
      this.filled[k] = 1;
      for (let row = 0; row < this.rows.length; row += 1) {
        this.rows[row][k] = mergeMax(this.rows[row][k], store.data[row][c]);
      }
      if (k + 1 > this.columns) this.columns = k + 1;
    }
    this.folded = Math.max(this.folded, to);
  }

  /** Double the bucket width: merge neighbouring display columns. */
  widen() {
    const bucket = this.bucket * 2;
    const origin = Math.floor(this.origin / bucket) * bucket;
    const shift = (this.origin - origin) / this.bucket; // 0 or 1 old column
    const columns = Math.ceil((this.columns + shift) / 2);
    for (const row of this.rows) {
      for (let k = 0; k < columns; k += 1) {
        const a = 2 * k - shift;
        const left = a >= 0 && a < this.columns ? row[a] : EMPTY;
        const right = a + 1 >= 0 && a + 1 < this.columns ? row[a + 1] : EMPTY;
        row[k] = mergeMax(left, right);
      }
      row.fill(EMPTY, columns);
    }
    for (let k = 0; k < columns; k += 1) {
      const a = 2 * k - shift;
      this.filled[k] = (a >= 0 && this.filled[a]) || this.filled[a + 1] ? 1 : 0;
    }
    this.filled.fill(0, columns);
    this.bucket = bucket;
    this.origin = origin;
    this.columns = columns;
  }

  /** Plotly's z: one view per row over the drawn columns (no copy). */
  get z() {
    return this.rows.map((row) => row.subarray(0, this.columns));
  }

  /**
   * The cells that hold an exact 0 (a log store's -Infinity in a column that has steps), as
   * Plotly z rows: 0 there, NaN (a gap) elsewhere; `count` of them. An empty column is -Infinity
   * too, so only `filled` tells a zero from a gap.
   */
  zeros() {
    let count = 0;
    const rows = this.rows.map((row) => {
      const out = new Float32Array(this.columns).fill(NaN);
      for (let k = 0; k < this.columns; k += 1) {
        if (row[k] === -Infinity && this.filled[k]) {
          out[k] = 0;
          count += 1;
        }
      }
      return out;
    });
    return { rows, count };
  }

  /** Where column 0 is drawn: the middle of the recorded steps it can hold. */
  get x0() {
    return this.origin + (this.bucket - this.spacing) / 2;
  }

  /** The store columns (first, end) that display column k covers. */
  span(k) {
    const from = this.origin + k * this.bucket;
    return [this.store.lowerBound(from), this.store.lowerBound(from + this.bucket)];
  }
}

/**
 * One row of a store as a line of at most about `points` points: where there are more
 * columns, each bucket of columns gives its smallest and its largest value, in step order, so
 * spikes and dips both survive. Values are decoded with `decode` (10^v for log10 stores).
 */
export function envelope(store, row, points, decode = (v) => v) {
  const x = [];
  const y = [];
  const data = store?.data[row];
  if (!data) return { x, y };
  const n = store.length;
  const per = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(points / 2))));
  const put = (c) => {
    const v = data[c];
    x.push(store.step(c));
    y.push(Number.isFinite(v) ? decode(v) : null);
  };
  for (let start = 0; start < n; start += per) {
    const end = Math.min(n, start + per);
    if (end - start <= 2) {
      for (let c = start; c < end; c += 1) put(c);
      continue;
    }
    let lo = start;
    let hi = start;
    for (let c = start; c < end; c += 1) {
      const v = data[c];
      if (!Number.isFinite(v)) continue; // a gap is shown by its own column below
      if (!(data[lo] <= v)) lo = c;
      if (!(data[hi] >= v)) hi = c;
    }
    for (let c = start; c < end; c += 1) if (!Number.isFinite(data[c])) put(c);
    if (!Number.isFinite(data[lo])) continue;
    put(Math.min(lo, hi));
    if (lo !== hi) put(Math.max(lo, hi));
  }
  return sortByStep(x, y);
}

function sortByStep(x, y) {
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  return { x: order.map((i) => x[i]), y: order.map((i) => y[i]) };
}

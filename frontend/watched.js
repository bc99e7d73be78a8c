// @ts-check
// What the page knows about one run, kept current by its websocket: the Run object, its
// steps (a RunSeries), the newest diagnosis and epoch figures. Views read it; `onChange(what)`
// tells them which part changed ("run", "data", "diagnosis", "epoch", "connection", "gone",
// and "detail" when a summarized run's history fetched for a metric or a range came in).

import * as api from "./api.js";
import {
  DETAILED_COLUMNS, rangeQuery, snapshotQuery, spliceRange, SUMMARY_FIELDS, summarizable,
} from "./lod.js";
import { RunSeries } from "./series.js";
import { RunStream } from "./stream.js";
import { runLabel } from "./util.js";

export class WatchedRun {
  /** `field`: the metric shown, for the bounded snapshot (lod.js); `field` may change later. */
  constructor(runId, onChange, field = null) {
    this.id = runId;
    this.field = field;
    this.fetching = new Map(); // what is being fetched from /history → its promise
    this.fetched = new Set(); // and what was, since the last snapshot
    this.onChange = onChange;
    this.run = null;
    this.series = new RunSeries();
    this.diagnosis = null;
    this.lastEpoch = null;
    this.connection = "connecting";
    this.gone = false;
    this.stream = new RunStream(runId, {
      snapshot: (run, history, epochs, summary) => {
        this.run = run;
        this.diagnosis = run?.diagnosis ?? null;
        this.fetching.clear();
        this.fetched.clear();
        this.series.load(history || {}, epochs, summary);
        this.lastEpoch = this.series.lastEpoch;
        this.changed("run", "data", "diagnosis", "epoch");
      },
      metrics: (items) => {
        this.series.append(items);
        this.changed("data");
      },
      epoch: (frame) => {
        this.series.addEpoch(frame);
        this.lastEpoch = frame;
        this.changed("epoch");
      },
      diagnosis: (diagnosis) => {
        this.diagnosis = diagnosis;
        if (this.run) this.run.diagnosis = diagnosis;
        this.changed("diagnosis");
      },
      status: (status, error) => {
        if (this.run) Object.assign(this.run, { status, error });
        this.changed("run");
      },
      run: (run) => {
        if (!run) return;
        // The shared run frame has no `owned`: keep the snapshot's (docs/server.md).
        this.run = { ...this.run, ...run, owned: this.run?.owned ?? run.owned };
        if (run.diagnosis) this.diagnosis = run.diagnosis;
        this.changed("run", "diagnosis");
      },
      gone: () => {
        this.gone = true;
        this.changed("gone");
      },
      connection: (state) => {
        this.connection = state;
        this.changed("connection");
      },
    }, field === null ? null : () => snapshotQuery(this.field));
  }

  /** Fetch a summarized run's `field` (its summary), unless the series has it. */
  ensure(field) {
    this.field = field;
    const summarized = this.series.summarized;
    if (!summarized || summarized.fields.has(field) || !summarizable(field)) return null;
    return this.fetch(`field ${field}`, summarized.first, summarized.last, [field], false,
      () => summarized.fields.add(field));
  }

  /**
   * Fetch the steps `lo`..`hi` of a summarized run at the detail the page shows (exact when
   * few enough), every summarized metric and the loss, and splice them into the series; not
   * when the range is exact already or holds enough columns of the metric shown.
   */
  refine(lo, hi) {
    const { summarized, stores } = this.series;
    if (!summarized || hi < summarized.first || lo > summarized.last) return null;
    const [a, b] = this.series.widen(Math.max(lo, summarized.first), Math.min(hi, summarized.last));
    if (!this.series.coarse.some(([first]) => first >= a && first <= b)) return null; // exact
    const shown = stores[summarizable(this.field) ? this.field : SUMMARY_FIELDS[0]];
    if (shown.lowerBound(b + 1) - shown.lowerBound(a) >= DETAILED_COLUMNS) return null;
    const fields = [...summarized.fields].filter(summarizable);
    return this.fetch(`range ${a} ${b} ${fields}`, a, b, fields, true, () => {});
  }

  fetch(key, lo, hi, fields, withLoss, done) {
    if (this.fetching.has(key)) return this.fetching.get(key);
    if (this.fetched.has(key)) return null;
    const series = this.series;
    const promise = api.getHistory(this.id, rangeQuery(lo, hi, fields)).then((answer) => {
      // A new snapshot replaced the series meanwhile: this answer is for the old one.
      if (this.fetching.get(key) !== promise) return;
      spliceRange(series, answer, fields, withLoss);
      this.fetched.add(key);
      done();
      this.changed("data", "detail");
    }).catch(() => {
      // The coarser columns stay shown; the next zoom, scrub or metric asks again.
    }).finally(() => {
      if (this.fetching.get(key) === promise) this.fetching.delete(key);
    });
    this.fetching.set(key, promise);
    return promise;
  }

  changed(...parts) {
    for (const part of parts) this.onChange(part, this);
  }

  get status() {
    return this.run?.status ?? null;
  }

  /** The newest step seen (recorded in the series or not), for progress. */
  get lastStep() {
    return this.series.last;
  }

  get label() {
    return runLabel(this.run, this.id);
  }

  close() {
    this.stream.close();
  }
}

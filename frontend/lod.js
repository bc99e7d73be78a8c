// @ts-check
// Level of detail (issue 18, docs/protocol.md): a long run's snapshot is a Summary of bucket
// maxima, minima and last values plus its newest steps exact. The summary's buckets become
// columns of the run's stores (the bucket max of each layer, the last loss), so the heatmap's
// rule of the larger value keeps every per-layer maximum of the whole run; a range the user
// zooms or scrubs to, and a metric the snapshot lacks, are fetched from /history and spliced in.

import { FIELDS, metricOf } from "./metrics.js";

/** The columns the page asks for: about what a heatmap shows (decimate.js draws ≤ 800). */
export const SNAPSHOT_BUCKETS = 625;

/** Columns of a range that are detail enough for a zoom or replay: no fetch below this. */
export const DETAILED_COLUMNS = SNAPSHOT_BUCKETS / 2;

/** The per-layer metrics the server summarizes (the time view is sampled, never summarized). */
export const SUMMARY_FIELDS = FIELDS.filter((field) => metricOf(field).rows !== "time");

/** Whether a metric can be asked for in a Summary. */
export const summarizable = (field) => SUMMARY_FIELDS.includes(field);

/** The websocket query of a bounded snapshot of `field` (the loss comes always). */
export function snapshotQuery(field, buckets = SNAPSHOT_BUCKETS) {
  const metric = summarizable(field) ? field : SUMMARY_FIELDS[0];
  return `buckets=${buckets}&metrics=${encodeURIComponent(metric)}`;
}

/** The /history query of the steps `lo`..`hi` of `fields`. */
export function rangeQuery(lo, hi, fields, buckets = SNAPSHOT_BUCKETS) {
  return `first=${Math.max(0, Math.floor(lo))}&last=${Math.ceil(hi)}&buckets=${buckets}`
    + `&metrics=${fields.map(encodeURIComponent).join(",")}`;
}

/**
 * Splice a Summary over the steps `lo`..`hi` into `series` for `fields` (and the loss when
 * `withLoss`): one column per bucket at its first step, the bucket max of each layer.
 */
export function spliceSummary(series, summary, lo, hi, fields, withLoss) {
  const steps = summary.first_step || [];
  for (const field of fields) {
    const part = summary[field];
    if (part && series.stores[field]) series.stores[field].splice(lo, hi, steps, part.max);
  }
  if (withLoss && summary.loss) {
    series.loss.splice(lo, hi, steps, summary.loss.last.map((v) => [v]));
  }
  series.coarsen(lo, hi, steps.map((first, b) => [first, summary.last_step[b]]));
}

/** Splice exact steps (a History) over `lo`..`hi` into `series`. */
export function spliceHistory(series, history, lo, hi, fields, withLoss) {
  const steps = history.step || [];
  for (const field of fields) {
    if (history[field] && series.stores[field]) {
      series.stores[field].splice(lo, hi, steps, history[field]);
    }
  }
  if (withLoss && history.loss) series.loss.splice(lo, hi, steps, history.loss.map((v) => [v]));
  series.coarsen(lo, hi, []);
}

/** Splice a /history answer ({first, last, history} or {first, last, summary}) in. */
export function spliceRange(series, answer, fields, withLoss) {
  const { first, last } = answer;
  if (answer.summary) spliceSummary(series, answer.summary, first, last, fields, withLoss);
  else if (answer.history) spliceHistory(series, answer.history, first, last, fields, withLoss);
}

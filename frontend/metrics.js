// @ts-check
// What the heatmap can show: the Step's per-step lists, in the order its menu offers them,
// with the words the page uses (METRICS of contract.js, generated from trainer/contract/).
// `rows` says what a heatmap row is (a layer, or a time step of a sequence model); `marks`
// which of the diagnosis's thresholds its colour bar marks (bands.js).

import { DEFAULT_METRIC, METRICS } from "./contract.js";

export { METRICS };
export const FIELDS = Object.keys(METRICS);
export const DEFAULT_FIELD = DEFAULT_METRIC;

export const metricOf = (field) => METRICS[field]
  || { label: field, short: field, rows: "layer", marks: null, scale: "log" };

/** Whether a field's values are fractions (0 to 1), drawn on a linear scale, not as log10. */
export const isFraction = (field) => metricOf(field).scale === "fraction";

/** Row labels of a heatmap: Keras layer names (input side first), or time steps t=1…T. */
export function rowLabels(field, layers, count) {
  const labels = [];
  if (metricOf(field).rows === "time") {
    for (let t = 1; t <= count; t += 1) labels.push(`t=${t}`);
    return labels;
  }
  for (let i = 0; i < count; i += 1) {
    const name = layers?.[i]?.name;
    labels.push(name && !labels.includes(name) ? name : `layer ${i + 1}`);
  }
  return labels;
}

/** "dense_3 (layer 3 of 11)" or "time step 4 of 100". */
export function rowName(field, layers, row, count) {
  if (metricOf(field).rows === "time") return `time step ${row + 1} of ${count}`;
  const name = layers?.[row]?.name;
  return `${name ? `${name} ` : ""}(layer ${row + 1} of ${count})`;
}

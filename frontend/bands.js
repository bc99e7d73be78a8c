// @ts-check
// Where a heatmap's colour bar marks the vanishing and exploding ranges: the diagnosis's own
// thresholds (trainer/contract/thresholds.py, explained in docs/diagnosis.md), which reach the
// page in the generated contract.js. Vanishing is relative, so its band is drawn from this
// run's numbers.

import { metricOf } from "./metrics.js";
import { powerOfTen, scientific } from "./colours.js";
import { THRESHOLDS } from "./contract.js";

export { THRESHOLDS };

const exponent = (value) => Math.round(Math.log10(value));

/**
 * The marked ranges of `field` for a run whose values are in `store`, as
 * [{kind: "vanishing" | "exploding", from, to, text}] with from/to in log10 (null = open end).
 * `reference` is the row the diagnosis compares the input side with (the last hidden layer, by
 * its `compared` names); the last row when not known.
 * @param {string} field
 * @param {any} store
 * @param {number | null} [reference]
 */
export function bands(field, store, reference = null) {
  const marks = metricOf(field).marks;
  if (!marks || !store || !store.length) return [];
  const out = [];
  const row = reference ?? store.rows - 1;
  const level = store.rows > 1 ? store.recentMedian(row, THRESHOLDS.window) : null;
  if (marks === "signal" && level !== null) {
    const low = level + Math.log10(THRESHOLDS.vanishingRatio);
    const high = level + Math.log10(THRESHOLDS.explodingRatio);
    out.push({
      kind: "vanishing", from: null, to: low,
      text: `vanishing: below ${powerOfTen(exponent(THRESHOLDS.vanishingRatio))} × the compared `
        + `layer's recent signal, i.e. below ${scientific(10 ** low)}`,
    });
    out.push({
      kind: "exploding", from: high, to: null,
      text: `exploding toward the input: above ${powerOfTen(exponent(THRESHOLDS.explodingRatio))}`
        + ` × the compared layer's recent signal, i.e. above ${scientific(10 ** high)}`,
    });
  } else if (marks === "time" && level !== null) {
    const low = level + Math.log10(THRESHOLDS.timeVanishingRatio);
    const high = level + Math.log10(THRESHOLDS.timeExplodingRatio);
    out.push({
      kind: "vanishing", from: null, to: low,
      text: `vanishing across time: below ${powerOfTen(exponent(THRESHOLDS.timeVanishingRatio))}`
        + ` × the last time step's recent norm, i.e. below ${scientific(10 ** low)}`,
    });
    out.push({
      kind: "exploding", from: high, to: null,
      text: `exploding across time: above ${powerOfTen(exponent(THRESHOLDS.timeExplodingRatio))}`
        + ` × the last time step's recent norm, i.e. above ${scientific(10 ** high)}`,
    });
  }
  return out;
}

/**
 * What the marks mean, in one sentence for the legend under the heatmaps.
 * @param {string} field
 */
export function bandsLegend(field) {
  const marks = metricOf(field).marks;
  if (marks === "signal") {
    return "Bars beside each colour bar mark the diagnosis's ranges: purple = vanishing (below "
      + `${powerOfTen(exponent(THRESHOLDS.vanishingRatio))} × the signal of the layer the `
      + "input side is compared with, usually the last hidden layer), orange = exploding "
      + `toward the input (above ${powerOfTen(exponent(THRESHOLDS.explodingRatio))} × it). `
      + "The diagnosis compares per unit, so rows of another width are approximate.";
  }
  if (marks === "time") {
    return "Bars beside each colour bar mark the diagnosis's ranges across time: purple below "
      + `${powerOfTen(exponent(THRESHOLDS.timeVanishingRatio))}, orange above `
      + `${powerOfTen(exponent(THRESHOLDS.timeExplodingRatio))} × the last time step's norm.`;
  }
  if (marks === "weights") {
    return "No range is marked on the weight gradients: they include the regularizer's penalty "
      + "and each layer's input size. The diagnosis reads the backpropagated-signal view, where "
      + "its ranges are marked.";
  }
  return "The diagnosis has no thresholds for this view, so no range is marked.";
}

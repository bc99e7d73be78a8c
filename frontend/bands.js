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
 */
export function bands(field, store) {
  const marks = metricOf(field).marks;
  if (!marks || !store || !store.length) return [];
  const out = [];
  const reference = store.rows > 1 ? store.recentMedian(store.rows - 1, THRESHOLDS.window) : null;
  if (marks === "layers") {
    if (reference !== null) {
      const limit = reference + Math.log10(THRESHOLDS.vanishingRatio);
      out.push({
        kind: "vanishing", from: null, to: limit,
        text: `vanishing: below ${powerOfTen(exponent(THRESHOLDS.vanishingRatio))} × the output `
          + `layer's recent gradient norm, i.e. below ${scientific(10 ** limit)}`,
      });
    }
    const explode = Math.log10(THRESHOLDS.explodingNorm);
    out.push({
      kind: "exploding", from: explode, to: null,
      text: `exploding: above ${powerOfTen(explode)}`,
    });
  } else if (marks === "time" && reference !== null) {
    const limit = reference + Math.log10(THRESHOLDS.timeVanishingRatio);
    out.push({
      kind: "vanishing", from: null, to: limit,
      text: `vanishing across time: below ${powerOfTen(exponent(THRESHOLDS.timeVanishingRatio))}`
        + ` × the last time step's recent norm, i.e. below ${scientific(10 ** limit)}`,
    });
  }
  return out;
}

/** What the marks mean, in one sentence for the legend under the heatmaps. */
export function bandsLegend(field) {
  const marks = metricOf(field).marks;
  if (marks === "layers") {
    return "Bars beside each colour bar mark the diagnosis's ranges: purple = vanishing "
      + `(below ${powerOfTen(exponent(THRESHOLDS.vanishingRatio))} × that run's output-layer `
      + `gradient), orange = exploding (above ${powerOfTen(exponent(THRESHOLDS.explodingNorm))}).`;
  }
  if (marks === "time") {
    return "The purple bar beside each colour bar marks vanishing across time: below "
      + `${powerOfTen(exponent(THRESHOLDS.timeVanishingRatio))} × the last time step's norm.`;
  }
  return "The diagnosis has no thresholds for this view, so no range is marked.";
}

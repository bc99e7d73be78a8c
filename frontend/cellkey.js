// @ts-check
// What a heatmap cell's colour means beyond the colour bar: an exact 0 of a log-scaled norm
// (black: it has no logarithm), a gap (grey: no data), and the linear scale of fractions. The
// legend under the heatmaps and the PNG export say it with the same sentences.

import { isFraction } from "./metrics.js";

// An exact 0 has no logarithm: it is drawn in this colour, apart from a gap (no data), which
// shows the plot's background. Neither colour is on viridis or cividis.
export const ZERO_COLOUR = "#000000";
export const GAP_COLOUR = "#e9ecef";
export const FRACTION_TICKS = {
  tickvals: [0, 0.25, 0.5, 0.75, 1], ticktext: ["0", "25 %", "50 %", "75 %", "100 %"],
};

/**
 * What the cells' colours mean, as [swatch, sentence] pairs (swatch: "zero", "gap" or null):
 * the legend under the heatmaps, and in the PNG export.
 * @param {string} field
 * @returns {[string | null, string][]}
 */
export function cellLegend(field) {
  if (isFraction(field)) {
    return [[null, "Colour: the fraction of the layer's units that are dead, on a linear scale "
      + "from 0 (dark) to 100 %, one scale for both heatmaps."],
    ["gap", "Grey: no value (a layer without ReLU, or no step recorded there)."]];
  }
  return [[null, "Colour: log₁₀ of the value, in powers of ten, one scale for both heatmaps."],
    ["zero", "Black: exactly 0 (a dead layer's gradient, say), which has no logarithm."],
    ["gap", "Grey: no data (no step recorded there, or NaN or ∞; hover to tell which)."]];
}

/** The legend as one line of text. @param {string} field */
export const cellLegendText = (field) => cellLegend(field).map(([, text]) => text).join(" ");

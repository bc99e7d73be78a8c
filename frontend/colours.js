// @ts-check
// The heatmaps' colour: colour-blind-safe scales (both perceptually uniform, dark = small),
// a shared range in whole powers of ten, and colour-bar ticks written as powers of ten.

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

// Plotly's built-in scales by the name the page's hash uses.
export const SCALES = {
  viridis: { plotly: "Viridis", label: "viridis (dark purple → yellow)" },
  cividis: { plotly: "Cividis", label: "cividis (blue → yellow, safe for every colour vision)" },
};
export const DEFAULT_SCALE = "viridis";

export function powerOfTen(exponent) {
  const digits = String(exponent).split("").map((c) => SUPERSCRIPT[c] ?? c).join("");
  return `10${digits}`;
}

/** 0.00032 -> "3.2×10⁻⁴"; numbers near 1 stay plain. */
export function scientific(value, digits = 2) {
  if (typeof value !== "number" || Number.isNaN(value)) return "not a number";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (value === 0) return "0";
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  if (exponent >= -2 && exponent <= 3) return String(Number(value.toPrecision(digits + 1)));
  let mantissa = Number((value / 10 ** exponent).toPrecision(digits));
  let e = exponent;
  if (Math.abs(mantissa) >= 10) {
    mantissa /= 10;
    e += 1;
  }
  return `${mantissa}×${powerOfTen(e)}`;
}

/** Integer exponents to label between zmin and zmax, at most about eight of them. */
export function colourTicks(zmin, zmax) {
  const lo = Math.ceil(zmin);
  const hi = Math.floor(zmax);
  const span = Math.max(1, hi - lo);
  const step = Math.max(1, Math.ceil(span / 8));
  const tickvals = [];
  for (let e = lo; e <= hi; e += step) tickvals.push(e);
  return { tickvals, ticktext: tickvals.map(powerOfTen) };
}

/** A shared colour range [zmin, zmax] over several [min, max] ranges, widened to integers. */
export function sharedRange(ranges) {
  const found = ranges.filter(Boolean);
  if (!found.length) return [-6, 0];
  const lo = Math.floor(Math.min(...found.map((r) => r[0])));
  let hi = Math.ceil(Math.max(...found.map((r) => r[1])));
  if (hi <= lo) hi = lo + 1;
  return [lo, hi];
}

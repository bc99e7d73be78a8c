// The layer × step heatmap of log10 norms: layers as rows with the input side at the bottom,
// steps as columns, viridis (colour-blind safe), a colour bar in powers of ten, gaps for
// values without a finite logarithm. Redraws go through Plotly.react on the arrays the
// RunSeries keeps, so a frame never rebuilds the figure.

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

// Labels of the per-layer fields of a Step (trainer/protocol.py LAYER_FIELDS).
export const METRICS = {
  grad_norms: { label: "gradient norm ‖∂L/∂W‖", short: "‖∂L/∂W‖" },
  clipped_grad_norms: { label: "gradient norm after clipping", short: "clipped ‖∂L/∂W‖" },
  weight_norms: { label: "weight norm ‖W‖", short: "‖W‖" },
  update_ratios: { label: "update ratio ‖ΔW‖ / ‖W‖", short: "‖ΔW‖/‖W‖" },
  output_grad_norms: { label: "gradient w.r.t. the layer's output", short: "‖∂L/∂h‖" },
};

export function powerOfTen(exponent) {
  const digits = String(exponent).split("").map((c) => SUPERSCRIPT[c] ?? c).join("");
  return `10${digits}`;
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

/** Row labels: the Keras layer names (unique within a model), "layer i" where unknown. */
export function layerLabels(layers, count) {
  const labels = [];
  for (let i = 0; i < count; i += 1) {
    const name = layers?.[i]?.name;
    labels.push(name && !labels.includes(name) ? name : `layer ${i + 1}`);
  }
  return labels;
}

const PLOT_CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
};

export class Heatmap {
  constructor(element) {
    this.element = element;
    this.drawn = false;
  }

  /**
   * Draw `field` of `series` for a run whose layers are `layers`, on the colour range `zrange`.
   * `emptyText` is shown while there is nothing to draw.
   */
  draw({ series, field, layers, zrange, emptyText }) {
    const Plotly = window.Plotly;
    const rows = series?.z[field] || [];
    const hasData = rows.length > 0 && series.steps.length > 0;
    const [zmin, zmax] = zrange;
    const metric = METRICS[field] || { label: field, short: field };
    const data = [];
    if (hasData) {
      data.push({
        type: "heatmap",
        x: series.steps,
        y: layerLabels(layers, rows.length),
        z: rows,
        zmin,
        zmax,
        zauto: false,
        colorscale: "Viridis",
        hoverongaps: false,
        hovertemplate: `%{y}<br>step %{x}<br>log₁₀ ${metric.short} = %{z:.2f}<extra></extra>`,
        colorbar: {
          title: { text: metric.short, side: "top" },
          tickvals: colourTicks(zmin, zmax).tickvals,
          ticktext: colourTicks(zmin, zmax).ticktext,
          thickness: 14,
        },
      });
    }
    const layout = {
      datarevision: series ? series.revision : 0,
      uirevision: "keep-zoom",
      margin: { l: 10, r: 10, t: 10, b: 44 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#e9ecef",
      font: { family: "system-ui, sans-serif", size: 12 },
      xaxis: { title: { text: "step" }, automargin: true, showgrid: false, zeroline: false },
      yaxis: {
        title: { text: "layer (input side at the bottom)" }, automargin: true,
        type: "category", showgrid: false,
      },
      annotations: hasData ? [] : [{
        text: emptyText || "No data yet", showarrow: false, xref: "paper", yref: "paper",
        x: 0.5, y: 0.5, font: { size: 14, color: "#555" },
      }],
    };
    if (!hasData) {
      layout.xaxis.visible = false;
      layout.yaxis.visible = false;
    }
    Plotly.react(this.element, data, layout, PLOT_CONFIG);
    this.drawn = true;
  }

  resize() {
    if (this.drawn) window.Plotly.Plots.resize(this.element);
  }
}

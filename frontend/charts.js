// @ts-check
// The line charts: the loss, one layer's metric over steps, and the gradient across the time
// steps of the newest sample.

import { envelope } from "./decimate.js";
import { isFraction, metricOf } from "./metrics.js";
import { plotlyText } from "./plotlytext.js";
import { baseLayout, PLOT_CONFIG } from "./theme.js";

const LINE_POINTS = 1600; // points per line: min and max of 800 buckets
const STYLES = [{ color: "#1f5fa8", width: 2 }, { color: "#6b6f76", width: 2, dash: "dot" }];

function lineLayout({ revision, xTitle, yTitle, logY, height, empty = null, legendY = 1.12 }) {
  const layout = {
    ...baseLayout(),
    datarevision: revision,
    uirevision: "keep-zoom",
    margin: { l: 10, r: 10, t: 10, b: 40 },
    height,
    plot_bgcolor: "#ffffff",
    showlegend: true,
    // Traces come watched first; the legend reads before (the compared run) → after.
    legend: { orientation: "h", x: 0, y: legendY, traceorder: "reversed" },
    xaxis: { title: { text: plotlyText(xTitle) }, automargin: true, zeroline: false },
    yaxis: { title: { text: plotlyText(yTitle) }, automargin: true, type: logY ? "log" : "linear",
      exponentformat: "power", uirevision: String(logY) },
    annotations: empty ? [{ text: plotlyText(empty), showarrow: false, xref: "paper", yref: "paper",
      x: 0.5, y: 0.5, font: { size: baseLayout().font.size + 2, color: "#555" } }] : [],
  };
  if (empty) {
    layout.xaxis.visible = false;
    layout.yaxis.visible = false;
    layout.showlegend = false;
  }
  return layout;
}

export class LossChart {
  constructor(element) {
    this.element = element;
    this.logScale = false;
  }

  /** `runs` are [{label, series}] (watched first); missing ones are skipped. */
  draw(runs) {
    const data = [];
    let revision = `${this.logScale}`;
    runs.forEach((entry, i) => {
      if (!entry?.series?.loss.length) return;
      revision += `-${entry.series.revision}`;
      const line = envelope(entry.series.loss, 0, LINE_POINTS);
      data.push({
        type: "scatter", mode: "lines", name: plotlyText(entry.label), x: line.x, y: line.y,
        line: STYLES[i], connectgaps: false,
        hovertemplate: "step %{x}<br>loss %{y:.4g}<extra>%{fullData.name}</extra>",
      });
    });
    Plotly.react(this.element, data, lineLayout({
      revision, xTitle: "step", yTitle: "training loss", logY: this.logScale, height: 240,
      empty: data.length ? null : "The loss appears here once steps arrive.",
    }), PLOT_CONFIG);
  }
}

/** One row of a heatmap (a layer, or a time step) over the training steps, log scale (linear
 * for fractions). */
export class RowChart {
  constructor(element) {
    this.element = element;
  }

  /**
   * `runs` are [{label, series}]; `rows` the row of each run (0-based, -1 where that run has
   * no such layer); `names` the row's name in each run.
   */
  draw({ runs, field, rows, names }) {
    const data = [];
    let revision = `${field}-${rows.join("_")}`;
    runs.forEach((entry, i) => {
      const store = entry?.series?.store(field);
      const row = rows[i];
      if (!store || row < 0 || row >= store.rows) return;
      revision += `-${entry.series.revision}`;
      const line = envelope(store, row, LINE_POINTS, isFraction(field) ? (v) => v : (v) => 10 ** v);
      data.push({
        type: "scatter", mode: "lines", name: plotlyText(`${entry.label}: ${names[i]}`),
        x: line.x, y: line.y,
        line: STYLES[i], connectgaps: false,
        hovertemplate: `step %{x}<br>${metricOf(field).short} %{y:.3g}<extra></extra>`,
      });
    });
    Plotly.react(this.element, data, lineLayout({
      revision, xTitle: "step", yTitle: metricOf(field).short, logY: !isFraction(field),
      height: 240,
      empty: data.length ? null : "This row has no recorded values.",
    }), PLOT_CONFIG);
  }
}

/** ‖∂L/∂x_t‖ over the time steps of the input sequence, at the newest sampled step. */
export class TimeChart {
  constructor(element) {
    this.element = element;
  }

  static has(entry) {
    return Boolean(entry?.series?.timeNorms?.length);
  }

  draw(runs) {
    const data = [];
    runs.forEach((entry, i) => {
      const norms = entry?.series?.timeNorms;
      if (!norms?.length) return;
      data.push({
        type: "scatter", mode: "lines",
        name: plotlyText(`${entry.label} (step ${entry.series.timeStep})`),
        x: norms.map((_, t) => t + 1),
        y: norms.map((v) => (Number.isFinite(v) && v > 0 ? v : null)),
        line: STYLES[i],
        hovertemplate: "time step %{x}<br>‖∂L/∂x‖ %{y:.3g}<extra></extra>",
      });
    });
    Plotly.react(this.element, data, lineLayout({
      revision: runs.map((r) => r?.series?.timeStep).join("-"),
      xTitle: "time step of the input sequence (1 = earliest)", yTitle: "‖∂L/∂xₜ‖",
      logY: true, height: 220, legendY: 1.15,
    }), PLOT_CONFIG);
  }
}

// The loss chart, and the scheduler that bounds every plot's redraws to ten a second however
// fast the frames arrive.

const MIN_INTERVAL_MS = 100;

/** Coalesces draw requests: each key's latest function runs at most once per interval. */
export class DrawScheduler {
  constructor(interval = MIN_INTERVAL_MS) {
    this.interval = interval;
    this.pending = new Map();
    this.timer = null;
    this.lastFlush = 0;
  }

  request(key, draw) {
    this.pending.set(key, draw);
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastFlush + this.interval - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  flush() {
    this.timer = null;
    this.lastFlush = performance.now();
    const draws = [...this.pending.values()];
    this.pending.clear();
    for (const draw of draws) {
      try {
        draw();
      } catch (err) {
        console.warn("GradWatch: a plot could not be drawn", err);
      }
    }
  }
}

const PLOT_CONFIG = { responsive: true, displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d"] };

export class LossChart {
  constructor(element) {
    this.element = element;
    this.logScale = false;
  }

  /** `watched` and `compared` are {label, series} or null. */
  draw({ watched, compared }) {
    const data = [];
    let revision = 0;
    for (const [entry, style] of [[watched, { color: "#1f5fa8", width: 2 }],
      [compared, { color: "#8a8f98", width: 2, dash: "dot" }]]) {
      if (!entry?.series?.steps.length) continue;
      revision += entry.series.revision;
      data.push({
        type: "scatter", mode: "lines", name: entry.label,
        x: entry.series.steps, y: entry.series.loss, line: style, connectgaps: false,
        hovertemplate: "step %{x}<br>loss %{y:.4g}<extra>%{fullData.name}</extra>",
      });
    }
    const layout = {
      datarevision: `${revision}-${this.logScale}`,
      uirevision: "keep-zoom",
      margin: { l: 10, r: 10, t: 10, b: 40 },
      height: 240,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      font: { family: "system-ui, sans-serif", size: 12 },
      showlegend: data.length > 1,
      legend: { orientation: "h", x: 0, y: 1.12 },
      xaxis: { title: { text: "step" }, automargin: true, zeroline: false },
      yaxis: { title: { text: "training loss" }, automargin: true,
        type: this.logScale ? "log" : "linear", uirevision: String(this.logScale) },
      annotations: data.length ? [] : [{ text: "The loss appears here once steps arrive.",
        showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5,
        font: { size: 14, color: "#555" } }],
    };
    if (!data.length) {
      layout.xaxis.visible = false;
      layout.yaxis.visible = false;
    }
    window.Plotly.react(this.element, data, layout, PLOT_CONFIG);
  }
}

/** ‖∂L/∂x_t‖ over the time steps of the input sequence, for recurrent models. */
export class TimeChart {
  constructor(element) {
    this.element = element;
  }

  /** True when a run has something to show; the caller hides the chart otherwise. */
  static has(live) {
    return Boolean(live?.series.timeNorms?.length);
  }

  draw({ watched, compared }) {
    const data = [];
    for (const [entry, style] of [[watched, { color: "#1f5fa8", width: 2 }],
      [compared, { color: "#8a8f98", width: 2, dash: "dot" }]]) {
      const norms = entry?.series?.timeNorms;
      if (!norms?.length) continue;
      data.push({
        type: "scatter", mode: "lines", name: `${entry.label} (step ${entry.series.timeStep})`,
        x: norms.map((_, t) => t + 1),
        y: norms.map((v) => (Number.isFinite(v) && v > 0 ? v : null)),
        line: style,
        hovertemplate: "time step %{x}<br>‖∂L/∂x‖ %{y:.3g}<extra></extra>",
      });
    }
    const layout = {
      uirevision: "keep-zoom",
      margin: { l: 10, r: 10, t: 10, b: 40 },
      height: 220,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#ffffff",
      font: { family: "system-ui, sans-serif", size: 12 },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.15 },
      xaxis: { title: { text: "time step of the input sequence (1 = earliest)" }, automargin: true },
      yaxis: { title: { text: "‖∂L/∂x_t‖" }, type: "log", automargin: true,
        exponentformat: "power" },
    };
    window.Plotly.react(this.element, data, layout, PLOT_CONFIG);
  }
}

// Every plot of the watch panel, drawn from the watched and the compared run: the two
// heatmaps on one shared colour range, the opened row's chart, the loss and the time chart.

import { LossChart, RowChart, TimeChart } from "./charts.js";
import { sharedRange } from "./colours.js";
import { Heatmap } from "./heatmap.js";
import { metricOf, rowLabels, rowName } from "./metrics.js";
import { bands, bandsLegend } from "./bands.js";

const $ = (id) => document.getElementById(id);

function emptyText(live, field) {
  if (!live) return "Start a run or pick one from the list.";
  if (live.gone) return "This run does not exist.";
  const run = live.run;
  if (!run) return "Connecting…";
  if (live.series.count && !live.series.store(field)) {
    return metricOf(field).rows === "time"
      ? "This run has no time steps: the time view is for recurrent models."
      : `This run records no ${metricOf(field).label}.`;
  }
  if (run.status === "queued") {
    const where = run.queue_position ? ` (position ${run.queue_position})` : "";
    return `Queued${where}: the heatmap fills in once training starts.`;
  }
  if (run.status === "running") return "Building the model; the first steps are on their way…";
  return "This run recorded no steps.";
}

const entry = (live) => (live ? { label: live.label, series: live.series } : null);

export class Plots {
  /** `onRow(row)` when a heatmap row is clicked, `onZoom(range)` when a heatmap zooms. */
  constructor({ onRow, onZoom }) {
    this.heatmaps = [
      new Heatmap($("heatmap"), { onRowClick: onRow, onZoom }),
      new Heatmap($("compare-heatmap"), { onRowClick: onRow, onZoom }),
    ];
    this.loss = new LossChart($("loss-chart"));
    this.rowChart = new RowChart($("row-chart"));
    this.time = new TimeChart($("time-chart"));
    this.followSize();
  }

  /** Plotly follows the window's size; this follows each plot's own (layout, large text). */
  followSize() {
    const sizes = new WeakMap();
    let frame = null;
    const changed = new Set();
    const observer = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const { width, height } = entry.contentRect;
        const before = sizes.get(entry.target);
        sizes.set(entry.target, `${width}x${height}`);
        if (before && before !== `${width}x${height}` && entry.target._fullLayout) {
          changed.add(entry.target);
        }
      }
      if (changed.size && frame === null) {
        frame = requestAnimationFrame(() => {
          frame = null;
          for (const element of changed) if (element.offsetParent) Plotly.Plots.resize(element);
          changed.clear();
        });
      }
    });
    for (const id of ["heatmap", "compare-heatmap", "loss-chart", "row-chart", "time-chart"]) {
      observer.observe($(id));
    }
  }

  /** Draw everything for `runs` ([watched, compared], either may be null) and `view`. */
  draw(runs, view) {
    const { field, scale, row, logLoss, zoom } = view;
    const stores = runs.map((live) => live?.series.store(field) || null);
    const zrange = sharedRange(stores.map((store) => store?.range()));
    runs.forEach((live, i) => {
      if (i === 1 && !live) return;
      const store = stores[i];
      this.heatmaps[i].draw({
        store, field, zrange, scale, zoom,
        labels: rowLabels(field, live?.run?.layers, store?.rows || 0),
        layers: live?.run?.layers,
        bands: bands(field, store),
        emptyText: emptyText(live, field),
      });
    });
    $("bands-legend").textContent = bandsLegend(field);
    this.loss.logScale = logLoss;
    this.loss.draw(runs.map(entry));
    this.drawRow(runs, field, row, stores);
    const hasTime = runs.some((live) => TimeChart.has(entry(live)));
    $("time-section").hidden = !hasTime;
    if (hasTime) this.time.draw(runs.map(entry));
  }

  drawRow(runs, field, row, stores) {
    const section = $("row-section");
    const count = stores[0]?.rows || 0;
    const select = $("row-select");
    const labels = rowLabels(field, runs[0]?.run?.layers, count);
    const wanted = labels.join("\n");
    if (select.dataset.labels !== wanted) {
      select.dataset.labels = wanted;
      select.replaceChildren(...labels.map((label, i) => new Option(label, String(i))));
    }
    section.hidden = row === null || row >= count;
    if (section.hidden) return;
    select.value = String(row);
    const names = runs.map((live, i) => rowName(field, live?.run?.layers, row, stores[i]?.rows || 0));
    $("row-title").textContent = `${names[0]}: ${metricOf(field).label} over the steps`;
    this.rowChart.draw({ runs: runs.map(entry), field, row, names });
  }

  resize() {
    for (const heatmap of this.heatmaps) heatmap.resize();
  }

  /** The watched heatmap as a PNG data URL. */
  image() {
    return this.heatmaps[0].image();
  }
}

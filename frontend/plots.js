// @ts-check
// Every plot of the watch panel, drawn from the watched and the compared run: the two
// heatmaps on one shared colour range, the opened row's chart, the loss and the time chart.

import { bands, bandsLegend } from "./bands.js";
import { LossChart, RowChart, TimeChart } from "./charts.js";
import { sharedRange } from "./colours.js";
import { cellLegend } from "./cellkey.js";
import { Heatmap } from "./heatmap.js";
import { isFraction, metricOf, rowLabels, rowName } from "./metrics.js";
import { matchRows } from "./rowmatch.js";
import { within } from "./util.js";

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

/**
 * The heatmap row the diagnosis compares the input side with (its `compared` names), or null.
 * @param {any} live
 */
function comparedRow(live) {
  const name = live?.diagnosis?.compared?.[1];
  const layers = live?.run?.layers;
  if (!name || !Array.isArray(layers)) return null;
  const row = layers.findIndex((layer) => layer?.name === name);
  return row >= 0 ? row : null;
}

/**
 * The rows each heatmap shows: with two runs' layers, both show the layers of both, matched by
 * name (rowmatch.js), so they line up; else each its own. Returns per run `labels` and `maps`
 * (for each shown row, the run's own row or -1; null: the run's rows as they are).
 */
function shownRows(runs, stores, field) {
  const own = runs.map((live, i) => rowLabels(field, live?.run?.layers, stores[i]?.rows || 0));
  if (metricOf(field).rows === "time" || !stores[0] || !stores[1]) {
    return { labels: own, maps: [null, null] };
  }
  const { labels, maps } = matchRows(own);
  return { labels: [labels, labels], maps };
}

const entry = (live) => (live ? { label: live.label, series: live.series } : null);

export class Plots {
  /**
   * The plots inside `root` (the watch panel); `onRow(row)` when a heatmap row is clicked,
   * `onZoom(range)` when a heatmap zooms.
   */
  constructor({ root, onRow, onZoom }) {
    const find = within(root);
    this.heatmaps = [
      new Heatmap(find("heatmap"), { onRowClick: onRow, onZoom }),
      new Heatmap(find("compare-heatmap"), { onRowClick: onRow, onZoom }),
    ];
    this.loss = new LossChart(find("loss-chart"));
    this.rowChart = new RowChart(find("row-chart"));
    this.time = new TimeChart(find("time-chart"));
    this.legend = find("bands-legend");
    this.cellLegend = find("cell-legend");
    this.timeSection = find("time-section");
    this.rowSection = find("row-section");
    this.rowSelect = /** @type {HTMLSelectElement} */ (find("row-select"));
    this.rowTitle = find("row-title");
    this.followSize([this.heatmaps[0].element, this.heatmaps[1].element, this.loss.element,
      this.rowChart.element, this.time.element]);
  }

  /** Plotly follows the window's size; this follows each plot's own (layout, large text). */
  followSize(elements) {
    const sizes = new WeakMap();
    let frame = null;
    const changed = new Set();
    const observer = new ResizeObserver((entries) => {
      for (const resized of entries) {
        const { width, height } = resized.contentRect;
        const before = sizes.get(resized.target);
        sizes.set(resized.target, `${width}x${height}`);
        if (before && before !== `${width}x${height}`
            && /** @type {HTMLElement} */ (resized.target)._fullLayout) {
          changed.add(resized.target);
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
    for (const element of elements) observer.observe(element);
  }

  /** Draw everything for `runs` ([watched, compared], either may be null) and `view`. */
  draw(runs, view) {
    const { field, scale, row, logLoss, zoom } = view;
    const stores = runs.map((live) => live?.series.store(field) || null);
    const zrange = isFraction(field) ? [0, 1] : sharedRange(stores.map((store) => store?.range()));
    const rows = shownRows(runs, stores, field);
    runs.forEach((live, i) => {
      if (i === 1 && !live) return;
      const store = stores[i];
      this.heatmaps[i].draw({
        store, field, zrange, scale, zoom,
        labels: rows.labels[i],
        rowMap: rows.maps[i],
        layers: live?.run?.layers,
        bands: bands(field, store, comparedRow(live)),
        emptyText: emptyText(live, field),
      });
    });
    this.legend.textContent = bandsLegend(field);
    this.drawCellLegend(field);
    this.loss.logScale = logLoss;
    this.loss.draw(runs.map(entry));
    this.drawRow(runs, field, row, stores, rows);
    const hasTime = runs.some((live) => TimeChart.has(entry(live)));
    this.timeSection.hidden = !hasTime;
    if (hasTime) this.time.draw(runs.map(entry));
  }

  drawCellLegend(field) {
    const key = cellLegend(field);
    if (this.cellLegend.dataset.field === field) return;
    this.cellLegend.dataset.field = field;
    this.cellLegend.replaceChildren(...key.flatMap(([swatch, text]) => {
      const words = document.createTextNode(`${text} `);
      if (!swatch) return [words];
      const box = document.createElement("span");
      box.className = `swatch ${swatch}`;
      box.setAttribute("aria-hidden", "true");
      return [box, words];
    }));
  }

  /** The opened row's chart: the same layer (by name, when comparing) of both runs. */
  drawRow(runs, field, row, stores, rows) {
    const section = this.rowSection;
    const labels = rows.labels[0];
    const count = labels.length;
    const select = this.rowSelect;
    const wanted = labels.join("\n");
    if (select.dataset.labels !== wanted) {
      select.dataset.labels = wanted;
      select.replaceChildren(...labels.map((label, i) => new Option(label, String(i))));
    }
    section.hidden = row === null || row >= count || !stores[0];
    if (section.hidden) return;
    select.value = String(row);
    const own = runs.map((_, i) => (rows.maps[i] ? rows.maps[i][row] ?? -1 : row));
    const names = runs.map((live, i) => (own[i] >= 0
      ? rowName(field, live?.run?.layers, own[i], stores[i]?.rows || 0)
      : `no ${labels[row]}`));
    const title = own[0] >= 0 ? names[0] : `${labels[row]} (not in the watched run)`;
    this.rowTitle.textContent = `${title}: ${metricOf(field).label} over the steps`;
    this.rowChart.draw({ runs: runs.map(entry), field, rows: own, names });
  }

  resize() {
    for (const heatmap of this.heatmaps) heatmap.resize();
  }

  /** The watched heatmap as a PNG data URL. */
  image(title) {
    return this.heatmaps[0].image(title);
  }
}

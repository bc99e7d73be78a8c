// @ts-check
// One heatmap (rows: layers with the input side at the bottom, or time steps; columns: steps)
// of log10 values on a given colour range, with the vanishing and exploding ranges marked
// beside its colour bar. Redraws are Plotly.react on the DisplayGrid's arrays: a frame never
// rebuilds the figure. Hover shows a tooltip with the raw value from the run's own store
// (the largest of the steps a column covers, and at which step); a click opens a row's chart.

import { cellLegendText, FRACTION_TICKS, GAP_COLOUR, ZERO_COLOUR } from "./cellkey.js";
import { colourTicks, SCALES, scientific } from "./colours.js";
import { DisplayGrid } from "./decimate.js";
import { isFraction, metricOf, rowName } from "./metrics.js";
import { plotlyText } from "./plotlytext.js";
import { baseLayout, PLOT_CONFIG } from "./theme.js";

const BAND_COLOURS = { vanishing: "#6a3d9a", exploding: "#d55e00" };
const BAND_PX = [3, 12]; // the bars' place right of the plot area; the colour bar starts at 16
const ROWS_IN_PLAIN_HEIGHT = 20; // layer rows the CSS height labels legibly
const ROW_PX = 14;

/** The store columns [from, to) of one display column, and which of them is the largest. */
export function describeCell(grid, row, column) {
  const [from, to] = grid.span(column);
  const data = grid.store.data[row];
  let best = -1;
  for (let c = from; c < to; c += 1) {
    const v = data[c];
    if (v !== v) return { from, to, at: c, value: NaN }; // eslint-disable-line no-self-compare
    if (best < 0 || v > data[best]) best = c;
  }
  return { from, to, at: best, value: best < 0 ? null : data[best] };
}

export class Heatmap {
  /**
   * `onRowClick(row)` when a row is clicked; `onZoom(range or null)` when the x axis zooms.
   * @param {HTMLElement} element
   * @param {{onRowClick?: (row: number) => void, onZoom?: (range: number[] | null) => void}} [on]
   */
  constructor(element, { onRowClick = () => {}, onZoom = () => {} } = {}) {
    this.element = element;
    this.onRowClick = onRowClick;
    this.onZoom = onZoom;
    this.grid = new DisplayGrid();
    this.revision = 0;
    this.shown = null;   // what the last draw showed, for the tooltip
    this.listening = false;
    this.tooltip = document.createElement("div");
    this.tooltip.className = "plot-tooltip";
    this.tooltip.hidden = true;
    this.tooltip.setAttribute("role", "status");
    element.parentElement?.append(this.tooltip);
  }

  /** The plot area's width in px, which bounds the columns drawn. */
  get pixels() {
    const size = this.element._fullLayout?._size;
    return size?.w || Math.max(200, this.element.clientWidth - 140);
  }

  /**
   * Draw `field` from `store` (a ColumnStore, or null while there is nothing to draw).
   * `labels` are the row labels, `layers` the run's layers (for the tooltip), `zrange` the
   * shared [zmin, zmax], `scale` a key of SCALES, `bands` from bands.js. Returns
   * Plotly's promise of the drawn figure.
   */
  draw({ store, field, labels, layers, zrange, scale, bands = [], emptyText, zoom = null,
    rowMap = null }) {
    const metric = metricOf(field);
    const hasData = Boolean(store && store.length && store.rows);
    const data = [];
    const [zmin, zmax] = zrange;
    if (hasData) {
      this.grid.configure(this.pixels, zoom);
      this.grid.update(store);
      const ticks = isFraction(field) ? FRACTION_TICKS : colourTicks(zmin, zmax);
      data.push({
        type: "heatmap",
        z: mapRows(this.grid.z, rowMap, this.grid.columns),
        x0: this.grid.x0,
        dx: this.grid.bucket,
        y: labels.map(plotlyText),
        zmin,
        zmax,
        zauto: false,
        colorscale: SCALES[scale]?.plotly || "Viridis",
        hoverinfo: "none",
        hoverongaps: true,
        colorbar: {
          title: { text: plotlyText(metric.short), side: "right" },
          tickvals: ticks.tickvals,
          ticktext: ticks.ticktext,
          thickness: 14,
          len: 1,
          lenmode: "fraction",
          y: 0,
          yanchor: "bottom",
          ypad: 0,
          x: 1,
          xanchor: "left",
          xpad: 16,
          outlinewidth: 0,
        },
      });
      const zeros = isFraction(field) ? null : this.grid.zeros();
      if (zeros?.count) {
        data.push(zeroTrace(mapRows(zeros.rows, rowMap, this.grid.columns), this.grid, labels));
      }
    }
    this.shown = hasData ? { store, field, layers, grid: this.grid, rowMap, labels } : null;
    const layout = this.layout({ hasData, metric, zrange, bands, emptyText });
    // Every row labelled (a layer list is at most a few dozen rows; time steps may be hundreds).
    if (metric.rows !== "time") Object.assign(layout.yaxis, { tickmode: "linear", tick0: 0, dtick: 1 });
    if (hasData && zoom) Object.assign(layout.xaxis, { range: zoom, autorange: false });
    const height = this.fitRows(metric.rows === "time" ? 0 : labels.length);
    if (height) Object.assign(layout, { height });
    const drawn = Plotly.react(this.element, data, layout, PLOT_CONFIG);
    this.listen();
    return drawn;
  }

  /** Room for every layer's label: past about 20 rows the plot grows; returns its height or 0. */
  fitRows(rows) {
    const height = rows > ROWS_IN_PLAIN_HEIGHT ? Math.round(rows * ROW_PX + 110) : 0;
    const css = height ? `${height}px` : "";
    if (this.element.style.height !== css) this.element.style.height = css;
    return height;
  }

  layout({ hasData, metric, zrange, bands, emptyText }) {
    this.revision += 1;
    const layout = {
      ...baseLayout(),
      datarevision: this.revision,
      uirevision: "keep-zoom",
      // Room above the plot for Plotly's toolbar, which would otherwise cover the colour bar.
      margin: { l: 10, r: 10, t: 34, b: 44 },
      plot_bgcolor: GAP_COLOUR,
      xaxis: { title: { text: plotlyText("step") }, automargin: true, showgrid: false, zeroline: false },
      yaxis: {
        title: { text: plotlyText(metric.rows === "time" ? "time step (earliest at the bottom)"
          : "layer (input side at the bottom)") },
        automargin: true, type: "category", showgrid: false,
      },
      shapes: hasData ? bandShapes(bands, zrange) : [],
      annotations: hasData ? [] : [{
        text: plotlyText(emptyText || "No data yet"),
        showarrow: false, xref: "paper", yref: "paper",
        x: 0.5, y: 0.5, font: { size: baseLayout().font.size + 2, color: "#555" },
      }],
    };
    if (!hasData) {
      layout.xaxis.visible = false;
      layout.yaxis.visible = false;
    }
    return layout;
  }

  listen() {
    if (this.listening || !this.element.on) return;
    this.listening = true;
    this.element.on("plotly_hover", (event) => this.hover(event));
    this.element.on("plotly_unhover", () => {
      this.tooltip.hidden = true;
    });
    this.element.on("plotly_click", (event) => {
      const row = cellOf(event)?.[0];
      if (row !== undefined) this.onRowClick(row);
    });
    this.element.on("plotly_relayout", (change) => {
      if (change["xaxis.autorange"]) this.onZoom(null);
      const lo = change["xaxis.range[0]"] ?? change["xaxis.range"]?.[0];
      const hi = change["xaxis.range[1]"] ?? change["xaxis.range"]?.[1];
      if (Number.isFinite(lo) && Number.isFinite(hi)) this.onZoom([lo, hi]);
    });
  }

  hover(event) {
    const cell = cellOf(event);
    if (!cell || !this.shown) return;
    const [shownRow, column] = cell;
    const { store, field, layers, grid, rowMap } = this.shown;
    const row = rowMap ? rowMap[shownRow] ?? -1 : shownRow;
    if (row >= store.rows || column >= grid.columns) return;
    const text = row < 0 ? [String(this.shown.labels[shownRow]), "absent: this run has no layer "
      + "of that name"]
      : hoverText(describeCell(grid, row, column), store, field, layers, row);
    this.tooltip.replaceChildren(...text.map((line) => {
      const div = document.createElement("div");
      div.textContent = line;
      return div;
    }));
    this.tooltip.hidden = false;
    const box = this.element.getBoundingClientRect();
    const parent = this.tooltip.offsetParent?.getBoundingClientRect() || box;
    const mouse = event.event || {};
    const left = (mouse.clientX ?? box.left) - parent.left + 14;
    const top = (mouse.clientY ?? box.top) - parent.top + 14;
    this.tooltip.style.left = `${Math.min(left, parent.width - this.tooltip.offsetWidth - 4)}px`;
    this.tooltip.style.top = `${top}px`;
  }

  /**
   * The heatmap as a PNG data URL (for the download), at `width` × `height`, with `title`
   * (the run and the view) written above it, so the file says what it shows.
   */
  image(title = "", width = 1200, height = 600) {
    const plot = /** @type {any} */ (this.element);
    const legend = this.shown ? {
      text: plotlyText(cellLegendText(this.shown.field)), showarrow: false, xref: "paper",
      yref: "paper", x: 0, y: 1, xanchor: "left", yanchor: "bottom", yshift: 4,
    } : null;
    const layout = { ...plot.layout, title: { text: plotlyText(title), x: 0.01, xanchor: "left" },
      margin: { ...plot.layout.margin, t: title ? 80 : plot.layout.margin?.t },
      annotations: [...(plot.layout.annotations || []), ...(legend ? [legend] : [])] };
    return Plotly.toImage({ data: plot.data, layout }, { format: "png", width, height });
  }

  resize() {
    if (this.element._fullLayout) Plotly.Plots.resize(this.element);
  }
}

/** `rows` in the shown order of `rowMap` (a gap row where it is -1), or as they are. */
function mapRows(rows, rowMap, columns) {
  if (!rowMap) return rows;
  const gap = new Float32Array(columns).fill(NaN);
  return rowMap.map((row) => (row >= 0 && rows[row] ? rows[row] : gap));
}

/** The cells holding an exact 0, over the heatmap, in ZERO_COLOUR (elsewhere a gap). */
function zeroTrace(rows, grid, labels) {
  return {
    type: "heatmap", name: "exactly 0", z: rows, x0: grid.x0, dx: grid.bucket,
    y: labels.map(plotlyText), zmin: 0, zmax: 1, zauto: false, showscale: false,
    colorscale: [[0, ZERO_COLOUR], [1, ZERO_COLOUR]], hoverinfo: "none", hoverongaps: true,
  };
}

/** [row, column] of the cell under a Plotly hover or click event. */
function cellOf(event) {
  const point = event?.points?.[0];
  const number = point?.pointNumber;
  return Array.isArray(number) && number.length === 2 ? number : null;
}

function hoverText(cell, store, field, layers, row) {
  const metric = metricOf(field);
  const lines = [rowName(field, layers, row, store.rows)];
  if (cell.to === cell.from || cell.at < 0) return [...lines, "no recorded step here"];
  const first = store.step(cell.from);
  const last = cell.to < store.length ? store.step(cell.to) - 1 : store.lastPushed;
  if (store.stride === 1 && cell.to - cell.from === 1) {
    lines.push(`step ${store.step(cell.at)}`);
  } else if (store.stride === 1) {
    lines.push(`step ${store.step(cell.at)}: the largest of steps ${first}–${last}`);
  } else {
    lines.push(`the largest of steps ${first}–${last}`);
  }
  const v = cell.value;
  if (isFraction(field) && Number.isFinite(v)) {
    lines.push(`${metric.short} = ${(100 * v).toFixed(1)} % of the layer's units`);
    return lines;
  }
  if (isFraction(field)) lines.push(`${metric.short}: not recorded for this layer`);
  else if (Number.isNaN(v)) lines.push(`${metric.short} = not finite (NaN or ∞)`);
  else if (v === -Infinity) lines.push(`${metric.short} = 0 exactly (drawn black)`);
  else lines.push(`${metric.short} = ${scientific(10 ** v, 3)}  (log₁₀ ${v.toFixed(2)})`);
  return lines;
}

function bandShapes(bands, [zmin, zmax]) {
  const fraction = (v) => Math.min(1, Math.max(0, (v - zmin) / (zmax - zmin)));
  const shapes = [];
  for (const band of bands) {
    const y0 = band.from === null ? 0 : fraction(band.from);
    const y1 = band.to === null ? 1 : fraction(band.to);
    if (y1 <= y0) continue;
    shapes.push({
      type: "rect", xref: "paper", xsizemode: "pixel", xanchor: 1, x0: BAND_PX[0], x1: BAND_PX[1],
      yref: "paper", y0, y1, fillcolor: BAND_COLOURS[band.kind], line: { width: 0 },
      name: band.kind,
    });
  }
  return shapes;
}

// The watched run and the one it is compared with: their live data, the two heatmaps on one
// shared colour range, the loss chart and the text panel, redrawn at most ten times a second.

import { DrawScheduler, LossChart, TimeChart } from "./charts.js";
import { Heatmap, METRICS, sharedRange } from "./heatmap.js";
import { LiveRun } from "./live.js";
import { renderDiagnosis, renderStatus } from "./panel.js";

const $ = (id) => document.getElementById(id);

function emptyText(live, field) {
  if (!live) return "Start a run or pick one from the list.";
  if (live.gone) return "This run does not exist.";
  const run = live.run;
  if (!run) return "Connecting…";
  if (live.series.steps.length && !live.series.present.has(field)) {
    return `This run records no ${METRICS[field]?.label || field}.`;
  }
  if (run.status === "queued") {
    const where = run.queue_position ? ` (position ${run.queue_position})` : "";
    return `Queued${where}: the heatmap fills in once training starts.`;
  }
  if (run.status === "running") return "Building the model; the first steps are on their way…";
  return "This run recorded no steps.";
}

export class WatchView {
  /**
   * `onParentKnown(parentId)` is called once per watched run that has a parent;
   * `onRunUpdate(run)` whenever the watched run's socket changes what is known about it.
   */
  constructor({ onParentKnown, onRunUpdate }) {
    this.onParentKnown = onParentKnown;
    this.onRunUpdate = onRunUpdate;
    this.watched = null;
    this.compared = null;
    this.field = "grad_norms";
    this.parentOffered = false;
    this.scheduler = new DrawScheduler();
    this.heatmap = new Heatmap($("heatmap"));
    this.compareHeatmap = new Heatmap($("compare-heatmap"));
    this.loss = new LossChart($("loss-chart"));
    this.time = new TimeChart($("time-chart"));
    this.metricSelect = $("metric");
    this.metricSelect.addEventListener("change", () => {
      this.field = this.metricSelect.value;
      this.requestPlots();
    });
    $("loss-log").addEventListener("change", (event) => {
      this.loss.logScale = event.target.checked;
      this.requestPlots();
    });
    this.updateMetricOptions();
    this.showCompare();
    this.renderAll();
  }

  /** Watch `runId` (or nothing) and compare with `compareId` (or nothing). */
  show(runId, compareId) {
    if ((this.watched?.id ?? null) !== runId) {
      this.watched?.close();
      this.parentOffered = false;
      this.watched = runId ? new LiveRun(runId, (part) => this.watchedChanged(part)) : null;
    }
    const compare = compareId && compareId !== runId ? compareId : null;
    if ((this.compared?.id ?? null) !== compare) {
      this.compared?.close();
      this.compared = compare ? new LiveRun(compare, (part) => this.comparedChanged(part)) : null;
      this.showCompare();
    }
    this.renderAll();
  }

  /**
   * Take what only the list knows from a poll: a queued run's place in the queue moves as
   * others start, which its socket does not report.
   */
  syncFromList(runs) {
    for (const live of [this.watched, this.compared]) {
      const listed = live?.run && runs.find((r) => r.id === live.id);
      if (!listed || live.run.status !== "queued" || listed.status !== "queued") continue;
      if (listed.queue_position !== live.run.queue_position) {
        live.run.queue_position = listed.queue_position;
        live.onChange("run", live);
      }
    }
  }

  watchedChanged(part) {
    if (part === "diagnosis") renderDiagnosis(this.watched);
    if (part === "data") {
      this.scheduler.request("status", () => this.renderWatchedStatus());
      this.requestPlots();
      return;
    }
    this.renderWatchedStatus();
    if (part === "run" || part === "gone") {
      this.requestPlots();
      const parent = this.watched?.run?.parent_id;
      if (parent && !this.parentOffered) {
        this.parentOffered = true;
        this.onParentKnown(parent);
      }
    }
  }

  renderWatchedStatus() {
    renderStatus(this.watched);
    const live = this.watched;
    if (!live?.run) return;
    const last = live.lastStep;
    const progress = last ? { ...live.run.progress, step: last.step + 1, epoch: last.epoch }
      : live.run.progress;
    this.onRunUpdate({ ...live.run, progress });
  }

  comparedChanged(part) {
    if (part === "run" || part === "gone") this.showCompare();
    if (["data", "run", "gone"].includes(part)) this.requestPlots();
  }

  showCompare() {
    const has = Boolean(this.compared);
    $("compare-heatmap").hidden = !has;
    $("compare-empty").hidden = has;
    $("clear-compare").hidden = !has;
    $("compare-caption").textContent = has ? `Compared with ${this.compared.label}` : "Compare with: none";
    const box = document.querySelector(".heatmaps");
    if (box.classList.contains("has-compare") !== has) {
      box.classList.toggle("has-compare", has);
      this.heatmap.resize();
    }
  }

  renderAll() {
    renderStatus(this.watched);
    renderDiagnosis(this.watched);
    $("heatmap-caption").textContent = this.watched ? `Watched: ${this.watched.label}` : "Watched run";
    this.requestPlots();
  }

  requestPlots() {
    this.scheduler.request("plots", () => this.drawPlots());
  }

  updateMetricOptions() {
    const present = new Set(["grad_norms"]);
    for (const live of [this.watched, this.compared]) {
      for (const field of live?.series.present || []) present.add(field);
    }
    const wanted = Object.keys(METRICS).filter((f) => present.has(f) || f === this.field);
    const current = [...this.metricSelect.options].map((o) => o.value);
    if (wanted.join() === current.join()) return;
    this.metricSelect.replaceChildren(...wanted.map((field) => {
      const option = document.createElement("option");
      option.value = field;
      option.textContent = METRICS[field].label;
      return option;
    }));
    this.metricSelect.value = this.field;
  }

  drawPlots() {
    this.updateMetricOptions();
    $("heatmap-caption").textContent = this.watched ? `Watched: ${this.watched.label}` : "Watched run";
    if (this.compared) $("compare-caption").textContent = `Compared with ${this.compared.label}`;
    const runs = [this.watched, this.compared].filter(Boolean);
    const zrange = sharedRange(runs.map((live) => live.series.range(this.field)));
    this.heatmap.draw({
      series: this.watched?.series, field: this.field, layers: this.watched?.run?.layers,
      zrange, emptyText: emptyText(this.watched, this.field),
    });
    if (this.compared) {
      this.compareHeatmap.draw({
        series: this.compared.series, field: this.field, layers: this.compared.run?.layers,
        zrange, emptyText: emptyText(this.compared, this.field),
      });
    }
    const entry = (live) => (live ? { label: live.label, series: live.series } : null);
    this.loss.draw({ watched: entry(this.watched), compared: entry(this.compared) });
    const hasTime = TimeChart.has(this.watched) || TimeChart.has(this.compared);
    $("time-section").hidden = !hasTime;
    if (hasTime) this.time.draw({ watched: entry(this.watched), compared: entry(this.compared) });
  }
}

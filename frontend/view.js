// @ts-check
// The watch panel: the watched run and the one it is compared with (their live data), and the
// view's choices (metric, colours, opened row, zoom, loss axis), all of which come from the URL
// hash. Redraws are coalesced to at most ten a second, however fast the frames arrive.

import * as api from "./api.js";
import { DEFAULT_SCALE, SCALES } from "./colours.js";
import { DEFAULT_FIELD, FIELDS, METRICS } from "./metrics.js";
import { StatusPanel } from "./panel.js";
import { Plots } from "./plots.js";
import { updateState } from "./state.js";
import { renderSummary } from "./summary.js";
import { renderLayers } from "./layers.js";
import { seriesUpTo } from "./replay.js";
import { ReplayBar } from "./replaybar.js";
import { DiagnosisTimeline } from "./timeline.js";
import { DrawScheduler, isActive, within } from "./util.js";
import { WatchedRun } from "./watched.js";
import { renderDiagnosis } from "./why.js";

function fillSelect(select, entries) {
  const wanted = entries.map(([value]) => value).join();
  if ([...select.options].map((o) => o.value).join() === wanted) return;
  const value = select.value;
  select.replaceChildren(...entries.map(([v, label]) => new Option(label, v)));
  if (entries.some(([v]) => v === value)) select.value = value;
}

const compareCaption = (live) => `Before (compared): ${live.label}`;

export class WatchView {
  /**
   * The watch panel inside `root`. `onParentKnown(parentId)` once per watched run that has a
   * parent; `onRunUpdate(run)` whenever the watched run's socket changes what is known about
   * it; `onApply(suggestion)` when a suggestion is to be applied.
   */
  constructor({ root, onParentKnown, onRunUpdate, onApply }) {
    const find = within(root);
    this.controls = {
      metric: /** @type {HTMLSelectElement} */ (find("metric")),
      scale: /** @type {HTMLSelectElement} */ (find("scale")),
      lossLog: /** @type {HTMLInputElement} */ (find("loss-log")),
      rowSelect: /** @type {HTMLSelectElement} */ (find("row-select")),
      rowClose: find("row-close"),
      downloadPng: find("download-png"),
      downloads: {
        csv: /** @type {HTMLAnchorElement} */ (find("download-csv")),
        json: /** @type {HTMLAnchorElement} */ (find("download-json")),
      },
    };
    this.compareParts = {
      heatmap: find("compare-heatmap"),
      empty: find("compare-empty"),
      clear: find("clear-compare"),
      caption: find("compare-caption"),
    };
    this.heatmapCaption = find("heatmap-caption");
    this.diagnosisStep = find("diagnosis-step");
    this.layerParts = { box: find("layers-info"), list: find("layers-list"),
      why: find("layers-why"), count: find("layers-count") };
    this.heatmapBox = /** @type {HTMLElement} */ (root.querySelector(".heatmaps"));
    this.status = new StatusPanel(root);
    this.onParentKnown = onParentKnown;
    this.onRunUpdate = onRunUpdate;
    this.onApply = onApply;
    this.watched = null;
    this.compared = null;
    this.view = {
      field: DEFAULT_FIELD, scale: DEFAULT_SCALE, row: null, logLoss: false, zoom: null,
    };
    this.parentOffered = false;
    // The watched run's diagnoses as they changed, for replay.
    this.timeline = new DiagnosisTimeline(() => this.renderDiagnosis());
    this.scheduler = new DrawScheduler();
    this.plots = new Plots({
      root,
      onRow: (row) => updateState({ row }),
      onZoom: (zoom) => updateState({ zoom }),
    });
    this.replay = new ReplayBar({
      root,
      onStep: () => this.renderDiagnosis(),
      onSettle: (step) => updateState({ step }),
    });
    this.bind();
    this.showCompare();
    this.renderAll();
  }

  bind() {
    const { metric, scale, lossLog, rowSelect, rowClose, downloadPng } = this.controls;
    fillSelect(scale, Object.entries(SCALES).map(([key, s]) => [key, s.label]));
    metric.addEventListener("change", () => updateState({ metric: metric.value, row: null }));
    scale.addEventListener("change", () => updateState({ scale: scale.value }));
    lossLog.addEventListener("change", () => updateState({ log: lossLog.checked }));
    rowSelect.addEventListener("change", () => updateState({ row: Number(rowSelect.value) }));
    rowClose.addEventListener("click", () => updateState({ row: null }));
    downloadPng.addEventListener("click", () => this.downloadPng());
    window.addEventListener("resize", () => this.requestPlots());
  }

  /** Follow the hash: which runs, and how they are shown. */
  show(state) {
    this.view = {
      field: FIELDS.includes(state.metric) ? state.metric : DEFAULT_FIELD,
      scale: state.scale in SCALES ? state.scale : DEFAULT_SCALE,
      row: state.row,
      logLoss: Boolean(state.log),
      zoom: state.zoom,
    };
    this.controls.scale.value = this.view.scale;
    this.controls.lossLog.checked = this.view.logLoss;
    const runId = state.run;
    if ((this.watched?.id ?? null) !== runId) {
      this.watched?.close();
      this.parentOffered = false;
      this.watched = runId ? new WatchedRun(runId, (part) => this.watchedChanged(part),
        this.view.field) : null;
      this.replay.reset();
      this.syncReplay();
    }
    this.replay.follow(state.step);
    const compare = state.compare && state.compare !== runId ? state.compare : null;
    if ((this.compared?.id ?? null) !== compare) {
      this.compared?.close();
      this.compared = compare ? new WatchedRun(compare,
        (part) => this.comparedChanged(part), this.view.field) : null;
      this.showCompare();
    }
    this.fetchDetail();
    this.renderAll();
  }

  /**
   * On a summarized run (lod.js): fetch the metric shown if its snapshot lacked it, and the
   * zoomed range, or the replayed steps, at the detail the heatmap shows.
   */
  fetchDetail() {
    const { field, zoom } = this.view;
    const step = this.replay.step;
    for (const live of [this.watched, this.compared]) {
      if (!live?.series.summarized) continue;
      live.ensure(field);
      if (Array.isArray(zoom)) live.refine(zoom[0], zoom[1]);
      else if (step !== null) live.refine(0, step);
    }
  }

  /** Take what only the list's polls know: a queued run's place in the queue moves. */
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

  /** Tell the replay how far the watched run has got, and whether it goes on. */
  syncReplay() {
    const live = this.watched;
    this.replay.sync(live?.series.last?.step ?? null, isActive(live?.run?.status));
  }

  watchedChanged(part) {
    if (part === "detail" || part === "run") this.fetchDetail();
    if (part === "detail") return;
    if (part === "data" || part === "run") this.syncReplay();
    if (part === "diagnosis") {
      this.timeline.note(this.watched);
      this.renderDiagnosis();
    }
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

  comparedChanged(part) {
    if (part === "detail" || part === "run") this.fetchDetail();
    if (part === "detail") return;
    if (part === "run" || part === "gone") this.showCompare();
    this.requestPlots();
  }

  renderDiagnosis() {
    const step = this.replay.step;
    renderDiagnosis(this.timeline.at(this.watched, step), this.onApply);
    const known = this.timeline.knows(this.watched?.id);
    this.diagnosisStep.textContent = step === null ? "" : known ? ` (as it was at step ${step})`
      : " (the newest: the diagnosis at this step is not known yet)";
    this.requestPlots();
  }

  renderWatchedStatus() {
    this.status.render(this.watched);
    renderLayers(this.layerParts, this.watched?.run);
    this.renderDownloads();
    const live = this.watched;
    if (!live?.run) return;
    const last = live.lastStep;
    const progress = last ? { ...live.run.progress, step: last.step + 1, epoch: last.epoch }
      : live.run.progress;
    this.onRunUpdate({ ...live.run, progress });
  }

  renderDownloads() {
    const id = this.watched?.run ? this.watched.id : null;
    for (const [format, link] of Object.entries(this.controls.downloads)) {
      link.hidden = !id;
      if (id) {
        link.href = api.metricsUrl(id, format);
        link.download = `gradwatch-${id}.${format}`;
      }
    }
    this.controls.downloadPng.hidden = !(id && this.watched.series.count);
  }

  async downloadPng() {
    if (!this.watched) return;
    const metric = this.controls.metric.selectedOptions[0]?.text || this.view.field;
    const url = await this.plots.image(`GradWatch · ${this.watched.label} · ${metric}`);
    const link = document.createElement("a");
    link.href = url;
    link.download = `gradwatch-${this.watched.id}-${this.view.field}.png`;
    document.body.append(link);
    link.click();
    link.remove();
  }

  showCompare() {
    const has = Boolean(this.compared);
    this.compareParts.heatmap.hidden = !has;
    this.compareParts.empty.hidden = has;
    this.compareParts.clear.hidden = !has;
    this.compareParts.caption.textContent = has ? compareCaption(this.compared) : "Compare with: none";
    const box = this.heatmapBox;
    if (box.classList.contains("has-compare") !== has) {
      box.classList.toggle("has-compare", has);
      this.plots.resize();
    }
  }

  renderAll() {
    this.status.render(this.watched);
    renderLayers(this.layerParts, this.watched?.run);
    this.renderDownloads();
    this.renderDiagnosis();
  }

  requestPlots() {
    this.scheduler.request("plots", () => this.drawPlots());
  }

  updateMetricOptions() {
    const present = new Set([DEFAULT_FIELD, this.view.field]);
    for (const live of [this.watched, this.compared]) {
      for (const field of live?.series.present || []) present.add(field);
    }
    const { metric } = this.controls;
    fillSelect(metric, FIELDS.filter((f) => present.has(f)).map((f) => [f, METRICS[f].label]));
    metric.value = this.view.field;
  }

  /** The runs as the plots show them: cut at the replayed step, if one is chosen. */
  shownRuns() {
    const step = this.replay.step;
    return [this.watched, this.compared].map((live) => (live && step !== null ? {
      label: live.label, run: live.run, diagnosis: live.diagnosis, gone: live.gone,
      series: seriesUpTo(live.series, step),
    } : live));
  }

  drawPlots() {
    this.updateMetricOptions();
    const step = this.replay.step;
    const at = step === null ? "" : ` — replay, up to step ${step}`;
    // Compared, the runs read before (the compared run, left) → after (the watched, right).
    const watched = this.compared ? "After (watched)" : "Watched";
    this.heatmapCaption.textContent = this.watched ? `${watched}: ${this.watched.label}${at}`
      : "Watched run";
    if (this.compared) this.compareParts.caption.textContent = compareCaption(this.compared);
    this.plots.draw(this.shownRuns(), this.view);
    renderSummary(this.compared, this.watched);
  }
}

// The list of runs, newest first, refreshed by polling. Items are updated in place (keyed by
// run id) so a poll never steals the keyboard focus or the scroll position.

import { listRuns } from "./api.js";
import { runLabel } from "./live.js";

const POLL_MS = 3000;

function timeText(iso) {
  if (!iso) return "";
  const date = new Date(typeof iso === "number" ? iso * 1000 : iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function metaText(run) {
  const parts = [String(run.id).slice(0, 8), timeText(run.created_at)];
  const p = run.progress;
  if (run.status === "running" && p?.total_steps) parts.push(`step ${p.step} of ${p.total_steps}`);
  if (run.status === "queued" && run.queue_position) parts.push(`position ${run.queue_position}`);
  const c = run.config;
  if (c) parts.push(`${c.dataset?.name}, ${c.model?.depth}× ${c.remedies?.activation}`);
  if (run.parent_id) parts.push(`restart of ${String(run.parent_id).slice(0, 8)}`);
  return parts.filter(Boolean).join(" · ");
}

export class RunsList {
  /**
   * `onWatch(id)` and `onCompare(id)` are called when the user picks a run, `onList(runs)`
   * after every poll.
   */
  constructor({ root, errorBox, onWatch, onCompare, onList }) {
    this.onList = onList || (() => {});
    this.root = root;
    this.errorBox = errorBox;
    this.onWatch = onWatch;
    this.onCompare = onCompare;
    this.items = new Map();
    this.runs = [];
    this.watched = null;
    this.compared = null;
    this.timer = null;
  }

  start() {
    this.refresh();
  }

  async refresh() {
    clearTimeout(this.timer);
    try {
      this.render(await listRuns());
      this.errorBox.hidden = true;
      this.onList(this.runs);
    } catch (err) {
      this.errorBox.textContent = `Cannot load the runs: ${err.message}`;
      this.errorBox.hidden = false;
    } finally {
      this.timer = setTimeout(() => this.refresh(), POLL_MS);
    }
  }

  find(id) {
    return this.runs.find((run) => run.id === id) || null;
  }

  /** Mark which runs are watched and compared. */
  mark(watched, compared) {
    this.watched = watched;
    this.compared = compared;
    for (const [id, item] of this.items) this.markItem(id, item);
  }

  markItem(id, item) {
    item.li.classList.toggle("watched", id === this.watched);
    item.li.classList.toggle("compared", id === this.compared);
    if (id === this.watched) item.watch.setAttribute("aria-current", "true");
    else item.watch.removeAttribute("aria-current");
    item.compare.setAttribute("aria-pressed", String(id === this.compared));
    item.compare.disabled = id === this.watched;
  }

  render(runs) {
    this.runs = runs || [];
    const seen = new Set();
    this.runs.forEach((run, index) => {
      seen.add(run.id);
      const item = this.items.get(run.id) || this.createItem(run.id);
      this.updateItem(item, run);
      const at = this.root.children[index];
      if (at !== item.li) this.root.insertBefore(item.li, at || null);
    });
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.li.remove();
        this.items.delete(id);
      }
    }
    if (!this.runs.length) {
      this.root.dataset.empty = "No runs yet: start one with the form.";
    } else {
      delete this.root.dataset.empty;
    }
  }

  /** Show what a run's socket knows before the next poll does (progress, final status). */
  patch(run) {
    const index = this.runs.findIndex((r) => r.id === run?.id);
    const item = this.items.get(run?.id);
    if (index < 0 || !item) return;
    this.runs[index] = { ...this.runs[index], ...run };
    this.updateItem(item, this.runs[index]);
  }

  createItem(id) {
    const li = document.createElement("li");
    li.className = "run-item";
    li.dataset.runId = id;
    const watch = document.createElement("button");
    watch.type = "button";
    watch.className = "watch-button";
    const badge = document.createElement("span");
    const name = document.createElement("span");
    name.className = "run-name";
    const meta = document.createElement("span");
    meta.className = "run-meta";
    watch.append(name, badge, meta);
    watch.addEventListener("click", () => this.onWatch(id));
    const compare = document.createElement("button");
    compare.type = "button";
    compare.className = "compare-button";
    compare.textContent = "compare";
    compare.addEventListener("click", () => this.onCompare(id === this.compared ? null : id));
    li.append(watch, compare);
    const item = { li, watch, badge, name, meta, compare };
    this.items.set(id, item);
    this.markItem(id, item);
    return item;
  }

  updateItem(item, run) {
    item.badge.className = `badge status-${run.status}`;
    item.badge.textContent = run.status;
    item.name.textContent = run.name || run.config?.name || "unnamed run";
    item.meta.textContent = metaText(run);
    item.compare.setAttribute("aria-label", `Compare with ${runLabel(run)}`);
  }
}

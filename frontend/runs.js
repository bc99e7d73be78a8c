// @ts-check
// The list of runs, newest first, one line each, refreshed by polling: status badges,
// progress, the owner, the parent a restart came from (a link to watch it), filters ("mine /
// everyone's" by Run.owned, words over name, status and owner, a status group), Stop for
// one's own active runs and delete for finished ones (every run's, for the admin). Items are
// updated in place (keyed by run id) so a poll never steals the keyboard focus or the scroll
// position.

import { deleteRun, listRuns, stopRun } from "./api.js";
import { STATUSES } from "./contract.js";
import { isActive, isFinal, ownerText, runLabel, runMatches } from "./util.js";

const POLL_MS = 3000;
const CONFIRM_MS = 5000;

function timeText(seconds) {
  if (!seconds) return "";
  const date = new Date(typeof seconds === "number" ? seconds * 1000 : seconds);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function metaText(run, admin) {
  // The owner first: on one line the end of the text may be cut off.
  const parts = [ownerText(run, admin), String(run.id).slice(0, 8), timeText(run.created_at)];
  const p = run.progress;
  if (run.status === "running" && p?.total_steps) parts.push(`step ${p.step} of ${p.total_steps}`);
  if (run.status === "queued" && run.queue_position) parts.push(`position ${run.queue_position}`);
  const c = run.config;
  if (run.source === "script") {
    parts.push(`from a script (${run.script?.model_class || "Keras"})`);
  } else if (c) {
    const unit = c.model?.arch === "rnn" ? c.model?.cell
      : `${c.model?.arch === "cnn" ? "conv " : ""}${c.remedies?.activation}`;
    parts.push(`${c.dataset?.name}, ${c.model?.depth}× ${unit}`);
  }
  return parts.filter(Boolean).join(" · ");
}

function button(className, text, onClick) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = className;
  el.textContent = text;
  el.addEventListener("click", onClick);
  return el;
}

export class RunsList {
  /**
   * The list in `root`, its errors in `errorBox`, its "mine / everyone's" radio buttons
   * `filters`. `onWatch(id)`, `onCompare(id or null)` when the user picks a run,
   * `onFilter(filter)` when the filter changes, `onDeleted(id)` after a delete, `onList(runs)`
   * after every poll.
   */
  constructor({ root, errorBox, filters, textFilter, statusFilter, onWatch, onCompare, onFilter,
    onDeleted, onList }) {
    this.root = root;
    this.errorBox = errorBox;
    /** @type {HTMLInputElement[]} */
    this.filters = filters;
    this.onWatch = onWatch;
    this.onCompare = onCompare;
    this.onFilter = onFilter;
    this.onDeleted = onDeleted;
    this.onList = onList;
    this.items = new Map();
    this.runs = [];
    this.watched = null;
    this.compared = null;
    this.filter = "all";
    this.timer = null;
    for (const radio of this.filters) {
      radio.addEventListener("change", () => this.onFilter(radio.value));
    }
    this.admin = false;
    /** @type {HTMLInputElement} */
    this.textFilter = textFilter;
    /** @type {HTMLSelectElement} */
    this.statusFilter = statusFilter;
    for (const status of STATUSES) {
      this.statusFilter.append(new Option(status, status));
    }
    const refilter = () => {
      for (const [id, item] of this.items) this.markItem(id, item);
      this.updateEmpty();
    };
    this.textFilter.addEventListener("input", refilter);
    this.statusFilter.addEventListener("change", refilter);
  }

  /** Whether the page holds the admin token: every run is then the caller's to stop. */
  setAdmin(admin) {
    this.admin = admin;
    this.refresh();
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

  /** Mark which runs are watched and compared, and apply the filter ("mine" or not). */
  mark(watched, compared, filter) {
    this.watched = watched;
    this.compared = compared;
    this.filter = filter === "mine" ? "mine" : "all";
    for (const radio of this.filters) {
      radio.checked = radio.value === this.filter;
    }
    for (const [id, item] of this.items) this.markItem(id, item);
    this.updateEmpty();
  }

  markItem(id, item) {
    item.li.classList.toggle("watched", id === this.watched);
    item.li.classList.toggle("compared", id === this.compared);
    if (id === this.watched) item.watch.setAttribute("aria-current", "true");
    else item.watch.removeAttribute("aria-current");
    item.compare.setAttribute("aria-pressed", String(id === this.compared));
    item.compare.disabled = id === this.watched;
    item.li.hidden = (this.filter === "mine" && !item.run?.owned) || (item.run !== null
      && !runMatches(item.run, this.textFilter.value, this.statusFilter.value, this.admin));
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
    this.updateEmpty();
  }

  updateEmpty() {
    const shown = [...this.items.values()].some((item) => !item.li.hidden);
    if (shown) delete this.root.dataset.empty;
    else if (!this.items.size) this.root.dataset.empty = "No runs yet: start one with the form.";
    else this.root.dataset.empty = this.textFilter.value || this.statusFilter.value
      ? "No run matches the filters." : "None of these runs is yours yet.";
  }

  /** Show what a run's socket knows before the next poll does (progress, final status). */
  patch(run) {
    const index = this.runs.findIndex((r) => r.id === run?.id);
    const item = this.items.get(run?.id);
    if (index < 0 || !item) return;
    this.runs[index] = { ...this.runs[index], ...run, owned: this.runs[index].owned };
    this.updateItem(item, this.runs[index]);
  }

  createItem(id) {
    const li = document.createElement("li");
    li.className = "run-item";
    li.dataset.runId = id;
    const watch = button("watch-button", "", () => this.onWatch(id));
    const badge = document.createElement("span");
    const name = document.createElement("span");
    name.className = "run-name";
    const meta = document.createElement("span");
    meta.className = "run-meta";
    watch.append(name, badge, meta);
    const parent = button("link parent-link", "", () => {
      if (item.run?.parent_id) this.onWatch(item.run.parent_id);
    });
    const compare = button("compare-button", "compare",
      () => this.onCompare(id === this.compared ? null : id));
    const remove = button("delete-button", "delete", () => this.remove(item));
    const stop = button("stop-button", "stop", () => this.stop(item));
    stop.dataset.testid = "stop-run";
    const actions = document.createElement("div");
    actions.className = "run-actions";
    actions.append(compare, stop, remove);
    const main = document.createElement("div");
    main.className = "run-main";
    main.append(watch, parent);
    li.append(main, actions);
    const item = { li, watch, badge, name, meta, parent, compare, stop, remove, run: null,
      confirm: null };
    this.items.set(id, item);
    this.markItem(id, item);
    return item;
  }

  updateItem(item, run) {
    item.run = run;
    item.badge.className = `badge status-${run.status}`;
    item.badge.textContent = run.status;
    item.name.textContent = run.name || run.config?.name || "unnamed run";
    item.meta.textContent = metaText(run, this.admin);
    item.compare.setAttribute("aria-label", `Compare with ${runLabel(run)}`);
    const parent = run.parent_id ? this.runs.find((r) => r.id === run.parent_id) : null;
    item.parent.hidden = !run.parent_id;
    item.parent.textContent = run.parent_id
      ? `↳ restart of ${parent ? runLabel(parent) : String(run.parent_id).slice(0, 8)}` : "";
    item.remove.hidden = !(run.owned && isFinal(run.status));
    item.stop.hidden = !(run.owned && isActive(run.status));
    item.stop.setAttribute("aria-label", `Stop ${runLabel(run)}`);
    if (!item.confirm) item.remove.setAttribute("aria-label", `Delete ${runLabel(run)}`);
    this.markItem(run.id, item);
  }

  /** Delete on the second press: the first asks for confirmation for a few seconds. */
  async remove(item) {
    if (!item.confirm) {
      item.remove.textContent = "really delete?";
      item.remove.classList.add("confirm");
      item.confirm = setTimeout(() => this.resetRemove(item), CONFIRM_MS);
      return;
    }
    this.resetRemove(item);
    try {
      await deleteRun(item.run.id);
      this.onDeleted(item.run.id);
      this.refresh();
    } catch (err) {
      this.errorBox.textContent = `Could not delete the run: ${err.message}`;
      this.errorBox.hidden = false;
    }
  }

  async stop(item) {
    item.stop.disabled = true;
    try {
      await stopRun(item.run.id);
    } catch (err) {
      this.errorBox.textContent = `Could not stop the run: ${err.message}`;
      this.errorBox.hidden = false;
    } finally {
      item.stop.disabled = false;
      this.refresh();
    }
  }

  resetRemove(item) {
    clearTimeout(item.confirm);
    item.confirm = null;
    item.remove.textContent = "delete";
    item.remove.classList.remove("confirm");
  }
}

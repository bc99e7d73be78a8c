// @ts-check
// Helpers more than one module of the page needs: what a status means, a run's label, the
// element lookup inside a component's root, and the scheduler that bounds every plot's
// redraws to ten a second however fast the frames arrive.

import { ACTIVE_STATUSES, FINAL_STATUSES } from "./contract.js";

const MIN_INTERVAL_MS = 100;

/** Whether a run with this status has ended for good (completed, stopped, failed, diverged). */
export const isFinal = (status) => FINAL_STATUSES.includes(status);

/** Whether a run with this status may still be stopped (queued or running). */
export const isActive = (status) => ACTIVE_STATUSES.includes(status);

/** "name · 1a2b3c4d", or "run 1a2b3c4d" for a run without a name. */
export function runLabel(run, id) {
  const name = run?.name || run?.config?.name;
  const short = String(run?.id || id || "").slice(0, 8);
  return name ? `${name} · ${short}` : `run ${short}`;
}

/**
 * Who a run belongs to, as the runs list shows it: "yours", or the owner's short label. For the
 * admin every run is `owned` (they may stop it), so the label is always shown.
 */
export const ownerText = (run, admin = false) => (run?.owned && !admin ? "yours"
  : run?.owner_label || "");

/**
 * Whether a run passes the runs list's filters: `text` found (any case) in its name, status or
 * owner, and `status` "" (any), "active" (queued or running), "ended", or one status.
 */
export function runMatches(run, text = "", status = "", admin = false) {
  if (status === "active" ? !isActive(run.status)
    : status === "ended" ? !isFinal(run.status)
      : status && run.status !== status) return false;
  const needle = text.trim().toLowerCase();
  if (!needle) return true;
  const hay = [run.name, run.config?.name, run.status, run.owner_label, ownerText(run, admin)]
    .filter(Boolean).join(" ").toLowerCase();
  return needle.split(/\s+/).every((word) => hay.includes(word));
}

/**
 * The element lookup of a component: `find("metric")` is the element with that id inside
 * `root`. A missing one throws, naming it, instead of failing later on `null`.
 * @param {ParentNode} root
 * @returns {(id: string) => HTMLElement}
 */
export function within(root) {
  return (id) => {
    const element = root.querySelector(`#${id}`);
    if (!element) throw new Error(`GradWatch: the page has no #${id} where it is expected`);
    return /** @type {HTMLElement} */ (element);
  };
}

/** Coalesces draw requests: each key's latest function runs at most once per interval. */
export class DrawScheduler {
  constructor(interval = MIN_INTERVAL_MS) {
    this.interval = interval;
    /** @type {Map<string, () => void>} */
    this.pending = new Map();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.lastFlush = -Infinity;
  }

  /** @param {string} key @param {() => void} draw */
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

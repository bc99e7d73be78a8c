// @ts-check
// The watched run's status text: title, status with queue position or progress and time
// left, error, the epoch figures, and which of its buttons apply.

import { EPOCH_FIELDS } from "./contract.js";
import { isActive, isFinal, within } from "./util.js";

/** Steps done: the newest step seen + 1, or what the Run object says. */
function stepsDone(live) {
  const last = live.lastStep;
  return last ? last.step + 1 : (live.run?.progress?.step ?? 0);
}

/** Whether the socket of a run that has not ended is down (the server restarting, say). */
const unreachable = (live) => live?.connection === "retrying" && !isFinal(live?.run?.status);

/** Whether "Start it again" is offered: a server-trained run that ended with an error, e.g.
 * cut off by a server restart. */
export const mayStartAgain = (run) => isFinal(run?.status) && Boolean(run.error)
  && run.source !== "script";

export function statusText(live) {
  if (!live) return "Start a run or pick one from the list.";
  if (live.gone) return "This run does not exist (it may have been deleted).";
  const run = live.run;
  if (!run) return "connecting…";
  const total = run.progress?.total_steps;
  const done = stepsDone(live);
  let text = run.status;
  if (run.status === "queued") {
    text = run.queue_position ? `queued — position ${run.queue_position} in the queue` : "queued";
  } else if (run.status === "running") {
    const epochs = run.config?.training?.epochs;
    const last = live.lastStep;
    const epoch = last ? last.epoch + 1 : (run.progress?.epoch ?? 0) + 1;
    text = total ? `running — step ${done} of ${total}` : "running — building the model";
    if (total && epochs) text += `, epoch ${Math.min(epoch, epochs)} of ${epochs}`;
    // Keras traces the training step before the first ones run: on a busy server that takes
    // seconds, with nothing arriving meanwhile.
    if (total && done < 2) text += " — preparing the first steps (tracing the model)…";
  } else if (isFinal(run.status)) {
    text = `${run.status} — ${done} step${done === 1 ? "" : "s"}`;
  }
  if (unreachable(live)) text += " (the server cannot be reached; reconnecting…)";
  if (run.source === "script") text += " · from a script";
  return text;
}

function aboutText(seconds) {
  if (seconds < 90) return `about ${Math.ceil(seconds)} s`;
  return `about ${Math.round(seconds / 60)} min`;
}

/**
 * "about 40 s left" from the worker's pace so far, or "" when it cannot be told yet. A run the
 * server stops at its time limit (Run.time_limit, from started_at) ends then, whatever its
 * pace: the text says so. `now` is Unix seconds.
 */
export function timeLeftText(live, now = Date.now() / 1000) {
  const run = live?.run;
  const total = run?.progress?.total_steps;
  const pace = live?.series.pace;
  if (!run || run.status !== "running" || !total || !pace) return "";
  const seconds = Math.max(0, (total - stepsDone(live)) / pace);
  const limit = run.time_limit;
  if (limit && typeof run.started_at === "number") {
    const allowed = Math.max(0, run.started_at + limit - now);
    if (allowed < seconds) {
      const cap = aboutText(limit).replace("about ", "");
      return allowed < 1 ? `stopping at its time limit (${cap})`
        : `its time limit (${cap}) ends it before its last step: ${aboutText(allowed)} left`;
    }
  }
  if (seconds < 1) return "finishing";
  return `${aboutText(seconds)} left`;
}

function epochText(epoch) {
  const parts = [`after epoch ${epoch.epoch + 1}:`];
  for (const key of EPOCH_FIELDS) {
    const value = epoch[key];
    if (typeof value === "number") parts.push(`${key.replace("_", " ")} ${value.toPrecision(3)}`);
  }
  return parts.join(" ");
}

/** The status part of the watch panel, inside `root`: title, status line, progress, errors. */
export class StatusPanel {
  /** @param {ParentNode} root */
  constructor(root) {
    const find = within(root);
    this.title = find("watch-title");
    this.status = find("run-status");
    this.announce = find("status-announce");
    this.progress = /** @type {HTMLProgressElement} */ (find("run-progress"));
    this.eta = find("run-eta");
    this.error = find("run-error");
    this.stop = find("stop-run");
    this.startAgain = find("start-again");
    this.copyConfig = find("copy-config");
    this.epoch = find("epoch-line");
  }

  /** Show `live` (a WatchedRun, or null when no run is watched). */
  render(live) {
    this.status.textContent = statusText(live);
    // Screen readers hear each change of status once, not every step of the progress.
    const said = live?.run ? `${live.label}: ${live.run.status}` : "";
    if (this.announce.textContent !== said) this.announce.textContent = said;
    this.renderProgress(live);
    const run = live?.run;
    this.title.textContent = live ? live.label : "No run watched yet";
    this.error.textContent = run?.error ? run.error : "";
    this.error.hidden = !run?.error;
    this.stop.hidden = !(run?.owned && isActive(run.status));
    // While the server is unreachable a stop cannot be sent: say so instead of failing later.
    /** @type {HTMLButtonElement} */ (this.stop).disabled = unreachable(live);
    this.startAgain.hidden = !mayStartAgain(run);
    this.copyConfig.hidden = !run?.config || run.source === "script";
    const epoch = live?.lastEpoch;
    this.epoch.textContent = epoch ? epochText(epoch) : "";
  }

  renderProgress(live) {
    const bar = this.progress;
    const run = live?.run;
    const total = run?.progress?.total_steps;
    const running = Boolean(run && run.status === "running" && total);
    bar.hidden = !running;
    // No estimate while the server is unreachable: its pace is unknown.
    this.eta.textContent = running && !unreachable(live) ? timeLeftText(live) : "";
    if (!running) return;
    const done = Math.min(stepsDone(live), total);
    bar.max = total;
    bar.value = done;
    bar.setAttribute("aria-label", `step ${done} of ${total}`);
  }
}

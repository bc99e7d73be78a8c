// The watched run's text: title, status with progress, error, diagnosis and its suggestion.

import { powerOfTen } from "./heatmap.js";
import { isFinal } from "./stream.js";

const $ = (id) => document.getElementById(id);

/** 0.00032 -> "3.2×10⁻⁴"; numbers near 1 stay plain. */
export function scientific(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "not a finite number";
  if (value === 0) return "0";
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  if (exponent >= -2 && exponent <= 3) return String(Number(value.toPrecision(3)));
  const mantissa = Number((value / 10 ** exponent).toPrecision(2));
  return `${mantissa}×${powerOfTen(exponent)}`;
}

export function statusText(live) {
  if (!live) return "Start a run or pick one from the list.";
  if (live.gone) return "This run does not exist (it may have been deleted).";
  const run = live.run;
  if (!run) return "connecting…";
  const total = run.progress?.total_steps;
  const last = live.lastStep;
  const stepsDone = last ? last.step + 1 : (run.progress?.step ?? 0);
  let text = run.status;
  if (run.status === "queued") {
    text = run.queue_position ? `queued — position ${run.queue_position}` : "queued";
  } else if (run.status === "running") {
    const epochs = run.config?.training?.epochs;
    const epoch = last ? last.epoch + 1 : (run.progress?.epoch ?? 0) + 1;
    text = total ? `running — step ${stepsDone} of ${total}` : "running — building the model";
    if (total && epochs) text += `, epoch ${Math.min(epoch, epochs)} of ${epochs}`;
  } else if (isFinal(run.status)) {
    text = `${run.status} — ${stepsDone} step${stepsDone === 1 ? "" : "s"}`;
  }
  if (live.connection === "retrying" && !isFinal(run.status)) text += " (reconnecting…)";
  return text;
}

function renderProgress(live) {
  const bar = $("run-progress");
  const run = live?.run;
  const total = run?.progress?.total_steps;
  if (!run || run.status !== "running" || !total) {
    bar.hidden = true;
    return;
  }
  const done = live.lastStep ? live.lastStep.step + 1 : (run.progress?.step ?? 0);
  bar.max = total;
  bar.value = Math.min(done, total);
  bar.hidden = false;
  bar.setAttribute("aria-label", `step ${done} of ${total}`);
}

export function renderStatus(live) {
  $("run-status").textContent = statusText(live);
  // Screen readers hear each change of status once, not every step of the progress.
  const announce = $("status-announce");
  const said = live?.run ? `${live.label}: ${live.run.status}` : "";
  if (announce.textContent !== said) announce.textContent = said;
  renderProgress(live);
  const run = live?.run;
  $("watch-title").textContent = live ? live.label : "No run watched yet";
  const error = $("run-error");
  error.textContent = run?.error ? run.error : "";
  error.hidden = !run?.error;
  $("stop-run").hidden = !(run?.owned && (run.status === "queued" || run.status === "running"));
  $("copy-config").hidden = !run?.config;
  const epoch = live?.lastEpoch;
  $("epoch-line").textContent = epoch ? epochText(epoch) : "";
}

function epochText(epoch) {
  const parts = [`after epoch ${epoch.epoch + 1}:`];
  for (const key of ["loss", "accuracy", "val_loss", "val_accuracy"]) {
    const value = epoch[key];
    if (typeof value === "number") parts.push(`${key.replace("_", " ")} ${value.toPrecision(3)}`);
  }
  return parts.join(" ");
}

/** The diagnosis's first suggestion, or null. */
export function firstSuggestion(live) {
  const suggestions = live?.diagnosis?.suggestions;
  return Array.isArray(suggestions) && suggestions.length ? suggestions[0] : null;
}

export function renderDiagnosis(live) {
  const diagnosis = live?.diagnosis;
  const state = diagnosis?.state || "unknown";
  $("diagnosis-box").dataset.state = state;
  const target = $("diagnosis");
  const head = document.createElement("strong");
  head.textContent = state;
  target.replaceChildren(head);
  if (diagnosis?.message) target.append(` — ${diagnosis.message}`);
  const ratio = diagnosis?.ratio;
  $("diagnosis-ratio").textContent = typeof ratio === "number"
    ? `First layer's gradient norm ÷ last layer's (median of recent steps): ${scientific(ratio)}`
    : "";
  const suggestion = firstSuggestion(live);
  const button = $("apply-suggestion");
  button.disabled = !suggestion || !live?.run;
  const others = (live?.diagnosis?.suggestions || []).slice(1).map((s) => s.label);
  $("suggestion-label").textContent = !suggestion ? "No suggestion yet."
    : `Try: ${suggestion.label}.${others.length ? ` Other remedies: ${others.join(", ")}.` : ""}`;
}

// The diagnosis of the watched run and the "why" panel: what state the gradients are in, the
// run's own numbers, why it happens, and for each suggested remedy what it does to the
// gradient and which paper to read. The sentences come from the diagnosis itself
// (trainer/explain.py), so the page and the API always say the same, true thing.

import { scientific } from "./colours.js";
import { linkify } from "./refs.js";

const $ = (id) => document.getElementById(id);

/** The diagnosis's first suggestion, or null. */
export function firstSuggestion(live) {
  const suggestions = live?.diagnosis?.suggestions;
  return Array.isArray(suggestions) && suggestions.length ? suggestions[0] : null;
}

function ratioText(diagnosis) {
  const parts = [];
  if (typeof diagnosis?.ratio === "number") {
    const [first, last] = Array.isArray(diagnosis.compared) ? diagnosis.compared
      : ["layer 1", "the output layer"];
    const what = diagnosis.source === "weights" ? "gradient norm" : "backpropagated signal";
    const value = scientific(diagnosis.ratio);
    let text = `${first}'s ${what} ÷ ${last}'s (per unit, median of recent steps): ${value}`;
    if (typeof diagnosis.gain === "number" && diagnosis.span > 0) {
      text += `, about ${diagnosis.gain.toFixed(2)} per layer over ${diagnosis.span} `
        + `layer-to-layer step${diagnosis.span === 1 ? "" : "s"}`;
    }
    parts.push(text);
  }
  if (typeof diagnosis?.time_ratio === "number") {
    parts.push(`first time step's ÷ last time step's: ${scientific(diagnosis.time_ratio)}`);
  }
  if (!parts.length) return "";
  const text = parts.join("; ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Show `live`'s diagnosis. `onApply(suggestion)` runs when the button of a suggestion other
 * than the first is pressed (the first has the page's apply-suggestion button).
 */
export function renderDiagnosis(live, onApply) {
  const diagnosis = live?.diagnosis;
  const state = diagnosis?.state || "unknown";
  $("diagnosis-box").dataset.state = state;
  const head = document.createElement("strong");
  head.textContent = state;
  $("diagnosis").replaceChildren(head);
  if (diagnosis?.message) $("diagnosis").append(` — ${diagnosis.message}`);
  $("diagnosis-ratio").textContent = ratioText(diagnosis);

  const suggestions = Array.isArray(diagnosis?.suggestions) ? diagnosis.suggestions : [];
  const first = suggestions[0] || null;
  const script = live?.run?.source === "script";
  $("apply-suggestion").disabled = !first || !live?.run;
  $("apply-suggestion").hidden = script;
  $("suggestion-label").textContent = first
    ? (script ? `Try: ${first.label}. In your script:` : `Try: ${first.label}.`)
    : "No suggestion yet.";
  const code = script && first?.code ? first.code : "";
  $("suggestion-code").hidden = !code;
  $("suggestion-code-text").textContent = code;

  const why = $("why");
  const hasWhy = Boolean(diagnosis?.why || suggestions.length);
  why.hidden = !hasWhy;
  if (!hasWhy) return;
  if (why.dataset.rendered !== JSON.stringify(diagnosis)) {
    why.dataset.rendered = JSON.stringify(diagnosis);
    $("why-text").replaceChildren(linkify(diagnosis.why || ""));
    $("why-suggestions").replaceChildren(
      ...suggestions.map((s, i) => suggestionItem(s, i, onApply, script)));
  }
}

/** A copy-to-clipboard button for `text` (a script run's code change). */
export function copyButton(text, label = "Copy") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy-code";
  button.textContent = label;
  button.addEventListener("click", () => copyText(text, button, label));
  return button;
}

export async function copyText(text, button, label = "Copy") {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy it";
  }
  setTimeout(() => { button.textContent = label; }, 2000);
}

function suggestionItem(suggestion, index, onApply, script) {
  const li = document.createElement("li");
  const label = document.createElement("strong");
  label.textContent = suggestion.label;
  li.append(label);
  if (suggestion.why) li.append(" — ", linkify(suggestion.why));
  const changes = Object.entries(suggestion.overrides || {}).flatMap(([section, fields]) =>
    Object.entries(fields).map(([name, value]) => `${section}.${name} = ${value}`));
  if (changes.length) {
    const code = document.createElement("span");
    code.className = "muted overrides";
    code.textContent = ` (${changes.join(", ")})`;
    li.append(code);
  }
  if (script) {
    if (suggestion.code) {
      const pre = Object.assign(document.createElement("pre"), { className: "code-change",
        textContent: suggestion.code });
      li.append(pre, copyButton(suggestion.code));
    }
  } else if (index > 0) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "apply-other";
    button.textContent = "Restart with this one";
    button.addEventListener("click", () => onApply(suggestion));
    li.append(" ", button);
  } else {
    li.append(" ", Object.assign(document.createElement("span"), {
      className: "muted", textContent: "(the Apply suggestion button)" }));
  }
  return li;
}

// @ts-check
// The view's state lives in the URL hash, so a reload, a bookmark or a link sent to a
// classmate restores exactly what was on screen: the watched and compared runs, the heatmap's
// metric and colours, the opened row chart, the loss axis, the replayed step, the runs-list
// filter, and the form (its base, a preset or a run, and the fields changed from it, as
// `f.<path>=<value>`).
// TensorFlow Playground keeps its state the same way (src/state.ts: one typed table of keys).
// The hash is the one source of truth: the page changes it and reacts to hashchange.

// Each key the hash may hold, with its type; anything else in the hash is dropped.
const VIEW_KEYS = {
  run: "text", compare: "text", metric: "text", scale: "text", row: "int", log: "bool",
  runs: "text", zoom: "range", step: "int", preset: "text", from: "text",
};
const FORM_PREFIX = "f.";

function parseValue(type, raw) {
  if (raw === null || raw === "") return null;
  if (type === "int") return /^\d+$/.test(raw) ? Number(raw) : null;
  if (type === "bool") return raw === "1" ? true : null;
  if (type === "range") {
    const parts = raw.split("_").map(Number);
    return parts.length === 2 && parts.every(Number.isFinite) && parts[0] < parts[1] ? parts : null;
  }
  return raw;
}

function formatValue(type, value) {
  if (value === null || value === undefined || value === false) return null;
  if (type === "bool") return "1";
  if (type === "range") return value.map((v) => Math.round(v)).join("_");
  return String(value);
}

export function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state = { form: {} };
  for (const [key, type] of Object.entries(VIEW_KEYS)) state[key] = parseValue(type, params.get(key));
  for (const [key, value] of params) {
    if (key.startsWith(FORM_PREFIX) && key.length > FORM_PREFIX.length) {
      state.form[key.slice(FORM_PREFIX.length)] = value;
    }
  }
  return state;
}

export function formatHash(state) {
  const params = new URLSearchParams();
  for (const [key, type] of Object.entries(VIEW_KEYS)) {
    const text = formatValue(type, state[key]);
    if (text !== null) params.set(key, text);
  }
  for (const path of Object.keys(state.form || {}).sort()) {
    params.set(`${FORM_PREFIX}${path}`, state.form[path]);
  }
  const text = params.toString();
  return text ? `#${text}` : "";
}

export function readState() {
  return parseHash(window.location.hash);
}

/**
 * Merge `changes` into the state. A new run to watch adds a history entry (Back returns to the
 * previous one); other changes replace the current entry. `silent` skips the listeners (the
 * form records itself without redrawing anything).
 */
export function updateState(changes, { silent = false } = {}) {
  const current = readState();
  const next = { ...current, ...changes, form: changes.form ?? current.form };
  const hash = formatHash(next);
  if (hash === formatHash(current)) return;
  if ("run" in changes && changes.run !== current.run && !silent) {
    window.location.hash = hash || "#";
    return;
  }
  const url = `${window.location.pathname}${window.location.search}${hash}`;
  window.history.replaceState(null, "", url);
  if (!silent) window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/** Call `listener(state)` now and on every change of the hash. */
export function watchState(listener) {
  window.addEventListener("hashchange", () => listener(readState()));
  listener(readState());
}

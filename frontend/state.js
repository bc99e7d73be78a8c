// The view's state lives in the URL hash (#run=ID&compare=ID), so a reload, a bookmark or a
// link sent to a classmate restores what was watched. The hash is the one source of truth:
// the page changes it and reacts to hashchange, never the other way round.

// Each key the hash may hold; anything else in it is dropped.
const KEYS = ["run", "compare"];

export function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state = {};
  for (const key of KEYS) {
    const value = params.get(key);
    state[key] = value ? value : null;
  }
  return state;
}

export function formatHash(state) {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    if (state[key]) params.set(key, state[key]);
  }
  const text = params.toString();
  return text ? `#${text}` : "";
}

export function readState() {
  return parseHash(window.location.hash);
}

/** Merge `changes` into the state; a new run to watch adds a history entry (Back returns). */
export function updateState(changes) {
  const next = { ...readState(), ...changes };
  const hash = formatHash(next);
  if (hash === formatHash(readState())) return;
  if ("run" in changes) {
    window.location.hash = hash;
  } else {
    const url = `${window.location.pathname}${window.location.search}${hash}`;
    window.history.replaceState(null, "", url);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  }
}

/** Call `listener(state)` now and on every change of the hash. */
export function watchState(listener) {
  window.addEventListener("hashchange", () => listener(readState()));
  listener(readState());
}

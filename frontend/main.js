// @ts-check
// Boot: build the form from the schema, start the runs list, and let the URL hash decide which
// run is watched, which one it is compared with, how they are shown and what the form holds.

import * as api from "./api.js";
import { childName, FormPanel } from "./formpanel.js";
import { RunsList } from "./runs.js";
import { readState, updateState, watchState } from "./state.js";
import { TeacherConsole } from "./teacher.js";
import { setUpLargeText } from "./theme.js";
import { within } from "./util.js";
import { WatchView } from "./view.js";
import { copyText, firstSuggestion } from "./why.js";

// The boot is the one module that knows the whole page; each component gets its root.
const $ = within(document);
const applyButton = () => /** @type {HTMLButtonElement} */ ($("apply-suggestion"));

function showActionError(message) {
  $("action-error").textContent = message || "";
  $("action-error").hidden = !message;
}

/** Restart the watched run with a suggestion's overrides, and compare the two. */
async function applySuggestion(view, runs, suggestion, formReady) {
  const live = view.watched;
  if (!live || !suggestion) return;
  showActionError("");
  applyButton().disabled = true;
  try {
    const limit = (await formReady)?.nameLimit;
    const name = childName(live.run?.name || live.run?.config?.name, suggestion.label, limit);
    const run = await api.restartRun(live.id, { ...suggestion.overrides, name });
    updateState({ run: run.id, compare: live.id, row: null, zoom: null, step: null });
    runs.refresh();
  } catch (err) {
    showActionError(`Could not restart the run: ${err.message}`);
    applyButton().disabled = false;
  }
}

/** Where the watched run is below the form (a phone's one column), bring it to the top. */
function showWatched() {
  const watch = $("watch");
  if (watch.getBoundingClientRect().top < window.innerHeight) return;
  watch.scrollIntoView({ block: "start" });
  watch.focus({ preventScroll: true });
}

async function setUpForm(runs) {
  const [schema, presets] = await Promise.all([api.getSchema(), api.getPresets()]);
  const panel = new FormPanel({
    root: $("new-run"), schema, presets,
    onStarted: (run, parentId) => {
      updateState({ run: run.id, compare: parentId, row: null, zoom: null, step: null });
      runs.refresh();
      showWatched();
    },
  });
  await panel.sync();
  return panel;
}

function setUpActions(view, runs, formReady) {
  $("apply-suggestion").addEventListener("click",
    () => applySuggestion(view, runs, firstSuggestion(view.watched), formReady));
  $("stop-run").addEventListener("click", async () => {
    const live = view.watched;
    if (!live) return;
    showActionError("");
    try {
      await api.stopRun(live.id);
      runs.refresh();
    } catch (err) {
      showActionError(`Could not stop the run: ${err.message}`);
    }
  });
  $("start-again").addEventListener("click", async () => {
    const live = view.watched;
    if (!live?.run) return;
    showActionError("");
    try {
      const run = await api.restartRun(live.id, {});
      updateState({ run: run.id, compare: null, row: null, zoom: null, step: null });
      runs.refresh();
    } catch (err) {
      showActionError(`Could not start it again: ${err.message}`);
    }
  });
  $("copy-config").addEventListener("click", async () => {
    const run = view.watched?.run;
    const panel = await formReady;
    if (run?.config && panel) panel.loadRun(run);
  });
  $("clear-compare").addEventListener("click", () => updateState({ compare: null }));
  $("copy-code").addEventListener("click",
    () => copyText($("suggestion-code-text").textContent, $("copy-code")));
  $("script-help").addEventListener("toggle", () => showSnippet());
  $("copy-snippet").addEventListener("click",
    () => copyText($("script-snippet").textContent, $("copy-snippet")));
}

/** The callback line for a user's own fit, with this visitor's token (the run is theirs). */
async function showSnippet() {
  if (!(/** @type {HTMLDetailsElement} */ ($("script-help")).open)
      || $("script-snippet").textContent) return;
  try {
    const { token } = await api.getToken();
    $("script-snippet").textContent = "from gradwatch import GradWatchCallback\n\n"
      + `callback = GradWatchCallback("${window.location.origin}", name="my model",\n`
      + `                             token="${token}")\n`
      + "model.fit(x, y, epochs=5, callbacks=[callback])";
  } catch (err) {
    $("script-snippet").textContent = `Cannot get your token: ${err.message}`;
  }
}

function boot() {
  if (typeof Plotly === "undefined") {
    $("run-status").textContent = "Plotly did not load from /static/plotly.min.js; the plots cannot be drawn.";
    return;
  }
  let runs = null;
  const view = new WatchView({
    root: $("watch"),
    // A restarted run is compared with its parent unless the user chose otherwise.
    onParentKnown: (parentId) => {
      if (!readState().compare) updateState({ compare: parentId });
    },
    onRunUpdate: (run) => runs?.patch(run),
    onApply: (suggestion) => applySuggestion(view, runs, suggestion, formReady),
  });
  runs = new RunsList({
    root: $("runs-list"),
    errorBox: $("runs-error"),
    filters: [...document.querySelectorAll('input[name="runs-filter"]')],
    textFilter: $("runs-text"),
    statusFilter: $("runs-status"),
    onWatch: (id) => updateState({ run: id, compare: null, row: null, zoom: null, step: null }),
    onCompare: (id) => updateState({ compare: id }),
    onFilter: (filter) => updateState({ runs: filter === "mine" ? "mine" : null }),
    onDeleted: (id) => {
      const state = readState();
      if (state.run === id) updateState({ run: null });
      else if (state.compare === id) updateState({ compare: null });
    },
    onList: (list) => view.syncFromList(list),
  });
  const teacher = new TeacherConsole({ root: $("teacher"), onChange: (admin) => runs.setAdmin(admin) });
  teacher.restore();
  setUpLargeText($("large-text"), () => view.requestPlots());
  const formReady = setUpForm(runs).catch((err) => {
    $("form-fields").textContent = `Cannot load the settings: ${err.message}`;
    return null;
  });
  setUpActions(view, runs, formReady);
  watchState((state) => {
    view.show(state);
    runs.mark(state.run, state.compare, state.runs);
    formReady.then((panel) => panel?.sync(state));
  });
  runs.start();
}

boot();

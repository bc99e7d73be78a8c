// Boot: build the form from the schema, fill the presets, start the runs list, and let the URL
// hash decide which run is watched and which one it is compared with.

import * as api from "./api.js";
import { RunForm } from "./form.js";
import { firstSuggestion } from "./panel.js";
import { RunsList } from "./runs.js";
import { readState, updateState, watchState } from "./state.js";
import { WatchView } from "./view.js";

const $ = (id) => document.getElementById(id);

function showActionError(message) {
  const box = $("action-error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function setUpForm(runs) {
  const [schema, presets] = await Promise.all([api.getSchema(), api.getPresets()]);
  const form = new RunForm({ form: $("run-form"), root: $("form-fields"), errorBox: $("form-error"), schema });
  form.fill({});

  const select = $("preset");
  const lookFor = $("look-for");
  for (const preset of presets) {
    const option = document.createElement("option");
    option.value = preset.id;
    option.textContent = preset.title;
    select.append(option);
  }
  select.addEventListener("change", () => {
    const preset = presets.find((p) => p.id === select.value);
    if (preset) form.fill(preset.config);
    lookFor.textContent = preset ? `What to look for: ${preset.look_for}` : "";
    lookFor.hidden = !preset;
  });

  $("show-help").addEventListener("change", (event) => {
    $("run-form").classList.toggle("show-help", event.target.checked);
  });
  $("reset-form").addEventListener("click", () => {
    form.fill({});
    select.value = "";
    select.dispatchEvent(new Event("change"));
  });

  const submit = document.querySelector('[data-testid="start-run"]');
  $("run-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    form.clearErrors();
    submit.disabled = true;
    try {
      const run = await api.createRun(form.read());
      updateState({ run: run.id, compare: null });
      runs.refresh();
    } catch (err) {
      form.showError(err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function setUpActions(view, runs, formReady) {
  $("apply-suggestion").addEventListener("click", async () => {
    const live = view.watched;
    const suggestion = firstSuggestion(live);
    if (!live || !suggestion) return;
    showActionError("");
    $("apply-suggestion").disabled = true;
    try {
      const run = await api.restartRun(live.id, suggestion.overrides || {});
      updateState({ run: run.id, compare: live.id });
      runs.refresh();
    } catch (err) {
      showActionError(`Could not restart the run: ${err.message}`);
      $("apply-suggestion").disabled = false;
    }
  });
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
  $("copy-config").addEventListener("click", async () => {
    const config = view.watched?.run?.config;
    const form = await formReady;
    if (!config || !form) return;
    form.fill(config);
    $("preset").value = "";
    $("look-for").hidden = true;
    form.fields.values().next().value?.input.focus();
  });
  $("clear-compare").addEventListener("click", () => updateState({ compare: null }));
}

function boot() {
  if (!window.Plotly) {
    $("run-status").textContent = "Plotly did not load from /static/plotly.min.js; the plots cannot be drawn.";
    return;
  }
  let runs = null;
  const view = new WatchView({
    // A restarted run is compared with its parent unless the user chose otherwise.
    onParentKnown: (parentId) => {
      if (!readState().compare) updateState({ compare: parentId });
    },
    onRunUpdate: (run) => runs?.patch(run),
  });
  runs = new RunsList({
    root: $("runs-list"),
    errorBox: $("runs-error"),
    onWatch: (id) => updateState({ run: id, compare: null }),
    onCompare: (id) => updateState({ compare: id }),
    onList: (list) => view.syncFromList(list),
  });
  const formReady = setUpForm(runs).catch((err) => {
    $("form-fields").textContent = `Cannot load the settings: ${err.message}`;
    return null;
  });
  setUpActions(view, runs, formReady);
  watchState((state) => {
    view.show(state.run, state.compare);
    runs.mark(state.run, state.compare);
  });
  runs.start();
}

boot();

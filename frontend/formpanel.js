// @ts-check
// The "New run" panel: the schema-built form, its presets, and its base. The base is what the
// form started from (the defaults, a preset, or a run's config); the URL hash holds the base
// and only the fields changed from it. With a run as the base, starting makes a child run of
// it: POST /api/runs/{id}/restart with just the changed fields (CONTRACT §4).

import * as api from "./api.js";
import { RunForm } from "./form.js";
import { changedFrom, choiceLabel, parseFieldText, unflatten } from "./schema.js";
import { formatHash, readState, updateState } from "./state.js";
import { runLabel, within } from "./util.js";

const NO_BASE = { kind: "defaults", id: null, label: "", flat: null };

/** A restart's name: "<parent's name> → <what changed>", within the schema's length limit. */
export function childName(parentName, change, maxLength = 100) {
  const name = `${parentName || "run"} → ${change}`;
  return name.length <= maxLength ? name : `${name.slice(0, maxLength - 1)}…`;
}

/**
 * The changes of a restart from the form, as a name's words: "+ batch norm, clipping Norm,
 * depth 12" instead of "batch_norm true, clipping norm, depth 12".
 */
export function changesText(changes) {
  return Object.entries(changes).map(([path, value]) => {
    const key = path.split(".").pop().replace(/_/g, " ");
    if (value === true) return `+ ${key}`;
    if (value === false) return `no ${key}`;
    return `${key} ${typeof value === "string" ? choiceLabel(value) : value}`;
  }).join(", ");
}

export class FormPanel {
  /**
   * The panel inside `root`; `onStarted(run, parentId)` after a run was created (parentId
   * null for a fresh run).
   */
  constructor({ root, schema, presets, onStarted }) {
    const find = within(root);
    this.parts = {
      preset: /** @type {HTMLSelectElement} */ (find("preset")),
      lookFor: find("look-for"),
      base: find("form-base"),
      baseText: find("form-base-text"),
      detach: find("form-detach"),
      reset: find("reset-form"),
      showHelp: /** @type {HTMLInputElement} */ (find("show-help")),
      form: find("run-form"),
      error: find("form-error"),
    };
    this.presets = presets;
    this.onStarted = onStarted;
    this.form = new RunForm({ root: find("form-fields"), errorBox: this.parts.error, schema,
      onInput: () => this.record() });
    this.base = { ...NO_BASE, flat: this.form.defaults };
    this.written = null; // the hash part this panel wrote last
    /** @type {HTMLButtonElement} */
    this.submit = root.querySelector('[data-testid="start-run"]');
    this.fillPresets();
    this.bind();
  }

  fillPresets() {
    const select = this.parts.preset;
    for (const preset of this.presets) {
      const option = document.createElement("option");
      option.value = preset.id;
      option.textContent = preset.title;
      select.append(option);
    }
  }

  bind() {
    const { preset: select, reset, detach, showHelp, form } = this.parts;
    select.addEventListener("change", () => {
      const preset = this.presets.find((p) => p.id === select.value);
      this.setBase(preset ? { kind: "preset", id: preset.id, label: preset.title,
        config: preset.config } : null);
      this.record();
    });
    reset.addEventListener("click", () => {
      this.setBase(null);
      this.record();
    });
    detach.addEventListener("click", () => {
      // Keep what the form holds, but as a run of its own: compared with the defaults now.
      const values = this.form.values();
      this.setBase(null);
      this.form.set(values);
      this.record();
    });
    showHelp.addEventListener("change", () => {
      form.classList.toggle("show-help", showHelp.checked);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
  }

  /** Make `base` ({kind, id, label, config}, or null for the defaults) the form's base. */
  setBase(base) {
    this.form.fill(base?.config || {});
    this.base = base ? { ...base, flat: this.form.values() } : { ...NO_BASE, flat: this.form.defaults };
    this.form.base = this.base.flat;
    this.form.refresh();
    const preset = base?.kind === "preset" ? this.presets.find((p) => p.id === base.id) : null;
    const { preset: select, lookFor, base: baseBox, baseText } = this.parts;
    select.value = preset ? preset.id : "";
    lookFor.textContent = preset ? `What to look for: ${preset.look_for}` : "";
    lookFor.hidden = !preset;
    const fromRun = base?.kind === "run";
    baseBox.hidden = !fromRun;
    baseText.textContent = fromRun ? `These are the settings of ${base.label}. `
      + "Change a remedy and start: the new run is a restart of it, linked to it in the runs "
      + "list and compared with it." : "";
    this.submit.textContent = fromRun ? "Restart with these changes" : "Start run";
  }

  /** The longest name the schema allows. */
  get nameLimit() {
    return this.form.fields.get("name")?.node.maxLength ?? 100;
  }

  /** Load a run's config as the base (the "change its settings" button). */
  loadRun(run) {
    this.setBase({ kind: "run", id: run.id, label: runLabel(run), config: run.config });
    this.record();
    this.form.fields.values().next().value?.input.focus();
  }

  /** The fields changed from the base, as text for the hash. */
  changedText() {
    const text = {};
    for (const [path, value] of Object.entries(changedFrom(this.form.values(), this.base.flat))) {
      if (value !== null && value !== undefined) text[path] = String(value);
    }
    return text;
  }

  hashPart() {
    return {
      preset: this.base.kind === "preset" ? this.base.id : null,
      from: this.base.kind === "run" ? this.base.id : null,
      form: this.changedText(),
    };
  }

  record() {
    const part = this.hashPart();
    this.written = formatHash(part);
    updateState(part, { silent: true });
  }

  /** Follow the hash (on load, Back, or a pasted link) unless it is what this panel wrote. */
  async sync(state = readState()) {
    const written = formatHash({ preset: state.preset, from: state.from, form: state.form });
    if (written === this.written) return;
    this.written = written;
    let base = null;
    const preset = this.presets.find((p) => p.id === state.preset);
    if (state.from) {
      try {
        const run = await api.getRun(state.from);
        base = { kind: "run", id: run.id, label: runLabel(run), config: run.config };
      } catch (err) {
        this.showError(`The run these settings came from cannot be loaded: ${err.message}`);
      }
    } else if (preset) {
      base = { kind: "preset", id: preset.id, label: preset.title, config: preset.config };
    }
    this.setBase(base);
    const values = {};
    for (const [path, text] of Object.entries(state.form || {})) {
      const field = this.form.fields.get(path);
      const value = field ? parseFieldText(field, text) : undefined;
      if (value !== undefined) values[path] = value;
    }
    this.form.set(values);
  }

  showError(message) {
    this.parts.error.textContent = message;
    this.parts.error.hidden = !message;
  }

  async start() {
    this.form.clearErrors();
    this.submit.disabled = true;
    try {
      if (this.base.kind === "run") {
        const changes = changedFrom(this.form.values(), this.base.flat);
        if (!("name" in changes)) {
          changes.name = childName(this.base.flat.name, changesText(changes) || "again",
            this.nameLimit);
        }
        const run = await api.restartRun(this.base.id, unflatten(changes));
        this.onStarted(run, this.base.id);
      } else {
        const run = await api.createRun(unflatten(this.form.values()));
        this.onStarted(run, null);
      }
    } catch (err) {
      this.form.showError(err);
    } finally {
      this.submit.disabled = false;
    }
  }
}

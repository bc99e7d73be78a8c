// @ts-check
// The run form, built from RunConfig's JSON schema: every field, its choices, default, limits
// and help text come from there, so nothing is repeated here. A field that the other choices
// make irrelevant (`x-applies-when`) is greyed out and sends its default; fields that differ
// from the form's base (defaults, a preset or a run) are marked.

import {
  applies, appliesText, choiceLabel, choicesOf, flatten, groupsOf, humanize, limitsText,
  plainError,
} from "./schema.js";
import { linkify } from "./refs.js";

function element(tag, attrs = {}, text = null) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(key, value);
  }
  if (text !== null) el.textContent = text;
  return el;
}

export class RunForm {
  /**
   * `root` receives the fieldsets; `errorBox` shows errors that belong to no single field;
   * `onInput()` is called after every change the user makes.
   */
  constructor({ root, errorBox, schema, onInput = () => {} }) {
    this.root = root;
    this.errorBox = errorBox;
    this.schema = schema;
    this.onInput = onInput;
    this.fields = new Map(); // "dataset.n_samples" -> {path, node, kind, input, error, wrap, note}
    this.base = {};          // flat values the "changed" marks compare with
    this.build();
  }

  build() {
    this.root.replaceChildren();
    for (const group of groupsOf(this.schema)) {
      const set = element("fieldset", { class: "group", "data-group": group.key });
      set.append(element("legend", {}, group.title));
      if (group.help) set.append(element("p", { class: "group-help" }, group.help));
      for (const field of group.fields) set.append(this.buildField(field));
      this.root.append(set);
    }
  }

  buildField({ path, node, kind }) {
    const key = path.join(".");
    const id = `field-${path.join("-")}`;
    const wrap = element("div", { class: `field field-${kind}` });
    const input = this.buildInput(id, kind, node);
    input.name = key;
    const name = humanize(path[path.length - 1]);
    const label = element("label", { for: id }, name);
    const helpId = `${id}-help`;
    const errorId = `${id}-error`;
    const noteId = `${id}-note`;
    const help = element("p", { class: "help", id: helpId });
    help.append(linkify([node.description, limitsText(node)].filter(Boolean).join(" ")));
    const toggle = element("button", { type: "button", class: "help-button",
      "aria-expanded": "false", "aria-controls": helpId, "aria-label": `Explain ${name}`,
      title: `Explain ${name}` }, "?");
    toggle.addEventListener("click", () => {
      const open = wrap.classList.toggle("help-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    const note = element("p", { class: "field-note", id: noteId });
    const error = element("p", { class: "field-error", id: errorId, role: "alert" });
    input.setAttribute("aria-describedby", `${errorId} ${noteId} ${helpId}`);
    input.addEventListener(kind === "text" || kind === "integer" || kind === "number"
      ? "input" : "change", () => {
      this.clearFieldError(key);
      this.refresh();
      this.onInput();
    });
    const line = element("div", { class: "field-line" });
    if (kind === "boolean") {
      label.prepend(input);
      line.append(label, toggle);
    } else {
      line.append(label, toggle, input);
    }
    wrap.append(line, note, error, help);
    this.fields.set(key, { path, node, kind, input, error, wrap, note, name });
    return wrap;
  }

  buildInput(id, kind, node) {
    if (kind === "choice") {
      const select = element("select", { id });
      choicesOf(node).forEach((value, index) => {
        select.append(element("option", { value: String(index), "data-value": String(value) },
          choiceLabel(value)));
      });
      return select;
    }
    if (kind === "boolean") return element("input", { id, type: "checkbox" });
    if (kind === "text") return element("input", { id, type: "text", maxlength: node.maxLength });
    return element("input", {
      id, type: "number", inputmode: kind === "integer" ? "numeric" : "decimal",
      step: kind === "integer" ? "1" : "any", min: node.minimum, max: node.maximum,
    });
  }

  /** The flat values of the schema's defaults. */
  get defaults() {
    const flat = {};
    for (const [key, field] of this.fields) flat[key] = field.node.default;
    return flat;
  }

  /** Set every field from `config` (nested, full or partial); others take their default. */
  fill(config = {}) {
    const flat = flatten(config);
    for (const [key, field] of this.fields) {
      this.setValue(field, key in flat ? flat[key] : field.node.default);
    }
    this.clearErrors();
    this.refresh();
  }

  /** Set the given flat values over what the form holds. */
  set(flat) {
    for (const [key, value] of Object.entries(flat)) {
      const field = this.fields.get(key);
      if (field) this.setValue(field, value);
    }
    this.refresh();
  }

  setValue(field, value) {
    const { kind, input, node } = field;
    if (kind === "choice") {
      input.value = String(Math.max(0, choicesOf(node).indexOf(value)));
    } else if (kind === "boolean") {
      input.checked = Boolean(value);
    } else {
      input.value = value === null || value === undefined ? "" : String(value);
    }
  }

  /** What the user entered in each field, as a flat map. */
  entered() {
    const flat = {};
    for (const [key, { kind, input, node }] of this.fields) {
      if (kind === "choice") flat[key] = choicesOf(node)[Number(input.value)];
      else if (kind === "boolean") flat[key] = input.checked;
      else if (kind === "text") flat[key] = input.value;
      else flat[key] = input.value.trim() === "" ? null : Number(input.value);
    }
    return flat;
  }

  /** The flat values the form stands for: a field that does not apply has its default. */
  values() {
    const entered = this.entered();
    const flat = {};
    for (const [key, field] of this.fields) {
      flat[key] = applies(field.node, entered) ? entered[key] : field.node.default;
    }
    return flat;
  }

  /** Grey out the fields that do not apply, and mark those that differ from the base. */
  refresh() {
    const entered = this.entered();
    const values = this.values();
    for (const [key, field] of this.fields) {
      const on = applies(field.node, entered);
      field.input.disabled = !on;
      field.wrap.classList.toggle("not-applicable", !on);
      field.note.textContent = on ? "" : `Not used: ${appliesText(field.node)}.`;
      field.wrap.classList.toggle("changed", key in this.base && this.base[key] !== values[key]);
    }
  }

  /** Errors of a 422: each item next to its field, the rest above the buttons. */
  /**
   * Show what blocks a start: each field's error beside it, and every error, in plain words,
   * in the alert beside Start, scrolled into view; the first field concerned gets the focus
   * (for a whole-model error, the first field of that part of the form).
   */
  showError(apiError) {
    this.clearErrors();
    const messages = [];
    let first = null;
    for (const item of apiError.fieldErrors) {
      const loc = (item.loc || []).filter((p) => p !== "body").join(".");
      const field = this.fields.get(loc);
      const text = plainError(item, field?.name, field?.node);
      messages.push(text);
      if (field) {
        field.error.textContent = text;
        field.wrap.classList.add("invalid");
        field.input.setAttribute("aria-invalid", "true");
      }
      first = first || field
        || [...this.fields.entries()].find(([key]) => loc && key.startsWith(`${loc}.`))?.[1];
    }
    if (!apiError.fieldErrors.length) messages.push(plainError({ msg: apiError.message }));
    this.errorBox.textContent = messages.join(" ");
    this.errorBox.hidden = false;
    if (first) first.input.focus();
    else this.errorBox.focus();
    this.errorBox.scrollIntoView({ block: "nearest" });
  }

  clearFieldError(key) {
    const field = this.fields.get(key);
    if (!field) return;
    field.error.textContent = "";
    field.wrap.classList.remove("invalid");
    field.input.removeAttribute("aria-invalid");
  }

  clearErrors() {
    for (const key of this.fields.keys()) this.clearFieldError(key);
    this.errorBox.textContent = "";
    this.errorBox.hidden = true;
  }
}

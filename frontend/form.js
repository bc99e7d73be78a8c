// The run form, built from RunConfig's JSON schema (GET /api/schema): every field, its
// choices, default, limits and help text come from there, so nothing is repeated here.

const FIRST_GROUP = "run"; // RunConfig's own scalar fields (name, seed)

function resolve(schema, node) {
  let current = node || {};
  for (let i = 0; i < 8; i += 1) {
    if (current.$ref) {
      const name = current.$ref.split("/").pop();
      current = { ...schema.$defs?.[name], ...withoutKeys(current, ["$ref"]) };
    } else if (Array.isArray(current.allOf) && current.allOf.length === 1) {
      current = { ...current.allOf[0], ...withoutKeys(current, ["allOf"]) };
    } else {
      break;
    }
  }
  return current;
}

function withoutKeys(node, keys) {
  const copy = { ...node };
  for (const key of keys) delete copy[key];
  return copy;
}

/** The allowed values of a field: `enum`, `const`, or an anyOf/oneOf of consts; else null. */
export function choicesOf(node) {
  if (Array.isArray(node.enum)) return node.enum;
  if ("const" in node) return [node.const];
  const options = node.anyOf || node.oneOf;
  if (Array.isArray(options) && options.length && options.every((o) => "const" in o || o.enum)) {
    return options.flatMap((o) => ("const" in o ? [o.const] : o.enum));
  }
  return null;
}

function kindOf(node) {
  if (choicesOf(node)) return "choice";
  const type = node.type || (node.anyOf || []).map((o) => o.type).find(Boolean);
  if (type === "boolean") return "boolean";
  if (type === "integer") return "integer";
  if (type === "number") return "number";
  return "text";
}

const humanize = (key) => {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
};

function limitsText(node) {
  const parts = [];
  const low = node.minimum ?? node.exclusiveMinimum;
  const high = node.maximum ?? node.exclusiveMaximum;
  if (low !== undefined && high !== undefined) {
    const lowText = "exclusiveMinimum" in node ? `more than ${low}` : `${low}`;
    parts.push(`Allowed: ${lowText} to ${high}.`);
  } else if (node.maxLength !== undefined) {
    parts.push(`At most ${node.maxLength} characters.`);
  }
  if (node.default !== undefined && node.default !== "") {
    parts.push(`Default: ${node.default}.`);
  }
  return parts.join(" ");
}

function element(tag, attrs = {}, text = null) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(key, value);
  }
  if (text !== null) el.textContent = text;
  return el;
}

export class RunForm {
  /** `root` receives the fieldsets; `errorBox` shows errors that belong to no single field. */
  constructor({ form, root, errorBox, schema }) {
    this.form = form;
    this.root = root;
    this.errorBox = errorBox;
    this.schema = schema;
    this.fields = new Map(); // "dataset.n_samples" -> {path, node, kind, input, error, wrap}
    this.build();
  }

  build() {
    this.root.replaceChildren();
    const scalars = element("fieldset", { class: "group" });
    scalars.append(element("legend", {}, "Run"));
    this.root.append(scalars);
    for (const [key, raw] of Object.entries(this.schema.properties || {})) {
      const node = resolve(this.schema, raw);
      if (node.type === "object" || node.properties) {
        const set = element("fieldset", { class: "group", "data-group": key });
        set.append(element("legend", {}, humanize(key)));
        if (node.description) set.append(element("p", { class: "group-help" }, node.description));
        for (const [name, child] of Object.entries(node.properties || {})) {
          set.append(this.buildField([key, name], resolve(this.schema, child)));
        }
        this.root.append(set);
      } else {
        scalars.append(this.buildField([key], node));
      }
    }
    scalars.dataset.group = FIRST_GROUP;
  }

  buildField(path, node) {
    const key = path.join(".");
    const id = `field-${path.join("-")}`;
    const kind = kindOf(node);
    const wrap = element("div", { class: `field field-${kind}` });
    const input = this.buildInput(id, kind, node);
    input.name = key;
    const label = element("label", { for: id }, humanize(path[path.length - 1]));
    const helpId = `${id}-help`;
    const errorId = `${id}-error`;
    const help = element("p", { class: "help", id: helpId });
    help.textContent = [node.description, limitsText(node)].filter(Boolean).join(" ");
    const toggle = element("button", { type: "button", class: "help-button",
      "aria-expanded": "false", "aria-controls": helpId,
      "aria-label": `Explain ${humanize(path[path.length - 1])}` }, "?");
    toggle.addEventListener("click", () => {
      const open = wrap.classList.toggle("help-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    const error = element("p", { class: "field-error", id: errorId, role: "alert" });
    input.setAttribute("aria-describedby", `${errorId} ${helpId}`);
    input.addEventListener("input", () => this.clearFieldError(key));
    const line = element("div", { class: "field-line" });
    if (kind === "boolean") {
      label.prepend(input);
      line.append(label, toggle);
    } else {
      line.append(label, toggle, input);
    }
    wrap.append(line, error, help);
    this.fields.set(key, { path, node, kind, input, error, wrap });
    return wrap;
  }

  buildInput(id, kind, node) {
    if (kind === "choice") {
      const select = element("select", { id });
      choicesOf(node).forEach((value, index) => {
        select.append(element("option", { value: String(index) }, String(value)));
      });
      return select;
    }
    if (kind === "boolean") return element("input", { id, type: "checkbox" });
    if (kind === "text") return element("input", { id, type: "text", maxlength: node.maxLength });
    return element("input", {
      id, type: "number", inputmode: kind === "integer" ? "numeric" : "decimal",
      step: kind === "integer" ? "1" : "any",
      min: node.minimum, max: node.maximum,
    });
  }

  /** Set every field from `config` (a full or partial RunConfig); others take their default. */
  fill(config = {}) {
    for (const field of this.fields.values()) {
      let value = config;
      for (const part of field.path) value = value?.[part];
      this.setValue(field, value === undefined ? field.node.default : value);
    }
    this.clearErrors();
  }

  setValue(field, value) {
    const { kind, input, node } = field;
    if (kind === "choice") {
      const index = choicesOf(node).indexOf(value);
      input.value = String(Math.max(0, index));
    } else if (kind === "boolean") {
      input.checked = Boolean(value);
    } else {
      input.value = value === null || value === undefined ? "" : String(value);
    }
  }

  /** The RunConfig the form describes, nested as the API wants it. */
  read() {
    const config = {};
    for (const { path, kind, input, node } of this.fields.values()) {
      let value;
      if (kind === "choice") value = choicesOf(node)[Number(input.value)];
      else if (kind === "boolean") value = input.checked;
      else if (kind === "text") value = input.value;
      else value = input.value.trim() === "" ? null : Number(input.value);
      let target = config;
      for (const part of path.slice(0, -1)) target = target[part] || (target[part] = {});
      target[path[path.length - 1]] = value;
    }
    return config;
  }

  /** Show an ApiError: each 422 item next to its field, the rest above the buttons. */
  showError(apiError) {
    this.clearErrors();
    const general = [];
    let first = null;
    for (const item of apiError.fieldErrors) {
      const loc = (item.loc || []).filter((p) => p !== "body");
      const field = this.fields.get(loc.join("."));
      if (field) {
        field.error.textContent = item.msg;
        field.wrap.classList.add("invalid");
        field.input.setAttribute("aria-invalid", "true");
        first = first || field;
      } else {
        general.push(item.msg);
      }
    }
    if (!apiError.fieldErrors.length) general.push(apiError.message);
    if (general.length) {
      this.errorBox.textContent = general.join(" ");
      this.errorBox.hidden = false;
    }
    if (first) {
      first.wrap.closest("fieldset")?.scrollIntoView({ block: "nearest" });
      first.input.focus();
    }
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

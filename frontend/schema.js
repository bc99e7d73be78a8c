// @ts-check
// Reading RunConfig's JSON schema (GET /api/schema): the fields, their kinds, choices, limits,
// help, and when a field applies (`x-applies-when`). Nothing here repeats the schema's content.

function withoutKeys(node, keys) {
  const copy = { ...node };
  for (const key of keys) delete copy[key];
  return copy;
}

/** A schema node with `$ref` and single-entry `allOf` followed. */
export function resolve(schema, node) {
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

export function kindOf(node) {
  if (choicesOf(node)) return "choice";
  const type = node.type || (node.anyOf || []).map((o) => o.type).find(Boolean);
  if (type === "boolean") return "boolean";
  if (type === "integer") return "integer";
  if (type === "number") return "number";
  return "text";
}

export const humanize = (key) => {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
};

/**
 * A 422 item ({loc, msg, type}) of the field named `label` with schema `node`, in plain words:
 * "Depth must be at least 1" instead of pydantic's "model.depth: Input should be greater than
 * or equal to 1". A sentence the server wrote for people (a combination, the parameter limit)
 * is kept, less its "path: " prefix.
 */
export function plainError(item, label, node = {}) {
  const bound = (key) => node[key] ?? item.ctx?.[{ minimum: "ge", maximum: "le",
    exclusiveMinimum: "gt", exclusiveMaximum: "lt" }[key]];
  const says = {
    greater_than_equal: () => `must be at least ${bound("minimum")}`,
    greater_than: () => `must be more than ${bound("exclusiveMinimum")}`,
    less_than_equal: () => `must be at most ${bound("maximum")}`,
    less_than: () => `must be less than ${bound("exclusiveMaximum")}`,
    int_parsing: () => "must be a whole number",
    int_from_float: () => "must be a whole number",
    int_type: () => "must be a whole number",
    float_parsing: () => "must be a number",
    float_type: () => "must be a number",
    missing: () => "is needed",
    string_too_long: () => `must be at most ${node.maxLength ?? item.ctx?.max_length} characters`,
  }[item.type];
  if (label && says) {
    const text = says();
    if (!text.includes("undefined")) return `${label} ${text}.`;
  }
  const msg = String(item.msg || "").replace(/^[\w.()]+: /, "");
  const sentence = msg.charAt(0).toUpperCase() + msg.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

// Page-only words for RunConfig's choices, where capitalising the identifier would not do.
const CHOICE_WORDS = {
  mlp: "MLP (dense layers)", rnn: "RNN (recurrent)", cnn: "CNN (convolutions)",
  simple_rnn: "Simple RNN", lstm: "LSTM", gru: "GRU", xor: "XOR",
  relu: "ReLU", leaky_relu: "Leaky ReLU", elu: "ELU", selu: "SELU", gelu: "GELU",
  l1: "L1", l2: "L2", l1_l2: "L1 + L2", sgd: "SGD", rmsprop: "RMSprop",
  lecun_normal: "LeCun normal",
};
const PROPER = { glorot: "Glorot", he: "He" };

/** A choice as the form shows it: "Glorot uniform" for glorot_uniform, "L1 + L2" for l1_l2. */
export function choiceLabel(value) {
  const key = String(value);
  if (key in CHOICE_WORDS) return CHOICE_WORDS[key];
  const words = key.split("_").map((word, i) => PROPER[word]
    || (i === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word));
  return words.join(" ");
}

export function limitsText(node) {
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

/**
 * The schema as groups of fields: [{key, title, help, fields: [{path, node, kind}]}]; the
 * RunConfig's own scalar fields (name, seed) form the first group, "run".
 */
export function groupsOf(schema) {
  const scalars = { key: "run", title: "Run", help: "", fields: [] };
  const groups = [scalars];
  for (const [key, raw] of Object.entries(schema.properties || {})) {
    const node = resolve(schema, raw);
    if (node.type === "object" || node.properties) {
      const fields = Object.entries(node.properties || {}).map(([name, child]) => {
        const resolved = resolve(schema, child);
        return { path: [key, name], node: resolved, kind: kindOf(resolved) };
      });
      groups.push({ key, title: humanize(key), help: node.description || "", fields });
    } else {
      scalars.fields.push({ path: [key], node, kind: kindOf(node) });
    }
  }
  return groups;
}

/** Whether a field applies given the form's flat values ({"model.arch": "mlp", ...}). */
export function applies(node, values) {
  const alternatives = node["x-applies-when"];
  if (!Array.isArray(alternatives) || !alternatives.length) return true;
  return alternatives.some((conditions) => Object.entries(conditions)
    .every(([path, allowed]) => allowed.includes(values[path])));
}

/** "only with arch rnn" / "only with initializer random_normal or random_uniform". */
export function appliesText(node) {
  const alternatives = node["x-applies-when"];
  if (!Array.isArray(alternatives) || !alternatives.length) return "";
  const parts = alternatives.map((conditions) => Object.entries(conditions)
    .map(([path, allowed]) => `${path.split(".").pop()} ${allowed.join(" or ")}`).join(" and "));
  return `only with ${parts.join(", or with ")}`;
}

/** A value from the URL hash as the field's type, or undefined when it is not one. */
export function parseFieldText(field, text) {
  if (field.kind === "choice") {
    return choicesOf(field.node).map(String).includes(text)
      ? choicesOf(field.node).find((c) => String(c) === text) : undefined;
  }
  if (field.kind === "boolean") {
    if (text === "true") return true;
    return text === "false" ? false : undefined;
  }
  if (field.kind === "integer" || field.kind === "number") {
    const value = Number(text);
    return text.trim() !== "" && Number.isFinite(value) ? value : undefined;
  }
  return text;
}

/** {"model.depth": 10, ...} from a nested config. */
export function flatten(config, prefix = "") {
  const flat = {};
  for (const [key, value] of Object.entries(config || {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      Object.assign(flat, flatten(value, path));
    } else {
      flat[path] = value;
    }
  }
  return flat;
}

/** The nested partial config of a flat one. */
export function unflatten(flat) {
  const config = {};
  for (const [path, value] of Object.entries(flat)) {
    const parts = path.split(".");
    let target = config;
    for (const part of parts.slice(0, -1)) target = target[part] || (target[part] = {});
    target[parts[parts.length - 1]] = value;
  }
  return config;
}

/** The entries of `flat` that differ from `base`. */
export function changedFrom(flat, base) {
  const changed = {};
  for (const [path, value] of Object.entries(flat)) {
    if (base[path] !== value) changed[path] = value;
  }
  return changed;
}

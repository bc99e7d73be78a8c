import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applies, appliesText, changedFrom, choicesOf, flatten, groupsOf, humanize, kindOf, limitsText,
  plainError, choiceLabel,
  parseFieldText, resolve, unflatten,
} from "../schema.js";

// The shape pydantic gives RunConfig's JSON schema (GET /api/schema), cut down.
const SCHEMA = {
  properties: {
    name: { type: "string", default: "", maxLength: 100 },
    seed: { type: "integer", default: 0 },
    model: { $ref: "#/$defs/ModelConfig" },
  },
  $defs: {
    ModelConfig: {
      type: "object",
      description: "The network.",
      properties: {
        arch: { enum: ["mlp", "rnn"], default: "mlp" },
        depth: { type: "integer", minimum: 1, maximum: 64, default: 1 },
        cell: { allOf: [{ $ref: "#/$defs/Cell" }], default: "lstm",
          "x-applies-when": [{ "model.arch": ["rnn"] }] },
        dropout: { anyOf: [{ type: "number" }, { type: "null" }], exclusiveMinimum: 0,
          maximum: 1, default: null },
        residual: { type: "boolean", default: false },
      },
    },
    Cell: { enum: ["simple_rnn", "lstm", "gru"] },
  },
};

test("$ref and single allOf are followed, keeping the field's own keys", () => {
  const cell = resolve(SCHEMA, SCHEMA.$defs.ModelConfig.properties.cell);
  assert.deepEqual(cell.enum, ["simple_rnn", "lstm", "gru"]);
  assert.equal(cell.default, "lstm");
});

test("the groups, fields and kinds of the form come from the schema", () => {
  const groups = groupsOf(SCHEMA);
  assert.deepEqual(groups.map((g) => [g.key, g.title, g.help]),
    [["run", "Run", ""], ["model", "Model", "The network."]]);
  assert.deepEqual(groups[0].fields.map((f) => [f.path.join("."), f.kind]),
    [["name", "text"], ["seed", "integer"]]);
  assert.deepEqual(groups[1].fields.map((f) => f.kind),
    ["choice", "integer", "choice", "number", "boolean"]);
  assert.equal(humanize("batch_size"), "Batch size");
});

test("choices come from enum, const or an anyOf of consts", () => {
  assert.deepEqual(choicesOf({ enum: [1, 2] }), [1, 2]);
  assert.deepEqual(choicesOf({ const: "x" }), ["x"]);
  assert.deepEqual(choicesOf({ anyOf: [{ const: "a" }, { enum: ["b", "c"] }] }), ["a", "b", "c"]);
  assert.equal(choicesOf({ type: "integer" }), null);
  assert.equal(kindOf({ anyOf: [{ type: "integer" }, { type: "null" }] }), "integer");
});

test("limits and defaults are said in words", () => {
  assert.equal(limitsText({ minimum: 1, maximum: 64, default: 1 }),
    "Allowed: 1 to 64. Default: 1.");
  assert.equal(limitsText({ exclusiveMinimum: 0, maximum: 1 }), "Allowed: more than 0 to 1.");
  assert.equal(limitsText({ maxLength: 100, default: "" }), "At most 100 characters.");
});

test("a field applies when one of its alternatives holds, and says when it would", () => {
  const cell = { "x-applies-when": [{ "model.arch": ["rnn"] }] };
  assert.equal(applies(cell, { "model.arch": "rnn" }), true);
  assert.equal(applies(cell, { "model.arch": "mlp" }), false);
  assert.equal(applies({}, {}), true);
  assert.equal(appliesText(cell), "only with arch rnn");
  const std = { "x-applies-when": [{ "remedies.initializer": ["random_normal", "random_uniform"] },
    { "model.arch": ["cnn"], "remedies.batch_norm": [true] }] };
  assert.equal(appliesText(std), "only with initializer random_normal or random_uniform, "
    + "or with arch cnn and batch_norm true");
});

test("text from the hash becomes the field's type, or undefined", () => {
  const choice = { kind: "choice", node: { enum: ["mlp", "rnn", 3] } };
  assert.equal(parseFieldText(choice, "rnn"), "rnn");
  assert.equal(parseFieldText(choice, "3"), 3);
  assert.equal(parseFieldText(choice, "cnn"), undefined);
  assert.equal(parseFieldText({ kind: "boolean" }, "false"), false);
  assert.equal(parseFieldText({ kind: "boolean" }, "no"), undefined);
  assert.equal(parseFieldText({ kind: "number" }, "1e-3"), 0.001);
  assert.equal(parseFieldText({ kind: "integer" }, " "), undefined);
  assert.equal(parseFieldText({ kind: "text" }, "my run"), "my run");
});

test("configs flatten to paths and back; changes are the differing paths", () => {
  const config = { name: "x", model: { arch: "rnn", depth: 3 }, tags: [1, 2] };
  const flat = flatten(config);
  assert.deepEqual(flat, { name: "x", "model.arch": "rnn", "model.depth": 3, tags: [1, 2] });
  assert.deepEqual(unflatten(flat), config);
  assert.deepEqual(changedFrom({ ...flat, "model.depth": 4 }, flat), { "model.depth": 4 });
});

test("a 422 item in plain words: the field's label and its limit, or the server's sentence", () => {
  const depth = { type: "integer", minimum: 1, maximum: 64 };
  assert.equal(plainError({ loc: ["model", "depth"], type: "greater_than_equal",
    msg: "model.depth: Input should be greater than or equal to 1" }, "Depth", depth),
  "Depth must be at least 1.");
  assert.equal(plainError({ type: "less_than_equal", msg: "x", ctx: { le: 64 } }, "Depth", {}),
    "Depth must be at most 64.");
  assert.equal(plainError({ type: "int_parsing", msg: "x" }, "Epochs", {}),
    "Epochs must be a whole number.");
  assert.equal(plainError({ type: "value_error",
    msg: "model: this model has 66 trainable parameters; use a smaller depth" }, undefined),
  "This model has 66 trainable parameters; use a smaller depth.");
  // A limit the schema does not know falls back to the server's sentence.
  assert.equal(plainError({ type: "greater_than", msg: "lr: Input should be greater than 0" },
    "Lr", {}), "Input should be greater than 0.");
});

test("choices read as words: Glorot uniform, L1 + L2, Simple RNN", () => {
  assert.equal(choiceLabel("glorot_uniform"), "Glorot uniform");
  assert.equal(choiceLabel("he_normal"), "He normal");
  assert.equal(choiceLabel("l1_l2"), "L1 + L2");
  assert.equal(choiceLabel("simple_rnn"), "Simple RNN");
  assert.equal(choiceLabel("global_norm"), "Global norm");
  assert.equal(choiceLabel("random_normal"), "Random normal");
  assert.equal(choiceLabel("sigmoid"), "Sigmoid");
});

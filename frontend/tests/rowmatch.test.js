import assert from "node:assert/strict";
import { test } from "node:test";

import { matchRows } from "../rowmatch.js";

test("a run with batch norm lines up with its parent layer by layer, by name", () => {
  const parent = ["dense_1", "dense_2", "dense_3", "output"];
  const child = ["dense_1", "batch_norm_1", "dense_2", "batch_norm_2", "dense_3", "batch_norm_3",
    "output"];
  const { labels, maps } = matchRows([child, parent]);
  assert.deepEqual(labels, child);
  assert.deepEqual(maps[0], [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(maps[1], [0, -1, 1, -1, 2, -1, 3]); // absent, never another layer
});

test("runs of different depth: each layer is matched by its name, not its position", () => {
  const deep = ["dense_1", "dense_2", "dense_3", "dense_4", "output"];
  const shallow = ["dense_1", "dense_2", "output"];
  const { labels, maps } = matchRows([shallow, deep]);
  assert.deepEqual(labels, deep);
  assert.deepEqual(maps[0], [0, 1, -1, -1, 2]);
  assert.equal(labels[maps[0].indexOf(2)], "output");
});

test("one run alone keeps its own rows; names in neither order still appear once", () => {
  assert.deepEqual(matchRows([["a", "b"], null]), { labels: ["a", "b"], maps: [[0, 1], []] });
  const { labels, maps } = matchRows([["a", "x", "b"], ["a", "y", "b"]]);
  assert.deepEqual(labels, ["a", "x", "y", "b"]);
  assert.deepEqual(maps, [[0, 1, -1, 2], [0, -1, 1, 2]]);
  assert.deepEqual(matchRows([["b", "a"], ["a", "b"]]).labels.sort(), ["a", "b"]);
});

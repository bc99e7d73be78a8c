import assert from "node:assert/strict";
import { test } from "node:test";

import { layerLines, SPECTRAL_RADIUS_WHY } from "../layers.js";

test("each layer is described, and a SimpleRNN's spectral radius is shown with it", () => {
  const lines = layerLines([
    { name: "simple_rnn", kind: "SimpleRNN", params: 1120, spectral_radius: 2.9613 },
    { name: "output", kind: "Dense", params: 33 },
  ]);
  assert.deepEqual(lines.map((l) => l.radius), [2.9613, null]);
  assert.equal(lines[0].text, "1. simple_rnn · SimpleRNN · 1,120 weights · spectral radius of "
    + "the recurrent weights at step 0: ρ = 2.96");
  assert.equal(lines[1].text, "2. output · Dense · 33 weights");
  assert.deepEqual(layerLines(null), []);
});

test("the explanation says which way ρ tips the gradient across time, and cites its source", () => {
  assert.match(SPECTRAL_RADIUS_WHY, /ρ > 1 \(explodes across time\)/);
  assert.match(SPECTRAL_RADIUS_WHY, /ρ < 1 \(vanishes\)/);
  assert.match(SPECTRAL_RADIUS_WHY, /linearised/);
  assert.match(SPECTRAL_RADIUS_WHY, /Pascanu, Mikolov & Bengio 2013/);
});

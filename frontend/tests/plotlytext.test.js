import assert from "node:assert/strict";
import { test } from "node:test";

import { plotlyText } from "../plotlytext.js";

test("markup in a name becomes plain text for Plotly: <, > and & as entities", () => {
  assert.equal(plotlyText('<a href="https://x.example">CLICK ME</a>'),
    '&lt;a href="https://x.example"&gt;CLICK ME&lt;/a&gt;');
  assert.equal(plotlyText('<span style="font-size:60px">big</span>'),
    '&lt;span style="font-size:60px"&gt;big&lt;/span&gt;');
  assert.equal(plotlyText("a<br>b"), "a&lt;br&gt;b");
});

test("an entity typed in a name stays literal, and plain text is unchanged", () => {
  assert.equal(plotlyText("&lt;b&gt;"), "&amp;lt;b&amp;gt;");
  assert.equal(plotlyText("deep sigmoid · 1a2b3c4d → + batch norm"),
    "deep sigmoid · 1a2b3c4d → + batch norm");
  assert.equal(plotlyText(null), "");
  assert.equal(plotlyText(3), "3");
});

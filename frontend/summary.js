// The "before → after" table under two compared runs: the compared run (usually the parent)
// is "before", the watched one (the restart with a remedy) "after".

import { scientific } from "./colours.js";

const $ = (id) => document.getElementById(id);

/** Final loss and accuracy: the last epoch's figures, else the newest step's loss. */
function finals(live) {
  const epoch = live?.series.lastEpoch;
  const stepLoss = live?.lastStep?.loss;
  return {
    loss: typeof epoch?.loss === "number" ? epoch.loss : stepLoss,
    accuracy: epoch?.accuracy,
    valAccuracy: epoch?.val_accuracy,
    valLoss: epoch?.val_loss,
  };
}

const number = (value) => (typeof value === "number" ? scientific(value) : "—");
const gain = (value) => (typeof value === "number" ? value.toFixed(2) : "—");
const percent = (value) => (typeof value === "number" ? `${(100 * value).toFixed(1)} %` : "—");

/** The table's rows: [label, before, after], for two LiveRuns. */
export function summaryRows(before, after) {
  const rows = [["run", before.label, after.label],
    ["status", before.status || "—", after.status || "—"],
    ["diagnosis", before.diagnosis?.state || "unknown", after.diagnosis?.state || "unknown"],
    ["backpropagated signal, input side ÷ output side", number(before.diagnosis?.ratio),
      number(after.diagnosis?.ratio)]];
  if ([before, after].some((l) => typeof l.diagnosis?.gain === "number")) {
    rows.push(["per-layer gain", gain(before.diagnosis?.gain), gain(after.diagnosis?.gain)]);
  }
  if ([before, after].some((l) => typeof l.diagnosis?.time_ratio === "number")) {
    rows.push(["first ÷ last time step gradient", number(before.diagnosis?.time_ratio),
      number(after.diagnosis?.time_ratio)]);
  }
  const [b, a] = [finals(before), finals(after)];
  rows.push(["final loss", number(b.loss), number(a.loss)]);
  if (typeof b.accuracy === "number" || typeof a.accuracy === "number") {
    rows.push(["final accuracy", percent(b.accuracy), percent(a.accuracy)]);
  }
  if (typeof b.valLoss === "number" || typeof a.valLoss === "number") {
    rows.push(["final validation loss", number(b.valLoss), number(a.valLoss)]);
  }
  if (typeof b.valAccuracy === "number" || typeof a.valAccuracy === "number") {
    rows.push(["final validation accuracy", percent(b.valAccuracy), percent(a.valAccuracy)]);
  }
  return rows;
}

export function renderSummary(before, after) {
  const section = $("summary");
  section.hidden = !(before && after);
  if (section.hidden) return;
  const table = $("summary-table");
  const head = document.createElement("thead");
  // Every header cell says what its column holds (axe: empty-table-header); the arrow column
  // is decoration, a plain cell hidden from screen readers.
  head.innerHTML = "<tr><th scope=\"col\"><span class=\"visually-hidden\">figure</span></th>"
    + "<th scope=\"col\">before (compared)</th>"
    + "<td aria-hidden=\"true\"></td><th scope=\"col\">after (watched)</th></tr>";
  const body = document.createElement("tbody");
  for (const [label, b, a] of summaryRows(before, after)) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    tr.append(th);
    for (const text of [b, "→", a]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (text === "→") td.setAttribute("aria-hidden", "true");
      tr.append(td);
    }
    body.append(tr);
  }
  table.replaceChildren(head, body);
}

// @ts-check
// Text for Plotly. Plotly draws a subset of HTML in every string it shows (trace names and so
// the legend, titles, axis titles and tick labels, annotations, hover labels): `<a href>` is a
// live link, `<span style>` restyles, `<br>` breaks the line. A run's name and its layers'
// names come from other visitors (and from scripts), so every string the page hands to Plotly
// goes through `plotlyText`, which makes it plain text: Plotly decodes the entities back, so
// the name shows literally, `<a href=…>` included.
//
// Templates (`hovertemplate`, `texttemplate`) are never built from such strings: Plotly would
// read a `%{...}` in a name as a field to fill in. The page passes names only as a trace's
// `name` (shown in a template as %{fullData.name}, which Plotly fills in once, without
// reading it as a template again).

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * `text` as plain text for any Plotly string: &, < and > as entities.
 * @param {unknown} text
 * @returns {string}
 */
export function plotlyText(text) {
  return String(text ?? "").replace(/[&<>]/g, (c) => ENTITIES[/** @type {"&" | "<" | ">"} */ (c)]);
}

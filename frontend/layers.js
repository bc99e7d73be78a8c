// @ts-check
// The watched run's layers, described: each one's name, kind and weights, and for a SimpleRNN
// the spectral radius of its recurrent weights at step 0 (the run's `layers` entry), with what
// it means for the gradient across time.

import { linkify } from "./refs.js";

/** What ρ says about the gradient across time, in one sentence a student can check. */
export const SPECTRAL_RADIUS_WHY = "Going back one time step multiplies the gradient by the "
  + "recurrent weights (and by tanh's slope, at most 1): in the linearised recurrence it grows "
  + "like ρᵏ over k steps when ρ > 1 (explodes across time) and shrinks when ρ < 1 (vanishes); "
  + "with tanh, ρ > 1 is needed for it to explode but does not make it explode "
  + "(Pascanu, Mikolov & Bengio 2013).";

const count = (n) => (typeof n === "number" ? n.toLocaleString("en") : "?");

/**
 * One line per layer, input side first: "simple_rnn · SimpleRNN · 1,120 weights", and for a
 * layer with `spectral_radius`, its value.
 * @param {any[] | null | undefined} layers
 * @returns {{text: string, radius: number | null}[]}
 */
export function layerLines(layers) {
  if (!Array.isArray(layers)) return [];
  return layers.map((layer, i) => {
    const radius = typeof layer?.spectral_radius === "number" ? layer.spectral_radius : null;
    let text = `${i + 1}. ${layer?.name ?? "?"} · ${layer?.kind ?? "?"} · ${count(layer?.params)} weights`;
    if (radius !== null) {
      text += ` · spectral radius of the recurrent weights at step 0: ρ = ${radius.toPrecision(3)}`;
    }
    return { text, radius };
  });
}

/**
 * Show `run`'s layers in the <details> `box` (its list `list`, its explanation `why`); hidden
 * while the run has none.
 * @param {{box: HTMLElement, list: HTMLElement, why: HTMLElement, count: HTMLElement}} parts
 * @param {any} run
 */
export function renderLayers({ box, list, why, count: counter }, run) {
  const lines = layerLines(run?.layers);
  box.hidden = !lines.length;
  const key = JSON.stringify(lines);
  if (box.dataset.shown === key) return;
  box.dataset.shown = key;
  counter.textContent = String(lines.length);
  list.replaceChildren(...lines.map(({ text }) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  const recurrent = lines.some((line) => line.radius !== null);
  why.hidden = !recurrent;
  why.replaceChildren(recurrent ? linkify(SPECTRAL_RADIUS_WHY) : "");
}

// What the heatmap can show: the per-layer lists of a Step (trainer/contract/protocol.py LAYER_FIELDS)
// and the time-step view of sequence models (SEQUENCE_FIELDS), with the words the page uses.
// `rows` says what a heatmap row is; `marks` which diagnosis thresholds apply (thresholds.js).

export const METRICS = {
  grad_norms: {
    label: "gradient norm ‖∂L/∂W‖", short: "‖∂L/∂W‖", rows: "layer", marks: "layers",
  },
  clipped_grad_norms: {
    label: "gradient norm after clipping", short: "clipped ‖∂L/∂W‖", rows: "layer",
    marks: "layers",
  },
  weight_norms: { label: "weight norm ‖W‖", short: "‖W‖", rows: "layer", marks: null },
  update_ratios: {
    label: "update ratio ‖ΔW‖ / ‖W‖", short: "‖ΔW‖/‖W‖", rows: "layer", marks: null,
  },
  output_grad_norms: {
    label: "output-gradient norm ‖∂L/∂h‖", short: "‖∂L/∂h‖", rows: "layer", marks: null,
  },
  time_grad_norms: {
    label: "gradient across time ‖∂L/∂xₜ‖ (RNN)", short: "‖∂L/∂xₜ‖", rows: "time",
    marks: "time",
  },
};

export const FIELDS = Object.keys(METRICS);
export const DEFAULT_FIELD = "grad_norms";

export const metricOf = (field) => METRICS[field] || { label: field, short: field, rows: "layer" };

/** Row labels of a heatmap: Keras layer names (input side first), or time steps t=1…T. */
export function rowLabels(field, layers, count) {
  const labels = [];
  if (metricOf(field).rows === "time") {
    for (let t = 1; t <= count; t += 1) labels.push(`t=${t}`);
    return labels;
  }
  for (let i = 0; i < count; i += 1) {
    const name = layers?.[i]?.name;
    labels.push(name && !labels.includes(name) ? name : `layer ${i + 1}`);
  }
  return labels;
}

/** "dense_3 (layer 3 of 11)" or "time step 4 of 100". */
export function rowName(field, layers, row, count) {
  if (metricOf(field).rows === "time") return `time step ${row + 1} of ${count}`;
  const name = layers?.[row]?.name;
  return `${name ? `${name} ` : ""}(layer ${row + 1} of ${count})`;
}

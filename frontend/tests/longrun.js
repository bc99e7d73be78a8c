// A made-up long run for the tests of the level of detail (lod.js, watched.js): exact steps as
// a History and the server's Summary of them (server/lod.py's rule, brute force).

export const LAYERS = 3;
export const SPIKE = 3217;
const norm = (i, layer) => (i === SPIKE && layer === 1 ? 1e3 : 10 ** -((i + layer) % 5));
export const steps = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);

export function history(lo, hi) {
  const s = steps(lo, hi);
  return { step: s, loss: s.map((i) => 1 / (i + 1)),
    grad_norms: s.map((i) => Array.from({ length: LAYERS }, (_, l) => norm(i, l))),
    weight_norms: s.map((i) => Array.from({ length: LAYERS }, (_, l) => l + i / 1e4)) };
}

/** The server's Summary (server/lod.py) of the steps lo..hi in `buckets` equal ranges. */
export function summary(lo, hi, buckets, fields) {
  const h = history(lo, hi);
  const width = (hi - lo + 1) / buckets;
  const out = { buckets, first_step: [], last_step: [], count: [],
    loss: { max: [], min: [], last: [] } };
  for (const f of fields) out[f] = { max: [], min: [], last: [] };
  for (let b = 0; b < buckets; b += 1) {
    const idx = h.step.map((s, i) => [s, i]).filter(([s]) => Math.floor((s - lo) / width) === b)
      .map(([, i]) => i);
    if (!idx.length) continue;
    out.first_step.push(h.step[idx[0]]);
    out.last_step.push(h.step[idx[idx.length - 1]]);
    out.count.push(idx.length);
    const losses = idx.map((i) => h.loss[i]);
    out.loss.max.push(Math.max(...losses));
    out.loss.min.push(Math.min(...losses));
    out.loss.last.push(losses[losses.length - 1]);
    for (const f of fields) {
      const rows = idx.map((i) => h[f][i]);
      out[f].max.push(steps(0, LAYERS - 1).map((l) => Math.max(...rows.map((r) => r[l]))));
      out[f].min.push(steps(0, LAYERS - 1).map((l) => Math.min(...rows.map((r) => r[l]))));
      out[f].last.push(rows[rows.length - 1]);
    }
  }
  return out;
}

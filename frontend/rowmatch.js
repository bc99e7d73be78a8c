// @ts-check
// Two runs' heatmap rows matched by layer name, so a run compared with another of a different
// depth, or with normalization layers the other lacks, lines up layer by layer: the rows are
// the names of both runs in input-to-output order (a shortest common supersequence, from the
// longest common subsequence of the two lists), and a layer one run lacks is an absent row
// there, never another layer.

/**
 * The shown rows for runs whose row labels are `lists` (one list per run, input side first;
 * a null list is a run not shown). Returns `labels` (the shown rows) and, per run, `maps`:
 * for each shown row, that run's own row, or -1 where it has no such layer.
 * @param {(string[] | null)[]} lists
 * @returns {{labels: string[], maps: number[][]}}
 */
export function matchRows(lists) {
  const shown = lists.filter(Boolean);
  if (shown.length < 2) {
    const labels = shown[0] || [];
    return { labels: [...labels], maps: lists.map((l) => (l ? l.map((_, i) => i) : [])) };
  }
  const [a, b] = /** @type {string[][]} */ (shown);
  const labels = merge(a, b);
  const maps = lists.map((list) => {
    if (!list) return [];
    const at = new Map(list.map((name, i) => [name, i]));
    return labels.map((name) => at.get(name) ?? -1);
  });
  return { labels, maps };
}

/** The shortest list holding `a` and `b` as subsequences (their LCS once). */
function merge(a, b) {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: the longest common subsequence of a[i:] and b[j:].
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  const seen = new Set();
  const put = (name) => {
    if (!seen.has(name)) out.push(name);
    seen.add(name);
  };
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      put(a[i]);
      i += 1;
      j += 1;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      put(a[i]);
      i += 1;
    } else {
      put(b[j]);
      j += 1;
    }
  }
  while (i < n) put(a[i++]);
  while (j < m) put(b[j++]);
  return out;
}

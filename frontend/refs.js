// The papers the explanations cite, so a citation in any help or "why" text becomes a link a
// curious student can follow (nothing is fetched unless they click).

const PAPERS = [
  ["Glorot, Bordes & Bengio 2011", "https://proceedings.mlr.press/v15/glorot11a.html"],
  ["Glorot & Bengio 2010", "https://proceedings.mlr.press/v9/glorot10a.html"],
  ["He et al. 2015", "https://arxiv.org/abs/1502.01852"],
  ["He et al. 2016", "https://arxiv.org/abs/1512.03385"],
  ["Ioffe & Szegedy 2015", "https://arxiv.org/abs/1502.03167"],
  ["Pascanu, Mikolov & Bengio 2013", "https://arxiv.org/abs/1211.5063"],
  ["Pascanu et al. 2013", "https://arxiv.org/abs/1211.5063"],
  ["Hochreiter & Schmidhuber 1997", "https://doi.org/10.1162/neco.1997.9.8.1735"],
  ["Cho et al. 2014", "https://arxiv.org/abs/1406.1078"],
  ["Ba, Kiros & Hinton 2016", "https://arxiv.org/abs/1607.06450"],
  ["Hanin & Rolnick 2018", "https://arxiv.org/abs/1803.01719"],
  ["De & Smith 2020", "https://arxiv.org/abs/2002.10444"],
  ["Klambauer et al. 2017", "https://arxiv.org/abs/1706.02515"],
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const PATTERN = new RegExp(PAPERS.map(([cite]) => escape(cite)).join("|"), "g");
const URLS = new Map(PAPERS);

/** `text` as DOM nodes, each known citation a link to the paper. */
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const match of String(text || "").matchAll(PATTERN)) {
    fragment.append(text.slice(at, match.index));
    const link = document.createElement("a");
    link.href = URLS.get(match[0]);
    link.textContent = match[0];
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    fragment.append(link);
    at = match.index + match[0].length;
  }
  fragment.append(String(text || "").slice(at));
  return fragment;
}

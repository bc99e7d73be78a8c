// The papers the explanations cite, so a citation in any help or "why" text becomes a link a
// curious student can follow (nothing is fetched unless they click). The same table as
// trainer/contract/papers.py (tests/test_sources.py checks they agree), longest first so the
// fullest citation wins.

const PAPERS = [
  ["He et al. 2016, Identity Mappings", "https://arxiv.org/abs/1603.05027"],
  ["Gers, Schmidhuber & Cummins 2000", "https://doi.org/10.1162/089976600300015015"],
  ["Saxe, McClelland & Ganguli 2014", "https://arxiv.org/abs/1312.6120"],
  ["Bengio, Simard & Frasconi 1994", "https://doi.org/10.1109/72.279181"],
  ["Pascanu, Mikolov & Bengio 2013", "https://arxiv.org/abs/1211.5063"],
  ["Hochreiter & Schmidhuber 1997", "https://doi.org/10.1162/neco.1997.9.8.1735"],
  ["Glorot, Bordes & Bengio 2011", "https://proceedings.mlr.press/v15/glorot11a.html"],
  ["Ba, Kiros & Hinton 2016", "https://arxiv.org/abs/1607.06450"],
  ["Klambauer et al. 2017", "https://arxiv.org/abs/1706.02515"],
  ["Santurkar et al. 2018", "https://arxiv.org/abs/1805.11604"],
  ["Glorot & Bengio 2010", "https://proceedings.mlr.press/v9/glorot10a.html"],
  ["Ioffe & Szegedy 2015", "https://arxiv.org/abs/1502.03167"],
  ["Hanin & Rolnick 2018", "https://arxiv.org/abs/1803.01719"],
  ["Pascanu et al. 2013", "https://arxiv.org/abs/1211.5063"],
  ["Krogh & Hertz 1992", "https://papers.nips.cc/paper/1991/hash/8eefcfdf5990e441f0fb6f3fad709e21-Abstract.html"],
  ["Gers et al. 2000", "https://doi.org/10.1162/089976600300015015"],
  ["Kingma & Ba 2015", "https://arxiv.org/abs/1412.6980"],
  ["Yang et al. 2019", "https://arxiv.org/abs/1902.08129"],
  ["Lu et al. 2019", "https://arxiv.org/abs/1903.06733"],
  ["Hochreiter 1991", "https://people.idsia.ch/~juergen/SeppHochreiter1991ThesisAdvisorSchmidhuber.pdf"],
  ["Cho et al. 2014", "https://arxiv.org/abs/1406.1078"],
  ["De & Smith 2020", "https://arxiv.org/abs/2002.10444"],
  ["He et al. 2015", "https://arxiv.org/abs/1502.01852"],
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

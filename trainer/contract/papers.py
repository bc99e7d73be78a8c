"""The papers the page's and the docs' sentences cite, each with where to read it (TF-free).

A citation in any "why", message, help text or preset text is one of these strings, and the page
turns it into a link (frontend/refs.js keeps the same table; tests/test_sources.py checks both
and that every year mentioned in those texts belongs to a citation here).
"""

from __future__ import annotations

PAPERS: dict[str, str] = {
    "Hochreiter 1991":
        "https://people.idsia.ch/~juergen/SeppHochreiter1991ThesisAdvisorSchmidhuber.pdf",
    "Bengio, Simard & Frasconi 1994": "https://doi.org/10.1109/72.279181",
    "Hochreiter & Schmidhuber 1997": "https://doi.org/10.1162/neco.1997.9.8.1735",
    "Gers, Schmidhuber & Cummins 2000": "https://doi.org/10.1162/089976600300015015",
    "Gers et al. 2000": "https://doi.org/10.1162/089976600300015015",
    "Krogh & Hertz 1992":
        "https://papers.nips.cc/paper/1991/hash/8eefcfdf5990e441f0fb6f3fad709e21-Abstract.html",
    "Glorot & Bengio 2010": "https://proceedings.mlr.press/v9/glorot10a.html",
    "Glorot, Bordes & Bengio 2011": "https://proceedings.mlr.press/v15/glorot11a.html",
    "Pascanu, Mikolov & Bengio 2013": "https://arxiv.org/abs/1211.5063",
    "Pascanu et al. 2013": "https://arxiv.org/abs/1211.5063",
    "Saxe, McClelland & Ganguli 2014": "https://arxiv.org/abs/1312.6120",
    "Cho et al. 2014": "https://arxiv.org/abs/1406.1078",
    "He et al. 2015": "https://arxiv.org/abs/1502.01852",
    "Ioffe & Szegedy 2015": "https://arxiv.org/abs/1502.03167",
    "Kingma & Ba 2015": "https://arxiv.org/abs/1412.6980",
    "He et al. 2016, Identity Mappings": "https://arxiv.org/abs/1603.05027",
    "Ba, Kiros & Hinton 2016": "https://arxiv.org/abs/1607.06450",
    "Klambauer et al. 2017": "https://arxiv.org/abs/1706.02515",
    "Santurkar et al. 2018": "https://arxiv.org/abs/1805.11604",
    "Hanin & Rolnick 2018": "https://arxiv.org/abs/1803.01719",
    "Yang et al. 2019": "https://arxiv.org/abs/1902.08129",
    "De & Smith 2020": "https://arxiv.org/abs/2002.10444",
    "Lu et al. 2019": "https://arxiv.org/abs/1903.06733",
}

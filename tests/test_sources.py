"""Every claim the page and the docs make names its paper, and every cited paper links.

A year in any sentence the page shows (the diagnosis's messages and "why", the remedies' why,
the form's help, the presets) must belong to a citation of trainer/contract/papers.py; the page's
link table (frontend/refs.js) is that same table; docs cite with links.
"""

import re

from tests.helpers import ROOT
from trainer.advice import suggestions
from trainer.contract.config import RunConfig, deep_merge
from trainer.contract.papers import PAPERS
from trainer.contract.presets import PRESETS
from trainer.evidence import Evidence
from trainer.explain import message, why
from trainer.sentences import CAUSE, REMEDY_WHY, SLOPE

YEAR = re.compile(r"\b(19[5-9]\d|20[0-3]\d)\b")
STATES = [("vanishing", "depth"), ("vanishing", "time"), ("exploding", "depth"),
          ("exploding", "scale"), ("exploding", "time"), ("diverged", ""), ("healthy", ""),
          ("unknown", "")]


def _schema_texts(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield value
            else:
                yield from _schema_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_texts(value)


def page_texts():
    """Every sentence the page can show that comes from Python."""
    yield CAUSE
    yield from SLOPE.values()
    yield from REMEDY_WHY.values()
    yield from _schema_texts(RunConfig.model_json_schema())
    ev = Evidence(steps=50, ratio=1e-6, span=9, top_grad=1e5, grad_to_weight=1e3,
                  update_first=1e-3, update_last=1e-3, loss=0.7, time_ratio=1e-5,
                  weight_ratio=0.1)
    for preset in PRESETS:
        yield preset["look_for"]
        config = RunConfig.model_validate(preset["config"])
        for variant in ({}, {"training": {"optimizer": "adam"}},
                        {"remedies": {"regularizer": "l2", "l2": 0.01}}):
            cfg = RunConfig.model_validate(deep_merge(preset["config"], variant))
            for state, axis in STATES:
                yield message(state, axis, cfg, ev)
                yield why(state, axis, cfg, ev)
                for s in suggestions(state, axis, config):
                    yield s["why"]


def uncited_years(text):
    """Years in `text` that are not the end of a known citation."""
    spans = [(m.start(), m.end()) for cite in PAPERS
             for m in re.finditer(re.escape(cite), text)]
    return [text[max(0, m.start() - 60):m.end()] for m in YEAR.finditer(text)
            if not any(a <= m.start() and m.end() <= b for a, b in spans)]


def test_every_year_on_the_page_belongs_to_a_known_citation():
    bad = [u for text in page_texts() for u in uncited_years(text)]
    assert not bad, bad[:5]


def test_the_frontend_texts_cite_known_papers_only():
    for path in list((ROOT / "frontend").glob("*.js")) + [ROOT / "frontend" / "index.html"]:
        if path.name == "refs.js":
            continue
        text = re.sub(r"\s+", " ", path.read_text())
        if path.suffix == ".js":  # the sentences: its string literals
            text = " ".join(a or b for a, b in re.findall(r'"([^"]*)"|`([^`]*)`', text))
        assert not uncited_years(text), (path.name, uncited_years(text)[:3])


def test_the_page_links_the_same_papers():
    refs = (ROOT / "frontend" / "refs.js").read_text()
    table = dict(re.findall(r'\["([^"]+)", "(https://[^"]+)"\]', refs))
    assert table == PAPERS


def test_the_docs_link_what_they_cite():
    for name in ("remedies.md", "diagnosis.md"):
        text = (ROOT / "docs" / name).read_text()
        for cite, url in PAPERS.items():
            if cite in text:
                assert f"[{cite}]({url})" in text, f"{name}: {cite} is cited without its link"

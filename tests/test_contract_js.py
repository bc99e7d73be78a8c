"""The page's contract.js: generated from trainer/contract/, served as an ES module, and the only
place in frontend/ where statuses, close codes, the Step's per-layer fields and the epoch
figures are written down (a hand copy in any other module fails here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT, app_client
from trainer.contract import pagecontract, protocol, thresholds

FRONTEND = ROOT / "frontend"
STEP_LISTS = protocol.LAYER_FIELDS + protocol.SEQUENCE_FIELDS
EPOCH_FIGURES = pagecontract.contract()["EPOCH_FIELDS"]
CLOSE_CODES = {protocol.GONE_CODE, protocol.EVICTED_CODE,
               *(protocol.REFUSED_CODE_BASE + status for status in (401, 403, 429))}

# Comments, then string and template literals: one pass, so a quote inside a comment or a
# comment marker inside a string is read as what it is.
TOKENS = re.compile(r"//[^\n]*|/\*.*?\*/"  # comments
                    r"""|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`""", re.S)


def exports(module: str) -> dict[str, object]:
    """The values of a generated module's `export const NAME = ...;` lines."""
    found = {}
    for name, text in re.findall(r"^export const (\w+) = (.*?);$", module, re.M | re.S):
        found[name] = json.loads(re.fullmatch(r"freeze\((.*)\)", text, re.S)[1]
                                 if text.startswith("freeze(") else text)
    return found


def test_contract_js_is_served_as_a_module_generated_from_the_contract(tmp_path):
    with app_client(tmp_path) as http:
        answer = http.get("/static/contract.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.text == pagecontract.render()
    values = exports(answer.text)
    assert values["STATUSES"] == list(protocol.STATUSES)
    assert values["FINAL_STATUSES"] == list(protocol.FINAL_STATUSES)
    assert values["ACTIVE_STATUSES"] == ["queued", "running"]
    assert values["DIAGNOSIS_STATES"] == list(protocol.DIAGNOSIS_STATES)
    assert values["CLOSE_CODES"] == {"gone": 4404, "evicted": 1013, "refusedBase": 4000}
    assert list(values["METRICS"]) == list(STEP_LISTS)
    assert values["DEFAULT_METRIC"] == "grad_norms"
    assert values["EPOCH_FIELDS"] == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert values["THRESHOLDS"] == thresholds.for_page()


def test_every_per_step_list_has_the_pages_words():
    for field, words in pagecontract.METRICS.items():
        assert words["label"] and words["short"], field
        assert words["rows"] == ("time" if field in protocol.SEQUENCE_FIELDS else "layer")
        assert words["marks"] in ("signal", "time", "weights", None)


def hand_copies(source: str) -> list[str]:
    """What `source` (a page module) retypes of the contract instead of importing it."""
    literals: list[str] = []

    def keep(match: re.Match[str]) -> str:
        token = match[0]
        if token.startswith(("//", "/*")):
            return " "
        literals.append(token[1:-1])
        return f" S{len(literals) - 1} "

    code = TOKENS.sub(keep, source)
    found = []
    for code_value in sorted(CLOSE_CODES):
        if re.search(rf"(?<![\w.]){code_value}(?![\w.])", code):
            found.append(f"close code {code_value}")
    for text in literals:
        if text in protocol.FINAL_STATUSES:
            found.append(f'final status "{text}" (use isFinal from util.js)')
        if text in STEP_LISTS:
            found.append(f'field name "{text}" (use METRICS from contract.js)')
        if "thresholds.values" in text:
            found.append("thresholds.values.js (THRESHOLDS is in contract.js)")
    for key in re.findall(rf"(?<![\w.])({'|'.join(STEP_LISTS)})\s*:", code):
        found.append(f"field name {key} as a key (use METRICS from contract.js)")
    # Two or more names of one kind in a row: a retyped list of statuses or epoch figures.
    for first, second in re.findall(r"(?<!\w)S(\d+)\s*,\s*(?=S(\d+)(?!\w))", code):
        pair = {literals[int(first)], literals[int(second)]}
        if pair <= set(protocol.STATUSES) or pair <= set(EPOCH_FIGURES):
            found.append(f"a list of {sorted(pair)}... (import it from contract.js)")
    return found


def page_modules() -> list[Path]:
    return sorted(FRONTEND.glob("*.js"))


@pytest.mark.parametrize("path", page_modules(), ids=lambda p: p.name)
def test_no_page_module_retypes_the_contract(path):
    assert hand_copies(path.read_text()) == []


@pytest.mark.parametrize("source", [
    'const FINAL = new Set(["completed", "stopped", "failed", "diverged"]);',
    "if (code === 4404) this.gone();",
    "const ACTIVE = ['queued', 'running'];",
    'for (const key of ["loss", "accuracy", "val_loss", "val_accuracy"]) {}',
    "export const METRICS = {\n  grad_norms: { label: 'gradient norm' },\n};",
    'const field = "weight_norms";',
    'import { THRESHOLDS } from "./thresholds.values.js";',
])
def test_a_hand_copy_is_found(source):
    assert hand_copies(source)


def test_reading_a_step_and_talking_about_it_is_not_a_hand_copy():
    source = """// A run that completed, or failed with 4404: "completed" here is a comment.
    const done = isFinal(run.status) || run.status === "running";
    if (Array.isArray(item.time_grad_norms)) norms = item.grad_norms;
    const text = `${status} — ${done} step`;  // 4404 in a comment
    const url = "https://example.org/4404";
    """
    assert hand_copies(source) == []


def test_docs_protocol_lists_every_export():
    text = (ROOT / "docs" / "protocol.md").read_text()
    table = text[text.index("## The page's copy"):text.index("## Trainer events")]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row)}
    assert documented == set(pagecontract.contract())

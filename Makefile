# GradWatch: `make run` serves the dashboard, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: setup run test bench lint clean docs

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: setup
	$(BIN)/python -m server

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m benchmarks

lint: setup
	$(BIN)/ruff check server trainer tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache

docs: setup
	$(BIN)/python tools/update_doc.py docs/remedies.md REMEDIES-TABLE $(BIN)/python -m tools.remedies_table
	$(BIN)/python tools/update_doc.py docs/diagnosis.md DIAGNOSIS-CASES $(BIN)/python -m tools.diagnosis_cases --markdown
